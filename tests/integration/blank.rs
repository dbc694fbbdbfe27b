//! A town with nothing stored plans through the workbook alone: `keikaku template --blank`,
//! its structure (two goals, three policies) and four projects filled in, imported as a draft;
//! then a structure edit through the stored edition's workbook (on the audit log), and bad
//! structures refused with located errors and nothing stored. Every expected total is written
//! by hand from the amounts filled in below.

use std::path::Path;

use keikaku_core::sheet::grid::{Grid, Value, read_xlsx, read_xlsx_sheet_with};
use serde_json::Value as Json;

use super::support::{Backend, TestDb, database, keikaku, on_every_backend, stderr, stdout};

fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = keikaku(db, args);
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        db.label,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// A workbook's projects grid, instructions (key, value) and structure grid.
pub(super) struct Parts {
    pub(super) projects: Grid,
    pub(super) info: Vec<(String, String)>,
    pub(super) structure: Grid,
}

pub(super) fn parts(path: &Path) -> Parts {
    let bytes = std::fs::read(path).expect("workbook");
    let projects = read_xlsx(&bytes).expect("grid");
    let info = projects
        .info
        .iter()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let structure = read_xlsx_sheet_with(&bytes, &Default::default(), "施策体系")
        .expect("read")
        .expect("structure sheet");
    Parts {
        projects,
        info,
        structure,
    }
}

fn write_grid(sheet: &mut rust_xlsxwriter::Worksheet, grid: &Grid) {
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c) = (
                u32::try_from(r).expect("row"),
                u16::try_from(c).expect("column"),
            );
            match value {
                Value::Empty => {}
                Value::Text(t) | Value::Error(t) => {
                    sheet.write_string(r, c, t).expect("write");
                }
                Value::Number(n) => {
                    sheet.write_number(r, c, *n).expect("write");
                }
            }
        }
    }
}

/// Writes the parts back as a workbook at `path`.
pub(super) fn save(parts: &Parts, path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("実施計画").expect("name");
    write_grid(sheet, &parts.projects);
    let info = book.add_worksheet();
    info.set_name("記入方法").expect("name");
    for (r, (key, value)) in parts.info.iter().enumerate() {
        let r = u32::try_from(r).expect("row");
        info.write_string(r, 0, key).expect("write");
        info.write_string(r, 1, value).expect("write");
    }
    let sheet = book.add_worksheet();
    sheet.set_name("施策体系").expect("name");
    write_grid(sheet, &parts.structure);
    std::fs::write(path, book.save_to_buffer().expect("save")).expect("write");
}

fn structure_row(cells: [&str; 6]) -> Vec<Value> {
    cells
        .iter()
        .map(|c| match *c {
            "" => Value::Empty,
            text => Value::Text(text.to_owned()),
        })
        .collect()
}

fn column(grid: &Grid, header: &str) -> usize {
    grid.rows[0]
        .iter()
        .position(|v| v.text() == header)
        .unwrap_or_else(|| panic!("no column {header}"))
}

/// A new project row: policy, number, name, and its R6 事業費, 特定財源, 一般財源 (千円).
fn project_row(grid: &Grid, policy: &str, number: f64, name: &str, r6: [f64; 3]) -> Vec<Value> {
    let mut row = vec![Value::Empty; grid.rows[0].len()];
    let at = |header: &str| column(grid, header);
    row[at("施策コード")] = Value::Text(policy.into());
    row[at("事業番号")] = Value::Number(number);
    row[at("事業名")] = Value::Text(name.into());
    row[at("区分")] = Value::Text("新規".into());
    row[at("担当課")] = Value::Text("企画財政課".into());
    row[at("令和6年度 事業費（千円）")] = Value::Number(r6[0]);
    row[at("令和6年度 特定財源（千円）")] = Value::Number(r6[1]);
    row[at("令和6年度 一般財源（千円）")] = Value::Number(r6[2]);
    row
}

/// Policy key → (projects, cost) of `report --by policy`.
fn policy_totals(db: &TestDb) -> Vec<(String, u64, Option<i64>)> {
    let out = ok(
        db,
        &[
            "report",
            "--by",
            "policy",
            "--municipality",
            "073423",
            "--edition",
            "R6-R8",
            "--format",
            "json",
        ],
    );
    let report: Json = serde_json::from_str(&out).expect("report JSON");
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().expect("key").to_owned(),
                r["projects"].as_u64().expect("projects"),
                r["cost"].as_i64(),
            )
        })
        .collect()
}

const SELECT: [&str; 4] = ["--municipality", "073423", "--edition", "R6-R8"];

async fn a_blank_workbook_creates_and_edits_a_town_plan(backend: Backend) {
    let db = database(backend).await;
    let dir = db.dir.path().to_owned();
    ok(
        &db,
        &[
            "template",
            "--blank",
            "--municipality",
            "073423",
            "--municipality-name",
            "鏡石町",
            "--edition",
            "R6-R8",
            "--out",
            "blank.xlsx",
        ],
    );
    // Writing a blank workbook needs no database and makes none.
    let elsewhere = tempfile::tempdir().expect("dir");
    let none = elsewhere.path().join("none.db");
    let out = super::support::keikaku_in(
        elsewhere.path(),
        &format!("sqlite://{}", none.display()),
        &[
            "template",
            "--blank",
            "--municipality",
            "073423",
            "--municipality-name",
            "鏡石町",
            "--edition",
            "R6-R8",
            "--out",
            "blank.xlsx",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(elsewhere.path().join("blank.xlsx").exists());
    assert!(!none.exists(), "no database made");
    let mut blank = parts(&dir.join("blank.xlsx"));
    assert_eq!(blank.projects.rows.len(), 1, "only the header");
    assert_eq!(blank.structure.rows.len(), 1, "only the header");
    blank.structure.rows.extend([
        structure_row(["1", "安心して暮らせるまち", "健康・福祉分野", "", "", ""]),
        structure_row(["1", "", "", "1-1", "子育て支援", "子どもが健やかに育つまち"]),
        structure_row(["1", "", "", "1-2", "高齢者福祉", ""]),
        structure_row(["2", "活力あるまち", "産業分野", "", "", ""]),
        structure_row(["2", "", "", "2-1", "農業の振興", "農業が続くまち"]),
    ]);
    let rows = [
        project_row(
            &blank.projects,
            "1-1",
            1.0,
            "保育所運営",
            [1_000.0, 400.0, 600.0],
        ),
        project_row(
            &blank.projects,
            "1-1",
            2.0,
            "子育て相談",
            [500.0, 0.0, 500.0],
        ),
        project_row(
            &blank.projects,
            "1-2",
            1.0,
            "見守り事業",
            [300.0, 100.0, 200.0],
        ),
        project_row(
            &blank.projects,
            "2-1",
            1.0,
            "農地保全",
            [2_000.0, 1_500.0, 500.0],
        ),
    ];
    blank.projects.rows.extend(rows);
    save(&blank, &dir.join("filled.xlsx"));
    ok(&db, &["import", "filled.xlsx"]);

    let listing: Json = serde_json::from_str(&ok(&db, &["editions", "--json"])).expect("json");
    assert_eq!(listing.as_array().expect("list").len(), 1, "{listing}");
    assert_eq!(listing[0]["state"], "draft", "{listing}");
    // By hand: 1-1 = 1,000 + 500 (2 projects); 1-2 = 300; 2-1 = 2,000.
    assert_eq!(
        policy_totals(&db),
        [
            ("1-1".to_owned(), 2, Some(1_500)),
            ("1-2".to_owned(), 1, Some(300)),
            ("2-1".to_owned(), 1, Some(2_000)),
        ]
    );

    // The stored edition's workbook: rename 1-2, add 2-2 with a project.
    let mut args = vec!["template", "--out", "r6.xlsx"];
    args.extend(SELECT);
    ok(&db, &args);
    let mut edit = parts(&dir.join("r6.xlsx"));
    let row_12 = edit
        .structure
        .rows
        .iter()
        .position(|r| r.get(3).is_some_and(|v| v.text() == "1-2"))
        .expect("1-2's row");
    edit.structure.rows[row_12][4] = Value::Text("高齢者の暮らし".into());
    edit.structure
        .rows
        .push(structure_row(["2", "", "", "2-2", "商工業の振興", ""]));
    let new = project_row(
        &edit.projects,
        "2-2",
        1.0,
        "商店街支援",
        [800.0, 0.0, 800.0],
    );
    edit.projects.rows.push(new);
    save(&edit, &dir.join("edited.xlsx"));
    ok(&db, &["import", "edited.xlsx"]);
    assert_eq!(
        policy_totals(&db),
        [
            ("1-1".to_owned(), 2, Some(1_500)),
            ("1-2".to_owned(), 1, Some(300)),
            ("2-1".to_owned(), 1, Some(2_000)),
            ("2-2".to_owned(), 1, Some(800)),
        ]
    );
    let store = db.store().await;
    let info = store
        .editions()
        .await
        .expect("editions")
        .into_iter()
        .next()
        .expect("R6-R8");
    let edition = store.edition(info.id).await.expect("edition");
    let titles: Vec<(String, String)> = edition
        .policies()
        .map(|p| (p.code.to_string(), p.title.clone()))
        .collect();
    assert_eq!(
        titles,
        [
            ("1-1".to_owned(), "子育て支援".to_owned()),
            ("1-2".to_owned(), "高齢者の暮らし".to_owned()),
            ("2-1".to_owned(), "農業の振興".to_owned()),
            ("2-2".to_owned(), "商工業の振興".to_owned()),
        ]
    );
    let log = store.audit_log(i64::MAX).await.expect("audit");
    let changed = |field: &str| {
        log.iter()
            .find(|e| e.action == "import-sheet" && e.field == field)
            .map(|e| (e.old.clone(), e.new.clone()))
    };
    assert_eq!(
        changed("policy.1-2.title"),
        Some((Some("高齢者福祉".into()), Some("高齢者の暮らし".into())))
    );
    assert_eq!(
        changed("policy.2-2"),
        Some((None, Some("商工業の振興".into())))
    );
    store.close().await;

    // Bad structures, each in a fresh copy of the stored edition's workbook: nothing stored.
    let before = policy_totals(&db);
    let mut args = vec!["template", "--out", "again.xlsx"];
    args.extend(SELECT);
    ok(&db, &args);
    let mut bad = parts(&dir.join("again.xlsx"));
    let rows = bad.structure.rows.len();
    // Row rows+1: a policy of goal 3, which has no row; row rows+2: 1-1 a second time.
    bad.structure
        .rows
        .push(structure_row(["", "", "", "3-1", "観光", ""]));
    bad.structure
        .rows
        .push(structure_row(["1", "", "", "1-1", "子育て", ""]));
    // 2-1's row deleted while 農地保全 is still in it.
    let row_21 = bad
        .structure
        .rows
        .iter()
        .position(|r| r.get(3).is_some_and(|v| v.text() == "2-1"))
        .expect("2-1's row");
    bad.structure.rows.remove(row_21);
    let farm = bad
        .projects
        .rows
        .iter()
        .position(|r| r.iter().any(|v| v.text() == "農地保全"))
        .expect("農地保全's row");
    save(&bad, &dir.join("bad.xlsx"));
    let out = keikaku(&db, &["import", "bad.xlsx"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    // After the deletion, the two added rows are rows `rows` and `rows + 1` (1-based).
    for expected in [
        format!("bad.xlsx:施策体系!D{}: error[policy-goal-mismatch]", rows),
        format!("bad.xlsx:施策体系!D{}: error[duplicate-policy]", rows + 1),
        format!("bad.xlsx:実施計画!A{}: error[unknown-policy]", farm + 1),
    ] {
        assert!(
            err.contains(&expected),
            "{}: no {expected} in\n{err}",
            db.label
        );
    }
    assert_eq!(policy_totals(&db), before, "nothing stored");
    db.cleanup().await;
}

on_every_backend!(a_blank_workbook_creates_and_edits_a_town_plan);
