//! `flowats seed --demo`: the demo account the seed document's load test logs in as
//! (`test@example.com` / `password`), with a profile, skills and a few jobs. Running it
//! again finds the account and changes nothing.

use crate::app::AppState;
use flowats_db::models::{EmploymentFields, JobFields, ProfileFields, SkillFields};
use serde_json::json;

pub const DEMO_EMAIL: &str = "test@example.com";
pub const DEMO_PASSWORD: &str = "password";

/// `true` when the account was created, `false` when it already existed.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<bool> {
    let db = &state.db;
    if db.users.credentials(DEMO_EMAIL.into()).await?.is_some() {
        return Ok(false);
    }
    let hash = state.passwords.hash(DEMO_PASSWORD.into()).await?;
    let user = match db
        .users
        .create_user(DEMO_EMAIL.into(), "Demo User".into(), hash)
        .await
    {
        Ok(u) => u.id,
        // Another seeder won the race: the account exists, which is what we wanted.
        Err(flowats_db::DbError::Conflict(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let profile: ProfileFields = serde_json::from_value(json!({
        "full_name": "Demo User",
        "headline": "Backend engineer",
        "summary": "Builds reliable services in Rust and TypeScript.",
        "location": "Remote",
        "website": "https://example.com"
    }))?;
    db.profiles.put_profile(user, profile).await?;
    for (name, category, level) in [
        ("Rust", "language", 5),
        ("TypeScript", "language", 4),
        ("PostgreSQL", "database", 4),
        ("Redis", "database", 3),
        ("Kubernetes", "platform", 3),
    ] {
        let skill: SkillFields = serde_json::from_value(
            json!({"name": name, "category": category, "proficiency": level}),
        )?;
        db.skills.create(user, skill).await?;
    }
    let job: EmploymentFields = serde_json::from_value(json!({
        "company": "Initech", "title": "Software Engineer", "start_date": "2021-03-01",
        "description": "Owned the billing API: Rust, PostgreSQL, Redis."
    }))?;
    db.employment.create(user, job).await?;
    for (title, company, status) in [
        ("Senior Rust Engineer", "Acme", "applied"),
        ("Backend Developer", "Globex", "interested"),
        ("Platform Engineer", "Initrode", "interviewing"),
        ("Staff Engineer", "Hooli", "rejected"),
        ("Site Reliability Engineer", "Umbrella", "offer"),
    ] {
        let fields: JobFields = serde_json::from_value(json!({
            "title": title, "company": company, "status": status,
            "url": "https://example.com/careers", "salary_min": 90000, "salary_max": 140000
        }))?;
        db.jobs.create_job(user, fields).await?;
    }
    Ok(true)
}
