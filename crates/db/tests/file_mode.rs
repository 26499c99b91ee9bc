//! The SQLite database holds password hashes: its file, and the `-wal` and `-shm` files
//! next to it, are readable by their owner only.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn sqlite_files_are_created_owner_only() {
    let db = flowats_db::testing::sqlite().await;
    db.users
        .create_user("a@example.com".into(), "A".into(), "$argon2id$fake".into())
        .await
        .expect("a write, so the WAL exists");
    let path = db
        .url
        .strip_prefix("sqlite://")
        .expect("file URL")
        .to_owned();
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
    }
}
