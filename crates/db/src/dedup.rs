//! Duplicate detection keys: two jobs of one user are the same posting when their
//! normalized URLs match, or their company and title do. The keys are stored with the job
//! (`dedup_url`, `dedup_name`, indexed with `user_id`) so the check is one index lookup.

use crate::models::JobFields;

/// Query parameters that only say where a click came from.
fn is_tracking(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "gclid" | "fbclid" | "msclkid" | "trk" | "trackingid" | "refid" | "ref" | "src"
        )
}

/// The URL without what does not name the posting: scheme, `www.`, letter case of the host,
/// a fragment, tracking parameters, the order of the other parameters, a trailing slash.
/// `None` for a job without one.
pub fn url_key(url: Option<&str>) -> Option<String> {
    let url = url?.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| {
            let lower = url.get(..8)?.to_ascii_lowercase();
            if lower.starts_with("https://") {
                url.get(8..)
            } else if lower.starts_with("http://") {
                url.get(7..)
            } else {
                None
            }
        })
        .unwrap_or(url);
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (host, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let host = host
        .strip_suffix(":443")
        .or(host.strip_suffix(":80"))
        .unwrap_or(host);
    let path = path.trim_end_matches('/');
    let mut params: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
        .filter(|p| !is_tracking(p.split('=').next().unwrap_or("")))
        .collect();
    params.sort_unstable();
    let mut key = format!("{host}{path}");
    if !params.is_empty() {
        key.push('?');
        key.push_str(&params.join("&"));
    }
    Some(key)
}

/// Company and title, case-folded with runs of whitespace made one space.
pub fn name_key(company: &str, title: &str) -> String {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    format!("{}\u{1f}{}", fold(company), fold(title))
}

/// Both keys of a job.
pub fn keys(f: &JobFields) -> (Option<String>, String) {
    (url_key(f.url.as_deref()), name_key(&f.company, &f.title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_name_the_same_posting_match() {
        let a = url_key(Some(
            "https://www.Acme.example/jobs/42/?utm_source=x&b=2&a=1#apply",
        ));
        let b = url_key(Some("http://acme.example/jobs/42?a=1&b=2&gclid=zz"));
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("acme.example/jobs/42?a=1&b=2"));
        assert_ne!(
            url_key(Some("https://acme.example/jobs/42")),
            url_key(Some("https://acme.example/jobs/43"))
        );
        assert_eq!(url_key(None), None);
    }

    #[test]
    fn names_ignore_case_and_spacing() {
        assert_eq!(
            name_key(" Acme  Corp", "Rust   Engineer"),
            name_key("acme corp", "RUST ENGINEER ")
        );
        assert_ne!(name_key("Acme", "Engineer"), name_key("Acm", "eEngineer"));
        // Unicode case folding, which SQLite's lower() would not do.
        assert_eq!(name_key("ÜBER", "Dev"), name_key("über", "dev"));
    }
}
