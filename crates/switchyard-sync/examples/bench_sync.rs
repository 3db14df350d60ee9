//! Measures the sync of a generated repository of 10,000 flags over `git://` on loopback:
//! first sync, the cost of a poll with no change (time and bytes on the wire, counted by a
//! TCP relay in front of `git daemon`), commit-to-served latency with a 1s poll, and the
//! process's peak memory (VmHWM).
//!
//! Then (issue 10 item 5) `CHURN` commits (default 200, `BENCH_CHURN=0` skips) that each change
//! all 10,000 flags, each synced before the next, and the resident memory (VmRSS) after them:
//! the history keeps a summary of each diff, so memory stays flat once its ring is full.
//!
//! Run: `cargo run --release -p switchyard-sync --example bench_sync` (needs `git`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use switchyard_core::Limits;
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig, SyncHandle};

const FLAGS: usize = 10_000;
const FILES: usize = 100;

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "git {args:?} failed");
}

fn current_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A file whose flags all carry `round` in their description: every flag changes each round.
fn churned(index: usize, round: usize) -> String {
    file(index, None).replace(
        "    type: VARIANT_FLAG_TYPE\n",
        &format!("    description: round {round}\n    type: VARIANT_FLAG_TYPE\n"),
    )
}

fn file(index: usize, toggled: Option<usize>) -> String {
    let mut s = String::from("version: \"1.4\"\nnamespace: default\nflags:\n");
    let per = FLAGS / FILES;
    for k in 0..per {
        let n = index * per + k;
        let enabled = toggled != Some(n);
        s.push_str(&format!(
            "  - key: flag{n}\n    name: Flag {n}\n    type: VARIANT_FLAG_TYPE\n    enabled: {enabled}\n    variants: [{{key: on}}, {{key: off}}]\n    rules:\n      - segment: premium-users\n        distributions: [{{variant: on, rollout: 50}}, {{variant: off, rollout: 50}}]\n"
        ));
    }
    if index == 0 {
        s.push_str("segments:\n  - key: premium-users\n    name: Premium users\n    match_type: ALL_MATCH_TYPE\n    constraints:\n      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}\n");
    }
    s
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A TCP relay that counts the bytes it passes in both directions.
fn relay(listen: u16, target: u16, bytes: Arc<AtomicU64>) {
    let Ok(listener) = TcpListener::bind(("127.0.0.1", listen)) else {
        return;
    };
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().ok(), server.try_clone().ok()),
                (server.try_clone().ok(), client.try_clone().ok()),
            ]
            .into_iter()
            .filter_map(|(a, b)| Some((a?, b?)))
            {
                let bytes = bytes.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 64 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = tempfile::tempdir().expect("tempdir");
    let work = root.path().join("work");
    let repos = root.path().join("repos");
    std::fs::create_dir_all(&repos).expect("mkdir");
    let t = Instant::now();
    git(root.path(), &["init", "-q", "-b", "main", "work"]);
    for i in 0..FILES {
        let dir = work.join(format!("team{i:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("features.yaml"), file(i, None)).expect("write");
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "10k flags"]);
    git(
        root.path(),
        &["clone", "-q", "--bare", "work", "repos/flags.git"],
    );
    git(&work, &["remote", "add", "origin", "../repos/flags.git"]);
    let total_bytes: u64 = (0..FILES).map(|i| file(i, None).len() as u64).sum();
    println!(
        "generated {FLAGS} flags in {FILES} files ({total_bytes} bytes of YAML) in {:?}",
        t.elapsed()
    );

    let daemon_port = free_port();
    // run git-daemon itself, not the `git daemon` wrapper, so killing it stops the server
    let exec_path = Command::new("git")
        .arg("--exec-path")
        .output()
        .expect("git --exec-path");
    let git_daemon = std::path::PathBuf::from(String::from_utf8_lossy(&exec_path.stdout).trim())
        .join("git-daemon");
    let daemon = Command::new(git_daemon)
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={daemon_port}"))
        .arg(format!("--base-path={}", repos.display()))
        .arg(&repos)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon");
    let _daemon = Daemon(daemon);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", daemon_port)).is_err() {
        assert!(Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let bytes = Arc::new(AtomicU64::new(0));
    let relay_port = free_port();
    relay(relay_port, daemon_port, bytes.clone());

    let mut cfg = SyncConfig::default();
    cfg.storage.insert(
        "flags".into(),
        StorageConfig {
            poll_interval: Duration::from_secs(1),
            ..StorageConfig::remote(format!("git://127.0.0.1:{relay_port}/flags.git"))
        },
    );
    cfg.environments
        .insert("default".into(), EnvironmentConfig::new("flags", ""));
    let t = Instant::now();
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    let first = t.elapsed();
    let env = sync.environment("default").expect("environment");
    assert_eq!(env.flag_count(), FLAGS);
    println!(
        "first sync (shallow fetch + read + compile): {first:?}, {} bytes on the wire",
        bytes.load(Ordering::Relaxed)
    );
    println!(
        "peak memory after the first sync: {:.1} MiB",
        peak_rss_kib() as f64 / 1024.0
    );

    // unchanged polls
    let n = 20;
    let mut times = Vec::new();
    let before = bytes.load(Ordering::Relaxed);
    for _ in 0..n {
        let t = Instant::now();
        assert!(sync.sync_now("default").await);
        times.push(t.elapsed());
    }
    let per_poll = (bytes.load(Ordering::Relaxed) - before) / n as u64;
    println!(
        "no-change poll: median {:?}, min {:?}, max {:?} over {n} triggered polls; {per_poll} bytes on the wire per poll",
        median(times.clone()),
        times.iter().min().copied().unwrap_or_default(),
        times.iter().max().copied().unwrap_or_default()
    );

    println!(
        "peak memory after the unchanged polls: {:.1} MiB",
        peak_rss_kib() as f64 / 1024.0
    );

    // commit-to-served latency with the 1s poll; the pause between rounds varies so pushes
    // land at different points of the poll cycle
    let mut latencies = Vec::new();
    let mut rx = sync.watch("default").expect("watch");
    let rounds = 8;
    for round in 0..rounds {
        std::fs::write(work.join("team000/features.yaml"), file(0, Some(round))).expect("write");
        git(
            &work,
            &["commit", "-q", "-am", &format!("toggle flag{round}")],
        );
        git(&work, &["push", "-q", "origin", "main"]);
        let pushed = Instant::now();
        rx.borrow_and_update();
        tokio::time::timeout(Duration::from_secs(30), rx.changed())
            .await
            .expect("served in time")
            .expect("changed");
        latencies.push(pushed.elapsed());
        tokio::time::sleep(Duration::from_millis(150 + (round as u64 * 370) % 1000)).await;
    }
    println!(
        "commit-to-served latency (push returned -> new environment published, 1s poll): median {:?}, min {:?}, max {:?} over {rounds} commits",
        median(latencies.clone()),
        latencies.iter().min().copied().unwrap_or_default(),
        latencies.iter().max().copied().unwrap_or_default()
    );
    let hist = sync.history("default").unwrap_or_default();
    if let Some(a) = hist.iter().rev().find(|a| !a.diff.is_empty()) {
        println!(
            "last applied sync took {} ms (fetch + read + compile + diff); diff: {:?}",
            a.duration_ms, a.diff
        );
    }
    let churn: usize = std::env::var("BENCH_CHURN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    if churn > 0 {
        let t = Instant::now();
        let mut marks = Vec::new();
        for round in 0..churn {
            for i in 0..FILES {
                std::fs::write(
                    work.join(format!("team{i:03}/features.yaml")),
                    churned(i, round),
                )
                .expect("write");
            }
            git(
                &work,
                &["commit", "-q", "-am", &format!("change all, round {round}")],
            );
            rx.borrow_and_update();
            git(&work, &["push", "-q", "origin", "main"]);
            // served by a poll or by this trigger; the cycle after it has recorded the entry
            sync.trigger("default");
            tokio::time::timeout(Duration::from_secs(60), rx.changed())
                .await
                .expect("served in time")
                .expect("changed");
            assert!(sync.sync_now("default").await);
            let hist = sync.history("default").unwrap_or_default();
            let last = hist
                .iter()
                .rev()
                .find(|a| a.outcome == switchyard_sync::Outcome::Applied)
                .expect("an applied attempt");
            assert_eq!(last.diff_total, FLAGS, "round {round}: every flag changed");
            if (round + 1) % 50 == 0 {
                marks.push(format!(
                    "{}: {:.1} MiB",
                    round + 1,
                    current_rss_kib() as f64 / 1024.0
                ));
            }
        }
        println!(
            "after {churn} commits that each change all {FLAGS} flags ({:?}): VmRSS {:.1} MiB (by commits: {}), VmHWM {:.1} MiB",
            t.elapsed(),
            current_rss_kib() as f64 / 1024.0,
            marks.join(", "),
            peak_rss_kib() as f64 / 1024.0
        );
    }
    sync.shutdown().await;
    println!(
        "peak memory of the process (VmHWM): {} KiB ({:.1} MiB)",
        peak_rss_kib(),
        peak_rss_kib() as f64 / 1024.0
    );
}
