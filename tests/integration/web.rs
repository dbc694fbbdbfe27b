//! The web server in-process (`app(state).oneshot(request)`): pages, search, API, OpenAPI,
//! open data, security headers, hostile input. Each test gets its own database and runs on
//! SQLite and, when it is configured, on PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use keikaku::ops::import::{self, ImportRequest};
use keikaku::storage::Store;
use keikaku::web::{self, AppState};
use keikaku_core::import::Context;
use keikaku_core::{Municipality, MunicipalityCode, canonical};
use serde_json::Value;
use tower::ServiceExt;

use super::support::{Backend, database, databases, on_every_backend, seed_path};
use crate::golden::{self, PROJECTS};

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

async fn request(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(builder.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub(crate) async fn get(app: &Router, uri: &str) -> Reply {
    request(app, Method::GET, uri, &[]).await
}

fn shirakawa() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    }
}

async fn seeded(store: &Store) {
    let bytes = std::fs::read(seed_path()).expect("seed");
    let request = ImportRequest {
        name: "shirakawa-r2-r4-goal7.txt",
        bytes: &bytes,
        layout: None,
        context: shirakawa(),
        replace: false,
        actor: "test",
    };
    import::import(store, request).await.expect("import seed");
}

/// The app over a fresh database on `backend` holding the sample plan.
async fn sample_app(backend: Backend) -> (Router, AppState, super::support::TestDb) {
    let db = database(backend).await;
    let store = db.store().await;
    seeded(&store).await;
    let state = AppState::load(store).await.expect("state");
    (web::app(state.clone()), state, db)
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn every_page_type_shows_the_plan_with_exact_amounts() {
    for db in databases().await {
        let store = db.store().await;
        seeded(&store).await;
        let app = web::app(AppState::load(store).await.expect("state"));

        let root = get(&app, "/").await;
        assert_eq!(root.status, StatusCode::SEE_OTHER, "{}", db.label);
        assert_eq!(root.header("location"), "/072052/r2-r4");

        let home = get(&app, "/072052/r2-r4").await;
        assert_eq!(home.status, StatusCode::OK);
        let html = home.text();
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"ja\">"),
            "lang=ja"
        );
        assert!(html.contains(golden::GOAL_TITLE));
        assert!(html.contains("184,787千円"), "total of the plan");
        assert!(
            html.contains("<svg") && html.contains("role=\"img\"") && html.contains("<desc"),
            "chart with title and description"
        );
        for policy in golden::POLICIES {
            assert!(html.contains(policy.title), "{} on home", policy.code);
        }

        let policy = get(&app, "/072052/r2-r4/policies/7-1").await.text();
        for p in PROJECTS.iter().filter(|p| p.policy == "7-1") {
            assert!(
                policy.contains(&format!("/072052/r2-r4/projects/7-1-{}", p.number)),
                "{}",
                p.name
            );
            assert!(policy.contains(p.name), "{}", p.name);
        }
        assert!(policy.contains("パートナーシップが強化され"), "vision text");
        assert!(policy.contains("<caption>"), "tables have captions");
        assert!(policy.contains("85,026"), "policy total");

        // Every project page, with its amounts as read by hand; `-` never becomes 0.
        for p in PROJECTS.iter() {
            let page = get(
                &app,
                &format!("/072052/r2-r4/projects/{}-{}", p.policy, p.number),
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{} {}", p.policy, p.number);
            let text = page.text();
            assert!(
                text.contains(&format!("<h1>{}</h1>", escape(p.name))),
                "{}",
                p.name
            );
            let row = text.split("令和2年度（R2）").nth(1).expect("R2 row");
            let cells: Vec<&str> = row
                .split("<td class=\"num\">")
                .skip(1)
                .take(3)
                .map(|c| c.split('<').next().unwrap_or(""))
                .collect();
            let show =
                |v: Option<i64>| v.map_or("-".to_owned(), keikaku_core::money::group_thousands);
            assert_eq!(
                cells,
                [show(p.total), show(p.earmarked), show(p.general)],
                "{} {}",
                p.policy,
                p.number
            );
        }

        for path in [
            "/072052/r2-r4/goals/7",
            "/072052/r2-r4/policies",
            "/072052/r2-r4/departments",
            &format!("/072052/r2-r4/departments/{}", enc("経営改革推進室")),
            "/072052/r2-r4/strategies",
            "/072052/r2-r4/strategies/3-4",
            "/072052/r2-r4/strategies/none",
            "/072052/r2-r4/status",
            &format!("/072052/r2-r4/status/{}", enc("新規")),
            "/opendata",
        ] {
            let page = get(&app, path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            let text = page.text();
            assert!(
                text.contains("class=\"skip-link\"")
                    && text.contains("aria-label=\"パンくずリスト\""),
                "{path}: skip link and breadcrumbs"
            );
            assert!(text.contains("role=\"search\""), "{path}: search box");
        }
        let department = get(
            &app,
            &format!("/072052/r2-r4/departments/{}", enc("経営改革推進室")),
        )
        .await
        .text();
        for name in [
            "白河市総合計画進行管理事務",
            "行政改革推進事務",
            "RPA・AI導入推進事業",
        ] {
            assert!(
                department.contains(name),
                "{name} is a project of 経営改革推進室"
            );
        }
        db.cleanup().await;
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn listings_sort_by_cost_and_by_number_and_refuse_unknown_parameters(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let by_number = get(&app, "/072052/r2-r4/policies/7-3").await.text();
    let by_cost = get(&app, "/072052/r2-r4/policies/7-3?sort=cost")
        .await
        .text();
    let position = |html: &str, name: &str| html.find(name).unwrap_or_else(|| panic!("{name}"));
    // 7-3-5 宅地分譲地販売促進事業 (25,638) is the most costly; 7-3-1 三市交流事業 comes first by number.
    assert!(position(&by_number, "三市交流事業") < position(&by_number, "宅地分譲地販売促進事業"));
    assert!(position(&by_cost, "宅地分譲地販売促進事業") < position(&by_cost, "三市交流事業"));
    let departments = get(&app, "/072052/r2-r4/departments?sort=cost")
        .await
        .text();
    assert!(position(&departments, "企画政策課") < position(&departments, "財政課"));

    for (bad, says) in [
        (
            "/072052/r2-r4/policies/7-3?sort=price",
            "パラメータが正しくありません",
        ),
        (
            "/072052/r2-r4/departments?sort=",
            "パラメータが正しくありません",
        ),
        // An unknown parameter is named, with the ones the page takes.
        (
            "/072052/r2-r4/policies/7-3?order=desc",
            "使えないパラメータ 「order」 が URL にあります（使えるもの: sort）",
        ),
    ] {
        let reply = get(&app, bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.text().contains(says), "{bad}: {}", reply.text());
    }
    for missing in [
        "/999999/r2-r4",
        "/072052/r9-r11",
        "/072052/r2-r4/policies/7-9",
        "/072052/r2-r4/projects/7-1-99",
        "/072052/r2-r4/goals/x",
        "/072052/r2-r4/strategies/x-y",
        "/nowhere",
    ] {
        let reply = get(&app, missing).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(
            reply.text().contains("<html lang=\"ja\">"),
            "{missing}: a page, not a bare error"
        );
    }
}

async fn search_folds_width_case_and_kana_and_finds_summaries(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let search = |q: &str| {
        let app = app.clone();
        let uri = format!("/072052/r2-r4/search?q={}", enc(q));
        async move { get(&app, &uri).await }
    };
    let furusato = search("ふるさと").await.text();
    assert!(
        furusato.contains("/projects/7-6-5") && furusato.contains("/projects/7-4-2"),
        "ふるさと納税取扱事務 and ふるさと大使事業: {furusato}"
    );
    assert!(
        furusato.contains("<mark>ふるさと</mark>"),
        "matches are highlighted"
    );
    for q in ["ＲＰＡ", "rpa", "RPA"] {
        let page = search(q).await.text();
        assert!(
            page.contains("/projects/7-5-4"),
            "{q} finds RPA・AI導入推進事業"
        );
        assert!(
            page.contains("が 1 件見つかりました"),
            "{q}: exactly one result"
        );
    }
    let iju = search("移住").await.text();
    assert!(
        iju.contains("/projects/7-3-6") && iju.contains("/projects/7-3-7"),
        "移住 is in the summaries of 7-3-6 and 7-3-7"
    );
    assert!(iju.contains("事業概要:"), "the summary match is shown");
    let katakana = search("フルサト").await.text();
    assert!(
        katakana.contains("/projects/7-6-5"),
        "katakana finds hiragana"
    );

    let none = search("存在しない言葉").await;
    assert_eq!(
        none.status,
        StatusCode::OK,
        "no results is a page, not an error"
    );
    assert!(none.text().contains("見つからないときは"));

    // 財政 is in all four of 財政課's projects (at least in the department) and in 7-6's
    // title, which also brings in ふるさと納税取扱事務 (企画政策課) until the filter applies.
    let unfiltered = get(&app, &format!("/072052/r2-r4/search?q={}", enc("財政")))
        .await
        .text();
    assert!(unfiltered.contains("/projects/7-6-5"), "{unfiltered}");
    let filtered = get(
        &app,
        &format!(
            "/072052/r2-r4/search?q={}&department={}",
            enc("財政"),
            enc("財政課")
        ),
    )
    .await
    .text();
    assert!(
        filtered.contains("が 4 件見つかりました（絞り込み中）"),
        "{filtered}"
    );
    assert!(
        !filtered.contains("/projects/7-6-5"),
        "the department filter applies"
    );
    // A department the plan does not have is not found (as in the API and the CLI).
    let bad_filter = get(
        &app,
        &format!("/072052/r2-r4/search?q=a&department={}", enc("ない課")),
    )
    .await;
    assert_eq!(bad_filter.status, StatusCode::NOT_FOUND);
    let long = get(&app, &format!("/072052/r2-r4/search?q={}", "a".repeat(201))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    let global = get(&app, &format!("/search?q={}", enc("移住"))).await;
    assert_eq!(global.status, StatusCode::SEE_OTHER);
    assert!(
        global
            .header("location")
            .starts_with("/072052/r2-r4/search?q=")
    );
}

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", web::CSP),
];

async fn every_response_carries_strict_security_headers_and_pages_load_nothing_from_outside(
    backend: Backend,
) {
    let (app, _, _db) = sample_app(backend).await;
    for path in [
        "/072052/r2-r4",
        "/072052/r2-r4/projects/7-1-1",
        "/api/v1/municipalities",
        "/static/style.css",
        "/nowhere",
        "/api/nowhere",
        "/opendata/072052/r2-r4/csv",
    ] {
        // The second request is answered from the response cache: it must carry them too.
        for attempt in ["fresh", "cached"] {
            let reply = get(&app, path).await;
            for (name, value) in SECURITY_HEADERS {
                assert_eq!(reply.header(name), value, "{path} ({attempt}): {name}");
            }
        }
    }
    assert!(web::CSP.contains("default-src 'self'") && web::CSP.contains("frame-ancestors 'none'"));
    assert!(!web::CSP.contains("unsafe-inline") && !web::CSP.contains("unsafe-eval"));
    for path in [
        "/072052/r2-r4",
        "/072052/r2-r4/strategies",
        "/072052/r2-r4/search?q=a",
        "/opendata",
    ] {
        let html = get(&app, path).await.text();
        assert!(!html.contains("<script"), "{path}: no script at all");
        assert!(!html.contains("style=\""), "{path}: no inline style");
        for attribute in ["src=\"http", "href=\"//", "src=\"//", "url(http"] {
            assert!(!html.contains(attribute), "{path}: loads {attribute}");
        }
        for line in html.lines().filter(|l| l.contains("<link")) {
            assert!(
                line.contains("href=\"/"),
                "{path}: external stylesheet or icon: {line}"
            );
        }
    }
    let css = get(&app, "/static/style.css").await.text();
    assert!(
        !css.contains("http") && !css.contains("@import") && !css.contains("@font-face"),
        "the stylesheet loads nothing"
    );
}

async fn static_files_cannot_be_escaped_and_limits_hold(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/style.css%00.txt",
        "/static/..%5cCargo.toml",
        "/static//etc/passwd",
        "/static/.%2e/src/main.rs",
    ] {
        let reply = get(&app, path).await;
        assert_ne!(reply.status, StatusCode::OK, "{path}");
        let text = reply.text();
        assert!(
            !text.contains("[package]") && !text.contains("root:") && !text.contains("fn main"),
            "{path} leaked a file"
        );
    }
    let long = get(
        &app,
        &format!("/072052/r2-r4/search?q={}", "x".repeat(web::MAX_URI_BYTES)),
    )
    .await;
    assert_eq!(long.status, StatusCode::URI_TOO_LONG);
    let api_long = get(
        &app,
        &format!(
            "/api/v1/municipalities?x={}",
            "x".repeat(web::MAX_URI_BYTES)
        ),
    )
    .await;
    assert_eq!(api_long.status, StatusCode::URI_TOO_LONG);
    assert_eq!(api_long.json()["error"]["code"], "uri_too_long");

    let big = vec![b'a'; web::MAX_BODY_BYTES * 4];
    let response = app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/municipalities")
                .body(Body::from(big))
                .expect("request"),
        )
        .await
        .expect("response");
    assert!(response.status().is_client_error(), "{}", response.status());
    let post = request(&app, Method::POST, "/api/v1/municipalities", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.json()["error"]["code"], "method_not_allowed");
    let delete = request(&app, Method::DELETE, "/072052/r2-r4", &[]).await;
    assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn hostile_text_in_plans_is_escaped_everywhere() {
    let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'; DROP TABLE project; --",
        "</textarea><svg onload=alert(1)>",
    ];
    for db in databases().await {
        let store = db.store().await;
        let bytes = std::fs::read(seed_path()).expect("seed");
        let mut edition = import::validate("seed.txt", &bytes, None, &shirakawa())
            .editions
            .remove(0)
            .edition;
        let policy = &mut edition.goals[0].policies[0];
        policy.title = hostile[1].to_owned();
        policy.vision = hostile[3].to_owned();
        policy.projects[0].name = hostile[0].to_owned();
        policy.projects[0].summary = hostile[1].to_owned();
        policy.projects[0].departments = vec![hostile[2].to_owned()];
        policy.projects[1].name = hostile[3].to_owned();
        let json = canonical::to_json(&[edition]);
        let request = ImportRequest {
            name: "hostile.json",
            bytes: json.as_bytes(),
            layout: None,
            context: Context::default(),
            replace: false,
            actor: "test",
        };
        import::import(&store, request)
            .await
            .expect("import hostile plan");
        let app = web::app(AppState::load(store).await.expect("state"));
        for path in [
            "/072052/r2-r4".to_owned(),
            "/072052/r2-r4/policies/7-1".to_owned(),
            "/072052/r2-r4/projects/7-1-1".to_owned(),
            "/072052/r2-r4/projects/7-1-2".to_owned(),
            "/072052/r2-r4/departments".to_owned(),
            format!("/072052/r2-r4/departments/{}", enc(hostile[2])),
            format!("/072052/r2-r4/search?q={}", enc("alert")),
            format!("/072052/r2-r4/search?q={}", enc(hostile[0])),
        ] {
            let reply = get(&app, &path).await;
            assert_eq!(reply.status, StatusCode::OK, "{}: {path}", db.label);
            let html = reply.text();
            // Escaped, the hostile text still reads `onerror=alert`; what must never appear is
            // markup: a tag or a quote that leaves an attribute.
            for raw in ["<script", "<img", "<svg onload", "</textarea>"] {
                assert!(!html.contains(raw), "{}: {path} contains {raw}", db.label);
            }
        }
        let page = get(&app, "/072052/r2-r4/projects/7-1-1").await.text();
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "shown as text, escaped"
        );
        let api = get(
            &app,
            "/api/v1/municipalities/072052/editions/r2-r4/projects/7-1-1",
        )
        .await;
        assert_eq!(api.header("content-type"), "application/json");
        assert_eq!(
            api.json()["name"],
            hostile[0],
            "the API returns the text exactly, as JSON"
        );
        assert_eq!(api.json()["departments"][0], hostile[2]);
        db.cleanup().await;
    }
}

async fn api_lists_filters_pages_and_totals(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let municipalities = get(&app, "/api/v1/municipalities").await.json();
    assert_eq!(municipalities["total"], 1);
    let municipalities = &municipalities["items"];
    assert_eq!(municipalities[0]["code"], "072052");
    assert_eq!(municipalities[0]["prefecture"], "福島県");
    assert_eq!(municipalities[0]["editions"][0]["edition"], "R2-R4");

    let edition = get(&app, "/api/v1/municipalities/072052/editions/latest")
        .await
        .json();
    assert_eq!(edition["first_year"], 2020);
    assert_eq!(
        edition["totals"]["cost"],
        PROJECTS.iter().filter_map(|p| p.total).sum::<i64>()
    );
    assert_eq!(edition["goals"][0]["title"], golden::GOAL_TITLE);

    let page = get(
        &app,
        "/api/v1/municipalities/072052/editions/r2-r4/projects?per_page=10&page=4",
    )
    .await
    .json();
    assert_eq!(page["total"], 33);
    assert_eq!(page["pages"], 4);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
    let filtered = get(
        &app,
        &format!(
            "/api/v1/municipalities/072052/editions/r2-r4/projects?strategy={}&status={}",
            enc("III(4)"),
            enc("新規")
        ),
    )
    .await
    .json();
    let names: Vec<&str> = filtered["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "地域をつなぐ農村交流活動事業",
            "まちラボ学生プロジェクト支援事業"
        ]
    );

    let dash = get(
        &app,
        "/api/v1/municipalities/072052/editions/r2-r4/projects/7-1-4",
    )
    .await
    .json();
    assert_eq!(dash["costs"][0]["total"], Value::Null, "'-' is null, not 0");
    let by_id = get(
        &app,
        "/api/v1/municipalities/072052/editions/r2-r4/projects/072052-r2-7-6-5",
    )
    .await
    .json();
    assert_eq!(by_id["costs"][0]["earmarked"], 23_364);
    assert_eq!(by_id["costs"][0]["general"], 0);

    let aggregate = get(
        &app,
        "/api/v1/municipalities/072052/editions/r2-r4/aggregates/department",
    )
    .await
    .json();
    let keys: Vec<&str> = aggregate
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["by", "edition", "rows", "total"]);
    let planning = aggregate["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == "企画政策課")
        .expect("企画政策課")
        .clone();
    let expected: i64 = PROJECTS
        .iter()
        .filter(|p| p.departments.contains(&"企画政策課"))
        .filter_map(|p| p.total)
        .sum();
    assert_eq!(planning["cost"], expected);
    assert_eq!(aggregate["total"]["projects"], 33);
    let year = get(
        &app,
        "/api/v1/municipalities/072052/editions/r2-r4/aggregates/year?year=R2",
    )
    .await
    .json();
    assert_eq!(year["rows"][0]["key"], "2020");

    let search = get(
        &app,
        &format!(
            "/api/v1/municipalities/072052/editions/r2-r4/search?q={}",
            enc("移住")
        ),
    )
    .await
    .json();
    assert_eq!(search["total"], 2);
    let first = &search["items"][0];
    let summary = first["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .find(|m| m["field"] == "summary")
        .expect("summary match");
    let text: Vec<char> = summary["text"].as_str().expect("text").chars().collect();
    let range = &summary["ranges"][0];
    let (start, end) = (
        range[0].as_u64().expect("start") as usize,
        range[1].as_u64().expect("end") as usize,
    );
    assert_eq!(
        text[start..end].iter().collect::<String>(),
        "移住",
        "ranges point at the match"
    );
}

async fn api_errors_are_json_with_stable_codes(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let cases = [
        (
            "/api/v1/municipalities/12345",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/999999",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r9-r11",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/banana",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/R2-R4/goals",
            StatusCode::OK,
            "",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?per_page=0",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?per_page=101",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?page=-1",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?unknown=1",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?strategy=IV",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?strategy=V(1)",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects/9-9-9",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/aggregates/color",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/aggregates/policy?year=R9",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/aggregates/policy?year=soon",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r4-r2",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?policy=0-0",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?policy=seven",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?department=%E3%81%AA%E3%81%84%E8%AA%B2",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/projects?strategy=IIII(0)",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/search",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/municipalities/072052/editions/r2-r4/search?q=",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/api/v1/nothing", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (uri, status, code) in cases {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, status, "{uri}: {}", reply.text());
        assert_eq!(reply.header("content-type"), "application/json", "{uri}");
        if status == StatusCode::OK {
            continue;
        }
        let body = reply.json();
        assert_eq!(body["error"]["code"], code, "{uri}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{uri}"
        );
    }
}

async fn openapi_document_matches_its_snapshot(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let reply = get(&app, "/api/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let spec = reply.json();
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "OpenAPI 3.1"
    );
    for path in [
        "/api/v1/municipalities",
        "/api/v1/municipalities/{code}/editions/{edition}/projects",
        "/api/v1/municipalities/{code}/editions/{edition}/search",
    ] {
        assert!(spec["paths"][path]["get"].is_object(), "{path} documented");
    }
    insta::assert_json_snapshot!("openapi", spec);
    let docs = get(&app, "/api/docs/").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        !docs.text().contains("http"),
        "the docs page loads its assets from this server"
    );
}

async fn open_data_downloads_name_edition_and_date_and_are_valid_files(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let date = |reply: &Reply| reply.header("content-disposition");
    let csv = get(&app, "/opendata/072052/r2-r4/csv").await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let disposition = date(&csv);
    assert!(
        disposition.starts_with("attachment; filename=\"keikaku-072052-r2-r4-20")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));

    let sjis = get(&app, "/opendata/072052/r2-r4/csv-sjis").await;
    assert!(date(&sjis).ends_with("-sjis.csv\""));
    let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis.body);
    assert!(
        !errors && text.contains("地域おこし協力隊活用事業"),
        "Shift_JIS decodes"
    );

    let xlsx = get(&app, "/opendata/072052/r2-r4/xlsx").await;
    assert!(date(&xlsx).ends_with(".xlsx\""));
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("xlsx opens");
    assert_eq!(workbook.sheet_names(), ["事業", "施策", "基本目標"]);
    let projects = workbook.worksheet_range("事業").expect("sheet");
    assert_eq!(projects.height(), 1 + 33 * 3);

    let json = get(&app, "/opendata/072052/r2-r4/json").await;
    assert_eq!(json.json()["format"], "keikaku-plan");

    let package = get(&app, "/opendata/all/datapackage").await;
    assert_eq!(package.header("content-type"), "application/zip");
    assert!(
        date(&package).starts_with("attachment; filename=\"keikaku-all-20")
            && date(&package).ends_with("-datapackage.zip\"")
    );
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(package.body.clone())).expect("zip opens");
    let names: Vec<String> = (0..archive.len())
        .map(|i| {
            archive
                .by_index(i)
                .expect("entry")
                .name()
                .expect("utf-8 name")
                .into_owned()
        })
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("/datapackage.json"))
            && names.iter().any(|n| n.ends_with("/projects.csv")),
        "{names:?}"
    );
    let descriptor_name = names
        .iter()
        .find(|n| n.ends_with("datapackage.json"))
        .expect("descriptor")
        .clone();
    let mut descriptor = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name(&descriptor_name).expect("entry"),
        &mut descriptor,
    )
    .expect("read");
    let descriptor: Value = serde_json::from_str(&descriptor).expect("json");
    assert_eq!(descriptor["licenses"][0]["name"], "CC-BY-4.0");
    assert!(
        descriptor["created"]
            .as_str()
            .is_some_and(|c| c.starts_with("20"))
    );

    assert_eq!(
        get(&app, "/opendata/072052/r2-r4/pdf").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/opendata/072052/r9-r11/csv").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_head_request_does_not_empty_the_cached_page(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let head = request(&app, Method::HEAD, "/072052/r2-r4/policies/7-2", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    let get_after = get(&app, "/072052/r2-r4/policies/7-2").await;
    assert!(
        get_after.text().contains("男女共同参画推進事業"),
        "GET after HEAD has the whole page"
    );
    let api_head = request(&app, Method::HEAD, "/api/v1/municipalities", &[]).await;
    assert_eq!(api_head.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/api/v1/municipalities").await.json()["items"][0]["code"],
        "072052"
    );
}

async fn unchanged_pages_answer_304_and_new_imports_appear_without_a_restart(backend: Backend) {
    let (app, state, db) = sample_app(backend).await;
    let first = get(&app, "/072052/r2-r4/policies/7-1").await;
    let etag = first.header("etag");
    assert!(!etag.is_empty());
    let again = request(
        &app,
        Method::GET,
        "/072052/r2-r4/policies/7-1",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // Another process (here: the same store) imports a newer edition; the server notices.
    let store = db.store().await;
    let mut edition = import::validate(
        "seed.txt",
        &std::fs::read(seed_path()).expect("seed"),
        None,
        &shirakawa(),
    )
    .editions
    .remove(0)
    .edition;
    edition.span = keikaku_core::EditionSpan::parse("R3-R5").expect("span");
    for project in edition
        .goals
        .iter_mut()
        .flat_map(|g| g.policies.iter_mut())
        .flat_map(|p| p.projects.iter_mut())
    {
        project.costs.clear();
    }
    let json = canonical::to_json(&[edition]);
    let newer = ImportRequest {
        name: "r3.json",
        bytes: json.as_bytes(),
        layout: None,
        context: Context::default(),
        replace: false,
        actor: "test",
    };
    import::import(&store, newer).await.expect("import");
    assert!(
        state.refresh().await.expect("refresh"),
        "the new data version is seen"
    );
    assert!(
        !state.refresh().await.expect("refresh"),
        "nothing new the second time"
    );
    let root = get(&app, "/").await;
    assert_eq!(
        root.header("location"),
        "/072052/r3-r5",
        "the latest edition opens"
    );
    let old = get(&app, "/072052/r2-r4").await.text();
    assert!(
        old.contains("R3-R5（令和3年度～令和5年度）"),
        "edition switcher lists the other edition"
    );
    let changed = request(
        &app,
        Method::GET,
        "/072052/r2-r4/policies/7-1",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(
        changed.status,
        StatusCode::OK,
        "the page changed (it now links the other edition)"
    );
}

/// Follows every same-site link from `start` (breadth first, up to `limit` pages) and returns
/// the links that did not answer 200, with the page that holds them, and the number of
/// pages requested. Downloads are requested but not parsed; the API explorer is skipped.
pub(crate) async fn broken_links(app: &Router, start: &str, limit: usize) -> (Vec<String>, usize) {
    let mut seen = std::collections::HashSet::from([start.to_owned()]);
    let mut queue = std::collections::VecDeque::from([(start.to_owned(), "(start)".to_owned())]);
    let mut broken = Vec::new();
    let mut visited = 0;
    while let Some((uri, from)) = queue.pop_front() {
        visited += 1;
        assert!(
            visited <= limit,
            "more than {limit} pages: the portal links without end"
        );
        let reply = get(app, &uri).await;
        // `/` sends people to the plan (303); any other redirect means a link that is not
        // canonical.
        if reply.status == StatusCode::SEE_OTHER {
            let location = reply.header("location");
            if seen.insert(location.clone()) {
                queue.push_back((location, uri.clone()));
            }
            continue;
        }
        if reply.status != StatusCode::OK {
            broken.push(format!("{uri} (linked from {from}): {}", reply.status));
            continue;
        }
        if !reply.header("content-type").starts_with("text/html") {
            continue;
        }
        let html = reply.text();
        for piece in html.split("href=\"").skip(1) {
            let Some(end) = piece.find('"') else { continue };
            let href = piece[..end].replace("&#38;", "&").replace("&amp;", "&");
            let href = href.split('#').next().unwrap_or("").to_owned();
            if !href.starts_with('/') || href.starts_with("//") || href.starts_with("/api/docs") {
                continue;
            }
            if seen.insert(href.clone()) {
                queue.push_back((href, uri.clone()));
            }
        }
    }
    (broken, visited)
}

async fn every_link_on_the_portal_leads_somewhere(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let (broken, visited) = broken_links(&app, "/072052/r2-r4", 2_000).await;
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // 33 projects, 6 policies, departments, codes, 区分, downloads: the walk saw them.
    assert!(visited > 33 + 6 + 20, "only {visited} pages reached");
}

async fn a_trailing_slash_redirects_within_the_site_only(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    for (uri, target) in [
        ("/072052/r2-r4/", "/072052/r2-r4"),
        ("/072052/r2-r4/policies/7-1//", "/072052/r2-r4/policies/7-1"),
        (
            "/072052/r2-r4/search/?q=%E7%A7%BB%E4%BD%8F",
            "/072052/r2-r4/search?q=%E7%A7%BB%E4%BD%8F",
        ),
    ] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT, "{uri}");
        assert_eq!(reply.header("location"), target, "{uri}");
    }
    for uri in ["//evil.example/", "/api/v1/municipalities/"] {
        let reply = get(&app, uri).await;
        assert!(
            !reply.status.is_redirection(),
            "{uri} redirected to {}",
            reply.header("location")
        );
    }
    // An encoded slash stays a path segment of this site.
    let reply = get(&app, "/%2F/evil.example/").await;
    assert_eq!(reply.header("location"), "/%2F/evil.example");
}

// ----- one filter, one set of rules (CLI, API, portal) -----

#[tokio::test]
async fn a_filter_that_names_nothing_is_not_found_in_the_cli_the_api_and_the_portal() {
    use super::support::{import_seed, keikaku, stderr, stdout};
    for db in databases().await {
        import_seed(&db);
        let app = web::app(AppState::load(db.store().await).await.expect("state"));
        let base = "/072052/r2-r4";
        let api = "/api/v1/municipalities/072052/editions/r2-r4";
        // Each value is well-formed and names nothing in the sample plan (its 区分 are 新規
        // and 継続, its strategy goals Ⅰ–Ⅲ, its policies 7-1 to 7-6).
        for (field, value, list) in [
            ("department", "存在しない課", "departments"),
            ("status", "見直し", "status"),
            ("policy", "9-9", "policies"),
            ("strategy", "Ⅴ(1)", "strategies"),
        ] {
            let flag = format!("--{field}");
            let en = keikaku(&db, &["projects", &flag, value]);
            assert_eq!(en.status.code(), Some(1), "{}: {flag} {value}", db.label);
            assert!(stdout(&en).is_empty(), "no table for {flag} {value}");
            assert!(
                stderr(&en).contains(value) && stderr(&en).contains("in this edition"),
                "{flag} {value}: {}",
                stderr(&en)
            );
            let ja = keikaku(&db, &["--lang", "ja", "projects", &flag, value]);
            assert_eq!(ja.status.code(), Some(1), "{flag} {value}");
            assert!(
                stderr(&ja).contains(&format!("「{value}」はこの計画にありません")),
                "{flag} {value}: {}",
                stderr(&ja)
            );
            for uri in [
                format!("{api}/projects?{field}={}", enc(value)),
                format!("{api}/search?q=a&{field}={}", enc(value)),
            ] {
                let reply = get(&app, &uri).await;
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
                assert_eq!(reply.json()["error"]["code"], "not_found", "{uri}");
            }
            let uri = format!("{base}/search?q=a&{field}={}", enc(value));
            let page = get(&app, &uri).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{uri}");
            let html = page.text();
            assert!(html.contains(&format!("「{value}」")), "{uri}: says what");
            assert!(
                html.contains(&format!("href=\"{base}/{list}\"")),
                "{uri}: links the list of {field}"
            );
        }
        for (path, list) in [
            (
                format!("{base}/departments/{}", enc("存在しない課")),
                "departments",
            ),
            (format!("{base}/status/{}", enc("見直し")), "status"),
            (format!("{base}/strategies/5-1"), "strategies"),
        ] {
            let page = get(&app, &path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                page.text().contains(&format!("href=\"{base}/{list}\"")),
                "{path}: links the list"
            );
        }

        // A value that is not of the form of its field is a bad request everywhere.
        let malformed = keikaku(&db, &["projects", "--strategy", "IV"]);
        assert_eq!(malformed.status.code(), Some(2), "{}", stderr(&malformed));
        assert!(stderr(&malformed).contains("not a strategy code"));
        let reply = get(&app, &format!("{api}/projects?strategy=IV")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let reply = get(&app, &format!("{base}/search?q=a&strategy=IV")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);

        // Values in another spelling name the same thing everywhere: III(4) is Ⅲ(4).
        let out = keikaku(
            &db,
            &["projects", "--strategy", "III(4)", "--format", "json"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let listed: Value = serde_json::from_str(&stdout(&out)).expect("json");
        let expected = PROJECTS
            .iter()
            .filter(|p| p.strategies.contains(&"Ⅲ(4)"))
            .count();
        assert_eq!(listed.as_array().map(Vec::len), Some(expected));
        let reply = get(&app, &format!("{api}/projects?strategy={}", enc("III(4)"))).await;
        assert_eq!(reply.json()["total"], expected);

        // 7-1 No.9 is written `I(4) III(4)` in the document; every listing shows the
        // normalised codes.
        let table = stdout(&keikaku(
            &db,
            &["projects", "--policy", "7-1", "--format", "table"],
        ));
        assert!(
            table.contains("Ⅰ(4) Ⅲ(4)") && !table.contains("I(4) III(4)"),
            "{table}"
        );
        let text = stdout(&keikaku(&db, &["projects", "--policy", "7-1"]));
        assert!(text.contains("地方創生事業: Ⅰ(4) Ⅲ(4)"), "{text}");
        let listing = get(&app, &format!("{base}/policies/7-1")).await.text();
        assert!(
            listing.contains("Ⅰ(4) Ⅲ(4)") && !listing.contains("I(4) III(4)"),
            "portal listing"
        );
        db.cleanup().await;
    }
}

// ----- query parameters: one rule for every route -----

/// Every URL reachable by links from `starts` (breadth first, up to `limit`), with the
/// status it answered. Redirects are followed; the API explorer is skipped.
async fn walk(app: &Router, starts: &[&str], limit: usize) -> Vec<(String, StatusCode)> {
    let mut seen: std::collections::HashSet<String> =
        starts.iter().map(|s| (*s).to_owned()).collect();
    let mut queue: std::collections::VecDeque<String> =
        starts.iter().map(|s| (*s).to_owned()).collect();
    let mut visited = Vec::new();
    while let Some(uri) = queue.pop_front() {
        assert!(visited.len() < limit, "more than {limit} pages");
        let reply = get(app, &uri).await;
        visited.push((uri.clone(), reply.status));
        let mut links = Vec::new();
        if reply.status.is_redirection() {
            links.push(reply.header("location"));
        } else if reply.header("content-type").starts_with("text/html") {
            let html = reply.text();
            for piece in html.split("href=\"").skip(1) {
                let Some(end) = piece.find('"') else { continue };
                let href = piece[..end].replace("&#38;", "&").replace("&amp;", "&");
                links.push(href.split('#').next().unwrap_or("").to_owned());
            }
        }
        for href in links {
            if href.starts_with('/')
                && !href.starts_with("//")
                && !href.starts_with("/api/docs")
                && seen.insert(href.clone())
            {
                queue.push_back(href);
            }
        }
    }
    visited
}

/// A small second municipality (福島市, three projects), so that `/` lists municipalities.
const SECOND_CITY: &str = r#"{
  "format": "keikaku-plan", "version": 1,
  "municipalities": [{"code": "072010", "name": "福島市", "editions": [{
    "first_year": 2020, "last_year": 2022, "title": "福島市実施計画", "source": "f.json",
    "goals": [{"number": 1, "title": "子どもが育つまち", "field": "子育て・教育分野", "policies": [
      {"code": "1-1", "title": "子育て支援", "vision": "", "projects": [
        {"id": "072010-r2-1-1-1", "number": 1, "name": "こども食堂支援事業", "summary": "",
         "status": "新規", "departments": ["こども政策課"],
         "strategies": [{"code": "Ⅰ(1)", "raw": "Ⅰ(1)"}],
         "costs": [{"year": 2020, "total": 1000, "earmarked": 400, "general": 600}]},
        {"id": "072010-r2-1-1-2", "number": 2, "name": "放課後児童クラブ運営事業", "summary": "",
         "status": "継続", "departments": ["こども政策課"], "strategies": [],
         "costs": [{"year": 2020, "total": 500, "earmarked": 500, "general": 0}]}]}]}]}]}]
}"#;

/// The sample in two editions (R2-R4 and a published R3-R5 rolled from it) and a second
/// municipality: every kind of page exists, the diff pages included.
async fn two_municipalities(db: &super::support::TestDb) -> Router {
    use super::support::{import_seed, keikaku, stderr};
    import_seed(db);
    for args in [
        &["roll", "--from", "R2-R4", "--to", "R3-R5"][..],
        &[
            "publish",
            "--edition",
            "R3-R5",
            "--municipality",
            "072052",
            "--allow-incomplete",
        ][..],
    ] {
        let out = keikaku(db, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let file = db.dir.path().join("fukushima.json");
    std::fs::write(&file, SECOND_CITY).expect("write");
    let out = keikaku(db, &["import", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    web::app(AppState::load(db.store().await).await.expect("state"))
}

/// Appends a parameter to a URL that may already have a query.
fn with_param(uri: &str, param: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{param}")
}

#[tokio::test]
async fn every_route_refuses_unknown_parameters_and_ignores_tracking_ones() {
    let db = databases().await.remove(0);
    let app = two_municipalities(&db).await;
    let mut routes: Vec<String> = walk(&app, &["/"], 3_000)
        .await
        .into_iter()
        .filter(|(_, status)| status.is_success() || status.is_redirection())
        .map(|(uri, _)| uri)
        .collect();
    // Pages that nothing links to, or only a form reaches.
    routes.extend(
        [
            "/",
            "/072052",
            "/072052/diff?from=r2-r4&to=r3-r5",
            "/compare?m=072052,072010&by=status&metric=cost",
            "/search?q=%E4%BA%8B%E6%A5%AD",
            "/municipalities?q=%E7%99%BD%E6%B2%B3&pref=7",
            "/072052/r2-r4/search?q=a&department=%E8%B2%A1%E6%94%BF%E8%AA%B2",
            "/healthz",
            "/static/style.css",
            "/static/favicon.svg",
            "/api/openapi.json",
        ]
        .map(str::to_owned),
    );
    // Every API route from its own description, with example values.
    let spec = get(&app, "/api/openapi.json").await.json();
    for path in spec["paths"].as_object().expect("paths").keys() {
        // The admin API answers 401 before anything else without a session; its parameters
        // are checked in tests/integration/workspace.rs.
        if path.starts_with("/api/admin/") {
            continue;
        }
        let uri = path
            .replace("{code}", "072052")
            .replace("{edition}", "r2-r4")
            .replace("{policy}", "7-1")
            .replace("{project}", "7-1-3")
            .replace("{by}", "policy");
        routes.push(if uri.ends_with("/search") {
            format!("{uri}?q=a")
        } else {
            uri
        });
    }
    for kind in [
        "opendata", "/api/", "/diff/", "/search", "/compare", "/healthz", "/static/",
    ] {
        assert!(
            routes.iter().any(|r| r.contains(kind)),
            "the walk reached no {kind} route"
        );
    }
    let mut wrong = Vec::new();
    for uri in &routes {
        let plain = get(&app, uri).await;
        let bogus = get(&app, &with_param(uri, "bogus=1")).await;
        if bogus.status != StatusCode::BAD_REQUEST {
            wrong.push(format!("{uri}&bogus=1: {} (want 400)", bogus.status));
        } else if uri.starts_with("/api/") {
            if bogus.json()["error"]["code"] != "bad_request" {
                wrong.push(format!("{uri}&bogus=1: {}", bogus.text()));
            }
        } else if !bogus.text().contains("bogus") {
            wrong.push(format!(
                "{uri}&bogus=1: the 400 does not name the parameter"
            ));
        }
        let shared = get(
            &app,
            &with_param(
                uri,
                "utm_source=sns&utm_campaign=r2&fbclid=IwAR0x&gclid=Cj0K",
            ),
        )
        .await;
        if shared.status != plain.status {
            wrong.push(format!(
                "{uri} with tracking parameters: {} (without: {})",
                shared.status, plain.status
            ));
        } else if plain.status == StatusCode::OK
            && !uri.starts_with("/healthz")
            && shared.header("etag") != plain.header("etag")
        {
            wrong.push(format!("{uri} with tracking parameters: another response"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} routes break the rule:\n{}",
        wrong.len(),
        routes.len(),
        wrong.join("\n")
    );
    db.cleanup().await;
}

// ----- the response cache -----

async fn tracking_parameters_share_the_canonical_entry_and_refused_requests_are_never_kept(
    backend: Backend,
) {
    let (app, state, _db) = sample_app(backend).await;
    let page = "/072052/r2-r4/policies/7-1";
    let plain = get(&app, page).await;
    assert_eq!(plain.status, StatusCode::OK);
    let shared_uri = format!("{page}?utm_source=sns&utm_medium=social&fbclid=IwAR0x");
    let shared = get(&app, &shared_uri).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text());
    assert_eq!(shared.header("etag"), plain.header("etag"));
    assert_eq!(shared.body, plain.body);
    assert!(
        state.snapshot().cache.get(&shared_uri).is_none(),
        "no entry of its own for a link with tracking parameters"
    );

    // The order of parameters does not make another entry.
    let search = "/072052/r2-r4/search";
    let (q, department) = (enc("財政"), enc("財政課"));
    let one = get(&app, &format!("{search}?q={q}&department={department}")).await;
    let other_uri = format!("{search}?department={department}&q={q}&utm_content=x");
    let other = get(&app, &other_uri).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.header("etag"), other.header("etag"));
    assert!(state.snapshot().cache.get(&other_uri).is_none());

    // Downloads with parameters they do not take are refused and never rendered into the
    // cache (60 of them once took a server from 582 MB to 1.45 GB).
    for n in 1..=60 {
        let uri = format!("/opendata/072052/r2-r4/xlsx?n={n}");
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(state.snapshot().cache.get(&uri).is_none(), "{uri} kept");
    }
}

// ----- API paging -----

async fn every_api_list_is_paged_by_the_same_rules(backend: Backend) {
    let (app, _, _db) = sample_app(backend).await;
    let edition = "/api/v1/municipalities/072052/editions/r2-r4";
    // Totals as the sample has them: one municipality, one edition, one goal, six policies,
    // 33 projects, two projects whose summaries mention 移住 (7-3-6 and 7-3-7).
    let lists = [
        ("/api/v1/municipalities".to_owned(), 1u64),
        ("/api/v1/municipalities/072052/editions".to_owned(), 1),
        (format!("{edition}/goals"), 1),
        (format!("{edition}/policies"), 6),
        (format!("{edition}/projects"), 33),
        (format!("{edition}/search?q={}", enc("移住")), 2),
    ];
    for (list, total) in &lists {
        let total = *total;
        let first = get(&app, list).await;
        assert_eq!(first.status, StatusCode::OK, "{list}");
        let body = first.json();
        assert_eq!(body["total"], total, "{list}");
        assert_eq!(body["page"], 1, "{list}");
        assert_eq!(body["per_page"], 20, "{list}");
        assert_eq!(body["pages"], total.div_ceil(20), "{list}");
        assert_eq!(
            body["items"].as_array().map(Vec::len),
            Some(total.min(20) as usize),
            "{list}"
        );
        for bad in [
            "per_page=0",
            "per_page=101",
            "page=0",
            "page=100001",
            "page=x",
        ] {
            let reply = get(&app, &with_param(list, bad)).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{list} {bad}");
            assert_eq!(reply.json()["error"]["code"], "bad_request", "{list} {bad}");
        }
        let last = get(&app, &with_param(list, &format!("per_page=1&page={total}"))).await;
        assert_eq!(last.status, StatusCode::OK, "{list}: the last page");
        assert_eq!(last.json()["items"].as_array().map(Vec::len), Some(1));
        let past = get(
            &app,
            &with_param(list, &format!("per_page=1&page={}", total + 1)),
        )
        .await;
        assert_eq!(
            past.status,
            StatusCode::NOT_FOUND,
            "{list}: past the last page"
        );
        assert_eq!(past.json()["error"]["code"], "not_found");
    }
    // A list with nothing in it has one (empty) page.
    let none = get(
        &app,
        &format!("{edition}/search?q={}", enc("存在しない言葉")),
    )
    .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["total"], 0);
    assert_eq!(none.json()["pages"], 0);
}

#[tokio::test]
async fn the_response_cache_stays_within_its_byte_budget_and_large_files_pass_through() {
    let db = databases().await.remove(0);
    let store = db.store().await;
    seeded(&store).await;
    let budget = 256 * 1024;
    let state = AppState::load(store)
        .await
        .expect("state")
        .with_cache_bytes(budget);
    let app = web::app(state.clone());
    let cache = || state.snapshot();
    assert_eq!(cache().cache.budget(), budget);

    // Distinct searches, each a page worth keeping, rendering several budgets' worth.
    let mut rendered = 0;
    for i in 0..150 {
        let uri = format!("/072052/r2-r4/search?q={}", enc(&format!("事業 {i}")));
        let reply = get(&app, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert!(reply.body.len() <= cache().cache.largest(), "{uri} is kept");
        rendered += reply.body.len();
        let held = cache().cache.bytes();
        assert!(held <= budget, "{held} bytes held after {uri}");
    }
    assert!(rendered > 3 * budget, "only {rendered} bytes rendered");
    assert!(cache().cache.len() < 150, "older pages were dropped");
    let last = format!("/072052/r2-r4/search?q={}", enc("事業 149"));
    assert!(
        cache().cache.get(&last).is_some(),
        "the latest page is kept"
    );

    // A download larger than one response's share is sent whole, and not kept.
    let json = get(&app, "/opendata/all/json").await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(
        json.body.len() > cache().cache.largest(),
        "the file is large"
    );
    assert_eq!(json.json()["format"], "keikaku-plan", "the whole file");
    assert!(cache().cache.get("/opendata/all/json").is_none());

    // A draft rolled changes nothing public: the cache stays. Publishing it reloads the
    // plans, which starts an empty cache with the same budget.
    let store = db.store().await;
    let from = keikaku_core::EditionSpan::parse("R2-R4").expect("span");
    let to = keikaku_core::EditionSpan::parse("R3-R5").expect("span");
    keikaku::ops::editions::roll(&store, None, from, to, "test")
        .await
        .expect("roll");
    assert!(!state.refresh().await.expect("refresh"));
    assert!(!cache().cache.is_empty());
    keikaku::ops::editions::set_state(
        &store,
        &keikaku::ops::EditionSelector {
            municipality: None,
            span: Some(to),
        },
        keikaku_core::EditionState::Published,
        keikaku::ops::editions::PublishOverrides {
            allow_incomplete: true,
            force: false,
        },
        "test",
    )
    .await
    .map_err(|e| e.to_string())
    .expect("publish");
    assert!(state.refresh().await.expect("refresh"));
    assert!(cache().cache.is_empty());
    assert_eq!(cache().cache.budget(), budget);
}

on_every_backend!(
    listings_sort_by_cost_and_by_number_and_refuse_unknown_parameters,
    search_folds_width_case_and_kana_and_finds_summaries,
    every_response_carries_strict_security_headers_and_pages_load_nothing_from_outside,
    static_files_cannot_be_escaped_and_limits_hold,
    api_lists_filters_pages_and_totals,
    api_errors_are_json_with_stable_codes,
    openapi_document_matches_its_snapshot,
    open_data_downloads_name_edition_and_date_and_are_valid_files,
    a_head_request_does_not_empty_the_cached_page,
    unchanged_pages_answer_304_and_new_imports_appear_without_a_restart,
    every_link_on_the_portal_leads_somewhere,
    a_trailing_slash_redirects_within_the_site_only,
    tracking_parameters_share_the_canonical_entry_and_refused_requests_are_never_kept,
    every_api_list_is_paged_by_the_same_rules,
);
