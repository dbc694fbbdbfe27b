//! The staff workspace at the command line: `keikaku user` (accounts), `keikaku audit` (the
//! audit log), the `cli:$USER` actor of command-line changes and `template --department`
//! (one department's sheet, imported without touching the other departments' projects).

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use keikaku::config::WorkspaceConfig;
use keikaku::ops::accounts;
use keikaku::storage::write::{Entry, Via};
use serde_json::{Value, json};

use crate::golden::{GoldenProject, PROJECTS};

use super::support::{
    Backend, TestDb, database, import_seed, keikaku, on_every_backend, stderr, stdout,
};

/// Runs `keikaku ARGS` against `db` as the machine user `tester`, in `lang`, with `input` on
/// standard input.
fn keikaku_with(db: &TestDb, args: &[&str], input: &str, lang: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keikaku"))
        .args(args)
        .current_dir(db.dir.path())
        .env("KEIKAKU_DATABASE_URL", db.url_text())
        .env("KEIKAKU_LANG", lang)
        .env("USER", "tester")
        .env_remove("KEIKAKU_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keikaku");
    // keikaku reads one line at most, or nothing when it refuses the arguments: the rest of
    // the input may find the pipe closed.
    if let Err(e) = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
    {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().expect("wait")
}

/// `keikaku user …` in English, the password on standard input.
fn user(db: &TestDb, args: &[&str], password: &str) -> Output {
    let mut all = vec!["user"];
    all.extend_from_slice(args);
    keikaku_with(db, &all, password, "en")
}

/// Asserts that `out` failed with status `code` and an error containing each of `parts`.
fn refused(out: &Output, code: i32, parts: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    for part in parts {
        assert!(
            stderr(out).contains(part),
            "{part:?} not in {}",
            stderr(out)
        );
    }
}

/// The accounts as `user list --format json` gives them.
fn listed(db: &TestDb) -> Vec<Value> {
    let out = user(db, &["list", "--format", "json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<Vec<Value>>(&stdout(&out)).expect("json")
}

async fn accounts_are_added_listed_disabled_and_given_new_passwords(backend: Backend) {
    let db = database(backend).await;
    import_seed(&db);
    let out = user(
        &db,
        &[
            "add",
            "kenko",
            "--role",
            "department",
            "--department",
            "企画政策課",
            "--department",
            "財政課",
            "--municipality",
            "072052",
            "--name",
            "企画 太郎",
            "--password-stdin",
        ],
        "first-password-1\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "added kenko (department, municipality 072052, departments 企画政策課, 財政課)"
    );
    let out = user(
        &db,
        &["add", "root", "--role", "admin", "--password-stdin"],
        "admin-password-1\r\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = user(
        &db,
        &[
            "add",
            "kikaku",
            "--role",
            "planning",
            "--municipality",
            "072052",
            "--password-stdin",
        ],
        "planning-password",
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let list = listed(&db);
    let without_times: Vec<Value> = list
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let object = a.as_object_mut().expect("object");
            for time in ["created_at", "password_changed_at"] {
                let at = object.remove(time).expect(time);
                assert!(at.as_str().is_some_and(|t| t.ends_with('Z')), "{at}");
            }
            a
        })
        .collect();
    assert_eq!(
        without_times,
        [
            json!({"login": "kenko", "name": "企画 太郎", "role": "department",
                   "municipality": "072052", "departments": ["企画政策課", "財政課"],
                   "disabled": false, "locked_until": null}),
            json!({"login": "kikaku", "name": "kikaku", "role": "planning",
                   "municipality": "072052", "departments": [],
                   "disabled": false, "locked_until": null}),
            json!({"login": "root", "name": "root", "role": "admin",
                   "municipality": null, "departments": [],
                   "disabled": false, "locked_until": null}),
        ]
    );
    let out = user(&db, &["list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    for cell in [
        "ログイン名",
        "ロック解除（JST）",
        "kenko",
        "企画 太郎",
        "企画政策課、財政課",
        "*",
    ] {
        assert!(table.contains(cell), "{cell} not in\n{table}");
    }

    let store = db.store().await;
    let config = WorkspaceConfig::default();
    let signed = accounts::sign_in(&store, &config, "test", "kenko", "first-password-1")
        .await
        .expect("sign in");
    assert!(
        signed.is_ok(),
        "the password read from stdin is the one set"
    );
    let signed = accounts::sign_in(&store, &config, "test", "root", "admin-password-1")
        .await
        .expect("sign in");
    assert!(signed.is_ok(), "CRLF is not part of the password");

    let out = user(&db, &["disable", "kenko"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(listed(&db)[0]["disabled"], true);
    let signed = accounts::sign_in(&store, &config, "test", "kenko", "first-password-1")
        .await
        .expect("sign in");
    assert_eq!(signed.err(), Some(accounts::SignInRefused::Wrong));
    let out = user(&db, &["enable", "kenko"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(listed(&db)[0]["disabled"], false);

    let out = user(
        &db,
        &["password", "kenko", "--password-stdin"],
        "second-password-2\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let signed = accounts::sign_in(&store, &config, "test", "kenko", "first-password-1")
        .await
        .expect("sign in");
    assert!(signed.is_err(), "the old password no longer signs in");
    let signed = accounts::sign_in(&store, &config, "test", "kenko", "second-password-2")
        .await
        .expect("sign in");
    assert!(signed.is_ok(), "the new password signs in");

    // Every change is on record as the machine's user; no password is.
    let entries = store
        .audit_entries(&keikaku::storage::audit::AuditFilter {
            actor: Some("cli:tester".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("add-account", "kenko"),
            ("add-account", "root"),
            ("add-account", "kikaku"),
            ("disable-account", "kenko"),
            ("enable-account", "kenko"),
            ("set-password", "kenko"),
        ]
    );
    for entry in &entries {
        let text = format!("{entry:?}");
        assert!(
            !text.contains("password-") && !text.contains("argon2"),
            "{text}"
        );
    }
    store.close().await;
}

async fn bad_account_requests_are_refused_clearly_and_change_nothing(backend: Backend) {
    let db = database(backend).await;
    import_seed(&db);
    let good = "a-good-password";
    let department = |extra: &[&'static str]| {
        let mut args = vec!["add", "department-user", "--role", "department"];
        args.extend_from_slice(extra);
        args.push("--password-stdin");
        args
    };
    // Password rules (src/auth.rs), in English and in Japanese.
    let short = department(&["--department", "財政課", "--municipality", "072052"]);
    refused(
        &user(&db, &short, "short\n"),
        1,
        &["at least 10 characters"],
    );
    let mut ja = vec!["user"];
    ja.extend_from_slice(&short);
    refused(
        &keikaku_with(&db, &ja, "short\n", "ja"),
        1,
        &["パスワードは10文字以上"],
    );
    refused(
        &user(&db, &short, "DEPARTMENT-USER\n"),
        1,
        &["may not be the login name"],
    );
    refused(
        &user(&db, &short, "aaaaaaaaaaaaaa\n"),
        1,
        &["one character repeated"],
    );
    refused(
        &user(&db, &short, "tab\there-is-a-tab\n"),
        1,
        &["control characters"],
    );
    refused(
        &user(&db, &short, ""),
        1,
        &["no password on standard input"],
    );
    refused(
        &user(&db, &short, &"x1".repeat(5_000)),
        1,
        &["longer than 1024 bytes"],
    );
    // Roles and their municipality and departments.
    refused(
        &user(&db, &department(&["--municipality", "072052"]), good),
        1,
        &["at least one --department"],
    );
    refused(
        &user(&db, &department(&["--department", "財政課"]), good),
        1,
        &["department account needs its municipality"],
    );
    refused(
        &user(
            &db,
            &["add", "someone", "--role", "planning", "--password-stdin"],
            good,
        ),
        1,
        &["planning account needs its municipality"],
    );
    refused(
        &user(
            &db,
            &department(&["--department", "健康福祉課", "--municipality", "072052"]),
            good,
        ),
        1,
        &[
            "no department \"健康福祉課\"",
            "its departments: ",
            "企画政策課",
            "財政課",
        ],
    );
    refused(
        &user(
            &db,
            &department(&["--department", "財政課", "--municipality", "072051"]),
            good,
        ),
        1,
        &["\"072051\" is not a municipality code"],
    );
    refused(
        &user(
            &db,
            &department(&["--department", "財政課", "--municipality", "011002"]),
            good,
        ),
        1,
        &["no municipality 011002"],
    );
    refused(
        &user(
            &db,
            &[
                "add",
                "someone",
                "--role",
                "viewer",
                "--department",
                "財政課",
                "--municipality",
                "072052",
                "--password-stdin",
            ],
            good,
        ),
        1,
        &["--department is for department accounts only"],
    );
    refused(
        &user(
            &db,
            &["add", "someone", "--role", "boss", "--password-stdin"],
            good,
        ),
        2,
        &[
            "invalid value 'boss'",
            "admin, planning, department, viewer",
        ],
    );
    refused(
        &user(&db, &["add", "someone", "--role", "admin"], good),
        2,
        &["--password-stdin"],
    );
    refused(
        &user(
            &db,
            &["add", "山田", "--role", "admin", "--password-stdin"],
            good,
        ),
        1,
        &["login \"山田\" is not allowed"],
    );
    assert!(listed(&db).is_empty(), "a refused request added an account");

    let admin = ["add", "root", "--role", "admin", "--password-stdin"];
    assert!(user(&db, &admin, good).status.success());
    refused(&user(&db, &admin, good), 1, &["already exists"]);
    refused(
        &user(&db, &["disable", "nobody"], ""),
        1,
        &["no account is named \"nobody\""],
    );
    refused(
        &user(&db, &["password", "nobody", "--password-stdin"], good),
        1,
        &["no account is named \"nobody\""],
    );
    refused(
        &user(&db, &["password", "root", "--password-stdin"], "short"),
        1,
        &["at least 10 characters"],
    );
    assert_eq!(listed(&db).len(), 1);
}

/// `keikaku audit ARGS` in English, successful, its standard output.
fn audit(db: &TestDb, args: &[&str]) -> Output {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    let out = keikaku_with(db, &all, "", "en");
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

fn audit_json(db: &TestDb, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&stdout(&audit(db, &all))).expect("json")
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect()
}

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

async fn the_audit_log_is_listed_filtered_and_written_as_json_and_csv(backend: Backend) {
    let db = database(backend).await;
    let seed = super::support::seed_path();
    let out = keikaku_with(
        &db,
        &[
            "import",
            seed.to_str().expect("path"),
            "--municipality",
            "072052",
            "--municipality-name",
            "白河市",
        ],
        "",
        "en",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = user(
        &db,
        &["add", "root", "--role", "admin", "--password-stdin"],
        "admin-password-1",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A change from the workspace: an uploaded file, one field, a comment; values holding
    // CSV's separators and what a spreadsheet would run as a formula.
    let store = db.store().await;
    let mut tx = store
        .begin_write("tanaka")
        .await
        .expect("begin")
        .via(Via::Upload)
        .with_file("生活防災課.xlsx", SHA);
    tx.record(&Entry {
        action: "edit-project",
        subject: "072052 R2-R4",
        project: "072052-r2-7-1-1",
        field: "name",
        old: Some("旧名"),
        new: Some("=新名,\"引用\""),
        comment: "誤字の訂正",
        ..Entry::default()
    })
    .await
    .expect("record");
    tx.commit().await.expect("commit");
    store.close().await;

    let all = audit_json(&db, &[]);
    assert_eq!(
        actions(&all),
        ["import-edition", "add-account", "edit-project"]
    );
    let seqs: Vec<i64> = all
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 3], "oldest first, in chain order");
    for entry in &all[..2] {
        assert_eq!(entry["actor"], "cli:tester");
        assert_eq!(entry["via"], "cli");
    }
    let edit = &all[2];
    let fields = [
        "seq",
        "at",
        "at_jst",
        "actor",
        "via",
        "action",
        "subject",
        "detail",
        "project",
        "field",
        "old",
        "new",
        "comment",
        "file_name",
        "file_sha256",
        "prev_hash",
        "hash",
    ];
    let mut keys: Vec<&str> = edit
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut sorted = fields.to_vec();
    sorted.sort_unstable();
    assert_eq!(keys, sorted, "stable field names");
    assert_eq!(
        (
            &edit["actor"],
            &edit["via"],
            &edit["project"],
            &edit["field"],
            &edit["old"],
            &edit["new"],
            &edit["comment"],
            &edit["file_name"],
            &edit["file_sha256"],
            &edit["detail"],
        ),
        (
            &json!("tanaka"),
            &json!("upload"),
            &json!("072052-r2-7-1-1"),
            &json!("name"),
            &json!("旧名"),
            &json!("=新名,\"引用\""),
            &json!("誤字の訂正"),
            &json!("生活防災課.xlsx"),
            &json!(SHA),
            &Value::Null,
        )
    );
    assert_eq!(
        edit["prev_hash"], all[1]["hash"],
        "chained to the entry before"
    );
    let at: jiff::Timestamp = edit["at"].as_str().expect("at").parse().expect("time");
    let jst = at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)));
    assert_eq!(
        edit["at_jst"],
        jst.strftime("%Y-%m-%dT%H:%M:%S+09:00").to_string()
    );

    // Filters.
    assert_eq!(
        actions(&audit_json(&db, &["--project", "072052-r2-7-1-1"])),
        ["edit-project"]
    );
    assert!(audit_json(&db, &["--project", "072052-r2-7-9-9"]).is_empty());
    assert_eq!(
        actions(&audit_json(&db, &["--user", "tanaka"])),
        ["edit-project"]
    );
    assert_eq!(
        actions(&audit_json(&db, &["--user", "cli:tester"])),
        ["import-edition", "add-account"]
    );
    assert_eq!(
        actions(&audit_json(&db, &["--limit", "2"])),
        ["add-account", "edit-project"],
        "the newest N, oldest first"
    );
    let today = jst.strftime("%Y-%m-%d").to_string();
    assert_eq!(audit_json(&db, &["--since", &today]).len(), 3);
    assert!(audit_json(&db, &["--since", "2999-01-01"]).is_empty());
    let an_hour_later = (at + jiff::SignedDuration::from_hours(1)).to_string();
    assert!(audit_json(&db, &["--since", &an_hour_later]).is_empty());
    refused(
        &keikaku_with(&db, &["audit", "--since", "yesterday"], "", "en"),
        1,
        &["--since \"yesterday\" is not a date (YYYY-MM-DD"],
    );
    refused(
        &keikaku_with(&db, &["audit", "--since", "2026-02-30"], "", "ja"),
        1,
        &["--since「2026-02-30」は日付"],
    );
    refused(
        &keikaku_with(&db, &["audit", "--limit", "0"], "", "en"),
        2,
        &["--limit"],
    );

    // CSV: BOM, CRLF, the JSON's fields as columns, formulas neutralised.
    let out = audit(&db, &["--format", "csv"]);
    assert!(out.stdout.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let text = String::from_utf8(out.stdout[3..].to_vec()).expect("utf-8");
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, fields, "the JSON's fields, in order");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    let row: Vec<&str> = rows[2].iter().collect();
    assert_eq!(row[0], "3");
    assert_eq!(row[3], "tanaka");
    assert_eq!(row[11], "'=新名,\"引用\"", "a formula is neutralised");
    assert_eq!(row[13], "生活防災課.xlsx");
    assert_eq!(row[14], SHA);
    assert_eq!(row[2], edit["at_jst"].as_str().expect("at_jst"));

    // Table: times in JST, old → new, the file with its digest.
    let table = stdout(&audit(&db, &[]));
    for cell in [
        "日時（JST）",
        jst.strftime("%Y-%m-%d %H:%M:%S").to_string().as_str(),
        "cli:tester",
        "旧名 → =新名,\"引用\"",
        "誤字の訂正",
        "生活防災課.xlsx (sha256 9f86d081884c…)",
    ] {
        assert!(table.contains(cell), "{cell} not in\n{table}");
    }

    // The chain holds, and `check` says so.
    let out = keikaku(&db, &["check"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

/// The R3-R5 projects as `projects --format json` lists them, by stable id.
fn projects_by_id(db: &TestDb) -> std::collections::BTreeMap<String, Value> {
    let out = keikaku(db, &["projects", "--edition", "R3-R5", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_str(&stdout(&out)).expect("json");
    list.into_iter()
        .map(|p| (p["id"].as_str().expect("id").to_owned(), p))
        .collect()
}

/// The golden projects of `department` that a roll carries on (not 完了 or 廃止).
fn golden_of(department: &str) -> Vec<&'static GoldenProject> {
    PROJECTS
        .iter()
        .filter(|p| p.departments.contains(&department) && !["完了", "廃止"].contains(&p.status))
        .collect()
}

async fn a_department_sheet_holds_its_projects_and_its_import_keeps_the_others(backend: Backend) {
    let db = database(backend).await;
    import_seed(&db);
    let out = keikaku(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = projects_by_id(&db);

    // 生活防災課's sheet: its projects, and no other.
    let out = keikaku(
        &db,
        &[
            "template",
            "--edition",
            "R3-R5",
            "--department",
            "生活防災課",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let path = db
        .dir
        .path()
        .join("keikaku-072052-r3-r5-生活防災課-template.csv");
    assert_eq!(
        stdout(&out).trim(),
        format!("./{}", path.file_name().expect("name").to_string_lossy())
    );
    let bytes = std::fs::read(&path).expect("sheet");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (name, departments) = (column("事業名"), column("担当課"));
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut names: Vec<&str> = rows.iter().map(|r| &r[name]).collect();
    let mut expected: Vec<&str> = golden_of("生活防災課").iter().map(|p| p.name).collect();
    names.sort_unstable();
    expected.sort_unstable();
    assert!(!expected.is_empty());
    assert_eq!(names, expected, "the department's projects, all of them");
    for row in &rows {
        assert!(row[departments].contains("生活防災課"), "{row:?}");
    }

    // The department renames one project and imports its sheet: the other departments'
    // projects (absent from the sheet) are kept exactly.
    let renamed_id = rows[0][column("事業ID")].to_owned();
    let mut edited: Vec<String> = rows[0].iter().map(str::to_owned).collect();
    edited[name] = format!("{}（改）", edited[name]);
    rows[0] = csv::StringRecord::from(edited);
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(&header).expect("header");
    for row in &rows {
        writer.write_record(row).expect("row");
    }
    let filled = db.dir.path().join("filled.csv");
    std::fs::write(&filled, writer.into_inner().expect("csv")).expect("write");
    let out = keikaku(
        &db,
        &[
            "import",
            filled.to_str().expect("path"),
            "--edition",
            "R3-R5",
        ],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let kept = format!(
        "1 updated, 0 added, 0 taken out ({} unchanged rows and {} projects not in the sheet are kept)",
        rows.len() - 1,
        before.len() - rows.len()
    );
    assert!(
        stdout(&out).contains(&kept),
        "{kept} not in {}",
        stdout(&out)
    );
    let after = projects_by_id(&db);
    assert_eq!(after.len(), before.len(), "no project ended");
    assert_eq!(before.len(), PROJECTS.len());
    for (id, project) in &before {
        if *id == renamed_id {
            let mut expected = project.clone();
            expected["name"] = json!(format!("{}（改）", project["name"].as_str().expect("name")));
            assert_eq!(after[id], expected);
        } else {
            assert_eq!(after.get(id), Some(project), "{id} changed");
        }
    }

    // A project of two departments is in both departments' sheets (xlsx here).
    let out = keikaku(
        &db,
        &[
            "template",
            "--edition",
            "R3-R5",
            "--department",
            "経営改革推進室",
            "--out",
            "k.xlsx",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let grid = keikaku_core::sheet::grid::read_xlsx(
        &std::fs::read(db.dir.path().join("k.xlsx")).expect("xlsx"),
    )
    .expect("grid");
    let header: Vec<String> = grid.rows[0].iter().map(|v| v.text()).collect();
    let name = header.iter().position(|h| h == "事業名").expect("事業名");
    let mut names: Vec<String> = grid.rows[1..]
        .iter()
        .filter_map(|r| r.get(name).map(|v| v.text()))
        .filter(|n| !n.is_empty())
        .collect();
    let mut expected: Vec<String> = golden_of("経営改革推進室")
        .iter()
        .map(|p| p.name.to_owned())
        .collect();
    names.sort_unstable();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert!(
        golden_of("経営改革推進室")
            .iter()
            .any(|p| p.departments.len() > 1),
        "the sample has a project of two departments"
    );

    // A department no project names: not found, with the list; nothing written.
    let files = std::fs::read_dir(db.dir.path()).expect("dir").count();
    let out = keikaku(
        &db,
        &[
            "template",
            "--edition",
            "R3-R5",
            "--department",
            "健康福祉課",
        ],
    );
    refused(
        &out,
        1,
        &[
            "department \"健康福祉課\" not found",
            "its departments: 企画政策課, ",
            "生活防災課",
        ],
    );
    assert_eq!(
        std::fs::read_dir(db.dir.path()).expect("dir").count(),
        files
    );
}

#[tokio::test]
async fn user_list_on_an_empty_database_is_an_empty_table() {
    let db = super::support::sqlite_db();
    let out = keikaku(&db, &["user", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ログイン名"), "{}", stdout(&out));
}

on_every_backend!(
    accounts_are_added_listed_disabled_and_given_new_passwords,
    bad_account_requests_are_refused_clearly_and_change_nothing,
    the_audit_log_is_listed_filtered_and_written_as_json_and_csv,
    a_department_sheet_holds_its_projects_and_its_import_keeps_the_others,
);
