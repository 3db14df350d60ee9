//! Relay mode with real processes on loopback: an upstream `switchyard serve` on a real Git
//! repository (real `git` commits, `file://`), relays started with `--upstream`, a relay of a
//! relay; pushes and webhooks reaching every relay; the upstream killed and restarted; a relay
//! restarted while the upstream is down; a bad token refused.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::bin;

const ADMIN: &str = "upstream-admin-token-0123456789";
const RELAY_ADMIN: &str = "relay-admin-token-0123456789ab";
const GITLAB_TOKEN: &str = "gitlab-webhook-token-0123456789";

/// A running `switchyard serve`, killed on drop.
pub(super) struct Server {
    child: Child,
    addr: String,
    /// Every stderr line so far, for failure messages.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `serve` with `args` on `listen` and waits until it listens.
    pub(super) fn start(args: &[&str], listen: &str, env: &[(&str, &str)]) -> Server {
        let mut cmd = bin();
        cmd.arg("serve")
            .args(["--listen", listen])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on http://".len()..];
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                keep.lock().expect("log").push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve did not listen: {:?}", log.lock().expect("log")));
        Server { child, addr, log }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(super) fn logs(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

pub(super) fn get(url: &str, token: Option<&str>) -> Option<(u16, Value)> {
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().ok()?;
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn status(server: &Server, token: &str) -> Value {
    get(&server.url("/api/v1/sync/status"), Some(token))
        .map(|(_, v)| v)
        .unwrap_or(Value::Null)
}

/// Waits up to `limit` for `check`; panics with `what` and the last value seen.
pub(super) fn wait_for(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Result<(), String>,
) -> Duration {
    let start = Instant::now();
    loop {
        let outcome = check();
        match outcome {
            Ok(()) => return start.elapsed(),
            Err(last) if start.elapsed() > limit => {
                panic!("{what}: not within {limit:?}; last: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Waits until `server` serves commit `sha` in its default environment.
fn wait_serving(server: &Server, token: &str, sha: &str, limit: Duration) -> Duration {
    wait_for(&format!("{} serves {sha}", server.addr), limit, || {
        let s = status(server, token);
        if s["servingCommit"]["sha"] == sha {
            Ok(())
        } else {
            Err(format!("{s}\n{}", server.logs()))
        }
    })
}

pub(super) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Relay Test")
        .env("GIT_AUTHOR_EMAIL", "relay@example.com")
        .env("GIT_COMMITTER_NAME", "Relay Test")
        .env("GIT_COMMITTER_EMAIL", "relay@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository whose `team/features.yaml` has flag `f` with `enabled`, committed; its sha.
pub(super) fn commit_flag(repo: &Path, enabled: bool, message: &str) -> String {
    commit_file(
        repo,
        &format!(
            "namespace: default\nflags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    enabled: {enabled}\n"
        ),
        message,
    )
}

/// Writes `team/features.yaml` with `contents` and commits it; the commit's sha.
pub(super) fn commit_file(repo: &Path, contents: &str, message: &str) -> String {
    std::fs::create_dir_all(repo.join("team")).expect("mkdir");
    std::fs::write(repo.join("team/features.yaml"), contents).expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

pub(super) fn new_repo(root: &Path) -> PathBuf {
    let repo = root.join("flags");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    repo
}

/// The upstream's configuration: the repository, an admin token, a GitLab webhook token.
fn upstream_config(root: &Path, repo: &Path, poll: &str, backend: Option<&Path>) -> PathBuf {
    let backend = backend.map_or(String::new(), |p| {
        format!("    backend: {{type: local, path: {}}}\n", p.display())
    });
    let config = root.join("upstream.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    remote: file://{}\n    branch: main\n    poll_interval: {poll}\n    fetch_policy: lenient\n{backend}authentication:\n  methods:\n    token:\n      enabled: true\n      storage:\n        tokens:\n          admin: {{credential: {ADMIN}}}\nwebhooks:\n  gitlab:\n    token: {GITLAB_TOKEN}\n",
            repo.display()
        ),
    )
    .expect("write");
    config
}

/// A relay's configuration: its upstream's token, its own admin token, and optionally the
/// local backend.
fn relay_config(root: &Path, name: &str, token: &str, backend: Option<&Path>) -> PathBuf {
    let backend = backend.map_or(String::new(), |p| {
        format!("  backend: {{type: local, path: {}}}\n", p.display())
    });
    let config = root.join(format!("{name}.yml"));
    std::fs::write(
        &config,
        format!(
            "upstream:\n  token: {token}\n  environments: [default]\n{backend}authentication:\n  methods:\n    token:\n      enabled: true\n      storage:\n        tokens:\n          admin: {{credential: {RELAY_ADMIN}}}\n"
        ),
    )
    .expect("write");
    config
}

fn relay(config: &Path, upstream: &Server) -> Server {
    Server::start(
        &[
            "--config",
            &config.display().to_string(),
            "--upstream",
            &format!("http://{}", upstream.addr),
        ],
        "127.0.0.1:0",
        &[],
    )
}

/// An upstream following `repo` every `poll`, a relay of it, and a relay of that relay (which
/// follows the first relay with that relay's admin token), each serving `first`.
fn chain(root: &Path, repo: &Path, poll: &str, first: &str) -> [Server; 3] {
    let upstream = Server::start(
        &[
            "--config",
            &upstream_config(root, repo, poll, None)
                .display()
                .to_string(),
        ],
        "127.0.0.1:0",
        &[],
    );
    wait_serving(&upstream, ADMIN, first, Duration::from_secs(20));
    let relay1 = relay(&relay_config(root, "relay1", ADMIN, None), &upstream);
    let relay2 = relay(&relay_config(root, "relay2", RELAY_ADMIN, None), &relay1);
    wait_serving(&relay1, RELAY_ADMIN, first, Duration::from_secs(20));
    wait_serving(&relay2, RELAY_ADMIN, first, Duration::from_secs(20));
    [upstream, relay1, relay2]
}

fn evaluate(server: &Server, token: &str) -> Option<bool> {
    evaluate_with_commit(server, token).map(|(enabled, _)| enabled)
}

/// A push (announced by a GitLab webhook sent to the second relay) reaches the upstream, the
/// relay and the relay of the relay; `POST /api/v1/sync` on a relay is forwarded too; every
/// relay's status says what it follows; a relay with a wrong token is refused and says so.
#[test]
fn webhooks_and_pushes_reach_every_relay_and_a_chain() {
    let t = tempfile::tempdir().expect("tempdir");
    let repo = new_repo(t.path());
    let first = commit_flag(&repo, false, "first");
    // a long poll: only webhooks and sync requests make the upstream fetch
    let [upstream, relay1, relay2] = chain(t.path(), &repo, "300s", &first);
    assert_eq!(evaluate(&relay2, RELAY_ADMIN), Some(false));
    let s = status(&relay1, RELAY_ADMIN);
    assert_eq!(
        s["upstream"]["url"],
        format!("http://{}", upstream.addr),
        "{s}"
    );
    assert_eq!(s["upstream"]["connected"], true, "{s}");
    assert_eq!(s["upstream"]["upstreamCommit"], first, "{s}");
    assert_eq!(s["upstream"]["behindSeconds"], 0, "{s}");
    assert_eq!(s["enabled"], true, "{s}");
    assert_eq!(s["syncStatus"], "success", "{s}");
    let (code, _) = get(&relay2.url("/ready"), None).expect("ready answers");
    assert_eq!(code, 200);

    // a push, announced by a webhook to the relay of the relay
    let second = commit_flag(&repo, true, "second");
    let payload = json!({
        "object_kind": "push",
        "ref": "refs/heads/main",
        "project": {"git_http_url": format!("file://{}", repo.display())},
    });
    let resp = http()
        .post(relay2.url("/api/v1/webhooks/gitlab"))
        .header("x-gitlab-token", GITLAB_TOKEN)
        .header("x-gitlab-event", "Push Hook")
        .body(payload.to_string())
        .send()
        .expect("webhook answered");
    assert_eq!(resp.status().as_u16(), 202);
    let forwarded = resp
        .headers()
        .get("x-switchyard-forwarded-to")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = serde_json::from_str(&resp.text().expect("body")).expect("json");
    assert_eq!(body["triggered"], json!(["default"]), "{body}");
    assert_eq!(forwarded, Some(format!("http://{}", relay1.addr)));
    wait_serving(&upstream, ADMIN, &second, Duration::from_secs(20));
    wait_serving(&relay1, RELAY_ADMIN, &second, Duration::from_secs(10));
    wait_serving(&relay2, RELAY_ADMIN, &second, Duration::from_secs(10));
    assert_eq!(evaluate(&relay2, RELAY_ADMIN), Some(true));

    // a wrongly signed webhook is refused by the upstream, through the relays
    let resp = http()
        .post(relay2.url("/api/v1/webhooks/gitlab"))
        .header("x-gitlab-token", "wrong")
        .body(payload.to_string())
        .send()
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 401);

    // `POST /api/v1/sync` on a relay syncs the upstream
    let third = commit_flag(&repo, false, "third");
    let resp = http()
        .post(relay1.url("/api/v1/sync"))
        .bearer_auth(RELAY_ADMIN)
        .send()
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 202);
    wait_serving(&relay2, RELAY_ADMIN, &third, Duration::from_secs(20));

    // the stream refuses a wrong token, and a relay holding one says why
    let (code, body) =
        get(&upstream.url("/api/v1/relay/stream"), Some("not-the-token")).expect("answered");
    assert_eq!(code, 401, "{body}");
    let bad = relay(
        &relay_config(t.path(), "bad", "not-the-token", None),
        &upstream,
    );
    wait_for(
        "the bad relay reports the refused token",
        Duration::from_secs(20),
        || {
            let s = status(&bad, RELAY_ADMIN);
            if s["errorClass"] == "authentication"
                && s["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("refused the relay token"))
            {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    let (code, _) = get(&bad.url("/ready"), None).expect("ready answers");
    assert_eq!(code, 503, "a relay that never got a state is not ready");
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

/// The upstream killed mid-stream: the relay keeps serving and reports `upstream unreachable`;
/// a relay restarted meanwhile serves its last good commit at once (local backend); when the
/// upstream returns, the relay catches up with what was pushed while it was away.
#[test]
fn relays_survive_the_upstream_going_away_and_catch_up() {
    let t = tempfile::tempdir().expect("tempdir");
    let repo = new_repo(t.path());
    let first = commit_flag(&repo, true, "first");
    let listen = free_port();
    let up_backend = t.path().join("upstream-backend");
    let up_config = upstream_config(t.path(), &repo, "1s", Some(&up_backend));
    let up_args = ["--config".to_string(), up_config.display().to_string()];
    let up_args: Vec<&str> = up_args.iter().map(String::as_str).collect();
    let upstream = Server::start(&up_args, &listen, &[]);
    wait_serving(&upstream, ADMIN, &first, Duration::from_secs(20));
    let backend = t.path().join("relay-backend");
    let config = relay_config(t.path(), "relay", ADMIN, Some(&backend));
    let relay1 = relay(&config, &upstream);
    wait_serving(&relay1, RELAY_ADMIN, &first, Duration::from_secs(20));

    upstream.kill();
    wait_for(
        "the relay reports upstream unreachable",
        Duration::from_secs(10),
        || {
            let s = status(&relay1, RELAY_ADMIN);
            if s["errorClass"] == "upstream_unreachable" && s["upstream"]["connected"] == false {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    );
    assert_eq!(evaluate(&relay1, RELAY_ADMIN), Some(true), "still serving");
    let s = status(&relay1, RELAY_ADMIN);
    assert_eq!(s["servingCommit"]["sha"], first, "{s}");
    assert!(
        s["errorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("upstream unreachable")),
        "{s}"
    );

    // a relay restarted while the upstream is down serves its last good commit at once
    relay1.kill();
    let relay_listen = free_port();
    let relay2 = Server::start(
        &[
            "--config",
            &config.display().to_string(),
            "--upstream",
            &format!("http://{listen}"),
        ],
        &relay_listen,
        &[],
    );
    let s = status(&relay2, RELAY_ADMIN);
    assert_eq!(
        s["servingCommit"]["sha"], first,
        "served from the local backend at once: {s}"
    );
    let (code, _) = get(&relay2.url("/ready"), None).expect("ready answers");
    assert_eq!(code, 200);
    assert_eq!(evaluate(&relay2, RELAY_ADMIN), Some(true));

    // pushed while the upstream is away, then the upstream returns on its address
    let second = commit_flag(&repo, false, "second");
    let upstream = Server::start(&up_args, &listen, &[]);
    let up_took = wait_serving(&upstream, ADMIN, &second, Duration::from_secs(20));
    let returned = Instant::now();
    wait_serving(&relay2, RELAY_ADMIN, &second, Duration::from_secs(5));
    let caught_up = returned.elapsed();
    eprintln!(
        "upstream back and serving the new commit after {up_took:?}; the relay had it {caught_up:?} later"
    );
    assert!(
        caught_up < Duration::from_secs(3),
        "caught up after {caught_up:?}"
    );
    let s = status(&relay2, RELAY_ADMIN);
    assert_eq!(s["upstream"]["connected"], true, "{s}");
    assert_eq!(s["syncStatus"], "success", "{s}");
    drop(upstream);
}

/// The boolean answer for flag `f` and the commit it names.
fn evaluate_with_commit(server: &Server, token: &str) -> Option<(bool, String)> {
    let resp = http()
        .post(server.url("/evaluate/v1/boolean"))
        .bearer_auth(token)
        .body(json!({"flagKey": "f", "entityId": "u"}).to_string())
        .send()
        .ok()?;
    let commit = resp
        .headers()
        .get("x-switchyard-commit")?
        .to_str()
        .ok()?
        .to_string();
    let v: Value = serde_json::from_str(&resp.text().ok()?).ok()?;
    Some((v["enabled"].as_bool()?, commit))
}

/// Break-glass on the upstream reaches every relay of a chain: an override set on the upstream
/// is served by the relay and the relay's relay (`<sha>+override`); an override ended through a
/// relay is forwarded to the upstream and ends everywhere.
#[test]
fn break_glass_on_the_upstream_reaches_every_relay() {
    let t = tempfile::tempdir().expect("tempdir");
    let repo = new_repo(t.path());
    let first = commit_flag(&repo, false, "first");
    let [upstream, relay1, relay2] = chain(t.path(), &repo, "1s", &first);
    let resp = http()
        .post(upstream.url("/api/v1/environments/default/overrides"))
        .bearer_auth(ADMIN)
        .body(json!({"flag": "f", "enabled": true, "reason": "incident 7"}).to_string())
        .send()
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 201);
    let overridden = format!("{first}+override");
    for (name, server, token) in [
        ("upstream", &upstream, ADMIN),
        ("relay", &relay1, RELAY_ADMIN),
        ("relay of the relay", &relay2, RELAY_ADMIN),
    ] {
        wait_for(
            &format!("the {name} serves the override"),
            Duration::from_secs(10),
            || match evaluate_with_commit(server, token) {
                Some((true, c)) if c == overridden => Ok(()),
                other => Err(format!("{other:?}\n{}", server.logs())),
            },
        );
    }
    // The relays show it as drift, with who set it and why, as the upstream does.
    for server in [&relay1, &relay2] {
        // the status follows the swap by a moment
        wait_for("the relay's drift", Duration::from_secs(5), || {
            let s = status(server, RELAY_ADMIN);
            match s["drift"][0]["flag"] == "f" {
                true => Ok(()),
                false => Err(s.to_string()),
            }
        });
        let s = status(server, RELAY_ADMIN);
        assert_eq!(s["drift"][0]["flag"], "f", "{s}");
        assert_eq!(s["drift"][0]["actor"], "admin", "{s}");
        assert_eq!(s["drift"][0]["reason"], "incident 7", "{s}");
        assert!(
            s["degradedReason"]
                .as_str()
                .unwrap_or("")
                .contains("1 flag override"),
            "{s}"
        );
    }
    // Ending it through the relay: forwarded to the upstream, ended everywhere.
    let resp = http()
        .delete(relay1.url("/api/v1/environments/default/overrides/default/f"))
        .bearer_auth(RELAY_ADMIN)
        .body(json!({"reason": "resolved"}).to_string())
        .send()
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text());
    for (name, server, token) in [
        ("upstream", &upstream, ADMIN),
        ("relay of the relay", &relay2, RELAY_ADMIN),
    ] {
        wait_for(
            &format!("the {name} serves Git again"),
            Duration::from_secs(10),
            || match evaluate_with_commit(server, token) {
                Some((false, c)) if c == first => Ok(()),
                other => Err(format!("{other:?}")),
            },
        );
    }
    let s = status(&upstream, ADMIN);
    assert_eq!(s["drift"], json!([]), "{s}");
    wait_for(
        "no drift left on the relay's relay",
        Duration::from_secs(5),
        || {
            let s = status(&relay2, RELAY_ADMIN);
            match s["drift"] == json!([]) {
                true => Ok(()),
                false => Err(s.to_string()),
            }
        },
    );
}
