//! A town's own workbook or CSV/TSV through `keikaku import`, as a town would run it: the
//! fixtures in `tests/fixtures/own/` (written by the builders in
//! `crates/keikaku-core/src/import/own/tests.rs`) go in as draft editions whose totals per
//! policy match the ones worked out by hand from their cells; the column mapping is printed,
//! written and read back; bad cells are refused where they are and nothing is stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::support::{Backend, TestDb, database, keikaku, on_every_backend, stderr, stdout};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/own")
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

const TOWN: [&str; 4] = ["--municipality", "073423", "--municipality-name", "鏡石町"];

fn import(db: &TestDb, file: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", file];
    args.extend(TOWN);
    args.extend(extra);
    keikaku(db, &args)
}

/// Per policy: projects, 事業費, 特定財源, 一般財源 over the edition's years (千円).
type Figures = (u64, Option<i64>, Option<i64>, Option<i64>);

fn by_policy(db: &TestDb, edition: &str) -> BTreeMap<String, Figures> {
    let out = keikaku(
        db,
        &[
            "report",
            "--by",
            "policy",
            "--format",
            "json",
            "--edition",
            edition,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("report JSON");
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
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

fn editions(db: &TestDb) -> Vec<Value> {
    let out = keikaku(db, &["editions", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .expect("JSON")
        .as_array()
        .expect("array")
        .clone()
}

async fn own_files_go_in_as_drafts_with_the_totals_worked_out_by_hand(backend: Backend) {
    let db = database(backend).await;
    for (file, stored) in [
        ("kagamiishi.xlsx", "stored 073423 鏡石町 R6-R7: 4 projects"),
        ("town-sjis.csv", "stored 073423 鏡石町 R6-R6: 3 projects"),
        ("town.tsv", "stored 073423 鏡石町 R6-R8: 3 projects"),
    ] {
        let out = import(&db, &fixture(file), &[]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("column mapping (列の対応)"), "{text}");
        assert!(text.contains(stored), "{text}");
    }
    let figures = |rows: &[(&str, Figures)]| -> BTreeMap<String, Figures> {
        rows.iter().map(|(k, f)| ((*k).to_owned(), *f)).collect()
    };
    // kagamiishi.xlsx, in 円 ÷ 1,000, R6 + R7: 1-1 (12,345 + 8,000) + 12,500 = 32,845.
    assert_eq!(
        by_policy(&db, "R6-R7"),
        figures(&[
            ("1-1", (2, Some(32_845), Some(8_000), Some(24_845))),
            ("1-2", (1, Some(3_000), Some(1_000), Some(2_000))),
            ("2-1", (1, Some(80_000), Some(60_000), Some(20_000))),
        ])
    );
    // town-sjis.csv, 千円; 特定財源 is the sum of 国県支出金・地方債・その他.
    assert_eq!(
        by_policy(&db, "R6-R6"),
        figures(&[
            ("1-1", (2, Some(20_345), Some(6_000), Some(14_345))),
            ("1-2", (1, Some(5_000), Some(4_500), Some(500))),
        ])
    );
    // town.tsv, 万円 × 10: 3-1 1,200 + 1,305 + 452 + 500 + 500. No funding split is given:
    // 特定財源 and 一般財源 are no amount (`-`), not 0.
    assert_eq!(
        by_policy(&db, "R6-R8"),
        figures(&[
            ("3-1", (2, Some(3_957), None, None)),
            ("3-2", (1, Some(30_000), None, None)),
        ])
    );
    let stored = editions(&db);
    let states: Vec<&str> = stored
        .iter()
        .map(|e| e["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["draft", "draft", "draft"]);
    // Published and compared, the town.tsv plan's 特定財源 and 一般財源 stay no amount in the
    // stored totals too (a comparison shows them empty, not 0).
    let out = keikaku(
        &db,
        &[
            "publish",
            "--edition",
            "R6-R8",
            "--allow-incomplete",
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let store = db.store().await;
    let compared = keikaku::ops::compare::compare(
        &store,
        &keikaku::ops::compare::Selection {
            municipalities: vec!["073423".into()],
            prefecture: None,
        },
        keikaku_core::aggregate::GroupBy::Field,
        keikaku_core::FiscalYear::new(2024),
    )
    .await
    .expect("compare");
    let total = &compared.municipalities[0].total;
    use keikaku_core::aggregate::Sum;
    assert!(total.amount(Sum::Cost).is_some(), "{}", db.label);
    assert_eq!(
        (total.amount(Sum::Earmarked), total.amount(Sum::General)),
        (None, None),
        "{}",
        db.label
    );
    db.cleanup().await;
}

async fn a_dry_run_stores_nothing_and_its_mapping_file_can_be_edited(backend: Backend) {
    let db = database(backend).await;
    let map = db.dir.path().join("map.toml");
    let map = map.to_str().expect("path");
    let file = fixture("kagamiishi.xlsx");
    let out = import(&db, &file, &["--dry-run", "--write-map", map]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("D   事務事業名  → 事業名"), "{text}");
    assert!(
        text.contains("unit: 円 (as stated at 実施計画!M2)"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("実施計画!D9: warning[ignored-line]"),
        "{}",
        stderr(&out)
    );
    assert!(editions(&db).is_empty(), "a dry run stored something");
    let written = std::fs::read_to_string(map).expect("map written");
    assert!(written.contains("I = \"R6 事業費\""), "{written}");
    // The town edits it: 総合戦略 is not to be read.
    let edited = written.replace("H = \"総合戦略\"", "H = \"無視\"");
    assert_ne!(edited, written);
    std::fs::write(map, edited).expect("edit");
    let out = import(&db, &file, &["--map", map]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("H   総合戦略  → (ignored) (from the mapping file)"),
        "{text}"
    );
    let strategies = keikaku(
        &db,
        &[
            "report",
            "--by",
            "strategy",
            "--format",
            "json",
            "--edition",
            "R6-R7",
        ],
    );
    let report: Value = serde_json::from_str(&stdout(&strategies)).expect("JSON");
    let keys: Vec<&str> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    // Without the column (read, it gives Ⅰ(2) and Ⅱ(1)) every project is outside the strategy.
    assert_eq!(keys, ["none"], "{report}");
    // A mapping file that is wrong is refused before anything is read.
    std::fs::write(map, "unit = \"ドル\"\n").expect("write");
    let out = import(&db, &file, &["--map", map, "--replace"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unit \"ドル\" is not a unit"),
        "{}",
        stderr(&out)
    );
    db.cleanup().await;
}

async fn bad_cells_are_refused_where_they_are_and_nothing_is_stored(backend: Backend) {
    let db = database(backend).await;
    let heading = "（単位：円）\n施策,事業名,担当課,区分,R6事業費,R6特定財源,R6一般財源\n";
    for (row, expected) in [
        (
            "1-1 子育て,事業A,健康課,継続,\"1,234,567\",0,\"1,234,567\"",
            "bad.csv:3:5: error[not-a-number]: total cost: \"1,234,567\" (unit 円) is not a whole number of 千円",
        ),
        (
            "1-1 子育て,事業A,健康課,継続,100000,20000,70000",
            "bad.csv:3:5: error[sum-mismatch]",
        ),
        (
            "1-1 子育て,事業A,健康課,継続,△100000,0,△100000",
            "bad.csv:3:5: error[negative-amount]",
        ),
        (
            "1-1 子育て,事業A,健康課,検討中,100000,0,100000",
            "bad.csv:3:4: error[unknown-status]",
        ),
    ] {
        let path = db.dir.path().join("bad.csv");
        std::fs::write(&path, format!("{heading}{row}\n")).expect("write");
        let out = import(&db, path.to_str().expect("path"), &[]);
        assert!(!out.status.success(), "{row}");
        let errors = stderr(&out);
        assert!(
            errors
                .lines()
                .any(|l| l.ends_with(expected) || l.contains(expected)),
            "{expected}\n{errors}"
        );
        assert!(errors.contains("nothing was stored"), "{errors}");
        assert!(editions(&db).is_empty(), "{row}: something was stored");
    }
    // A workbook's bad cell is named by its sheet and cell.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("計画").expect("name");
    sheet.write_string(0, 0, "（単位：円）").expect("unit");
    for (column, text) in ["施策", "事業名", "区分", "R6事業費", "R6一般財源"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string(1, column as u16, *text)
            .expect("heading");
    }
    for (column, text) in ["1-1 子育て", "事業A", "継続"].iter().enumerate() {
        sheet.write_string(2, column as u16, *text).expect("cell");
    }
    sheet.write_number(2, 3, 1_500.0).expect("total");
    sheet.write_number(2, 4, 1_500.0).expect("general");
    let path = db.dir.path().join("bad.xlsx");
    std::fs::write(&path, book.save_to_buffer().expect("xlsx")).expect("write");
    let out = import(&db, path.to_str().expect("path"), &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("bad.xlsx:計画!D3: error[not-a-number]: total cost: \"1500\" (unit 円) is not a whole number of 千円"),
        "{}",
        stderr(&out)
    );
    assert!(editions(&db).is_empty(), "the workbook was stored");
    db.cleanup().await;
}

on_every_backend!(
    own_files_go_in_as_drafts_with_the_totals_worked_out_by_hand,
    a_dry_run_stores_nothing_and_its_mapping_file_can_be_edited,
    bad_cells_are_refused_where_they_are_and_nothing_is_stored,
);
