//! `ADMIN_TOKEN`: the operator's bearer token. A token that can be guessed is worse than
//! none, so a trivially weak one is refused at start rather than accepted.

use super::{ConfigError, Secret, Vars};

/// Shortest accepted token: `openssl rand -hex 16` makes exactly this many characters.
pub const MIN_LEN: usize = 32;
/// Fewest different characters: 32 random hex digits have about 14.
const MIN_DISTINCT: usize = 8;

pub(super) fn token<F: Fn(&str) -> Option<String>>(
    v: &Vars<F>,
) -> Result<Option<Secret>, ConfigError> {
    let Some(token) = v.raw("ADMIN_TOKEN") else {
        return Ok(None);
    };
    match weakness(&token) {
        None => Ok(Some(Secret::new(token))),
        Some(why) => Err(ConfigError {
            var: "ADMIN_TOKEN",
            problem: format!(
                "too weak: {why}; use a random value of {MIN_LEN}+ characters, \
                 e.g. `openssl rand -hex 24`"
            ),
        }),
    }
}

/// Why `token` is trivially weak, or `None`. Never says what the token is.
pub fn weakness(token: &str) -> Option<String> {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < MIN_LEN {
        return Some(format!(
            "{} characters, at least {MIN_LEN} needed",
            chars.len()
        ));
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return Some(format!(
            "only {} different characters, at least {MIN_DISTINCT} needed",
            distinct.len()
        ));
    }
    // One short unit repeated ("0123456789abcdef" twice, "admin" over and over).
    let periodic = (1..=chars.len() / 2)
        .filter(|p| chars.len().is_multiple_of(*p))
        .any(|p| chars.chunks(p).all(|c| c == &chars[..p]));
    periodic.then(|| "a short sequence repeated".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn admin(token: &str) -> Result<Option<Secret>, ConfigError> {
        Config::from_lookup(|k| (k == "ADMIN_TOKEN").then(|| token.to_owned()))
            .map(|c| c.admin_token)
    }

    #[test]
    fn trivially_weak_tokens_are_refused_at_start_without_echoing_them() {
        for weak in [
            "a".repeat(64),
            "x".repeat(40),
            "short-token-1234".to_owned(),
            "abcabcabcabcabcabcabcabcabcabcabcabc".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
            "ab".repeat(20) + "abababcd",
        ] {
            let e = admin(&weak).unwrap_err();
            assert_eq!(e.var, "ADMIN_TOKEN", "{weak}");
            assert!(e.problem.contains("too weak"), "{e}");
            assert!(!e.to_string().contains(&weak), "{e}");
        }
        // What the docs tell operators to run: `openssl rand -hex 24` / `-hex 16`.
        for strong in [
            "3f9c1e7a5b2d48e6a0c4f8b1d7e93a2c5f6b0d4e8a1c7f3b",
            "9e4b7c2a1f6d3e8b0a5c9f2e7d4b1a6c",
            "operator-token-operator-token-0123",
        ] {
            assert!(admin(strong).unwrap().is_some(), "{strong}");
        }
        assert!(Config::from_lookup(|_| None).unwrap().admin_token.is_none());
    }
}
