//! PostgreSQL: the scale-out backend, one pool per instance (plus one for the read replica
//! when `DATABASE_READ_URL` is set), straight to the server or through a transaction-mode
//! pooler.

use crate::models::JobFields;
use crate::outage::Outage;
use crate::pool::{PoolMonitor, PoolStatus, Unit};
use crate::replica::{Replica, ReplicaStatus};
use crate::store::{BoxFut, Database, DbOptions, OpsStore, PoolMode};
use crate::{DbError, DbResult, Timestamp, sql};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Transaction};
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

pub struct PgStore {
    pool: PgPool,
    monitor: PoolMonitor,
    /// Behind a transaction-mode pooler: every unit is a transaction of unnamed statements.
    pooled: bool,
    /// How a transaction starts; behind a pooler it also sets the statement timeout, which
    /// the pooler does not let through as a startup option.
    begin: String,
    /// Migrations take a session advisory lock, which a transaction pooler cannot hold:
    /// they always run over a direct connection to `DATABASE_URL`.
    direct: PgConnectOptions,
    replica: Option<Arc<Replica>>,
    outage: Arc<Outage>,
}

/// A read's connection: pooled as it is, or (behind a pooler) inside a transaction, which
/// pins one server connection for the whole unit of work. Dropping it rolls back.
pub enum PgConn {
    Conn(PoolConnection<Postgres>),
    Tx(Transaction<'static, Postgres>),
}

impl Deref for PgConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            PgConn::Conn(c) => c,
            PgConn::Tx(t) => t,
        }
    }
}

impl DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            PgConn::Conn(c) => c,
            PgConn::Tx(t) => t,
        }
    }
}

impl PgStore {
    async fn read(&self, name: &'static str) -> Result<Unit<'_, PgConn>, sqlx::Error> {
        let unit = read_from(&self.pool, &self.monitor, self.pooled, &self.begin, name);
        self.outage.guard(unit).await
    }

    /// A read that may be served by the replica (see [`crate::replica`]).
    async fn read_replica(
        &self,
        name: &'static str,
        user: Uuid,
    ) -> Result<Unit<'_, PgConn>, sqlx::Error> {
        match &self.replica {
            Some(r) if r.serves(user) => {
                let unit = read_from(&r.pool, &r.monitor, self.pooled, &self.begin, name);
                // A replica that stopped answering since its last check must not hold the
                // request for the whole acquire timeout.
                match tokio::time::timeout(crate::replica::ACQUIRE_TIMEOUT, unit).await {
                    Ok(Ok(unit)) => Ok(unit),
                    // It went away since the last check: the primary answers, and the
                    // replica gets no more reads until a check finds it fit again.
                    // Busy: this read goes to the primary; the replica stays in use.
                    Err(_) => self.read(name).await,
                    Ok(Err(e)) => {
                        tracing::warn!(query = name, error = %e, "read replica failed: reading from the primary");
                        if is_connection_error(&e) {
                            r.mark_down(e.to_string());
                        }
                        self.read(name).await
                    }
                }
            }
            _ => self.read(name).await,
        }
    }

    async fn begin_write(
        &self,
        name: &'static str,
    ) -> Result<Unit<'_, Transaction<'static, Postgres>>, sqlx::Error> {
        let begin = async {
            if self.pooled {
                self.pool
                    .begin_with(AssertSqlSafe(self.begin.clone()))
                    .await
            } else {
                self.pool.begin().await
            }
        };
        self.outage
            .guard(self.monitor.enter(name, !self.pooled, begin))
            .await
    }

    fn replica_failed(&self, e: &sqlx::Error) {
        if let Some(r) = &self.replica {
            tracing::warn!(error = %e, "read replica failed mid-query: reading from the primary");
            if is_connection_error(e) {
                r.mark_down(e.to_string());
            }
        }
    }

    fn wrote(&self, user: Uuid) {
        if let Some(r) = &self.replica {
            r.note_write(user);
        }
    }

    /// `flowats seed`: one `COPY … FROM STDIN` (text format) for the jobs and one for their
    /// creation events, in one transaction: no per-row statement, bind or plan.
    async fn load_jobs(&self, user: Uuid, jobs: Vec<(JobFields, Timestamp)>) -> DbResult<()> {
        let mut rows = String::with_capacity(jobs.len() * 256);
        let mut events = String::with_capacity(jobs.len() * 128);
        for (f, at) in &jobs {
            let id = Uuid::now_v7();
            let (dedup_url, dedup_name) = crate::dedup::keys(f);
            copy_row(
                &mut rows,
                &[
                    Some(&id),
                    Some(&user),
                    Some(at),
                    Some(at),
                    Some(&f.title),
                    Some(&f.company),
                    f.location.as_ref().map(|v| v as _),
                    f.url.as_ref().map(|v| v as _),
                    f.description.as_ref().map(|v| v as _),
                    f.salary_min.as_ref().map(|v| v as _),
                    f.salary_max.as_ref().map(|v| v as _),
                    Some(&f.status.as_str()),
                    f.deadline.as_ref().map(|v| v as _),
                    f.notes.as_ref().map(|v| v as _),
                    f.source.as_ref().map(|v| v as _),
                    dedup_url.as_ref().map(|v| v as _),
                    Some(&dedup_name),
                ],
            );
            copy_row(
                &mut events,
                &[
                    Some(&Uuid::now_v7()),
                    Some(&user),
                    Some(&id),
                    None,
                    Some(&f.status.as_str()),
                    Some(at),
                ],
            );
        }
        let mut tx = self.begin_write("seed.insert_jobs").await?;
        for (statement, data) in [(sql::JOB_COPY, rows), (sql::EVENT_COPY, events)] {
            let mut copy = tx.copy_in_raw(statement).await?;
            copy.send(data.into_bytes()).await?;
            copy.finish().await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Appends one row in `COPY` text format: tab-separated, `\N` for NULL, and backslash,
/// tab, newline and carriage return escaped.
fn copy_row(out: &mut String, fields: &[Option<&dyn std::fmt::Display>]) {
    use std::fmt::Write;
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        let Some(value) = field else {
            out.push_str("\\N");
            continue;
        };
        let start = out.len();
        write!(out, "{value}").expect("writing to a String cannot fail");
        if out[start..].contains(['\\', '\t', '\n', '\r']) {
            let raw = out.split_off(start);
            for c in raw.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
    out.push('\n');
}

impl_stores!(
    PgStore,
    Postgres,
    job_lock = sql::JOB_LOCK_PG,
    item_lock = LOCK,
    unlink = sql::tracker::UNLINK_INTERVIEWER_PG,
    user_lock = sql::tracker::USER_LOCK_PG
);

async fn read_from<'m>(
    pool: &PgPool,
    monitor: &'m PoolMonitor,
    pooled: bool,
    begin: &str,
    name: &'static str,
) -> Result<Unit<'m, PgConn>, sqlx::Error> {
    let acquire = async {
        if pooled {
            Ok(PgConn::Tx(
                pool.begin_with(AssertSqlSafe(begin.to_owned())).await?,
            ))
        } else {
            Ok(PgConn::Conn(pool.acquire().await?))
        }
    };
    monitor.enter(name, !pooled, acquire).await
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl OpsStore for PgStore {
    fn ping(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move {
            let mut c = self.read("ops.ping").await?;
            sqlx::query_scalar::<Postgres, i32>(sql::PING)
                .persistent(c.persistent)
                .fetch_one(&mut *c)
                .await?;
            Ok(())
        })
    }

    fn migrate(&self) -> BoxFut<'_, DbResult<()>> {
        Box::pin(async move {
            let direct = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(self.direct.clone())
                .await?;
            let result = MIGRATOR.run(&direct).await;
            direct.close().await;
            result?;
            // Through the ordinary pool (any pool mode): plain updates, in batches.
            stores::backfill_dedup_keys(self).await?;
            Ok(())
        })
    }

    fn close(&self) -> BoxFut<'_, ()> {
        Box::pin(async move {
            if let Some(r) = &self.replica {
                r.pool.close().await;
            }
            self.pool.close().await
        })
    }

    fn pool_status(&self) -> Vec<PoolStatus> {
        let mut primary = self
            .monitor
            .status(self.pool.size(), self.pool.num_idle() as u32);
        if self.outage.is_down() {
            primary.reachable = false;
            primary.status = crate::pool::PoolHealth::Critical;
        }
        vec![primary]
    }

    fn replica_status(&self) -> Option<ReplicaStatus> {
        self.replica.as_ref().map(|r| r.status())
    }

    fn note_write(&self, user: Uuid) {
        self.wrote(user);
    }
}

/// Whether the error says the server (not the query) failed: then it is marked down.
fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// The seed's `getPooledConnectionString`: `DATABASE_POOLER_URL` when set, else the
/// database URL with PgBouncer's port 6543 in place of PostgreSQL's 5432 (added when the
/// URL names no port).
pub fn pooled_connection_string(database_url: &str, pooler_url: Option<&str>) -> String {
    if let Some(url) = pooler_url {
        return url.to_owned();
    }
    let Some((scheme, rest)) = database_url.split_once("://") else {
        return database_url.to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let host = match host.rsplit_once(':') {
        Some((h, "5432")) => format!("{h}:6543"),
        Some((h, port)) if !h.ends_with(']') || port.contains(']') => format!("{h}:{port}"),
        _ => format!("{host}:6543"),
    };
    format!("{scheme}://{userinfo}{host}{tail}")
}

fn parse(url: &str, what: &str) -> DbResult<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(|e| {
        DbError::Config(format!(
            "invalid {what} {:?}: {e}",
            crate::store::redact_url(url)
        ))
    })
}

/// The `-c name=value` settings of a libpq `options` string (spaces inside a value are
/// escaped with a backslash).
fn startup_settings(options: &str) -> DbResult<Vec<(String, String)>> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => token.extend(chars.next()),
            c if c.is_whitespace() => {
                if !token.is_empty() {
                    tokens.push(std::mem::take(&mut token));
                }
            }
            c => token.push(c),
        }
    }
    if !token.is_empty() {
        tokens.push(token);
    }
    let mut settings = Vec::new();
    let mut tokens = tokens.into_iter();
    while let Some(t) = tokens.next() {
        let setting = match t.as_str() {
            "-c" => tokens.next().unwrap_or_default(),
            _ => match t.strip_prefix("-c").or_else(|| t.strip_prefix("--")) {
                Some(rest) => rest.to_owned(),
                None => String::new(),
            },
        };
        let valid = |k: &str| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        };
        if setting.contains('\\') {
            return Err(DbError::Config(format!(
                "cannot apply the connection option {t:?} behind a pooler: backslashes are not supported"
            )));
        }
        match setting.split_once('=') {
            Some((k, v)) if valid(&k.replace('-', "_")) => {
                settings.push((k.replace('-', "_"), v.to_owned()))
            }
            _ => {
                return Err(DbError::Config(format!(
                    "cannot apply the connection option {t:?} behind a pooler: expected -c name=value"
                )));
            }
        }
    }
    Ok(settings)
}

/// The URL without the query parameter `name`.
fn without_query_param(url: &str, name: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| p.split('=').next() != Some(name))
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Connects lazily: the pool opens connections on first use, and a connection lost later
/// is replaced on the next acquire, so the server recovers by itself when the database
/// comes back. (`serve` still migrates first, so it only starts once the database answers.)
pub async fn connect(url: &str, options: &DbOptions) -> DbResult<Database> {
    let timeout_ms = options.statement_timeout.as_millis().to_string();
    let direct =
        parse(url, "PostgreSQL URL")?.options([("statement_timeout", timeout_ms.as_str())]);
    let pooled = options.pool_mode == PoolMode::PgBouncer;
    let session = |o: PgConnectOptions| {
        if pooled {
            // PgBouncer 1.18 refuses unknown startup parameters (extra_float_digits,
            // options), and a statement cache would name statements: neither is sent.
            o.statement_cache_capacity(0).extra_float_digits(None)
        } else {
            o.options([("statement_timeout", timeout_ms.as_str())])
        }
    };
    // Settings a URL passes as startup options (`options=-c search_path=app`): a pooler
    // does not forward them, so behind one they are set at the start of every transaction.
    let mut begin = format!(
        "BEGIN; SET LOCAL statement_timeout = {}",
        options.statement_timeout.as_millis()
    );
    let primary = if pooled {
        let pooler = pooled_connection_string(url, options.pooler_url.as_deref());
        let with_options = parse(&pooler, "DATABASE_POOLER_URL")?;
        for (key, value) in startup_settings(with_options.get_options().unwrap_or_default())? {
            // set_config parses the value as a startup option would (`search_path=a,b` is
            // two schemas, where `SET … = 'a,b'` would be one); `true`: this transaction only.
            begin.push_str(&format!(
                "; SELECT set_config('{key}', '{}', true)",
                value.replace('\'', "''")
            ));
        }
        parse(
            &without_query_param(&pooler, "options"),
            "DATABASE_POOLER_URL",
        )?
    } else {
        parse(url, "PostgreSQL URL")?
    };
    let pool_of = |o: PgConnectOptions| {
        PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .connect_lazy_with(o)
    };
    let max = options.max_connections.max(1);
    let replica = match &options.read_url {
        Some(read_url) => {
            let replica = session(parse(read_url, "DATABASE_READ_URL")?);
            Some((replica.clone(), pool_of(replica)))
        }
        None => None,
    };
    let primary = session(primary);
    let monitor = PoolMonitor::new("primary", max, options.slow_query);
    let waiting = monitor.waiting_counter();
    let succeeded = monitor.succeeded_counter();
    let outage = Outage::start(
        primary.clone(),
        move || waiting.load(std::sync::atomic::Ordering::Relaxed),
        move || succeeded.load(std::sync::atomic::Ordering::Relaxed),
    );
    let pool = pool_of(primary);
    let replica = replica.map(|(options_of_replica, replica_pool)| {
        Replica::start(
            replica_pool,
            options_of_replica,
            pool.clone(),
            PoolMonitor::new("replica", max, options.slow_query),
            options.read_max_lag,
        )
    });
    let store = PgStore {
        pool,
        monitor,
        outage,
        pooled,
        begin,
        direct,
        replica,
    };
    Ok(Database::from_backend("postgres", Arc::new(store)))
}

#[cfg(test)]
mod tests {
    use super::pooled_connection_string as pooled;

    #[test]
    fn startup_options_become_settings() {
        let got = super::startup_settings(
            "-c search_path=t_1 -cstatement_timeout=5s --work-mem=4MB -c application_name=a\\ b",
        )
        .unwrap();
        let want = [
            ("search_path", "t_1"),
            ("statement_timeout", "5s"),
            ("work_mem", "4MB"),
            ("application_name", "a b"),
        ];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
        assert!(super::startup_settings("-c bad;name=1").is_err());
        assert!(super::startup_settings("-c").is_err());
        assert_eq!(
            super::without_query_param(
                "postgres://h/db?options=-c%20x%3D1&sslmode=disable",
                "options"
            ),
            "postgres://h/db?sslmode=disable"
        );
        assert_eq!(
            super::without_query_param("postgres://h/db?options=x", "options"),
            "postgres://h/db"
        );
    }

    #[test]
    fn pooled_connection_strings_follow_the_seed() {
        assert_eq!(
            pooled("postgres://u:pw@db:5432/app?sslmode=disable", None),
            "postgres://u:pw@db:6543/app?sslmode=disable"
        );
        assert_eq!(pooled("postgres://db/app", None), "postgres://db:6543/app");
        assert_eq!(
            pooled("postgres://db:7000/app", None),
            "postgres://db:7000/app"
        );
        assert_eq!(
            pooled("postgres://db/app", Some("postgres://pooler:6432/app")),
            "postgres://pooler:6432/app"
        );
    }
}
