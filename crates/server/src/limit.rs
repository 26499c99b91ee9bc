//! A bounded admission gate for expensive work (AI generations, password hashing): at most
//! `concurrency` run at once, at most `max_waiting` wait for a turn, and a waiter gives up
//! after `max_wait`. Anything past that is refused at once with 503 and `Retry-After`,
//! instead of piling up.

use crate::error::ApiError;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How a refusal is answered: 503 with this code, message and `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    pub code: &'static str,
    pub message: &'static str,
    pub retry_after: u64,
}

pub struct Limiter {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    shed: AtomicU64,
    concurrency: usize,
    max_waiting: usize,
    max_wait: Option<Duration>,
    refusal: Refusal,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitStatus {
    pub running: usize,
    pub waiting: usize,
    pub max_concurrency: usize,
    pub max_waiting: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_ms: Option<u64>,
    /// Refused since start: the queue was full, or the wait ran past `max_wait`.
    pub shed: u64,
}

impl Limiter {
    pub fn new(
        concurrency: usize,
        max_waiting: usize,
        max_wait: Option<Duration>,
        refusal: Refusal,
    ) -> Limiter {
        Limiter {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            shed: AtomicU64::new(0),
            concurrency,
            max_waiting,
            max_wait,
            refusal,
        }
    }

    /// A turn to run, held until the permit is dropped (it can be moved into a blocking
    /// task, so work outlives a cancelled request without exceeding the limit).
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, SeqCst);
            return Err(self.refuse());
        }
        let _waiting = Waiting(&self.waiting);
        let turn = self.permits.clone().acquire_owned();
        let permit = match self.max_wait {
            None => turn.await,
            Some(d) => match tokio::time::timeout(d, turn).await {
                Ok(p) => p,
                Err(_) => return Err(self.refuse()),
            },
        };
        permit.map_err(|_| ApiError::internal("the limiter is closed"))
    }

    /// Runs `work` when its turn comes, or refuses it.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T, ApiError> {
        let _permit = self.admit().await?;
        Ok(work.await)
    }

    fn refuse(&self) -> ApiError {
        self.shed.fetch_add(1, SeqCst);
        let r = self.refusal;
        let mut e = ApiError::unavailable(r.message, r.retry_after);
        e.code = r.code;
        e
    }

    pub fn status(&self) -> LimitStatus {
        LimitStatus {
            running: self.concurrency - self.permits.available_permits(),
            waiting: self.waiting.load(SeqCst),
            max_concurrency: self.concurrency,
            max_waiting: self.max_waiting,
            max_wait_ms: self.max_wait.map(|d| d.as_millis() as u64),
            shed: self.shed.load(SeqCst),
        }
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSY: Refusal = Refusal {
        code: "busy",
        message: "busy",
        retry_after: 1,
    };

    async fn until(limiter: &Limiter, running: usize, waiting: usize) {
        while (limiter.status().running, limiter.status().waiting) != (running, waiting) {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn refuses_past_the_queue_and_gives_up_past_the_deadline() {
        let l = Arc::new(Limiter::new(1, 1, Some(Duration::from_millis(50)), BUSY));
        // The one turn is taken and held.
        let held = l.admit().await.unwrap();
        // One waits; the next is refused at once, while the turn is still held.
        let waiter = tokio::spawn({
            let l = l.clone();
            async move { l.run(async {}).await }
        });
        until(&l, 1, 1).await;
        let refused = l.admit().await.unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code, refused.retry_after),
            (503, "busy", Some(1))
        );
        // The turn is never released in time: the waiter gives up at its deadline.
        let gave_up = waiter.await.unwrap().unwrap_err();
        assert_eq!(gave_up.code, "busy");
        assert_eq!(l.status().shed, 2);
        // Releasing the turn lets the next one in at once.
        drop(held);
        until(&l, 0, 0).await;
        assert_eq!(l.run(async { 7 }).await.unwrap(), 7);
        let s = l.status();
        assert_eq!(
            (s.running, s.waiting, s.max_wait_ms, s.shed),
            (0, 0, Some(50), 2)
        );
    }

    #[tokio::test]
    async fn a_permit_moved_into_blocking_work_holds_the_turn_until_it_ends() {
        let l = Limiter::new(1, 0, None, BUSY);
        let permit = l.admit().await.unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let work = tokio::task::spawn_blocking(move || {
            let _turn = permit;
            rx.recv().ok()
        });
        // The caller is gone, the blocking work is not: still no room.
        assert_eq!(l.admit().await.unwrap_err().code, "busy");
        tx.send(()).unwrap();
        work.await.unwrap();
        assert!(l.admit().await.is_ok());
    }
}
