//! Sessions that can end, and the stored first answers of idempotent requests: the traits,
//! their rows and their SQL. The implementation is `impl_session_stores!`
//! (`session_backend.rs`), instantiated for each backend like the other stores.

use crate::store::BoxFut;
use crate::{DbResult, Timestamp};
use uuid::Uuid;

/// One row per signed-in token. A token names its session (`sid`); the session is live
/// while its row exists.
pub trait SessionStore: Send + Sync {
    /// Records a session of `user` that ends at `expires_at` (the token's expiry).
    fn create_session(
        &self,
        user: Uuid,
        id: Uuid,
        expires_at: Timestamp,
    ) -> BoxFut<'_, DbResult<()>>;
    /// Whether the session exists: neither ended nor its account deleted. Reads the
    /// primary, never the replica (a replica could still show an ended session).
    fn session_live(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<bool>>;
    /// Ends one session (logout). Ending an ended session is not an error.
    fn end_session(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>>;
    /// Stores a new password hash and ends every session of the user but `keep`, in one
    /// transaction. Returns how many sessions it ended.
    fn change_password(
        &self,
        user: Uuid,
        keep: Uuid,
        password_hash: String,
    ) -> BoxFut<'_, DbResult<u64>>;
    /// Deletes the sessions that expired before `now` and the idempotency records created
    /// before `keys_before`; returns how many rows of each.
    fn purge(&self, now: Timestamp, keys_before: Timestamp) -> BoxFut<'_, DbResult<(u64, u64)>>;
}

/// The stored first answer of an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then `complete` or `release`.
    Claimed,
    /// The key already answered this same request: send that answer again.
    Replay(StoredAnswer),
    /// A request with this key is running now.
    InProgress,
    /// The key was used for another request (method, path or body differ).
    Mismatch,
}

pub trait IdempotencyStore: Send + Sync {
    /// Claims `(user, key)` for a request whose method, path and body hash to
    /// `fingerprint`. A record created before `expired_before` is forgotten first. A record
    /// still running since before `stale_before` is taken over (its request died).
    fn claim(
        &self,
        user: Uuid,
        key: String,
        fingerprint: String,
        expired_before: Timestamp,
        stale_before: Timestamp,
    ) -> BoxFut<'_, DbResult<Claim>>;
    /// Stores the answer of a claimed key.
    fn complete(&self, user: Uuid, key: String, answer: StoredAnswer) -> BoxFut<'_, DbResult<()>>;
    /// Gives a claimed key back (the request created nothing), so that it can be retried.
    fn release(&self, user: Uuid, key: String) -> BoxFut<'_, DbResult<()>>;
}

pub mod sql {
    pub const SESSION_INSERT: &str =
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    pub const SESSION_LIVE: &str = "SELECT COUNT(*) FROM sessions WHERE id = $1 AND user_id = $2";
    pub const SESSION_DELETE: &str = "DELETE FROM sessions WHERE id = $1 AND user_id = $2";
    pub const SESSION_DELETE_OTHERS: &str = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2";
    pub const SESSION_PURGE: &str = "DELETE FROM sessions WHERE expires_at < $1";
    pub const PASSWORD_SET: &str =
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1";

    pub const KEY_EXPIRE: &str =
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at < $3";
    pub const KEY_INSERT: &str = "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, key) DO NOTHING";
    pub const KEY_GET: &str = "SELECT fingerprint, status, content_type, body, created_at \
         FROM idempotency_keys WHERE user_id = $1 AND key = $2";
    /// Takes over a record whose request died: still running, and since before `$3`.
    pub const KEY_TAKE_OVER: &str = "UPDATE idempotency_keys SET created_at = $4 \
         WHERE user_id = $1 AND key = $2 AND status IS NULL AND created_at < $3";
    pub const KEY_COMPLETE: &str = "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 \
         WHERE user_id = $1 AND key = $2";
    pub const KEY_RELEASE: &str =
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL";
    pub const KEY_PURGE: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
}
