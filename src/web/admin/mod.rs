//! The staff workspace on the web: pages under `/admin/` for people (Japanese, plain HTML
//! forms, no script) and the admin API under `/api/admin/v1` for programs. Both stand on
//! [`crate::ops::workspace`], whose rules decide every action; this module adds what the web
//! needs around them: sessions in a cookie, CSRF protection on every request that changes
//! something, and one wording of each refusal per audience.
//!
//! Every admin route is one row of [`ROUTES`]: its method, path, whether it changes
//! something, and its handler. The router is built from that table, so the authorization
//! matrix test, which walks the same table, sees every route there is.

pub mod api;
mod pages;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use cookie::{Cookie, SameSite};
use keikaku_core::diagnostic::Lang;
use keikaku_core::workspace::{Actor, Refusal};

use super::AppState;
use crate::ops::OpsError;
use crate::ops::accounts;
use crate::ops::workspace::WorkspaceError;
use crate::storage::accounts::Account;

/// The session cookie.
pub const SESSION_COOKIE: &str = "keikaku_session";
/// The cookie that protects the sign-in form (a token the form repeats).
pub const LOGIN_COOKIE: &str = "keikaku_login";
/// The header carrying the CSRF token on unsafe API requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field carrying the CSRF token on unsafe page requests.
pub const CSRF_FIELD: &str = "csrf";
/// Largest request body of the workspace (an uploaded entry sheet; a form is far smaller).
pub const MAX_ADMIN_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Who may reach a route before the workspace's rules judge the action itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the sign-in form and the sign-in request).
    Anyone,
    /// A signed-in account.
    SignedIn,
}

/// One admin route.
pub struct Route {
    /// `GET`, `POST` or `PATCH`.
    pub method: Method,
    /// The path, with `{parameters}` as axum writes them.
    pub path: &'static str,
    /// Who may reach it.
    pub access: Access,
    handler: fn() -> MethodRouter<AppState>,
}

impl Route {
    /// True when the route changes something (and so needs the CSRF token).
    pub fn is_unsafe(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
    }
}

macro_rules! route {
    ($method:ident, $path:literal, $access:ident, $handler:path) => {
        Route {
            method: Method::$method,
            path: $path,
            access: Access::$access,
            handler: || on(MethodFilter::$method, $handler),
        }
    };
}

/// Every route of the workspace, pages and API.
pub const ROUTES: &[Route] = &[
    route!(GET, "/admin", SignedIn, pages::home),
    route!(GET, "/admin/login", Anyone, pages::login_form),
    route!(POST, "/admin/login", Anyone, pages::login),
    route!(POST, "/admin/logout", SignedIn, pages::logout),
    route!(GET, "/admin/password", SignedIn, pages::password_form),
    route!(POST, "/admin/password", SignedIn, pages::change_password),
    route!(GET, "/admin/{code}/{edition}", SignedIn, pages::dashboard),
    route!(
        GET,
        "/admin/{code}/{edition}/projects",
        SignedIn,
        pages::projects
    ),
    route!(
        GET,
        "/admin/{code}/{edition}/projects/new",
        SignedIn,
        pages::new_project_form
    ),
    route!(
        POST,
        "/admin/{code}/{edition}/projects/new",
        SignedIn,
        pages::create_project
    ),
    route!(
        GET,
        "/admin/{code}/{edition}/projects/{id}",
        SignedIn,
        pages::project_form
    ),
    route!(
        POST,
        "/admin/{code}/{edition}/projects/{id}",
        SignedIn,
        pages::save_project
    ),
    route!(
        POST,
        "/admin/{code}/{edition}/departments/{department}/{step}",
        SignedIn,
        pages::step
    ),
    route!(
        POST,
        "/admin/{code}/{edition}/publish",
        SignedIn,
        pages::publish
    ),
    route!(
        GET,
        "/admin/{code}/{edition}/sheet",
        SignedIn,
        pages::download_sheet
    ),
    route!(
        POST,
        "/admin/{code}/{edition}/sheet",
        SignedIn,
        pages::upload_sheet
    ),
    route!(GET, "/admin/{code}/audit", SignedIn, pages::audit),
    route!(POST, "/api/admin/v1/session", Anyone, api::sign_in),
    route!(DELETE, "/api/admin/v1/session", SignedIn, api::sign_out),
    route!(
        GET,
        "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}",
        SignedIn,
        api::get_project
    ),
    route!(
        PATCH,
        "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}",
        SignedIn,
        api::patch_project
    ),
    route!(
        POST,
        "/api/admin/v1/municipalities/{code}/editions/{edition}/departments/{department}/{step}",
        SignedIn,
        api::step
    ),
    route!(GET, "/api/admin/v1/audit", SignedIn, api::audit),
];

/// The workspace's routes, with sessions, CSRF checks and their own body limit.
pub fn routes(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for route in ROUTES {
        router = router.route(route.path, (route.handler)());
    }
    router
        .route(
            "/admin/",
            axum::routing::get(|| async { Redirect::permanent("/admin") }),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        // Outermost: every workspace request runs on the blocking pool, so that reading and
        // validating an edition for one person never holds up the threads that answer the
        // public portal.
        .route_layer(middleware::from_fn(off_the_portal_threads))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_ADMIN_BODY_BYTES,
        ))
        .with_state(state)
}

/// The methods the routes of `path` take (empty: no route has this path).
fn methods_of(path: &str) -> Vec<Method> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut methods: Vec<Method> = ROUTES
        .iter()
        .filter(|route| {
            let pattern: Vec<&str> = route.path.split('/').collect();
            pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with('{') {
                        !s.is_empty()
                    } else {
                        p == s
                    }
                })
        })
        .map(|route| route.method.clone())
        .collect();
    if methods.contains(&Method::GET) {
        methods.push(Method::HEAD);
    }
    methods.dedup();
    methods
}

/// Runs the rest of a workspace request on the workspace's own threads (see
/// [`workspace_runtime`]), away from the threads that serve the public portal; where those
/// threads cannot be made, on a thread of the blocking pool.
async fn off_the_portal_threads(request: Request, next: Next) -> Response {
    let done = match workspace_runtime() {
        Some(runtime) => runtime.spawn(next.run(request)).await,
        None => {
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || runtime.block_on(next.run(request))).await
        }
    };
    done.unwrap_or_else(|err| {
        tracing::error!(error = %err, "workspace request failed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// Threads that run the workspace's requests.
const WORKSPACE_THREADS: usize = 4;
/// Their scheduling priority (nice value): lower than the portal's, so that when both want
/// the CPU the portal goes first. A form saved is one person's click and waits a little; the
/// public portal answers everyone.
const WORKSPACE_NICE: i32 = 10;

/// The runtime of the workspace's requests: a few threads of their own (database I/O,
/// validating an edition, reading an uploaded workbook, hashing a password), at a lower
/// priority than the threads that answer the public portal. Built once; `None` if the
/// system refuses to start threads.
fn workspace_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKSPACE_THREADS)
                .thread_name("keikaku-workspace")
                .on_thread_start(lower_priority)
                .enable_all()
                .build()
                .map_err(|err| tracing::warn!(error = %err, "cannot start the workspace's threads; using the blocking pool"))
                .ok()
        })
        .as_ref()
}

/// Lowers the calling thread's scheduling priority to [`WORKSPACE_NICE`].
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority reads its three integer arguments and nothing else; on Linux,
        // PRIO_PROCESS with id 0 names the calling thread alone.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, WORKSPACE_NICE) };
        if result != 0 {
            tracing::debug!("cannot lower the workspace thread's priority");
        }
    }
}

/// True for paths of the workspace (pages or API).
pub fn is_admin_path(path: &str) -> bool {
    path == "/admin"
        || path.starts_with("/admin/")
        || path == "/api/admin"
        || path.starts_with("/api/admin/")
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// A signed-in account, as the handlers receive it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The account.
    pub account: Account,
    /// Its rules.
    pub actor: Actor,
    /// The session's CSRF token (forms repeat it).
    pub csrf: String,
    /// The session's token (to sign out).
    token: String,
}

/// Finds the session of every workspace request, refuses requests that need one and have
/// none (401 for the API, the sign-in page for people), and checks the CSRF token of every
/// request that changes something. Responses are never cached.
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let api = is_api(&path);
    // A method no route of this path takes is answered 405 before any session is looked at.
    let allowed = methods_of(&path);
    if !allowed.is_empty() && !allowed.contains(request.method()) {
        let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        let mut response = if api {
            problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!(
                    "{} is not allowed here (allowed: {})",
                    request.method(),
                    list.join(", ")
                ),
            )
        } else {
            problem_page(StatusCode::METHOD_NOT_ALLOWED, "この操作はできません。")
        };
        if let Ok(value) = HeaderValue::from_str(&list.join(", ")) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    }
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD);
    let token = cookie_value(request.headers(), SESSION_COOKIE);
    let signed = match token {
        Some(token) => {
            match accounts::session(&state.store, &state.workspace.config, &token).await {
                Ok(found) => found.map(|(session, account)| Signed {
                    actor: accounts::actor(&account),
                    account,
                    csrf: session.csrf_token,
                    token,
                }),
                Err(err) => return ops_failure(api, &err),
            }
        }
        None => None,
    };
    let anyone = matches!(
        (request.method().as_str(), path.as_str()),
        ("GET", "/admin/login") | ("POST", "/admin/login") | ("POST", "/api/admin/v1/session")
    ) || path == "/admin/";
    let (mut parts, body) = request.into_parts();
    let mut body = body;
    match &signed {
        None if !anyone => {
            return if api {
                problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in first: POST /api/admin/v1/session",
                )
            } else {
                Redirect::to("/admin/login").into_response()
            };
        }
        Some(signed) if unsafe_method && !anyone => {
            let sent_header = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let sent = match sent_header {
                Some(sent) => Some(sent),
                None if !api => {
                    // A form: the token is a field of the body, which is read here and given
                    // back to the handler unchanged.
                    let bytes = match axum::body::to_bytes(body, MAX_ADMIN_BODY_BYTES).await {
                        Ok(bytes) => bytes,
                        Err(_) => {
                            return problem_page(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "送信されたデータが大きすぎます。",
                            );
                        }
                    };
                    let content_type = parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let field = if content_type.starts_with("multipart/form-data") {
                        multipart_field(&content_type, bytes.clone(), CSRF_FIELD).await
                    } else {
                        form_urlencoded::parse(&bytes)
                            .find(|(k, _)| k == CSRF_FIELD)
                            .map(|(_, v)| v.into_owned())
                    };
                    body = Body::from(bytes);
                    field
                }
                None => None,
            };
            if !sent.is_some_and(|s| crate::auth::same_token(&s, &signed.csrf)) {
                return if api {
                    problem(
                        StatusCode::FORBIDDEN,
                        "csrf",
                        "the X-CSRF-Token header is missing or wrong (it is answered at sign-in)",
                    )
                } else {
                    problem_page(
                        StatusCode::FORBIDDEN,
                        "画面の有効期限が切れたか、別のサイトから送信されました。ページを読み込み直してからもう一度操作してください。",
                    )
                };
            }
        }
        _ => {}
    }
    if let Some(signed) = signed {
        parts.extensions.insert(signed);
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The text of field `name` of a `multipart/form-data` body (a form with a file).
async fn multipart_field(
    content_type: &str,
    bytes: axum::body::Bytes,
    name: &str,
) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Signed>().cloned().ok_or_else(|| {
            if is_api(parts.uri.path()) {
                problem(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first")
            } else {
                Redirect::to("/admin/login").into_response()
            }
        })
    }
}

/// Where a request comes from, for counting failed sign-ins per client: the address a
/// trusted reverse proxy gives in `[workspace] client_address_header` (the last one of a
/// list, the one that proxy added), else the address of the connection.
pub(super) struct ClientSource(pub String);

impl FromRequestParts<AppState> for ClientSource {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let from_proxy = state
            .workspace
            .config
            .client_address_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty());
        let address = match from_proxy {
            Some(address) => address.to_owned(),
            None => parts
                .extensions
                .get::<super::server::ClientAddr>()
                .map(|client| client.0.to_string())
                .unwrap_or_default(),
        };
        Ok(ClientSource(accounts::source_of(&address)))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, path `/`, `Secure` when configured;
/// `None` for `value` ends the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: Option<&str>) -> HeaderValue {
    let mut cookie = Cookie::build((name.to_owned(), value.unwrap_or("").to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.workspace.config.secure_cookies)
        .path("/")
        .build();
    if value.is_none() {
        cookie.make_removal();
    }
    // A cookie made of a fixed name and a token of letters and digits is a valid header.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

impl Signed {
    /// The session token (to end it).
    fn token(&self) -> &str {
        &self.token
    }
}

/// The HTTP status of a workspace error.
pub fn status_of(err: &WorkspaceError) -> (StatusCode, &'static str) {
    match err {
        WorkspaceError::Refused(Refusal::NotFound) | WorkspaceError::NotFound(_) => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        WorkspaceError::Refused(Refusal::Forbidden(_)) => (StatusCode::FORBIDDEN, "forbidden"),
        WorkspaceError::Refused(Refusal::Published) => (StatusCode::CONFLICT, "published"),
        WorkspaceError::Refused(Refusal::Locked(_)) => (StatusCode::CONFLICT, "locked"),
        WorkspaceError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        WorkspaceError::CommentRequired(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "comment_required")
        }
        WorkspaceError::ReasonRequired => (StatusCode::UNPROCESSABLE_ENTITY, "reason_required"),
        WorkspaceError::Stale(_) => (StatusCode::PRECONDITION_FAILED, "stale"),
        WorkspaceError::VersionRequired => (StatusCode::PRECONDITION_REQUIRED, "version_required"),
        WorkspaceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        WorkspaceError::Unapproved(_) => (StatusCode::CONFLICT, "unapproved"),
        WorkspaceError::Incomplete(_) => (StatusCode::CONFLICT, "incomplete"),
        WorkspaceError::Rejected(..) | WorkspaceError::NotASheet => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        }
        WorkspaceError::RowsRefused(_) => (StatusCode::FORBIDDEN, "forbidden"),
        WorkspaceError::Ops(e) => ops_status(e),
    }
}

fn ops_status(err: &OpsError) -> (StatusCode, &'static str) {
    match err {
        OpsError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        OpsError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        OpsError::Store(e) if e.is_unavailable() => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        OpsError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn ops_failure(api: bool, err: &OpsError) -> Response {
    let (status, code) = ops_status(err);
    tracing::error!(error = %err, "workspace request failed");
    if api {
        problem(status, code, "the request could not be completed")
    } else {
        problem_page(
            status,
            "ただいま処理できません。しばらくしてからもう一度お試しください。",
        )
    }
}

/// A JSON error of the admin API: `{"error": {"code", "message"}}`.
fn problem(status: StatusCode, code: &'static str, message: &str) -> Response {
    super::ApiError::new(status, code, message).into_response()
}

/// An error page of the workspace.
fn problem_page(status: StatusCode, message: &str) -> Response {
    pages::message_page(status, message)
}

/// The municipality and edition named by a path (`072052`, `r3-r5`); anything else is not
/// found.
fn place(
    code: &str,
    edition: &str,
) -> Result<(keikaku_core::MunicipalityCode, keikaku_core::EditionSpan), WorkspaceError> {
    let code = keikaku_core::MunicipalityCode::parse(code)
        .map_err(|_| WorkspaceError::Refused(Refusal::NotFound))?;
    let span = keikaku_core::EditionSpan::parse(edition).ok_or_else(|| {
        WorkspaceError::NotFound(crate::ops::workspace::Missing::Edition(edition.to_owned()))
    })?;
    Ok((code, span))
}

/// The language of workspace messages: staff read Japanese.
const PAGE_LANG: Lang = Lang::Ja;
