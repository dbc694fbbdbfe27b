//! The HTTP server's connections: an accept loop that drives hyper's HTTP/1 connections
//! itself, because `axum::serve` offers neither a header read timeout nor a connection cap.
//!
//! - **Header read timeout** ([`ServerSettings::header_timeout`]): a client must send a whole
//!   request head within it, counted from the connection's start or from the end of the
//!   previous response (so idle keep-alive connections are closed too); otherwise the
//!   connection is closed. Slow clients cannot hold connections open for ever.
//! - **Connection cap** ([`ServerSettings::max_connections`]): beyond it the server stops
//!   accepting; new connections wait in the operating system's listen queue until one
//!   closes, and no memory or file descriptor is spent on them.
//! - Every request head passes [`super::head::HeadGuard`] first, so malformed requests are
//!   answered by keikaku with its security headers, never by hyper's bare error responses.
//! - Graceful shutdown: on the signal the listener closes, idle connections close, and
//!   requests in flight (including one whose head is still arriving) are answered first.
//!
//! This module must not know about routes or pages: it serves whatever `Router` it is given.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

use super::head::{HeadGuard, HeadState, MAX_HEADERS, Rejections};

/// How the server treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// Longest wait for a whole request head; then the connection is closed.
    pub header_timeout: Duration,
    /// Most connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
}

/// The default header read timeout.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default connection cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits
/// for every connection to finish its requests.
pub async fn run(
    router: Router,
    listener: TcpListener,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let rejections = Arc::new(Rejections::render().await);
    let cap = settings.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(cap));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: beyond the cap, connections wait in the listen queue.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(
            stream,
            ClientAddr(peer.ip()),
            router.clone(),
            rejections.clone(),
            settings,
            stopping.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection has finished.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// An accept error: a connection that failed before it was accepted is simply gone; running
/// out of file descriptors or memory passes, so wait a little instead of spinning.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %err, "cannot accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The address a connection comes from, in every request's extensions (the workspace counts
/// failed sign-ins per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddr(pub std::net::IpAddr);

/// Serves one connection until it closes; `_slot` frees its place under the cap on return.
async fn connection(
    stream: TcpStream,
    client: ClientAddr,
    router: Router,
    rejections: Arc<Rejections>,
    settings: ServerSettings,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    // Responses are written whole or in large pieces: no reason to delay small ones.
    let _ = stream.set_nodelay(true);
    let head = Arc::new(HeadState::default());
    let io = TokioIo::new(HeadGuard::new(stream, rejections, head.clone()));
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let router = router.clone();
        request.extensions_mut().insert(client);
        async move {
            // The guard stops following the stream after a chunked body: the connection must
            // end with this response, so that hyper reads no head the guard has not checked.
            let chunked = request.headers().contains_key(header::TRANSFER_ENCODING);
            let mut response = router.oneshot(request.map(Body::new)).await?;
            if chunked {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_headers(MAX_HEADERS)
        // A client may close its sending side after a request and still read the answer;
        // the guard also ends the stream this way after a refused head.
        .half_close(true)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut stop_asked = false;
    let mut stop_sent = false;
    let mut grace = std::pin::pin!(tokio::time::sleep(Duration::MAX));
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended");
                }
                return;
            }
            changed = stopping.changed(), if !stop_asked => {
                // Closed or sent: either way the server is stopping.
                let _ = changed;
                stop_asked = true;
                // A head still arriving gets at most one more header timeout.
                grace.as_mut().reset(tokio::time::Instant::now() + settings.header_timeout);
            }
            () = head.settled.notified(), if stop_asked && !stop_sent => {}
            () = grace.as_mut(), if stop_asked && !stop_sent => {
                connection.as_mut().graceful_shutdown();
                stop_sent = true;
                continue;
            }
        }
        // hyper takes a connection whose request head it has not seen for idle and closes
        // it: wait until the guard has handed on the head a client is sending.
        if stop_asked && !stop_sent && !head.partial() {
            connection.as_mut().graceful_shutdown();
            stop_sent = true;
        }
    }
}
