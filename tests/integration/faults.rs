//! Nothing lost under faults: an import killed with SIGKILL at random moments, readers during
//! repeated replacements, and the server while PostgreSQL is unreachable.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use keikaku::ops::import::{self, ImportRequest};
use keikaku::storage::{DatabaseUrl, Store};
use keikaku_core::canonical;
use keikaku_core::import::Context;
use sqlx::Row;

use super::support::{database, databases, keikaku, postgres_db, seed_path, stderr};

/// A small pseudo-random sequence (xorshift), seeded from the clock and printed, so that a
/// failing run can be repeated.
struct Moments(u64);

impl Moments {
    fn new() -> Self {
        let seed = std::env::var("KEIKAKU_TEST_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        eprintln!("kill moments from KEIKAKU_TEST_KILL_SEED={seed}");
        Moments(seed)
    }

    /// A fraction in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The plans of each municipality in the synthetic folder, as canonical JSON.
fn plans_in(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        let parsed = import::validate("plan.json", &bytes, None, &Context::default());
        assert!(!parsed.report.has_errors(), "{}", path.display());
        let editions: Vec<_> = parsed.editions.into_iter().map(|e| e.edition).collect();
        let code = editions[0].municipality.code.to_string();
        out.push((code, canonical::to_json(&editions)));
    }
    out.sort();
    out
}

/// What the database holds, per municipality, as canonical JSON (without populations).
async fn stored(store: &Store) -> Vec<(String, String)> {
    let infos = store.editions().await.expect("editions");
    let codes: BTreeSet<String> = infos
        .iter()
        .map(|e| e.municipality.code.to_string())
        .collect();
    let mut out = Vec::new();
    for code in codes {
        let ids: Vec<i64> = infos
            .iter()
            .filter(|e| e.municipality.code.as_str() == code)
            .map(|e| e.id)
            .collect();
        let editions = store.editions_by_id(&ids).await.expect("editions");
        out.push((code, canonical::to_json(&editions)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_at_random_moments_leaves_only_whole_editions() {
    let mut moments = Moments::new();
    for db in databases().await {
        let dir = db.dir.path().join("plans");
        let out = keikaku(
            &db,
            &[
                "synth",
                "--municipalities",
                "120",
                "--editions",
                "2",
                "--seed",
                "3",
                "--out",
                dir.to_str().expect("path"),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let files = plans_in(&dir);
        // How long a whole import takes here, in a database of its own.
        let timing = database(db.backend).await;
        let started = Instant::now();
        let out = keikaku(&timing, &["import", dir.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let whole = started.elapsed();

        for round in 0..3 {
            // Past the checking pass, into the writing one, most of the time.
            let at = whole.mul_f64(0.3 + 0.65 * moments.next());
            let mut child = Command::new(env!("CARGO_BIN_EXE_keikaku"))
                .args(["import", "--replace", dir.to_str().expect("path")])
                .env("KEIKAKU_DATABASE_URL", db.url_text())
                .env("KEIKAKU_LANG", "en")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            std::thread::sleep(at);
            child.kill().expect("SIGKILL"); // SIGKILL on Unix
            child.wait().expect("wait");

            let store = db.store().await;
            let report = store.check().await.expect("check");
            assert_eq!(report.problems, [], "{} round {round} at {at:?}", db.label);
            let held = stored(&store).await;
            for (code, json) in &held {
                let file = files
                    .iter()
                    .find(|(c, _)| c == code)
                    .unwrap_or_else(|| panic!("{code} is not in the folder"));
                assert!(
                    &file.1 == json,
                    "{} round {round}: {code} is not exactly its file",
                    db.label
                );
            }
            // Each stored edition was recorded in the audit log by the same transaction.
            let audit = store.audit_log(i64::MAX).await.expect("audit");
            let editions = store.editions().await.expect("editions");
            for e in &editions {
                let subject = format!("{} {}", e.municipality.code, e.span.label());
                assert!(
                    audit
                        .iter()
                        .any(|row| row.subject == subject && row.action.ends_with("-edition")),
                    "{} round {round}: {subject} stored without its audit row",
                    db.label
                );
            }
            eprintln!(
                "{} round {round}: killed after {at:?} of {whole:?}; {} of {} municipalities stored",
                db.label,
                held.len(),
                files.len()
            );
            store.close().await;
        }
        // And the database takes the rest afterwards.
        let out = keikaku(&db, &["import", "--replace", dir.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let store = db.store().await;
        assert_eq!(stored(&store).await, files, "{}", db.label);
        assert_eq!(store.check().await.expect("check").problems, []);
        store.close().await;
        timing.cleanup().await;
        db.cleanup().await;
    }
}

/// The seed with 7-1-1's FY2020 total and 一般財源 raised by 1,000 千円, as canonical JSON.
async fn changed_seed(store: &Store) -> String {
    let id = store.editions().await.expect("editions")[0].id;
    let mut edition = store.edition(id).await.expect("edition");
    let project = &mut edition.goals[0].policies[0].projects[0];
    let cost = &mut project.costs[0];
    let raise = keikaku_core::Money::from_thousand_yen(1000);
    cost.total = cost.total.map(|t| t + raise);
    cost.general = cost.general.map(|g| g + raise);
    canonical::to_json(&[edition])
}

/// Projects and the sum of 事業費 of 白河市 in one statement.
async fn totals(pool: &sqlx::AnyPool) -> (i64, i64) {
    let row = sqlx::query(
        "SELECT COUNT(DISTINCT p.id) AS projects, CAST(COALESCE(SUM(c.total), 0) AS BIGINT) AS total \
         FROM edition e JOIN project p ON p.edition_id = e.id \
         LEFT JOIN project_cost c ON c.project_id = p.id \
         WHERE e.municipality_code = '072052'",
    )
    .fetch_one(pool)
    .await
    .expect("totals");
    (row.get("projects"), row.get("total"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_the_old_or_the_new_edition_never_a_mix() {
    let seed = std::fs::read(seed_path()).expect("seed");
    let context = || Context {
        municipality: Some(keikaku_core::Municipality {
            code: keikaku_core::MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    };
    let request =
        |name: &'static str, bytes: &'static [u8], replace: bool, context: Context| ImportRequest {
            name,
            bytes,
            layout: None,
            context,
            replace,
            actor: "test",
        };
    for db in databases().await {
        let store = db.store().await;
        let seed: &'static [u8] = Box::leak(seed.clone().into_boxed_slice());
        import::import(&store, request("seed.txt", seed, false, context()))
            .await
            .expect("import");
        let changed: &'static [u8] =
            Box::leak(changed_seed(&store).await.into_bytes().into_boxed_slice());
        let pool = super::support::raw_pool(&db, 2).await;
        let old = totals(&pool).await;
        let new = (old.0, old.1 + 1000);
        let done = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let reader = {
            let (done, reads) = (done.clone(), reads.clone());
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    seen.push(totals(&pool).await);
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                seen
            })
        };
        for i in 0..12 {
            let (name, bytes, ctx) = if i % 2 == 0 {
                ("changed.json", changed, Context::default())
            } else {
                ("seed.txt", seed, context())
            };
            let before = reads.load(Ordering::Relaxed);
            import::import(&store, request(name, bytes, true, ctx))
                .await
                .expect("replace");
            // However busy the machine, the reader reads between replacements too.
            let deadline = Instant::now() + Duration::from_secs(10);
            while reads.load(Ordering::Relaxed) < before + 2 {
                assert!(
                    Instant::now() < deadline,
                    "{}: the reader is stuck",
                    db.label
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        done.store(true, Ordering::Relaxed);
        let seen = reader.await.expect("reader");
        assert!(
            seen.len() > 12,
            "{}: the reader ran ({} reads)",
            db.label,
            seen.len()
        );
        let odd: Vec<_> = seen.iter().filter(|t| **t != old && **t != new).collect();
        assert!(
            odd.is_empty(),
            "{}: half-written states seen: {odd:?}",
            db.label
        );
        assert!(
            seen.contains(&new) && seen.contains(&old),
            "{}: both states were read",
            db.label
        );
        pool.close().await;
        store.close().await;
        db.cleanup().await;
    }
}

/// A TCP relay between keikaku and PostgreSQL that can be cut (every connection closed,
/// new ones refused) and mended, like a network or server failure.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    /// The local ports of the relay's connections to PostgreSQL (its `client_port`s).
    ports: Arc<std::sync::Mutex<Vec<u16>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, list, seen) = (up.clone(), connections.clone(), ports.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let seen = seen.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        if let Ok(local) = server.local_addr() {
                            seen.lock().expect("lock").push(local.port());
                        }
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                list.lock().expect("lock").push(task.abort_handle());
            }
        });
        Relay {
            addr,
            up,
            connections,
            ports,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.connections.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_503_while_postgresql_is_away_and_recovers_by_itself() {
    // Skipped without KEIKAKU_TEST_PG_URL; a failure when KEIKAKU_TEST_PG_REQUIRED is set.
    let Some(db) = postgres_db().await else {
        eprintln!("KEIKAKU_TEST_PG_URL is not set: the PostgreSQL outage test needs it");
        return;
    };
    let DatabaseUrl::Postgres(url) = &db.url else {
        unreachable!()
    };
    // postgres://user@HOST:PORT/db?…
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(rest))
        .expect("url");
    let target = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned();
    assert!(
        target.contains(':'),
        "the test URL names host:port ({target})"
    );
    let relay = Relay::start(target.clone()).await;
    let through = url.replacen(&target, &relay.addr.to_string(), 1);
    assert_ne!(&through, url, "the URL names {target}");
    let store = Store::open(&DatabaseUrl::parse(&through).expect("url"))
        .await
        .expect("open through the relay");
    let seed = std::fs::read(seed_path()).expect("seed");
    import::import(
        &store,
        ImportRequest {
            name: "seed.txt",
            bytes: &seed,
            layout: None,
            context: Context {
                municipality: Some(keikaku_core::Municipality {
                    code: keikaku_core::MunicipalityCode::parse("072052").expect("code"),
                    name: "白河市".into(),
                }),
                ..Context::default()
            },
            replace: false,
            actor: "test",
        },
    )
    .await
    .expect("import");
    let state = keikaku::web::AppState::load(store).await.expect("state");
    let app = keikaku::web::app(state);
    let get = |uri: &'static str| super::web::get(&app, uri);
    assert_eq!(get("/healthz").await.status, StatusCode::OK);
    let compare = "/api/v1/compare?municipalities=072052&year=2020";
    assert_eq!(get(compare).await.status, StatusCode::OK);

    relay.cut();
    // Published pages are served from memory.
    let page = get("/072052/r2-r4/policies/7-1").await;
    assert_eq!(page.status, StatusCode::OK);
    // What needs the database says so, quickly and clearly.
    let started = Instant::now();
    let health = get("/healthz").await;
    assert_eq!(
        health.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        health.text()
    );
    assert!(
        health.text().contains("database unavailable"),
        "{}",
        health.text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let api = get("/api/v1/compare?municipalities=072052&year=2021").await;
    assert_eq!(
        api.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        api.text()
    );
    assert_eq!(api.json()["error"]["code"], "unavailable");

    relay.mend();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if get("/healthz").await.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get(compare).await.status, StatusCode::OK);

    // The same when PostgreSQL itself ends the connections.
    let admin = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("admin");
    // Only the relay's connections: other tests share the server.
    let ports = relay.ports.lock().expect("lock").clone();
    assert!(!ports.is_empty());
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let ended: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE client_port IN ({list}) AND pid <> pg_backend_pid()) AS t"
    ))
    .fetch_one(&admin)
    .await
    .expect("terminate");
    assert!(ended > 0, "the server's connections were ended");
    admin.close().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if get(compare).await.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    db.cleanup().await;
}
