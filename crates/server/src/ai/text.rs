//! Splitting text into sentences and word tokens for matching.

/// A word as written and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub raw: String,
    pub lower: String,
}

/// Sentences (split at `.`, `!`, `?` followed by white space, at line breaks and at list
/// bullets), trimmed, empty ones dropped.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['-', '*', '•']).trim();
        let mut start = 0;
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        for (k, &(i, c)) in chars.iter().enumerate() {
            let next_is_space = chars.get(k + 1).is_none_or(|&(_, n)| n.is_whitespace());
            if matches!(c, '.' | '!' | '?') && next_is_space {
                push(&mut out, &line[start..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        push(&mut out, &line[start..]);
    }
    out
}

fn push(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
}

/// Word tokens: letters, digits and the characters skill names use inside a word
/// (`+ # . / -`), with punctuation around a word stripped (`Rust.` → `Rust`,
/// `(PostgreSQL)` → `PostgreSQL`, but `C++`, `C#`, `.NET`, `CI/CD`, `Node.js` stay whole).
pub fn tokens(text: &str) -> Vec<Token> {
    text.split(|c: char| !(c.is_alphanumeric() || "+#./-".contains(c)))
        .map(|w| {
            w.trim_start_matches(['/', '-'])
                .trim_end_matches(['.', '/', '-'])
        })
        .filter(|w| !w.is_empty() && w.chars().any(|c| c.is_alphanumeric()))
        .map(|w| Token {
            raw: w.to_owned(),
            lower: w.to_lowercase(),
        })
        .collect()
}

/// At most `max` characters, cut at a word boundary with `…`.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_ends_lines_and_bullets() {
        let s = sentences("We use Rust. And Node.js!\n- PostgreSQL (v15)\n\nNice to have: K8s");
        assert_eq!(
            s,
            [
                "We use Rust.",
                "And Node.js!",
                "PostgreSQL (v15)",
                "Nice to have: K8s"
            ]
        );
    }

    #[test]
    fn tokens_keep_skill_punctuation() {
        let words: Vec<String> = tokens("C++, C#, .NET, CI/CD, Node.js. (PostgreSQL) rust-lang")
            .into_iter()
            .map(|t| t.raw)
            .collect();
        assert_eq!(
            words,
            [
                "C++",
                "C#",
                ".NET",
                "CI/CD",
                "Node.js",
                "PostgreSQL",
                "rust-lang"
            ]
        );
    }
}
