//! The generation queue: at most `AI_MAX_CONCURRENCY` generations run at once, at most
//! `AI_QUEUE_SIZE` wait for a turn, and past that a request is refused at once (503 with
//! `Retry-After`) instead of piling up.

use crate::limit::{Limiter, Refusal};
use std::ops::Deref;

pub const QUEUE_FULL: Refusal = Refusal {
    code: "ai_queue_full",
    message: "too many AI generations are queued; retry shortly",
    retry_after: 2,
};

/// A [`Limiter`] with no wait deadline (`AI_TIMEOUT_MS` bounds the generation itself).
pub struct Queue(Limiter);

impl Queue {
    pub fn new(concurrency: usize, max_waiting: usize) -> Queue {
        Queue(Limiter::new(concurrency, max_waiting, None, QUEUE_FULL))
    }
}

impl Deref for Queue {
    type Target = Limiter;
    fn deref(&self) -> &Limiter {
        &self.0
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
