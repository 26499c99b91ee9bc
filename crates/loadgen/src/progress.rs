//! The progress line on stderr: one line, rewritten in place twice a second.

use crate::args::Phase;
use crate::flows::Ctx;
use crate::schedule::Clock;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_millis(500);

/// Prints until the returned handle is aborted; call [`finish`] after that.
pub fn start(ctx: Arc<Ctx>, clock: Arc<Clock>, phases: Vec<Phase>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let live = &ctx.rec.live;
        let mut last = (Instant::now(), 0u64);
        loop {
            tokio::time::sleep(EVERY).await;
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(clock.t0);
            let requests = live.requests.load(Relaxed);
            let rate = (requests - last.1) as f64 / (now - last.0).as_secs_f64().max(1e-3);
            last = (now, requests);
            let mut at = Duration::ZERO;
            let mut phase = String::from("draining");
            for (i, p) in phases.iter().enumerate() {
                at += p.duration;
                if elapsed < at {
                    phase = format!("phase {}/{} @{}/s", i + 1, phases.len(), p.rate);
                    break;
                }
            }
            let line = format!(
                "\r{:>7.1}s  {phase}  arrivals {}  requests {} ({rate:.0}/s)  ok {}  shed {}  errors {}  in flight {}   ",
                elapsed.as_secs_f64(),
                live.arrivals.load(Relaxed),
                requests,
                live.ok.load(Relaxed),
                live.shed.load(Relaxed),
                live.errors.load(Relaxed),
                clock.in_flight(),
            );
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line.as_bytes());
            let _ = err.flush();
        }
    })
}

/// Ends the progress line.
pub fn finish() {
    eprintln!();
}
