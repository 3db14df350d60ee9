//! `POST /api/v1/sync` while an attempt is running says so (and since when) instead of
//! "triggered", over HTTP, against a `file://` remote whose filesystem hangs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use switchyard_core::Limits;
use switchyard_server::{AppState, ServerConfig};
use switchyard_sync::{EnvironmentConfig, FetchTimeouts, StorageConfig, SyncConfig, SyncHandle};

use crate::support::{FLAGS, Fixture, get, post};

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// Polls `cond` every 20 ms until it holds, failing after `within`.
async fn wait_for(within: Duration, what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_request_during_a_running_attempt_says_it_is_in_progress() {
    let repo = tempfile::tempdir().expect("tempdir");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join("features.yaml"), FLAGS).expect("write");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "flags"]);
    let mut storage = StorageConfig::remote(format!("file://{}", repo.path().display()));
    // only requests start attempts here; a stalled one is given up after 2 s below 1 kB/s
    storage.poll_interval = Duration::from_secs(3600);
    storage.timeouts = FetchTimeouts {
        connect: Duration::from_secs(3),
        read: Duration::from_secs(3),
        low_speed_limit: 1000,
        low_speed_time: Duration::from_secs(2),
        total: Duration::from_secs(10),
    };
    let mut config = SyncConfig::default();
    config.storage.insert("default".into(), storage);
    config.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", "")
        },
    );
    let sync = Arc::new(
        SyncHandle::start_and_wait(config.clone(), Limits::default())
            .await
            .expect("sync starts"),
    );
    let f = Fixture {
        dir: tempfile::tempdir().expect("tempdir"),
        state: AppState::new(sync.clone(), ServerConfig::default()),
        sync: sync.clone(),
    };

    // the filesystem under the remote hangs: `git-upload-pack` blocks opening a FIFO
    let fifo = repo.path().join(".git/objects/info/alternates");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");

    let (s, _, v) = f.call(post("/api/v1/sync", "")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(
        v,
        serde_json::json!({"environment": "default", "triggered": true})
    );
    wait_for(Duration::from_secs(5), "the attempt runs", async || {
        sync.in_progress_since("default").is_some()
    })
    .await;

    let (s, _, v) = f.call(post("/api/v1/sync", "")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["environment"], "default");
    assert_eq!(v["triggered"], false, "{v}");
    assert_eq!(v["inProgress"], true, "{v}");
    let since = v["inProgressSince"]
        .as_str()
        .expect("inProgressSince")
        .to_owned();
    assert!(
        since.ends_with('Z') && since.contains('T'),
        "RFC 3339: {since}"
    );
    assert_eq!(
        v["message"],
        format!("a sync is in progress since {since}; another one runs when it ends")
    );
    let (_, _, status) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(status["syncStatus"], "syncing", "{status}");

    // the stalled attempt ends as a timeout; the evaluation keeps its last good answer
    wait_for(Duration::from_secs(10), "a timeout", async || {
        let (_, _, s) = f.call(get("/api/v1/sync/status")).await;
        s["errorClass"] == "timeout"
    })
    .await;
    let (s, _, v) = f
        .call(post(
            "/evaluate/v1/variant",
            r#"{"flagKey":"checkout","entityId":"u1","context":{"plan":"pro"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["variantKey"], "treatment");

    // the filesystem recovers: the request queued during the attempt, or the next one, succeeds
    std::fs::remove_file(&fifo).expect("remove the FIFO");
    wait_for(
        Duration::from_secs(15),
        "a successful attempt",
        async || {
            let (_, _, s) = f.call(get("/api/v1/sync/status")).await;
            if s["syncStatus"] == "success" {
                return true;
            }
            if sync.in_progress_since("default").is_none() {
                sync.trigger("default");
            }
            false
        },
    )
    .await;
}
