//! The `keikaku` command as a user runs it: exit codes, messages with places, reports whose
//! figures are checked against sums of the hand-read golden table, exports that round-trip.

use std::collections::BTreeMap;

use serde_json::Value;

use super::support::{
    Backend, TestDb, database, databases, export_json, import_seed, keikaku, keikaku_in,
    on_every_backend, seed_path, sqlite_db, stderr, stdout,
};
use crate::golden::{self, GoldenProject, PROJECTS};

fn seed_text() -> String {
    std::fs::read_to_string(seed_path()).expect("seed")
}

/// Writes `text` next to the test database and returns its path.
fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

/// A group's figures: projects, 事業費, 特定財源, 一般財源 (千円; `None`: no amount).
type Figures = (u64, Option<i64>, Option<i64>, Option<i64>);

/// The figures of the golden projects matching `keep`; the amounts are `None` when none of
/// those projects states a 事業費 (no amount, not 0).
fn golden_sum(keep: impl Fn(&GoldenProject) -> bool) -> Figures {
    let chosen: Vec<&GoldenProject> = PROJECTS.iter().filter(|p| keep(p)).collect();
    let stated = chosen.iter().any(|p| p.total.is_some());
    let sum = |pick: fn(&GoldenProject) -> Option<i64>| {
        stated.then(|| chosen.iter().map(|p| pick(p).unwrap_or(0)).sum())
    };
    (
        chosen.len() as u64,
        sum(|p| p.total),
        sum(|p| p.earmarked),
        sum(|p| p.general),
    )
}

fn report_json(db: &TestDb, by: &str) -> Value {
    let out = keikaku(db, &["report", "--by", by, "--format", "json"]);
    assert!(out.status.success(), "{}: {}", db.label, stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("report JSON")
}

/// The report's rows as key → (projects, cost, earmarked, general), checking the exact shape.
fn rows(report: &Value) -> BTreeMap<String, Figures> {
    let object = report.as_object().expect("object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["by", "edition", "rows", "total"],
        "exact top-level shape"
    );
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let keys: Vec<&str> = r
                .as_object()
                .expect("row")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["cost", "earmarked", "general", "key", "name", "projects"],
                "exact row shape"
            );
            (
                r["key"].as_str().expect("key").to_owned(),
                (
                    r["projects"].as_u64().expect("projects"),
                    r["cost"].as_i64(),
                    r["earmarked"].as_i64(),
                    r["general"].as_i64(),
                ),
            )
        })
        .collect()
}

fn total(report: &Value) -> Figures {
    let t = &report["total"];
    (
        t["projects"].as_u64().expect("n"),
        t["cost"].as_i64(),
        t["earmarked"].as_i64(),
        t["general"].as_i64(),
    )
}

#[tokio::test]
async fn validate_the_seed_reports_one_warning_and_succeeds() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed_path();
    let out = keikaku_in(
        dir.path(),
        "sqlite://unused.db",
        &["validate", seed.to_str().expect("path")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let warning = format!(
        "{}:{}: warning[ambiguous-amounts]:",
        seed.display(),
        golden::AMBIGUOUS_LINE
    );
    assert!(text.lines().any(|l| l.starts_with(&warning)), "{text}");
    assert!(text.contains("0 error(s), 1 warning(s)"), "{text}");
    assert!(
        !dir.path().join("unused.db").exists(),
        "validate must not create a database"
    );

    let out = keikaku_in(
        dir.path(),
        "sqlite://unused.db",
        &["validate", seed.to_str().expect("path"), "--format", "json"],
    );
    let json: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 1);
    assert_eq!(json["diagnostics"][0]["line"], golden::AMBIGUOUS_LINE);
    assert_eq!(json["diagnostics"][0]["code"], "ambiguous-amounts");
}

#[tokio::test]
async fn bad_documents_fail_with_the_place_and_the_problem() {
    let seed = seed_text();
    // validate stores nothing: no database is needed.
    let db = &sqlite_db();
    let lines: Vec<&str> = seed.split('\n').collect();
    let cut = lines[..29].join("\n") + "\n";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&seed);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "sum.txt",
            seed.replacen("16,731", "16,732", 1).into_bytes(),
            ":22:4: error[sum-mismatch]",
        ),
        (
            "nan.txt",
            seed.replacen("\t7,560\t", "\t7,5a0\t", 1).into_bytes(),
            ":25:4: error[not-a-number]",
        ),
        (
            "status.txt",
            seed.replacen("継続\tⅢ(4)\t企画政策課", "見直し\tⅢ(4)\t企画政策課", 1)
                .into_bytes(),
            ":22:8: error[unknown-status]",
        ),
        (
            "code.txt",
            seed.replacen("I(4) III(4)", "I(4) III(x)", 1).into_bytes(),
            ":52:9: error[bad-strategy-code]",
        ),
        (
            "dup.txt",
            seed.replacen("\n2\tまちづくり", "\n1\tまちづくり", 1)
                .into_bytes(),
            ":25:1: error[duplicate-number]",
        ),
        ("cut.txt", cut.into_bytes(), ":29: error[truncated]"),
        ("empty.txt", Vec::new(), "empty.txt: error[empty-file]"),
        (
            "prose.txt",
            "議事録\n本日の会議は…\n".as_bytes().to_vec(),
            "prose.txt: error[not-a-plan]",
        ),
        ("sjis.txt", sjis.into_owned(), ":3: error[encoding]"),
    ];
    for (name, bytes, expected) in cases {
        let path = write(db, name, &bytes);
        let out = keikaku(db, &["validate", &path]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        let text = stdout(&out);
        assert!(
            text.contains(expected),
            "{name}: expected {expected:?} in\n{text}"
        );
    }
    let sjis_path = db.dir.path().join("sjis.txt");
    let out = keikaku(db, &["validate", sjis_path.to_str().expect("path")]);
    assert!(stdout(&out).contains("--encoding sjis"), "{}", stdout(&out));
    let out = keikaku(
        db,
        &[
            "validate",
            sjis_path.to_str().expect("path"),
            "--encoding",
            "sjis",
        ],
    );
    assert!(out.status.success(), "{}", stdout(&out));
}

#[tokio::test]
async fn reports_match_the_hand_read_figures() {
    for db in databases().await {
        import_seed(&db);
        let by_policy = report_json(&db, "policy");
        assert_eq!(by_policy["edition"], "R2-R4");
        assert_eq!(by_policy["by"], "policy");
        let policy_rows = rows(&by_policy);
        assert_eq!(policy_rows.len(), 6);
        for policy in golden::POLICIES {
            assert_eq!(
                policy_rows[policy.code],
                golden_sum(|p| p.policy == policy.code),
                "{} {}",
                db.label,
                policy.code
            );
        }
        assert_eq!(total(&by_policy), golden_sum(|_| true));
        assert_eq!(by_policy["rows"][0]["name"], golden::POLICIES[0].title);

        let by_goal = report_json(&db, "goal");
        assert_eq!(rows(&by_goal)["7"], golden_sum(|_| true));
        assert_eq!(by_goal["rows"][0]["name"], golden::GOAL_TITLE);

        // A project with two departments counts under each; the total counts it once.
        let by_department = report_json(&db, "department");
        let department_rows = rows(&by_department);
        for name in ["企画政策課", "経営改革推進室", "財政課", "秘書広報課"] {
            assert_eq!(
                department_rows[name],
                golden_sum(|p| p.departments.contains(&name)),
                "{name}"
            );
        }
        assert_eq!(
            department_rows["財政課"],
            (4, None, None, None),
            "dash-only projects count and have no amount, which is not 0"
        );
        assert_eq!(total(&by_department), golden_sum(|_| true));

        let by_strategy = report_json(&db, "strategy");
        let strategy_rows = rows(&by_strategy);
        assert_eq!(
            strategy_rows["Ⅲ(4)"],
            golden_sum(|p| p.strategies.contains(&"Ⅲ(4)"))
        );
        assert_eq!(
            strategy_rows["Ⅰ(4)"],
            golden_sum(|p| p.strategies.contains(&"Ⅰ(4)"))
        );
        assert_eq!(
            strategy_rows["none"],
            golden_sum(|p| p.strategies.is_empty())
        );

        let by_status = report_json(&db, "status");
        let status_rows = rows(&by_status);
        assert_eq!(status_rows["新規"], golden_sum(|p| p.status == "新規"));
        assert_eq!(status_rows["継続"], golden_sum(|p| p.status == "継続"));

        let by_year = report_json(&db, "year");
        assert_eq!(rows(&by_year)["2020"], golden_sum(|_| true));

        let table = keikaku(&db, &["report", "--by", "department"]);
        let text = stdout(&table);
        assert!(text.contains("合計") && text.contains("184,787"), "{text}");
        assert!(
            text.contains("担当課が複数ある事業（1 件）"),
            "footer explains double counting:\n{text}"
        );

        let csv = keikaku(&db, &["report", "--by", "policy", "--format", "csv"]);
        let csv_text = stdout(&csv);
        assert!(csv_text.starts_with('\u{FEFF}'), "CSV starts with a BOM");
        assert!(
            csv_text.contains("7-1,市民との協働による地域づくり,10,85026,51429,33597"),
            "{csv_text}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn export_import_export_is_byte_identical() {
    for db in databases().await {
        import_seed(&db);
        let first = export_json(&db);
        let file = write(&db, "export.json", first.as_bytes());
        let fresh = database(db.backend).await;
        let out = keikaku(&fresh, &["import", &file]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(export_json(&fresh), first, "{}", db.label);
        fresh.cleanup().await;
        db.cleanup().await;
    }
}

async fn csv_export_is_open_data_that_excel_opens(backend: Backend) {
    let db = database(backend).await;
    import_seed(&db);
    let out = keikaku(&db, &["export", "--format", "csv", "--out", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let mut reader = csv::Reader::from_reader(&out.stdout[3..]);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "全国地方公共団体コード");
    assert_eq!(header[1], "地方公共団体名");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 33 * 3, "one row per project per fiscal year");
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (name, year, total, general) = (
        column("事業名"),
        column("年度"),
        column("事業費（千円）"),
        column("一般財源（千円）"),
    );
    let row = |project: &str, y: &str| {
        records
            .iter()
            .find(|r| &r[name] == project && &r[year] == y)
            .expect(project)
    };
    assert_eq!(&row("地域おこし協力隊活用事業", "2020")[total], "16759");
    assert_eq!(
        &row("集会所整備事業", "2020")[total],
        "",
        "'-' is empty, not 0"
    );
    assert_eq!(
        &row("ふるさと納税取扱事務", "2020")[general],
        "0",
        "a real zero stays 0"
    );
    assert_eq!(
        &row("地域おこし協力隊活用事業", "2021")[total],
        "",
        "no R3 amount is stated"
    );
    assert!(
        records
            .iter()
            .all(|r| &r[0] == "072052" && &r[1] == "白河市")
    );

    let dir_out = keikaku(&db, &["export", "--format", "csv", "--out", "out"]);
    let written = stdout(&dir_out).trim().to_owned();
    assert!(
        written.contains("keikaku-all-") && written.ends_with(".csv"),
        "{written}"
    );
    assert!(db.dir.path().join(&written).exists());
    db.cleanup().await;
}

#[tokio::test]
async fn an_import_with_errors_leaves_the_database_exactly_as_it_was() {
    let seed = seed_text();
    for db in databases().await {
        import_seed(&db);
        let before = export_json(&db);
        let broken = write(
            &db,
            "broken.txt",
            seed.replacen("16,731", "16,000", 1).as_bytes(),
        );
        let out = keikaku(
            &db,
            &[
                "import",
                &broken,
                "--municipality",
                "072052",
                "--municipality-name",
                "白河市",
                "--replace",
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("error[sum-mismatch]"),
            "{}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("nothing was stored"),
            "{}",
            stderr(&out)
        );
        assert_eq!(export_json(&db), before, "{}", db.label);

        let again = keikaku(
            &db,
            &[
                "import",
                seed_path().to_str().expect("path"),
                "--municipality",
                "072052",
                "--municipality-name",
                "白河市",
            ],
        );
        assert_eq!(again.status.code(), Some(1));
        assert!(
            stderr(&again).contains("already in the database; pass --replace"),
            "{}",
            stderr(&again)
        );
        assert_eq!(export_json(&db), before);

        let replaced = keikaku(
            &db,
            &[
                "import",
                seed_path().to_str().expect("path"),
                "--municipality",
                "072052",
                "--municipality-name",
                "白河市",
                "--replace",
            ],
        );
        assert!(replaced.status.success(), "{}", stderr(&replaced));
        assert!(
            stdout(&replaced).contains("replaced 072052 白河市 R2-R4"),
            "{}",
            stdout(&replaced)
        );
        db.cleanup().await;
    }
}

async fn import_needs_a_municipality_for_documents_that_do_not_name_one(backend: Backend) {
    let db = database(backend).await;
    let seed = seed_path();
    let out = keikaku(&db, &["import", seed.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--municipality"), "{}", stderr(&out));
    let out = keikaku(
        &db,
        &[
            "import",
            seed.to_str().expect("path"),
            "--municipality",
            "072051",
            "--municipality-name",
            "白河市",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("check digit"), "{}", stderr(&out));
}

#[tokio::test]
async fn projects_lists_a_policy_with_its_fields() {
    for db in databases().await {
        import_seed(&db);
        let out = keikaku(&db, &["projects", "--policy", "7-3", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let list: Value = serde_json::from_str(&stdout(&out)).expect("json");
        let list = list.as_array().expect("array");
        let expected: Vec<&GoldenProject> = PROJECTS.iter().filter(|p| p.policy == "7-3").collect();
        assert_eq!(list.len(), expected.len());
        for (item, golden) in list.iter().zip(expected) {
            assert_eq!(item["policy"], "7-3");
            assert_eq!(item["number"], golden.number);
            assert_eq!(item["name"], golden.name);
            assert_eq!(item["status"], golden.status);
            assert_eq!(item["departments"][0], golden.departments[0]);
            assert_eq!(item["costs"][0]["total"].as_i64(), golden.total);
        }
        let text = stdout(&keikaku(
            &db,
            &["projects", "--strategy", "III(4)", "--format", "table"],
        ));
        assert_eq!(
            text.matches("7-1-").count(),
            golden_sum(|p| p.strategies.contains(&"Ⅲ(4)")).0 as usize,
            "{text}"
        );
        let unknown = keikaku(&db, &["projects", "--policy", "9-9"]);
        assert_eq!(unknown.status.code(), Some(1));
        assert!(
            stderr(&unknown).contains("no policy 9-9"),
            "{}",
            stderr(&unknown)
        );
        db.cleanup().await;
    }
}

/// Starts `keikaku serve` on a free port and returns the child and its address.
fn start_server(db: &TestDb) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_keikaku"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(db.dir.path())
        .env("KEIKAKU_DATABASE_URL", db.url_text())
        .env("KEIKAKU_LANG", "en")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("server output").expect("line");
        if let Some(rest) = line.split("serving http://").nth(1) {
            break rest.split('/').next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    wait_until_loaded(&addr);
    (child, addr)
}

/// Polls `/healthz` until the server has loaded the plans (it answers 503 before).
fn wait_until_loaded(addr: &str) {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut response = String::new();
        if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            let _ = stream.read_to_string(&mut response);
        }
        if response.starts_with("HTTP/1.1 200") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not load: {response}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

async fn serve_loads_the_sample_and_finishes_requests_in_flight_on_sigterm(backend: Backend) {
    use std::io::{Read, Write};
    let db = database(backend).await;
    let (mut child, addr) = start_server(&db);
    // A request is under way (its headers not finished) when SIGTERM arrives.
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .write_all(b"GET /072052/r2-r4/policies/7-1 HTTP/1.1\r\nHost: test\r\n")
        .expect("write");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .expect("finish the request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "{}",
        response.lines().next().unwrap_or("")
    );
    assert!(
        response.contains("市民との協働による地域づくり"),
        "the sample plan was loaded and served"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn validate_never_creates_a_database() {
    for db in databases().await {
        import_seed(&db);
        let roll = keikaku(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
        assert!(roll.status.success(), "{}", stderr(&roll));
        let sheet = db.dir.path().join("r3-r5.xlsx");
        let sheet = sheet.to_str().expect("path");
        let template = keikaku(&db, &["template", "--edition", "R3-R5", "--out", sheet]);
        assert!(template.status.success(), "{}", stderr(&template));
        // Against the database that holds the edition, the sheet is checked.
        let checked = keikaku(&db, &["validate", sheet]);
        assert!(checked.status.success(), "{}", stdout(&checked));

        // Elsewhere no database exists: none is made, and the message says what is missing.
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let missing = elsewhere.path().join("keikaku.db");
        let url = format!("sqlite://{}", missing.display());
        let refused = keikaku_in(elsewhere.path(), &url, &["validate", sheet]);
        assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
        assert!(
            stderr(&refused).contains("there is no database at"),
            "{}",
            stderr(&refused)
        );
        let seed = seed_path();
        let text = keikaku_in(
            elsewhere.path(),
            &url,
            &["validate", seed.to_str().expect("path")],
        );
        assert!(text.status.success(), "{}", stdout(&text));
        assert_eq!(
            std::fs::read_dir(elsewhere.path()).expect("dir").count(),
            0,
            "validate created files"
        );
    }
}

on_every_backend!(
    csv_export_is_open_data_that_excel_opens,
    import_needs_a_municipality_for_documents_that_do_not_name_one,
    serve_loads_the_sample_and_finishes_requests_in_flight_on_sigterm,
);
