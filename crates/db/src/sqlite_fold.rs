//! A Unicode `lower()` for SQLite.
//!
//! SQLite's built-in `lower()` (and `LIKE`'s case folding) only know ASCII, so on SQLite a
//! search for `INGÉNIEUR` would not find "Ingénieur" while PostgreSQL, whose `lower()`
//! follows the database's Unicode locale, does. Every SQLite connection the stores open
//! replaces `lower()` with Rust's `str::to_lowercase`, so the text searches written once
//! for both dialects (`lower(title) LIKE lower($3)`) fold case the same way on both.
//! No index or constraint of the schema uses `lower()`, so nothing stored depends on the
//! built-in version.

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{c_char, c_int};

/// Registers the Unicode `lower()` on `conn` (an `after_connect` hook of the pools).
pub async fn register(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection held locked by `handle`; the function has no
    // user data and no destructor, and `lower` only reads its argument.
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"lower".as_ptr(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
            std::ptr::null_mut(),
            Some(lower),
            None,
            None,
            None,
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "SQLite refused the Unicode lower() function (code {rc})"
        )))
    }
}

/// `lower(x)`: NULL stays NULL; anything else is read as UTF-8 text and lowercased.
unsafe extern "C" fn lower(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes `argc` valid values in `argv`; the text pointer it returns
    // stays valid until the value is read again, and the result is copied (TRANSIENT).
    unsafe {
        if argc != 1 || ffi::sqlite3_value_type(*argv) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let value = *argv;
        let text = ffi::sqlite3_value_text(value);
        let len = ffi::sqlite3_value_bytes(value);
        if text.is_null() || len <= 0 {
            ffi::sqlite3_result_text(ctx, c"".as_ptr(), 0, ffi::SQLITE_TRANSIENT());
            return;
        }
        let bytes = std::slice::from_raw_parts(text, len as usize);
        let lowered = String::from_utf8_lossy(bytes).to_lowercase();
        ffi::sqlite3_result_text(
            ctx,
            lowered.as_ptr().cast::<c_char>(),
            lowered.len() as c_int,
            ffi::SQLITE_TRANSIENT(),
        );
    }
}
