//! Connection limits over real sockets: idle keep-alive, slow heads, slow and short bodies,
//! broken HTTP/2 prefaces, and 1,100 idle connections against a server process whose open-file
//! limit is 1,024 (`ulimit -n` in a child process running this test binary).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard_server::{ConnectionLimits, ServerConfig};

use crate::support::Running;

fn short_limits() -> ServerConfig {
    ServerConfig {
        limits: ConnectionLimits {
            idle_timeout: Duration::from_millis(400),
            header_read_timeout: Duration::from_millis(400),
            body_read_timeout: Duration::from_millis(400),
            ..ConnectionLimits::default()
        },
        ..ServerConfig::default()
    }
}

/// Reads until the server closes the connection (or `limit` passes); returns what came and when.
fn read_to_close(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, started.elapsed()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (out, started.elapsed());
            }
            Err(e) => panic!(
                "the server did not close the connection within {limit:?} ({e}); got {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

/// One request on a new connection, read to the end of the body (`Content-Length`).
fn request(addr: SocketAddr, raw: &str, limit: Duration) -> (String, TcpStream) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(limit)).expect("timeout");
    s.write_all(raw.as_bytes()).expect("write");
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("response head in time");
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().expect("length");
        }
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("body");
    head.push_str(&String::from_utf8_lossy(&body));
    (head, s)
}

const EVAL: &str = "POST /evaluate/v1/boolean HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 34\r\n\r\n{\"flagKey\":\"dark\",\"entityId\":\"u1\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let server = Running::start(short_limits()).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let (resp, mut s) = request(addr, EVAL, Duration::from_secs(5));
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        let (rest, after) = read_to_close(&mut s, Duration::from_secs(5));
        assert!(rest.is_empty());
        assert!(
            after >= Duration::from_millis(300),
            "closed before the idle timeout: {after:?}"
        );
    })
    .await
    .expect("client");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_header_connections_are_closed_after_the_header_timeout() {
    let server = Running::start(short_limits()).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        // nothing sent at all
        let mut silent = TcpStream::connect(addr).expect("connect");
        // half a request head, then nothing
        let mut slow = TcpStream::connect(addr).expect("connect");
        slow.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n")
            .expect("write");
        // a keep-alive connection whose second head stalls
        let (_, mut second) = request(
            addr,
            "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
            Duration::from_secs(5),
        );
        second.write_all(b"GET /health HT").expect("write");
        for s in [&mut silent, &mut slow, &mut second] {
            let (_, after) = read_to_close(s, Duration::from_secs(5));
            assert!(after < Duration::from_secs(3), "{after:?}");
        }
    })
    .await
    .expect("client");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_shorter_than_its_length_gets_a_json_408_and_the_connection_closes() {
    let server = Running::start(short_limits()).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"POST /evaluate/v1/boolean HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"flagKey\":")
            .expect("write");
        let (resp, after) = read_to_close(&mut s, Duration::from_secs(5));
        let resp = String::from_utf8_lossy(&resp);
        assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
        assert!(resp.contains("\"code\":4"), "{resp}");
        assert!(resp.contains("request body"), "{resp}");
        assert!(after < Duration::from_secs(3), "{after:?}");
        // OFREP answers in its own shape
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"POST /ofrep/v1/evaluate/flags/dark HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
            .expect("write");
        let (resp, _) = read_to_close(&mut s, Duration::from_secs(5));
        let resp = String::from_utf8_lossy(&resp);
        assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
        assert!(resp.contains("\"errorCode\":\"GENERAL\""), "{resp}");
    })
    .await
    .expect("client");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_http2_prefaces_are_closed_promptly_and_a_real_h2_client_is_served() {
    let server = Running::start(short_limits()).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        for preface in [
            &b"PRI * HTTP/2.0\r\n"[..],
            &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
            &b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"[..],
        ] {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(preface).expect("write");
            let (_, after) = read_to_close(&mut s, Duration::from_secs(5));
            assert!(after < Duration::from_secs(3), "{preface:?}: {after:?}");
        }
    })
    .await
    .expect("client");
    let resp = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client")
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("h2c request");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_idle_connections() {
    let server = Running::start(ServerConfig::default()).await;
    assert!(server.fixture.sync.environment("default").is_some());
    let addr = server.addr;
    let idle = tokio::task::spawn_blocking(move || {
        let (_, s) = request(
            addr,
            "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
            Duration::from_secs(5),
        );
        s
    })
    .await
    .expect("client");
    let started = Instant::now();
    server.stop().await.expect("stop");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(idle);
}

/// Run in a child process by [`a_new_request_succeeds_within_a_second_past_1100_idle_connections`]
/// with `ulimit -n 1024`: serves until its stdin closes. `SWITCHYARD_FD_CHILD` says how many
/// extra files to hold open, to make `accept` itself run out of descriptors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started as a child process by the fd-limit test"]
async fn fd_limit_child() {
    let Some(hog) = std::env::var("SWITCHYARD_FD_CHILD")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let files: Vec<std::fs::File> = (0..hog)
        .map(|_| std::fs::File::open("/dev/null").expect("open"))
        .collect();
    let server = Running::start(ServerConfig::default()).await;
    println!("LISTENING {}", server.addr);
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        let _ = std::io::stdin().read_to_string(&mut s);
    })
    .await;
    server.stop().await.expect("stop");
    drop(files);
}

fn with_fd_limit(hog: usize) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 1024 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "limits::fd_limit_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SWITCHYARD_FD_CHILD", hog.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // the harness prints `test … ... ` before the test's own output
            if let Some((_, a)) = line.split_once("LISTENING ") {
                let _ = tx.send(a.trim().parse::<SocketAddr>().expect("address"));
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the child server listens");
    // 100 keep-alive connections left idle after a request, 1,000 that never send anything
    let mut idle = Vec::new();
    for _ in 0..100 {
        let (resp, s) = request(
            addr,
            "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
            Duration::from_secs(10),
        );
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        idle.push(s);
    }
    for _ in 0..1000 {
        idle.push(TcpStream::connect(addr).expect("connect"));
    }
    for round in 0..3 {
        let started = Instant::now();
        let (resp, _) = request(addr, EVAL, Duration::from_secs(1));
        let took = started.elapsed();
        assert!(resp.starts_with("HTTP/1.1 200"), "round {round}: {resp}");
        assert!(resp.contains("\"flagKey\":\"dark\""), "{resp}");
        assert!(took < Duration::from_secs(1), "round {round}: {took:?}");
        idle.push(TcpStream::connect(addr).expect("connect"));
    }
    let (metrics, _) = request(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n",
        Duration::from_secs(5),
    );
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in {metrics}"))
    };
    let limit = value("switchyard_http_connections_limit");
    assert!(limit <= 1024 - 96, "fitted to ulimit -n 1024: {limit}");
    assert!(value("switchyard_http_connections_open") <= limit + 32);
    assert!(value("switchyard_http_connections_shed_total") > 0);
    if hog > 0 {
        assert!(
            value("switchyard_http_accept_errors_total") > 0,
            "EMFILE seen"
        );
    }
    drop(idle);
    drop(child.stdin.take());
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the child did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_new_request_succeeds_within_a_second_past_1100_idle_connections() {
    with_fd_limit(0);
}

#[test]
fn running_out_of_descriptors_in_accept_sheds_idle_connections_instead_of_spinning() {
    with_fd_limit(300);
}
