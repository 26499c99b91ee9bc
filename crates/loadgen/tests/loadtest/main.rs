//! `flowats loadtest` against real servers: every flow against a real FlowATS server on
//! SQLite, and the coordinated-omission accounting against a tiny axum server that stalls.

mod cli;
mod flows;
mod helpers;
mod omission;
