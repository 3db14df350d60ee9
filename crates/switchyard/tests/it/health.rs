//! `switchyard health` against a real `switchyard serve` over a real Git repository: up (exit 0),
//! not ready (503, exit 1), down (exit 1) and a server that never answers (exit 1 in bounded time).

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{bin, run};

/// A `switchyard serve` child process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@t.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A Git repository with the seed's flags on `main`.
fn repository(root: &Path) -> String {
    let repo = root.join("flags");
    std::fs::create_dir_all(repo.join("flipt")).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed/flipt/features.yml");
    std::fs::copy(seed, repo.join("flipt/features.yml")).expect("copy seed flags");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "seed"]);
    format!("file://{}", repo.display())
}

/// Starts `serve` on a free loopback port with `remote` and waits for its "listening" line.
fn serve(root: &Path, remote: &str) -> Server {
    let config = root.join(format!("switchyard-{}.yml", remote.len()));
    std::fs::write(
        &config,
        format!(
            "storage:\n  flags:\n    remote: {remote}\n    branch: main\n    poll_interval: 1s\n    fetch_policy: lenient\n\
             environments:\n  default:\n    storage: flags\n    default: true\n"
        ),
    )
    .expect("write config");
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1")
        .env("TMPDIR", root)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // keeps draining the log so the server never blocks on a full pipe
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening")
                && let Some(at) = line.find("127.0.0.1:")
            {
                let digits: String = line[at + 10..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let _ = tx.send(format!("127.0.0.1:{digits}"));
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve logs its address within 30 s")
        .parse()
        .expect("an address");
    Server { child, addr }
}

fn health(args: &[&str]) -> (i32, String, String) {
    run(bin()
        .arg("health")
        .args(args)
        .env_remove("SWITCHYARD_LISTEN"))
}

/// Runs `health --url url` until it exits 0, for at most 30 s.
fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = health(&["--url", url, "--timeout", "1s"]);
        if code == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{url} not healthy: {out}{err}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn health_exits_0_when_up_and_1_when_down() {
    let root = tempfile::tempdir().expect("tempdir");
    let remote = repository(root.path());
    let server = serve(root.path(), &remote);
    let base = format!("http://{}", server.addr);
    wait_healthy(&format!("{base}/ready"));

    let (code, out, err) = health(&["--url", &format!("{base}/health")]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), format!("{base}/health: 200 OK"));

    // without --url: /health on the port of SWITCHYARD_LISTEN, as in the container image
    let (code, out, err) = run(bin().arg("health").env(
        "SWITCHYARD_LISTEN",
        format!("0.0.0.0:{}", server.addr.port()),
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), format!("{base}/health: 200 OK"));

    // the memory backend's repository lives under TMPDIR (the image's writable path)
    let clones = std::fs::read_dir(root.path())
        .expect("read tmpdir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("switchyard-git-")
        })
        .count();
    assert_eq!(clones, 1, "one temporary repository under TMPDIR");

    drop(server);
    let (code, out, err) = health(&["--url", &format!("{base}/health")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("cannot connect"), "{err}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn health_exits_1_on_503_with_the_answer() {
    let root = tempfile::tempdir().expect("tempdir");
    let missing = format!("file://{}/missing.git", root.path().display());
    let server = serve(root.path(), &missing);
    let base = format!("http://{}", server.addr);
    wait_healthy(&format!("{base}/health"));

    let (code, out, err) = health(&["--url", &format!("{base}/ready")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("503 Service Unavailable"), "{err}");
    assert!(err.contains("NOT_READY"), "{err}");
}

#[test]
fn health_gives_up_after_the_timeout() {
    // accepts connections and never answers
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/health", listener.local_addr().expect("addr"));
    let started = Instant::now();
    let (code, out, err) = health(&["--url", &url, "--timeout", "300ms"]);
    let elapsed = started.elapsed();
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no answer within 300ms"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    drop(listener);
}

#[test]
fn health_refuses_bad_values_with_exit_1() {
    let (code, _, err) = health(&["--timeout", "soon"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid --timeout \"soon\""), "{err}");
    let (code, _, err) = health(&["--url", "not a url"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a url"), "{err}");
    let (code, _, err) = run(bin().arg("health").env("SWITCHYARD_LISTEN", "nowhere"));
    assert_eq!(code, 1);
    assert!(
        err.contains("SWITCHYARD_LISTEN=\"nowhere\" has no port"),
        "{err}"
    );
}
