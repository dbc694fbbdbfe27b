//! Hostile and careless documents through the `keikaku` command: workbooks with references
//! that do not exist or lie far away, oversized CSV sheets, control characters, megabytes of
//! stray lines, canonical JSON that repeats what the database can hold only once. Each must
//! end in a located error (or a summarised warning), a non-zero exit and nothing stored; never
//! a panic, an abort, gigabytes of memory or a false message.

use std::io::{Read, Write};

use keikaku_core::import::{self, Context};
use keikaku_core::source::Source;
use keikaku_core::{Municipality, MunicipalityCode, canonical};
use serde_json::Value;

use super::support::{
    TestDb, databases, import_seed, keikaku, raw_pool, seed_path, stderr, stdout,
};

fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

/// The seed plan as canonical JSON (one edition, 白河市 R2–R4), as a JSON value to edit.
fn seed_json() -> Value {
    let context = Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    };
    let bytes = std::fs::read(seed_path()).expect("seed");
    let mut parsed = import::read(
        &Source {
            name: "shirakawa-r2-r4-goal7.txt",
            bytes: &bytes,
        },
        None,
        &context,
    );
    let edition = parsed.editions.remove(0).edition;
    serde_json::from_str(&canonical::to_json(&[edition])).expect("json")
}

/// The first year's amounts of the first project.
fn first_cost(json: &mut Value) -> &mut Value {
    &mut json["municipalities"][0]["editions"][0]["goals"][0]["policies"][0]["projects"][0]["costs"]
        [0]
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("json")
}

/// Editions, projects and cost rows stored.
async fn counts(db: &TestDb) -> (i64, i64, i64) {
    // Opening the store creates (and migrates) a database no command has touched yet.
    db.store().await.close().await;
    let pool = raw_pool(db, 1).await;
    let mut out = [0i64; 3];
    for (slot, table) in out.iter_mut().zip(["edition", "project", "project_cost"]) {
        *slot = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .expect("count");
    }
    pool.close().await;
    (out[0], out[1], out[2])
}

/// Runs `import FILE` and checks that it failed with `expected` in its messages, said
/// nothing false about other imports or the database, and stored nothing.
async fn refused(db: &TestDb, path: &str, extra: &[&str], expected: &str) -> String {
    let before = counts(db).await;
    let mut args = vec!["import", path];
    args.extend_from_slice(extra);
    let out = keikaku(db, &args);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{}: {path}: {text}", db.label);
    assert!(
        text.contains(expected),
        "{}: {path}: expected {expected:?} in\n{text}",
        db.label
    );
    for false_claim in [
        "another import",
        "already in the database",
        "invalid byte sequence",
    ] {
        assert!(!text.contains(false_claim), "{}: {path}: {text}", db.label);
    }
    assert_eq!(counts(db).await, before, "{}: {path}", db.label);
    text
}

/// `bytes` (a zip) with the part `name` changed by `change`.
fn rewrite_part(bytes: &[u8], name: &str, change: impl Fn(String) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("entry");
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("read");
        let part = file.name().expect("name").into_owned();
        if part == name {
            content = change(String::from_utf8(content).expect("utf-8")).into_bytes();
        }
        out.start_file(part, options).expect("start");
        out.write_all(&content).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

/// The R2–R4 template of the seed, as `keikaku template` writes it.
fn template(db: &TestDb) -> Vec<u8> {
    let path = db.dir.path().join("r2-r4.xlsx");
    let out = keikaku(
        db,
        &[
            "template",
            "--edition",
            "R2-R4",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(&path).expect("template")
}

/// The template with the project sheet's `<sheetData>` replaced by `data`.
fn with_sheet_data(template: &[u8], data: &str) -> Vec<u8> {
    rewrite_part(template, "xl/worksheets/sheet1.xml", |xml| {
        let start = xml.find("<sheetData").expect("sheetData");
        let end = xml.find("</sheetData>").expect("end") + "</sheetData>".len();
        format!(
            "{}<sheetData>{data}</sheetData>{}",
            &xml[..start],
            &xml[end..]
        )
    })
}

#[tokio::test]
async fn hostile_workbooks_are_refused_with_the_cell_never_a_crash() {
    let db = &databases().await.remove(0);
    import_seed(db);
    let template = template(db);
    let edition = ["--edition", "R2-R4", "--replace"];
    let cases = [
        // One value in Excel's very last cell: 16,384 × 1,048,576 cells if read densely.
        (
            "last-cell.xlsx",
            r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
            "last-cell.xlsx:実施計画!XFD1048576: error[too-large]",
        ),
        // One row far down: a million rows if read densely.
        (
            "far-row.xlsx",
            r#"<row r="1048576"><c r="A1048576"><v>1</v></c></row>"#,
            "far-row.xlsx:実施計画!A1048576: error[too-large]",
        ),
        // A reference that is no cell at all.
        (
            "no-cell.xlsx",
            r#"<row r="1"><c r="A1"><v>1</v></c><c r="ZZZZZZZZ99999999999"><v>1</v></c></row>"#,
            "no-cell.xlsx:実施計画!B1: error[broken-workbook]",
        ),
    ];
    for (name, data, expected) in cases {
        let path = write(db, name, &with_sheet_data(&template, data));
        refused(db, &path, &edition, expected).await;
    }
    // A shared-string index that names no string: the cell must not silently read as the
    // first string of the workbook (a header).
    for index in ["-1", "abc"] {
        let bytes = rewrite_part(&template, "xl/worksheets/sheet1.xml", |xml| {
            // D2 is the first project's 事業名.
            let at = xml.find(r#"<c r="D2""#).expect("D2");
            let v = at + xml[at..].find("<v>").expect("v") + 3;
            let end = v + xml[v..].find("</v>").expect("/v");
            format!("{}{index}{}", &xml[..v], &xml[end..])
        });
        let path = write(db, "string.xlsx", &bytes);
        refused(
            db,
            &path,
            &edition,
            "string.xlsx:実施計画!D2: error[broken-workbook]",
        )
        .await;
    }
}

#[tokio::test]
async fn hostile_csv_sheets_are_bounded() {
    let db = &databases().await.remove(0);
    import_seed(db);
    let path = db.dir.path().join("r2-r4.csv");
    let out = keikaku(
        db,
        &[
            "template",
            "--edition",
            "R2-R4",
            "--format",
            "csv",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(std::fs::read(&path).expect("csv")).expect("utf-8");
    let edition = ["--edition", "R2-R4", "--replace"];
    // A row of 5,000 fields.
    let wide = format!("{csv}{}\r\n", ",x".repeat(5_000));
    let path = write(db, "wide.csv", wide.as_bytes());
    refused(db, &path, &edition, "wide.csv:35:1025: error[too-large]").await;
    // 300,000 rows.
    let long = format!("{csv}{}", "7-1,1\r\n".repeat(300_000));
    let path = write(db, "long.csv", long.as_bytes());
    refused(db, &path, &edition, "long.csv:200001: error[too-large]").await;
}

#[tokio::test]
async fn sheets_get_the_common_checks_and_summaries_too() {
    let db = databases().await.remove(0);
    import_seed(&db);
    let path = db.dir.path().join("r2-r4.csv");
    let out = keikaku(
        &db,
        &[
            "template",
            "--edition",
            "R2-R4",
            "--format",
            "csv",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(std::fs::read(&path).expect("csv")).expect("utf-8");
    let edition = ["--edition", "R2-R4", "--replace"];
    // An escape sequence in the first project's 事業名 (column 4).
    let escaped = csv.replacen(
        ",地域おこし協力隊活用事業,",
        ",地域おこし\u{1b}[2J協力隊活用事業,",
        1,
    );
    assert_ne!(escaped, csv);
    let path = write(&db, "escape.csv", escaped.as_bytes());
    let text = refused(
        &db,
        &path,
        &edition,
        "escape.csv:2:4: error[control-character]",
    )
    .await;
    assert!(!text.contains('\u{1b}'), "{text}");
    // 150 new rows without 事業番号: a hundred errors shown, the rest in one summary.
    let rows: String = (0..150)
        .map(|i| format!("7-1,,,新しい事業{i},概要,新規,,企画政策課\r\n"))
        .collect();
    let path = write(&db, "numbers.csv", format!("{csv}{rows}").as_bytes());
    let text = refused(&db, &path, &edition, "error[missing-number]").await;
    assert_eq!(text.matches("error[missing-number]").count(), 101, "{text}");
    assert!(
        text.contains("numbers.csv:135:2: error[missing-number]: 50 more problems of this kind (missing-number)"),
        "{text}"
    );
}

#[tokio::test]
async fn control_characters_are_refused_in_every_layout_with_their_place() {
    for db in databases().await {
        let mut json = seed_json();
        let project =
            &mut json["municipalities"][0]["editions"][0]["goals"][0]["policies"][0]["projects"][0];
        project["name"] = Value::from("市民\u{0}協働");
        project["departments"][0] = Value::from("企画\u{1b}[31m政策課");
        json["municipalities"][0]["editions"][0]["goals"][0]["policies"][1]["vision"] =
            Value::from("まち\u{7}の姿");
        json["municipalities"][0]["name"] = Value::from("白河\u{1b}]0;x\u{7}市");
        let path = write(&db, "control.json", &json_bytes(&json));
        let text = refused(
            &db,
            &path,
            &[],
            "municipalities[0].editions[0].goals[0].policies[0].projects[0].name: error[control-character]",
        )
        .await;
        for expected in [
            "projects[0].departments[0]: error[control-character]",
            "policies[1].vision: error[control-character]",
            "U+001B (ESC)",
            "U+0000 (NUL)",
        ] {
            assert!(text.contains(expected), "{}: {expected}: {text}", db.label);
        }
        assert!(!text.contains('\u{1b}') && !text.contains('\u{0}') && !text.contains('\u{7}'));

        // Plan text: a BEL in a project's name, located at its line and cell.
        let seed = std::fs::read_to_string(seed_path()).expect("seed");
        let bell = seed.replacen(
            "地域おこし協力隊活用事業",
            "地域おこし\u{7}協力隊活用事業",
            1,
        );
        assert_ne!(bell, seed);
        let path = write(&db, "bell.txt", bell.as_bytes());
        let municipality = ["--municipality", "072052", "--municipality-name", "白河市"];
        refused(&db, &path, &municipality, ":22:2: error[control-character]").await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn tables_never_print_raw_control_characters() {
    for db in databases().await {
        import_seed(&db);
        // A database written before names were checked, or by hand.
        let pool = raw_pool(&db, 1).await;
        sqlx::query("UPDATE project SET name = $1 WHERE number = 1")
            .bind("赤\u{1b}[31m字\u{7}")
            .execute(&pool)
            .await
            .expect("update");
        pool.close().await;
        let out = keikaku(&db, &["projects", "--policy", "7-1", "--format", "table"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{}: {text:?}",
            db.label
        );
        assert!(
            text.contains(r"赤\u{1b}[31m字\u{7}"),
            "{}: {text}",
            db.label
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_plan_buried_in_stray_lines_is_refused_and_its_warnings_summarised() {
    let db = &databases().await.remove(0);
    let seed = std::fs::read_to_string(seed_path()).expect("seed");
    let mut text = seed.trim_end().to_owned() + "\n";
    let seed_lines = text.lines().count();
    for i in 0..3_000 {
        text.push_str(&format!("ログ {i} \u{1b}[2J\n"));
    }
    let path = write(db, "buried.txt", text.as_bytes());
    let municipality = ["--municipality", "072052", "--municipality-name", "白河市"];
    let out = keikaku(db, &[&["validate", &path][..], &municipality].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let printed = stdout(&out);
    let first_stray = seed_lines + 1;
    assert!(
        printed.contains(&format!("buried.txt:{first_stray}: error[not-a-plan]")),
        "{printed}"
    );
    // A hundred stray lines shown, the others counted in one line.
    assert_eq!(
        printed.matches("warning[ignored-line]").count(),
        101,
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "buried.txt:{}: warning[ignored-line]: 2,900 more problems of this kind (ignored-line)",
            first_stray + 100
        )),
        "{printed}"
    );
    // The seed's own warning (two amounts on one line) and the 3,000 stray lines.
    assert!(printed.contains("1 error(s), 3001 warning(s)"), "{printed}");
    assert!(!printed.contains('\u{1b}'));
    refused(db, &path, &municipality, "error[not-a-plan]").await;
}

#[tokio::test]
async fn canonical_json_repeats_are_caught_before_storing() {
    for db in databases().await {
        let seed = seed_json();
        let edition = &seed["municipalities"][0]["editions"][0];

        // The same cost year twice in one project.
        let mut json = seed.clone();
        let costs = &mut json["municipalities"][0]["editions"][0]["goals"][0]["policies"][0]["projects"]
            [0]["costs"];
        let first = costs[0].clone();
        costs.as_array_mut().expect("costs").push(first);
        let path = write(&db, "year.json", &json_bytes(&json));
        refused(
            &db,
            &path,
            &[],
            "year.json:municipalities[0].editions[0].goals[0].policies[0].projects[0].costs[1].total: error[duplicate-year]",
        )
        .await;

        // The same edition twice.
        let mut json = seed.clone();
        json["municipalities"][0]["editions"]
            .as_array_mut()
            .expect("editions")
            .push(edition.clone());
        let path = write(&db, "edition.json", &json_bytes(&json));
        refused(
            &db,
            &path,
            &[],
            "edition.json:municipalities[0].editions[1]: error[duplicate-edition]",
        )
        .await;

        // The same municipality twice.
        let mut json = seed.clone();
        let municipality = json["municipalities"][0].clone();
        json["municipalities"]
            .as_array_mut()
            .expect("municipalities")
            .push(municipality);
        let path = write(&db, "municipality.json", &json_bytes(&json));
        refused(
            &db,
            &path,
            &[],
            "municipality.json:municipalities[1].code: error[duplicate-municipality]",
        )
        .await;

        // The same goal twice.
        let mut json = seed.clone();
        let goals = &mut json["municipalities"][0]["editions"][0]["goals"];
        let mut goal = goals[0].clone();
        for (p, policy) in goal["policies"]
            .as_array_mut()
            .expect("policies")
            .iter_mut()
            .enumerate()
        {
            policy["code"] = Value::from(format!("7-{}", p + 11));
            for project in policy["projects"].as_array_mut().expect("projects") {
                project["id"] = Value::from(format!("{}-b", project["id"].as_str().expect("id")));
            }
        }
        goals.as_array_mut().expect("goals").push(goal);
        let path = write(&db, "goal.json", &json_bytes(&json));
        refused(
            &db,
            &path,
            &[],
            "goal.json:municipalities[0].editions[0].goals[1]: error[duplicate-goal]",
        )
        .await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_repeat_let_through_by_configuration_is_named_not_blamed_on_another_import() {
    for db in databases().await {
        // Silencing duplicate numbers lets a file reach the database, which refuses the
        // second row: the message must say so, not blame a concurrent import.
        std::fs::write(
            db.dir.path().join("keikaku.toml"),
            "[validation.severity]\nduplicate-number = \"off\"\nduplicate-id = \"off\"\n",
        )
        .expect("config");
        let mut json = seed_json();
        let projects =
            &mut json["municipalities"][0]["editions"][0]["goals"][0]["policies"][0]["projects"];
        let first = projects[0].clone();
        projects.as_array_mut().expect("projects").push(first);
        let path = write(&db, "number.json", &json_bytes(&json));
        let text = refused(&db, &path, &[], "error: ").await;
        assert!(text.contains("twice"), "{}: {text}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn funding_splits_are_checked_alike_in_every_layout() {
    let db = databases().await.remove(0);
    import_seed(&db);
    let seed = seed_json();
    // The first project of the seed: total 16,759 = earmarked 28 + general 16,731 (千円).
    type Change = fn(&mut Value);
    let cases: [(&str, Change, &str); 4] = [
        (
            "absent.json",
            |cost| {
                cost.as_object_mut().expect("cost").remove("general");
            },
            "absent.json:municipalities[0].editions[0].goals[0].policies[0].projects[0].costs[0].total: warning[missing-funding-split]",
        ),
        (
            "absent-but-whole.json",
            |cost| {
                cost.as_object_mut().expect("cost").remove("earmarked");
                cost["general"] = cost["total"].clone();
            },
            "costs[0].earmarked: warning[missing-funding-split]",
        ),
        (
            "null.json",
            |cost| cost["earmarked"] = Value::Null,
            "costs[0].total: warning[missing-funding-split]: total cost: 7-1 No.1 FY2020: total 16,759 but earmarked - and general 16,731",
        ),
        (
            "wrong.json",
            |cost| cost["general"] = Value::from(1),
            "costs[0].total: error[sum-mismatch]",
        ),
    ];
    for (name, change, expected) in cases {
        let mut json = seed.clone();
        change(first_cost(&mut json));
        let path = write(&db, name, &json_bytes(&json));
        let out = keikaku(&db, &["validate", &path]);
        let text = stdout(&out);
        assert!(text.contains(expected), "{name}: {expected:?} in\n{text}");
        assert_eq!(
            text.matches("missing-funding-split").count(),
            usize::from(expected.contains("missing")),
            "{text}"
        );
    }
    // Splits that are complete, or have a part with no amount but add up, stay quiet.
    let mut json = seed.clone();
    let cost = first_cost(&mut json);
    let total = cost["total"].clone();
    cost["earmarked"] = Value::Null;
    cost["general"] = total;
    let path = write(&db, "quiet.json", &json_bytes(&json));
    let out = keikaku(&db, &["validate", &path]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        !stdout(&out).contains("missing-funding-split"),
        "{}",
        stdout(&out)
    );

    // Plan text: a stated `-` for 特定財源 beside a 一般財源 that is not the total.
    let seed_text = std::fs::read_to_string(seed_path()).expect("seed");
    let dash = seed_text.replacen("\t\t\t28\t", "\t\t\t-\t", 1);
    assert_ne!(dash, seed_text);
    let path = write(&db, "dash.txt", dash.as_bytes());
    let out = keikaku(
        &db,
        &[
            "validate",
            &path,
            "--municipality",
            "072052",
            "--municipality-name",
            "白河市",
        ],
    );
    assert!(
        stdout(&out).contains("dash.txt:22:4: warning[missing-funding-split]"),
        "{}",
        stdout(&out)
    );

    // A sheet: 事業費 with an empty 特定財源 and a 一般財源 that is not the total.
    let path = db.dir.path().join("r2-r4.csv");
    let out = keikaku(
        &db,
        &[
            "template",
            "--edition",
            "R2-R4",
            "--format",
            "csv",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(std::fs::read(&path).expect("csv")).expect("utf-8");
    let split = csv.replacen(",16759,28,", ",16759,,", 1);
    assert_ne!(split, csv);
    let path = write(&db, "split.csv", split.as_bytes());
    let out = keikaku(&db, &["validate", &path, "--edition", "R2-R4"]);
    assert!(
        stdout(&out).contains("split.csv:2:9: warning[missing-funding-split]"),
        "{}",
        stdout(&out)
    );
}
