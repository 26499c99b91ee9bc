//! Abuse limits (SPEC §4: 413, 429, 503): who the client is behind a proxy, how often an
//! address or an email may try to sign in, how much work may be in flight at once, which
//! browser origins may call the API, and the security headers of every response.
//! The header-read timeout lives in the serve loop (`crate::serve`), the request deadline
//! in `crate::router`; request bodies are read whole, within a deadline, in `body`.

pub mod body;
pub mod budget;
pub mod client_ip;
pub mod gcra;
pub mod headers;
pub mod rate;
pub mod request_id;
pub mod shed;

pub use client_ip::ClientIp;
pub use rate::AuthLimits;
pub use shed::InFlight;
