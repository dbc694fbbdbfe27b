//! Many municipalities: comparison figures checked against sums read from the documents,
//! backups that move a database between backends, folder imports, synthetic data, and the
//! database surviving crashes and concurrent writers.

use std::path::Path;

use keikaku::ops::compare::{Selection, compare};
use keikaku::storage::Store;
use keikaku_core::FiscalYear;
use keikaku_core::aggregate::GroupBy;
use serde_json::Value;

use super::support::{
    Backend, TestDb, database, databases, export_json, import_seed, keikaku, keikaku_in,
    on_every_backend, sqlite_db, stderr, stdout,
};
use crate::golden;

/// A small plan of 福島市 (072010), written by hand: 1-1 has a 新規 project linked to Ⅰ(1)
/// with amounts in FY2020 and FY2021 and a 継続 project without a strategy code with an
/// amount in FY2020 only; 2-1 has a 継続 project linked to Ⅱ(3) with `-` in FY2020.
const FUKUSHIMA: &str = r#"{
  "format": "keikaku-plan",
  "version": 1,
  "municipalities": [{
    "code": "072010",
    "name": "福島市",
    "population": {"count": 282693, "as_of": "2020-10-01"},
    "editions": [{
      "first_year": 2020, "last_year": 2022,
      "title": "福島市実施計画", "source": "fukushima.json",
      "goals": [
        {"number": 1, "title": "子どもが育つまち", "field": "子育て・教育分野", "policies": [
          {"code": "1-1", "title": "子育て支援", "vision": "", "projects": [
            {"id": "072010-r2-1-1-1", "number": 1, "name": "こども食堂支援事業", "summary": "",
             "status": "新規", "departments": ["こども政策課"],
             "strategies": [{"code": "Ⅰ(1)", "raw": "Ⅰ(1)"}],
             "costs": [{"year": 2020, "total": 1000, "earmarked": 400, "general": 600},
                       {"year": 2021, "total": 2000, "earmarked": 0, "general": 2000}]},
            {"id": "072010-r2-1-1-2", "number": 2, "name": "放課後児童クラブ運営事業", "summary": "",
             "status": "継続", "departments": ["こども政策課"], "strategies": [],
             "costs": [{"year": 2020, "total": 500, "earmarked": 500, "general": 0}]}
          ]}
        ]},
        {"number": 2, "title": "しごとのあるまち", "field": "産業分野", "policies": [
          {"code": "2-1", "title": "商工業の振興", "vision": "", "projects": [
            {"id": "072010-r2-2-1-1", "number": 1, "name": "中心市街地活性化事業", "summary": "",
             "status": "継続", "departments": ["商業労政課"],
             "strategies": [{"code": "Ⅱ(3)", "raw": "Ⅱ(3)"}],
             "costs": [{"year": 2020, "total": null, "earmarked": null, "general": null},
                       {"year": 2021, "total": 300, "earmarked": 100, "general": 200}]}
          ]}
        ]}
      ]
    }]
  }]
}"#;

/// Shirakawa's population in the 2020 census, as the issue gives it.
const SHIRAKAWA_PEOPLE: u64 = 59_491;

/// The seed's FY2020 sums, added up from the hand-written golden rows.
fn shirakawa_fy2020() -> (i64, i64, i64) {
    golden::PROJECTS.iter().fold((0, 0, 0), |(t, e, g), p| {
        (
            t + p.total.unwrap_or(0),
            e + p.earmarked.unwrap_or(0),
            g + p.general.unwrap_or(0),
        )
    })
}

/// Yen per inhabitant of an amount in 千円, rounded to the nearest yen.
fn per_capita(thousand_yen: i64, people: u64) -> i64 {
    (thousand_yen as f64 * 1000.0 / people as f64).round() as i64
}

/// Two municipalities: the seed as 白河市 with its population, and 福島市 from [`FUKUSHIMA`].
fn two_cities(db: &TestDb) {
    import_seed(db);
    let set = keikaku(
        db,
        &[
            "municipality",
            "set",
            "072052",
            "--population",
            "59491",
            "--as-of",
            "2020-10-01",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let file = db.dir.path().join("fukushima.json");
    std::fs::write(&file, FUKUSHIMA).expect("write");
    let out = keikaku(db, &["import", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
}

fn group<'a>(municipality: &'a Value, key: &str) -> &'a Value {
    municipality["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"] == key))
        .unwrap_or_else(|| panic!("no group {key} in {municipality}"))
}

#[tokio::test]
async fn comparison_figures_are_the_sums_of_the_documents() {
    let (seed_total, seed_earmarked, seed_general) = shirakawa_fy2020();
    for db in databases().await {
        two_cities(&db);
        let out = keikaku(
            &db,
            &[
                "compare", "072052", "072010", "--by", "field", "--year", "2020", "--format",
                "json",
            ],
        );
        assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
        let cli: Value = serde_json::from_str(&stdout(&out)).expect("json");
        assert_eq!(cli["year"], 2020);
        let list = cli["municipalities"].as_array().expect("list");
        assert_eq!(list.len(), 2, "{}", db.label);
        let (fukushima, shirakawa) = (&list[0], &list[1]);
        assert_eq!(fukushima["code"], "072010");
        assert_eq!(fukushima["prefecture"], "福島県");
        assert_eq!(fukushima["edition"], "R2-R4");
        // 福島市 FY2020: 1,000 + 500 (and `-`), 特定 400 + 500, 一般 600 + 0.
        assert_eq!(
            (
                &fukushima["total"]["projects"],
                &fukushima["total"]["cost"],
                &fukushima["total"]["earmarked"],
                &fukushima["total"]["general"]
            ),
            (
                &Value::from(3),
                &Value::from(1500),
                &Value::from(900),
                &Value::from(600)
            ),
            "{}",
            db.label
        );
        assert_eq!(
            fukushima["total"]["cost_per_capita_yen"],
            per_capita(1500, 282_693)
        );
        let children = group(fukushima, "子育て・教育分野");
        assert_eq!(
            (&children["projects"], &children["cost"]),
            (&Value::from(2), &Value::from(1500))
        );
        // Its only project states `-` for FY2020: no amount, which is not 0.
        let industry = group(fukushima, "産業分野");
        assert_eq!(
            (
                &industry["projects"],
                &industry["cost"],
                &industry["cost_per_capita_yen"]
            ),
            (&Value::from(1), &Value::Null, &Value::Null)
        );
        assert_eq!(
            fukushima["population"],
            serde_json::json!({"count": 282693, "as_of": "2020-10-01"})
        );
        assert_eq!(shirakawa["code"], "072052");
        assert_eq!(shirakawa["total"]["projects"], 33);
        assert_eq!(shirakawa["total"]["cost"], seed_total, "{}", db.label);
        assert_eq!(shirakawa["total"]["earmarked"], seed_earmarked);
        assert_eq!(shirakawa["total"]["general"], seed_general);
        assert_eq!(
            shirakawa["total"]["cost_per_capita_yen"],
            per_capita(seed_total, SHIRAKAWA_PEOPLE)
        );
        let field = group(shirakawa, golden::GOAL_FIELD);
        assert_eq!(field["cost"], seed_total);

        // FY2021 by 区分: 福島市 新規 is 2,000; 継続 is 300 from two projects.
        let store = db.store().await;
        let selection = Selection {
            municipalities: vec!["福島市".into()],
            prefecture: None,
        };
        let by_status = compare(&store, &selection, GroupBy::Status, FiscalYear::new(2021))
            .await
            .expect("compare");
        let m = &by_status.municipalities[0];
        let figures: Vec<(&str, i64, i64, i64, i64)> = m
            .groups
            .iter()
            .map(|g| {
                (
                    g.key.as_str(),
                    g.projects,
                    g.total.thousand_yen(),
                    g.earmarked.thousand_yen(),
                    g.general.thousand_yen(),
                )
            })
            .collect();
        assert_eq!(
            figures,
            [("新規", 1, 2000, 0, 2000), ("継続", 2, 300, 100, 200)],
            "{}",
            db.label
        );
        // By strategy code, a project without one is under `none`.
        let by_strategy = compare(&store, &selection, GroupBy::Strategy, FiscalYear::new(2020))
            .await
            .expect("compare");
        let keys: Vec<(&str, Option<i64>)> = by_strategy.municipalities[0]
            .groups
            .iter()
            .map(|g| {
                (
                    g.key.as_str(),
                    g.amount(keikaku_core::aggregate::Sum::Cost)
                        .map(|m| m.thousand_yen()),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [("Ⅰ(1)", Some(1000)), ("none", Some(500)), ("Ⅱ(3)", None)],
            "{}",
            db.label
        );

        // The API gives the same document as the CLI.
        let state = keikaku::web::AppState::load(store).await.expect("state");
        let app = keikaku::web::app(state);
        let reply = super::web::get(
            &app,
            "/api/v1/compare?municipalities=072052,072010&by=field&year=2020",
        )
        .await;
        assert_eq!(reply.status, axum::http::StatusCode::OK);
        assert_eq!(reply.json(), cli, "{}", db.label);
        // Without a selection: every municipality, a page at a time.
        let all = super::web::get(&app, "/api/v1/compare?year=2020&per_page=1").await;
        assert_eq!(all.json()["municipalities"][0]["code"], "072010");
        assert_eq!(all.json()["next_page"], 2);
        let last = super::web::get(&app, "/api/v1/compare?year=2020&per_page=1&page=2").await;
        assert_eq!(last.json()["municipalities"][0]["code"], "072052");
        assert_eq!(last.json()["next_page"], Value::Null);
        let past = super::web::get(&app, "/api/v1/compare?per_page=1&page=3").await;
        assert_eq!(past.status, axum::http::StatusCode::NOT_FOUND);
        // The comparison page shows the figures and the population's date.
        let page = super::web::get(&app, "/compare?m=072052,072010&year=2020&metric=cost").await;
        assert_eq!(page.status, axum::http::StatusCode::OK);
        let html = page.text();
        assert!(html.contains("1,500"), "{html}");
        assert!(
            html.contains("2020-10-01") || html.contains("2020年10月1日"),
            "{html}"
        );
        db.cleanup().await;
    }
}

/// Every row the database gives for what a backup must keep: the plans with populations,
/// each edition's state, source and first-stored time, and the audit log.
async fn dump(store: &Store) -> (String, Vec<String>, Vec<keikaku_core::audit::AuditRecord>) {
    let editions = store.all_editions().await.expect("editions");
    let populations = store.populations().await.expect("populations");
    let plans = keikaku_core::canonical::to_json_with(&editions, &populations);
    let infos = store
        .editions()
        .await
        .expect("infos")
        .into_iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}",
                e.municipality.code, e.span, e.state, e.source, e.imported_at, e.projects
            )
        })
        .collect();
    let mut audit = store.audit_log(i64::MAX).await.expect("audit");
    audit.retain(|row| row.action != "restore");
    (plans, infos, audit)
}

/// Synthetic plans of `n` municipalities imported into `db` through the CLI.
fn synth_into(db: &TestDb, n: u32, editions: u32, seed: u64) -> std::path::PathBuf {
    let dir = db.dir.path().join(format!("synth-{n}-{seed}"));
    let out = keikaku(
        db,
        &[
            "synth",
            "--municipalities",
            &n.to_string(),
            "--editions",
            &editions.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            dir.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

#[tokio::test]
async fn a_backup_moves_a_database_between_backends_with_nothing_lost() {
    let mut dbs = databases().await;
    let source = dbs.remove(0);
    two_cities(&source);
    let roll = keikaku(
        &source,
        &[
            "roll",
            "--municipality",
            "072052",
            "--from",
            "R2-R4",
            "--to",
            "R3-R5",
        ],
    );
    assert!(roll.status.success(), "{}", stderr(&roll));
    let dir = synth_into(&source, 6, 2, 11);
    let out = keikaku(&source, &["import", dir.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = dump(&source.store().await).await;
    let before_export = export_json(&source);
    let zip = source.dir.path().join("backup.zip");
    let out = keikaku(&source, &["backup", "--out", zip.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A second backup to the same file needs --force.
    let again = keikaku(&source, &["backup", "--out", zip.to_str().expect("path")]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    // SQLite → (PostgreSQL when available) → a fresh SQLite file.
    let mut chain: Vec<TestDb> = dbs;
    chain.push(sqlite_db());
    let mut from = zip.clone();
    for (i, target) in chain.iter().enumerate() {
        let out = keikaku(target, &["restore", from.to_str().expect("path")]);
        assert!(out.status.success(), "{}: {}", target.label, stderr(&out));
        assert!(stdout(&out).contains("verified"), "{}", stdout(&out));
        let store = target.store().await;
        assert_eq!(
            dump(&store).await,
            before,
            "{} holds what the source held",
            target.label
        );
        assert_eq!(store.check().await.expect("check").problems, []);
        store.close().await;
        assert_eq!(export_json(target), before_export, "{}", target.label);
        let next = target.dir.path().join(format!("backup-{i}.zip"));
        let out = keikaku(target, &["backup", "--out", next.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
        from = next;
    }
    // A second restore into a database that holds plans is refused and changes nothing.
    let last = chain.last().expect("target");
    let out = keikaku(last, &["restore", zip.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("empty database"), "{}", stderr(&out));
    assert!(dump(&last.store().await).await == before);
    for db in chain {
        db.cleanup().await;
    }
}

/// Rewrites `zip` with `path`'s content changed by `change`, keeping the manifest.
fn tamper(zip: &Path, path: &str, change: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).expect("open")).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if name == path {
            change(&mut bytes);
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        out.write_all(&bytes).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

#[tokio::test]
async fn a_damaged_backup_restores_nothing_and_says_which_file() {
    // The backup's source does not matter here; the restores run on every backend.
    let source = sqlite_db();
    two_cities(&source);
    let zip = source.dir.path().join("backup.zip");
    let out = keikaku(&source, &["backup", "--out", zip.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed_amount = tamper(&zip, "plans/072010.json", |bytes| {
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        *bytes = text.replacen("1000", "1001", 1).into_bytes();
    });
    let truncated = std::fs::read(&zip).expect("read")[..200].to_vec();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "changed",
            changed_amount,
            "plans/072010.json: checksum mismatch",
        ),
        ("truncated", truncated, "not a readable zip"),
        ("empty", Vec::new(), "not a readable zip"),
    ];
    for (what, bytes, message) in cases {
        for target in databases().await {
            let file = target.dir.path().join(format!("{what}.zip"));
            std::fs::write(&file, &bytes).expect("write");
            let out = keikaku(&target, &["restore", file.to_str().expect("path")]);
            assert!(!out.status.success(), "{what}");
            assert!(stderr(&out).contains(message), "{what}: {}", stderr(&out));
            let store = target.store().await;
            assert_eq!(
                store.counts().await.expect("counts"),
                [0; 4],
                "{what} {}",
                target.label
            );
            store.close().await;
            target.cleanup().await;
        }
    }
}

#[tokio::test]
async fn synth_is_reproducible_from_its_seed() {
    // synth writes files only.
    let db = sqlite_db();
    let a = synth_into(&db, 5, 2, 42);
    let run = |dir: &Path, seed: &str| {
        keikaku_in(
            db.dir.path(),
            &db.url_text(),
            &[
                "synth",
                "--municipalities",
                "5",
                "--editions",
                "2",
                "--seed",
                seed,
                "--out",
                dir.to_str().expect("path"),
            ],
        )
    };
    let b = db.dir.path().join("again");
    assert!(run(&b, "42").status.success());
    let c = db.dir.path().join("other");
    assert!(run(&c, "43").status.success());
    let read = |dir: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| {
                let path = e.expect("entry").path();
                (
                    path.file_name()
                        .expect("name")
                        .to_string_lossy()
                        .into_owned(),
                    std::fs::read(&path).expect("read"),
                )
            })
            .collect();
        files.sort();
        files
    };
    let (a, b, c) = (read(&a), read(&b), read(&c));
    assert_eq!(a.len(), 5);
    assert_eq!(a, b, "the same seed writes the same files");
    assert_ne!(a, c, "another seed writes other plans");
    // Every file is a valid plan whose amounts add up.
    for (name, _) in &a {
        let out = keikaku(
            &db,
            &[
                "validate",
                db.dir
                    .path()
                    .join("synth-5-42")
                    .join(name)
                    .to_str()
                    .expect("path"),
            ],
        );
        assert!(out.status.success(), "{name}: {}", stdout(&out));
    }
}

#[tokio::test]
async fn a_folder_with_one_bad_file_stores_nothing() {
    for db in databases().await {
        let dir = synth_into(&db, 4, 1, 5);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        let bad = &names[2];
        let text = std::fs::read_to_string(bad).expect("read");
        // Break one project's 一般財源 so that the sum no longer holds.
        let broken = text.replacen("\"general\": ", "\"general\": 1", 1);
        assert_ne!(broken, text);
        std::fs::write(bad, broken).expect("write");
        let out = keikaku(&db, &["import", dir.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(1), "{}", db.label);
        let name = bad
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            stdout(&out).contains(&name) || stderr(&out).contains(&name),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let store = db.store().await;
        assert_eq!(
            store.counts().await.expect("counts"),
            [0; 4],
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn stored_totals_are_the_totals_of_the_projects() {
    for db in databases().await {
        let dir = synth_into(&db, 15, 2, 9);
        let out = keikaku(&db, &["import", dir.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let store = db.store().await;
        assert_eq!(
            store.check().await.expect("check").problems,
            [],
            "{}",
            db.label
        );
        for (year, by) in [2022, 2023, 2024, 2025]
            .into_iter()
            .flat_map(|y| [(y, GroupBy::Field), (y, GroupBy::Status)])
        {
            let year = FiscalYear::new(year).expect("year");
            let from_totals = keikaku::ops::compare::national(&store, None, by, Some(year))
                .await
                .expect("national");
            let raw = store
                .national_totals_from_projects(year, by)
                .await
                .expect("raw");
            let mut stored: Vec<(String, i64, i64, i64, i64, i64)> = from_totals
                .groups
                .iter()
                .map(|g| {
                    (
                        g.key.clone(),
                        g.projects,
                        g.priced,
                        g.total.thousand_yen(),
                        g.earmarked.thousand_yen(),
                        g.general.thousand_yen(),
                    )
                })
                .collect();
            let mut computed: Vec<(String, i64, i64, i64, i64, i64)> = raw
                .iter()
                .filter(|r| r.key != "all")
                .map(|r| {
                    (
                        r.key.clone(),
                        r.projects,
                        r.priced,
                        r.total,
                        r.earmarked,
                        r.general,
                    )
                })
                .collect();
            stored.sort();
            computed.sort();
            assert!(!stored.is_empty());
            assert_eq!(stored, computed, "{} FY{year} {by:?}", db.label);
        }
        store.close().await;
        db.cleanup().await;
    }
}

async fn the_portal_lists_municipalities_by_prefecture_and_searches_across_them(backend: Backend) {
    let db = database(backend).await;
    two_cities(&db);
    let dir = synth_into(&db, 4, 1, 21);
    let out = keikaku(&db, &["import", dir.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let state = keikaku::web::AppState::load(db.store().await)
        .await
        .expect("state");
    let app = keikaku::web::app(state);
    let get = |uri: &'static str| super::web::get(&app, uri);

    // Several municipalities: the root is the list, grouped by prefecture.
    let root = get("/").await;
    assert_eq!(root.status, axum::http::StatusCode::OK);
    let html = root.text();
    for name in ["白河市", "福島市", "福島県"] {
        assert!(html.contains(name), "{name}");
    }
    let by_name = get("/municipalities?q=%E7%99%BD%E6%B2%B3").await.text(); // 白河
    assert!(
        by_name.contains("白河市") && !by_name.contains("福島市</a>"),
        "{by_name}"
    );
    let by_code = get("/municipalities?q=072010").await.text();
    assert!(
        by_code.contains("福島市") && !by_code.contains("白河市</a>"),
        "{by_code}"
    );
    let fukushima_only = get("/municipalities?pref=7").await.text();
    assert!(fukushima_only.contains("白河市") && fukushima_only.contains("福島市"));
    let hokkaido = get("/municipalities?pref=1").await.text();
    assert!(!hokkaido.contains("白河市</a>"), "{hokkaido}");
    assert_eq!(
        get("/municipalities?pref=48").await.status,
        axum::http::StatusCode::BAD_REQUEST
    );

    // `serve --municipality 072052` opens straight at its plan.
    let single = keikaku::web::AppState::load(db.store().await)
        .await
        .expect("state")
        .with_default_municipality(Some("072052".into()));
    let single = keikaku::web::app(single);
    let reply = super::web::get(&single, "/").await;
    assert!(reply.status.is_redirection(), "{}", reply.status);

    // Search spans every municipality and narrows to one.
    let all = get("/search?q=%E7%A7%BB%E4%BD%8F").await; // 移住
    assert_eq!(all.status, axum::http::StatusCode::OK);
    let html = all.text();
    assert!(html.contains("白河市"), "the seed's 移住 projects");
    assert!(
        html.contains("/072052/r2-r4/projects/"),
        "links to the projects"
    );
    let narrowed = get("/search?q=%E7%A7%BB%E4%BD%8F&m=072010").await.text();
    assert!(!narrowed.contains("/072052/r2-r4/projects/"), "{narrowed}");
    let nothing = get("/search?q=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84%E8%AA%9E").await;
    assert_eq!(nothing.status, axum::http::StatusCode::OK);
}

#[tokio::test]
async fn populations_are_checked_and_listed_with_their_date() {
    for db in databases().await {
        import_seed(&db);
        let set = |args: &[&str]| {
            let mut all = vec!["municipality", "set"];
            all.extend_from_slice(args);
            keikaku(&db, &all)
        };
        for (args, message) in [
            (
                &["072052", "--population", "59491", "--as-of", "2020-13-01"][..],
                "--as-of",
            ),
            (
                &["072052", "--population", "59491", "--as-of", "令和2年"][..],
                "--as-of",
            ),
            (
                &["072053", "--population", "59491", "--as-of", "2020-10-01"][..],
                "072053",
            ),
            (
                &["072052", "--population", "0", "--as-of", "2020-10-01"][..],
                "population",
            ),
            (
                &["072052", "--population", "-5", "--as-of", "2020-10-01"][..],
                "-5",
            ),
        ] {
            let out = set(args);
            assert!(!out.status.success(), "{args:?}");
            assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        }
        let store = db.store().await;
        assert!(store.populations().await.expect("populations").is_empty());
        store.close().await;
        let out = set(&["072052", "--population", "59491", "--as-of", "2020-10-01"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let list = keikaku(&db, &["municipality", "list", "--json"]);
        let json: Value = serde_json::from_str(&stdout(&list)).expect("json");
        let text = json.to_string();
        assert!(
            text.contains("59491") && text.contains("2020-10-01"),
            "{text}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn totals_of_projects_without_amounts_are_no_amount_not_zero() {
    for db in databases().await {
        import_seed(&db);
        // R3–R5 rolled from the seed: the seed states amounts for FY2020 only, so no project
        // of R3–R5 states any 事業費 (publishing it needs --allow-incomplete).
        for args in [
            &["roll", "--from", "R2-R4", "--to", "R3-R5"][..],
            &["publish", "--edition", "R3-R5", "--allow-incomplete"][..],
        ] {
            let out = keikaku(&db, args);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let report = keikaku(
            &db,
            &[
                "report",
                "--by",
                "policy",
                "--edition",
                "R3-R5",
                "--format",
                "json",
            ],
        );
        assert!(report.status.success(), "{}", stderr(&report));
        let json: Value = serde_json::from_str(&stdout(&report)).expect("json");
        let text = json.to_string();
        assert!(text.contains("\"cost\":null"), "{text}");
        assert!(!text.contains("\"cost\":0"), "{text}");
        let table = keikaku(&db, &["report", "--by", "policy", "--edition", "R3-R5"]);
        assert!(!stdout(&table).contains(" 0 "), "{}", stdout(&table));

        let state = keikaku::web::AppState::load(db.store().await)
            .await
            .expect("state");
        let app = keikaku::web::app(state);
        let home = super::web::get(&app, "/072052/r3-r5").await.text();
        assert!(home.contains("-（計上なし）"), "{home}");
        assert!(!home.contains(">0千円"), "{home}");
        let api = super::web::get(
            &app,
            "/api/v1/municipalities/072052/editions/r3-r5/aggregates/policy",
        )
        .await;
        assert_eq!(api.json()["total"]["cost"], Value::Null, "{}", api.text());
        // Comparing FY2021, which only R3–R5 covers with 白河市's published editions.
        let compare =
            super::web::get(&app, "/api/v1/compare?municipalities=072052&year=2021").await;
        let m = &compare.json()["municipalities"][0];
        assert_eq!(m["edition"], "R3-R5");
        assert_eq!(m["total"]["projects"], 33);
        assert_eq!(m["total"]["cost"], Value::Null, "{}", compare.text());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_csv_of_everything_is_written_a_batch_at_a_time_with_the_same_bytes() {
    use keikaku::ops::export::{self, Format};
    for db in databases().await {
        two_cities(&db);
        let dir = synth_into(&db, 5, 2, 13);
        let out = keikaku(&db, &["import", dir.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let store = db.store().await;
        for format in [Format::Csv, Format::CsvSjis, Format::Json] {
            let whole = export::download(&store, None, format)
                .await
                .expect("download");
            for batch in [1, 3, 200] {
                let mut streamed = Vec::new();
                let done = export::stream_all(&store, format, batch, &mut streamed)
                    .await
                    .expect("stream");
                assert!(
                    streamed == whole.bytes,
                    "{} {format:?} batch {batch}",
                    db.label
                );
                assert_eq!(done.file_name, whole.file_name);
                assert_eq!(done.editions, 12);
            }
        }
        store.close().await;
        // The CLI writes it through a temporary file named after the data.
        let out = keikaku(&db, &["export", "--format", "csv", "--out", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let path = stdout(&out).trim().to_owned();
        assert!(path.contains("keikaku-all-"), "{path}");
        let files: Vec<_> = std::fs::read_dir(db.dir.path().join("csv"))
            .expect("dir")
            .collect();
        assert_eq!(files.len(), 1, "no temporary file left behind");
        db.cleanup().await;
    }
}

on_every_backend!(the_portal_lists_municipalities_by_prefecture_and_searches_across_them);
