//! The open-model schedule: arrival `k` of a phase at `rate` per second is due `k / rate`
//! seconds after the phase starts, whatever the earlier arrivals are doing. A dedicated
//! thread sleeps until each due instant (`thread::sleep` is precise to tens of
//! microseconds, where tokio's timer rounds up to the next millisecond) and spawns the
//! arrival's flow on the runtime; the flow times its first request from that due instant.
//! When `--max-in-flight` flows are running, an arrival is counted as dropped instead.

use crate::args::Phase;
use crate::flows::Ctx;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// When the schedule starts, and what it shares with the progress line and Ctrl-C.
pub struct Clock {
    pub t0: Instant,
    pub permits: Arc<Semaphore>,
    pub max_in_flight: usize,
    /// Set on Ctrl-C: no further arrivals; the flows in flight finish.
    pub stop: Arc<AtomicBool>,
}

impl Clock {
    pub fn new(max_in_flight: usize) -> Clock {
        let max_in_flight = max_in_flight.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Clock {
            // A little ahead, so the first arrivals are not late already.
            t0: Instant::now() + Duration::from_millis(20),
            permits: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.permits.available_permits()
    }
}

/// Runs every phase's arrivals, then waits for the flows still running. Returns the time
/// from the schedule's start to the last flow's end.
pub async fn drive(ctx: Arc<Ctx>, phases: Vec<Phase>, clock: &Clock) -> Duration {
    let runtime = tokio::runtime::Handle::current();
    let permits = clock.permits.clone();
    let stop = clock.stop.clone();
    let t0 = clock.t0;
    let scheduler = {
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("loadtest-schedule".into())
            .spawn(move || {
                let mut start = t0;
                'phases: for (i, phase) in phases.iter().enumerate() {
                    let gap = 1.0 / phase.rate;
                    for k in 0..phase.arrivals() {
                        if stop.load(Ordering::Relaxed) {
                            break 'phases;
                        }
                        let at = start + Duration::from_secs_f64(k as f64 * gap);
                        let now = Instant::now();
                        if at > now {
                            std::thread::sleep(at - now);
                        }
                        let lag = Instant::now().saturating_duration_since(at);
                        match permits.clone().try_acquire_owned() {
                            Ok(permit) => {
                                ctx.rec.arrival(i, lag, false);
                                let ctx = ctx.clone();
                                runtime.spawn(async move {
                                    ctx.run(i, at).await;
                                    drop(permit);
                                });
                            }
                            Err(_) => ctx.rec.arrival(i, lag, true),
                        }
                    }
                    start += phase.duration;
                }
                // The last phase lasts its full duration even if its last arrival came earlier.
                while !stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if start <= now {
                        break;
                    }
                    std::thread::sleep((start - now).min(Duration::from_millis(100)));
                }
            })
            .expect("spawn the scheduler thread")
    };
    tokio::task::spawn_blocking(move || scheduler.join())
        .await
        .expect("join the scheduler")
        .expect("the scheduler thread panicked");
    let _all = clock
        .permits
        .acquire_many(clock.max_in_flight as u32)
        .await
        .expect("open semaphore");
    t0.elapsed()
}
