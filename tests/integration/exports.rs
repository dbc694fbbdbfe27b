//! What keikaku writes for people to open elsewhere, and what it lets out: CSV that cannot run as
//! a formula in Excel (every CSV the CLI writes), an edition that is not published while its
//! projects have no amounts, finished projects that a roll leaves behind.
//!
//! The hostile plan is the seed with a few cells changed to what an attacker (or an unlucky
//! copy-paste) would put there; the expected values are written from those changes and the
//! seed as a person reads it.

use std::io::Read;

use serde_json::Value as Json;

use super::support::{
    TestDb, databases, export_json, import_seed, keikaku, seed_path, stderr, stdout,
};

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

fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("path").to_owned()
}

/// The seed with cells that would run as formulas in Excel, as canonical JSON.
fn hostile_plan(db: &TestDb) -> String {
    // The seed goes through a scratch database of its own, so `db` holds only the hostile plan.
    let scratch = db.dir.path().join("scratch.db");
    let url = format!("sqlite://{}", scratch.display());
    let seed = seed_path();
    let run = |args: &[&str]| {
        let out = super::support::keikaku_in(db.dir.path(), &url, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    run(&[
        "import",
        seed.to_str().expect("path"),
        "--municipality",
        "072052",
        "--municipality-name",
        "白河市",
    ]);
    let json = run(&["export", "--format", "json", "--out", "-"]);
    let mut hostile = json;
    for (from, to) in [
        // The municipality's name (every row of every table carries it).
        ("\"name\": \"白河市\"", "\"name\": \"=白河市\""),
        // 7-1-1's name, 7-1-2's summary, every 生活防災課 project's department, 7-1's title.
        ("地域おこし協力隊活用事業", "=1+2"),
        ("主に高校生が集える場", "-3+4 主に高校生が集える場"),
        ("\"生活防災課\"", "\"@生活防災課\""),
        (
            "市民との協働による地域づくり",
            "+市民との協働による地域づくり",
        ),
    ] {
        assert!(hostile.contains(from), "{from} not in the seed's JSON");
        hostile = hostile.replace(from, to);
    }
    hostile
}

/// Fails when a cell of `csv` could run as a formula: a cell may begin with `-` only as a
/// number or as the no-amount mark `-`.
fn assert_safe(what: &str, csv: &str) {
    let text = csv.strip_prefix('\u{feff}').unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut cells = 0;
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{what}: {e}"));
        for cell in record.iter() {
            cells += 1;
            let number = cell == "-" || cell.parse::<f64>().is_ok();
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r'])
                    && (!cell.starts_with('-') || number),
                "{what}: the cell {cell:?} would run as a formula"
            );
        }
    }
    assert!(cells > 10, "{what}: only {cells} cells");
}

/// The text of one file of a zip archive.
fn unzip(bytes: &[u8], ending: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("entry");
        if file.name().expect("name").ends_with(ending) {
            let mut text = String::new();
            file.read_to_string(&mut text).expect("utf-8");
            return text;
        }
    }
    panic!("no {ending} in the archive");
}

#[tokio::test]
async fn every_csv_keikaku_writes_neutralises_text_that_could_run_as_a_formula() {
    for db in databases().await {
        let plan = hostile_plan(&db);
        let path = write(&db, "hostile.json", plan.as_bytes());
        ok(&db, &["import", &path]);

        // Open data: the whole database (streamed), one edition, Shift_JIS, the Data Package.
        let all = ok(&db, &["export", "--format", "csv", "--out", "-"]);
        let one = ok(
            &db,
            &[
                "export",
                "--format",
                "csv",
                "--edition",
                "R2-R4",
                "--out",
                "-",
            ],
        );
        assert_eq!(all, one, "one edition in the database: the same file");
        // 7-1-1: its municipality, policy title, name and department, with amounts as numbers.
        assert!(
            one.contains("\r\n072052,'=白河市,R2-R4,7,地域のふれあいと支え合いで共に創るまち,7-1,'+市民との協働による地域づくり,"),
            "{one}"
        );
        assert!(one.contains(",1,'=1+2,"), "{one}");
        assert!(one.contains(",'-3+4 主に高校生が集える場"), "{one}");
        assert!(
            one.contains(",継続,Ⅲ(4),'@生活防災課,2020,令和2年度,5300,5300,0,"),
            "{one}"
        );
        assert_safe("export csv", &one);
        let sjis = keikaku(&db, &["export", "--format", "csv-sjis", "--out", "-"]);
        assert!(sjis.status.success(), "{}", stderr(&sjis));
        let (sjis, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis.stdout);
        assert!(!errors);
        assert!(sjis.contains(",1,'=1+2,"), "{sjis}");
        assert_safe("export csv-sjis", &sjis);
        let out = db.dir.path().join("package");
        ok(
            &db,
            &[
                "export",
                "--format",
                "datapackage",
                "--edition",
                "R2-R4",
                "--out",
                out.to_str().expect("path"),
            ],
        );
        let zip = std::fs::read_dir(&out)
            .expect("folder")
            .next()
            .expect("a file")
            .expect("entry")
            .path();
        let zip = std::fs::read(zip).expect("zip");
        for table in ["projects.csv", "policies.csv", "goals.csv"] {
            assert_safe(table, &unzip(&zip, table));
        }
        assert!(unzip(&zip, "policies.csv").contains(",'+市民との協働による地域づくり,"));
        let descriptor: Json =
            serde_json::from_str(&unzip(&zip, "datapackage.json")).expect("json");
        assert!(
            descriptor["description"]
                .as_str()
                .is_some_and(|d| d.contains("先頭に半角の ' を付けています")),
            "the package says how text cells are written: {descriptor}"
        );

        // Reports and comparisons.
        let report = ok(&db, &["report", "--by", "department", "--format", "csv"]);
        // 生活防災課 owns 7-1-3 to 7-1-7: 5,300 + - + 4,940 + 10,800 + 2,067 = 23,107, of
        // which earmarked 5,300 + 0 + 10,800 + 701 = 16,801 and general 0 + 4,940 + 0 + 1,366.
        assert!(
            report.contains("'@生活防災課,'@生活防災課,5,23107,16801,6306\r\n"),
            "{report}"
        );
        assert_safe("report csv", &report);
        let report = ok(&db, &["report", "--by", "policy", "--format", "csv"]);
        assert!(
            report.contains("7-1,'+市民との協働による地域づくり,10,"),
            "{report}"
        );
        assert_safe("report csv", &report);
        let compare = ok(
            &db,
            &["compare", "072052", "--year", "R2", "--format", "csv"],
        );
        assert!(compare.contains("072052,'=白河市,R2-R4,"), "{compare}");
        assert_safe("compare csv", &compare);

        // The department sheet: written neutralised, read back exactly.
        ok(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
        let sheet = db.dir.path().join("r3-r5.csv");
        ok(
            &db,
            &[
                "template",
                "--edition",
                "R3-R5",
                "--format",
                "csv",
                "--out",
                sheet.to_str().expect("path"),
            ],
        );
        let template = std::fs::read_to_string(&sheet).expect("csv");
        assert_safe("template csv", &template);
        assert!(template.contains(",072052-r2-7-1-1,'=1+2,"), "{template}");
        let before = export_json(&db);
        ok(
            &db,
            &[
                "import",
                sheet.to_str().expect("path"),
                "--edition",
                "R3-R5",
            ],
        );
        assert_eq!(
            export_json(&db),
            before,
            "{}: the sheet reads back",
            db.label
        );

        // A department renames 7-1-3 to a formula in the sheet: the diff shows it as text.
        let renamed = template.replace(
            "地域づくり活性化支援事業(4地域)",
            "@SUM(1+1)*cmd|' /C calc'!A0",
        );
        let path = write(&db, "renamed.csv", renamed.as_bytes());
        ok(&db, &["import", &path, "--edition", "R3-R5"]);
        let diff = ok(&db, &["diff", "R2-R4", "R3-R5", "--format", "csv"]);
        assert!(
            diff.contains(
                "renamed,7-1-3,7-1-3,072052-r2-7-1-3,'@SUM(1+1)*cmd|' /C calc'!A0,name,,地域づくり活性化支援事業(4地域),'@SUM(1+1)*cmd|' /C calc'!A0"
            ),
            "{diff}"
        );
        assert!(
            diff.contains(
                "policy,7-1,7-1,,'+市民との協働による地域づくり,projects,2021-2022,10,10"
            ),
            "{diff}"
        );
        assert_safe("diff csv", &diff);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn publish_refuses_an_edition_whose_projects_have_no_amounts() {
    for db in databases().await {
        import_seed(&db);
        ok(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
        // Nobody filled R3–R5 in: the seed states R2 only, so none of its 33 projects has a
        // 事業費 for 令和3, 4 or 5年度.
        let refused = keikaku(&db, &["publish", "--edition", "R3-R5"]);
        assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
        let err = stderr(&refused);
        // By department, from the seed's 担当課 column (7-5-1 has two departments and
        // counts under each): 企画政策課 7-1-1, 2, 10, 7-3-3 to 6, 7-4-5, 7-5-1, 7-6-5.
        for expected in [
            "R3-R5 was not published: 33 project(s) have no 事業費 filled in",
            "by department: 企画政策課 10, 秘書広報課 6, 生活防災課 5, 財政課 4, 経営改革推進室 3, 農林整備課 2, 生涯学習スポーツ課 2, 建築住宅課 1, 総務課 1",
            "by year: FY2021 33, FY2022 33, FY2023 33",
            "--allow-incomplete",
        ] {
            assert!(err.contains(expected), "{expected:?} not in\n{err}");
        }
        let ja = keikaku(&db, &["--lang", "ja", "publish", "--edition", "R3-R5"]);
        assert_eq!(ja.status.code(), Some(1));
        let err = stderr(&ja);
        for expected in [
            "R3-R5 を公開しません",
            "事業費が記入されていない事業（「-」は記入済みとみなします）が 33 件",
            "担当課別: 企画政策課 10件、秘書広報課 6件、生活防災課 5件",
            "令和5年度 33件",
        ] {
            assert!(err.contains(expected), "{expected:?} not in\n{err}");
        }
        let listing: Json = serde_json::from_str(&ok(&db, &["editions", "--json"])).expect("json");
        assert_eq!(listing[1]["state"], "draft", "nothing was published");

        // Every amount filled in: published without a word of warning.
        let sheet = db.dir.path().join("r3-r5.csv");
        ok(
            &db,
            &[
                "template",
                "--edition",
                "R3-R5",
                "--format",
                "csv",
                "--out",
                sheet.to_str().expect("path"),
            ],
        );
        let text = std::fs::read_to_string(&sheet).expect("csv");
        let text = text.strip_prefix('\u{feff}').expect("BOM");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().expect("headers").clone();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&headers).expect("write");
        for record in reader.records() {
            let record = record.expect("record");
            let filled: Vec<String> = headers
                .iter()
                .zip(record.iter())
                .map(|(header, cell)| {
                    if header.ends_with("年度 事業費（千円）")
                        || header.ends_with("年度 一般財源（千円）")
                    {
                        "100".to_owned()
                    } else if header.ends_with("年度 特定財源（千円）") {
                        "0".to_owned()
                    } else {
                        cell.to_owned()
                    }
                })
                .collect();
            out.write_record(&filled).expect("write");
        }
        let filled = write(&db, "filled.csv", &out.into_inner().expect("csv"));
        ok(&db, &["import", &filled, "--edition", "R3-R5"]);
        let published = ok(&db, &["publish", "--edition", "R3-R5"]);
        assert!(published.contains("draft → published"), "{published}");

        // The seed itself states nothing for R3 and R4: taken back to draft, it is published
        // again only when told to.
        ok(&db, &["publish", "--edition", "R2-R4", "--draft"]);
        let refused = keikaku(&db, &["publish", "--edition", "R2-R4"]);
        assert_eq!(refused.status.code(), Some(1));
        // 7-1-4, 7-5-1 and 7-6-1 to 4 state `-` for R2: a deliberate "no amount", filled in.
        assert!(
            stderr(&refused).contains("by year: FY2021 33, FY2022 33\n"),
            "{}",
            stderr(&refused)
        );
        ok(
            &db,
            &["publish", "--edition", "R2-R4", "--allow-incomplete"],
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn roll_leaves_finished_and_abolished_projects_in_their_edition() {
    for db in databases().await {
        import_seed(&db);
        // 7-1-2 is finished (完了) and 7-6-4 abolished (廃止) in R2–R4, as the planning office
        // records them in the sheet.
        let sheet = db.dir.path().join("r2-r4.csv");
        ok(
            &db,
            &[
                "template",
                "--edition",
                "R2-R4",
                "--format",
                "csv",
                "--out",
                sheet.to_str().expect("path"),
            ],
        );
        let text = std::fs::read_to_string(&sheet).expect("csv");
        let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
        for (id, status) in [("072052-r2-7-1-2", "完了"), ("072052-r2-7-6-4", "廃止")] {
            let line = lines
                .iter_mut()
                .find(|l| l.contains(&format!(",{id},")))
                .expect("row");
            assert!(line.contains(",継続,"), "{line}");
            *line = line.replacen(",継続,", &format!(",{status},"), 1);
        }
        let edited = write(&db, "r2-r4-edited.csv", lines.join("\r\n").as_bytes());
        ok(&db, &["import", &edited, "--edition", "R2-R4", "--replace"]);

        let out = ok(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
        assert!(
            out.contains("created 072052 白河市 R3-R5 (31 projects)"),
            "{out}"
        );
        assert!(
            out.contains(
                "2 project(s) ended in R2-R4 (区分 完了 or 廃止) and were not carried into R3-R5:\n  7-1-2 まちづくり・ひとづくり事業（完了）\n  7-6-4 遊休市有地公売事業（廃止）"
            ),
            "{out}"
        );
        let diff: Json =
            serde_json::from_str(&ok(&db, &["diff", "R2-R4", "R3-R5", "--format", "json"]))
                .expect("json");
        let ended: Vec<&str> = diff["ended"]
            .as_array()
            .expect("ended")
            .iter()
            .filter_map(|s| s["reference"].as_str())
            .collect();
        assert_eq!(ended, ["7-1-2", "7-6-4"]);
        assert_eq!(diff["new"], serde_json::json!([]));

        // In Japanese too.
        let ja = ok(
            &db,
            &["--lang", "ja", "roll", "--from", "R2-R4", "--to", "R4-R6"],
        );
        assert!(
            ja.contains(
                "区分が完了・廃止の 2 事業は R2-R4 で終了したため、R4-R6 に引き継いでいません:"
            ),
            "{ja}"
        );
        assert!(ja.contains("  7-6-4 遊休市有地公売事業（廃止）"), "{ja}");
        db.cleanup().await;
    }
}
