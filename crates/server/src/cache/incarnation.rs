//! Which life of Redis the shared tier is talking to.
//!
//! Generations are counters in Redis. A Redis that restarts empty counts them from 0 again,
//! and one restored from a snapshot goes back to the counts (and the entries) of the
//! snapshot; either way a key made after the restart can name an entry made before a write
//! that was acknowledged since. So every key also carries an *incarnation*: a random id
//! kept in Redis under [`MARKER_KEY`], written together with the Redis server's own
//! `run_id` (which changes whenever the server process starts).
//!
//! - Every new connection runs [`establish`] before any other command: it keeps the marker
//!   only when the marker names the running server process, and otherwise writes a fresh
//!   one. A restored snapshot brings back an older marker, whose `run_id` is another
//!   process's, so it is replaced; keys of the earlier life are never made again.
//! - Reads of generations and bumps also read the marker, in the same round trip. A marker
//!   that changed under a live connection (another instance replaced it, or the keyspace
//!   was flushed or evicted) makes this instance adopt it, or write a fresh one.

use redis::aio::MultiplexedConnection;
use std::sync::{Arc, LazyLock};

pub const MARKER_KEY: &str = "flowats:incarnation";

/// The incarnation of an in-process cache (no Redis): there is only one life.
pub fn in_process() -> Arc<str> {
    static ONE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("p"));
    ONE.clone()
}

/// Runs on a new connection before it serves anything: the incarnation to use on it.
pub async fn establish(conn: &mut MultiplexedConnection) -> redis::RedisResult<Arc<str>> {
    let info: Option<String> = match redis::cmd("INFO").arg("server").query_async(conn).await {
        Ok(info) => Some(info),
        // A server that refuses INFO (renamed, not permitted): its process is unknown,
        // so every new connection writes a fresh marker.
        Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => None,
        Err(e) => return Err(e),
    };
    let process = info.as_deref().and_then(run_id).unwrap_or_default();
    let marker: Option<String> = redis::cmd("GET").arg(MARKER_KEY).query_async(conn).await?;
    if let Some((id, of)) = marker.as_deref().and_then(split)
        && !process.is_empty()
        && of == process
    {
        return Ok(Arc::from(id));
    }
    let id = fresh();
    let () = redis::cmd("SET")
        .arg(MARKER_KEY)
        .arg(format!("{id}@{process}"))
        .query_async(conn)
        .await?;
    Ok(Arc::from(id))
}

/// After a marker changed under a live connection: the marker to adopt, written fresh
/// (without replacing another instance's) when there is none.
pub async fn adopt(
    conn: &mut MultiplexedConnection,
    seen: Option<String>,
) -> redis::RedisResult<Arc<str>> {
    if let Some((id, _)) = seen.as_deref().and_then(split) {
        return Ok(Arc::from(id));
    }
    let _: Option<String> = redis::cmd("SET")
        .arg(MARKER_KEY)
        .arg(format!("{}@", fresh()))
        .arg("NX")
        .query_async(conn)
        .await?;
    let marker: Option<String> = redis::cmd("GET").arg(MARKER_KEY).query_async(conn).await?;
    match marker.as_deref().and_then(split) {
        Some((id, _)) => Ok(Arc::from(id)),
        None => Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "the incarnation marker could not be read back",
        ))),
    }
}

/// Whether a marker read from Redis still names `incarnation`.
pub fn names(marker: Option<&str>, incarnation: &str) -> bool {
    marker
        .and_then(split)
        .is_some_and(|(id, _)| id == incarnation)
}

/// `id@run_id` → (`id`, `run_id`).
fn split(marker: &str) -> Option<(&str, &str)> {
    marker.split_once('@').filter(|(id, _)| !id.is_empty())
}

fn run_id(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .map(str::trim)
        .filter(|id| !id.is_empty())
}

fn fresh() -> String {
    format!(
        "{:016x}",
        getrandom::u64().expect("the system random source")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_id_is_read_from_info() {
        let info = "# Server\r\nredis_version:7.2.4\r\nrun_id:ab12cd\r\ntcp_port:6379\r\n";
        assert_eq!(run_id(info), Some("ab12cd"));
        assert_eq!(run_id("# Server\r\nrun_id:\r\n"), None);
        assert_eq!(run_id(""), None);
    }

    #[test]
    fn a_marker_names_only_its_own_id() {
        assert!(names(Some("0123@run"), "0123"));
        assert!(names(Some("0123@"), "0123"));
        assert!(!names(Some("0124@run"), "0123"));
        assert!(!names(Some("@run"), ""));
        assert!(!names(None, "0123"));
        assert_ne!(fresh(), fresh());
        assert_eq!(fresh().len(), 16);
    }
}
