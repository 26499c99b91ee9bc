//! `flowats loadtest`: a load generator for the FlowATS API, far lighter than Artillery.
//!
//! Open model: each phase holds a constant arrival rate, every arrival starting at its
//! scheduled instant as its own task, whatever the earlier ones are doing. A flow's first
//! request is timed from that instant, so a stalled server cannot hide its stall by slowing
//! the generator down (no coordinated omission). HDR histograms per request name, errors by
//! status and by kind, shed answers (503/429 with Retry-After) apart, a summary table on
//! stdout, `--json`, and `--check` against a targets table.

pub mod args;
pub mod check;
mod client;
mod flows;
mod progress;
pub mod report;
mod rng;
mod schedule;
mod sessions;
pub mod stats;

pub use args::{Args, FlowKind, Phase};

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Everything a run produced: the per-phase records, their merge, and the report.
pub struct Outcome {
    pub phases: Vec<stats::Stats>,
    pub total: stats::Stats,
    pub report: report::Report,
}

/// Runs the load and returns its record; prints nothing but the progress line.
pub async fn execute(args: &Args) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        args.max_in_flight >= 1,
        "--max-in-flight must be at least 1"
    );
    anyhow::ensure!(
        args.flow != FlowKind::Sessions || args.users >= 1,
        "--users must be at least 1"
    );
    let phases = args.schedule();
    let show_progress = args.progress || std::io::stderr().is_terminal();
    let http = Arc::new(client::Http::new(
        &args.target_url,
        args.timeout,
        args.http2,
    )?);
    let started_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let sessions = match args.flow {
        FlowKind::Sessions => Some(sessions::setup(http.clone(), args.users, show_progress).await?),
        _ => None,
    };
    let setup_s = sessions.as_ref().map(|s| s.setup.as_secs_f64());
    let mut ctx = flows::Ctx::new(
        http,
        stats::Recorder::new(phases.len()),
        rng::Rng::new(args.seed),
        args.flow,
        &args.email,
        &args.password,
    );
    ctx.sessions = sessions;
    let ctx = Arc::new(ctx);
    let clock = Arc::new(schedule::Clock::new(args.max_in_flight));
    let progress =
        show_progress.then(|| progress::start(ctx.clone(), clock.clone(), phases.clone()));
    let interrupt = tokio::spawn(on_ctrl_c(clock.stop.clone()));
    let elapsed = schedule::drive(ctx.clone(), phases.clone(), &clock).await;
    interrupt.abort();
    if let Some(p) = progress {
        p.abort();
        progress::finish();
    }
    let interrupted = clock.stop.load(std::sync::atomic::Ordering::Relaxed);

    let per_phase = ctx.rec.snapshot();
    let mut total = stats::Stats::default();
    for p in &per_phase {
        total.merge(p);
    }
    let report = report::Report {
        flow: args.flow.as_str(),
        target_url: args.target_url.clone(),
        started_unix_ms,
        max_in_flight: clock.max_in_flight,
        interrupted,
        users: (args.flow == FlowKind::Sessions).then_some(args.users),
        setup_s,
        phases: phases
            .iter()
            .zip(&per_phase)
            .map(|(phase, s)| report::PhaseReport {
                phase: *phase,
                section: report::Section::of(s, phase.duration),
            })
            .collect(),
        total: report::Section::of(&total, elapsed.max(Duration::from_millis(1))),
        check: check::evaluate(&check::targets(&args.targets), &total),
    };
    Ok(Outcome {
        phases: per_phase,
        total,
        report,
    })
}

/// The first Ctrl-C stops the schedule (the flows in flight finish and the report covers
/// what ran); a second one ends the process.
async fn on_ctrl_c(stop: Arc<std::sync::atomic::AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "\ninterrupted: no more arrivals; waiting for the flows in flight (Ctrl-C again to quit)"
    );
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

/// `flowats loadtest`: runs, prints the summary, writes `--json`, and with `--check` fails
/// when a target is missed.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let outcome = execute(&args).await?;
    let report = &outcome.report;
    print!("{}", report.render());
    if let Some(path) = &args.json {
        let file = std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("--json {}: {e}", path.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), report)?;
        println!("\nwrote {}", path.display());
    }
    if args.check {
        print!("{}", report.render_check());
        let misses = report.misses();
        if !misses.is_empty() {
            let list: Vec<String> = misses
                .iter()
                .map(|v| {
                    format!(
                        "{} {} {} (measured {})",
                        v.name,
                        v.metric,
                        v.limit,
                        v.actual.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            anyhow::bail!(
                "loadtest --check: {} target(s) missed: {}",
                misses.len(),
                list.join("; ")
            );
        }
        println!("all targets met");
    }
    Ok(())
}
