//! Test databases and a runner for the `keikaku` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use keikaku::storage::{DatabaseUrl, Store, scratch};

/// The bundled sample plan.
pub fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/shirakawa-r2-r4-goal7.txt")
}

/// A database for one test: a temporary SQLite file or a scratch PostgreSQL schema.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub label: &'static str,
    pg: Option<(String, String)>,
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

    /// Drops the PostgreSQL schema.
    pub async fn cleanup(self) {
        if let Some((base, schema)) = &self.pg {
            let _ = scratch::drop_schema(base, schema).await;
        }
    }
}

/// A SQLite database, and a PostgreSQL one when `KEIKAKU_TEST_PG_URL` is set.
pub async fn databases() -> Vec<TestDb> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    out.push(TestDb {
        url: DatabaseUrl::Sqlite(dir.path().join("test.db")),
        label: "sqlite",
        pg: None,
        dir,
    });
    if let Ok(base) = std::env::var("KEIKAKU_TEST_PG_URL")
        && !base.is_empty()
    {
        let schema = format!(
            "kt_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let url = scratch::create_schema(&base, &schema)
            .await
            .expect("create schema");
        out.push(TestDb {
            url,
            label: "postgres",
            pg: Some((base, schema)),
            dir: tempfile::tempdir().expect("tempdir"),
        });
    }
    out
}

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
