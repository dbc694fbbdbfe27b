//! The server's connections, over real sockets against `keikaku serve` on 127.0.0.1:0:
//! slow and silent clients are closed after the header read timeout while others are
//! served, the connection cap holds further connections back, and every response carries
//! the security headers, including those to requests that are not well-formed HTTP.
//!
//! Waits are bounded: a socket that stays silent for [`PATIENCE`] fails the test (the
//! server should have closed it long before); nothing here measures speed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::support::{TestDb, databases};

/// Longest wait for the server to close a connection or answer, far above any timeout set
/// here: reaching it means the server never would.
const PATIENCE: Duration = Duration::from_secs(60);

/// The headers every response must carry.
const SECURITY: [&str; 6] = [
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
];

/// `keikaku serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
    _db: TestDb,
}

impl Server {
    /// Starts the server on an empty database (it loads the sample plan) with `env` set,
    /// and waits until it has loaded.
    async fn start(env: &[(&str, &str)]) -> Server {
        use std::io::BufRead;
        let db = databases().await.remove(0);
        let mut command = Command::new(env!("CARGO_BIN_EXE_keikaku"));
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .current_dir(db.dir.path())
            .env("KEIKAKU_DATABASE_URL", db.url_text())
            .env("KEIKAKU_LANG", "en")
            .env_remove("KEIKAKU_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().expect("server output").expect("line");
            if let Some(rest) = line.split("serving http://").nth(1) {
                break rest.split('/').next().expect("address").to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let server = Server {
            child,
            addr,
            _db: db,
        };
        let deadline = std::time::Instant::now() + PATIENCE;
        while !server.get("/healthz").starts_with("HTTP/1.1 200") {
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not load"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("read timeout");
        stream
    }

    /// Sends `bytes` on a new connection, closes the sending side (a client may; the server
    /// still answers) and reads until the server closes it. A server that stops reading
    /// early may refuse the rest of the bytes: what it answered is read all the same.
    fn exchange(&self, bytes: &[u8]) -> Vec<u8> {
        let mut stream = self.connect();
        if stream.write_all(bytes).is_ok() {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        read_to_close(&mut stream)
    }

    /// A plain GET with `Connection: close`; the whole answer as text.
    fn get(&self, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&self.exchange(request.as_bytes())).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until the peer closes; panics if it stays silent for [`PATIENCE`].
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buffer[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(err) => panic!(
                "the server kept the connection open ({err}); read so far: {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

/// One response read from a byte stream.
#[derive(Debug)]
struct Response {
    status: u16,
    /// Header names (lower case) and values.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn missing_security_headers(&self) -> Vec<&'static str> {
        SECURITY
            .into_iter()
            .filter(|name| self.header(name).is_none())
            .collect()
    }
}

/// Splits the bytes a connection received into responses (bodies framed by
/// `Content-Length` or chunked; none for 304).
fn responses(mut bytes: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(bytes)));
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        bytes = &bytes[end + 4..];
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(length) = find("content-length") {
            let length: usize = length.parse().expect("content-length");
            body = bytes[..length].to_vec();
            bytes = &bytes[length..];
        } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let line_end = bytes.windows(2).position(|w| w == b"\r\n").expect("chunk");
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&bytes[..line_end])
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim(),
                    16,
                )
                .expect("chunk size");
                bytes = &bytes[line_end + 2..];
                body.extend_from_slice(&bytes[..size]);
                bytes = &bytes[size + 2..];
                if size == 0 {
                    break;
                }
            }
        }
        out.push(Response {
            status,
            headers,
            body,
        });
    }
    out
}

/// Every response to each request carries every security header, whoever produced it: the
/// application, a limit layer (413, 414), or the connection's answer to a head hyper would
/// have answered itself with a bare 400, 414 or 431.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_even_to_malformed_requests() {
    let server = Server::start(&[]).await;
    let long_value = "a".repeat(40 * 1024);
    let many_headers: String = (0..150).map(|i| format!("X-Field-{i}: {i}\r\n")).collect();
    let long_path = format!("/{}", "p".repeat(9_000));
    let very_long_path = format!("/{}", "p".repeat(40 * 1024));
    let body = "b".repeat(20 * 1024);
    let cases: Vec<(&str, Vec<u8>, Vec<u16>)> = vec![
        (
            "control byte in the path",
            b"GET /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
            vec![400],
        ),
        (
            "too many headers",
            format!("GET / HTTP/1.1\r\nHost: t\r\n{many_headers}\r\n").into_bytes(),
            vec![431],
        ),
        (
            "too many headers under /api/",
            format!("GET /api/v1/municipalities HTTP/1.1\r\nHost: t\r\n{many_headers}\r\n")
                .into_bytes(),
            vec![431],
        ),
        (
            "DEL in the path",
            b"GET /a\x7fb HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
            vec![400],
        ),
        (
            "raw UTF-8 in the path is read as such",
            b"GET /\xe7\x99\xbd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec(),
            vec![404],
        ),
        (
            "not HTTP at all",
            b"HELLO\r\n\r\n".to_vec(),
            vec![400],
        ),
        (
            "oversized header",
            format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {long_value}\r\n\r\n").into_bytes(),
            vec![431],
        ),
        (
            "header far over hyper's own buffer",
            format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "h".repeat(600 * 1024))
                .into_bytes(),
            vec![431],
        ),
        (
            "bad Content-Length",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n".to_vec(),
            vec![400],
        ),
        (
            "URI over the limit",
            format!("GET {long_path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .into_bytes(),
            vec![414],
        ),
        (
            "URI over the head limit",
            format!("GET {very_long_path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes(),
            vec![414],
        ),
        (
            "oversized body",
            format!(
                "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            vec![413],
        ),
        (
            "valid then invalid, pipelined",
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /static/style.css HTTP/1.1\r\nHost: t\r\n\r\nGET /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n"
                .to_vec(),
            vec![200, 200, 400],
        ),
        (
            "valid then too many headers, pipelined",
            format!(
                "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n{many_headers}\r\n"
            )
            .into_bytes(),
            vec![200, 431],
        ),
        (
            "a chunked body ends the connection: the next head is never read",
            b"POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /a\x01b HTTP/1.1\r\n\r\n"
                .to_vec(),
            vec![405],
        ),
    ];
    for (label, request, statuses) in cases {
        let received = server.exchange(&request);
        let got = responses(&received);
        assert_eq!(
            got.iter().map(|r| r.status).collect::<Vec<_>>(),
            statuses,
            "{label}: {:?}",
            String::from_utf8_lossy(&received[..received.len().min(2000)])
        );
        for response in &got {
            assert!(
                response.missing_security_headers().is_empty(),
                "{label}: {} lacks {:?}",
                response.status,
                response.missing_security_headers()
            );
        }
        let last = got.last().expect("a response");
        if last.status >= 400 {
            let body = String::from_utf8_lossy(&last.body);
            if label.contains("/api/") {
                assert!(body.contains("\"code\""), "{label}: JSON error: {body}");
            } else {
                assert!(body.contains("<html"), "{label}: an error page: {body}");
            }
        }
    }
}

/// Request heads cut and corrupted at random (a fixed seed): whatever the server answers,
/// every response carries the security headers, so none comes from hyper itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_damage_to_request_heads_never_gets_a_bare_response() {
    let server = Server::start(&[("KEIKAKU_HEADER_TIMEOUT", "2")]).await;
    let base = b"GET /api/v1/municipalities?limit=5 HTTP/1.1\r\nHost: test\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut answered = 0;
    for _ in 0..200 {
        let mut request = base.to_vec();
        for _ in 0..(next() % 3 + 1) {
            let at = (next() as usize) % request.len();
            match next() % 3 {
                0 => request[at] = (next() % 256) as u8,
                1 => {
                    request.remove(at);
                }
                _ => request.insert(at, (next() % 256) as u8),
            }
        }
        // Then a request that closes the connection, so that every exchange ends.
        request.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let received = server.exchange(&request);
        for response in responses(&received) {
            answered += 1;
            assert!(
                response.missing_security_headers().is_empty(),
                "{} to {:?} lacks {:?}",
                response.status,
                String::from_utf8_lossy(&request),
                response.missing_security_headers()
            );
        }
    }
    // Most exchanges end with the health check's answer or a refusal; a few heads damaged so
    // that they never end are closed by the header timeout instead.
    assert!(answered >= 100, "{answered} responses");
}

/// 900 silent connections and 100 that stop in the middle of their headers: a normal client
/// is answered meanwhile, and every one of them is closed once the header timeout (2 s here)
/// has passed, without a response. Before, all were held for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_connections_are_closed_after_the_header_timeout() {
    let server = Server::start(&[("KEIKAKU_HEADER_TIMEOUT", "2")]).await;
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut stream = server.connect();
        if i % 10 == 0 {
            stream
                .write_all(b"GET /072052/r2-r4 HTTP/1.1\r\nHost: test\r\nX-Slow: ")
                .expect("write");
        }
        held.push(stream);
    }
    let answer = server.get("/healthz");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for (i, stream) in held.iter_mut().enumerate() {
        let received = read_to_close(stream);
        assert!(
            received.is_empty(),
            "connection {i} got {:?}",
            String::from_utf8_lossy(&received)
        );
    }
    // Sending bytes slowly does not extend the timeout: it bounds the whole head.
    let mut drip = server.connect();
    drip.write_all(b"GET / HTTP/1.1\r\n").expect("write");
    let mut closed = false;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(250));
        if drip.write_all(b"X-Drip: 1\r\n").is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        assert!(
            read_to_close(&mut drip).is_empty(),
            "a dripping head is closed"
        );
    }
}

/// With the cap at 3, three slow connections fill it: a fourth client is not served while
/// they are held (its connection waits to be accepted), and is served as soon as one of them
/// goes away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_further_connections_until_one_closes() {
    let server = Server::start(&[
        ("KEIKAKU_MAX_CONNECTIONS", "3"),
        ("KEIKAKU_HEADER_TIMEOUT", "300"),
    ])
    .await;
    let mut slow: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = server.connect();
            stream.write_all(b"GET / HTTP/1.1\r\n").expect("write");
            stream
        })
        .collect();
    // The health check that `start` made may still be finishing: wait until all three slow
    // connections are accepted, which shows in the fourth not being answered.
    let mut waiting = server.connect();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("write");
    waiting
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    let mut first = [0u8; 1];
    let early = waiting.read(&mut first);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "served beyond the cap: {early:?}"
    );
    drop(slow.pop());
    waiting.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let rest = read_to_close(&mut waiting);
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
