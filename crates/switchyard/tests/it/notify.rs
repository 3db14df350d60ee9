//! Change notifications end to end (issue 15 item 3): the real `switchyard serve` over a real
//! Git repository (`file://`, real `git` commits) delivers to a real HTTP receiver started here.
//! A pushed commit arrives as a signed webhook (the signature checked with Python's `hmac`, not
//! Switchyard's code) carrying the diff, the impact and `<environment>@<commit>`; the receiver
//! fails twice first, so the retries are exercised; a rejected commit and the recovery arrive;
//! with the receiver down the queue bound holds and `/metrics` counts the dropped messages; no
//! log line holds the hook's secret path or the HMAC key.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::relay::{Server, commit_file, commit_flag, get, git, new_repo, wait_for};

const SECRET: &str = "hmac-key-never-logged-4242";
const HOOK_PATH: &str = "/hooks/T0PSECRETPATH";

/// One request the receiver got: headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A loopback HTTP receiver that answers 500 to its first `fail_first` requests, 200 after.
fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        let mut seen = 0usize;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut headers = Vec::new();
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let len = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0usize);
            let mut body = vec![0; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            seen += 1;
            let status = if seen <= fail_first {
                "500 Internal Server Error"
            } else {
                keep.lock().expect("lock").push(Received { headers, body });
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (format!("http://{addr}{HOOK_PATH}"), got)
}

fn config(root: &Path, repo: &Path, hook: &str, extra: &str) -> std::path::PathBuf {
    let config = root.join("flipt.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    remote: file://{}\n    branch: main\n    poll_interval: 1s\n    fetch_policy: lenient\nnotifications:\n{extra}  sinks:\n    - type: webhook\n      url: {hook}\n      secret: ${{env:NOTIFY_SECRET}}\n    - type: log\n",
            repo.display()
        ),
    )
    .expect("write");
    config
}

/// A rollout flag `r` at `percent` % true beside flag `f`; the commit's sha.
fn commit_rollout(repo: &Path, percent: u32, message: &str) -> String {
    commit_file(
        repo,
        &format!(
            "namespace: default\nflags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n  - key: r\n    name: R\n    type: BOOLEAN_FLAG_TYPE\n    enabled: false\n    rollouts:\n      - threshold:\n          percentage: {percent}\n          value: true\n"
        ),
        message,
    )
}

/// Waits until `server` serves commit `sha` (the server has no authentication).
fn wait_serving(server: &Server, sha: &str) {
    wait_for(&format!("{sha} served"), Duration::from_secs(30), || {
        let s = get(&server.url("/api/v1/sync/status"), None)
            .map(|(_, v)| v)
            .unwrap_or(Value::Null);
        if s["servingCommit"]["sha"] == sha {
            Ok(())
        } else {
            Err(s.to_string())
        }
    });
}

/// HMAC-SHA256 of `body` with `key`, as Python's standard library computes it.
fn python_hmac(key: &str, body: &[u8]) -> String {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys;print('sha256='+hmac.new(sys.argv[1].encode(),sys.stdin.buffer.read(),hashlib.sha256).hexdigest())",
            key,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write");
    let out = child.wait_with_output().expect("python3 ends");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait_messages(got: &Arc<Mutex<Vec<Received>>>, n: usize, server: &Server) -> Vec<Received> {
    wait_for(
        &format!("{n} notifications"),
        Duration::from_secs(30),
        || {
            let g = got.lock().expect("lock");
            if g.len() >= n {
                Ok(())
            } else {
                Err(format!("{} so far\n{}", g.len(), server.logs()))
            }
        },
    );
    got.lock().expect("lock").clone()
}

#[test]
fn notifications_are_signed_retried_and_carry_diff_impact_errors_and_recovery() {
    let root = tempfile::tempdir().expect("tempdir");
    let repo = new_repo(root.path());
    let first = commit_rollout(&repo, 0, "first");
    let (hook, got) = receiver(2);
    let config = config(
        root.path(),
        &repo,
        &hook,
        "  attempts: 5\n  backoff: 50ms\n",
    );
    let server = Server::start(
        &["--config", &config.display().to_string()],
        "127.0.0.1:0",
        &[("NOTIFY_SECRET", SECRET)],
    );
    wait_serving(&server, &first);

    // an applied commit: flag r from 0 % to 25 % true, delivered on the third attempt
    let second = commit_rollout(&repo, 25, "roll out r to 25%");
    let m = wait_messages(&got, 1, &server);
    let applied = &m[0];
    let v = applied.json();
    assert_eq!(v["event"], "applied", "{v}");
    assert_eq!(v["environment"], "default");
    assert_eq!(v["commit"], second.as_str());
    assert_eq!(v["idempotencyKey"], format!("default@{second}"));
    assert_eq!(
        applied.header("idempotency-key"),
        Some(format!("default@{second}").as_str())
    );
    assert!(
        v["author"].as_str().unwrap_or("").contains("Relay Test"),
        "{v}"
    );
    let diff = v["diff"].to_string();
    assert!(diff.contains('r'), "the diff names flag r: {v}");
    let impact = v["impact"].to_string();
    assert!(impact.contains("flag r") && impact.contains("25%"), "{v}");
    assert_eq!(
        applied.header("x-switchyard-signature-256"),
        Some(python_hmac(SECRET, &applied.body).as_str()),
        "the signature verifies with an independent HMAC"
    );
    assert!(
        applied
            .header("x-switchyard-delivery")
            .is_some_and(|d| !d.is_empty())
    );
    let logs = server.logs();
    assert!(
        logs.matches("notification not delivered").count() >= 2,
        "two failed attempts were retried: {logs}"
    );

    // a rejected commit: its validation error with file:line:column
    std::fs::write(
        repo.join("team/features.yaml"),
        "namespace: default\nflags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    enabled: maybe\n",
    )
    .expect("write");
    git(&repo, &["commit", "-qam", "break it"]);
    let bad = git(&repo, &["rev-parse", "HEAD"]);
    let m = wait_messages(&got, 2, &server);
    let v = m[1].json();
    assert_eq!(v["event"], "rejected", "{v}");
    assert_eq!(v["commit"], bad.as_str());
    let errors = v["errors"].to_string();
    assert!(errors.contains("team/features.yaml:6:"), "{v}");

    // the fix: a recovery, with the diff against what was served (the 25 % commit)
    let fixed = commit_rollout(&repo, 50, "fix and go to 50%");
    let m = wait_messages(&got, 3, &server);
    let v = m[2].json();
    assert_eq!(v["event"], "recovered", "{v}");
    assert_eq!(v["commit"], fixed.as_str());
    assert!(
        v["impact"].to_string().contains("25%"),
        "25 % more entities: {v}"
    );

    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .and_then(|r| r.text())
        .expect("metrics");
    assert!(
        metrics.contains(
            "switchyard_notifications_delivered_total{sink=\"webhook:http://127.0.0.1/***\"} 3"
        ),
        "{metrics}"
    );
    let logs = server.logs();
    assert!(
        logs.contains("Switchyard default: commit"),
        "the log sink: {logs}"
    );
    assert!(
        !logs.contains(SECRET) && !logs.contains("T0PSECRETPATH"),
        "{logs}"
    );
    assert!(!metrics.contains("T0PSECRETPATH"), "{metrics}");

    // A break-glass action: one message with the action, the actor and the reason.
    let resp = super::relay::http()
        .post(server.url("/api/v1/environments/default/overrides"))
        .body(r#"{"flag": "r", "rollout": 5, "reason": "too many errors at 50%"}"#)
        .send()
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 201);
    let m = wait_messages(&got, 4, &server);
    let v = m[3].json();
    assert_eq!(v["event"], "breakGlass", "{v}");
    assert_eq!(v["breakGlass"]["action"], "override", "{v}");
    assert_eq!(v["breakGlass"]["actor"], "anonymous", "{v}");
    assert_eq!(v["breakGlass"]["reason"], "too many errors at 50%", "{v}");
    assert!(
        v["breakGlass"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("flag default/r true for 5% of entities"),
        "{v}"
    );
    assert!(
        v["idempotencyKey"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("default@{fixed}#break-glass/override/")),
        "{v}"
    );
    assert_eq!(
        m[3].header("x-switchyard-signature-256"),
        Some(python_hmac(SECRET, &m[3].body).as_str())
    );
}

#[test]
fn a_dead_receiver_never_grows_the_queue_past_its_bound() {
    let root = tempfile::tempdir().expect("tempdir");
    let repo = new_repo(root.path());
    let first = commit_flag(&repo, true, "first");
    // a port nothing listens on
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let hook = format!("http://127.0.0.1:{dead}{HOOK_PATH}");
    let config = config(
        root.path(),
        &repo,
        &hook,
        "  queue_size: 1\n  attempts: 100\n  backoff: 5s\n",
    );
    let server = Server::start(
        &["--config", &config.display().to_string()],
        "127.0.0.1:0",
        &[("NOTIFY_SECRET", SECRET)],
    );
    wait_serving(&server, &first);
    for (i, p) in [10, 20, 30, 40].into_iter().enumerate() {
        let sha = commit_rollout(&repo, p, &format!("step {i}"));
        wait_serving(&server, &sha);
    }
    wait_for("dropped counted", Duration::from_secs(10), || {
        let metrics = reqwest::blocking::get(server.url("/metrics"))
            .and_then(|r| r.text())
            .map_err(|e| e.to_string())?;
        let line = |name: &str| {
            metrics
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        // one message is being retried, one waits, the other two were dropped
        match (
            line("switchyard_notifications_dropped_total{sink=\"webhook"),
            line("switchyard_notifications_queued{sink=\"webhook"),
        ) {
            (Some(2), Some(1)) => Ok(()),
            other => Err(format!("{other:?}\n{metrics}")),
        }
    });
    let logs = server.logs();
    assert!(
        !logs.contains(SECRET) && !logs.contains("T0PSECRETPATH"),
        "{logs}"
    );
}
