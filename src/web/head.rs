//! Request heads checked before hyper reads them, so that keikaku answers every malformed
//! request itself, with the same security headers as every other response.
//!
//! hyper answers a request head it cannot parse (an invalid byte in the path, a head too
//! large, too many headers, a bad `Content-Length`…) with a bare 400, 414 or 431 of its own
//! that never reaches the application. [`HeadGuard`] sits between the socket and hyper: it
//! holds each request head back until it is complete, checks it with the parser hyper uses
//! (httparse, with hyper's settings) and the checks hyper adds after it, and only then hands
//! it on. A head hyper would refuse is never handed on: hyper sees the connection end after
//! the responses already under way, and the guard writes keikaku's own error page (rendered
//! once at start, see [`Rejections`]) before it closes the socket.
//!
//! To know where the next head starts, the guard follows the body framing of each request:
//! a `Content-Length` body is passed on byte for byte; after a chunked body the guard stops
//! looking (everything is passed on) and the server closes the connection after the response
//! (see `server.rs`), so hyper never parses a head the guard has not checked.
//!
//! This module must not render pages or decide routes: it only frames and checks bytes.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use super::{ApiError, MAX_URI_BYTES, PageError};

/// Largest request head (request line and headers) accepted; larger ones get 431 (or 414
/// when the request line alone does not fit). Far below hyper's own buffer limit, so hyper
/// never has to refuse a head the guard let through.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Most header fields in one request; more get 431. hyper is given the same limit.
pub const MAX_HEADERS: usize = 100;

/// How many bytes the guard reads from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not HTTP/1.x as hyper reads it: 400.
    Malformed,
    /// The request line alone is longer than the head limit: 414.
    UriTooLong,
    /// The head is too large or has too many fields: 431.
    HeadTooLarge,
}

/// What a complete, acceptable head says about the body that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// This many bytes of body (0: none).
    Length(u64),
    /// A chunked body: the rest of the connection is passed on unchecked.
    Chunked,
}

/// The outcome of checking the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The head is not complete yet.
    Partial,
    /// A complete head of this many bytes, acceptable to hyper, and its body framing.
    Complete(usize, Framing),
    /// A head hyper would refuse; `api` when its path is under `/api/`.
    Refused(Refusal, bool),
}

/// Checks the start of `bytes` as a request head, as hyper's HTTP/1 server would read it
/// (httparse with default settings, at most [`MAX_HEADERS`] fields, then the URI, the method
/// and the body framing), refusing heads larger than [`MAX_HEAD_BYTES`].
pub fn check(bytes: &[u8]) -> Checked {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let parsed = request.parse(bytes);
    let api = request.path.is_some_and(|p| p.starts_with("/api/"));
    // Too large: 414 when the request line is what does not fit (it is longer than a URL
    // may be, or not even complete), 431 when the headers are.
    let too_large = || {
        let line = bytes
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(bytes.len());
        if line > MAX_URI_BYTES {
            Checked::Refused(Refusal::UriTooLong, api)
        } else {
            Checked::Refused(Refusal::HeadTooLarge, api)
        }
    };
    match parsed {
        Ok(httparse::Status::Partial) if bytes.len() <= MAX_HEAD_BYTES => Checked::Partial,
        Ok(httparse::Status::Partial) => too_large(),
        Err(httparse::Error::TooManyHeaders) => Checked::Refused(Refusal::HeadTooLarge, api),
        Err(_) => Checked::Refused(Refusal::Malformed, api),
        Ok(httparse::Status::Complete(length)) => {
            if length > MAX_HEAD_BYTES {
                return too_large();
            }
            match accepted(&request) {
                Some(framing) => Checked::Complete(length, framing),
                None => Checked::Refused(Refusal::Malformed, api),
            }
        }
    }
}

/// hyper's checks after httparse (`proto::h1::role::Server::parse`): the method and URI
/// must convert, `Transfer-Encoding` needs HTTP/1.1 and must end in `chunked`, and every
/// `Content-Length` must be the same plain number. Returns the body framing, or `None` for a
/// head hyper answers 400.
fn accepted(request: &httparse::Request<'_, '_>) -> Option<Framing> {
    Method::from_bytes(request.method?.as_bytes()).ok()?;
    Uri::try_from(request.path?).ok()?;
    let http_11 = request.version? == 1;
    let mut length: Option<u64> = None;
    let mut transfer_encoding = false;
    let mut chunked = false;
    for field in request.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
        if name == header::TRANSFER_ENCODING {
            if !http_11 {
                return None;
            }
            transfer_encoding = true;
            chunked = std::str::from_utf8(field.value).ok().is_some_and(|v| {
                v.rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            });
        } else if name == header::CONTENT_LENGTH && !transfer_encoding {
            let value = digits(field.value)?;
            if length.is_some_and(|seen| seen != value) {
                return None;
            }
            length = Some(value);
        }
    }
    if transfer_encoding {
        return chunked.then_some(Framing::Chunked);
    }
    Some(Framing::Length(length.unwrap_or(0)))
}

/// A `Content-Length` as hyper reads it: one or more ASCII digits, no sign, no overflow, and
/// below hyper's largest length.
fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    let mut value = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (value <= u64::MAX - 2).then_some(value)
}

/// keikaku's answers to refused heads: an HTML page, or JSON for paths under `/api/`, each
/// with the security headers every response carries. Rendered once when the server starts.
#[derive(Debug, Clone)]
pub struct Rejections {
    pages: Vec<(Refusal, bool, Bytes)>,
}

impl Rejections {
    /// Renders every answer.
    pub async fn render() -> Rejections {
        let cases = [
            (
                Refusal::Malformed,
                StatusCode::BAD_REQUEST,
                "bad_request",
                "リクエストを読み取れませんでした。HTTP の形式に誤りがあります（URL に使えない文字など）。",
                "the request could not be read: it is not well-formed HTTP (a character not allowed in a URL, a bad header…)",
            ),
            (
                Refusal::UriTooLong,
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                "URL が長すぎます。",
                "the request URL is too long",
            ),
            (
                Refusal::HeadTooLarge,
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header_fields_too_large",
                "リクエストのヘッダーが大きすぎるか、多すぎます。",
                "the request headers are too large or too many",
            ),
        ];
        let mut pages = Vec::new();
        for (refusal, status, code, ja, en) in cases {
            let limits = format!(
                "（上限: ヘッダー全体 {} KiB・{MAX_HEADERS} 個、URL {MAX_URI_BYTES} バイト）",
                MAX_HEAD_BYTES / 1024
            );
            let page = PageError::new(status, format!("{ja}{limits}")).into_response();
            pages.push((refusal, false, serialize(page).await));
            let limits = format!(
                " (limits: {} KiB and {MAX_HEADERS} fields for the headers, {MAX_URI_BYTES} bytes for the URL)",
                MAX_HEAD_BYTES / 1024
            );
            let api = ApiError::new(status, code, format!("{en}{limits}")).into_response();
            pages.push((refusal, true, serialize(api).await));
        }
        Rejections { pages }
    }

    /// The bytes answering `refusal`.
    pub fn get(&self, refusal: Refusal, api: bool) -> Bytes {
        self.pages
            .iter()
            .find(|(r, a, _)| *r == refusal && *a == api)
            .map(|(_, _, bytes)| bytes.clone())
            .unwrap_or_default()
    }
}

/// A whole response as HTTP/1.1 bytes, with the security headers, `Content-Length` and
/// `Connection: close` (the connection ends after it).
async fn serialize(mut response: Response) -> Bytes {
    super::add_security_headers(response.headers_mut());
    let (parts, body) = response.into_parts();
    // The pages are rendered into memory: a few kilobytes.
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    let mut headers = parts.headers;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in &headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    Bytes::from(out)
}

/// What the connection task needs to know about the guard: whether it holds part of a
/// request head that hyper has not seen (a graceful shutdown waits for it, or hyper would
/// take the connection for idle and close it under a client that is sending a request).
#[derive(Debug, Default)]
pub struct HeadState {
    partial: AtomicBool,
    /// Signalled when `partial` turns false.
    pub settled: Notify,
}

impl HeadState {
    /// True while part of a request head is held back.
    pub fn partial(&self) -> bool {
        self.partial.load(Ordering::SeqCst)
    }

    fn set_partial(&self, partial: bool) {
        let was = self.partial.swap(partial, Ordering::SeqCst);
        if was && !partial {
            self.settled.notify_one();
        }
    }
}

/// Where the guard is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Expecting a request head.
    Head,
    /// Inside a body with this many bytes still to pass on.
    Body(u64),
    /// After a chunked body: everything is passed on.
    Through,
    /// A head was refused: hyper reads the end of the stream.
    Refused,
}

/// The socket as hyper sees it: complete, checked request heads and their bodies on the way
/// in; on the way out, hyper's responses, then keikaku's answer to a refused head when hyper
/// shuts the connection down.
pub struct HeadGuard<S> {
    inner: S,
    /// Bytes read from the socket and not yet handed to hyper.
    held: Vec<u8>,
    /// How many bytes at the start of `held` are checked and may be handed on.
    ready: usize,
    /// How many bytes of the head after `ready` were already searched for a line end.
    scanned: usize,
    mode: Mode,
    rejections: Arc<Rejections>,
    /// The answer to a refused head and how much of it is written.
    answer: Option<(Bytes, usize)>,
    /// After the answer: the sending side is shut, and what the client still sends is read
    /// and dropped until it closes or [`LINGER`] passes.
    linger: Option<Linger>,
    state: Arc<HeadState>,
}

/// How long the guard keeps reading after answering a refused head. Closing a socket with
/// unread bytes makes the system reset the connection, and a client may then lose the
/// answer it was sent; a client that sent a head too large is usually still sending.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Most bytes dropped while lingering.
const LINGER_BYTES: usize = 1024 * 1024;

struct Linger {
    until: Pin<Box<tokio::time::Sleep>>,
    dropped: usize,
}

impl<S> HeadGuard<S> {
    /// Guards `inner`; `state` is shared with the connection task.
    pub fn new(inner: S, rejections: Arc<Rejections>, state: Arc<HeadState>) -> HeadGuard<S> {
        HeadGuard {
            inner,
            held: Vec::new(),
            ready: 0,
            scanned: 0,
            mode: Mode::Head,
            rejections,
            answer: None,
            linger: None,
            state,
        }
    }

    /// Works out what of `held` may be handed on, after new bytes arrived or some left.
    fn advance(&mut self) {
        while self.ready < self.held.len() {
            match self.mode {
                Mode::Refused => self.held.truncate(self.ready),
                Mode::Through => self.ready = self.held.len(),
                Mode::Body(left) => {
                    let available = (self.held.len() - self.ready) as u64;
                    let take = left.min(available);
                    self.ready += usize::try_from(take).unwrap_or(usize::MAX);
                    self.mode = if take == left {
                        Mode::Head
                    } else {
                        Mode::Body(left - take)
                    };
                }
                Mode::Head => {
                    // A head ends at a line end (and one found wrong a line later is refused all
                    // the same): parsing again only then keeps a head sent a byte at a time
                    // from costing quadratic work.
                    let head = &self.held[self.ready..];
                    let fresh = &head[self.scanned.min(head.len())..];
                    if !fresh.contains(&b'\n') && head.len() <= MAX_HEAD_BYTES {
                        self.scanned = head.len();
                        break;
                    }
                    self.scanned = head.len();
                    self.check_head();
                }
            }
        }
        let partial = self.mode == Mode::Head && self.held.len() > self.ready;
        self.state.set_partial(partial);
    }

    /// Checks the head at `ready` and moves past it, or refuses it.
    fn check_head(&mut self) {
        match check(&self.held[self.ready..]) {
            Checked::Partial => {}
            Checked::Complete(length, framing) => {
                self.scanned = 0;
                self.ready += length;
                self.mode = match framing {
                    Framing::Length(0) => Mode::Head,
                    Framing::Length(n) => Mode::Body(n),
                    Framing::Chunked => Mode::Through,
                };
            }
            Checked::Refused(refusal, api) => {
                tracing::debug!(?refusal, "refused a request head");
                self.answer = Some((self.rejections.get(refusal, api), 0));
                self.mode = Mode::Refused;
                self.held.truncate(self.ready);
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready > 0 {
                let n = this.ready.min(out.remaining());
                out.put_slice(&this.held[..n]);
                this.held.drain(..n);
                this.ready -= n;
                this.advance();
                return Poll::Ready(Ok(()));
            }
            if this.mode == Mode::Refused {
                // The end of the stream: hyper finishes what it has and shuts down.
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; READ_CHUNK];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // The client closed its side. A head it did not finish is dropped: hyper
                    // sees a clean end between requests.
                    this.held.clear();
                    this.state.set_partial(false);
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {
                    this.held.extend_from_slice(read.filled());
                    this.advance();
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for HeadGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Writes the answer to a refused head (after every response hyper wrote), then shuts
    /// the socket down (and lingers, see [`LINGER`]).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while let Some((answer, written)) = &mut this.answer {
            if *written == answer.len() {
                this.answer = None;
                this.linger = Some(Linger {
                    until: Box::pin(tokio::time::sleep(LINGER)),
                    dropped: 0,
                });
                break;
            }
            match Pin::new(&mut this.inner).poll_write(cx, &answer[*written..]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
            }
        }
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let Some(linger) = &mut this.linger else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; READ_CHUNK];
        loop {
            if linger.dropped > LINGER_BYTES || linger.until.as_mut().poll(cx).is_ready() {
                break;
            }
            let mut read = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) if !read.filled().is_empty() => {
                    linger.dropped += read.filled().len();
                }
                // The client closed, or the connection broke: done either way.
                Poll::Ready(_) => break,
            }
        }
        this.linger = None;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_heads_and_their_bodies() {
        assert_eq!(
            check(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET"),
            Checked::Complete(27, Framing::Length(0))
        );
        assert_eq!(
            check(b"POST /x HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n"),
            Checked::Complete(60, Framing::Length(12))
        );
        assert_eq!(
            check(b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n"),
            Checked::Complete(73, Framing::Chunked)
        );
        assert_eq!(check(b"GET / HTTP/1.1\r\nHost: a\r\n"), Checked::Partial);
    }

    #[test]
    fn heads_hyper_refuses_are_refused() {
        let malformed = |bytes: &[u8]| check(bytes) == Checked::Refused(Refusal::Malformed, false);
        assert!(malformed(b"GET /a\x01b HTTP/1.1\r\n\r\n"));
        assert!(
            malformed(b"GET /\xff HTTP/1.1\r\n\r\n"),
            "not a URI byte for http"
        );
        assert!(malformed(b"GET / HTTP/2.0\r\n\r\n"));
        assert!(malformed(b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"));
        assert!(malformed(
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
        ));
        assert!(malformed(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
        ));
        assert!(malformed(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
        assert!(malformed(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"));
        assert_eq!(
            check(b"GET /api/v1/x\x7f HTTP/1.1\r\n\r\n"),
            Checked::Refused(Refusal::Malformed, false),
            "the path is not known when the request line does not parse"
        );
        assert_eq!(
            check(b"GET /api/v1 HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Checked::Refused(Refusal::Malformed, true)
        );
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            check(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()),
            Checked::Refused(Refusal::HeadTooLarge, false)
        );
        let big = "a".repeat(MAX_HEAD_BYTES);
        assert_eq!(
            check(format!("GET / HTTP/1.1\r\nX: {big}\r\n").as_bytes()),
            Checked::Refused(Refusal::HeadTooLarge, false)
        );
        assert_eq!(
            check(format!("GET /{big}").as_bytes()),
            Checked::Refused(Refusal::UriTooLong, false)
        );
        assert_eq!(
            check(format!("GET /{big} HTTP/1.1\r\n\r\n").as_bytes()),
            Checked::Refused(Refusal::UriTooLong, false)
        );
    }
}
