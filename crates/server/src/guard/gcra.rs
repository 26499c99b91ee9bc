//! GCRA (generic cell rate algorithm), in process: per key, the "theoretical arrival time"
//! of the next attempt. `per_minute` attempts refill evenly, with a burst of as many.
//! The shared form of the same rule is a Lua script in Redis (`crate::guard::budget`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Gcra<K> {
    /// Time one attempt costs (`60 s / per_minute`).
    period: Duration,
    /// `period × burst`: how far ahead of now the arrival time may run.
    window: Duration,
    started: Instant,
    /// Per key, the theoretical arrival time, as time since `started`.
    tat: Mutex<HashMap<K, Duration>>,
}

impl<K: Hash + Eq + Clone> Gcra<K> {
    /// `per_minute` must be at least 1.
    pub fn per_minute(per_minute: u32) -> Gcra<K> {
        let period = Duration::from_secs(60) / per_minute.max(1);
        Gcra {
            period,
            window: period * per_minute.max(1),
            started: Instant::now(),
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// Milliseconds an attempt costs and the burst, for the shared script.
    pub fn shape(&self) -> (u64, u64) {
        let period = self.period.as_millis().max(1) as u64;
        (period, self.window.as_millis() as u64 / period)
    }

    /// `Err(wait)` when an attempt now would go over the budget; with `take`, an allowed
    /// attempt is counted.
    pub fn check(&self, key: &K, take: bool) -> Result<(), Duration> {
        let now = self.started.elapsed();
        let mut table = self.tat.lock().expect("lock");
        let tat = table.get(key).copied().unwrap_or(now).max(now);
        let next = tat + self.period;
        if next > now + self.window {
            return Err(next - self.window - now);
        }
        if take {
            table.insert(key.clone(), next);
        }
        Ok(())
    }

    /// Forgets keys whose budget has fully refilled.
    pub fn sweep(&self) {
        let now = self.started.elapsed();
        let mut table = self.tat.lock().expect("lock");
        table.retain(|_, tat| *tat > now);
        table.shrink_to_fit();
    }

    pub fn tracked(&self) -> usize {
        self.tat.lock().expect("lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_attempt_per_period() {
        let g = Gcra::per_minute(3);
        assert_eq!(g.shape(), (20_000, 3));
        for _ in 0..3 {
            assert!(g.check(&1, false).is_ok());
            assert!(g.check(&1, true).is_ok());
        }
        let wait = g.check(&1, true).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        assert!(g.check(&2, true).is_ok());
        assert_eq!(g.tracked(), 2);
        g.sweep();
        assert_eq!(g.tracked(), 2, "neither has refilled yet");
    }
}
