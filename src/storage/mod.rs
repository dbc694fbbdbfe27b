//! The only place with SQL. A [`Store`] is an SQLite file (the default, embedded) or a
//! PostgreSQL database, chosen by the URL; both run the same SQL through sqlx's runtime
//! driver with `$1` placeholders, and each has its own migrations with the same numbers
//! (`migrations/sqlite`, `migrations/postgres`), applied when the store opens.
//!
//! Reads return domain types from `keikaku-core`; every write goes through a
//! [`write::WriteTx`] that records who wrote what in the audit log in the same transaction.

pub mod accounts;
pub mod audit;
pub mod check;
pub mod compare;
pub mod read;
pub mod workspace;
pub mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A database location as the user gives it: `sqlite://path/to/file.db`, `sqlite:file.db`, a
/// plain file path, or `postgres://user@host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file, created on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads a URL or path.
    pub fn parse(text: &str) -> Result<DatabaseUrl, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::BadUrl("the database URL is empty".into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        let path = path.split('?').next().unwrap_or(path);
        if path.contains("://") {
            return Err(StoreError::BadUrl(format!(
                "unsupported database URL {text:?}: use sqlite://FILE or postgres://…"
            )));
        }
        if path.is_empty() {
            return Err(StoreError::BadUrl(format!("no file in {text:?}")));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL with any password hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL cannot be used.
    #[error("{0}")]
    BadUrl(String),
    /// The SQLite file's folder cannot be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database cannot be reached or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("cannot update the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The edition is already stored and replacing was not asked for.
    #[error("{municipality} {edition} is already in the database; pass --replace to replace it")]
    EditionExists {
        /// Municipality code and name.
        municipality: String,
        /// Edition label, e.g. R2-R4.
        edition: String,
    },
    /// Another writer changed the same edition at the same time.
    #[error("{0} was changed by another import at the same moment; nothing was written, try again")]
    Conflict(String),
    /// The edition repeats something the database holds once (a year of a project's
    /// amounts, a project number…). Validation reports these first; this is the last guard.
    #[error("{0}; nothing was written")]
    Repeated(String),
    /// Nothing matches.
    #[error("{0}")]
    NotFound(String),
    /// Stored data that keikaku cannot read back (edited by hand?).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True when the underlying error is a broken or refused connection.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL: connection exceptions (08…), the server shutting down or the
            // connection terminated by an administrator (57P…), too many connections.
            StoreError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        }
    }
}

/// A plan database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: DatabaseUrl,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Pool size when the caller does not say; SQLite writes are serialised anyway.
const DEFAULT_POOL: u32 = 8;

/// How long a query waits for a free (or new) connection before failing as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Refreshes the query planner's statistics after a bulk write (PostgreSQL's `ANALYZE`;
    /// SQLite plans well from its indexes alone). Without it, queries right after a first
    /// large import may scan whole tables until autovacuum catches up.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Opens (creating an SQLite file and its folder if needed) and migrates the database.
    pub async fn open(url: &DatabaseUrl) -> Result<Store, StoreError> {
        Store::open_with(url, DEFAULT_POOL).await
    }

    /// [`Store::open`] with a chosen connection pool size.
    pub async fn open_with(url: &DatabaseUrl, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let connect_url = match url {
            DatabaseUrl::Sqlite(path) => {
                create_parent(path)?;
                format!("sqlite://{}?mode=rwc", path.display())
            }
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        let options = AnyConnectOptions::from_str(&connect_url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            // Batched inserts are long statements: report slowness at info level, not warn.
            .log_slow_statements(tracing::log::LevelFilter::Info, Duration::from_secs(2));
        let backend = url.backend();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            // A request that cannot get a connection within this time is answered 503 (when
            // the database is down, sooner rather than later).
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers see the last committed state while a write runs;
                        // NORMAL sync is safe against corruption and process crashes.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let store = Store {
            pool,
            backend,
            url: url.clone(),
        };
        let chained = store.chain_older_audit_entries().await?;
        if chained > 0 {
            tracing::info!(entries = chained, "chained the audit log's older entries");
        }
        let filled = store.backfill_year_totals().await?;
        if filled > 0 {
            tracing::info!(
                editions = filled,
                "computed the per-year totals of older editions"
            );
        }
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL this store was opened with (password hidden when displayed).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Closes every connection; pending work finishes first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Every table and its columns, sorted, excluding sqlx's own bookkeeping. Used to check
    /// that both dialects' migrations produce the same schema.
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        use sqlx::Row;
        let rows = match self.backend {
            Backend::Sqlite => {
                sqlx::query(
                    "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite%'",
                )
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query(
                    "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        let mut pairs: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("t")?, r.try_get::<String, _>("c")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        pairs.sort();
        for (table, column) in pairs {
            match tables.last_mut() {
                Some((t, columns)) if *t == table => columns.push(column),
                _ => tables.push((table, vec![column])),
            }
        }
        Ok(tables)
    }
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/k.db").unwrap(),
            DatabaseUrl::Sqlite("data/k.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:k.db").unwrap(),
            DatabaseUrl::Sqlite("k.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("k.db").unwrap(),
            DatabaseUrl::Sqlite("k.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/k.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite("/tmp/k.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://x/y").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn passwords_are_hidden() {
        let url = DatabaseUrl::parse("postgres://keikaku:s3cret@db.example/plans").unwrap();
        assert_eq!(url.to_string(), "postgres://keikaku:***@db.example/plans");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}

/// Throw-away PostgreSQL schemas, so that each test or benchmark run gets a database of its
/// own inside one server database.
pub mod scratch {
    use sqlx::any::AnyPoolOptions;

    use super::{DatabaseUrl, StoreError};

    /// Creates schema `name` in the database at `base_url` and returns a URL whose
    /// connections use it.
    pub async fn create_schema(base_url: &str, name: &str) -> Result<DatabaseUrl, StoreError> {
        check_name(name)?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(base_url)
            .await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&pool)
            .await?;
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        DatabaseUrl::parse(&format!(
            "{base_url}{separator}options=-c%20search_path%3D{name}"
        ))
    }

    /// Drops schema `name` and everything in it.
    pub async fn drop_schema(base_url: &str, name: &str) -> Result<(), StoreError> {
        check_name(name)?;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(base_url)
            .await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&pool)
            .await?;
        pool.close().await;
        Ok(())
    }

    /// Schema names are interpolated into SQL, so only lower-case letters, digits and `_`.
    fn check_name(name: &str) -> Result<(), StoreError> {
        let ok = !name.is_empty()
            && name.len() <= 60
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(StoreError::BadUrl(format!("bad schema name {name:?}")))
        }
    }
}
