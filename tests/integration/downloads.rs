//! The whole database's downloads on the portal: CSV and JSON streamed with the bytes of
//! `keikaku export`, whatever their size (they never pass through the response cache, which
//! holds at most 16 MiB per response); xlsx and the Data Package refused, with a pointer to
//! what is offered, when the database is too large to build them whole.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use keikaku::web::{self, AppState};
use tower::ServiceExt;

use super::support::{TestDb, databases, import_seed, keikaku, stderr};

/// The response cache's limit per response: the national files are far larger.
const CACHE_LIMIT: usize = 16 * 1024 * 1024;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Reply {
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
    let body = axum::body::to_bytes(response.into_body(), 1024 * 1024 * 1024)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `keikaku export --format FORMAT --out DIR`: the file's name and bytes.
fn cli_export(db: &TestDb, format: &str) -> (String, Vec<u8>) {
    let dir = db.dir.path().join(format!("export-{format}"));
    let out = keikaku(
        db,
        &[
            "export",
            "--format",
            format,
            "--out",
            dir.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let path = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
        .to_owned();
    (name, std::fs::read(&path).expect("exported file"))
}

/// Checks that `/opendata/all/KEY` answers the CLI's file, byte for byte, as an attachment
/// named like it, with the format's content type. Returns the body's length.
async fn same_as_cli(app: &Router, db: &TestDb, key: &str, content_type: &str) -> usize {
    let (name, file) = cli_export(db, key);
    let reply = send(app, Method::GET, &format!("/opendata/all/{key}"), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{key}: {}", reply.text());
    assert_eq!(reply.header(header::CONTENT_TYPE), content_type, "{key}");
    assert_eq!(
        reply.header(header::CONTENT_DISPOSITION),
        format!("attachment; filename=\"{name}\""),
        "{key}"
    );
    assert!(
        reply.body == file,
        "{key}: the portal's {} bytes differ from the CLI's {} bytes",
        reply.body.len(),
        file.len()
    );
    assert_eq!(
        reply.header(header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{key}: security headers"
    );
    reply.body.len()
}

/// 150 municipalities × 2 editions make a CSV of about 26 MB (296 editions' projects, three
/// rows each), well past the response cache's 16 MiB, which answered 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_database_downloads_past_the_cache_limit_stream_the_bytes_of_the_cli_export() {
    let db = databases().await.remove(0);
    let plans = db.dir.path().join("plans");
    let out = keikaku(
        &db,
        &[
            "synth",
            "--municipalities",
            "150",
            "--editions",
            "2",
            "--out",
            plans.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = keikaku(&db, &["import", plans.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let state = AppState::load(db.store().await).await.expect("load");
    let app = web::app(state);

    let csv = same_as_cli(&app, &db, "csv", "text/csv; charset=utf-8").await;
    assert!(csv > CACHE_LIMIT, "the CSV is {csv} bytes");
    let json = same_as_cli(&app, &db, "json", "application/json").await;
    assert!(json > CACHE_LIMIT, "the JSON is {json} bytes");
    same_as_cli(&app, &db, "csv-sjis", "text/csv; charset=Shift_JIS").await;

    // 150 × 2 editions of some 100 projects each: far more than a workbook is built for.
    for key in ["xlsx", "datapackage"] {
        let reply = send(&app, Method::GET, &format!("/opendata/all/{key}"), &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{key}");
        let text = reply.text();
        assert!(
            text.contains("CSV または JSON") && text.contains("計画期間ごと"),
            "{key}: the page points at what is offered: {text}"
        );
    }
    let page = send(&app, Method::GET, "/opendata", &[]).await.text();
    assert!(page.contains("href=\"/opendata/all/csv\""), "{page}");
    assert!(page.contains("href=\"/opendata/all/json\""), "{page}");
    assert!(!page.contains("href=\"/opendata/all/xlsx\""), "{page}");
    assert!(
        !page.contains("href=\"/opendata/all/datapackage\""),
        "{page}"
    );
    assert!(page.contains("提供していません"), "{page}");
    db.cleanup().await;
}

/// Small databases on both backends: the same bytes as the CLI for every streamed format,
/// an ETag naming the data (304 when the client has it), HEAD without a body, and the
/// workbook and package still offered.
#[tokio::test]
async fn whole_database_downloads_match_the_cli_and_answer_conditional_requests() {
    for db in databases().await {
        import_seed(&db);
        let out = keikaku(&db, &["synth", "--municipalities", "3", "--out", "plans"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = keikaku(&db, &["import", "plans"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let state = AppState::load(db.store().await).await.expect("load");
        let app = web::app(state);
        same_as_cli(&app, &db, "csv", "text/csv; charset=utf-8").await;
        same_as_cli(&app, &db, "csv-sjis", "text/csv; charset=Shift_JIS").await;
        same_as_cli(&app, &db, "json", "application/json").await;

        let first = send(&app, Method::GET, "/opendata/all/json", &[]).await;
        let tag = first.header(header::ETAG).to_owned();
        assert!(
            tag.starts_with('"') && tag.ends_with('"'),
            "{}: {tag:?}",
            db.label
        );
        let again = send(
            &app,
            Method::GET,
            "/opendata/all/json",
            &[("if-none-match", &tag)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{}", db.label);
        assert!(again.body.is_empty());
        let csv_tag = send(&app, Method::GET, "/opendata/all/csv", &[])
            .await
            .header(header::ETAG)
            .to_owned();
        assert_ne!(csv_tag, tag, "each format has its own tag");
        let head = send(&app, Method::HEAD, "/opendata/all/csv", &[]).await;
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());
        assert!(
            head.header(header::CONTENT_DISPOSITION)
                .contains("keikaku-all-")
        );

        for (key, magic) in [("xlsx", b"PK"), ("datapackage", b"PK")] {
            let reply = send(&app, Method::GET, &format!("/opendata/all/{key}"), &[]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}: {key}", db.label);
            assert!(reply.body.starts_with(magic), "{}: {key}", db.label);
        }
        let page = send(&app, Method::GET, "/opendata", &[]).await.text();
        assert!(page.contains("href=\"/opendata/all/xlsx\""), "{page}");
        assert!(!page.contains("提供していません"), "{page}");
        db.cleanup().await;
    }
}
