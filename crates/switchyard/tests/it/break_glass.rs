//! Break-glass end to end (issue 15 item 1): the real `switchyard serve` follows a real Git
//! server (Git's `http-backend` over HTTP, `githttp.py`), which the test takes down. While it
//! is down: pause, pin an older commit, override two flags (with the `switchyard admin` CLI and
//! the HTTP API); each step shows in evaluations at once, in `X-Switchyard-Commit`, the status
//! (drift with actor and reason), the history and `/metrics`; a short override expires on its
//! own; a restart with the local backend keeps the pin and the override; the Git server comes
//! back with a new commit, which is held until resume applies it; the override's patch,
//! applied with `git apply` and pushed, makes Git match; an evaluation-scope token is refused.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::bin;
use super::relay::{Server, commit_file, get, git, http, new_repo, wait_for};

const ADMIN: &str = "break-glass-admin-token-0123456789";
const READER: &str = "break-glass-reader-token-012345678";

/// Git's smart-HTTP server on a fixed port, killed on drop.
struct GitServer {
    child: Option<Child>,
    root: PathBuf,
    port: u16,
}

impl GitServer {
    fn start(root: &Path, port: u16) -> GitServer {
        let mut s = GitServer {
            child: None,
            root: root.to_path_buf(),
            port,
        };
        s.up();
        s
    }

    fn up(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/githttp.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(&self.root)
            .arg(self.port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("read");
        assert_eq!(line.trim(), "listening", "the Git server starts");
        self.child = Some(child);
    }

    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/flags.git", self.port)
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.down();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Flag `checkout` (variants `old`, `new`; default `old`, a rule giving `label` to everyone)
/// and boolean flag `banner` at `banner`.
fn flags(banner: bool, label: &str) -> String {
    format!(
        "namespace: default\nflags:\n  - key: checkout\n    name: Checkout\n    type: VARIANT_FLAG_TYPE\n    enabled: true\n    variants:\n      - key: old\n        default: true\n      - key: new\n      - key: {label}\n    rules:\n      - segment: everyone\n        distributions:\n          - variant: {label}\n            rollout: 100\n  - key: banner\n    name: Banner\n    type: BOOLEAN_FLAG_TYPE\n    enabled: {banner}\nsegments:\n  - key: everyone\n    name: Everyone\n    match_type: ALL_MATCH_TYPE\n"
    )
}

/// Commits `contents` in `repo` and pushes it to the served bare repository; the sha.
fn push(repo: &Path, bare: &Path, contents: &str, message: &str) -> String {
    let sha = commit_file(repo, contents, message);
    git(
        repo,
        &[
            "push",
            "-q",
            &bare.display().to_string(),
            "HEAD:refs/heads/main",
        ],
    );
    sha
}

fn config(root: &Path, url: &str, backend: &Path) -> PathBuf {
    let config = root.join("switchyard.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    remote: {url}\n    branch: main\n    poll_interval: 1s\n    fetch_policy: lenient\n    backend: {{type: local, path: {}}}\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage:\n        tokens:\n          oncall: {{credential: {ADMIN}}}\n          reader: {{credential: {READER}, metadata: {{scope: evaluation}}}}\n",
            backend.display()
        ),
    )
    .expect("write");
    config
}

/// `switchyard admin <args>` against `server`; exit code and stdout.
fn admin(server: &Server, args: &[&str]) -> (i32, String) {
    let out = bin()
        .arg("admin")
        .args(["--url", &server.url(""), "--token", ADMIN])
        .args(args)
        .output()
        .expect("admin runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

/// A POST with `token` and a JSON body; status and JSON answer.
fn post(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let resp = http()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .expect("answer");
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().unwrap_or_default()).unwrap_or(Value::Null),
    )
}

/// Flipt's variant evaluation of `checkout` and boolean evaluation of `banner`, with the
/// commit each answer names.
fn answers(server: &Server) -> (String, bool, String) {
    let ask = |path: &str, flag: &str| {
        let resp = http()
            .post(server.url(path))
            .bearer_auth(READER)
            .body(json!({"flagKey": flag, "entityId": "user-1", "context": {}}).to_string())
            .send()
            .expect("evaluation answers");
        let commit = resp
            .headers()
            .get("x-switchyard-commit")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let v: Value = serde_json::from_str(&resp.text().unwrap_or_default()).unwrap_or_default();
        (v, commit)
    };
    let (variant, commit) = ask("/evaluate/v1/variant", "checkout");
    let (boolean, _) = ask("/evaluate/v1/boolean", "banner");
    (
        variant["variantKey"].as_str().unwrap_or("").to_string(),
        boolean["enabled"].as_bool().unwrap_or(false),
        commit,
    )
}

fn status(server: &Server) -> Value {
    get(&server.url("/api/v1/sync/status"), Some(ADMIN))
        .map(|(_, v)| v)
        .unwrap_or(Value::Null)
}

fn wait_serving(server: &Server, sha: &str) {
    wait_for(&format!("{sha} served"), Duration::from_secs(30), || {
        let s = status(server);
        if s["servingCommit"]["sha"] == sha {
            Ok(())
        } else {
            Err(format!("{s}\n{}", server.logs()))
        }
    });
}

fn history_actions(server: &Server) -> Vec<(String, String, String)> {
    let (_, h) = get(&server.url("/api/v1/sync/history"), Some(ADMIN)).expect("history");
    h["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["outcome"] == "break_glass")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("action"), s("actor"), s("reason"))
        })
        .collect()
}

fn metric(server: &Server, name: &str) -> Option<String> {
    let text = reqwest::blocking::get(server.url("/metrics"))
        .and_then(|r| r.text())
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{environment=\"default\"}}")))
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_string)
}

#[test]
fn break_glass_while_the_git_server_is_down_survives_a_restart_and_resumes() {
    let root = tempfile::tempdir().expect("tempdir");
    let srv = root.path().join("srv");
    std::fs::create_dir_all(&srv).expect("mkdir");
    let bare = srv.join("flags.git");
    git(
        root.path(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            &bare.display().to_string(),
        ],
    );
    let repo = new_repo(root.path());
    let first = push(&repo, &bare, &flags(false, "blue"), "first");
    let mut gitd = GitServer::start(&srv, free_port());
    let backend = root.path().join("backend");
    let config = config(root.path(), &gitd.url(), &backend);
    let args = ["--config", config.to_str().expect("utf-8")];
    let server = Server::start(&args, "127.0.0.1:0", &[]);
    wait_serving(&server, &first);
    let second = push(&repo, &bare, &flags(true, "green"), "second");
    wait_serving(&server, &second);
    assert_eq!(answers(&server), ("green".into(), true, second.clone()));

    // An evaluation-scope token may not break the glass.
    let url = |p: &str| server.url(&format!("/api/v1/environments/default/{p}"));
    let (code, body) = post(&url("pause"), READER, &json!({"reason": "x"}));
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("admin token"),
        "{body}"
    );

    // The Git server goes down; the sync says so and keeps serving.
    gitd.down();
    wait_for("the fetch fails", Duration::from_secs(20), || {
        let s = status(&server);
        if s["syncStatus"] == "error" {
            Ok(())
        } else {
            Err(s.to_string())
        }
    });

    // Pause (CLI), with a reason that goes into the history.
    let (code, out) = admin(&server, &["pause", "--reason", "Git host down, freezing"]);
    assert_eq!(code, 0, "{out}");
    let s = status(&server);
    assert_eq!(s["paused"]["actor"], "oncall", "{s}");
    assert_eq!(s["paused"]["reason"], "Git host down, freezing");
    // A pause without a reason is refused with the reason why.
    let (code, body) = post(&url("pause"), ADMIN, &json!({}));
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("a reason is required"),
        "{body}"
    );

    // Pin the first commit: no Git host needed, served at once.
    let (code, out) = admin(
        &server,
        &["pin", &first[..10], "--reason", "roll back the banner"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(answers(&server), ("blue".into(), false, first.clone()));
    // A commit never validated here is refused.
    let (code, body) = post(
        &url("pin"),
        ADMIN,
        &json!({"commit": "0123456789abcdef", "reason": "r"}),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("was not validated"),
        "{body}"
    );

    // Override: checkout forced to `new` for an hour (HTTP), banner on for 2 s (CLI).
    let (code, body) = post(
        &url("overrides"),
        ADMIN,
        &json!({"flag": "checkout", "variant": "new", "reason": "incident 42"}),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["actor"], "oncall");
    let (code, out) = admin(
        &server,
        &[
            "override",
            "banner",
            "--enabled",
            "true",
            "--duration",
            "2s",
            "--reason",
            "show the outage banner",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let overridden = format!("{first}+override");
    assert_eq!(answers(&server), ("new".into(), true, overridden.clone()));
    let s = status(&server);
    let drift = s["drift"].as_array().cloned().unwrap_or_default();
    assert_eq!(drift.len(), 2, "{s}");
    assert_eq!(drift[0]["flag"], "checkout");
    assert_eq!(drift[0]["actor"], "oncall");
    assert_eq!(drift[0]["reason"], "incident 42");
    assert_eq!(drift[0]["gitMatches"], false);
    assert_eq!(s["pinned"]["commit"], first.as_str());
    assert!(
        s["degradedReason"]
            .as_str()
            .unwrap_or("")
            .contains("break-glass"),
        "{s}"
    );
    assert_eq!(
        metric(&server, "switchyard_break_glass_overrides").as_deref(),
        Some("2")
    );
    assert_eq!(
        metric(&server, "switchyard_break_glass_paused").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&server, "switchyard_break_glass_pinned").as_deref(),
        Some("1")
    );
    // The short override expires on its own.
    wait_for(
        "the banner override expires",
        Duration::from_secs(10),
        || match answers(&server) {
            (v, false, c) if v == "new" && c == overridden => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let actions = history_actions(&server);
    let kinds: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["pause", "pin", "override", "override", "expire"],
        "{actions:?}"
    );
    assert_eq!(
        actions[1],
        ("pin".into(), "oncall".into(), "roll back the banner".into())
    );
    assert_eq!(actions[4].1, "server");

    // A restart with the local backend, the Git server still down: the pin and the override
    // are served at once.
    drop(server);
    let server = Server::start(&args, "127.0.0.1:0", &[]);
    wait_for(
        "the restart serves the pin",
        Duration::from_secs(20),
        || match answers(&server) {
            (v, false, c) if v == "new" && c == overridden => Ok(()),
            other => Err(format!("{other:?}\n{}", server.logs())),
        },
    );
    let s = status(&server);
    assert_eq!(s["pinned"]["commit"], first.as_str(), "{s}");
    assert_eq!(s["paused"]["actor"], "oncall", "{s}");
    let kinds: Vec<String> = history_actions(&server).into_iter().map(|a| a.0).collect();
    assert_eq!(
        kinds,
        ["pause", "pin", "override", "override", "expire"],
        "the log survives"
    );

    // The Git server comes back with a new commit: fetched and validated, but held.
    let third = push(&repo, &bare, &flags(true, "red"), "third");
    gitd.up();
    wait_for("the new commit is held", Duration::from_secs(20), || {
        let s = status(&server);
        if s["heldCommit"]["sha"] == third.as_str() && s["syncStatus"] == "success" {
            Ok(())
        } else {
            Err(s.to_string())
        }
    });
    assert_eq!(answers(&server), ("new".into(), false, overridden.clone()));

    // Resume: the branch head at once, the override still laid over it.
    let (code, out) = admin(&server, &["resume", "--reason", "Git is back"]);
    assert_eq!(code, 0, "{out}");
    let third_overridden = format!("{third}+override");
    assert_eq!(
        answers(&server),
        ("new".into(), true, third_overridden.clone())
    );
    let s = status(&server);
    assert!(s["paused"].is_null() && s["pinned"].is_null(), "{s}");

    // The patch the server offers, applied to the repository, makes Git match.
    let patch = s["drift"][0]["patch"]
        .as_str()
        .expect("a patch")
        .to_string();
    let file = root.path().join("override.patch");
    std::fs::write(&file, &patch).expect("write");
    git(&repo, &["apply", &file.display().to_string()]);
    git(&repo, &["commit", "-qam", "make Git match the override"]);
    git(
        &repo,
        &[
            "push",
            "-q",
            &bare.display().to_string(),
            "HEAD:refs/heads/main",
        ],
    );
    let fourth = git(&repo, &["rev-parse", "HEAD"]);
    wait_for("Git matches the override", Duration::from_secs(20), || {
        let s = status(&server);
        if s["drift"][0]["gitMatches"] == true && s["servingCommit"]["sha"] == fourth.as_str() {
            Ok(())
        } else {
            Err(s.to_string())
        }
    });

    // Clearing the override serves Git's own answer, which is now the same.
    let (code, out) = admin(&server, &["clear", "checkout", "--reason", "Git has it"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(answers(&server), ("new".into(), true, fourth.clone()));
    assert_eq!(
        metric(&server, "switchyard_break_glass_overrides").as_deref(),
        Some("0")
    );
    let (code, out) = admin(&server, &["clear", "checkout", "--reason", "again"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no override of flag default/checkout"),
        "{out}"
    );
}
