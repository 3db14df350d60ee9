//! `switchyard serve` against a git host that accepts connections and never answers (issue 10
//! item 1): the listener answers `/health` at once and `/ready` 503 while the first fetch hangs,
//! and with `fetch_policy: strict` the process exits non-zero once the fetch hits its bound.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `GET path` over a fresh connection: (status code, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let code = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Some((code, body))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn a_silent_remote_never_delays_the_listener_and_strict_start_fails_in_bound() {
    // the stuck git host: accepts, reads nothing, answers nothing
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().flatten() {
            held.push(c);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    remote: https://127.0.0.1:{silent_port}/flags.git\n    branch: main\n    poll_interval: 1s\n    timeouts: {{connect: 1s, read: 2s, low_speed_time: 2s, total: 3s}}\nenvironments:\n  default:\n    storage: default\n"
        ),
    )
    .expect("write config");
    let port = free_port();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    // /health answers while the first fetch hangs
    let health = loop {
        if let Some(r) = get(port, "/health") {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "/health did not answer within 2 s of start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(health.0, 200, "{health:?}");
    let ready = get(port, "/ready").expect("/ready answers");
    assert_eq!(ready.0, 503, "{ready:?}");
    // strict: the process ends, non-zero, once the fetch reaches its 3 s bound
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("serve did not exit after the first fetch timed out");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(stderr.contains("performing initial fetch"), "{stderr}");
    assert!(
        stderr.contains(&format!("https://127.0.0.1:{silent_port}/flags.git")),
        "{stderr}"
    );
    assert!(
        stderr.contains("timed out") || stderr.contains("timeouts."),
        "{stderr}"
    );
}
