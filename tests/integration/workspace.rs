//! The staff workspace through the web (pages and admin API), in-process: the authorization
//! matrix over every admin route × role × own/other department × own/other municipality ×
//! draft/published edition, CSRF on every unsafe route, sign-in (cookies, session fixation,
//! lockout, logout, expiry), optimistic versions, escaping, review steps and publishing.
//! Runs on SQLite and PostgreSQL.
//!
//! The expected answers are written here from the rules of docs/workspace.md (who may do
//! what), not taken from the code: planning reviews its whole municipality, a department
//! changes only its own projects of a draft, a viewer reads, another municipality's objects
//! do not exist, an administrator of every municipality may do what planning may.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use keikaku::ops::accounts::{self, AddAccount};
use keikaku::ops::editions;
use keikaku::ops::import::{self, ImportRequest};
use keikaku::ops::workspace;
use keikaku::ops::{EditionSelector, OpsError};
use keikaku::storage::Store;
use keikaku::storage::write::Via;
use keikaku::web::admin::{CSRF_HEADER, ROUTES, SESSION_COOKIE};
use keikaku::web::{self, AppState, WorkspaceSettings};
use keikaku_core::import::Context;
use keikaku_core::workspace::{PartState, Role};
use keikaku_core::{EditionSpan, EditionState, Municipality, MunicipalityCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::support::{Backend, database, keikaku, on_every_backend, seed_path, stderr};

const PASSWORD: &str = "correct horse battery";
/// Departments of the sample plan (基本目標7 of 白河市 R2–R4).
const DEPT_A: &str = "企画政策課";
const DEPT_B: &str = "建築住宅課";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, String)],
    body: Body,
) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let response = app
        .clone()
        .oneshot(builder.body(body).expect("request"))
        .await
        .expect("response");
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec(),
    }
}

/// A signed-in session (or none).
#[derive(Clone, Default)]
struct Session {
    token: String,
    csrf: String,
}

fn form_body(pairs: &[(&str, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

/// A page form post with the session's cookie and (unless `csrf` is false) its token.
async fn post_form(
    app: &Router,
    session: &Session,
    uri: &str,
    pairs: &[(&str, String)],
    csrf: bool,
) -> Reply {
    let mut pairs = pairs.to_vec();
    if csrf {
        pairs.push(("csrf", session.csrf.clone()));
    }
    send(
        app,
        Method::POST,
        uri,
        &[
            ("cookie", format!("{SESSION_COOKIE}={}", session.token)),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ],
        Body::from(form_body(&pairs)),
    )
    .await
}

async fn get_as(app: &Router, session: &Session, uri: &str) -> Reply {
    send(
        app,
        Method::GET,
        uri,
        &[("cookie", format!("{SESSION_COOKIE}={}", session.token))],
        Body::empty(),
    )
    .await
}

async fn api(
    app: &Router,
    session: &Session,
    method: Method,
    uri: &str,
    body: Option<Value>,
    extra: &[(&str, String)],
) -> Reply {
    let mut headers = vec![
        ("cookie", format!("{SESSION_COOKIE}={}", session.token)),
        (CSRF_HEADER, session.csrf.clone()),
        ("content-type", "application/json".to_owned()),
    ];
    headers.extend(extra.iter().cloned());
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    send(app, method, uri, &headers, body).await
}

struct World {
    app: Router,
    state: AppState,
    store: Store,
    _db: super::support::TestDb,
    /// A project of DEPT_A only and one of DEPT_B only, in the draft R3-R5.
    project_a: String,
    project_b: String,
}

fn code() -> MunicipalityCode {
    MunicipalityCode::parse("072052").expect("code")
}

fn draft() -> EditionSpan {
    EditionSpan::parse("R3-R5").expect("span")
}

fn published() -> EditionSpan {
    EditionSpan::parse("R2-R4").expect("span")
}

async fn add(
    store: &Store,
    login: &str,
    role: Role,
    municipality: Option<&str>,
    departments: &[&str],
) {
    accounts::add(
        store,
        "test",
        Via::Cli,
        &AddAccount {
            login: login.to_owned(),
            display_name: String::new(),
            role,
            municipality: municipality.map(str::to_owned),
            departments: departments.iter().map(|d| (*d).to_owned()).collect(),
            password: PASSWORD.to_owned(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("add {login}: {e}"));
}

async fn sign_in(store: &Store, login: &str) -> Session {
    let signed = accounts::sign_in(store, &Default::default(), "test", login, PASSWORD)
        .await
        .expect("sign in")
        .expect("accepted");
    Session {
        token: signed.token,
        csrf: signed.csrf_token,
    }
}

/// The sample plan (R2–R4, published), its roll R3–R5 (draft), another municipality's plan,
/// and one account of each kind.
async fn world(backend: Backend) -> World {
    let db = database(backend).await;
    let store = db.store().await;
    let bytes = std::fs::read(seed_path()).expect("seed");
    import::import(
        &store,
        ImportRequest {
            name: "shirakawa.txt",
            bytes: &bytes,
            layout: None,
            context: Context {
                municipality: Some(Municipality {
                    code: code(),
                    name: "白河市".into(),
                }),
                ..Context::default()
            },
            replace: false,
            actor: "test",
        },
    )
    .await
    .expect("import");
    let selector = |span| EditionSelector {
        municipality: Some("072052".into()),
        span: Some(span),
    };
    editions::set_state(
        &store,
        &selector(published()),
        EditionState::Published,
        editions::PublishOverrides {
            allow_incomplete: true,
            force: false,
        },
        "test",
    )
    .await
    .map_err(|_| "publish")
    .expect("publish R2-R4");
    editions::roll(&store, Some("072052".into()), published(), draft(), "test")
        .await
        .expect("roll");
    // Another municipality, whose planning office must see nothing of 白河市's.
    let mut tx = store.begin_write("test").await.expect("tx");
    tx.upsert_municipality(&MunicipalityCode::parse("073016").expect("code"), "別の町")
        .await
        .expect("municipality");
    tx.commit().await.expect("commit");
    add(&store, "admin", Role::Admin, None, &[]).await;
    add(&store, "planning", Role::Planning, Some("072052"), &[]).await;
    add(
        &store,
        "dept-a",
        Role::Department,
        Some("072052"),
        &[DEPT_A],
    )
    .await;
    add(
        &store,
        "dept-b",
        Role::Department,
        Some("072052"),
        &[DEPT_B],
    )
    .await;
    add(&store, "viewer", Role::Viewer, Some("072052"), &[]).await;
    add(&store, "other", Role::Planning, Some("073016"), &[]).await;
    let edition = store
        .edition(
            store
                .edition_id(&code(), draft())
                .await
                .expect("id")
                .expect("R3-R5 stored"),
        )
        .await
        .expect("edition");
    let only = |d: &str| {
        edition
            .projects()
            .find(|(_, p)| p.departments == [d.to_owned()])
            .map(|(_, p)| p.id.as_str().to_owned())
            .unwrap_or_else(|| panic!("a project of {d} alone"))
    };
    let (project_a, project_b) = (only(DEPT_A), only(DEPT_B));
    let state = AppState::load(store.clone())
        .await
        .expect("state")
        .with_workspace(WorkspaceSettings::default());
    World {
        app: web::app(state.clone()),
        state,
        store,
        _db: db,
        project_a,
        project_b,
    }
}

/// The version of a project as stored now.
async fn version(store: &Store, span: EditionSpan, id: &str) -> String {
    let actor = keikaku_core::workspace::Actor {
        role: Role::Planning,
        municipality: Some(code()),
        departments: Vec::new(),
    };
    workspace::project(store, &actor, &code(), span, id)
        .await
        .map(|(_, view)| view.version)
        .unwrap_or_default()
}

/// Puts a department's part back to 入力中 (between two cases of the matrix).
async fn reopen(store: &Store, department: &str) {
    let mut tx = store.begin_write("test").await.expect("tx");
    let from = tx
        .part_state(&code(), draft(), department)
        .await
        .expect("state");
    if from != PartState::Open {
        tx.set_part_state(&code(), draft(), department, from, PartState::Open, "")
            .await
            .expect("reopen");
        tx.commit().await.expect("commit");
    }
}

async fn set_part(store: &Store, department: &str, to: PartState) {
    let mut tx = store.begin_write("test").await.expect("tx");
    let from = tx
        .part_state(&code(), draft(), department)
        .await
        .expect("state");
    tx.set_part_state(&code(), draft(), department, from, to, "")
        .await
        .expect("set part");
    tx.commit().await.expect("commit");
}

async fn back_to_draft(store: &Store) -> Result<(), OpsError> {
    editions::set_state(
        store,
        &EditionSelector {
            municipality: Some("072052".into()),
            span: Some(draft()),
        },
        EditionState::Draft,
        editions::PublishOverrides::default(),
        "test",
    )
    .await
    .map(|_| ())
    .map_err(|_| OpsError::BadRequest("draft".into()))
}

/// The roles of the matrix, with the login of each.
const ROLES: [(&str, &str); 6] = [
    ("admin", "admin"),
    ("planning", "planning"),
    ("department of the project", "dept-a"),
    ("department of another project", "dept-b"),
    ("viewer", "viewer"),
    ("another municipality", "other"),
];

/// What each role gets: [admin, planning, own department, other department, viewer, other
/// municipality].
type Expect = [u16; 6];

/// One case of the matrix: a request made as each role, and the status each should get.
struct Case {
    method: Method,
    /// The route's path as [`ROUTES`] writes it.
    route: &'static str,
    /// What the case is about (shown when it fails).
    about: &'static str,
    expect: Expect,
}

const OK: u16 = 200;
const SEE: u16 = 303;
const NO: u16 = 403;
const GONE: u16 = 404;
const LOCKED: u16 = 409;

fn cases() -> Vec<Case> {
    use Method as M;
    let c = |method, route, about, expect| Case {
        method,
        route,
        about,
        expect,
    };
    vec![
        c(
            M::GET,
            "/admin",
            "list of editions",
            [OK, OK, OK, OK, OK, OK],
        ),
        c(
            M::GET,
            "/admin/login",
            "sign-in form",
            [OK, OK, OK, OK, OK, OK],
        ),
        c(
            M::POST,
            "/admin/login",
            "sign-in without the form's token",
            [NO, NO, NO, NO, NO, NO],
        ),
        c(
            M::POST,
            "/admin/logout",
            "sign out",
            [SEE, SEE, SEE, SEE, SEE, SEE],
        ),
        c(
            M::GET,
            "/admin/{code}/{edition}",
            "dashboard of the draft",
            [OK, OK, OK, OK, OK, GONE],
        ),
        c(
            M::GET,
            "/admin/{code}/{edition}/projects",
            "project list",
            [OK, OK, OK, OK, OK, GONE],
        ),
        c(
            M::GET,
            "/admin/{code}/{edition}/projects/new",
            "new project form",
            [OK, OK, OK, OK, OK, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/projects/new",
            "add a project of the own department",
            [SEE, SEE, SEE, NO, NO, GONE],
        ),
        c(
            M::GET,
            "/admin/{code}/{edition}/projects/{id}",
            "project form",
            [OK, OK, OK, OK, OK, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/projects/{id}",
            "save a project of the draft",
            [SEE, SEE, SEE, NO, NO, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/projects/{id}",
            "correct a project of the published edition (with a reason)",
            [SEE, SEE, LOCKED, LOCKED, NO, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/departments/{department}/{step}",
            "submit the department's part",
            [SEE, SEE, SEE, NO, NO, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/departments/{department}/{step}",
            "approve a submitted part",
            [SEE, SEE, NO, NO, NO, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/publish",
            "publish with force",
            [SEE, SEE, NO, NO, NO, GONE],
        ),
        c(
            M::GET,
            "/admin/{code}/{edition}/sheet",
            "download the department's sheet",
            [OK, OK, OK, NO, OK, GONE],
        ),
        c(
            M::POST,
            "/admin/{code}/{edition}/sheet",
            "upload the department's sheet with one change",
            [OK, OK, OK, NO, NO, GONE],
        ),
        c(
            M::GET,
            "/admin/password",
            "own password form",
            [OK, OK, OK, OK, OK, OK],
        ),
        c(
            M::POST,
            "/admin/password",
            "change one's password with a wrong current one",
            [422, 422, 422, 422, 422, 422],
        ),
        c(
            M::GET,
            "/admin/{code}/audit",
            "audit log page",
            [OK, OK, OK, OK, NO, GONE],
        ),
        c(
            M::POST,
            "/api/admin/v1/session",
            "API sign-in with a wrong password",
            [401, 401, 401, 401, 401, 401],
        ),
        c(
            M::DELETE,
            "/api/admin/v1/session",
            "API sign-out",
            [204, 204, 204, 204, 204, 204],
        ),
        c(
            M::GET,
            "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}",
            "API read a project",
            [OK, OK, OK, OK, OK, GONE],
        ),
        c(
            M::PATCH,
            "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}",
            "API change a project of the draft",
            [OK, OK, OK, NO, NO, GONE],
        ),
        c(
            M::PATCH,
            "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}",
            "API correct a project of the published edition (with a reason)",
            [OK, OK, LOCKED, LOCKED, NO, GONE],
        ),
        c(
            M::POST,
            "/api/admin/v1/municipalities/{code}/editions/{edition}/departments/{department}/{step}",
            "API submit the department's part",
            [OK, OK, OK, NO, NO, GONE],
        ),
        c(
            M::POST,
            "/api/admin/v1/municipalities/{code}/editions/{edition}/departments/{department}/{step}",
            "API return a submitted part",
            [OK, OK, NO, NO, NO, GONE],
        ),
        c(
            M::GET,
            "/api/admin/v1/audit",
            "API audit log of the municipality",
            [OK, OK, OK, OK, NO, GONE],
        ),
    ]
}

/// Runs one case as one role on a fresh session; returns the status.
async fn run_case(w: &World, case: &Case, login: &str, n: usize) -> u16 {
    let session = sign_in(&w.store, login).await;
    // Every case starts with the department's part open for entry.
    reopen(&w.store, DEPT_A).await;
    let id = &w.project_a;
    let on_published = case.about.contains("published");
    let span = if on_published { published() } else { draft() };
    let path = |route: &str| {
        route
            .replace("{code}", "072052")
            .replace("{edition}", &span.slug())
            .replace("{id}", id)
            .replace("{department}", &enc(DEPT_A))
    };
    let reply = match (case.method.as_str(), case.route) {
        ("GET", "/admin/login") => {
            send(&w.app, Method::GET, "/admin/login", &[], Body::empty()).await
        }
        ("POST", "/admin/login") => {
            post_form(
                &w.app,
                &session,
                "/admin/login",
                &[
                    ("login", login.to_owned()),
                    ("password", PASSWORD.to_owned()),
                ],
                false,
            )
            .await
        }
        ("GET", route) if !route.starts_with("/api/") && !route.ends_with("/sheet") => {
            get_as(&w.app, &session, &path(route)).await
        }
        ("POST", "/admin/{code}/{edition}/projects/new") => {
            let mut pairs = vec![
                ("policy", "7-1".to_owned()),
                ("number", (900 + n).to_string()),
                ("name", format!("新しい事業{n}")),
                ("summary", "概要".to_owned()),
                ("status", "新規".to_owned()),
                ("departments", DEPT_A.to_owned()),
                ("strategies", String::new()),
                ("comment", "追加".to_owned()),
            ];
            for year in [2021, 2022, 2023] {
                pairs.push((leak(format!("cost.{year}.total")), "100".into()));
                pairs.push((leak(format!("cost.{year}.earmarked")), "0".into()));
                pairs.push((leak(format!("cost.{year}.general")), "100".into()));
            }
            post_form(&w.app, &session, &path(case.route), &pairs, true).await
        }
        ("POST", "/admin/{code}/{edition}/projects/{id}") => {
            let (policy, form) = current_form(w, span, id).await;
            let mut pairs = form;
            pairs.retain(|(k, _)| *k != "name");
            pairs.push(("name", format!("名前を変えた事業{n}")));
            pairs.push(("version", version(&w.store, span, id).await));
            pairs.push(("comment", "表記の修正".into()));
            let _ = policy;
            post_form(&w.app, &session, &path(case.route), &pairs, true).await
        }
        ("POST", "/admin/{code}/{edition}/departments/{department}/{step}") => {
            reopen(&w.store, DEPT_A).await;
            let step = if case.about.starts_with("approve") {
                set_part(&w.store, DEPT_A, PartState::Submitted).await;
                "approve"
            } else {
                "submit"
            };
            let uri = path(case.route).replace("{step}", step);
            post_form(&w.app, &session, &uri, &[("comment", String::new())], true).await
        }
        ("POST", "/admin/{code}/{edition}/publish") => {
            let reply = post_form(
                &w.app,
                &session,
                &path(case.route),
                &[("force", "1".into())],
                true,
            )
            .await;
            back_to_draft(&w.store).await.expect("draft again");
            reply
        }
        ("GET", "/admin/{code}/{edition}/sheet") => {
            let uri = format!("{}?department={}", path(case.route), enc(DEPT_A));
            get_as(&w.app, &session, &uri).await
        }
        ("POST", "/admin/{code}/{edition}/sheet") => {
            let sheet = edited_sheet(&w.store, DEPT_A, &format!("（改{n}）")).await;
            upload(
                &w.app,
                &session,
                &path(case.route),
                "企画政策課.csv",
                &sheet,
            )
            .await
        }
        ("POST", "/admin/password") => {
            let pairs = [
                ("current", "not the password".to_owned()),
                ("new", "another long password".to_owned()),
                ("repeat", "another long password".to_owned()),
            ];
            post_form(&w.app, &session, "/admin/password", &pairs, true).await
        }
        ("POST", "/admin/logout") => post_form(&w.app, &session, "/admin/logout", &[], true).await,
        ("POST", "/api/admin/v1/session") => {
            api(
                &w.app,
                &Session::default(),
                Method::POST,
                "/api/admin/v1/session",
                Some(json!({"login": login, "password": "wrong password!"})),
                &[],
            )
            .await
        }
        ("DELETE", "/api/admin/v1/session") => {
            api(
                &w.app,
                &session,
                Method::DELETE,
                "/api/admin/v1/session",
                None,
                &[],
            )
            .await
        }
        ("GET", "/api/admin/v1/audit") => {
            api(
                &w.app,
                &session,
                Method::GET,
                "/api/admin/v1/audit?municipality=072052",
                None,
                &[],
            )
            .await
        }
        ("GET", route) => api(&w.app, &session, Method::GET, &path(route), None, &[]).await,
        ("PATCH", route) => {
            let etag = format!("\"{}\"", version(&w.store, span, id).await);
            api(
                &w.app,
                &session,
                Method::PATCH,
                &path(route),
                Some(json!({"summary": format!("概要を更新{n}"), "comment": "更新"})),
                &[("if-match", etag)],
            )
            .await
        }
        ("POST", route) if route.ends_with("{step}") => {
            reopen(&w.store, DEPT_A).await;
            let (step, body) = if case.about.contains("return") {
                set_part(&w.store, DEPT_A, PartState::Submitted).await;
                ("return", json!({"comment": "金額を確認してください"}))
            } else {
                ("submit", json!({}))
            };
            let uri = path(route).replace("{step}", step);
            api(&w.app, &session, Method::POST, &uri, Some(body), &[]).await
        }
        (method, route) => panic!("the matrix has no request for {method} {route}"),
    };
    reply.status.as_u16()
}

/// The department's entry sheet (CSV) of the draft as stored now, with the first row's 事業名
/// changed by `suffix`.
async fn edited_sheet(store: &Store, department: &str, suffix: &str) -> Vec<u8> {
    sheet_with(store, department, |header, row| {
        let name = header.iter().position(|h| h == "事業名").expect("事業名");
        row[name] = format!("{}{suffix}", row[name]);
    })
    .await
}

/// The department's entry sheet (CSV) of the draft as stored now, its first row changed by
/// `edit` (given the header).
async fn sheet_with(
    store: &Store,
    department: &str,
    edit: impl FnOnce(&csv::StringRecord, &mut Vec<String>),
) -> Vec<u8> {
    let selector = EditionSelector {
        municipality: Some("072052".into()),
        span: Some(draft()),
    };
    let file = keikaku::ops::sheet::department_template(store, &selector, department, true, &[])
        .await
        .map_err(|e| e.to_string())
        .expect("sheet");
    let text = String::from_utf8(file.bytes).expect("utf-8");
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut first: Vec<String> = rows[0].iter().map(str::to_owned).collect();
    edit(&header, &mut first);
    rows[0] = csv::StringRecord::from(first);
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(&header).expect("header");
    for row in &rows {
        writer.write_record(row).expect("row");
    }
    writer.into_inner().expect("csv")
}

/// Posts `bytes` as the file of the upload form (multipart), with the session's CSRF token.
async fn upload(
    app: &Router,
    session: &Session,
    uri: &str,
    file_name: &str,
    bytes: &[u8],
) -> Reply {
    let boundary = "keikaku-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
            session.csrf
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\ncontent-type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    send(
        app,
        Method::POST,
        uri,
        &[
            ("cookie", format!("{SESSION_COOKIE}={}", session.token)),
            (
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        Body::from(body),
    )
    .await
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The form fields of a stored project, as the page fills them.
async fn current_form(
    w: &World,
    span: EditionSpan,
    id: &str,
) -> (String, Vec<(&'static str, String)>) {
    let actor = keikaku_core::workspace::Actor {
        role: Role::Planning,
        municipality: Some(code()),
        departments: Vec::new(),
    };
    let (_, view) = workspace::project(&w.store, &actor, &code(), span, id)
        .await
        .expect("project");
    let form = keikaku_core::form::ProjectForm::of(view.policy, &view.project, span);
    let mut pairs = vec![
        ("policy", form.policy.clone()),
        ("number", form.number.clone()),
        ("name", form.name.clone()),
        ("summary", form.summary.clone()),
        ("status", form.status.clone()),
        ("departments", form.departments.clone()),
        ("strategies", form.strategies.clone()),
    ];
    for (year, [total, earmarked, general]) in &form.costs {
        pairs.push((leak(format!("cost.{}.total", year.year())), total.clone()));
        pairs.push((
            leak(format!("cost.{}.earmarked", year.year())),
            earmarked.clone(),
        ));
        pairs.push((
            leak(format!("cost.{}.general", year.year())),
            general.clone(),
        ));
    }
    (form.policy, pairs)
}

fn enc(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Every admin route × every role: the status each gets is the one the rules give; a route
/// of the router that no case covers fails the test.
async fn authorization_matrix(backend: Backend) {
    let w = world(backend).await;
    let cases = cases();
    let covered: BTreeSet<(String, &str)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.route))
        .collect();
    for route in ROUTES {
        assert!(
            covered.contains(&(route.method.to_string(), route.path)),
            "no case of the authorization matrix covers {} {}: add one",
            route.method,
            route.path
        );
    }
    let mut failures = Vec::new();
    let mut n = 0;
    for case in &cases {
        for (i, (role, login)) in ROLES.iter().enumerate() {
            n += 1;
            let got = run_case(&w, case, login, n).await;
            if got != case.expect[i] {
                failures.push(format!(
                    "{} {} ({}) as {role}: got {got}, expected {}",
                    case.method, case.route, case.about, case.expect[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
}

/// Without a session: pages send people to the sign-in form, the API answers 401; nothing
/// changes.
async fn anonymous_requests_are_refused(backend: Backend) {
    let w = world(backend).await;
    let before = w.store.audit_head().await.expect("head");
    for route in ROUTES
        .iter()
        .filter(|r| r.access == keikaku::web::admin::Access::SignedIn)
    {
        let uri = route
            .path
            .replace("{code}", "072052")
            .replace("{edition}", "r3-r5")
            .replace("{id}", &w.project_a)
            .replace("{department}", &enc(DEPT_A))
            .replace("{step}", "submit");
        let reply = send(
            &w.app,
            route.method.clone(),
            &uri,
            &[("content-type", "application/json".into())],
            Body::from("{}"),
        )
        .await;
        if uri.starts_with("/api/") {
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} {uri}",
                route.method
            );
            assert_eq!(reply.json()["error"]["code"], "unauthorized");
        } else {
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{} {uri}",
                route.method
            );
            assert_eq!(reply.header("location"), "/admin/login");
        }
    }
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        before,
        "nothing was recorded"
    );
}

/// Every unsafe route refuses a request without the session's CSRF token (and with a wrong
/// one), whoever sends it, and changes nothing.
async fn csrf_is_required_on_every_unsafe_route(backend: Backend) {
    let w = world(backend).await;
    let session = sign_in(&w.store, "planning").await;
    let before = w.store.audit_head().await.expect("head");
    for route in ROUTES
        .iter()
        .filter(|r| r.is_unsafe() && r.access == keikaku::web::admin::Access::SignedIn)
    {
        let uri = route
            .path
            .replace("{code}", "072052")
            .replace("{edition}", "r3-r5")
            .replace("{id}", &w.project_a)
            .replace("{department}", &enc(DEPT_A))
            .replace("{step}", "submit");
        for token in [None, Some("0".repeat(43))] {
            let mut headers = vec![("cookie", format!("{SESSION_COOKIE}={}", session.token))];
            let body = if uri.starts_with("/api/") {
                headers.push(("content-type", "application/json".into()));
                if let Some(t) = &token {
                    headers.push((CSRF_HEADER, t.clone()));
                }
                Body::from("{\"comment\":\"x\"}")
            } else {
                headers.push(("content-type", "application/x-www-form-urlencoded".into()));
                let mut pairs = vec![("comment", "x".to_owned()), ("force", "1".to_owned())];
                if let Some(t) = &token {
                    pairs.push(("csrf", t.clone()));
                }
                Body::from(form_body(&pairs))
            };
            let reply = send(&w.app, route.method.clone(), &uri, &headers, body).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{} {uri} with token {token:?}",
                route.method
            );
        }
    }
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        before,
        "nothing was recorded"
    );
    // The session still works: a refused request does not end it.
    assert_eq!(
        get_as(&w.app, &session, "/admin").await.status,
        StatusCode::OK
    );
}

/// Sign-in through the form: the cookie's attributes, a new session id (a planted one is
/// not kept), logout ends the session in the database, repeated failures lock the account.
async fn sign_in_sessions_and_lockout(backend: Backend) {
    let w = world(backend).await;
    let form = send(&w.app, Method::GET, "/admin/login", &[], Body::empty()).await;
    assert_eq!(form.status, StatusCode::OK);
    let login_cookie = form.header("set-cookie");
    assert!(
        login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"),
        "{login_cookie}"
    );
    let token = login_cookie
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("login token");
    let planted = "a".repeat(43);
    let reply = send(
        &w.app,
        Method::POST,
        "/admin/login",
        &[
            (
                "cookie",
                format!("keikaku_login={token}; {SESSION_COOKIE}={planted}"),
            ),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
        Body::from(form_body(&[
            ("login", "dept-a".into()),
            ("password", PASSWORD.into()),
            ("token", token.clone()),
        ])),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let set = reply.header("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "not Secure unless configured: {set}"
    );
    let session_token = set
        .lines()
        .find(|l| l.starts_with(SESSION_COOKIE))
        .and_then(|l| l.split(';').next())
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("session cookie");
    assert_ne!(session_token, planted, "a new session id at sign-in");
    let session = Session {
        token: session_token.clone(),
        csrf: String::new(),
    };
    let home = get_as(&w.app, &session, "/admin").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("R3-R5"), "{}", home.text());
    // Logout: the session is gone from the database, the old cookie opens nothing.
    let csrf = home
        .text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .expect("csrf field");
    let out = post_form(
        &w.app,
        &Session {
            token: session_token.clone(),
            csrf,
        },
        "/admin/logout",
        &[],
        true,
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        accounts::session(&w.store, &Default::default(), &session_token)
            .await
            .expect("lookup")
            .is_none()
    );
    assert_eq!(
        get_as(&w.app, &session, "/admin").await.status,
        StatusCode::SEE_OTHER
    );
    // Lockout: after five wrong passwords even the right one waits.
    for _ in 0..5 {
        let r = api(
            &w.app,
            &Session::default(),
            Method::POST,
            "/api/admin/v1/session",
            Some(json!({"login": "viewer", "password": "wrong password!"})),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = api(
        &w.app,
        &Session::default(),
        Method::POST,
        "/api/admin/v1/session",
        Some(json!({"login": "viewer", "password": PASSWORD})),
        &[],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the right password waits: {}",
        r.text()
    );
    // The answer does not tell a paused account from an unknown login.
    let unknown = api(
        &w.app,
        &Session::default(),
        Method::POST,
        "/api/admin/v1/session",
        Some(json!({"login": "nobody-here", "password": PASSWORD})),
        &[],
    )
    .await;
    assert_eq!((unknown.status, unknown.text()), (r.status, r.text()));
    // A form sign-in from another site (no token of this site's form) is refused.
    let r = send(
        &w.app,
        Method::POST,
        "/admin/login",
        &[("content-type", "application/x-www-form-urlencoded".into())],
        Body::from(form_body(&[
            ("login", "planning".into()),
            ("password", PASSWORD.into()),
        ])),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.header("set-cookie").contains(SESSION_COOKIE));
}

/// Two people edit the same project: the second save is refused with what changed, never a
/// silent overwrite; the first change is on record with its reason.
async fn second_save_of_the_same_version_is_refused(backend: Backend) {
    let w = world(backend).await;
    let planning = sign_in(&w.store, "planning").await;
    let dept = sign_in(&w.store, "dept-a").await;
    let id = w.project_a.clone();
    let uri = format!("/api/admin/v1/municipalities/072052/editions/r3-r5/projects/{id}");
    let read = api(&w.app, &dept, Method::GET, &uri, None, &[]).await;
    assert_eq!(read.status, StatusCode::OK);
    let etag = read.header("etag");
    assert!(!etag.is_empty());
    let first = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"name": "企画担当が直した名前", "comment": "名称変更"})),
        &[("if-match", etag.clone())],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_ne!(first.header("etag"), etag);
    let second = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"name": "担当課の名前", "comment": "古い版から"})),
        &[("if-match", etag.clone())],
    )
    .await;
    assert_eq!(
        second.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        second.text()
    );
    let body = second.json();
    assert_eq!(body["error"]["code"], "stale");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("planning"),
        "{body}"
    );
    let diff = &body["error"]["differences"][0];
    assert_eq!(diff["field"], "name");
    assert_eq!(diff["old"], "企画担当が直した名前");
    assert_eq!(diff["new"], "担当課の名前");
    // Without If-Match: 428.
    let none = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"name": "x"})),
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::PRECONDITION_REQUIRED);
    // Invalid: 422 with the field.
    let now = api(&w.app, &dept, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let bad = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"costs": [{"year": 2021, "total": 100, "earmarked": 30, "general": 50}]})),
        &[("if-match", now)],
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let fields: Vec<String> = bad.json()["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        fields.iter().any(|f| f.starts_with("cost.2021")),
        "{fields:?}"
    );
    // The stored name is the first save's; the audit log names who, the field, old → new and
    // the reason.
    let stored = api(&w.app, &dept, Method::GET, &uri, None, &[])
        .await
        .json();
    assert_eq!(stored["name"], "企画担当が直した名前");
    let log = api(
        &w.app,
        &planning,
        Method::GET,
        &format!("/api/admin/v1/audit?municipality=072052&project={id}"),
        None,
        &[],
    )
    .await
    .json();
    let items = log["items"].as_array().cloned().unwrap_or_default();
    let entry = items
        .iter()
        .find(|e| e["field"] == "name")
        .expect("name change on record");
    assert_eq!(entry["actor"], "planning");
    assert_eq!(entry["via"], "api");
    assert_eq!(entry["new"], "企画担当が直した名前");
    assert_eq!(entry["comment"], "名称変更");
    assert_eq!(items.len(), 1, "one change, one entry: {items:?}");
    assert!(w.store.verify_audit_chain().await.expect("verify").is_ok());
}

/// The yearly round: the department edits and submits; planning returns with a comment; the
/// department cannot edit a submitted part, fixes after the return and resubmits; planning
/// approves; publishing waits for every part, then publishes.
async fn review_round_from_entry_to_publication(backend: Backend) {
    let w = world(backend).await;
    let planning = sign_in(&w.store, "planning").await;
    let dept = sign_in(&w.store, "dept-a").await;
    let base = "/api/admin/v1/municipalities/072052/editions/r3-r5";
    let uri = format!("{base}/projects/{}", w.project_a);
    let step = |s: &str| format!("{base}/departments/{}/{s}", enc(DEPT_A));
    let etag = api(&w.app, &dept, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let edit = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "内容を更新した"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text());
    assert_eq!(
        api(
            &w.app,
            &dept,
            Method::POST,
            &step("submit"),
            Some(json!({})),
            &[]
        )
        .await
        .json()["state"],
        "submitted"
    );
    // Submitted: the department may not edit until it is returned.
    let etag = api(&w.app, &dept, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let locked = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "提出後の変更"})),
        &[("if-match", etag.clone())],
    )
    .await;
    assert_eq!(locked.status, StatusCode::CONFLICT, "{}", locked.text());
    assert_eq!(locked.json()["error"]["code"], "locked");
    // A return needs a comment.
    let bare = api(
        &w.app,
        &planning,
        Method::POST,
        &step("return"),
        Some(json!({})),
        &[],
    )
    .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    let back = api(
        &w.app,
        &planning,
        Method::POST,
        &step("return"),
        Some(json!({"comment": "R4の金額を確認してください"})),
        &[],
    )
    .await;
    assert_eq!(back.json()["state"], "returned", "{}", back.text());
    let fixed = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "差戻し後に修正"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    api(
        &w.app,
        &dept,
        Method::POST,
        &step("submit"),
        Some(json!({})),
        &[],
    )
    .await;
    assert_eq!(
        api(
            &w.app,
            &planning,
            Method::POST,
            &step("approve"),
            Some(json!({})),
            &[]
        )
        .await
        .json()["state"],
        "approved"
    );
    // Publishing waits for the other departments (they have accounts of their own: dept-b).
    let page = get_as(&w.app, &planning, "/admin/072052/r3-r5").await;
    assert!(
        page.text().contains("承認を待っている担当課"),
        "{}",
        page.text()
    );
    let refused = post_form(&w.app, &planning, "/admin/072052/r3-r5/publish", &[], true).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.text().contains(DEPT_B),
        "names the waiting departments"
    );
    let published = post_form(
        &w.app,
        &planning,
        "/admin/072052/r3-r5/publish",
        &[("force", "1".into())],
        true,
    )
    .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text()
    );
    let log = w.store.audit_log(50).await.expect("log");
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    for expected in ["submit", "return", "approve", "publish-forced"] {
        assert!(
            actions.contains(&expected),
            "{expected} on record: {actions:?}"
        );
    }
    let returned = log.iter().find(|r| r.action == "return").expect("return");
    assert_eq!(returned.comment, "R4の金額を確認してください");
    assert_eq!(returned.actor, "planning");
    // Published: departments change nothing; the planning office corrects, with a reason
    // that the public project page shows (without the login).
    let etag = api(&w.app, &dept, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let late = api(
        &w.app,
        &dept,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "公開後"})),
        &[("if-match", etag.clone())],
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.json()["error"]["code"], "published");
    let bare = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "公開後"})),
        &[("if-match", etag.clone())],
    )
    .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bare.json()["error"]["code"], "reason_required");
    let fixed = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "訂正後の概要", "comment": "誤字の訂正"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    let project = fixed.json();
    w.state.refresh().await.expect("refresh");
    let reference = format!(
        "{}-{}",
        project["policy"].as_str().unwrap_or(""),
        project["number"]
    );
    let public = send(
        &w.app,
        Method::GET,
        &format!("/072052/r3-r5/projects/{reference}"),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    let html = public.text();
    assert!(
        html.contains("公開後の訂正")
            && html.contains("訂正後の概要")
            && html.contains("誤字の訂正"),
        "{html}"
    );
    assert!(
        !html.contains("planning"),
        "no user names on the public page unless enabled"
    );
    assert!(
        !html.contains("R4の金額を確認してください"),
        "review comments are never public"
    );
}

/// Names, comments and values containing markup are shown as text on every workspace page.
async fn markup_is_escaped_on_every_workspace_page(backend: Backend) {
    let w = world(backend).await;
    let planning = sign_in(&w.store, "planning").await;
    let hostile = "<script>alert(1)</script>\"'&";
    let uri = format!(
        "/api/admin/v1/municipalities/072052/editions/r3-r5/projects/{}",
        w.project_a
    );
    let etag = api(&w.app, &planning, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let saved = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"name": hostile, "summary": hostile, "comment": hostile})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let step = format!(
        "/api/admin/v1/municipalities/072052/editions/r3-r5/departments/{}/",
        enc(DEPT_A)
    );
    api(
        &w.app,
        &planning,
        Method::POST,
        &format!("{step}submit"),
        Some(json!({})),
        &[],
    )
    .await;
    api(
        &w.app,
        &planning,
        Method::POST,
        &format!("{step}return"),
        Some(json!({"comment": hostile})),
        &[],
    )
    .await;
    for page in [
        "/admin".to_owned(),
        "/admin/072052/r3-r5".to_owned(),
        "/admin/072052/r3-r5/projects".to_owned(),
        format!("/admin/072052/r3-r5/projects/{}", w.project_a),
        "/admin/072052/audit".to_owned(),
    ] {
        let reply = get_as(&w.app, &planning, &page).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        let html = reply.text();
        assert!(!html.contains("<script>"), "{page} shows markup unescaped");
        assert!(
            reply
                .header("content-security-policy")
                .contains("default-src 'self'"),
            "{page}"
        );
        assert_eq!(reply.header("cache-control"), "no-store", "{page}");
    }
    let dashboard = get_as(&w.app, &planning, "/admin/072052/r3-r5")
        .await
        .text();
    assert!(
        dashboard.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || dashboard.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the comment is shown, escaped: {dashboard}"
    );
}

/// A department sees its own projects; another department's project form is read-only with
/// the reason; the form shows errors next to their fields and keeps what was typed.
async fn department_forms_show_errors_next_to_fields(backend: Backend) {
    let w = world(backend).await;
    let dept = sign_in(&w.store, "dept-a").await;
    let list = get_as(&w.app, &dept, "/admin/072052/r3-r5/projects")
        .await
        .text();
    assert!(list.contains("担当する事業"));
    assert!(
        list.contains(&w.project_a) && !list.contains(&w.project_b),
        "own projects only"
    );
    let other = get_as(
        &w.app,
        &dept,
        &format!("/admin/072052/r3-r5/projects/{}", w.project_b),
    )
    .await
    .text();
    assert!(
        other.contains("readonly") && !other.contains("保存する"),
        "read-only form"
    );
    let (_, mut pairs) = current_form(&w, draft(), &w.project_a).await;
    pairs.retain(|(k, _)| *k != "cost.2021.general");
    pairs.push(("cost.2021.general", "12,3x".into()));
    pairs.push(("version", version(&w.store, draft(), &w.project_a).await));
    let reply = post_form(
        &w.app,
        &dept,
        &format!("/admin/072052/r3-r5/projects/{}", w.project_a),
        &pairs,
        true,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = reply.text();
    assert!(
        html.contains("id=\"f-cost-2021-general-error\""),
        "error next to the field"
    );
    assert!(html.contains("value=\"12,3x\""), "what was typed is kept");
}

/// `keikaku publish` waits for every department's part once the municipality has department
/// accounts; `--force` publishes anyway and is on record with the parts it passed over.
async fn cli_publish_waits_for_approval(backend: Backend) {
    let w = world(backend).await;
    let refused = keikaku(
        &w._db,
        &[
            "--lang",
            "ja",
            "publish",
            "--municipality",
            "072052",
            "--edition",
            "R3-R5",
            "--allow-incomplete",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains(DEPT_A) && message.contains(DEPT_B) && message.contains("--force"),
        "{message}"
    );
    let forced = keikaku(
        &w._db,
        &[
            "publish",
            "--municipality",
            "072052",
            "--edition",
            "R3-R5",
            "--allow-incomplete",
            "--force",
        ],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let log = w.store.audit_log(5).await.expect("log");
    let entry = log
        .iter()
        .find(|r| r.action == "publish-forced")
        .expect("forced publish on record");
    assert!(
        entry.detail.contains(&format!("{DEPT_A}=open")),
        "{}",
        entry.detail
    );
}

/// Saves to a draft do not reload the public portal or empty its response cache: the public
/// figures stay as they are while departments work. Publishing reloads it.
async fn draft_saves_keep_the_public_snapshot(backend: Backend) {
    let w = world(backend).await;
    w.state.refresh().await.expect("refresh");
    let page = send(&w.app, Method::GET, "/072052/r2-r4", &[], Body::empty()).await;
    assert_eq!(page.status, StatusCode::OK);
    let before = w.state.snapshot();
    let planning = sign_in(&w.store, "planning").await;
    let (version, public) = w.store.versions().await.expect("versions");
    let uri = format!(
        "/api/admin/v1/municipalities/072052/editions/r3-r5/projects/{}",
        w.project_a
    );
    let etag = api(&w.app, &planning, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let saved = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "下書きの変更"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let (after_save, public_after_save) = w.store.versions().await.expect("versions");
    assert!(after_save > version, "every write moves the data version");
    assert_eq!(
        public_after_save, public,
        "a draft save leaves the public version: the portal lists nothing"
    );
    let dept = sign_in(&w.store, "dept-a").await;
    let stepped = api(
        &w.app,
        &dept,
        Method::POST,
        &format!(
            "/api/admin/v1/municipalities/072052/editions/r3-r5/departments/{}/submit",
            enc(DEPT_A)
        ),
        Some(json!({})),
        &[],
    )
    .await;
    assert_eq!(stepped.status, StatusCode::OK, "{}", stepped.text());
    assert_eq!(w.store.versions().await.expect("versions").1, public);
    assert!(
        !w.state.refresh().await.expect("refresh"),
        "a draft change reloads nothing"
    );
    assert!(
        std::sync::Arc::ptr_eq(&before, &w.state.snapshot()),
        "same snapshot, same cache"
    );
    let published = post_form(
        &w.app,
        &planning,
        "/admin/072052/r3-r5/publish",
        &[("force", "1".into())],
        true,
    )
    .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text()
    );
    assert!(
        w.store.versions().await.expect("versions").1 > public,
        "publishing moves the public version"
    );
    assert!(
        w.state.refresh().await.expect("refresh"),
        "publishing reloads"
    );
    let html = send(&w.app, Method::GET, "/072052/r3-r5", &[], Body::empty()).await;
    assert_eq!(html.status, StatusCode::OK);
}

/// A department's sheet uploaded in the browser: stored through the sheet import with the
/// file's name and SHA-256 on record; a sheet made before someone else changed the same row is
/// refused at that row; a sheet that changes another department's project is refused naming
/// it; nothing is stored by a refused upload.
async fn uploaded_sheets_follow_the_import_and_workspace_rules(backend: Backend) {
    let w = world(backend).await;
    let dept = sign_in(&w.store, "dept-a").await;
    let planning = sign_in(&w.store, "planning").await;
    let uri = "/admin/072052/r3-r5/sheet";
    let stale = edited_sheet(&w.store, DEPT_A, "（担当課の修正）").await;
    // Planning renames the same project in the browser after the sheet was made.
    let first = upload(
        &w.app,
        &planning,
        uri,
        "planning.csv",
        &edited_sheet(&w.store, DEPT_A, "（企画の修正）").await,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert!(first.text().contains("変更 1 件"), "{}", first.text());
    let head = w.store.audit_head().await.expect("head");
    let refused = upload(&w.app, &dept, uri, "stale.csv", &stale).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("stale-row") && refused.text().contains("stale.csv"),
        "{}",
        refused.text()
    );
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        head,
        "nothing stored"
    );
    // The other department's sheet: dept-a may not change 建築住宅課's project.
    let other = upload(
        &w.app,
        &dept,
        uri,
        "other.csv",
        &edited_sheet(&w.store, DEPT_B, "（他課）").await,
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text());
    assert!(
        other.text().contains("変更できない事業"),
        "{}",
        other.text()
    );
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        head,
        "nothing stored"
    );
    // Not a sheet at all.
    let junk = upload(&w.app, &dept, uri, "notes.csv", "a,b\n1,2\n".as_bytes()).await;
    assert_eq!(
        junk.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        junk.text()
    );
    // The upload on record: via upload, by the planning login, with the file and its hash.
    let log = w.store.audit_log(20).await.expect("log");
    // Each changed field on record, as for a form: the project, the field, old → new.
    let renamed = log
        .iter()
        .find(|r| r.via == "upload" && r.field == "name")
        .expect("the renamed field on record");
    assert!(
        renamed
            .new
            .as_deref()
            .is_some_and(|n| n.ends_with("（企画の修正）")),
        "{renamed:?}"
    );
    assert!(
        renamed
            .old
            .as_deref()
            .is_some_and(|o| !o.ends_with("（企画の修正）")),
        "{renamed:?}"
    );
    assert!(!renamed.project.is_empty());
    assert_eq!(
        log.iter()
            .filter(|r| r.via == "upload" && !r.field.is_empty())
            .count(),
        1,
        "one field changed, one entry"
    );
    let entry = log
        .iter()
        .find(|r| r.via == "upload")
        .expect("upload on record");
    assert_eq!(entry.actor, "planning");
    assert_eq!(entry.file_name, "planning.csv");
    assert_eq!(entry.file_sha256.len(), 64);
    // The department downloads only its own sheet.
    let own = get_as(&w.app, &dept, &format!("{uri}?department={}", enc(DEPT_A))).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.header("content-disposition").contains("attachment"));
    let theirs = get_as(&w.app, &dept, &format!("{uri}?department={}", enc(DEPT_B))).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
}

/// A person changes their own password (the current one asked again, the new one typed
/// twice); an expired session opens nothing; the dashboard counts each department's projects
/// changed since the previous edition; a correction's reason is escaped on the public page.
async fn passwords_expiry_changes_and_public_escaping(backend: Backend) {
    let w = world(backend).await;
    let dept = sign_in(&w.store, "dept-a").await;
    let new = "a brand new password";
    let mismatch = post_form(
        &w.app,
        &dept,
        "/admin/password",
        &[
            ("current", PASSWORD.into()),
            ("new", new.into()),
            ("repeat", "something else 123".into()),
        ],
        true,
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.text().contains("一致しません"));
    let short = post_form(
        &w.app,
        &dept,
        "/admin/password",
        &[
            ("current", PASSWORD.into()),
            ("new", "short".into()),
            ("repeat", "short".into()),
        ],
        true,
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = post_form(
        &w.app,
        &dept,
        "/admin/password",
        &[
            ("current", PASSWORD.into()),
            ("new", new.into()),
            ("repeat", new.into()),
        ],
        true,
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    // The person goes on in a new session (the change ended every old one).
    let cookie = changed.header("set-cookie");
    let token = cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .expect("a new session cookie")
        .to_owned();
    assert_eq!(
        get_as(&w.app, &dept, "/admin").await.status,
        StatusCode::SEE_OTHER,
        "the old session ended"
    );
    let fresh = Session {
        token,
        csrf: String::new(),
    };
    assert_eq!(
        get_as(&w.app, &fresh, "/admin").await.status,
        StatusCode::OK
    );
    assert!(
        accounts::sign_in(&w.store, &Default::default(), "test", "dept-a", PASSWORD)
            .await
            .expect("sign in")
            .is_err(),
        "the old password no longer works"
    );
    assert!(
        accounts::sign_in(&w.store, &Default::default(), "test", "dept-a", new)
            .await
            .expect("sign in")
            .is_ok()
    );

    // Guessing the current password from an open session counts as failed sign-ins: after
    // five, even the right one waits.
    let viewer = sign_in(&w.store, "viewer").await;
    for _ in 0..5 {
        let guess = post_form(
            &w.app,
            &viewer,
            "/admin/password",
            &[
                ("current", "a wrong guess 123".into()),
                ("new", new.into()),
                ("repeat", new.into()),
            ],
            true,
        )
        .await;
        assert_eq!(guess.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let right = post_form(
        &w.app,
        &viewer,
        "/admin/password",
        &[
            ("current", PASSWORD.into()),
            ("new", new.into()),
            ("repeat", new.into()),
        ],
        true,
    )
    .await;
    assert_eq!(
        right.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "paused after the guesses"
    );
    assert!(
        accounts::sign_in(&w.store, &Default::default(), "test", "viewer", PASSWORD)
            .await
            .expect("sign in")
            .is_err()
    );

    // The audit of a municipality holds its own entries only, not an account whose login
    // merely starts with its code.
    add(&w.store, "072052-admin", Role::Admin, None, &[]).await;
    let planning_session = sign_in(&w.store, "planning").await;
    let log = api(
        &w.app,
        &planning_session,
        Method::GET,
        "/api/admin/v1/audit?municipality=072052",
        None,
        &[],
    )
    .await
    .json();
    let subjects: Vec<String> = log["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["subject"].as_str().map(str::to_owned))
        .collect();
    assert!(!subjects.is_empty());
    assert!(
        subjects
            .iter()
            .all(|s| s == "072052" || s.starts_with("072052 ")),
        "{subjects:?}"
    );

    // Expiry: a session whose end has passed opens nothing.
    let session = sign_in(&w.store, "planning").await;
    assert_eq!(
        get_as(&w.app, &session, "/admin").await.status,
        StatusCode::OK
    );
    let pool = super::support::raw_pool(&w._db, 1).await;
    sqlx::query("UPDATE user_session SET expires_at = '2000-01-01T00:00:00Z'")
        .execute(&pool)
        .await
        .expect("expire");
    assert_eq!(
        get_as(&w.app, &session, "/admin").await.status,
        StatusCode::SEE_OTHER
    );
    let api_reply = api(
        &w.app,
        &session,
        Method::GET,
        "/api/admin/v1/audit?municipality=072052",
        None,
        &[],
    )
    .await;
    assert_eq!(api_reply.status, StatusCode::UNAUTHORIZED);

    // Changes since the previous edition, per department: a new project of DEPT_A counts once.
    let planning = sign_in(&w.store, "planning").await;
    let actor = keikaku_core::workspace::Actor {
        role: Role::Planning,
        municipality: Some(code()),
        departments: Vec::new(),
    };
    let opened = workspace::open(&w.store, &actor, &code(), draft())
        .await
        .expect("open");
    let before = workspace::changes_by_department(&w.store, &opened)
        .await
        .expect("changes")
        .expect("a previous edition");
    let mut pairs = vec![
        ("policy", "7-1".to_owned()),
        ("number", "950".to_owned()),
        ("name", "新しい相談窓口事業".to_owned()),
        ("summary", "概要".to_owned()),
        ("status", "新規".to_owned()),
        ("departments", DEPT_A.to_owned()),
        ("strategies", String::new()),
    ];
    for year in [2021, 2022, 2023] {
        pairs.push((leak(format!("cost.{year}.total")), "-".into()));
    }
    let added = post_form(
        &w.app,
        &planning,
        "/admin/072052/r3-r5/projects/new",
        &pairs,
        true,
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let opened = workspace::open(&w.store, &actor, &code(), draft())
        .await
        .expect("open");
    let after = workspace::changes_by_department(&w.store, &opened)
        .await
        .expect("changes")
        .expect("a previous edition");
    assert_eq!(
        after.get(DEPT_A).copied().unwrap_or(0),
        before.get(DEPT_A).copied().unwrap_or(0) + 1
    );
    assert_eq!(
        after.get(DEPT_B),
        before.get(DEPT_B),
        "other departments unchanged"
    );

    // A correction of the published edition with markup in its reason: escaped in public.
    let uri = format!(
        "/api/admin/v1/municipalities/072052/editions/r2-r4/projects/{}",
        w.project_a
    );
    let etag = api(&w.app, &planning, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let fixed = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "訂正<b>後</b>", "comment": "<script>alert(2)</script>"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    w.state.refresh().await.expect("refresh");
    let project = fixed.json();
    let reference = format!(
        "{}-{}",
        project["policy"].as_str().unwrap_or(""),
        project["number"]
    );
    let html = send(
        &w.app,
        Method::GET,
        &format!("/072052/r2-r4/projects/{reference}"),
        &[],
        Body::empty(),
    )
    .await
    .text();
    assert!(html.contains("公開後の訂正"), "{html}");
    assert!(
        !html.contains("<script>alert(2)") && !html.contains("<b>後</b>"),
        "escaped"
    );
}

/// The form does not hold the parts of 特定財源 (国庫支出金…): a save that leaves 特定財源 as
/// it is keeps them; changing 特定財源 where there are parts is refused at the field.
async fn a_form_save_keeps_the_parts_of_earmarked_funds(backend: Backend) {
    let w = world(backend).await;
    let planning = sign_in(&w.store, "planning").await;
    let sheet = sheet_with(&w.store, DEPT_A, |header, row| {
        for (column, value) in [
            ("令和3年度 事業費（千円）", "1000"),
            ("令和3年度 特定財源（千円）", "600"),
            ("令和3年度 うち国庫支出金（千円）", "600"),
            ("令和3年度 一般財源（千円）", "400"),
        ] {
            let at = header
                .iter()
                .position(|h| h == column)
                .unwrap_or_else(|| panic!("{column}"));
            row[at] = value.to_owned();
        }
    })
    .await;
    let uploaded = upload(
        &w.app,
        &planning,
        "/admin/072052/r3-r5/sheet",
        "parts.csv",
        &sheet,
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.text());
    let actor = keikaku_core::workspace::Actor {
        role: Role::Planning,
        municipality: Some(code()),
        departments: Vec::new(),
    };
    let parts_of = |view: &workspace::ProjectView| {
        view.project
            .costs
            .iter()
            .find(|c| c.year.year() == 2021)
            .map(|c| c.earmarked_breakdown.len())
            .unwrap_or(0)
    };
    let (_, view) = workspace::project(&w.store, &actor, &code(), draft(), &w.project_a)
        .await
        .expect("project");
    assert_eq!(parts_of(&view), 1, "the upload stored the part");
    let uri = format!(
        "/api/admin/v1/municipalities/072052/editions/r3-r5/projects/{}",
        w.project_a
    );
    let etag = api(&w.app, &planning, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let renamed = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"name": "名前だけ変える"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    let (_, view) = workspace::project(&w.store, &actor, &code(), draft(), &w.project_a)
        .await
        .expect("project");
    assert_eq!(parts_of(&view), 1, "a save of other fields keeps the parts");
    let etag = renamed.header("etag");
    let split = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"costs": [{"year": 2021, "total": 1000, "earmarked": 500, "general": 500}]})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(
        split.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        split.text()
    );
    assert_eq!(
        split.json()["error"]["fields"][0]["field"],
        "cost.2021.earmarked"
    );
}

/// Failed sign-ins are counted per client: one machine guessing an account's password
/// pauses sign-in for itself, not for the owner signing in from elsewhere; a machine trying
/// many logins pauses for every login; an account guessed from many machines pauses
/// everywhere. Behind a reverse proxy the client is the address in the configured header.
async fn failed_sign_ins_pause_the_client_that_made_them(backend: Backend) {
    let w = world(backend).await;
    let settings = WorkspaceSettings {
        config: keikaku::config::WorkspaceConfig {
            client_address_header: Some("X-Real-IP".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = web::app(w.state.clone().with_workspace(settings));
    let attempt = |from: &'static str, login: &'static str, password: &'static str| {
        let app = app.clone();
        async move {
            api(
                &app,
                &Session::default(),
                Method::POST,
                "/api/admin/v1/session",
                Some(json!({"login": login, "password": password})),
                &[("x-real-ip", from.to_owned())],
            )
            .await
            .status
        }
    };
    // Five wrong passwords from one machine: the right one waits there, not elsewhere.
    for _ in 0..5 {
        assert_eq!(
            attempt("192.0.2.1", "viewer", "wrong password!").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("192.0.2.1", "viewer", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "the guessing machine waits"
    );
    assert_eq!(
        attempt("192.0.2.2", "viewer", PASSWORD).await,
        StatusCode::OK,
        "the owner elsewhere signs in"
    );
    // A machine trying many logins (four times the limit) waits for every login.
    for _ in 0..20 {
        attempt("192.0.2.3", "nobody-here", "wrong password!").await;
    }
    assert_eq!(
        attempt("192.0.2.3", "planning", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("192.0.2.4", "planning", PASSWORD).await,
        StatusCode::OK
    );
    // One account guessed from twenty machines, once each, waits everywhere.
    const MACHINES: [&str; 20] = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
        "198.51.100.5",
        "198.51.100.6",
        "198.51.100.7",
        "198.51.100.8",
        "198.51.100.9",
        "198.51.100.10",
        "198.51.100.11",
        "198.51.100.12",
        "198.51.100.13",
        "198.51.100.14",
        "198.51.100.15",
        "198.51.100.16",
        "198.51.100.17",
        "198.51.100.18",
        "198.51.100.19",
        "198.51.100.20",
    ];
    for from in MACHINES {
        attempt(from, "dept-b", "wrong password!").await;
    }
    assert_eq!(
        attempt("203.0.113.9", "dept-b", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "guessed from many machines: paused everywhere"
    );
}

/// An upload is judged against one state of its edition and stored only over that state:
/// a form saved or a review step taken in between (both change the edition in place) makes
/// the import over the old state a conflict that stores nothing; over the state now, it
/// stores.
async fn a_sheet_is_stored_only_over_the_state_it_was_judged_against(backend: Backend) {
    let w = world(backend).await;
    let request = |bytes: &'static [u8]| ImportRequest {
        name: "b.csv",
        bytes,
        layout: None,
        context: Context {
            municipality: Some(Municipality {
                code: code(),
                name: "白河市".into(),
            }),
            span: Some(draft()),
            ..Context::default()
        },
        replace: false,
        actor: "test",
    };
    let sheet: &'static [u8] = edited_sheet(&w.store, DEPT_B, "（他課の修正）")
        .await
        .leak();
    let stamp = |store: Store| async move {
        store
            .edition_stamp(&code(), draft())
            .await
            .expect("stamp")
            .expect("stored")
    };
    let conflict = |result: Result<import::ImportOutcome, import::ImportError>| {
        matches!(
            result,
            Err(import::ImportError::Ops(OpsError::Store(
                keikaku::storage::StoreError::Conflict(_)
            )))
        )
    };
    // A form saved (another department's project) after the state was taken.
    let before_save = stamp(w.store.clone()).await;
    let planning = sign_in(&w.store, "planning").await;
    let uri = format!(
        "/api/admin/v1/municipalities/072052/editions/r3-r5/projects/{}",
        w.project_a
    );
    let etag = api(&w.app, &planning, Method::GET, &uri, None, &[])
        .await
        .header("etag");
    let saved = api(
        &w.app,
        &planning,
        Method::PATCH,
        &uri,
        Some(json!({"summary": "企画の修正"})),
        &[("if-match", etag)],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let head = w.store.audit_head().await.expect("head");
    assert!(conflict(
        import::import_sheet_over(&w.store, &request(sheet), Via::Upload, before_save).await
    ));
    // A review step taken after the state was taken.
    let before_step = stamp(w.store.clone()).await;
    assert_ne!(before_step, before_save, "a save moves the revision");
    let dept = sign_in(&w.store, "dept-b").await;
    let stepped = api(
        &w.app,
        &dept,
        Method::POST,
        &format!(
            "/api/admin/v1/municipalities/072052/editions/r3-r5/departments/{}/submit",
            enc(DEPT_B)
        ),
        Some(json!({})),
        &[],
    )
    .await;
    assert_eq!(stepped.status, StatusCode::OK, "{}", stepped.text());
    let head = {
        let after_step = w.store.audit_head().await.expect("head");
        assert_ne!(after_step, head, "the step is on record");
        after_step
    };
    assert!(conflict(
        import::import_sheet_over(&w.store, &request(sheet), Via::Upload, before_step).await
    ));
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        head,
        "nothing stored over a state that was not judged"
    );
    let edition = w.store.edition(before_step.id).await.expect("edition");
    assert!(
        !edition
            .projects()
            .any(|(_, p)| p.name.contains("（他課の修正）")),
        "the sheet's change is not stored"
    );
    // Over the state now, the same sheet is stored.
    let now = stamp(w.store.clone()).await;
    let stored = import::import_sheet_over(&w.store, &request(sheet), Via::Upload, now)
        .await
        .map_err(|e| format!("{e:?}"))
        .expect("stored over the current state");
    assert_eq!(stored.editions.len(), 1);
    let edition = w
        .store
        .edition(stamp(w.store.clone()).await.id)
        .await
        .expect("edition");
    assert!(
        edition
            .projects()
            .any(|(_, p)| p.name.contains("（他課の修正）"))
    );
}

/// An uploaded sheet is read within the server's tighter limits (several people may upload
/// at once): one larger than that is refused at the row where it goes beyond, nothing stored,
/// while the same file stays within the command line's limits.
async fn uploads_are_read_within_the_servers_limits(backend: Backend) {
    let w = world(backend).await;
    let sheet = sheet_with(&w.store, DEPT_A, |_, _| {}).await;
    let text = String::from_utf8(sheet).expect("utf-8");
    let last = text.trim_end().lines().last().expect("a row").to_owned();
    let columns = last.split(',').count();
    let limits = keikaku_core::sheet::workbook::Limits::upload();
    let rows = limits.cells / columns + 10;
    assert!(
        columns * rows < keikaku_core::sheet::workbook::Limits::default().cells,
        "within the command line's limits"
    );
    let mut big = text.clone();
    for _ in 0..rows {
        big.push_str(&last);
        big.push_str("\r\n");
    }
    assert!(
        big.len() < keikaku::web::admin::MAX_ADMIN_BODY_BYTES,
        "{}",
        big.len()
    );
    let head = w.store.audit_head().await.expect("head");
    let dept = sign_in(&w.store, "dept-a").await;
    let reply = upload(
        &w.app,
        &dept,
        "/admin/072052/r3-r5/sheet",
        "big.csv",
        big.as_bytes(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("too-large") && reply.text().contains("big.csv:"),
        "{}",
        reply.text()
    );
    assert_eq!(
        w.store.audit_head().await.expect("head"),
        head,
        "nothing stored"
    );
}

/// Goals and policies are the planning office's: its uploaded workbook renames a policy
/// (on record); a department's workbook with a renamed policy keeps the stored title and
/// says so with a warning.
async fn only_the_planning_offices_upload_changes_the_structure(backend: Backend) {
    let w = world(backend).await;
    let selector = EditionSelector {
        municipality: Some("072052".into()),
        span: Some(draft()),
    };
    let dir = tempfile::tempdir().expect("dir");
    let renamed = |bytes: Vec<u8>, title: &str| {
        let path = dir.path().join("sheet.xlsx");
        std::fs::write(&path, bytes).expect("write");
        let mut parts = super::blank::parts(&path);
        let header = parts.structure.rows[0].clone();
        let code = header
            .iter()
            .position(
                |v| matches!(v, keikaku_core::sheet::grid::Value::Text(t) if t == "施策コード"),
            )
            .expect("施策コード column");
        let row = parts
            .structure
            .rows
            .iter_mut()
            .find(|r| matches!(r.get(code), Some(keikaku_core::sheet::grid::Value::Text(t)) if t == "7-1"))
            .expect("policy 7-1");
        row[code + 1] = keikaku_core::sheet::grid::Value::Text(title.to_owned());
        super::blank::save(&parts, &path);
        std::fs::read(&path).expect("read")
    };
    let title_of_7_1 = |store: Store| async move {
        let id = store
            .edition_id(&code(), draft())
            .await
            .expect("id")
            .expect("stored");
        let edition = store.edition(id).await.expect("edition");
        edition
            .policies()
            .find(|p| p.code.to_string() == "7-1")
            .map(|p| p.title.clone())
            .expect("7-1")
    };
    let before = title_of_7_1(w.store.clone()).await;
    // A department's workbook: the rename is not applied, and the answer says so.
    let file = keikaku::ops::sheet::department_template(&w.store, &selector, DEPT_A, false, &[])
        .await
        .map_err(|e| e.to_string())
        .expect("department workbook");
    let dept = sign_in(&w.store, "dept-a").await;
    let reply = upload(
        &w.app,
        &dept,
        "/admin/072052/r3-r5/sheet",
        "dept.xlsx",
        &renamed(file.bytes, "担当課が変えた名前"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.text().contains("ignored-cell"), "{}", reply.text());
    assert_eq!(title_of_7_1(w.store.clone()).await, before);
    // The planning office's workbook: applied and on record.
    let file = keikaku::ops::sheet::template(&w.store, &selector, false, &[])
        .await
        .map_err(|e| e.to_string())
        .expect("workbook");
    let planning = sign_in(&w.store, "planning").await;
    let reply = upload(
        &w.app,
        &planning,
        "/admin/072052/r3-r5/sheet",
        "planning.xlsx",
        &renamed(file.bytes, "企画が変えた名前"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(title_of_7_1(w.store.clone()).await, "企画が変えた名前");
    let log = w.store.audit_log(20).await.expect("log");
    assert!(
        log.iter().any(|r| r.field == "policy.7-1.title"
            && r.new.as_deref() == Some("企画が変えた名前")
            && r.actor == "planning"),
        "{log:?}"
    );
}

/// A sheet holding another municipality's 事業ID is told the id is unknown: the message
/// does not say which municipality or edition holds it (another municipality's plans, drafts
/// among them, are not the uploader's business).
async fn a_sheet_is_never_told_what_another_municipality_stores(backend: Backend) {
    let w = world(backend).await;
    let bytes = std::fs::read(seed_path()).expect("seed");
    import::import(
        &w.store,
        ImportRequest {
            name: "other.txt",
            bytes: &bytes,
            layout: None,
            context: Context {
                municipality: Some(Municipality {
                    code: MunicipalityCode::parse("073016").expect("code"),
                    name: "別の町".into(),
                }),
                ..Context::default()
            },
            replace: false,
            actor: "test",
        },
    )
    .await
    .expect("the other municipality's plan");
    let foreign = w
        .store
        .stable_ids_of(&MunicipalityCode::parse("073016").expect("code"))
        .await
        .expect("ids")
        .first()
        .map(|(id, _)| id.clone())
        .expect("an id of the other municipality");
    let sheet = sheet_with(&w.store, DEPT_A, |header, row| {
        let id = header.iter().position(|h| h == "事業ID").expect("事業ID");
        row[id] = foreign.clone();
    })
    .await;
    let dept = sign_in(&w.store, "dept-a").await;
    let reply = upload(&w.app, &dept, "/admin/072052/r3-r5/sheet", "a.csv", &sheet).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    let text = reply.text();
    assert!(text.contains("unknown-id"), "{text}");
    assert!(
        !text.contains("別の町") && !text.contains("foreign-id"),
        "names nothing of the other municipality: {text}"
    );
}

on_every_backend!(
    only_the_planning_offices_upload_changes_the_structure,
    failed_sign_ins_pause_the_client_that_made_them,
    uploads_are_read_within_the_servers_limits,
    a_sheet_is_stored_only_over_the_state_it_was_judged_against,
    a_sheet_is_never_told_what_another_municipality_stores,
    a_form_save_keeps_the_parts_of_earmarked_funds,
    passwords_expiry_changes_and_public_escaping,
    uploaded_sheets_follow_the_import_and_workspace_rules,
    draft_saves_keep_the_public_snapshot,
    cli_publish_waits_for_approval,
    authorization_matrix,
    anonymous_requests_are_refused,
    csrf_is_required_on_every_unsafe_route,
    sign_in_sessions_and_lockout,
    second_save_of_the_same_version_is_refused,
    review_round_from_entry_to_publication,
    markup_is_escaped_on_every_workspace_page,
    department_forms_show_errors_next_to_fields,
);
