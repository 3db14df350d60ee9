//! Flipt v2's snapshot stream read the way Flipt's `TestEvaluationSnapshotNamespaceStream` reads
//! it: over a real connection, line by line, each line `{"result": <snapshot>}` decoded. Changes
//! go through the real sync, from a plain directory and from commits to a real Git repository;
//! every wait is for the next line (bounded by a timeout), never a sleep.

use std::time::Duration;

use http_body_util::BodyExt;
use serde_json::{Value, json};
use switchyard_server::ServerConfig;

use crate::support::{FLAGS, Fixture, Running, get};

/// How long a line may take: a sync cycle, well inside it.
const LINE_WITHIN: Duration = Duration::from_secs(15);

/// A stream's body read as `bufio.Reader.ReadBytes('\n')` reads it.
struct Lines {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Lines {
    async fn open(server: &Running, path: &str) -> Lines {
        let resp = reqwest::Client::new()
            .get(format!("http://{}{path}", server.addr))
            .send()
            .await
            .expect("stream opens");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json", "{path}");
        Lines {
            resp,
            buf: Vec::new(),
        }
    }

    /// The next line, newline included.
    async fn next(&mut self) -> Vec<u8> {
        tokio::time::timeout(LINE_WITHIN, async {
            loop {
                if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                    return self.buf.drain(..=end).collect();
                }
                let chunk = self.resp.chunk().await.expect("read").expect("open");
                self.buf.extend_from_slice(&chunk);
            }
        })
        .await
        .expect("a line within the time limit")
    }

    /// The next line's `result`, checking that the line is `{"result": …}` and nothing else.
    async fn next_result(&mut self) -> (Vec<u8>, Value) {
        let line = self.next().await;
        let wrapper: Value = serde_json::from_slice(&line).expect("a JSON line");
        let keys: Vec<&String> = wrapper.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["result"], "{}", String::from_utf8_lossy(&line));
        (line, wrapper["result"].clone())
    }
}

/// The served snapshot of `ns` (body bytes and ETag) from the snapshot endpoint.
async fn snapshot(server: &Running, ns: &str) -> (Vec<u8>, String) {
    let resp = reqwest::Client::new()
        .get(format!(
            "http://{}/client/v2/environments/default/namespaces/{ns}/snapshot",
            server.addr
        ))
        .send()
        .await
        .expect("snapshot");
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().expect("etag").to_string();
    (resp.bytes().await.expect("body").to_vec(), etag)
}

const STREAM: &str = "/client/v2/environments/default/namespaces/default/stream";
const NEW_NS: &str = "test-namespace-stream";

/// A file declaring the namespace Flipt's test creates, with the flag it then adds.
const NEW_NS_FILE: &str = r#"version: "1.4"
namespace:
  key: test-namespace-stream
  name: Test Namespace Stream
flags:
  - key: test-flag
    name: Test Flag
    type: BOOLEAN_FLAG_TYPE
    enabled: true
"#;

/// The first line is the current snapshot, byte for byte what the snapshot endpoint serves; a
/// change applied by the sync sends the next; a namespace that does not exist yet sends nothing
/// until a change creates it, then its snapshot (Flipt's test: the namespace key and a digest).
async fn stream_follows_changes(fixture: Fixture) {
    let server = Running::serve(fixture).await;
    let mut default = Lines::open(&server, STREAM).await;
    let mut created = Lines::open(
        &server,
        &format!("/client/v2/environments/default/namespaces/{NEW_NS}/stream"),
    )
    .await;
    let (line, first) = default.next_result().await;
    let (body, etag) = snapshot(&server, "default").await;
    let mut expected = b"{\"result\":".to_vec();
    expected.extend_from_slice(&body);
    expected.extend_from_slice(b"}\n");
    assert_eq!(
        String::from_utf8_lossy(&line),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(first["namespace"], json!({"key": "default"}));
    assert_eq!(first["digest"], etag.as_str());
    assert_eq!(first["flags"][1]["enabled"], false);

    server.fixture.change(&[
        (
            "features.yaml",
            FLAGS
                .replace(
                    "enabled: false\n    rollouts",
                    "enabled: true\n    rollouts",
                )
                .as_str(),
        ),
        ("stream/features.yaml", NEW_NS_FILE),
    ]);
    let (_, next) = default.next_result().await;
    assert_eq!(next["flags"][1]["key"], "dark");
    assert_eq!(next["flags"][1]["enabled"], true);
    assert_ne!(next["digest"], first["digest"]);
    assert_eq!(
        next["digest"],
        snapshot(&server, "default").await.1.as_str()
    );

    let (_, new) = created.next_result().await;
    assert_eq!(new["namespace"]["key"], NEW_NS);
    assert_eq!(new["digest"].as_str().map(str::len), Some(40));
    assert_eq!(new["flags"][0]["key"], "test-flag");
    assert_eq!(new["flags"][0]["enabled"], true);
    server.stop().await.expect("stops");
}

#[tokio::test]
async fn stream_from_a_plain_directory() {
    stream_follows_changes(Fixture::new(ServerConfig::default()).await).await;
}

#[tokio::test]
async fn stream_from_git_commits() {
    stream_follows_changes(Fixture::with_git(ServerConfig::default(), FLAGS).await).await;
}

/// `?digest=` the client already has: the current snapshot is not sent again, the next change
/// is the first line. A digest that is not 40 characters is Flipt's 400.
#[tokio::test]
async fn stream_skips_the_digest_the_client_has() {
    let fixture = Fixture::with_git(ServerConfig::default(), FLAGS).await;
    let (s, _, v) = fixture.call(get(&format!("{STREAM}?digest=abc"))).await;
    assert_eq!(s, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"code": 3, "message": "invalid field digest: must be a 40-character string", "details": []})
    );
    let current = fixture
        .sync
        .environment("default")
        .expect("env")
        .namespace("default")
        .expect("ns")
        .digest
        .clone();
    let resp = fixture
        .send(get(&format!("{STREAM}?digest={current}&reference=ignored")))
        .await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    fixture.change(&[(
        "features.yaml",
        FLAGS
            .replace(
                "enabled: false\n    rollouts",
                "enabled: true\n    rollouts",
            )
            .as_str(),
    )]);
    let frame = tokio::time::timeout(LINE_WITHIN, body.frame())
        .await
        .expect("a frame within the time limit")
        .expect("frame")
        .expect("ok");
    let line: Value = serde_json::from_slice(frame.data_ref().expect("data")).expect("json");
    assert_ne!(line["result"]["digest"], current.as_str());
    assert_eq!(line["result"]["flags"][1]["enabled"], true);
}

/// The kernel's timer on the server's side of the TCP connection `server_port` ↔ `client_port`
/// (`/proc/net/tcp`'s `tr` field: 2 is the keepalive timer).
#[cfg(target_os = "linux")]
fn server_side_timer(server_port: u16, client_port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, timer) = (fields.get(1)?, fields.get(2)?, fields.get(5)?);
        (port(local)? == server_port && port(remote)? == client_port)
            .then(|| timer.split(':').next().unwrap_or_default().to_string())
    })
}

/// A quiet stream writes nothing between changes, so a client that vanished is found by TCP
/// keepalive, which every accepted connection has.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn stream_connections_have_tcp_keepalive() {
    use std::io::{Read, Write};
    let server = Running::start(ServerConfig::default()).await;
    let addr = server.addr;
    let timer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(s, "GET {STREAM} HTTP/1.1\r\nHost: x\r\n\r\n").expect("request");
        // the response head has arrived: the server has accepted and configured the socket
        let mut head = [0u8; 12];
        s.read_exact(&mut head).expect("head");
        assert_eq!(&head, b"HTTP/1.1 200");
        let port = s.local_addr().expect("addr").port();
        let timer = server_side_timer(addr.port(), port);
        drop(s);
        timer
    })
    .await
    .expect("client");
    assert_eq!(timer.as_deref(), Some("02"), "keepalive timer");
    server.stop().await.expect("stops");
}
