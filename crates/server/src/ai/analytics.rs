//! Job analytics: how well a profile answers what a job asks for. A match score 0–100 with
//! the matched and missing skills and the evidence for each.
//!
//! Requirements are the vocabulary's skills (and the user's own skills, when the job names
//! them) found in the job's title and description. Each weighs 1, plus 0.25 per further
//! mention (up to 2); twice that when the title names it; half when the sentence says it is
//! optional ("nice to have", "bonus", "plus", "preferred"). The score is the matched share of
//! the total weight. A requirement is matched by a skill in the profile (by name or alias)
//! or by experience: an employment entry whose title or description names it.

use super::text::{self, Token};
use super::vocabulary::VOCABULARY;
use flowats_db::models::{EmploymentFields, Item, Job, SkillFields};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

const OPTIONAL: [&str; 6] = [
    "nice to have",
    "bonus",
    "a plus",
    "preferred",
    "optional",
    "ideally",
];

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Requirement {
    pub skill: String,
    pub weight: f64,
    /// The sentence of the job that asks for it.
    pub job_evidence: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Match {
    #[serde(flatten)]
    pub requirement: Requirement,
    /// What in the profile answers it: the skill entry, or the employment that shows it.
    pub profile_evidence: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Analysis {
    /// 0–100: the matched share of the requirements' weight.
    pub score: i64,
    pub matched: Vec<Match>,
    pub missing: Vec<Requirement>,
}

/// What the job asks for, heaviest first (ties in vocabulary order, then by name).
pub fn requirements(job: &Job, own_skills: &[String]) -> Vec<Requirement> {
    let title = text::tokens(&job.fields.title);
    let mut sentences = vec![job.fields.title.clone()];
    if let Some(d) = &job.fields.description {
        sentences.extend(text::sentences(d));
    }
    let mut found: BTreeMap<(usize, String), Requirement> = BTreeMap::new();
    let mut note = |order: usize, skill: &str, mentions: usize, sentence: &str, in_title: bool| {
        let lower = sentence.to_lowercase();
        let optional = OPTIONAL.iter().any(|o| lower.contains(o));
        let mut weight = (1.0 + 0.25 * (mentions.saturating_sub(1)) as f64).min(2.0);
        if in_title {
            weight *= 2.0;
        }
        if optional {
            weight *= 0.5;
        }
        let entry = found
            .entry((order, skill.to_owned()))
            .or_insert_with(|| Requirement {
                skill: skill.to_owned(),
                weight: 0.0,
                job_evidence: text::clip(sentence, 200),
            });
        // The strongest sentence counts, and gives the evidence.
        if weight > entry.weight {
            entry.weight = weight;
            if !in_title {
                entry.job_evidence = text::clip(sentence, 200);
            }
        }
    };
    let all: Vec<Token> = sentences.iter().flat_map(|s| text::tokens(s)).collect();
    let totals: BTreeMap<&str, usize> = VOCABULARY.find(&all).into_iter().collect();
    for (i, sentence) in sentences.iter().enumerate() {
        let tokens = text::tokens(sentence);
        for (skill, _) in VOCABULARY.find(&tokens) {
            let order = VOCABULARY
                .skills
                .iter()
                .position(|s| s.name == skill)
                .unwrap_or(usize::MAX);
            let in_title = i == 0 && VOCABULARY.find(&title).iter().any(|(s, _)| *s == skill);
            note(order, skill, totals[skill], sentence, in_title);
        }
        // The user's own skills that the vocabulary does not know, named by the job.
        for own in own_skills {
            if VOCABULARY.canonical(own).is_some() {
                continue;
            }
            let words = text::tokens(own);
            if !words.is_empty()
                && tokens
                    .windows(words.len())
                    .any(|w| w.iter().zip(&words).all(|(a, b)| a.lower == b.lower))
            {
                note(usize::MAX, own, 1, sentence, i == 0);
            }
        }
    }
    let mut out: Vec<Requirement> = found.into_values().collect();
    // Heaviest first; the BTreeMap already ordered ties by vocabulary order.
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    out
}

/// The profile's evidence for each skill it shows: its skill entries (by canonical name)
/// and, for skills it does not list, the first employment entry that names them.
fn evidence(
    skills: &[Item<SkillFields>],
    employment: &[Item<EmploymentFields>],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in skills {
        let name = VOCABULARY
            .canonical(&s.fields.name)
            .map_or_else(|| s.fields.name.to_lowercase(), str::to_owned);
        let level = s
            .fields
            .proficiency
            .map_or(String::new(), |p| format!(", proficiency {p}/5"));
        out.entry(name)
            .or_insert_with(|| format!("skill: {}{level}", s.fields.name));
    }
    for e in employment {
        let f = &e.fields;
        let text = format!("{} {}", f.title, f.description.as_deref().unwrap_or(""));
        for (skill, _) in VOCABULARY.find(&text::tokens(&text)) {
            out.entry(skill.to_owned()).or_insert_with(|| {
                text::clip(
                    &format!(
                        "experience: {} at {}{}",
                        f.title,
                        f.company,
                        f.description
                            .as_deref()
                            .map_or(String::new(), |d| format!(": {d}"))
                    ),
                    200,
                )
            });
        }
    }
    out
}

pub fn analyze(
    job: &Job,
    skills: &[Item<SkillFields>],
    employment: &[Item<EmploymentFields>],
) -> Analysis {
    let own: Vec<String> = skills.iter().map(|s| s.fields.name.clone()).collect();
    let evidence = evidence(skills, employment);
    let lookup = |skill: &str| {
        evidence
            .get(skill)
            .or_else(|| evidence.get(&skill.to_lowercase()))
            .cloned()
    };
    let mut matched = Vec::new();
    let mut missing = Vec::new();
    for r in requirements(job, &own) {
        match lookup(&r.skill) {
            Some(profile_evidence) => matched.push(Match {
                requirement: r,
                profile_evidence,
            }),
            None => missing.push(r),
        }
    }
    let total: f64 = matched.iter().map(|m| m.requirement.weight).sum::<f64>()
        + missing.iter().map(|r| r.weight).sum::<f64>();
    let got: f64 = matched.iter().map(|m| m.requirement.weight).sum();
    let score = if total == 0.0 {
        0
    } else {
        (100.0 * got / total).round() as i64
    };
    Analysis {
        score,
        matched,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowats_db::models::JobFields;

    fn job(title: &str, description: &str) -> Job {
        let fields: JobFields = serde_json::from_value(serde_json::json!({
            "title": title, "company": "Acme", "description": description
        }))
        .unwrap();
        Job {
            id: uuid::Uuid::nil(),
            fields,
            created_at: flowats_db::Timestamp::MIN,
            updated_at: flowats_db::Timestamp::MIN,
        }
    }

    #[test]
    fn weights_follow_title_mentions_and_optional_wording() {
        let r = requirements(
            &job(
                "Go Developer",
                "Go services on AWS. More Go. Bonus: Terraform. We go to conferences.",
            ),
            &["Figma".into()],
        );
        let got: Vec<(&str, f64)> = r.iter().map(|r| (r.skill.as_str(), r.weight)).collect();
        // Go: title (×2), three mentions (1.5) = 3; AWS 1; Terraform optional 0.5; the verb
        // "go" is not the language; Figma is not asked for.
        assert_eq!(got, [("Go", 3.0), ("AWS", 1.0), ("Terraform", 0.5)]);
    }

    #[test]
    fn own_skills_outside_the_vocabulary_count_when_the_job_names_them() {
        let r = requirements(&job("Designer", "Figma daily."), &["Figma".into()]);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].skill.as_str(), r[0].job_evidence.as_str()),
            ("Figma", "Figma daily.")
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_bytes() {
        let j = job(
            "Rust Engineer",
            "Rust, Kafka and Kubernetes; nice to have: Python.",
        );
        let a = serde_json::to_vec(&analyze(&j, &[], &[])).unwrap();
        let b = serde_json::to_vec(&analyze(&j, &[], &[])).unwrap();
        assert_eq!(a, b);
        assert_eq!(analyze(&j, &[], &[]).score, 0);
    }
}
