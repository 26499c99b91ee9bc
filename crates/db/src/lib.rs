//! FlowATS storage: the store traits handlers use, the row and input models, and their
//! SQLite and PostgreSQL implementations.
//!
//! The SQL is written once ([`sql`]) in the dialect both backends accept (`$n` parameters,
//! `RETURNING`, `CAST`), and [`backend`] instantiates the same store code for each
//! backend. Only connection setup, migrations and error classification differ per backend.

#[macro_use]
mod tracker_backend;
#[macro_use]
mod session_backend;
#[macro_use]
mod backend;
pub mod dedup;
pub mod error;
pub mod models;
pub mod outage;
pub mod patch;
pub mod pool;
pub mod postgres;
pub mod replica;
pub mod sessions;
pub mod sql;
pub mod sqlite;
mod sqlite_fold;
pub mod store;
pub mod timestamp;
pub mod tracker;
pub mod validate;

pub use error::{DbError, DbResult};
pub use store::{Database, DbOptions, PoolMode};
pub use timestamp::Timestamp;
#[cfg(feature = "testing")]
pub mod testing;
