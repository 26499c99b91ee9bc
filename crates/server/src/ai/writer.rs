//! The `local` provider: a resume and a cover letter in Markdown, tailored to a job, with
//! the reasons for each choice. Offline and deterministic.
//!
//! It starts from the job analysis ([`super::analytics`]): skills the job asks for lead the
//! skills section, heaviest requirement first; employment entries are ordered by the
//! weighted requirements their title and description cover (ties: most recent first); the
//! cover letter names the role and company, the requirements the profile meets with the
//! evidence for them, and, honestly, the ones it does not.

use super::analytics::{Analysis, analyze};
use super::text;
use super::vocabulary::VOCABULARY;
use flowats_db::models::{
    EducationFields, EmploymentFields, Item, Job, ProfileFields, SkillFields, User,
};
use serde::Serialize;
use std::fmt::Write;

/// Everything a document is made from.
pub struct Context<'a> {
    pub user: &'a User,
    pub profile: &'a ProfileFields,
    pub job: &'a Job,
    pub skills: &'a [Item<SkillFields>],
    pub education: &'a [Item<EducationFields>],
    pub employment: &'a [Item<EmploymentFields>],
}

/// One decision the writer made, and the requirement it answers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Choice {
    /// `moved up`, `kept`, `left out`, `not claimed`.
    pub action: &'static str,
    pub what: String,
    pub because: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub content: String,
    pub why: Vec<Choice>,
    pub score: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Resume,
    CoverLetter,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Resume => "resume",
            Kind::CoverLetter => "cover_letter",
        }
    }
}

/// How many skills the resume lists besides the ones the job asks for.
const OTHER_SKILLS: usize = 8;

pub fn write(kind: Kind, cx: &Context) -> Document {
    let analysis = analyze(cx.job, cx.skills, cx.employment);
    match kind {
        Kind::Resume => resume(cx, &analysis),
        Kind::CoverLetter => cover_letter(cx, &analysis),
    }
}

fn name(cx: &Context) -> String {
    cx.profile
        .full_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| cx.user.name.clone())
}

/// Employment entries by the weighted requirements they cover, most relevant first, with
/// what each covers.
fn ranked_employment<'a>(
    cx: &'a Context,
    analysis: &Analysis,
) -> Vec<(&'a Item<EmploymentFields>, f64, Vec<String>)> {
    let weights: Vec<(String, f64)> = analysis
        .matched
        .iter()
        .map(|m| (m.requirement.skill.clone(), m.requirement.weight))
        .chain(analysis.missing.iter().map(|r| (r.skill.clone(), r.weight)))
        .collect();
    let mut ranked: Vec<_> = cx
        .employment
        .iter()
        .map(|e| {
            let words = format!(
                "{} {}",
                e.fields.title,
                e.fields.description.as_deref().unwrap_or("")
            );
            let found: Vec<&str> = VOCABULARY
                .find(&text::tokens(&words))
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let covers: Vec<String> = weights
                .iter()
                .filter(|(s, _)| found.contains(&s.as_str()))
                .map(|(s, _)| s.clone())
                .collect();
            let score = weights
                .iter()
                .filter(|(s, _)| covers.contains(s))
                .map(|(_, w)| w)
                .sum::<f64>();
            (e, score, covers)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| b.0.fields.start_date.cmp(&a.0.fields.start_date))
            .then_with(|| a.0.id.cmp(&b.0.id))
    });
    ranked
}

fn dates(start: Option<time::Date>, end: Option<time::Date>) -> String {
    let ym = |d: time::Date| format!("{}-{:02}", d.year(), u8::from(d.month()));
    match (start, end) {
        (Some(s), Some(e)) => format!("{} – {}", ym(s), ym(e)),
        (Some(s), None) => format!("{} – present", ym(s)),
        (None, Some(e)) => format!("until {}", ym(e)),
        (None, None) => String::new(),
    }
}

fn resume(cx: &Context, a: &Analysis) -> Document {
    let mut why = Vec::new();
    let mut md = String::new();
    let job = &cx.job.fields;
    let _ = writeln!(md, "# {}\n", name(cx));
    if let Some(h) = &cx.profile.headline {
        let _ = writeln!(md, "**{h}**\n");
    }
    let contact: Vec<&str> = [
        cx.profile.location.as_deref(),
        Some(cx.user.email.as_str()),
        cx.profile.phone.as_deref(),
        cx.profile.website.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let _ = writeln!(md, "{}\n", contact.join(" · "));

    let leading: Vec<&str> = a
        .matched
        .iter()
        .map(|m| m.requirement.skill.as_str())
        .collect();
    let _ = writeln!(md, "## Summary\n");
    if let Some(s) = &cx.profile.summary {
        let _ = writeln!(md, "{s}\n");
    }
    let _ = write!(md, "Applying for **{}** at **{}**", job.title, job.company);
    if leading.is_empty() {
        let _ = writeln!(md, ".\n");
    } else {
        let _ = writeln!(md, ", bringing {}.\n", leading.join(", "));
    }

    let _ = writeln!(md, "## Skills\n");
    if !leading.is_empty() {
        let _ = writeln!(md, "**For this role:** {}\n", leading.join(", "));
    }
    for m in &a.matched {
        why.push(Choice {
            action: "moved up",
            what: m.requirement.skill.clone(),
            because: format!(
                "the job asks for it (\"{}\"); the profile shows it ({})",
                m.requirement.job_evidence, m.profile_evidence
            ),
        });
    }
    let asked: Vec<String> = a
        .matched
        .iter()
        .map(|m| m.requirement.skill.to_lowercase())
        .collect();
    let mut others: Vec<&Item<SkillFields>> = cx
        .skills
        .iter()
        .filter(|s| {
            let canonical = VOCABULARY
                .canonical(&s.fields.name)
                .map_or_else(|| s.fields.name.to_lowercase(), str::to_lowercase);
            !asked.contains(&canonical)
        })
        .collect();
    others.sort_by(|x, y| {
        y.fields
            .proficiency
            .cmp(&x.fields.proficiency)
            .then_with(|| x.fields.name.cmp(&y.fields.name))
    });
    let (kept, dropped) = others.split_at(others.len().min(OTHER_SKILLS));
    if !kept.is_empty() {
        let names: Vec<&str> = kept.iter().map(|s| s.fields.name.as_str()).collect();
        let _ = writeln!(md, "**Also:** {}\n", names.join(", "));
    }
    for s in dropped {
        why.push(Choice {
            action: "left out",
            what: s.fields.name.clone(),
            because: format!(
                "not asked for, and {OTHER_SKILLS} stronger skills the job does not name already fill the list"
            ),
        });
    }
    for r in &a.missing {
        why.push(Choice {
            action: "not claimed",
            what: r.skill.clone(),
            because: format!(
                "the job asks for it (\"{}\") but the profile does not show it",
                r.job_evidence
            ),
        });
    }

    let ranked = ranked_employment(cx, a);
    if !ranked.is_empty() {
        let _ = writeln!(md, "## Experience\n");
    }
    for (i, (e, _, covers)) in ranked.iter().enumerate() {
        let f = &e.fields;
        let when = dates(f.start_date, f.end_date);
        let _ = writeln!(md, "### {} — {}", f.title, f.company);
        if !when.is_empty() {
            let _ = writeln!(md, "*{when}*");
        }
        md.push('\n');
        if let Some(d) = &f.description {
            for s in text::sentences(d) {
                let _ = writeln!(md, "- {s}");
            }
            md.push('\n');
        }
        let entry = format!("{} at {}", f.title, f.company);
        why.push(if covers.is_empty() {
            Choice {
                action: "kept",
                what: entry,
                because: format!(
                    "position {} of {}: covers none of the requirements",
                    i + 1,
                    ranked.len()
                ),
            }
        } else {
            Choice {
                action: "moved up",
                what: entry,
                because: format!(
                    "position {} of {}: shows {}",
                    i + 1,
                    ranked.len(),
                    covers.join(", ")
                ),
            }
        });
    }

    if !cx.education.is_empty() {
        let _ = writeln!(md, "## Education\n");
        for e in cx.education {
            let f = &e.fields;
            let what = match (&f.degree, &f.field_of_study) {
                (Some(d), Some(s)) => format!("{d} in {s}, "),
                (Some(d), None) => format!("{d}, "),
                (None, Some(s)) => format!("{s}, "),
                (None, None) => String::new(),
            };
            let when = dates(f.start_date, f.end_date);
            let when = if when.is_empty() {
                when
            } else {
                format!(" ({when})")
            };
            let _ = writeln!(md, "- {what}{}{when}", f.institution);
        }
    }
    Document {
        content: md.trim_end().to_owned() + "\n",
        why,
        score: a.score,
    }
}

fn cover_letter(cx: &Context, a: &Analysis) -> Document {
    let job = &cx.job.fields;
    let mut why = Vec::new();
    let mut md = String::new();
    let _ = writeln!(md, "Dear {} hiring team,\n", job.company);
    let _ = write!(
        md,
        "I am applying for the **{}** role at **{}**.",
        job.title, job.company
    );
    if let Some(h) = &cx.profile.headline {
        let _ = write!(md, " I work as {}.", h.trim_end_matches('.'));
    }
    md.push_str("\n\n");
    if !a.matched.is_empty() {
        let asked: Vec<&str> = a
            .matched
            .iter()
            .map(|m| m.requirement.skill.as_str())
            .collect();
        let _ = writeln!(
            md,
            "You are looking for {}, and that is what I bring:\n",
            asked.join(", ")
        );
        for m in a.matched.iter().take(4) {
            let evidence = m
                .profile_evidence
                .strip_prefix("experience: ")
                .map(|e| format!("as {e}"))
                .unwrap_or_else(|| {
                    format!(
                        "listed in my skills ({})",
                        m.profile_evidence.trim_start_matches("skill: ")
                    )
                });
            let _ = writeln!(md, "- **{}**: {evidence}", m.requirement.skill);
            why.push(Choice {
                action: "moved up",
                what: m.requirement.skill.clone(),
                because: format!("the job asks for it (\"{}\")", m.requirement.job_evidence),
            });
        }
        md.push('\n');
    }
    if let Some((top, _, covers)) = ranked_employment(cx, a)
        .first()
        .filter(|(_, _, c)| !c.is_empty())
    {
        let _ = writeln!(
            md,
            "Most relevant is my time as {} at {}, where I worked with {}.\n",
            top.fields.title,
            top.fields.company,
            covers.join(", ")
        );
        why.push(Choice {
            action: "moved up",
            what: format!("{} at {}", top.fields.title, top.fields.company),
            because: format!(
                "the experience that covers the most of what the job asks: {}",
                covers.join(", ")
            ),
        });
    }
    if !a.missing.is_empty() {
        let missing: Vec<&str> = a.missing.iter().map(|r| r.skill.as_str()).collect();
        let _ = writeln!(
            md,
            "I have not worked with {} yet, and would make learning it a priority.\n",
            missing.join(", ")
        );
        for r in &a.missing {
            why.push(Choice {
                action: "not claimed",
                what: r.skill.clone(),
                because: format!(
                    "asked for (\"{}\") but not in the profile: named as a gap, not claimed",
                    r.job_evidence
                ),
            });
        }
    }
    if let Some(e) = cx.education.first() {
        let f = &e.fields;
        let degree = f
            .degree
            .as_deref()
            .map_or(String::new(), |d| format!("{d} "));
        let _ = writeln!(md, "My education: {degree}at {}.\n", f.institution);
    }
    let _ = writeln!(md, "Kind regards,\n{}", name(cx));
    Document {
        content: md,
        why,
        score: a.score,
    }
}
