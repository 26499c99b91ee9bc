//! The background sampler: CPU, load and memory of the machine, and this process's CPU and
//! resident memory, read once a second so that `/api/health` never does that work itself.

use std::sync::{Arc, RwLock};
use std::time::Duration;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

pub const EVERY: Duration = Duration::from_secs(1);

/// One reading. Percentages are 0–100 (process CPU: of one core, so up to cores × 100).
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub cpu_percent: f64,
    pub load_average: [f64; 3],
    pub cores: usize,
    pub memory_used: u64,
    pub memory_total: u64,
    pub process_cpu_percent: f64,
    pub process_rss: u64,
    /// `false` until the first reading (CPU usage needs two).
    pub ready: bool,
}

#[derive(Default)]
pub struct Sampler {
    latest: RwLock<Sample>,
}

impl Sampler {
    /// Starts sampling on a blocking thread (the reads are file I/O); stops when dropped.
    pub fn start() -> Arc<Sampler> {
        let sampler = Arc::new(Sampler::default());
        // Memory is known at once; CPU usage needs two readings a moment apart.
        if let Ok(mut system) = System::new() {
            system.refresh_memory();
            let mut first = sampler.latest.write().expect("sampler lock");
            first.memory_used = system.used_memory();
            first.memory_total = system.total_memory();
            first.cores = system.cpus().len();
            first.load_average = System::load_average()
                .map(|l| [l.one, l.five, l.fifteen])
                .unwrap_or_default();
        }
        let weak = Arc::downgrade(&sampler);
        std::thread::Builder::new()
            .name("flowats-sampler".into())
            .spawn(move || {
                let mut system = match System::new() {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "no CPU and memory figures on this system");
                        return;
                    }
                };
                let pid = Pid::from_u32(std::process::id());
                let mut first = true;
                loop {
                    system.refresh_cpu_usage();
                    system.refresh_memory();
                    system.refresh_processes_specifics(
                        ProcessesToUpdate::Some(&[pid]),
                        true,
                        ProcessRefreshKind::nothing().with_cpu().with_memory(),
                    );
                    let load = System::load_average().unwrap_or_default();
                    let (process_cpu_percent, process_rss) = system
                        .process(pid)
                        .map_or((0.0, 0), |p| (f64::from(p.cpu_usage()), p.memory()));
                    let sample = Sample {
                        cpu_percent: f64::from(system.global_cpu_usage()),
                        load_average: [load.one, load.five, load.fifteen],
                        cores: system.cpus().len(),
                        memory_used: system.used_memory(),
                        memory_total: system.total_memory(),
                        process_cpu_percent,
                        process_rss,
                        ready: !first,
                    };
                    first = false;
                    let Some(sampler) = weak.upgrade() else {
                        return;
                    };
                    *sampler.latest.write().expect("sampler lock") = sample;
                    drop(sampler);
                    std::thread::sleep(EVERY);
                }
            })
            .expect("start the sampler thread");
        sampler
    }

    pub fn latest(&self) -> Sample {
        self.latest.read().expect("sampler lock").clone()
    }
}
