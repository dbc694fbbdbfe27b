//! Rolling editions through the CLI, as a planning office works: roll R2–R4 into R3–R5,
//! write the spreadsheet, edit it as departments would, import it, and compare the editions.
//! The expected diff is written by hand below from the hand-read golden table of the seed. Its
//! totals compare the fiscal years both editions cover (R3–R4): the seed states amounts for
//! R2 only, so every "before" total has no amount (null), never 0 and never the R2 sum.

use keikaku_core::sheet::grid::{Grid, Value, read_xlsx};
use serde_json::{Value as Json, json};

use super::support::{
    Backend, TestDb, database, databases, export_json, import_seed, keikaku, on_every_backend,
    stderr, stdout,
};
use crate::golden::{self, GoldenProject, PROJECTS};

/// Writes `grid` as the project sheet of a workbook, with the instructions sheet naming the
/// municipality and edition (as the template does).
pub(crate) fn workbook(grid: &Grid, edition: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("実施計画").expect("name");
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let (r, c) = (
                u32::try_from(r).expect("row"),
                u16::try_from(c).expect("column"),
            );
            match value {
                Value::Empty => {}
                Value::Text(t) => {
                    sheet.write_string(r, c, t).expect("write");
                }
                Value::Number(n) => {
                    sheet.write_number(r, c, *n).expect("write");
                }
                Value::Error(e) => {
                    sheet.write_string(r, c, e).expect("write");
                }
            }
        }
    }
    let info = book.add_worksheet();
    info.set_name("記入方法").expect("name");
    for (r, (key, value)) in [("団体コード", "072052"), ("計画期間", edition)]
        .iter()
        .enumerate()
    {
        let r = u32::try_from(r + 2).expect("row");
        info.write_string(r, 0, *key).expect("write");
        info.write_string(r, 1, *value).expect("write");
    }
    book.save_to_buffer().expect("save")
}

fn column(grid: &Grid, header: &str) -> usize {
    grid.rows[0]
        .iter()
        .position(|v| v.text() == header)
        .unwrap_or_else(|| panic!("no column {header}"))
}

fn row_of(grid: &Grid, id: &str) -> usize {
    let c = column(grid, "事業ID");
    grid.rows
        .iter()
        .position(|r| r.get(c).is_some_and(|v| v.text() == id))
        .unwrap_or_else(|| panic!("no row {id}"))
}

fn set(grid: &mut Grid, row: usize, header: &str, value: Value) {
    let c = column(grid, header);
    if grid.rows[row].len() <= c {
        grid.rows[row].resize(c + 1, Value::Empty);
    }
    grid.rows[row][c] = value;
}

fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

fn number(n: f64) -> Value {
    Value::Number(n)
}

const R3_TOTAL: &str = "令和3年度 事業費（千円）";
const R3_EARMARKED: &str = "令和3年度 特定財源（千円）";
const R3_GENERAL: &str = "令和3年度 一般財源（千円）";

/// The edits departments make to the R3–R5 sheet.
fn edit(grid: &mut Grid) {
    // Rename 7-1-3.
    let r = row_of(grid, "072052-r2-7-1-3");
    set(grid, r, "事業名", text("地域づくり活性化支援事業"));
    // Change amounts of 7-1-1 and 7-4-1 for R3.
    let r = row_of(grid, "072052-r2-7-1-1");
    set(grid, r, R3_TOTAL, number(17_000.0));
    set(grid, r, R3_EARMARKED, number(1_000.0));
    set(grid, r, R3_GENERAL, number(16_000.0));
    let r = row_of(grid, "072052-r2-7-4-1");
    set(grid, r, R3_TOTAL, number(16_500.0));
    set(grid, r, R3_EARMARKED, number(6_500.0));
    set(grid, r, R3_GENERAL, number(10_000.0));
    // Move 7-3-4 to policy 7-4 as No.6.
    let r = row_of(grid, "072052-r2-7-3-4");
    set(grid, r, "施策コード", text("7-4"));
    set(grid, r, "事業番号", number(6.0));
    // End 7-1-2: marked in the 計画から外す column (a deleted row would keep it).
    let r = row_of(grid, "072052-r2-7-1-2");
    set(grid, r, "計画から外す", text("○"));
    // Add two new projects at the bottom, without ids.
    let width = grid.rows[0].len();
    let mut first = vec![Value::Empty; width];
    let mut second = vec![Value::Empty; width];
    for (row, values) in [
        (
            &mut first,
            [
                ("施策コード", text("7-2")),
                ("事業番号", number(3.0)),
                ("事業名", text("SDGs推進事業")),
                (
                    "事業概要",
                    text("SDGsの考え方を施策に取り入れ、市民への普及啓発を行う。"),
                ),
                ("区分", text("新規")),
                ("地方創生事業", text("Ⅲ(3)")),
                ("担当課", text("企画政策課")),
                (R3_TOTAL, number(1_200.0)),
                (R3_EARMARKED, number(0.0)),
                (R3_GENERAL, number(1_200.0)),
            ],
        ),
        (
            &mut second,
            [
                ("施策コード", text("7-6")),
                ("事業番号", number(6.0)),
                ("事業名", text("公共施設マネジメント推進事業")),
                (
                    "事業概要",
                    text("公共施設の長寿命化と再編を計画的に進める。"),
                ),
                ("区分", text("新規")),
                ("地方創生事業", Value::Empty),
                ("担当課", text("財政課")),
                (R3_TOTAL, number(3_000.0)),
                (R3_EARMARKED, number(1_000.0)),
                (R3_GENERAL, number(2_000.0)),
            ],
        ),
    ] {
        for (header, value) in values {
            row[column(grid, header)] = value;
        }
    }
    second[column(grid, "令和3年度 うち地方債（千円）")] = number(1_000.0);
    grid.rows.push(first);
    grid.rows.push(second);
}

/// A group of the earlier edition over R3–R4, where the seed states no amount: its number of
/// golden projects, and no amounts.
fn golden_unpriced(keep: impl Fn(&GoldenProject) -> bool) -> Json {
    let n = PROJECTS.iter().filter(|p| keep(p)).count();
    json!({"projects": n, "cost": null, "earmarked": null, "general": null})
}

fn side(id: &str, reference: &str, name: &str) -> Json {
    let policy = reference.rsplit_once('-').map_or("", |(policy, _)| policy);
    json!({"id": id, "reference": reference, "policy": policy, "name": name})
}

fn status_change(id: &str, reference: &str, name: &str) -> Json {
    json!({"from": side(id, reference, name), "to": side(id, reference, name), "status": {"from": "新規", "to": "継続"},
           "departments": null, "strategies": null, "summary_changed": false, "amounts": []})
}

fn amounts_change(id: &str, reference: &str, name: &str, [t, e, g]: [i64; 3]) -> Json {
    json!({"from": side(id, reference, name), "to": side(id, reference, name), "status": null, "departments": null,
           "strategies": null, "summary_changed": false, "amounts": [
               {"year": 2021, "field": "total", "from": null, "to": t},
               {"year": 2021, "field": "earmarked", "from": null, "to": e},
               {"year": 2021, "field": "general", "from": null, "to": g}]})
}

fn title(code: &str) -> &'static str {
    golden::POLICIES
        .iter()
        .find(|p| p.code == code)
        .map(|p| p.title)
        .expect("policy")
}

/// The diff R2–R4 → R3–R5, written by hand from the edits above and the seed.
fn expected_diff() -> Json {
    let policy = |code: &str, to: Json| json!({"key": code, "name": title(code), "from": golden_unpriced(|p| p.policy == code), "to": to});
    json!({
        "municipality": "072052 白河市",
        "from": "R2-R4",
        "to": "R3-R5",
        // Both cover 令和3年度 and 令和4年度.
        "compared_years": [2021, 2022],
        "new": [
            side("072052-r3-7-2-3", "7-2-3", "SDGs推進事業"),
            side("072052-r3-7-6-6", "7-6-6", "公共施設マネジメント推進事業"),
        ],
        "ended": [side("072052-r2-7-1-2", "7-1-2", "まちづくり・ひとづくり事業")],
        "renamed": [{"from": side("072052-r2-7-1-3", "7-1-3", "地域づくり活性化支援事業(4地域)"),
                     "to": side("072052-r2-7-1-3", "7-1-3", "地域づくり活性化支援事業")}],
        "moved": [{"from": side("072052-r2-7-3-4", "7-3-4", "FIT構想推進協議会参画事業"),
                   "to": side("072052-r2-7-3-4", "7-4-6", "FIT構想推進協議会参画事業")}],
        "changed": [
            amounts_change("072052-r2-7-1-1", "7-1-1", "地域おこし協力隊活用事業", [17_000, 1_000, 16_000]),
            status_change("072052-r2-7-1-9", "7-1-9", "地域をつなぐ農村交流活動事業"),
            status_change("072052-r2-7-1-10", "7-1-10", "まちラボ学生プロジェクト支援事業"),
            amounts_change("072052-r2-7-4-1", "7-4-1", "広報白河発行事業", [16_500, 6_500, 10_000]),
            status_change("072052-r2-7-4-4", "7-4-4", "情報力発信強化事業"),
            status_change("072052-r2-7-5-4", "7-5-4", "RPA・AI導入推進事業"),
        ],
        "uncertain": [],
        "policies": [
            policy("7-1", json!({"projects": 9, "cost": 17_000, "earmarked": 1_000, "general": 16_000})),
            policy("7-2", json!({"projects": 3, "cost": 1_200, "earmarked": 0, "general": 1_200})),
            // No project of 7-3 or 7-5 states an amount in R3–R5: no amount, not 0.
            policy("7-3", json!({"projects": 6, "cost": null, "earmarked": null, "general": null})),
            policy("7-4", json!({"projects": 6, "cost": 16_500, "earmarked": 6_500, "general": 10_000})),
            policy("7-5", json!({"projects": 4, "cost": null, "earmarked": null, "general": null})),
            policy("7-6", json!({"projects": 6, "cost": 3_000, "earmarked": 1_000, "general": 2_000})),
        ],
        "goals": [{"key": "7", "name": golden::GOAL_TITLE, "from": golden_unpriced(|_| true),
                   "to": {"projects": 34, "cost": 37_700, "earmarked": 8_500, "general": 29_200}}],
    })
}

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

/// Seed imported, R3–R5 rolled and its template written; returns the template's grid.
fn rolled(db: &TestDb) -> Grid {
    import_seed(db);
    let out = ok(db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
    assert!(
        out.contains("created 072052 白河市 R3-R5 (33 projects)"),
        "{out}"
    );
    let path = db.dir.path().join("r3-r5.xlsx");
    ok(
        db,
        &[
            "template",
            "--edition",
            "R3-R5",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    read_xlsx(&std::fs::read(&path).expect("template")).expect("grid")
}

fn write(db: &TestDb, name: &str, bytes: &[u8]) -> String {
    let path = db.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("path").to_owned()
}

#[tokio::test]
async fn template_edit_import_and_the_hand_written_diff() {
    for db in databases().await {
        let mut grid = rolled(&db);
        edit(&mut grid);
        let filled = write(&db, "r3-r5-filled.xlsx", &workbook(&grid, "R3-R5"));
        let out = ok(&db, &["import", &filled, "--edition", "R3-R5"]);
        assert!(
            // By hand from `edit`: two new rows; 7-1-3 renamed, 7-1-1 and 7-4-1 re-priced,
            // 7-3-4 moved; 7-1-2 marked to be taken out; 33 + 2 − 1 = 34 projects.
            out.contains(
                "updated 072052 白河市 R3-R5: 2 added, 4 changed, 1 taken out; 34 projects in all"
            ),
            "{out}"
        );

        let table = ok(&db, &["diff", "R2-R4", "R3-R5"]);
        // No amount is `-`, never 0, and a change from no amount to an amount is not a
        // number: the last three cells are before, after and the change.
        let cells = |code: &str| -> Vec<String> {
            let line = table
                .lines()
                .find(|l| l.contains(title(code)))
                .unwrap_or_else(|| panic!("no row {code} in\n{table}"));
            let cells: Vec<String> = line
                .split(|c: char| c.is_whitespace() || c == '|')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
            cells[cells.len() - 3..].to_vec()
        };
        assert_eq!(cells("7-3"), ["-", "-", "-"], "{table}");
        assert_eq!(cells("7-1"), ["-", "17,000", "新たに計上"], "{table}");
        assert_eq!(cells("7-6"), ["-", "3,000", "新たに計上"], "{table}");

        let diff: Json =
            serde_json::from_str(&ok(&db, &["diff", "R2-R4", "R3-R5", "--format", "json"]))
                .expect("json");
        assert_eq!(diff, expected_diff(), "{}", db.label);

        assert!(
            table.contains("新規 2件")
                && table.contains("終了 1件")
                && table.contains("施策の移動 1件"),
            "{table}"
        );
        let csv = ok(&db, &["diff", "R2-R4", "R3-R5", "--format", "csv"]);
        assert!(
            csv.contains(
                "moved,7-3-4,7-4-6,072052-r2-7-3-4,FIT構想推進協議会参画事業,policy,,7-3,7-4"
            ),
            "{csv}"
        );
        assert!(
            csv.contains(
                "changed,7-1-1,7-1-1,072052-r2-7-1-1,地域おこし協力隊活用事業,total,2021,,17000"
            ),
            "{csv}"
        );

        // Totals rows name the compared years; no amount before is an empty cell, not 0.
        let policy_row = format!("policy,7-2,7-2,,{},cost,2021-2022,,1200", title("7-2"));
        assert!(csv.contains(&policy_row), "{policy_row} not in\n{csv}");
        assert!(
            table.contains(
                "基本目標別の事業費（令和3年度～令和4年度（両計画に共通する年度）で比較、千円）"
            ),
            "{table}"
        );

        let history: Json =
            serde_json::from_str(&ok(&db, &["history", "7-4-6", "--format", "json"]))
                .expect("json");
        assert_eq!(history[0]["edition"], "R2-R4");
        assert_eq!(history[0]["policy"], "7-3");
        assert_eq!(history[0]["number"], 4);
        assert_eq!(history[1]["edition"], "R3-R5");
        assert_eq!(history[1]["policy"], "7-4");
        assert_eq!(history[1]["number"], 6);
        let ended: Json = serde_json::from_str(&ok(
            &db,
            &["history", "7-1-2", "--edition", "R2-R4", "--format", "json"],
        ))
        .expect("json");
        assert_eq!(ended[1]["name"], Json::Null, "ended in R3-R5");
        portal_shows_the_diff(&db).await;
        db.cleanup().await;
    }
}

async fn page(app: &axum::Router, uri: &str) -> (axum::http::StatusCode, String, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The diff and history on the portal, after the edits of the test above.
async fn portal_shows_the_diff(db: &TestDb) {
    use axum::http::StatusCode;
    let store = db.store().await;
    let state = keikaku::web::AppState::load(store.clone())
        .await
        .expect("state");
    let app = keikaku::web::app(state.clone());
    let (status, _, _) = page(&app, "/072052/diff/r2-r4/r3-r5").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a draft is not compared in public"
    );

    // Most projects of R3–R5 have no amount yet: publishing needs --allow-incomplete.
    ok(db, &["publish", "--edition", "R3-R5", "--allow-incomplete"]);
    assert!(state.refresh().await.expect("refresh"));
    let (status, _, choice) = page(&app, "/072052/diff").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        choice.contains(r#"<option value="r2-r4" selected>"#),
        "{choice}"
    );
    let (status, location, _) = page(&app, "/072052/diff?from=r2-r4&to=r3-r5").await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, "/072052/diff/r2-r4/r3-r5");

    let (status, _, html) = page(&app, "/072052/diff/r2-r4/r3-r5").await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        r#"<a href="/072052/r3-r5/projects/7-2-3">SDGs推進事業</a>"#,
        r#"<a href="/072052/r2-r4/projects/7-1-2">まちづくり・ひとづくり事業</a>"#,
        "地域づくり活性化支援事業(4地域) → ",
        "FIT構想推進協議会参画事業</a>: 7-3-4 → 7-4-6",
        "区分: 新規 → 継続",
        r#"id="chart-diff-caption""#,
    ] {
        assert!(html.contains(expected), "{expected:?} not on the diff page");
    }
    // The goal's row over R3–R4: no amount before (the seed states R2 only), 37,700 after,
    // and that is not an increase from 0.
    let goal_row =
        "<td class=\"num\">-</td><td class=\"num\">37,700</td><td class=\"num\">新たに計上</td>";
    assert!(html.contains(goal_row), "{goal_row} not on the diff page");
    assert!(
        html.contains("令和3年度～令和4年度（両計画に共通する年度）で比較"),
        "the diff page names the compared years"
    );

    let (status, _, project) = page(&app, "/072052/r3-r5/projects/7-4-6").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        project.contains(
            r#"<a href="/072052/r2-r4/projects/7-3-4">7-3-4 FIT構想推進協議会参画事業</a>"#
        ),
        "the history links the project's place in the earlier edition"
    );
    // Every link of both editions, the switcher, the diff pages and the histories.
    let (broken, visited) = super::web::broken_links(&app, "/072052/diff/r2-r4/r3-r5", 4_000).await;
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(visited > 2 * 33, "only {visited} pages reached");
    for hostile in [
        "/072052/diff/r2-r4/r9-r11",
        "/072052/diff/%3Cscript%3E/r3-r5",
        "/999999/diff",
    ] {
        let (status, _, body) = page(&app, hostile).await;
        assert!(status.is_client_error(), "{hostile}: {status}");
        assert!(!body.contains("<script>"), "{hostile} echoed markup");
    }
    store.close().await;
}

/// The lost update a trial found: two departments fill copies of one template; the second
/// copy, made before the first was imported, must change only its own rows. A third copy that
/// changes rows changed since is refused with both values, and nothing is written.
#[tokio::test]
async fn two_copies_of_one_template_never_undo_each_other() {
    for db in databases().await {
        let template = rolled(&db);

        // Department A: renames 7-1-2, fills R3 of 7-1-1, adds 7-2 No.3, takes 7-1-5 out.
        let mut first = template.clone();
        let r = row_of(&first, "072052-r2-7-1-2");
        set(&mut first, r, "事業名", text("市民協働まちづくり事業"));
        let r = row_of(&first, "072052-r2-7-1-1");
        set(&mut first, r, R3_TOTAL, number(17_000.0));
        set(&mut first, r, R3_EARMARKED, number(1_000.0));
        set(&mut first, r, R3_GENERAL, number(16_000.0));
        let r = row_of(&first, "072052-r2-7-1-5");
        set(&mut first, r, "計画から外す", text("○"));
        let mut added = vec![Value::Empty; first.rows[0].len()];
        for (header, value) in [
            ("施策コード", text("7-2")),
            ("事業番号", number(3.0)),
            ("事業名", text("SDGs推進事業")),
            ("区分", text("新規")),
            ("担当課", text("企画政策課")),
        ] {
            added[column(&first, header)] = value;
        }
        first.rows.push(added);
        let a = write(&db, "dept-a.xlsx", &workbook(&first, "R3-R5"));
        let out = ok(&db, &["import", &a, "--edition", "R3-R5"]);
        assert!(
            out.contains("2 updated, 1 added, 1 taken out"),
            "{}: {out}",
            db.label
        );

        // Department B, from the same template: changes 7-6-2's R3 only.
        let mut second = template.clone();
        let r = row_of(&second, "072052-r2-7-6-2");
        set(&mut second, r, R3_TOTAL, number(2_000.0));
        set(&mut second, r, R3_EARMARKED, number(0.0));
        set(&mut second, r, R3_GENERAL, number(2_000.0));
        let b = write(&db, "dept-b.xlsx", &workbook(&second, "R3-R5"));
        let out = ok(&db, &["import", &b, "--edition", "R3-R5"]);
        assert!(out.contains("1 updated, 0 added, 0 taken out"), "{out}");

        let projects: Json = serde_json::from_str(&ok(
            &db,
            &["projects", "--edition", "R3-R5", "--format", "json"],
        ))
        .expect("json");
        let find = |id: &str| {
            projects
                .as_array()
                .expect("array")
                .iter()
                .find(|p| p["id"] == id)
                .cloned()
        };
        let renamed = find("072052-r2-7-1-2").expect("7-1-2 stays");
        assert_eq!(
            renamed["name"], "市民協働まちづくり事業",
            "A's rename survives"
        );
        let filled = find("072052-r2-7-1-1").expect("7-1-1");
        assert_eq!(filled["costs"][0]["total"], 17_000, "A's amounts survive");
        assert!(find("072052-r2-7-1-5").is_none(), "A took 7-1-5 out");
        assert!(
            projects
                .as_array()
                .expect("array")
                .iter()
                .any(|p| p["name"] == "SDGs推進事業"),
            "A's new project survives"
        );
        let changed = find("072052-r2-7-6-2").expect("7-6-2");
        assert_eq!(changed["costs"][0]["total"], 2_000, "B's change is stored");
        assert_eq!(projects.as_array().expect("array").len(), 33);

        // Department C, from the same template: changes 7-1-2 (renamed by A since) and 7-1-5
        // (taken out by A since). Refused, each row with its real cause; nothing written.
        let before = export_json(&db);
        let mut third = template.clone();
        let r2 = row_of(&third, "072052-r2-7-1-2");
        set(&mut third, r2, "事業名", text("協働推進事業"));
        let r5 = row_of(&third, "072052-r2-7-1-5");
        set(&mut third, r5, "事業概要", text("書き換えた概要"));
        let c = write(&db, "dept-c.xlsx", &workbook(&third, "R3-R5"));
        let out = keikaku(&db, &["import", &c, "--edition", "R3-R5"]);
        assert!(!out.status.success());
        let err = stderr(&out);
        let name_cell = format!("dept-c.xlsx:実施計画!D{}: error[stale-row]", r2 + 1);
        assert!(
            err.contains(&name_cell)
                && err.contains("stored 「市民協働まちづくり事業」")
                && err.contains("sheet 「協働推進事業」"),
            "{err}"
        );
        let id_cell = format!("dept-c.xlsx:実施計画!C{}: error[stale-row]", r5 + 1);
        assert!(
            err.contains(&id_cell) && err.contains("taken out of this edition by another import"),
            "{err}"
        );
        assert!(!err.contains("foreign-id"), "{err}");
        assert_eq!(export_json(&db), before, "nothing written");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_unchanged_template_imports_back_byte_identical() {
    for db in databases().await {
        let grid = rolled(&db);
        let before = export_json(&db);
        let path = db.dir.path().join("r3-r5.xlsx");
        ok(
            &db,
            &["import", path.to_str().expect("path"), "--edition", "R3-R5"],
        );
        assert_eq!(export_json(&db), before, "{}: xlsx round trip", db.label);
        let csv = db.dir.path().join("r3-r5.csv");
        ok(
            &db,
            &[
                "template",
                "--edition",
                "R3-R5",
                "--format",
                "csv",
                "--out",
                csv.to_str().expect("path"),
            ],
        );
        ok(
            &db,
            &["import", csv.to_str().expect("path"), "--edition", "R3-R5"],
        );
        assert_eq!(export_json(&db), before, "{}: CSV round trip", db.label);
        // The workbook names its edition: --edition may be left out.
        ok(&db, &["import", path.to_str().expect("path")]);
        assert_eq!(export_json(&db), before);
        assert!(grid.rows.len() > 33);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bad_sheet_is_reported_by_cell_and_changes_nothing() {
    for db in databases().await {
        let mut grid = rolled(&db);
        let r = row_of(&grid, "072052-r2-7-1-1");
        set(&mut grid, r, R3_TOTAL, number(17_001.0));
        set(&mut grid, r, R3_EARMARKED, number(1_000.0));
        set(&mut grid, r, R3_GENERAL, number(16_000.0));
        let r = row_of(&grid, "072052-r2-7-2-1");
        set(&mut grid, r, "区分", text("見直し"));
        set(&mut grid, r, R3_GENERAL, text("千円"));
        let before = export_json(&db);
        let bad = write(&db, "bad.xlsx", &workbook(&grid, "R3-R5"));
        let report = db.dir.path().join("errors.xlsx");
        let out = keikaku(
            &db,
            &[
                "import",
                &bad,
                "--edition",
                "R3-R5",
                "--report",
                report.to_str().expect("path"),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        for expected in [
            "bad.xlsx:実施計画!I2: error[sum-mismatch]",
            "bad.xlsx:実施計画!F12: error[unknown-status]",
            "bad.xlsx:実施計画!P12: error[not-a-number]",
            "nothing was stored",
        ] {
            assert!(
                err.contains(expected),
                "{}: expected {expected:?} in\n{err}",
                db.label
            );
        }
        assert_eq!(
            export_json(&db),
            before,
            "{}: a rejected sheet changed the database",
            db.label
        );

        // The report workbook: the list, and the cell highlighted with its comment.
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(
            std::fs::read(&report).expect("report"),
        ))
        .expect("xlsx");
        assert_eq!(book.sheet_names(), ["エラー一覧", "実施計画"]);
        let list = book.worksheet_range("エラー一覧").expect("list");
        let places: Vec<String> = list.rows().skip(1).map(|r| r[1].to_string()).collect();
        assert_eq!(places, ["実施計画!I2", "実施計画!F12", "実施計画!P12"]);
        let bytes = std::fs::read(&report).expect("report");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let comments = (0..zip.len())
            .filter_map(|i| {
                let mut file = zip.by_index(i).ok()?;
                let name = file.name().ok()?.into_owned();
                let mut text = String::new();
                std::io::Read::read_to_string(&mut file, &mut text).ok()?;
                name.contains("comments").then_some(text)
            })
            .collect::<String>();
        assert!(
            comments.contains("区分「見直し」"),
            "the bad cell carries its comment"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn roll_refuses_to_overwrite_and_drafts_stay_out_of_public_view() {
    for db in databases().await {
        rolled(&db);
        let again = keikaku(&db, &["roll", "--from", "R2-R4", "--to", "R3-R5"]);
        assert_eq!(again.status.code(), Some(1));
        assert!(
            stderr(&again).contains("already in the database"),
            "{}",
            stderr(&again)
        );
        let gap = keikaku(&db, &["roll", "--from", "R2-R4", "--to", "R7-R9"]);
        assert_eq!(gap.status.code(), Some(1));

        let store = db.store().await;
        let state = keikaku::web::AppState::load(store.clone())
            .await
            .expect("state");
        let slugs: Vec<String> = state.snapshot().municipalities[0]
            .editions
            .iter()
            .map(|e| e.slug.clone())
            .collect();
        assert_eq!(slugs, ["r2-r4"], "the draft is not public");

        ok(
            &db,
            &["publish", "--edition", "R3-R5", "--allow-incomplete"],
        );
        assert!(state.refresh().await.expect("refresh"));
        let slugs: Vec<String> = state.snapshot().municipalities[0]
            .editions
            .iter()
            .map(|e| e.slug.clone())
            .collect();
        assert_eq!(slugs, ["r2-r4", "r3-r5"]);
        let listing: Json = serde_json::from_str(&ok(&db, &["editions", "--json"])).expect("json");
        assert_eq!(listing[1]["state"], "published");
        let table = ok(&db, &["editions"]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[1].contains("状態") && lines[3].contains("公開"),
            "{table}"
        );

        ok(&db, &["publish", "--edition", "R3-R5", "--draft"]);
        assert!(state.refresh().await.expect("refresh"));
        assert_eq!(state.snapshot().municipalities[0].editions.len(), 1);

        // A sheet may not change a published edition without --replace.
        ok(&db, &["publish", "--edition", "R2-R4"]);
        let template = db.dir.path().join("r2.xlsx");
        ok(
            &db,
            &[
                "template",
                "--edition",
                "R2-R4",
                "--out",
                template.to_str().expect("path"),
            ],
        );
        let refused = keikaku(
            &db,
            &[
                "import",
                template.to_str().expect("path"),
                "--edition",
                "R2-R4",
            ],
        );
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            stderr(&refused).contains("R2-R4 is published"),
            "{}",
            stderr(&refused)
        );
        ok(
            &db,
            &[
                "import",
                template.to_str().expect("path"),
                "--edition",
                "R2-R4",
                "--replace",
            ],
        );
        store.close().await;
        db.cleanup().await;
    }
}

async fn editions_read_from_separate_documents_match_by_name_and_say_when_unsure(backend: Backend) {
    let db = database(backend).await;
    import_seed(&db);
    // The next year's book as a separate document: the same layout, one year later, one
    // project renamed slightly.
    let seed = std::fs::read_to_string(super::support::seed_path()).expect("seed");
    let next = seed
        .replace("R2事業費", "R3事業費")
        .replace("\tR2\tR3\tR4\t", "\tR3\tR4\tR5\t")
        .replace("\tR2\tR3\t", "\tR3\tR4\t")
        .replace("地域おこし協力隊活用事業", "地域おこし協力隊推進事業");
    let path = db.dir.path().join("r3-r5.txt");
    std::fs::write(&path, next).expect("write");
    ok(
        &db,
        &[
            "import",
            path.to_str().expect("path"),
            "--municipality",
            "072052",
            "--municipality-name",
            "白河市",
        ],
    );
    let diff: Json =
        serde_json::from_str(&ok(&db, &["diff", "R2-R4", "R3-R5", "--format", "json"]))
            .expect("json");
    assert_eq!(diff["renamed"], json!([]), "not guessed silently");
    assert_eq!(diff["new"][0]["name"], "地域おこし協力隊推進事業");
    assert_eq!(diff["ended"][0]["name"], "地域おこし協力隊活用事業");
    assert_eq!(diff["uncertain"][0]["from"]["reference"], "7-1-1");
    assert_eq!(diff["uncertain"][0]["to"]["reference"], "7-1-1");
    // The other projects matched by name. The two books hold different amounts for the
    // years both cover (the later book moved each column one year on), so those differ;
    // nothing else does.
    let changed = diff["changed"].as_array().expect("changed");
    assert!(
        !changed.is_empty() && changed.len() <= 32,
        "{}",
        changed.len()
    );
    for c in changed {
        assert_eq!(c["from"]["reference"], c["to"]["reference"], "{c}");
        assert_eq!(c["from"]["name"], c["to"]["name"], "{c}");
        assert!(
            c["status"].is_null() && c["departments"].is_null() && c["strategies"].is_null(),
            "{c}"
        );
        assert_eq!(c["summary_changed"], false, "{c}");
        assert!(!c["amounts"].as_array().expect("amounts").is_empty(), "{c}");
    }
    let linked: Json = serde_json::from_str(&ok(
        &db,
        &[
            "diff",
            "R2-R4",
            "R3-R5",
            "--format",
            "json",
            "--link",
            "7-1-1=7-1-1",
        ],
    ))
    .expect("json");
    assert_eq!(
        linked["renamed"][0]["to"]["name"],
        "地域おこし協力隊推進事業"
    );
    assert_eq!(linked["new"], json!([]));
    assert_eq!(linked["uncertain"], json!([]));
    let bad_link = keikaku(&db, &["diff", "R2-R4", "R3-R5", "--link", "7-9-9=7-1-1"]);
    assert_eq!(bad_link.status.code(), Some(1));
    assert!(
        stderr(&bad_link).contains("no project 7-9-9 in R2-R4"),
        "{}",
        stderr(&bad_link)
    );
}

async fn a_bad_csv_is_reported_by_line_and_column_in_shift_jis_too(backend: Backend) {
    let db = database(backend).await;
    rolled(&db);
    let template = db.dir.path().join("r3-r5.csv");
    ok(
        &db,
        &[
            "template",
            "--edition",
            "R3-R5",
            "--format",
            "csv",
            "--out",
            template.to_str().expect("path"),
        ],
    );
    let text = std::fs::read_to_string(&template).expect("csv");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("the template starts with a BOM");
    let mut records: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .into_records()
        .collect::<Result<_, _>>()
        .expect("records");
    let headers = csv::Reader::from_reader(text.as_bytes())
        .headers()
        .expect("headers")
        .clone();
    assert_eq!(&headers[5], "区分");
    // Line 12 is the eleventh project: 7-2-1 (7-1 has ten).
    assert_eq!(&records[10][2], "072052-r2-7-2-1");
    let mut edited: Vec<String> = records[10].iter().map(str::to_owned).collect();
    edited[5] = "見直し".into();
    records[10] = csv::StringRecord::from(edited);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&headers).expect("write");
    for record in &records {
        out.write_record(record).expect("write");
    }
    let utf8 = String::from_utf8(out.into_inner().expect("csv")).expect("utf-8");
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&utf8);
    assert!(!unmappable);
    let before = export_json(&db);
    // Shift_JIS is never guessed silently: the message names it and the flag to pass.
    let sjis_path = write(&db, "bad-sjis.csv", &sjis);
    let unnamed = keikaku(&db, &["import", &sjis_path, "--edition", "R3-R5"]);
    assert_eq!(unnamed.status.code(), Some(1));
    assert!(
        stderr(&unnamed).contains("--encoding sjis"),
        "{}",
        stderr(&unnamed)
    );
    for (name, bytes, encoding) in [
        ("bad.csv", utf8.as_bytes(), "utf-8"),
        ("bad-sjis.csv", &sjis[..], "sjis"),
    ] {
        let path = write(&db, name, bytes);
        let refused = keikaku(
            &db,
            &[
                "import",
                &path,
                "--edition",
                "R3-R5",
                "--encoding",
                encoding,
            ],
        );
        assert_eq!(refused.status.code(), Some(1));
        let err = stderr(&refused);
        assert!(
            err.contains(&format!("{name}:12:6: error[unknown-status]")),
            "{err}"
        );
        assert!(err.contains("見直し"), "{err}");
        assert_eq!(
            export_json(&db),
            before,
            "a rejected CSV changed the database"
        );
    }
    db.cleanup().await;
}

on_every_backend!(
    editions_read_from_separate_documents_match_by_name_and_say_when_unsure,
    a_bad_csv_is_reported_by_line_and_column_in_shift_jis_too,
);
