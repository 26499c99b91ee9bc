//! `flowats seed --demo`: the demo account the seed document's load test logs in as
//! (`test@example.com` / `password`), with a profile, skills, a few jobs (tags, sources), a
//! follow-up rule and its task, a contact linked to a job, an interview and a note. Running it
//! again finds the account and changes nothing.

use crate::app::AppState;
use flowats_db::models::{EmploymentFields, JobFields, ProfileFields, SkillFields};
use flowats_db::tracker::{
    ContactFields, ContactLink, ContactRole, InterviewFields, NoteFields, Parent, TaskRuleFields,
};
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
    // A follow-up rule first, so that the applied job below gets its task.
    let rule: TaskRuleFields = serde_json::from_value(json!({
        "status": "applied", "delay_days": 7, "title": "Follow up with {company}"
    }))?;
    db.task_rules.create(user, Parent::None, rule).await?;
    let mut jobs = Vec::new();
    for (title, company, status, source, tags) in [
        (
            "Senior Rust Engineer",
            "Acme",
            "applied",
            "linkedin",
            &["rust", "remote"][..],
        ),
        (
            "Backend Developer",
            "Globex",
            "interested",
            "company site",
            &["rust"][..],
        ),
        (
            "Platform Engineer",
            "Initrode",
            "interviewing",
            "referral",
            &["kubernetes"][..],
        ),
        ("Staff Engineer", "Hooli", "rejected", "linkedin", &[][..]),
        (
            "Site Reliability Engineer",
            "Umbrella",
            "offer",
            "referral",
            &["remote"][..],
        ),
    ] {
        let fields: JobFields = serde_json::from_value(json!({
            "title": title, "company": company, "status": status, "source": source,
            "tags": tags, "url": format!("https://example.com/careers/{}", company.to_lowercase()),
            "salary_min": 90000, "salary_max": 140000
        }))?;
        jobs.push(db.jobs.create_job(user, fields).await?.id);
    }
    let contact: ContactFields = serde_json::from_value(json!({
        "name": "Riley Chen", "email": "riley@initrode.example", "company": "Initrode",
        "role": "recruiter"
    }))?;
    let riley = db.contacts.create(user, Parent::None, contact).await?.id;
    let platform = jobs[2];
    let link = ContactLink {
        contact_id: riley,
        role: Some(ContactRole::Recruiter),
    };
    db.tracker
        .set_job_contacts(user, platform, vec![link])
        .await?;
    let interview: InterviewFields = serde_json::from_value(json!({
        "kind": "technical", "scheduled_at": "2027-01-12T15:00:00Z", "duration_minutes": 60,
        "format": "video", "interviewer_ids": [riley],
        "preparation_notes": "Review the on-call story and the Kubernetes migration."
    }))?;
    db.interviews
        .create(user, Parent::Job(platform), interview)
        .await?;
    let note: NoteFields =
        serde_json::from_value(json!({"body": "Riley said the team is hiring two."}))?;
    db.notes.create(user, Parent::Job(platform), note).await?;
    Ok(true)
}

/// What `flowats seed --users N --jobs-per-user M [--heavy-user K]` loads.
#[derive(Debug, Clone, Copy)]
pub struct BulkPlan {
    pub users: u32,
    pub jobs_per_user: u32,
    /// Jobs of `heavy@example.com`, if any.
    pub heavy_jobs: Option<u32>,
}

/// Jobs per transaction: large enough to load fast, small enough to report progress.
const JOBS_PER_BATCH: usize = 5_000;

/// Loads `user1@example.com` … `userN@example.com` (and `heavy@example.com`), every
/// password `password`, each topped up to its number of jobs: a rerun adds only what is
/// missing. Progress goes to stderr. Returns the number of jobs inserted.
pub async fn seed_bulk(state: &AppState, plan: BulkPlan) -> anyhow::Result<u64> {
    let db = &state.db;
    let mut wanted: Vec<(String, String, u32)> = (1..=plan.users)
        .map(|i| {
            (
                format!("user{i}@example.com"),
                format!("User {i}"),
                plan.jobs_per_user,
            )
        })
        .collect();
    if let Some(k) = plan.heavy_jobs {
        wanted.push(("heavy@example.com".into(), "Heavy User".into(), k));
    }
    // Every account gets the same hash: one argon2 run instead of N.
    let hash = state.passwords.hash(DEMO_PASSWORD.into()).await?;
    let accounts = db
        .seed
        .ensure_users(
            wanted
                .iter()
                .map(|(e, n, _)| (e.clone(), n.clone()))
                .collect(),
            hash,
        )
        .await?;
    let ids: std::collections::HashMap<String, uuid::Uuid> = accounts
        .into_iter()
        .map(|(id, email)| (email, id))
        .collect();

    let mut todo = Vec::new();
    for (email, _, target) in &wanted {
        let id = ids[email];
        let have = db.jobs.count_jobs(id, Default::default()).await?;
        let missing = i64::from(*target) - have;
        if missing > 0 {
            todo.push((id, have as u64, missing as u64));
        }
    }
    let total: u64 = todo.iter().map(|(_, _, n)| n).sum();
    let started = std::time::Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Creation times run up to now, a millisecond apart, so every order is meaningful;
    // each account gets its own range of that clock.
    let base = time::OffsetDateTime::now_utc() - time::Duration::milliseconds(total as i64 + 1);
    let mut clock = 0i64;
    let mut work = Vec::with_capacity(todo.len());
    for (user, have, missing) in todo {
        work.push((user, have, missing, clock));
        clock += missing as i64;
    }
    // PostgreSQL spends its time in per-row index and foreign-key work, which a second
    // connection runs on the other core; SQLite has one writer, so one worker.
    let workers = if db.backend == "postgres" { 2 } else { 1 };
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let mine: Vec<_> = work.iter().skip(w).step_by(workers).copied().collect();
        let db = db.clone();
        let done = done.clone();
        tasks.spawn(async move {
            for (user, have, missing, first) in mine {
                let mut next = have;
                let end = have + missing;
                while next < end {
                    let n = ((end - next) as usize).min(JOBS_PER_BATCH);
                    let batch: Vec<_> = (next..next + n as u64)
                        .map(|i| {
                            let at =
                                base + time::Duration::milliseconds(first + (i - have) as i64 + 1);
                            (demo_job(i), flowats_db::Timestamp::from(at))
                        })
                        .collect();
                    db.seed.insert_jobs(user, batch).await?;
                    next += n as u64;
                    let so_far =
                        done.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed) + n as u64;
                    let rate = so_far as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    eprint!(
                        "\rseeding jobs: {so_far}/{total} ({:.0}%) {rate:.0}/s   ",
                        100.0 * so_far as f64 / total as f64
                    );
                }
            }
            Ok::<_, flowats_db::DbError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    if total > 0 {
        eprintln!(
            "\rseeded {total} jobs for {} accounts in {:.1?}          ",
            wanted.len(),
            started.elapsed()
        );
    } else {
        eprintln!("nothing to do: every account already has its jobs");
    }
    Ok(total)
}

/// The `i`-th generated job: varied titles, companies, statuses and salaries.
fn demo_job(i: u64) -> JobFields {
    const TITLES: [&str; 8] = [
        "Backend Engineer",
        "Rust Developer",
        "Platform Engineer",
        "Data Engineer",
        "Site Reliability Engineer",
        "Full-Stack Developer",
        "Staff Engineer",
        "DevOps Engineer",
    ];
    const COMPANIES: [&str; 10] = [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Stark",
        "Wayne",
        "Wonka",
        "Tyrell",
        "Cyberdyne",
    ];
    let status = flowats_db::models::JobStatus::ALL[(i % 8) as usize];
    let min = 60_000 + (i % 50) as i64 * 2_000;
    JobFields {
        title: format!("{} {}", TITLES[(i % 8) as usize], i),
        company: COMPANIES[(i % 10) as usize].to_owned(),
        location: Some(
            if i.is_multiple_of(3) {
                "Remote"
            } else {
                "Berlin"
            }
            .to_owned(),
        ),
        url: Some(format!("https://jobs.example.com/{i}")),
        description: Some("Build and run reliable services in Rust and PostgreSQL.".to_owned()),
        salary_min: Some(min),
        salary_max: Some(min + 30_000),
        status,
        deadline: None,
        notes: None,
        source: Some(["linkedin", "referral", "company site"][(i % 3) as usize].to_owned()),
        tags: Vec::new(),
    }
}
