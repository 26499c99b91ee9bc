//! Memory of the in-process tier under its byte limit: fills a `LocalTier` of
//! `max_bytes = M` with 2×M of ~4 KB entries under distinct keys (each its own
//! allocation), applies moka's pending evictions periodically and at the end, then checks
//! the process's resident set (VmRSS) against 1.5×M + 64 MiB (the tier's budget with
//! room for allocator slack, plus the runtime and binary). Exits 1 on FAIL.
//!
//! `cachemem [--max-mib 64] [--max-keys 1000000] [--entry-bytes 4096] [--policy lru]
//!           [--tasks 2] [--pending-every 1000]`

use bytes::Bytes;
use flowats_bench::{Flags, MIB, rss_bytes};
use flowats_server::cache::local::{LocalTier, Policy};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(3600);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn run() -> Result<bool, String> {
    let flags = Flags::parse(
        "cachemem",
        &[
            "max-mib",
            "max-keys",
            "entry-bytes",
            "policy",
            "tasks",
            "pending-every",
        ],
    )?;
    let max_mib: u64 = flags.get("max-mib", 64)?;
    let max_keys: u64 = flags.get("max-keys", 1_000_000)?;
    let entry_bytes: usize = flags.get("entry-bytes", 4096)?;
    let tasks: u64 = flags.get("tasks", 2)?;
    let pending_every: u64 = flags.get("pending-every", 1000)?;
    let policy = match flags.text("policy").unwrap_or("lru") {
        "lru" => Policy::Lru,
        "tinylfu" => Policy::TinyLfu,
        other => return Err(format!("cachemem: unknown policy {other:?} (lru, tinylfu)")),
    };
    if tasks == 0 || entry_bytes == 0 || pending_every == 0 {
        return Err("cachemem: --tasks, --entry-bytes and --pending-every must be positive".into());
    }
    let max_bytes = max_mib * MIB;
    let total = 2 * max_bytes / entry_bytes as u64;
    let rss_start = rss_bytes().ok_or("cachemem: cannot read VmRSS from /proc/self/status")?;

    let tier = LocalTier::new(max_bytes, max_keys, policy);
    let started = Instant::now();
    // `tasks` writers on the multi-thread runtime, as request handlers would be: each
    // value is a fresh allocation (a shared `Bytes` would hide the memory).
    let mut handles = Vec::new();
    for t in 0..tasks {
        let tier = tier.clone();
        handles.push(tokio::spawn(async move {
            let mut i = t;
            let mut n = 0u64;
            while i < total {
                let mut v = vec![0u8; entry_bytes];
                v.fill((i as u8) | 1);
                tier.insert(format!("jobs:bench:{i:010}"), Bytes::from(v), TTL)
                    .await;
                n += 1;
                if n.is_multiple_of(pending_every) {
                    tier.run_pending_tasks().await;
                }
                i += tasks;
            }
        }));
    }
    for h in handles {
        h.await
            .map_err(|e| format!("cachemem: writer failed: {e}"))?;
    }
    tier.run_pending_tasks().await;
    tier.run_pending_tasks().await;
    let secs = started.elapsed().as_secs_f64();

    let stats = tier.stats();
    let rss = rss_bytes().ok_or("cachemem: cannot read VmRSS")?;
    let peak = status_kib("VmHWM:").map(|k| k * 1024).unwrap_or(0);
    let limit = max_bytes * 3 / 2 + 64 * MIB;
    let pass = rss <= limit;
    let mib = |b: u64| b as f64 / MIB as f64;

    println!(
        "### Memory: in-process tier at its byte limit ({})\n",
        policy.name()
    );
    println!(
        "max_bytes M = {max_mib} MiB, max_keys {max_keys}; inserted {total} entries of {entry_bytes} B \
         (2×M, distinct keys) from {tasks} tasks on the multi-thread runtime in {secs:.1} s, \
         run_pending_tasks every {pending_every} inserts per task and at the end.\n"
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| RSS before the tier | {:.1} MiB |", mib(rss_start));
    println!("| **RSS at the end (VmRSS)** | **{:.1} MiB** |", mib(rss));
    println!("| peak RSS (VmHWM) | {:.1} MiB |", mib(peak));
    println!("| limit 1.5×M + 64 MiB | {:.1} MiB |", mib(limit));
    println!(
        "| tier bytes (stats) | {:.1} MiB ({:.1}% of M) |",
        mib(stats.bytes),
        stats.bytes as f64 * 100.0 / max_bytes as f64
    );
    println!("| tier keys (stats) | {} |", stats.keys);
    println!("| size evictions | {} |", stats.evictions_size);
    println!(
        "| result | **{}** (RSS {:.0}% of the limit) |",
        if pass { "PASS" } else { "FAIL" },
        rss as f64 * 100.0 / limit as f64
    );
    println!();
    Ok(pass)
}
