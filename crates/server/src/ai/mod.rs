//! The offline AI engine: what a job asks for, and how a profile answers it. Deterministic:
//! the same inputs give the same bytes.

pub mod analytics;
pub mod text;
pub mod vocabulary;
