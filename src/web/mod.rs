//! The web server: the public portal (server-rendered Japanese HTML), the JSON API with its
//! OpenAPI description, and the open-data downloads. Everything it sends comes from the
//! binary itself (templates, CSS, the API docs' assets); nothing is loaded from the internet.
//!
//! Requests are served from an in-memory [`snapshot::Snapshot`] of the published plans that
//! is rebuilt when the data changes; handlers only read it. Every response carries strict
//! security headers; every error is rendered one way per audience (an HTML page for people, a
//! JSON object with a stable code for programs), with internal details kept in the log.

pub mod api;
mod chart;
mod error;
mod opendata;
mod portal;
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
use tower_http::set_header::SetResponseHeaderLayer;

use crate::ops::{self, OpsError};
use crate::storage::Store;
pub use error::{ApiError, PageError};
use snapshot::{Cached, Snapshot};

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
}

impl AppState {
    /// A state serving `snapshot` from `store`.
    pub fn new(store: Store, snapshot: Snapshot) -> AppState {
        AppState {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
            store,
        }
    }

    /// Reads the published plans from the store into a fresh state.
    pub async fn load(store: Store) -> Result<AppState, OpsError> {
        let (version, editions) = ops::publish::published(&store).await?;
        Ok(AppState::new(store, Snapshot::build(version, editions)))
    }

    /// The snapshot being served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Rebuilds the snapshot if the data changed since it was read. Returns whether it did.
    pub async fn refresh(&self) -> Result<bool, OpsError> {
        let current = self.snapshot.load().version;
        if ops::publish::version(&self.store).await? == current {
            return Ok(false);
        }
        let (version, editions) = ops::publish::published(&self.store).await?;
        self.snapshot
            .store(Arc::new(Snapshot::build(version, editions)));
        tracing::info!(version, "published plans reloaded");
        Ok(true)
    }
}

/// The Content-Security-Policy of every page: only this server's own scripts, styles and
/// images; no inline script; no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    let security = [
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
    let mut router = Router::new()
        .merge(portal::routes())
        .merge(opendata::routes())
        .nest("/api", api::routes())
        .route("/static/{file}", get(static_file))
        .route("/healthz", get(health))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .merge(api::docs());
    for (name, value) in security {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(middleware::from_fn(limit_uri))
}

/// Refuses request targets longer than [`MAX_URI_BYTES`] with 414.
async fn limit_uri(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if length > MAX_URI_BYTES {
        let message = format!("the request URL is {length} bytes; the limit is {MAX_URI_BYTES}");
        return if request.uri().path().starts_with("/api/") {
            ApiError::new(StatusCode::URI_TOO_LONG, "uri_too_long", message).into_response()
        } else {
            PageError::new(StatusCode::URI_TOO_LONG, message).into_response()
        };
    }
    next.run(request).await
}

async fn health(State(state): State<AppState>) -> Response {
    match ops::publish::version(&state.store).await {
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

async fn static_file(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => {
            let cached = Cached {
                content_type,
                body: axum::body::Bytes::from_static(bytes),
                etag: etag(bytes),
                attachment: None,
            };
            respond(&cached, &headers, "public, max-age=86400")
        }
        None => PageError::new(StatusCode::NOT_FOUND, "そのファイルはありません。").into_response(),
    }
}

/// A strong ETag from the content.
pub fn etag(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("\"{:016x}-{:x}\"", hasher.finish(), bytes.len())
}

/// Sends a cached response, or 304 when the client already has it.
pub fn respond(cached: &Cached, request: &HeaderMap, cache_control: &'static str) -> Response {
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == cached.etag));
    let mut builder = Response::builder()
        .header(header::ETAG, cached.etag.as_str())
        .header(header::CACHE_CONTROL, cache_control);
    if not_modified {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).unwrap_or_default();
    }
    if let Some(attachment) = &cached.attachment {
        builder = builder.header(header::CONTENT_DISPOSITION, attachment.clone());
    }
    builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, cached.content_type)
        .body(Body::from(cached.body.clone()))
        .unwrap_or_default()
}

/// Waits for Ctrl-C or SIGTERM.
async fn shutdown_signal() {
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

/// [`serve`] on a listener the caller has bound (tests bind port 0).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
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
    let result = axum::serve(listener, app(state).into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    refresher.abort();
    result
}
