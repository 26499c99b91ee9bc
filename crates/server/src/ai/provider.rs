//! The engines that write AI documents: `local` (built in, offline, deterministic) and
//! `openai` (any OpenAI-compatible chat-completions endpoint, see [`super::openai`]).

use super::writer::{self, Context, Document, Kind};
use crate::config::AiProvider;
use crate::error::ApiError;
use std::sync::Arc;
use std::time::Duration;

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Names the engine in an artifact's fingerprint and metadata: another engine or
    /// model makes a new artifact instead of reusing one.
    fn id(&self) -> &str;

    /// Writes one document. Errors are already in the API's terms (502, 503, 504).
    async fn write(&self, kind: Kind, cx: &Context<'_>) -> Result<Document, ApiError>;
}

/// The built-in writer ([`writer`]).
pub struct Local;

#[async_trait::async_trait]
impl Provider for Local {
    fn id(&self) -> &str {
        "local/1"
    }

    async fn write(&self, kind: Kind, cx: &Context<'_>) -> Result<Document, ApiError> {
        Ok(writer::write(kind, cx))
    }
}

/// The provider `AI_PROVIDER` names; `timeout` is the whole budget of one generation.
pub fn from_config(config: &AiProvider, timeout: Duration) -> anyhow::Result<Arc<dyn Provider>> {
    Ok(match config {
        AiProvider::Local => Arc::new(Local),
        AiProvider::OpenAi(c) => Arc::new(super::openai::OpenAi::new(c, timeout)?),
    })
}
