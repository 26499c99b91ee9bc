//! Every foreign key of every table is served by an index, so deleting a parent row (and
//! the cascade that follows) looks its children up instead of scanning their table. The
//! foreign keys are read from the schema itself, so a table added later is checked too.

use flowats_db::testing::TestDb;
use sqlx::{AssertSqlSafe, Connection};

/// (table, column) of every foreign key in the test database's schema.
async fn sqlite_foreign_keys(conn: &mut sqlx::SqliteConnection) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut keys = Vec::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT \"from\" FROM pragma_foreign_key_list(?1)")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        keys.extend(columns.into_iter().map(|c| (table.clone(), c)));
    }
    keys
}

#[tokio::test]
async fn sqlite_every_foreign_key_lookup_is_an_index_search() {
    let db = flowats_db::testing::sqlite().await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let keys = sqlite_foreign_keys(&mut conn).await;
    assert!(keys.len() >= 20, "the schema's foreign keys: {keys:?}");
    let mut scans = Vec::new();
    for (table, column) in &keys {
        // What SQLite runs for each child row lookup of a cascade (and the FK check).
        let plan = explain_sqlite(&mut conn, table, column).await;
        if !plan.iter().any(|d| d.starts_with("SEARCH"))
            || plan.iter().any(|d| d.starts_with("SCAN"))
        {
            scans.push(format!("{table}.{column}: {plan:?}"));
        }
    }
    assert!(
        scans.is_empty(),
        "foreign keys without an index:\n{}",
        scans.join("\n")
    );
    drop(db);
}

async fn explain_sqlite(
    conn: &mut sqlx::SqliteConnection,
    table: &str,
    column: &str,
) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN DELETE FROM {table} WHERE {column} = x'00'"
    )))
    .fetch_all(conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("detail"))
    .collect()
}

#[tokio::test]
async fn postgres_every_foreign_key_lookup_is_an_index_scan_on_that_column() {
    let Some(db) = flowats_db::testing::postgres().await else {
        return;
    };
    postgres_check(&db).await;
}

async fn postgres_check(db: &TestDb) {
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, a.attname::text FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(keys.len() >= 20, "the schema's foreign keys: {keys:?}");
    // Empty tables: without this the planner rightly prefers a sequential scan.
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut missing = Vec::new();
    for (table, column) in &keys {
        let plan: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "EXPLAIN DELETE FROM {table} WHERE {column} = '00000000-0000-0000-0000-000000000000'"
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        // An index scan on an index the column does not lead (the planner may read a whole
        // multi-column index when told to avoid sequential scans) does not count.
        let index = plan.iter().find_map(|line| {
            let (_, rest) = line
                .split_once("Bitmap Index Scan on ")
                .or_else(|| line.split_once("Index Scan using "))
                .or_else(|| line.split_once("Index Only Scan using "))?;
            rest.split_whitespace().next().map(str::to_owned)
        });
        let leads = match &index {
            Some(index) => {
                let first: Option<String> = sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                     WHERE i.indexrelid = $1::regclass",
                )
                .bind(index)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
                first.as_deref() == Some(column.as_str())
            }
            None => false,
        };
        if !leads {
            missing.push(format!("{table}.{column}: {plan:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "foreign keys without an index led by their column:\n{}",
        missing.join("\n")
    );
}
