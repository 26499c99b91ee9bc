//! HTTP handlers, one module per resource.

pub mod admin;
pub mod ai;
pub mod analytics;
pub mod auth;
mod cached;
pub mod dashboard;
pub mod docs;
pub mod export;
pub mod health;
pub mod import;
mod items;
pub mod jobs;
pub mod metrics;
pub mod profile;
pub mod sessions;
pub mod tracker;

pub use cached::{CachedJson, cached, cached_for};
pub use items::{education, employment, skills};
