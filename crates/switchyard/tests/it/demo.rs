//! `switchyard demo` on the user's directories: it never overwrites, serves an existing
//! repository on its own branch, and leaves hooks as it found them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{bin, run};

const FLAGS: &str = "namespace: default\nflags:\n  - key: userFlag\n    name: User flag\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository on `master` with one commit of `flipt/features.yml`.
fn repo_on_master(dir: &Path) {
    git(dir, &["init", "-q", "-b", "master"]);
    std::fs::create_dir_all(dir.join("flipt")).expect("mkdir");
    std::fs::write(dir.join("flipt/features.yml"), FLAGS).expect("write");
    git(dir, &["add", "-A"]);
    git(
        dir,
        &["-c", "commit.gpgsign=false", "commit", "-qm", "user flags"],
    );
}

/// A running demo and the URL it printed; killed when dropped (a failed test leaves no process).
struct Demo {
    child: Child,
    url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Demo {
    fn start(dir: &Path) -> Demo {
        Demo::start_with(dir, &[])
    }

    #[allow(clippy::zombie_processes)] // the child is waited for in `stop` or `drop`
    fn start_with(dir: &Path, extra: &[&str]) -> Demo {
        let mut child = bin()
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--poll-interval",
                "1s",
                "--dir",
            ])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("demo starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keeps reading after the address is known, so the demo's stdout never closes.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("switchyard: listening on ") {
                        return Demo {
                            child,
                            url: url.to_string(),
                        };
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!("demo did not print its address: {e}");
                }
            }
        }
    }

    /// Sends `signal` (TERM or INT) and waits for a clean exit.
    fn stop(&mut self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                assert!(s.success(), "demo exited with {s}");
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("demo did not stop within 30 s of SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// POSTs JSON to `path` and returns the status code and body.
    fn post(&self, path: &str, body: &str) -> (u16, String) {
        self.request("POST", path, body)
    }

    /// Sends one request and returns the status code and the whole response.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let hostport = self.url.trim_start_matches("http://");
        let mut s = TcpStream::connect(hostport).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let code = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (code, out)
    }

    /// Waits until the boolean `flag` evaluates with `enabled` as it is in the repository.
    fn wait_for_flag(&self, flag: &str, enabled: bool) {
        self.wait_for(
            "/evaluate/v1/boolean",
            &format!("{{\"flagKey\":\"{flag}\",\"entityId\":\"u1\"}}"),
            &format!("\"enabled\":{enabled}"),
        );
    }

    /// Waits until POSTing `body` to `path` answers 200 with `want` in the response.
    fn wait_for(&self, path: &str, body: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (code, got) = self.post(path, body);
            if code == 200 && got.contains(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{path} {body} never answered {want}: {got}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn demo_refuses_a_non_empty_directory_that_is_not_a_repository() {
    let t = tempdir();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("flipt")).expect("mkdir");
    std::fs::write(dir.join("flipt/features.yml"), "my: own flags\n").expect("write");
    let (code, out, err) = run(bin()
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("is not empty and is not a Git repository; nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("flipt/features.yml")).expect("read"),
        "my: own flags\n"
    );
    assert!(!dir.join(".git").exists(), "no repository was created");
}

#[test]
fn demo_serves_a_repository_on_master_and_leaves_the_users_hook() {
    let t = tempdir();
    let dir = t.path();
    repo_on_master(dir);
    let user_hook = "#!/bin/sh\necho the user's own hook\n";
    let hook = dir.join(".git/hooks/post-commit");
    std::fs::write(&hook, user_hook).expect("write hook");
    let head = std::fs::read_to_string(dir.join(".git/HEAD")).expect("HEAD");
    let mut demo = Demo::start(dir);
    demo.wait_for_flag("userFlag", true);
    assert_eq!(
        std::fs::read_to_string(&hook).expect("hook"),
        user_hook,
        "while running"
    );
    demo.stop("TERM");
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), user_hook);
    assert_eq!(
        std::fs::read_to_string(dir.join("flipt/features.yml")).expect("read"),
        FLAGS
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".git/HEAD")).expect("HEAD"),
        head
    );
}

#[test]
fn demo_installs_its_hook_only_while_it_runs() {
    let t = tempdir();
    let dir = t.path();
    repo_on_master(dir);
    let hook = dir.join(".git/hooks/post-commit");
    assert!(!hook.exists());
    let mut demo = Demo::start(dir);
    demo.wait_for_flag("userFlag", true);
    let text = std::fs::read_to_string(&hook).expect("the demo's hook is installed");
    assert!(text.contains("Installed by `switchyard demo`"), "{text}");
    std::fs::write(
        dir.join("flipt/features.yml"),
        FLAGS.replace("enabled: true", "enabled: false"),
    )
    .expect("write");
    git(
        dir,
        &["-c", "commit.gpgsign=false", "commit", "-qam", "off"],
    );
    demo.wait_for_flag("userFlag", false);
    demo.stop("INT");
    assert!(!hook.exists(), "the demo removes its hook on exit");
}

#[test]
fn demo_creates_a_new_directory_whose_printed_commit_works_without_an_identity() {
    let t = tempdir();
    let dir = t.path().join("new");
    let mut demo = Demo::start(&dir);
    demo.wait_for(
        "/evaluate/v1/variant",
        r#"{"flagKey":"newDashboard","entityId":"u1"}"#,
        r#""flagKey":"newDashboard""#,
    );
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    // The printed commands, in a shell with no global git identity.
    let out = Command::new("sh")
        .arg("-c")
        .arg("sed -i.bak 's/rollout: 25/rollout: 50/; s/rollout: 75/rollout: 50/' flipt/features.yml && rm flipt/features.yml.bak && git commit -qam 'Roll newPaymentFlow out to 50%'")
        .current_dir(&dir)
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `--version` and the served OpenAPI document name the same version.
    let (_, version, _) = run(bin().arg("--version"));
    let version = version
        .trim()
        .strip_prefix("switchyard ")
        .expect("name")
        .to_string();
    let (code, openapi) = demo.request("GET", "/openapi.json", "");
    assert_eq!(code, 200);
    assert!(
        openapi.contains(&format!("\"version\":\"{version}\"")),
        "{version}: {openapi}"
    );
    demo.stop("TERM");
    assert!(!dir.join(".git/hooks/post-commit").exists());
}

#[test]
fn a_taken_port_names_the_listen_option_and_logs_have_no_colour_escapes() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let t = tempdir();
    let (code, out, err) = run(bin()
        .args(["demo", "--listen", &addr, "--dir"])
        .arg(t.path().join("flags")));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(
        err.contains("choose another address with --listen"),
        "{err}"
    );
    let config = t.path().join("switchyard.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    local_path: {}\n",
            t.path().display()
        ),
    )
    .expect("write");
    let (code, out, err) = run(bin()
        .args(["serve", "--listen", &addr, "--config"])
        .arg(&config)
        .env_remove("NO_COLOR"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("choose another address with --listen"),
        "{err}"
    );
    assert!(err.contains("INFO"), "the log is on stderr: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour escapes in a pipe: {err:?}"
    );
}

#[test]
fn demo_serves_the_branch_it_is_given() {
    let t = tempdir();
    let dir = t.path();
    repo_on_master(dir);
    git(dir, &["checkout", "-q", "-b", "flags-dev"]);
    std::fs::write(
        dir.join("flipt/features.yml"),
        FLAGS.replace("enabled: true", "enabled: false"),
    )
    .expect("write");
    git(
        dir,
        &["-c", "commit.gpgsign=false", "commit", "-qam", "dev"],
    );
    git(dir, &["checkout", "-q", "master"]);
    let mut demo = Demo::start_with(dir, &["--branch", "flags-dev"]);
    demo.wait_for_flag("userFlag", false);
    demo.stop("TERM");
    let (code, _, err) = run(bin()
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--branch",
            "nope",
            "--dir",
        ])
        .arg(dir));
    assert_eq!(code, 2);
    assert!(err.contains("has no commit on branch \"nope\""), "{err}");
}
