//! The web server: the public portal (server-rendered Japanese HTML), the JSON API with its
//! OpenAPI description, and the open-data downloads. Everything it sends comes from the
//! binary itself (templates, CSS, the API docs' assets); nothing is loaded from the internet.
//!
//! Requests are served from an in-memory [`snapshot::Snapshot`] of the published plans that
//! is rebuilt when the data changes; handlers only read it. Every response carries strict
//! security headers; every error is rendered one way per audience (an HTML page for people, a
//! JSON object with a stable code for programs), with internal details kept in the log.

pub mod admin;
pub mod api;
mod chart;
mod error;
mod head;
mod national;
mod opendata;
mod params;
mod portal;
mod server;
pub mod snapshot;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::ops::{self, OpsError};
use crate::storage::Store;
pub use error::{ApiError, PageError};
pub use head::{MAX_HEAD_BYTES, MAX_HEADERS};
pub use server::{DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, ServerSettings};
use snapshot::{Cached, EditionView, Snapshot};

/// Longest request target (path and query) accepted; longer ones get 414. Every request the
/// API documents fits (a 200-character Japanese query is 1,800 bytes percent-encoded).
pub const MAX_URI_BYTES: usize = 8_192;
/// Largest request body accepted (the API and portal only read).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    snapshot: Arc<ArcSwap<Snapshot>>,
    store: Store,
    /// The municipality `/` opens (`serve --municipality`); otherwise `/` lists them all
    /// (or opens the only one).
    default_municipality: Option<String>,
    /// The response cache's budget in bytes, given to every snapshot's cache.
    cache_bytes: usize,
    /// The staff workspace's settings and the validation rules its forms apply.
    workspace: Arc<WorkspaceSettings>,
    /// The data version last compared with what is served: a change to drafts alone moves
    /// the version without changing what the public sees, and keeps the snapshot (and its
    /// response cache) as it is.
    checked: Arc<std::sync::atomic::AtomicI64>,
    /// The public version at which what is served was last found current: while it stays,
    /// a moved data version comes from draft changes alone and nothing need be listed.
    public_checked: Arc<std::sync::atomic::AtomicI64>,
}

/// What the staff workspace needs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceSettings {
    /// Sessions, lockout and cookies.
    pub config: crate::config::WorkspaceConfig,
    /// The validation rules of the municipality (as every import applies them).
    pub rules: keikaku_core::validate::Rules,
}

impl AppState {
    /// A state serving `snapshot` from `store`.
    pub fn new(store: Store, snapshot: Snapshot) -> AppState {
        AppState {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
            store,
            default_municipality: None,
            cache_bytes: snapshot::DEFAULT_CACHE_BYTES,
            workspace: Arc::new(WorkspaceSettings::default()),
            checked: Arc::new(std::sync::atomic::AtomicI64::new(snapshot::NOT_LOADED)),
            public_checked: Arc::new(std::sync::atomic::AtomicI64::new(snapshot::NOT_LOADED)),
        }
    }

    /// The same state, with the workspace's settings from the configuration.
    pub fn with_workspace(mut self, settings: WorkspaceSettings) -> AppState {
        self.workspace = Arc::new(settings);
        self
    }

    /// The same state, keeping at most `bytes` of rendered responses (`[server]
    /// cache_bytes`).
    pub fn with_cache_bytes(mut self, bytes: usize) -> AppState {
        self.cache_bytes = bytes;
        self.snapshot.load().cache.set_budget(bytes);
        self
    }

    /// The same state, with `/` opening this municipality's latest plan.
    pub fn with_default_municipality(mut self, code: Option<String>) -> AppState {
        self.default_municipality = code;
        self
    }

    /// A state that serves 503 (`/healthz` included) until the first [`AppState::refresh`]
    /// has loaded the plans: a server listens at once, and a large database loads behind it.
    pub fn starting(store: Store) -> AppState {
        AppState::new(
            store,
            Snapshot::build(snapshot::NOT_LOADED, Vec::new(), Vec::new()),
        )
    }

    /// True once plans have been loaded.
    pub fn is_loaded(&self) -> bool {
        self.snapshot.load().version != snapshot::NOT_LOADED
    }

    /// Reads the published plans from the store into a fresh state.
    pub async fn load(store: Store) -> Result<AppState, OpsError> {
        let snapshot = build_snapshot(&store, None).await?;
        Ok(AppState::new(store, snapshot))
    }

    /// The snapshot being served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Rebuilds the snapshot if what is published changed since it was read, reloading only
    /// the editions that changed. Returns whether it did. A change to drafts alone (the
    /// workspace's saves) keeps the snapshot and its cached responses.
    pub async fn refresh(&self) -> Result<bool, OpsError> {
        use std::sync::atomic::Ordering;
        let current = self.snapshot.load_full();
        let (version, public) = ops::publish::versions(&self.store).await?;
        if version == current.version || version == self.checked.load(Ordering::Acquire) {
            return Ok(false);
        }
        if current.version != snapshot::NOT_LOADED
            && public == self.public_checked.load(Ordering::Acquire)
        {
            // Only drafts changed since what is served was last found current.
            self.checked.store(version, Ordering::Release);
            return Ok(false);
        }
        // Read before the listing: a public change made while listing moves it again.
        let published = ops::publish::published(&self.store).await?;
        if current.serves(&published) {
            self.checked.store(published.version, Ordering::Release);
            self.public_checked.store(public, Ordering::Release);
            return Ok(false);
        }
        let next = build_snapshot_of(&self.store, published, Some(&current)).await?;
        next.cache.set_budget(self.cache_bytes);
        let version = next.version;
        self.checked.store(version, Ordering::Release);
        self.public_checked.store(public, Ordering::Release);
        self.snapshot.store(Arc::new(next));
        tracing::info!(version, "published plans reloaded");
        Ok(true)
    }
}

/// Editions read and indexed together when (re)loading.
const LOAD_BATCH: usize = 200;

async fn finish(
    task: tokio::task::JoinHandle<Vec<EditionView>>,
) -> Result<Vec<Arc<EditionView>>, OpsError> {
    let views = task
        .await
        .map_err(|e| OpsError::BadRequest(format!("indexing failed: {e}")))?;
    Ok(views.into_iter().map(Arc::new).collect())
}

/// Reads what is public and builds a snapshot, taking unchanged editions from `previous`.
async fn build_snapshot(store: &Store, previous: Option<&Snapshot>) -> Result<Snapshot, OpsError> {
    let published = ops::publish::published(store).await?;
    build_snapshot_of(store, published, previous).await
}

/// Builds a snapshot of `published`, taking unchanged editions from `previous`.
async fn build_snapshot_of(
    store: &Store,
    published: ops::publish::Published,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, OpsError> {
    let mut views = Vec::with_capacity(published.editions.len());
    let mut to_load = Vec::new();
    for info in published.editions {
        match previous.and_then(|p| p.reusable(&info)) {
            Some(view) => views.push(view),
            None => to_load.push(info),
        }
    }
    let loaded = to_load.len();
    let mut corrections = if to_load.is_empty() {
        Default::default()
    } else {
        ops::publish::corrections(store).await?
    };
    // In batches: a few queries per batch, and the indexing of one batch (CPU work, kept off
    // the threads that answer requests) while the next is read.
    let mut indexing: Option<tokio::task::JoinHandle<Vec<EditionView>>> = None;
    for batch in to_load.chunks(LOAD_BATCH) {
        let editions = ops::publish::contents(store, batch).await?;
        let pairs: Vec<_> = batch
            .iter()
            .cloned()
            .zip(editions)
            .map(|(info, edition)| {
                let subject = format!("{} {}", info.municipality.code, info.span.label());
                let fixes = corrections.remove(&subject).unwrap_or_default();
                (info, edition, fixes)
            })
            .collect();
        if let Some(previous) = indexing.take() {
            views.extend(finish(previous).await?);
        }
        indexing = Some(tokio::task::spawn_blocking(move || {
            pairs
                .into_iter()
                .map(|(info, edition, fixes)| {
                    EditionView::new(info, edition).with_corrections(fixes)
                })
                .collect()
        }));
    }
    if let Some(last) = indexing {
        views.extend(finish(last).await?);
    }
    tracing::debug!(loaded, kept = views.len() - loaded, "editions loaded");
    Ok(Snapshot::build(
        published.version,
        published.municipalities,
        views,
    ))
}

/// The Content-Security-Policy of every page: only this server's own scripts, styles and
/// images; no inline script; no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'";

/// The headers every response carries, whoever produced it: the application, a limit, or
/// the connection's own answer to a malformed request (see `head.rs`).
const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// Adds each of [`SECURITY_HEADERS`] that a response does not set itself.
fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    add_security_headers(response.headers_mut());
    response
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let cached = Router::new()
        .merge(national::routes())
        .merge(portal::routes())
        .merge(opendata::routes())
        .nest("/api", api::routes())
        .route("/static/{file}", get(static_file))
        .route("/healthz", get(health))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state.clone())
        .merge(api::docs())
        // Innermost: responses taken from the cache still pass every layer below.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cache_responses,
        ));
    // Whole-database downloads are streamed: they never pass through the response cache,
    // which holds whole bodies in memory.
    let public = opendata::streamed_routes()
        .with_state(state.clone())
        .merge(cached)
        .layer(middleware::from_fn_with_state(state.clone(), while_loading))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ));
    // The staff workspace: never cached, its own sessions, CSRF checks and body limit.
    admin::routes(state)
        .merge(public)
        .layer(middleware::from_fn(canonical_query))
        .layer(middleware::from_fn(limit_uri))
        // Outermost, so that the limits' own answers (413, 414) carry them too.
        .layer(middleware::from_fn(security_headers))
}

/// Refuses request targets longer than [`MAX_URI_BYTES`] with 414 and bodies declared
/// longer than [`MAX_BODY_BYTES`] with 413, as keikaku's own page or JSON error (the body
/// limit layer inside also stops a longer body sent without a declared length).
async fn limit_uri(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let api = request.uri().path().starts_with("/api/");
    if length > MAX_URI_BYTES {
        let message = format!("the request URL is {length} bytes; the limit is {MAX_URI_BYTES}");
        return if api {
            ApiError::new(StatusCode::URI_TOO_LONG, "uri_too_long", message).into_response()
        } else {
            PageError::new(StatusCode::URI_TOO_LONG, message).into_response()
        };
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if admin::is_admin_path(request.uri().path()) {
        admin::MAX_ADMIN_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    if let Some(declared) = declared.filter(|n| *n > limit as u64) {
        return if api {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is {declared} bytes; the limit is {limit}"),
            )
            .into_response()
        } else {
            PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "送信されたデータが大きすぎます（{declared} バイト、上限 {limit} バイト）。"
                ),
            )
            .into_response()
        };
    }
    next.run(request).await
}

async fn health(State(state): State<AppState>) -> Response {
    if !state.is_loaded() {
        return (StatusCode::SERVICE_UNAVAILABLE, "loading the plans\n").into_response();
    }
    // A health check answers within seconds even while the database does not.
    let version = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        ops::publish::version(&state.store),
    )
    .await
    .unwrap_or_else(|_| {
        Err(OpsError::Store(crate::storage::StoreError::Database(
            sqlx::Error::PoolTimedOut,
        )))
    });
    match version {
        Ok(version) => (StatusCode::OK, format!("ok version={version}\n")).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// The files under `static/`, compiled in. Only these names are served: a request for any
/// other name (`../Cargo.toml`, an encoded slash…) is simply not found.
const STATIC_FILES: [(&str, &str, &[u8]); 2] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/style.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => {
            ([(header::CONTENT_TYPE, *content_type)], *bytes).into_response()
        }
        None => PageError::new(StatusCode::NOT_FOUND, "そのファイルはありません。").into_response(),
    }
}

/// True for the responses that take real work to render (the open-data downloads: xlsx,
/// zip, CSV and JSON of whole plans). They are rendered on the blocking thread pool, not on
/// the workers that answer every other request, and they take no query parameters (a file
/// is named by its path), which is checked before any work is done.
fn renders_heavily(path: &str) -> bool {
    path.strip_prefix("/opendata/")
        .is_some_and(|rest| !rest.is_empty())
}

/// 400 for parameters a route does not take, as a page or as the API's JSON.
fn refuse_params(api: bool, query: &str) -> Response {
    let unknown = params::Unknown {
        names: params::pairs(query)
            .into_iter()
            .map(|(name, _)| name)
            .collect(),
        accepted: &[],
    };
    if api {
        ApiError::bad_request(unknown.english()).into_response()
    } else {
        PageError::bad_request(unknown.japanese()).into_response()
    }
}

/// Makes every GET and HEAD request's query canonical before it is routed: tracking
/// parameters dropped, the rest sorted (see [`params`]), so a shared link with `utm_*`
/// parameters is the same request as the link without them, for every route (the streamed
/// downloads too) and for the response cache's key.
async fn canonical_query(mut request: Request, next: Next) -> Response {
    let get_or_head =
        request.method() == axum::http::Method::GET || request.method() == axum::http::Method::HEAD;
    if get_or_head && let Some(raw) = request.uri().query() {
        let query = params::canonical(raw);
        if query != raw {
            let path = request.uri().path();
            let target = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            // The path is kept byte for byte and the query is encoded by `canonical`: the
            // target is always a valid URI.
            if let Ok(uri) = target.parse() {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

/// Serves GET and HEAD requests from the snapshot's response cache and fills it with
/// successful responses. Every response gets an `ETag`; a request that already has it is
/// answered 304. Handlers never deal with caching.
///
/// The query arrives canonical ([`canonical_query`]), so a shared link with `utm_*` parameters
/// is the same cache entry as the link without them.
async fn cache_responses(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() != axum::http::Method::GET && request.method() != axum::http::Method::HEAD {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    // Canonical already (see `canonical_query`, outside this layer).
    let query = request.uri().query().unwrap_or_default().to_owned();
    let api = path.starts_with("/api/");
    let heavy = renders_heavily(&path);
    if heavy && !query.is_empty() {
        return refuse_params(api, &query);
    }
    let read = (!query.is_empty()).then(params::QueryRead::default);
    if let Some(read) = &read {
        request.extensions_mut().insert(read.clone());
    }
    // A handler that takes no parameters and did not say so still must not answer as if
    // they meant something.
    let unread = |response: &Response| {
        response.status().is_success() && read.as_ref().is_some_and(|r| !r.is_read())
    };
    // The health check must ask the database every time.
    if path == "/healthz" {
        let response = next.run(request).await;
        return if unread(&response) {
            refuse_params(api, &query)
        } else {
            response
        };
    }
    let key = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let policy = if path.starts_with("/static/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    if let Some(cached) = state.snapshot.load().cache.get(&key) {
        return respond(&cached, request.headers(), policy);
    }
    // Keep the snapshot the page is rendered from: its cache is the one to fill.
    let snapshot = state.snapshot();
    let conditional = request.headers().clone();
    // The router answers HEAD with an empty body: only GET responses may fill the cache.
    let fill = request.method() == axum::http::Method::GET;
    // One rendering per page at a time; whoever waited finds it cached.
    let turn = snapshot.cache.turn(&key);
    let _rendering = turn.wait().await;
    if let Some(cached) = snapshot.cache.get(&key) {
        return respond(&cached, &conditional, policy);
    }
    let response = if heavy {
        let runtime = tokio::runtime::Handle::current();
        match tokio::task::spawn_blocking(move || runtime.block_on(next.run(request))).await {
            Ok(response) => response,
            Err(err) => {
                tracing::error!(error = %err, "rendering a download failed");
                return PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ファイルを作成できませんでした。",
                )
                .into_response();
            }
        }
    } else {
        next.run(request).await
    };
    if unread(&response) {
        return refuse_params(api, &query);
    }
    if response.status() != StatusCode::OK || !fill {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match collect(body, snapshot.cache.largest()).await {
        Ok(Collected::Whole(body)) => body,
        // Too large to keep: sent as it comes.
        Ok(Collected::TooLarge(body)) => return Response::from_parts(parts, body),
        Err(err) => {
            tracing::error!(error = %err, "cannot read a response body");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let cached = Cached {
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream")),
        etag: etag(&body),
        attachment: parts.headers.get(header::CONTENT_DISPOSITION).cloned(),
        body,
    };
    snapshot.cache.put(key, cached.clone());
    respond(&cached, &conditional, policy)
}

/// A response body read into memory, or, past the limit, the same body to send on.
enum Collected {
    Whole(axum::body::Bytes),
    TooLarge(Body),
}

/// Reads `body` up to `limit` bytes; a longer body is returned whole but unread beyond
/// what was already taken (which goes first).
async fn collect(mut body: Body, limit: usize) -> Result<Collected, axum::Error> {
    use axum::body::HttpBody;
    let mut chunks: Vec<axum::body::Bytes> = Vec::new();
    let mut length = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame.transpose()? else {
            break;
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        length += data.len();
        chunks.push(data);
        if length > limit {
            return Ok(Collected::TooLarge(Body::new(Prefixed {
                first: chunks.into(),
                rest: body,
            })));
        }
    }
    // Always a fresh buffer of the exact length: a rendered page's buffer can be twice its
    // length (a `String` grown by doubling), and the cache counts only the length.
    Ok(Collected::Whole(match chunks.as_slice() {
        [one] => axum::body::Bytes::copy_from_slice(one),
        _ => chunks.concat().into(),
    }))
}

/// A body whose first chunks were already read.
struct Prefixed {
    first: std::collections::VecDeque<axum::body::Bytes>,
    rest: Body,
}

impl axum::body::HttpBody for Prefixed {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(chunk) = self.first.pop_front() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(chunk))));
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
    }
}

/// While the first load runs, every page and API call answers 503 with `Retry-After`.
async fn while_loading(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if state.is_loaded() || path == "/healthz" || path.starts_with("/static/") {
        return next.run(request).await;
    }
    let mut response = if path.starts_with("/api/") {
        error::ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is loading the plans; try again in a few seconds",
        )
        .into_response()
    } else {
        PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "起動中で計画を読み込んでいます。数秒後にもう一度お試しください。",
        )
        .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// A strong ETag from the content.
pub fn etag(bytes: &[u8]) -> HeaderValue {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let text = format!("\"{:016x}-{:x}\"", hasher.finish(), bytes.len());
    // Hex digits and quotes are always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Sends a cached response, or 304 when the client already has it. Header values are built
/// once, when the response is cached, so this path only copies them.
pub fn respond(cached: &Cached, request: &HeaderMap, cache_control: &'static str) -> Response {
    let tag = cached.etag.as_bytes();
    let not_modified = request.get(header::IF_NONE_MATCH).is_some_and(|v| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii() == tag)
    });
    let mut response = if not_modified {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(Body::from(cached.body.clone()))
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, cached.etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if !not_modified {
        headers.insert(header::CONTENT_TYPE, cached.content_type.clone());
        if let Some(attachment) = &cached.attachment {
            headers.insert(header::CONTENT_DISPOSITION, attachment.clone());
        }
    }
    response
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// How often the server checks whether the data changed.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Serves `state` on `addr` until Ctrl-C or SIGTERM; requests in flight finish first.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

/// [`serve`] on a listener the caller has bound (tests bind port 0), with the default
/// [`ServerSettings`].
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with(
        state,
        listener,
        ServerSettings::default(),
        shutdown_signal(),
    )
    .await
}

/// Serves `state` on `listener` with `settings` until `shutdown` completes (Ctrl-C or SIGTERM
/// for `keikaku serve`); requests in flight finish first. Keeps the plans up to date.
pub async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    settings: ServerSettings,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let refresher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(err) = state.refresh().await {
                    tracing::warn!(error = %err, "cannot check for new data; serving the plans already loaded");
                }
            }
        })
    };
    let result = server::run(app(state), listener, settings, shutdown).await;
    refresher.abort();
    result
}
