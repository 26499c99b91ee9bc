//! HTTP handlers, one module per resource.

pub mod auth;
pub mod docs;
pub mod health;
mod items;
pub mod jobs;
pub mod profile;

pub use items::{education, employment, skills};
