//! Test databases and a runner for the `keikaku` binary.
//!
//! Every test that touches storage runs on SQLite and, when `KEIKAKU_TEST_PG_URL` is set, on
//! PostgreSQL too, each time in a database of its own:
//!
//! - `for db in databases().await { … }` runs the body once per backend;
//! - `async fn NAME(backend: Backend)` listed in [`on_every_backend!`] becomes the two tests
//!   `sqlite::NAME` and `postgres::NAME`, each getting its database from [`database`];
//! - [`sqlite_db`] is only for tests that store nothing (validate, synth) or that test SQLite
//!   itself.
//!
//! A PostgreSQL test database is a schema `kt_…` of its own. It is dropped when the [`TestDb`]
//! is dropped (also when the test panics), after ending every connection that still uses it,
//! so no test can leave a schema behind. When `KEIKAKU_TEST_PG_REQUIRED` is set (CI sets it),
//! a missing or unreachable PostgreSQL fails the tests instead of skipping its half.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use keikaku::storage::Backend;
use keikaku::storage::{DatabaseUrl, Store, scratch};

/// The bundled sample plan.
pub fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/shirakawa-r2-r4-goal7.txt")
}

/// A database for one test: a temporary SQLite file or a scratch PostgreSQL schema.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub label: &'static str,
    pub backend: Backend,
    /// Drops the PostgreSQL schema when the test database goes.
    _schema: Option<Schema>,
    /// Holds the SQLite file's folder (and a working folder for CLI runs) until the end.
    pub dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// The URL as the CLI's `--db` takes it.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Opens the store.
    pub async fn store(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.label))
    }

    /// Drops the PostgreSQL schema now. Dropping the `TestDb` does the same; this only
    /// says where.
    pub async fn cleanup(self) {
        drop(self);
    }
}

/// The base URL of the test server, or `None` when PostgreSQL is not configured (which
/// fails the test when `KEIKAKU_TEST_PG_REQUIRED` is set).
fn pg_base() -> Option<String> {
    pg_base_from(
        std::env::var("KEIKAKU_TEST_PG_URL").ok(),
        std::env::var_os("KEIKAKU_TEST_PG_REQUIRED").is_some_and(|v| !v.is_empty()),
    )
}

/// [`pg_base`] from the two variables' values.
pub fn pg_base_from(url: Option<String>, required: bool) -> Option<String> {
    match url {
        Some(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                !required,
                "KEIKAKU_TEST_PG_REQUIRED is set but KEIKAKU_TEST_PG_URL is not: \
                 the PostgreSQL half of the tests cannot run"
            );
            None
        }
    }
}

/// True when the tests run on PostgreSQL too.
pub fn postgres_configured() -> bool {
    pg_base().is_some()
}

/// A fresh SQLite database (the file does not exist until something opens it).
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    TestDb {
        url: DatabaseUrl::Sqlite(dir.path().join("test.db")),
        label: "sqlite",
        backend: Backend::Sqlite,
        _schema: None,
        dir,
    }
}

/// A fresh PostgreSQL schema, when PostgreSQL is configured.
pub async fn postgres_db() -> Option<TestDb> {
    let base = pg_base()?;
    let name = format!(
        "kt_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let url = scratch::create_schema(&base, &name)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot create a test schema in KEIKAKU_TEST_PG_URL's database: {e}")
        });
    // The schema owns the drop from here on, even if what follows panics.
    let schema = Schema { base, name };
    let DatabaseUrl::Postgres(url) = url else {
        panic!("a scratch schema URL is a PostgreSQL URL")
    };
    // Every connection to the schema carries its name, so that the drop can end them all.
    let url = DatabaseUrl::Postgres(format!("{url}&application_name={}", schema.name));
    Some(TestDb {
        url,
        label: "postgres",
        backend: Backend::Postgres,
        _schema: Some(schema),
        dir: tempfile::tempdir().expect("tempdir"),
    })
}

/// A fresh database on `backend` (PostgreSQL must be configured).
pub async fn database(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => sqlite_db(),
        Backend::Postgres => postgres_db()
            .await
            .expect("KEIKAKU_TEST_PG_URL is not set: no PostgreSQL test database"),
    }
}

/// A SQLite database, and a PostgreSQL one when `KEIKAKU_TEST_PG_URL` is set.
pub async fn databases() -> Vec<TestDb> {
    let mut out = vec![sqlite_db()];
    out.extend(postgres_db().await);
    out
}

/// A scratch schema, dropped with everything in it when this goes out of scope.
struct Schema {
    base: String,
    name: String,
}

impl Drop for Schema {
    /// `Drop` cannot await, and the test's own runtime may be the one blocked here: the
    /// schema is dropped on a thread of its own with a runtime of its own. Connections still
    /// open on the schema (a store the test kept, a transaction a panic interrupted, a
    /// child process) are ended first, so the drop never waits on their locks.
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(drop_schema(&base, &name))
        })
        .join();
        let problem = match done {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the thread dropping it panicked".to_owned(),
        };
        let message = format!("test schema {} was not dropped: {problem}", self.name);
        if std::thread::panicking() {
            eprintln!("{message}");
        } else {
            panic!("{message}");
        }
    }
}

/// Ends the connections that use schema `name` and drops it.
async fn drop_schema(base: &str, name: &str) -> Result<(), String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .map_err(|e| e.to_string())?;
    let ended = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .execute(&pool)
    .await;
    let dropped = match ended {
        Ok(_) => scratch::drop_schema(base, name)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    pool.close().await;
    dropped
}

/// Runs each listed `async fn NAME(backend: Backend)` of the calling module as two tests,
/// `sqlite::NAME` and `postgres::NAME` (which does nothing when PostgreSQL is not configured,
/// and fails when it is required but missing). A listed function that is not a test, or a
/// test function not listed, fails the build (unused function).
macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::integration::support::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if $crate::integration::support::postgres_configured() {
                        super::$name($crate::integration::support::Backend::Postgres).await;
                    }
                }
            )+
        }
    };
}
pub(crate) use on_every_backend;

/// A plain connection pool to the test database (for raw SQL that keikaku would not run).
pub async fn raw_pool(db: &TestDb, connections: u32) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(connections)
        .connect(&db.url_text().replace("sqlite://", "sqlite:"))
        .await
        .expect("connect")
}

/// Runs `keikaku ARGS` against `db` in the database's own working folder, in English.
pub fn keikaku(db: &TestDb, args: &[&str]) -> Output {
    keikaku_in(db.dir.path(), &db.url_text(), args)
}

/// Runs `keikaku ARGS` with `--db url` in `dir`.
pub fn keikaku_in(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keikaku"))
        .args(args)
        .current_dir(dir)
        .env("KEIKAKU_DATABASE_URL", url)
        .env("KEIKAKU_LANG", "en")
        .env_remove("KEIKAKU_CONFIG")
        .output()
        .expect("run keikaku")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Imports the sample plan as 白河市 through the CLI and checks that it succeeded.
pub fn import_seed(db: &TestDb) {
    let seed = seed_path();
    let out = keikaku(
        db,
        &[
            "import",
            seed.to_str().expect("utf-8 path"),
            "--municipality",
            "072052",
            "--municipality-name",
            "白河市",
        ],
    );
    assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
}

/// The whole database as canonical JSON, through the CLI.
pub fn export_json(db: &TestDb) -> String {
    let out = keikaku(db, &["export", "--format", "json", "--out", "-"]);
    assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
    stdout(&out)
}

/// The test support itself: what it promises about PostgreSQL.
mod tests {
    use super::*;

    /// Whether schema `name` exists on the server at `base`.
    async fn schema_exists(base: &str, name: &str) -> bool {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(base)
            .await
            .expect("connect");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1")
            .bind(name)
            .fetch_one(&pool)
            .await
            .expect("query");
        pool.close().await;
        count > 0
    }

    #[test]
    fn a_required_postgresql_that_is_not_configured_fails_instead_of_skipping() {
        assert_eq!(pg_base_from(None, false), None);
        assert_eq!(pg_base_from(Some(" ".into()), false), None);
        assert_eq!(
            pg_base_from(Some("postgres://h/db".into()), true).as_deref(),
            Some("postgres://h/db")
        );
        for unset in [None, Some(String::new())] {
            let result = std::panic::catch_unwind(|| pg_base_from(unset, true));
            assert!(result.is_err(), "a required PostgreSQL was skipped");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_test_database_leaves_no_schema_behind_even_when_the_test_fails() {
        let Some(base) = pg_base() else {
            return;
        };
        // Dropped at the end, with a store still open on it and a transaction holding a lock
        // that would make a plain DROP SCHEMA wait for ever.
        let db = postgres_db().await.expect("postgres");
        let name = db._schema.as_ref().expect("schema").name.clone();
        let store = db.store().await;
        let pool = raw_pool(&db, 1).await;
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("LOCK TABLE project IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .expect("lock");
        assert!(schema_exists(&base, &name).await);
        drop(db);
        assert!(!schema_exists(&base, &name).await, "{name} left behind");
        drop(tx);
        drop(store);

        // A test that panics drops its database while unwinding.
        let db = postgres_db().await.expect("postgres");
        let name = db._schema.as_ref().expect("schema").name.clone();
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _db = db;
            panic!("a failing test");
        }));
        assert!(failed.is_err());
        assert!(!schema_exists(&base, &name).await, "{name} left behind");
    }
}
