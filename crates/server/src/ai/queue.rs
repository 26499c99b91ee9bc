//! The generation queue: at most `AI_MAX_CONCURRENCY` generations run at once, at most
//! `AI_QUEUE_SIZE` wait for a turn, and past that a request is refused at once (503 with
//! `Retry-After`) instead of piling up.

use crate::error::ApiError;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use tokio::sync::Semaphore;

pub struct Queue {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    pub concurrency: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    pub running: usize,
    pub waiting: usize,
    pub max_concurrency: usize,
    pub max_waiting: usize,
}

impl Queue {
    pub fn new(concurrency: usize, max_waiting: usize) -> Queue {
        Queue {
            permits: Semaphore::new(concurrency),
            waiting: AtomicUsize::new(0),
            max_waiting,
            concurrency,
        }
    }

    /// Runs `work` when its turn comes, or refuses it when the queue is full.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T, ApiError> {
        let _permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, SeqCst);
                    let mut e = ApiError::unavailable(
                        "too many AI generations are queued; retry shortly",
                        2,
                    );
                    e.code = "ai_queue_full";
                    return Err(e);
                }
                let _waiting = Waiting(&self.waiting);
                self.permits
                    .acquire()
                    .await
                    .map_err(|_| ApiError::internal("the AI queue is closed"))?
            }
        };
        Ok(work.await)
    }

    pub fn status(&self) -> QueueStatus {
        QueueStatus {
            running: self.concurrency - self.permits.available_permits(),
            waiting: self.waiting.load(SeqCst),
            max_concurrency: self.concurrency,
            max_waiting: self.max_waiting,
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
    use std::sync::Arc;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn runs_up_to_the_limit_queues_the_next_and_refuses_past_the_queue() {
        let q = Arc::new(Queue::new(2, 1));
        let mut releases = Vec::new();
        let mut running = Vec::new();
        // Two run, one waits.
        for _ in 0..3 {
            let (tx, rx) = oneshot::channel::<()>();
            releases.push(tx);
            let q = q.clone();
            running.push(tokio::spawn(
                async move { q.run(async { rx.await.ok() }).await },
            ));
        }
        while q.status().waiting < 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!((q.status().running, q.status().waiting), (2, 1));
        // The fourth is refused at once.
        let refused = q.run(async {}).await.unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (503, "ai_queue_full")
        );
        assert_eq!(refused.retry_after, Some(2));
        // Releasing them lets everyone finish, the waiting one included.
        for tx in releases {
            let _ = tx.send(());
        }
        for r in running {
            assert!(r.await.unwrap().is_ok());
        }
        assert_eq!((q.status().running, q.status().waiting), (0, 0));
    }
}
