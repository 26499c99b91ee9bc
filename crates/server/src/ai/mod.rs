//! The offline AI engine: what a job asks for, and how a profile answers it. Deterministic:
//! the same inputs give the same bytes.

pub mod analytics;
pub mod openai;
pub mod provider;
pub mod queue;
pub mod text;
pub mod vocabulary;
pub mod writer;

use crate::error::ApiError;
use flowats_db::models::{Artifact, Page};
use std::sync::Arc;

/// The profile items (skills, education, employment) a document or an analysis is made
/// from: more than anyone lists.
pub const PROFILE_ITEMS: Page = Page {
    limit: 1000,
    offset: 0,
};

/// The generation queue and the single-flight table: identical requests in flight share
/// one generation.
pub struct Generations {
    pub provider: Arc<dyn provider::Provider>,
    pub queue: queue::Queue,
    in_flight: moka::future::Cache<String, Artifact>,
}

impl Generations {
    pub fn new(
        provider: Arc<dyn provider::Provider>,
        concurrency: usize,
        queue_size: usize,
    ) -> Generations {
        Generations {
            provider,
            queue: queue::Queue::new(concurrency, queue_size),
            in_flight: moka::future::Cache::builder().max_capacity(10_000).build(),
        }
    }

    /// Runs `make` once for all concurrent callers with the same `key`.
    pub async fn once(
        &self,
        key: String,
        make: impl Future<Output = Result<Artifact, ApiError>>,
    ) -> Result<Artifact, ApiError> {
        let result = self
            .in_flight
            .try_get_with(key.clone(), make)
            .await
            .map_err(|e| (*e).clone());
        // Only while in flight: later requests look for the stored artifact instead.
        self.in_flight.invalidate(&key).await;
        result
    }
}
