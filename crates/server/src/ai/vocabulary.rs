//! The skills vocabulary (`assets/ai/skills.txt`): canonical names and their aliases, and
//! finding them in text.

use super::text::Token;
use std::sync::LazyLock;

const SOURCE: &str = include_str!("../../assets/ai/skills.txt");

/// One way of writing a skill: a sequence of words.
#[derive(Debug)]
struct Term {
    words: Vec<String>,
    exact: bool,
}

#[derive(Debug)]
pub struct Skill {
    pub name: &'static str,
    terms: Vec<Term>,
}

pub struct Vocabulary {
    pub skills: Vec<Skill>,
}

pub static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| Vocabulary::parse(SOURCE));

impl Vocabulary {
    pub fn parse(source: &'static str) -> Vocabulary {
        let skills = source
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| {
                let mut names = line.split('|').map(str::trim);
                let first = names.next().expect("a name");
                let name = first.trim_start_matches('=');
                let terms = std::iter::once(first)
                    .chain(names)
                    .map(|t| {
                        let exact = t.starts_with('=');
                        let t = t.trim_start_matches('=');
                        Term {
                            words: super::text::tokens(t)
                                .into_iter()
                                .map(|w| if exact { w.raw } else { w.lower })
                                .collect(),
                            exact,
                        }
                    })
                    .collect();
                Skill { name, terms }
            })
            .collect();
        Vocabulary { skills }
    }

    /// The canonical name of a skill as someone wrote it (`postgres` → `PostgreSQL`).
    pub fn canonical(&self, written: &str) -> Option<&'static str> {
        let words = super::text::tokens(written);
        self.skills
            .iter()
            .find(|s| s.terms.iter().any(|t| t.matches_all(&words)))
            .map(|s| s.name)
    }

    /// The skills mentioned in `tokens`, each with the number of mentions, in vocabulary order.
    pub fn find(&self, tokens: &[Token]) -> Vec<(&'static str, usize)> {
        self.skills
            .iter()
            .filter_map(|s| {
                let n: usize = (0..tokens.len())
                    .filter(|&i| s.terms.iter().any(|t| t.matches_at(tokens, i)))
                    .count();
                (n > 0).then_some((s.name, n))
            })
            .collect()
    }
}

impl Term {
    fn matches_at(&self, tokens: &[Token], at: usize) -> bool {
        !self.words.is_empty()
            && tokens.len() >= at + self.words.len()
            && self.words.iter().zip(&tokens[at..]).all(|(w, t)| {
                if self.exact {
                    *w == t.raw
                } else {
                    *w == t.lower
                }
            })
    }

    fn matches_all(&self, tokens: &[Token]) -> bool {
        tokens.len() == self.words.len() && self.matches_at(tokens, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::text::tokens;

    #[test]
    fn aliases_map_to_canonical_names() {
        let v = &*VOCABULARY;
        assert_eq!(v.canonical("postgres"), Some("PostgreSQL"));
        assert_eq!(v.canonical("K8s"), Some("Kubernetes"));
        assert_eq!(v.canonical("golang"), Some("Go"));
        assert_eq!(v.canonical("Figma"), None);
    }

    #[test]
    fn finds_whole_words_and_phrases_and_respects_exact_terms() {
        let v = &*VOCABULARY;
        let found = v.find(&tokens(
            "Rust and Postgres on Amazon Web Services; we go fast with C++ and CI/CD. Rust!",
        ));
        assert_eq!(
            found,
            [
                ("Rust", 2),
                ("C++", 1),
                ("PostgreSQL", 1),
                ("AWS", 1),
                ("CI/CD", 1)
            ]
        );
        // `go` the verb is not Go the language; `rusty` is not Rust.
        assert!(v.find(&tokens("let us go, rusty")).is_empty());
    }
}
