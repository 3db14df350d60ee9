//! Graceful shutdown of the real `switchyard serve` (issue 13 item 6): on SIGTERM `/ready`
//! answers 503 `shutting down` at once, the listener keeps accepting for `shutdown_delay`, a
//! request in flight finishes, an open SSE stream ends with a `retry:` hint, and the process
//! exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::bin;

const FLAGS: &str =
    "flags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n";

/// A running `serve` and the address it listens on (read from its log).
struct Server {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path, server_keys: &str) -> Server {
    // a Flipt v2 configuration: the namespace's flag file in its directory below the root
    std::fs::create_dir_all(dir.join("flags/default")).expect("mkdir");
    std::fs::write(dir.join("flags/default/features.yaml"), FLAGS).expect("write");
    let config = dir.join("flipt.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    local_path: {}\nserver:\n{server_keys}",
            dir.join("flags").display()
        ),
    )
    .expect("write");
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = log
            .recv_timeout(left)
            .expect("serve logs its address within 30 s");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let token = rest.split_whitespace().next().unwrap_or_default();
            break token.parse().expect("an address");
        }
    };
    Server { child, addr, log }
}

/// One HTTP/1.1 request on a new connection; the status and body (the connection closes).
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    read_response(s)
}

fn read_response(mut s: TcpStream) -> (u16, String) {
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(addr, "GET", "/ready", "").0 != 200 {
        assert!(Instant::now() < deadline, "ready within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -TERM");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "exited within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_drains_in_flight_requests_ends_streams_with_a_retry_hint_and_exits_0() {
    let t = tempfile::tempdir().expect("tempdir");
    let mut server = start(
        t.path(),
        "  shutdown_delay: 1s\n  shutdown_grace_period: 5s\n",
    );
    let addr = server.addr;
    wait_ready(addr);

    // an open OFREP stream
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        stream,
        "GET /ofrep/v1/_stream/default/default/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("write");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("stream answers");
    assert_eq!(&head, b"HTTP/1.1 200");

    // a request in flight: its head and half its body sent before the signal
    let body = r#"{"context":{"targetingKey":"u1"}}"#;
    let mut in_flight = TcpStream::connect(addr).expect("connect");
    in_flight
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        in_flight,
        "POST /ofrep/v1/evaluate/flags/f HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .expect("write");
    in_flight.flush().expect("flush");
    // the server has begun reading it once the head is in; give the request a moment to be
    // parsed by asking /ready on another connection first
    assert_eq!(request(addr, "GET", "/ready", "").0, 200);

    sigterm(&server.child);
    // /ready turns 503 at once, on a new connection during the delay
    let deadline = Instant::now() + Duration::from_millis(900);
    let (status, text) = loop {
        let r = request(addr, "GET", "/ready", "");
        if r.0 == 503 || Instant::now() > deadline {
            break r;
        }
    };
    assert_eq!(status, 503, "{text}");
    assert!(text.contains(r#""message":"shutting down""#), "{text}");
    // evaluations still answer during the delay
    let (s, text) = request(addr, "POST", "/ofrep/v1/evaluate/flags/f", body);
    assert_eq!(s, 200, "{text}");

    // the in-flight request finishes after the listener has closed
    let closed_by = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < closed_by,
            "the listener closes after the delay"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    in_flight
        .write_all(&body.as_bytes()[10..])
        .expect("the rest of the body");
    let (status, text) = read_response(in_flight);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""value":true"#), "{text}");

    // the stream ended with a retry hint and a final event
    let mut rest = String::new();
    stream.read_to_string(&mut rest).expect("the stream ends");
    assert!(
        rest.contains("retry: 1000") || rest.contains("retry:1000"),
        "{rest}"
    );
    assert!(rest.contains(r#"{"type":"shutdown""#), "{rest}");

    let status = wait_exit(&mut server.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "exit status");
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(
        log.iter()
            .any(|l| l.contains("shutting down: /ready answers 503")),
        "{log:?}"
    );
}
