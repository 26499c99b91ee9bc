//! The offline AI writer in-process: how long `writer::write` takes for a large profile,
//! and how many documents a second the machine makes.
//!
//! The input is synthetic but shaped like a real one: a user and a profile, 50 skills (35
//! the vocabulary knows, some written as aliases such as `Postgres` or `K8s`, and 15 it
//! does not, such as `Jira`; proficiencies 1–5), 20 employment entries of 2–4 sentences
//! naming skills (the most recent one current), 2 education entries, and a job whose
//! ~1,500-character description names ~12 skills, a few of them optional and two the
//! profile does not show. The same seed gives the same profile.
//!
//! Measured, after `--warmup` untimed calls:
//! - latency: `--iterations` sequential `write(Kind::Resume)` calls, each timed alone,
//!   p50 / p95 / p99 / max / mean; the same for `Kind::CoverLetter`, and for the job
//!   analysis alone (`analytics::analyze`, the part both documents share);
//! - throughput: resumes per second with 1 and 2 threads (`--threads`), each thread
//!   looping for `--seconds`, with the process CPU time over the run (generations per
//!   CPU-second move less than generations per second on a shared machine) and the CPU the
//!   rest of the machine took meanwhile, in cores.
//!
//! Target (the issue): resume p99 < `--target-ms` (20) ms, sequential. Prints Markdown;
//! exits 0 whether the target is met or not (a miss is a result), 2 on bad flags.
//!
//! `--export FILE` writes the same input as API request bodies (`user`, `profile`, `skills`,
//! `employment`, `education`, `job`) to FILE and exits without measuring:
//! `scripts/bench-ai` creates it through the API for the HTTP part.
//!
//! `aibench [--iterations 2000] [--warmup 200] [--seconds 5] [--threads 1,2] [--seed 42]
//!          [--target-ms 20] [--export FILE]`

use flowats_bench::{Flags, Rng};
use flowats_db::Timestamp;
use flowats_db::models::{
    EducationFields, EmploymentFields, Item, Job, JobFields, JobStatus, ProfileFields, SkillFields,
    User,
};
use flowats_server::ai::analytics;
use flowats_server::ai::vocabulary::VOCABULARY;
use flowats_server::ai::writer::{self, Context, Kind};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use time::{Date, Month};
use uuid::Uuid;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

// --- the synthetic profile ------------------------------------------------------------

/// Skills the vocabulary knows, some as aliases (`Postgres`, `K8s`, `golang`, `TS`).
const KNOWN_SKILLS: [&str; 35] = [
    "Rust",
    "golang",
    "Python",
    "TypeScript",
    "JavaScript",
    "SQL",
    "Postgres",
    "Redis",
    "Kafka",
    "RabbitMQ",
    "Docker",
    "K8s",
    "Terraform",
    "AWS",
    "GCP",
    "Linux",
    "Bash",
    "Prometheus",
    "Grafana",
    "OpenTelemetry",
    "CI/CD",
    "GitHub Actions",
    "Git",
    "REST APIs",
    "gRPC",
    "GraphQL",
    "Microservices",
    "Distributed systems",
    "Tokio",
    "Axum",
    "React",
    "Node.js",
    "Observability",
    "Code review",
    "Mentoring",
];

/// Skills it does not know: the job can still ask for them by name.
const OTHER_SKILLS: [&str; 15] = [
    "Jira",
    "Figma",
    "Domain-driven design",
    "Technical writing",
    "Incident management",
    "System design",
    "Stakeholder communication",
    "Product discovery",
    "Kanban",
    "Confluence",
    "Recruiting",
    "Public speaking",
    "Chaos engineering",
    "Capacity planning",
    "Feature flags",
];

const COMPANIES: [&str; 20] = [
    "Northwind Logistics",
    "Contoso Payments",
    "Fabrikam Health",
    "Tailspin Travel",
    "Wide World Importers",
    "Adventure Works",
    "Litware Analytics",
    "Proseware",
    "Woodgrove Bank",
    "Lucerne Publishing",
    "Alpine Ski House",
    "Coho Vineyard",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Margie's Travel",
    "Blue Yonder Airlines",
    "Trey Research",
    "VanArsdel",
    "Southridge Video",
];

const TITLES: [&str; 10] = [
    "Principal Engineer",
    "Staff Software Engineer",
    "Senior Backend Engineer",
    "Senior Platform Engineer",
    "Site Reliability Engineer",
    "Backend Engineer",
    "Software Engineer",
    "Full-stack Developer",
    "DevOps Engineer",
    "Junior Developer",
];

/// Sentence templates; `{a}`, `{b}` are skills as the profile writes them.
const SENTENCES: [&str; 16] = [
    "Designed and ran {a} services handling 40k requests per second with {b} behind them.",
    "Migrated the billing pipeline from a monolith to {a}, cutting p99 latency by 60%.",
    "Led a team of five engineers building the order platform on {a} and {b}.",
    "Introduced {a} for the checkout flow and wrote the runbooks the on-call rotation uses.",
    "Owned the {a} cluster: upgrades, capacity reviews and the disaster-recovery drills.",
    "Built internal tooling in {a} that saved the support team ten hours a week.",
    "Cut cloud spend by 30% by right-sizing {a} workloads and moving batch jobs to {b}.",
    "Mentored three junior developers and ran the weekly {a} guild.",
    "Shipped the public API ({a}) used by 200 partner integrations.",
    "Rewrote the ingestion workers with {a}, processing 2 TB a day from {b}.",
    "Set up {a} dashboards and alerts so that incidents were found before customers did.",
    "Worked closely with product and design on discovery, then delivered it with {a}.",
    "Automated releases with {a}; deploys went from weekly to forty a day.",
    "Replaced hand-written SQL reports with a {a} service and a small {b} front end.",
    "Hardened authentication and secrets handling across {a} and {b}.",
    "Wrote the design documents and ran the reviews for the move to {a}.",
];

const JOB_TITLE: &str = "Senior Backend Engineer (Rust)";
const JOB_DESCRIPTION: &str = "\
Acme Robotics builds the fleet software that keeps ten thousand warehouse robots moving. \
We are hiring a Senior Backend Engineer to join the platform team that owns the services \
between the robots and the people who run the warehouses.

What you will do:
- Design, build and operate Rust services that handle millions of events an hour.
- Own our PostgreSQL schemas and queries, and the Redis caches in front of them.
- Evolve the event pipeline on Kafka, from producers on the robots to consumers in the cloud.
- Run what you build on Kubernetes in AWS, with infrastructure as code for everything else.
- Improve observability: metrics, traces, dashboards, and alerts that wake people only when it matters.
- Review code, mentor engineers, and write the design documents the team decides on.

What we are looking for:
- Five or more years building backend systems, at least two of them in Rust.
- Solid data modelling; you have tuned a slow PostgreSQL query before.
- Experience with distributed systems: retries, idempotency, back-pressure, partial failure.
- Comfort with CI/CD; you like small, frequent releases and boring deploys.
- Capacity planning for services whose traffic grows every quarter, and the judgement to
  know when a simpler design is the better one.

Nice to have: gRPC, Go, or experience with Elasticsearch. Bonus: Scala.
Knowledge of robotics is a plus, but not required.

We offer a hybrid schedule, a learning budget, four weeks of paid leave, and a team that
writes things down.";

fn date(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).expect("a month"), day).expect("a date")
}

fn item<F>(n: u128, fields: F, at: Timestamp) -> Item<F> {
    Item {
        id: Uuid::from_u128(n),
        fields,
        created_at: at,
        updated_at: at,
    }
}

struct Profile {
    user: User,
    profile: ProfileFields,
    job: Job,
    skills: Vec<Item<SkillFields>>,
    education: Vec<Item<EducationFields>>,
    employment: Vec<Item<EmploymentFields>>,
}

impl Profile {
    fn context(&self) -> Context<'_> {
        Context {
            user: &self.user,
            profile: &self.profile,
            job: &self.job,
            skills: &self.skills,
            education: &self.education,
            employment: &self.employment,
        }
    }
}

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[(rng.next_u64() % from.len() as u64) as usize]
}

fn synthetic(seed: u64) -> Profile {
    let mut rng = Rng::new(seed);
    let now = Timestamp::now();
    let user = User {
        id: Uuid::from_u128(1),
        email: "ada.bench@example.com".into(),
        name: "Ada Bench".into(),
        created_at: now,
    };
    let profile = ProfileFields {
        full_name: Some("Ada Bench".into()),
        headline: Some("Staff backend engineer: Rust, distributed systems, platform teams".into()),
        summary: Some(
            "Fifteen years building and running backend systems, from payments to logistics. \
             I like boring infrastructure, clear design documents and on-call rotations \
             nobody dreads."
                .into(),
        ),
        location: Some("Lisbon, Portugal".into()),
        phone: Some("+351 912 345 678".into()),
        website: Some("https://ada.example.com".into()),
    };

    let mut names: Vec<&str> = KNOWN_SKILLS.iter().chain(&OTHER_SKILLS).copied().collect();
    // A stable shuffle, so vocabulary and other skills are interleaved as a user adds them.
    for i in (1..names.len()).rev() {
        names.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let categories = ["language", "data", "infrastructure", "practice", "tool"];
    let skills: Vec<Item<SkillFields>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            item(
                100 + i as u128,
                SkillFields {
                    name: (*name).into(),
                    category: Some(categories[i % categories.len()].into()),
                    proficiency: Some(1 + (rng.next_u64() % 5) as i64),
                },
                now,
            )
        })
        .collect();

    // Twenty consecutive roles of about a year each, the first one current; the most recent
    // name the most skills.
    let mentionable: Vec<&str> = names.clone();
    let employment: Vec<Item<EmploymentFields>> = (0..20)
        .map(|i| {
            let start = date(2025 - i as i32, 1 + (i % 12) as u8, 1);
            let end = (i > 0).then(|| date(2026 - i as i32, 1 + ((i + 11) % 12) as u8, 28));
            let n = 2 + (rng.next_u64() % 3) as usize;
            let description: Vec<String> = (0..n)
                .map(|_| {
                    pick(&mut rng, &SENTENCES)
                        .replace("{a}", pick(&mut rng, &mentionable))
                        .replace("{b}", pick(&mut rng, &mentionable))
                })
                .collect();
            item(
                1_000 + i as u128,
                EmploymentFields {
                    company: COMPANIES[i].into(),
                    title: TITLES[(i / 2).min(TITLES.len() - 1)].into(),
                    start_date: Some(start),
                    end_date: end,
                    description: Some(description.join(" ")),
                },
                now,
            )
        })
        .collect();

    let education = vec![
        item(
            2_000,
            EducationFields {
                institution: "Instituto Superior Técnico".into(),
                degree: Some("MSc".into()),
                field_of_study: Some("Computer Science".into()),
                start_date: Some(date(2004, 9, 15)),
                end_date: Some(date(2006, 7, 31)),
                gpa: Some(3.8),
            },
            now,
        ),
        item(
            2_001,
            EducationFields {
                institution: "University of Porto".into(),
                degree: Some("BSc".into()),
                field_of_study: Some("Informatics Engineering".into()),
                start_date: Some(date(2001, 9, 15)),
                end_date: Some(date(2004, 7, 31)),
                gpa: None,
            },
            now,
        ),
    ];

    let job = Job {
        id: Uuid::from_u128(3_000),
        fields: JobFields {
            title: JOB_TITLE.into(),
            company: "Acme Robotics".into(),
            location: Some("Remote (EU)".into()),
            url: Some("https://acme.example.com/careers/backend".into()),
            description: Some(JOB_DESCRIPTION.into()),
            salary_min: Some(90_000),
            salary_max: Some(130_000),
            status: JobStatus::Interested,
            deadline: None,
            notes: None,
            source: None,
            tags: Vec::new(),
        },
        created_at: now,
        updated_at: now,
    };
    Profile {
        user,
        profile,
        job,
        skills,
        education,
        employment,
    }
}

// --- measuring ---------------------------------------------------------------------------

struct Latencies {
    sorted_us: Vec<f64>,
    /// What the rest of the machine took while they were measured, in cores.
    other_cores: Option<f64>,
}

impl Latencies {
    fn new(mut us: Vec<f64>, other_cores: Option<f64>) -> Latencies {
        us.sort_by(|a, b| a.total_cmp(b));
        Latencies {
            sorted_us: us,
            other_cores,
        }
    }

    /// Nearest rank: the smallest value with at least `q` of the samples at or below it.
    fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.sorted_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.sorted_us[rank - 1] / 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.sorted_us.last().copied().unwrap_or(f64::NAN) / 1000.0
    }

    fn mean_ms(&self) -> f64 {
        self.sorted_us.iter().sum::<f64>() / self.sorted_us.len().max(1) as f64 / 1000.0
    }
}

fn time_calls(n: usize, mut call: impl FnMut()) -> Latencies {
    let meter = Meter::start();
    let mut us = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call();
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Latencies::new(us, meter.stop().other_cores)
}

/// Ticks of /proc: user + system of this process, and the machine's busy time. USER_HZ is
/// 100 on Linux whatever the kernel's own tick rate.
const USER_HZ: f64 = 100.0;

fn own_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields after it start past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system (idle iowait) irq softirq steal
    Some(v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)? + v.get(7)?)
}

/// Wall time, this process's CPU time and the rest of the machine's over a stretch.
struct Meter {
    started: Instant,
    cpu0: Option<u64>,
    busy0: Option<u64>,
}

struct Metered {
    secs: f64,
    cpu_secs: Option<f64>,
    other_cores: Option<f64>,
}

impl Meter {
    fn start() -> Meter {
        Meter {
            cpu0: own_cpu_ticks(),
            busy0: machine_busy_ticks(),
            started: Instant::now(),
        }
    }

    fn stop(self) -> Metered {
        let secs = self.started.elapsed().as_secs_f64();
        let cpu = own_cpu_ticks()
            .zip(self.cpu0)
            .map(|(b, a)| b.saturating_sub(a) as f64 / USER_HZ);
        let other = machine_busy_ticks()
            .zip(self.busy0)
            .zip(cpu)
            .map(|((b, a), own)| ((b.saturating_sub(a) as f64 / USER_HZ - own) / secs).max(0.0));
        Metered {
            secs,
            cpu_secs: cpu,
            other_cores: other,
        }
    }
}

struct Throughput {
    threads: usize,
    generations: u64,
    secs: f64,
    cpu_secs: Option<f64>,
    other_cores: Option<f64>,
    latency: Latencies,
}

fn throughput(profile: &Profile, threads: usize, run_for: Duration) -> Throughput {
    let meter = Meter::start();
    let started = meter.started;
    let per_thread: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let cx = profile.context();
                    let deadline = started + run_for;
                    let mut us = Vec::with_capacity(16_384);
                    loop {
                        let t = Instant::now();
                        if t >= deadline {
                            break;
                        }
                        black_box(writer::write(Kind::Resume, black_box(&cx)));
                        us.push(t.elapsed().as_secs_f64() * 1e6);
                    }
                    us
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let m = meter.stop();
    let all: Vec<f64> = per_thread.into_iter().flatten().collect();
    Throughput {
        threads,
        generations: all.len() as u64,
        secs: m.secs,
        cpu_secs: m.cpu_secs,
        other_cores: m.other_cores,
        latency: Latencies::new(all, None),
    }
}

/// The input as the API's request bodies.
fn export(p: &Profile, path: &str) -> Result<(), String> {
    let body = serde_json::json!({
        "user": {"email": p.user.email, "name": p.user.name},
        "profile": p.profile,
        "skills": p.skills.iter().map(|s| &s.fields).collect::<Vec<_>>(),
        "employment": p.employment.iter().map(|e| &e.fields).collect::<Vec<_>>(),
        "education": p.education.iter().map(|e| &e.fields).collect::<Vec<_>>(),
        "job": p.job.fields,
    });
    let text = serde_json::to_string_pretty(&body).map_err(|e| format!("aibench: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("aibench: writing {path}: {e}"))
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

fn run() -> Result<(), String> {
    let flags = Flags::parse(
        "aibench",
        &[
            "iterations",
            "warmup",
            "seconds",
            "threads",
            "seed",
            "target-ms",
            "export",
        ],
    )?;
    let iterations: usize = flags.get("iterations", 2_000)?;
    let warmup: usize = flags.get("warmup", 200)?;
    let seconds: f64 = flags.get("seconds", 5.0)?;
    let seed: u64 = flags.get("seed", 42)?;
    let target_ms: f64 = flags.get("target-ms", 20.0)?;
    let threads: Vec<usize> = flags
        .text("threads")
        .unwrap_or("1,2")
        .split(',')
        .map(|t| {
            t.trim()
                .parse()
                .ok()
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("aibench: bad --threads {t:?}"))
        })
        .collect::<Result<_, _>>()?;
    if iterations == 0 || seconds.is_nan() || seconds <= 0.0 {
        return Err("aibench: --iterations and --seconds must be positive".into());
    }

    let profile = synthetic(seed);
    if let Some(path) = flags.text("export") {
        return export(&profile, path);
    }
    let cx = profile.context();

    // What the input is, as the writer sees it.
    let known = profile
        .skills
        .iter()
        .filter(|s| VOCABULARY.canonical(&s.fields.name).is_some())
        .count();
    let words: usize = profile
        .employment
        .iter()
        .filter_map(|e| e.fields.description.as_deref())
        .map(|d| d.split_whitespace().count())
        .sum();
    let description_chars = JOB_DESCRIPTION.chars().count();
    let analysis = analytics::analyze(&profile.job, &profile.skills, &profile.employment);
    let optional = analysis
        .matched
        .iter()
        .map(|m| &m.requirement)
        .chain(&analysis.missing)
        .filter(|r| r.weight < 1.0)
        .count();
    let resume = writer::write(Kind::Resume, &cx);
    let letter = writer::write(Kind::CoverLetter, &cx);
    // Deterministic: the same inputs give the same bytes.
    let again = writer::write(Kind::Resume, &cx);
    if again.content != resume.content || again.why != resume.why {
        return Err("aibench: two resumes from the same input differ".into());
    }

    eprintln!("aibench: warm-up ({warmup} calls of each kind)");
    for _ in 0..warmup {
        black_box(writer::write(Kind::Resume, black_box(&cx)));
        black_box(writer::write(Kind::CoverLetter, black_box(&cx)));
    }
    eprintln!("aibench: {iterations} sequential resumes");
    let resume_lat = time_calls(iterations, || {
        black_box(writer::write(Kind::Resume, black_box(&cx)));
    });
    eprintln!(
        "aibench: resume p50 {:.3} ms, p99 {:.3} ms",
        resume_lat.quantile_ms(0.5),
        resume_lat.quantile_ms(0.99)
    );
    eprintln!("aibench: {iterations} sequential cover letters");
    let letter_lat = time_calls(iterations, || {
        black_box(writer::write(Kind::CoverLetter, black_box(&cx)));
    });
    eprintln!("aibench: {iterations} job analyses alone");
    let analysis_lat = time_calls(iterations, || {
        black_box(analytics::analyze(
            black_box(&profile.job),
            black_box(&profile.skills),
            black_box(&profile.employment),
        ));
    });
    let mut runs = Vec::new();
    for &t in &threads {
        eprintln!("aibench: throughput, {t} thread(s) for {seconds} s");
        let r = throughput(&profile, t, Duration::from_secs_f64(seconds));
        eprintln!(
            "aibench: {t} thread(s): {:.0} resumes/s",
            r.generations as f64 / r.secs
        );
        runs.push(r);
    }

    let p99 = resume_lat.quantile_ms(0.99);
    let verdict = if p99 < target_ms { "PASS" } else { "MISS" };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    println!("### In-process generation (`aibench`)\n");
    println!(
        "`writer::write` called directly (no HTTP, no database), seed {seed}: {} skills ({known} \
         in the vocabulary, {} not; proficiency 1–5), {} employment entries ({words} words of \
         description), {} education entries; a job of {description_chars} characters asking \
         for {} skills ({} matched, {} missing, {optional} weighted as optional; match score \
         {}). The resume is {} bytes with {} reasons, the cover letter {} bytes. \
         {warmup} untimed calls of each kind first; {cores} cores available.\n",
        profile.skills.len(),
        profile.skills.len() - known,
        profile.employment.len(),
        profile.education.len(),
        analysis.matched.len() + analysis.missing.len(),
        analysis.matched.len(),
        analysis.missing.len(),
        analysis.score,
        resume.content.len(),
        resume.why.len(),
        letter.content.len(),
    );
    let asked: Vec<String> = analysis
        .matched
        .iter()
        .map(|m| format!("{} {}", m.requirement.skill, m.requirement.weight))
        .chain(
            analysis
                .missing
                .iter()
                .map(|r| format!("{} {} (missing)", r.skill, r.weight)),
        )
        .collect();
    println!("Requirements and weights: {}.\n", asked.join(", "));
    println!(
        "| sequential, {iterations} calls | p50 ms | p95 ms | p99 ms | max ms | mean ms | other processes (cores) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (what, l) in [
        ("`write(Kind::Resume)`", &resume_lat),
        ("`write(Kind::CoverLetter)`", &letter_lat),
        ("`analytics::analyze` alone (shared by both)", &analysis_lat),
    ] {
        println!(
            "| {what} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
            l.quantile_ms(0.5),
            l.quantile_ms(0.95),
            l.quantile_ms(0.99),
            l.max_ms(),
            l.mean_ms(),
            opt(l.other_cores, 2),
        );
    }
    println!();
    println!(
        "| resumes, {seconds} s per run | generations | resumes/s | per thread/s | p50 ms | p99 ms | max ms | process CPU s | resumes per CPU-second | other processes (cores) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let rate = r.generations as f64 / r.secs;
        println!(
            "| {} thread{} | {} | **{rate:.0}** | {:.0} | {:.3} | {:.3} | {:.3} | {} | {} | {} |",
            r.threads,
            if r.threads == 1 { "" } else { "s" },
            r.generations,
            rate / r.threads as f64,
            r.latency.quantile_ms(0.5),
            r.latency.quantile_ms(0.99),
            r.latency.max_ms(),
            opt(r.cpu_secs, 2),
            opt(
                r.cpu_secs
                    .filter(|&c| c > 0.0)
                    .map(|c| r.generations as f64 / c),
                0
            ),
            opt(r.other_cores, 2),
        );
    }
    println!();
    if let (Some(one), Some(two)) = (
        runs.iter().find(|r| r.threads == 1),
        runs.iter().find(|r| r.threads == 2),
    ) {
        let scale = (two.generations as f64 / two.secs) / (one.generations as f64 / one.secs);
        println!("Scaling 1 → 2 threads: ×{scale:.2}.\n");
    }
    println!(
        "Resume p99, sequential: **{p99:.3} ms** (target < {target_ms} ms; the seed's bar was \
         5 s): **{verdict}**.\n"
    );
    Ok(())
}
