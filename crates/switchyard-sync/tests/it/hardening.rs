//! Issue 10: bounded sync attempts behind a relay that stalls, trickles and drops; a first
//! fetch that never delays start-up; a cycle that panics; commits that would empty an
//! environment.

use std::time::{Duration, Instant};

use switchyard_core::Limits;
use switchyard_sync::{
    BasicAuth, CredentialsConfig, EnvironmentConfig, ErrorClass, FetchTimeouts, Outcome,
    StartError, StorageConfig, SyncConfig, SyncHandle, SyncState,
};

use crate::harness::{Harness, PASSWORD, USER, wait_until};
use crate::relay::{Mode, Relay};

const FLAG: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: newHomeUI
    name: New Home UI
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - threshold: {percentage: PCT, value: true}
"#;

fn flags(pct: u32) -> String {
    FLAG.replace("PCT", &pct.to_string())
}

/// The served threshold percentage of `newHomeUI`: what an evaluation answers from.
fn served(sync: &SyncHandle) -> Option<f32> {
    let e = sync.environment("default")?;
    let flag = e.namespace("default")?.flag("newHomeUI")?.clone();
    match flag.rollouts.first()?.kind {
        switchyard_core::RolloutKind::Threshold { percentage, .. } => Some(percentage),
        _ => None,
    }
}

/// Bounds small enough for a test: every stalled attempt ends within `TOTAL`.
const TOTAL: Duration = Duration::from_secs(4);

fn tight() -> FetchTimeouts {
    FetchTimeouts {
        connect: Duration::from_secs(3),
        read: Duration::from_secs(3),
        low_speed_limit: 1000,
        low_speed_time: Duration::from_secs(2),
        total: TOTAL,
    }
}

fn config(storage: StorageConfig, creds: Option<CredentialsConfig>) -> SyncConfig {
    let mut cfg = SyncConfig::default();
    let mut storage = storage;
    if let Some(c) = creds {
        cfg.credentials.insert("creds".into(), c);
        storage.credentials = Some("creds".into());
    }
    cfg.storage.insert("default".into(), storage);
    cfg.environments
        .insert("default".into(), EnvironmentConfig::new("default", ""));
    cfg
}

fn relayed(h: &Harness, relay: &Relay) -> SyncConfig {
    config(
        StorageConfig {
            poll_interval: Duration::from_secs(1),
            ca_cert_path: Some(h.ca_path()),
            timeouts: tight(),
            ..StorageConfig::remote(format!(
                "https://{USER}:{PASSWORD}@127.0.0.1:{}/git/flags.git",
                relay.port
            ))
        },
        Some(CredentialsConfig::Basic {
            basic: BasicAuth {
                username: USER.into(),
                password: PASSWORD.into(),
            },
        }),
    )
}

/// Waits until the status shows a finished attempt of class `class`, checking on every look
/// that evaluations still answer from `serving`; returns how long it took.
async fn wait_for_class(
    sync: &SyncHandle,
    class: ErrorClass,
    serving: f32,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    wait_until(within, &format!("error class {class}"), || {
        assert_eq!(
            served(sync),
            Some(serving),
            "the last good snapshot is served"
        );
        let s = sync.status("default").expect("status");
        s.error_class == Some(class) && s.sync_status == SyncState::Error
    })
    .await;
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_stalls_trickles_or_drops_ends_in_bounded_errors_and_recovers() {
    let mut h = Harness::new(&[("features.yaml", &flags(10))]);
    h.start_https();
    let relay = Relay::start(h.https_port);
    let sync = SyncHandle::start_and_wait(relay_cfg(&h, &relay), Limits::default())
        .await
        .expect("start");
    assert_eq!(served(&sync), Some(10.0));

    // stall: connections accepted, nothing answered
    relay.set(Mode::Stall);
    sync.trigger("default");
    let mut saw_stalled = false;
    let mut saw_in_progress = false;
    let start = Instant::now();
    wait_until(TOTAL * 3, "a timeout while the relay stalls", || {
        assert_eq!(served(&sync), Some(10.0));
        let s = sync.status("default").expect("status");
        saw_stalled |= s.stalled_since.is_some()
            && s.degraded_reason
                .as_deref()
                .is_some_and(|r| r.contains("syncing for"));
        saw_in_progress |= sync.in_progress_since("default").is_some();
        s.error_class == Some(ErrorClass::Timeout)
    })
    .await;
    // the stalled attempt started within a poll of the stall, then ended at its bound
    assert!(
        start.elapsed() < TOTAL + Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        saw_stalled,
        "the status said the attempt ran past the poll interval"
    );
    assert!(saw_in_progress);
    let s = sync.status("default").unwrap();
    let msg = s.error_message.clone().unwrap_or_default();
    assert!(
        msg.contains(&format!("https://127.0.0.1:{}/git/flags.git", relay.port)),
        "{msg}"
    );
    assert!(!msg.contains(PASSWORD), "{msg}");
    assert!(s.serving_valid_snapshot);
    assert!(
        s.degraded_reason
            .as_deref()
            .is_some_and(|r| r.contains("timeout")),
        "{s:?}"
    );

    // recovery: a new commit is applied within a poll (plus the fetch)
    relay.set(Mode::Pass);
    h.commit(&[("features.yaml", &flags(20))], "twenty");
    let start = Instant::now();
    wait_until(TOTAL * 2, "the commit after recovery", || {
        served(&sync) == Some(20.0)
    })
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );

    // trickle: bytes keep coming, far too slowly
    relay.set(Mode::Trickle);
    h.commit(&[("features.yaml", &flags(30))], "thirty");
    let took = wait_for_class(&sync, ErrorClass::Timeout, 20.0, TOTAL * 3).await;
    assert!(took < TOTAL + Duration::from_secs(3), "{took:?}");
    // bytes keep arriving, so no read times out: the watchdog's low-speed or total bound did
    let msg = sync
        .status("default")
        .unwrap()
        .error_message
        .unwrap_or_default();
    assert!(msg.contains("(timeouts."), "{msg}");

    // drop: connections cut
    relay.set(Mode::Drop);
    wait_until(TOTAL * 3, "an error while the relay drops", || {
        assert_eq!(served(&sync), Some(20.0));
        let s = sync.status("default").expect("status");
        s.sync_status == SyncState::Error && s.error_class != Some(ErrorClass::Timeout)
    })
    .await;

    relay.set(Mode::Pass);
    // (the snapshot is swapped just before the status records it)
    wait_until(TOTAL * 2, "the trickled commit after recovery", || {
        let s = sync.status("default").expect("status");
        served(&sync) == Some(30.0) && s.sync_status == SyncState::Success
    })
    .await;
    assert_eq!(sync.status("default").unwrap().error_class, None);
    sync.shutdown().await;
}

fn relay_cfg(h: &Harness, relay: &Relay) -> SyncConfig {
    relayed(h, relay)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_returns_at_once_and_a_stalled_first_fetch_fails_strict_start_in_bound() {
    let mut h = Harness::new(&[("features.yaml", &flags(10))]);
    h.start_https();
    let relay = Relay::start(h.https_port);
    relay.set(Mode::Stall);
    let t0 = Instant::now();
    let sync = SyncHandle::start(relay_cfg(&h, &relay), Limits::default())
        .await
        .expect("start");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    wait_until(TOTAL, "the first attempt reported", || {
        let s = sync.status("default").unwrap();
        s.first_sync_started_at.is_some()
            && s.degraded_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("first sync in progress for"))
    })
    .await;
    assert!(!sync.not_ready().is_empty());
    let err = sync.wait_first_sync().await.expect_err("strict");
    assert!(
        t0.elapsed() < TOTAL + Duration::from_secs(2),
        "{:?}",
        t0.elapsed()
    );
    assert!(
        matches!(&err, StartError::InitialFetch { error, .. } if error.class() == ErrorClass::Timeout),
        "{err}"
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_that_panics_is_an_internal_error_and_the_loop_goes_on() {
    let h = Harness::new(&[("features.yaml", &flags(10))]);
    let cfg = config(
        StorageConfig {
            poll_interval: Duration::from_secs(1),
            fault_panic_on_commit_message: Some("PANIC-HERE".into()),
            ..StorageConfig::remote(h.file_url())
        },
        None,
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    let good = h.head();
    let bad = h.commit(&[("features.yaml", &flags(50))], "PANIC-HERE please");
    assert!(sync.sync_now("default").await);
    let s = sync.status("default").unwrap();
    assert_eq!(s.error_class, Some(ErrorClass::Internal), "{s:?}");
    assert_eq!(s.sync_status, SyncState::Error);
    let msg = s.error_message.clone().unwrap_or_default();
    assert!(msg.contains("sync cycle panicked: injected fault"), "{msg}");
    assert_eq!(
        s.remote_commit.as_ref().map(|c| c.sha.clone()),
        Some(bad.clone())
    );
    assert_eq!(s.serving_commit.as_ref().map(|c| c.sha.clone()), Some(good));
    assert!(
        s.degraded_reason
            .as_deref()
            .is_some_and(|r| r.contains("internal"))
    );
    assert_eq!(served(&sync), Some(10.0));
    // the commit counts as seen: the next polls do not panic again, and keep reporting it
    assert!(sync.sync_now("default").await);
    assert!(sync.sync_now("default").await);
    let s = sync.status("default").unwrap();
    assert_eq!(s.error_class, Some(ErrorClass::Internal));
    let history = sync.history("default").unwrap();
    let internal = history
        .iter()
        .filter(|a| {
            matches!(
                &a.outcome,
                Outcome::Failed {
                    class: ErrorClass::Internal,
                    ..
                }
            )
        })
        .count();
    assert_eq!(internal, 1, "{history:?}");
    assert_eq!(
        history.last().map(|a| a.outcome.clone()),
        Some(Outcome::Unchanged)
    );
    // the thread is alive: a later good commit is applied
    h.commit(&[("features.yaml", &flags(60))], "fine");
    assert!(sync.sync_now("default").await);
    assert_eq!(served(&sync), Some(60.0));
    assert_eq!(
        sync.status("default").unwrap().sync_status,
        SyncState::Success
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_would_empty_the_environment_is_rejected() {
    let h = Harness::new(&[("features.yaml", &flags(10))]);
    let cfg = config(
        StorageConfig {
            poll_interval: Duration::from_secs(3600),
            ..StorageConfig::remote(h.file_url())
        },
        None,
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    // every flag file deleted
    let deleted = h.commit(&[("features.yaml", "")], "delete everything");
    assert!(sync.sync_now("default").await);
    let s = sync.status("default").unwrap();
    assert_eq!(s.error_class, Some(ErrorClass::Validation), "{s:?}");
    assert_eq!(s.validation_errors.len(), 1);
    let m = &s.validation_errors[0].message;
    assert!(
        m.starts_with(
            "the commit would remove all 1 flags: no flag files are left in the repository root"
        ),
        "{m}"
    );
    assert!(m.contains("allow_flag_loss"), "{m}");
    assert!(s.error_message.as_deref().unwrap_or("").contains(&deleted));
    assert_eq!(served(&sync), Some(10.0));
    // an index that selects nothing
    h.commit(
        &[
            ("features.yaml", &flags(10)),
            (
                ".flipt.yml",
                "version: \"1.0\"\ninclude:\n  - \"**/nothing-*.yaml\"\n",
            ),
        ],
        "typo in the index",
    );
    assert!(sync.sync_now("default").await);
    let s = sync.status("default").unwrap();
    assert_eq!(s.error_class, Some(ErrorClass::Validation), "{s:?}");
    assert_eq!(s.validation_errors[0].file, ".flipt.yml");
    assert!(
        s.validation_errors[0]
            .message
            .contains(".flipt.yml selects no flag file"),
        "{:?}",
        s.validation_errors
    );
    assert_eq!(served(&sync), Some(10.0));
    sync.shutdown().await;

    // with the switch on, such a commit is served
    h.commit(&[(".flipt.yml", "")], "fix the index");
    let cfg = config(
        StorageConfig {
            poll_interval: Duration::from_secs(3600),
            allow_flag_loss: true,
            ..StorageConfig::remote(h.file_url())
        },
        None,
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    assert_eq!(served(&sync), Some(10.0));
    h.commit(&[("features.yaml", "")], "delete everything, on purpose");
    assert!(sync.sync_now("default").await);
    let s = sync.status("default").unwrap();
    assert_eq!(s.sync_status, SyncState::Success, "{s:?}");
    assert_eq!(s.flags, 0);
    assert_eq!(served(&sync), None);
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_remote_that_stalls_ends_in_a_timeout_and_recovers() {
    let mut h = Harness::new(&[("features.yaml", &flags(10))]);
    h.start_ssh();
    let relay = Relay::start(h.ssh_port);
    let url = h
        .ssh_url()
        .replace(&format!(":{}/", h.ssh_port), &format!(":{}/", relay.port));
    let creds = CredentialsConfig::Ssh {
        ssh: switchyard_sync::SshAuth {
            user: "git".into(),
            password: None,
            private_key_path: Some(h.client_key()),
            private_key_bytes: None,
            known_hosts_path: None,
            // the relay's port is not the one in the harness's known_hosts
            insecure_ignore_host_key: true,
        },
    };
    let cfg = config(
        StorageConfig {
            poll_interval: Duration::from_secs(1),
            timeouts: tight(),
            ..StorageConfig::remote(url)
        },
        Some(creds),
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    assert_eq!(served(&sync), Some(10.0));
    relay.set(Mode::Stall);
    sync.trigger("default");
    let took = wait_for_class(&sync, ErrorClass::Timeout, 10.0, TOTAL * 3).await;
    assert!(took < TOTAL + Duration::from_secs(3), "{took:?}");
    relay.set(Mode::Pass);
    h.commit(&[("features.yaml", &flags(20))], "twenty");
    wait_until(TOTAL * 3, "the commit after recovery", || {
        served(&sync) == Some(20.0)
    })
    .await;
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_remote_that_stalls_ends_in_a_timeout_and_recovers() {
    let h = Harness::new(&[("features.yaml", &flags(10))]);
    let cfg = config(
        StorageConfig {
            poll_interval: Duration::from_secs(1),
            timeouts: tight(),
            ..StorageConfig::remote(h.file_url())
        },
        None,
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    assert_eq!(served(&sync), Some(10.0));
    // a hung filesystem: `git-upload-pack` blocks opening a FIFO where it reads the
    // repository's alternates, before it has sent a byte
    let fifo = h.bare().join("objects/info/alternates");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    sync.trigger("default");
    let took = wait_for_class(&sync, ErrorClass::Timeout, 10.0, TOTAL * 3).await;
    assert!(took < TOTAL + Duration::from_secs(3), "{took:?}");
    let s = sync.status("default").expect("status");
    let error = s.error_message.clone().unwrap_or_default();
    assert!(error.contains(&h.file_url()), "names the remote: {error}");
    // the filesystem recovers; the stalled `git-upload-pack` was ended at the deadline, so
    // nothing is left blocked and the next poll fetches the new commit
    std::fs::remove_file(&fifo).expect("remove the FIFO");
    h.commit(&[("features.yaml", &flags(20))], "twenty");
    // The snapshot is swapped in just before the status records the attempt: wait for both.
    wait_until(TOTAL * 3, "the commit after recovery", || {
        served(&sync) == Some(20.0)
            && sync
                .status("default")
                .is_some_and(|s| s.sync_status == SyncState::Success)
    })
    .await;
    let s = sync.status("default").expect("status");
    assert_eq!(
        s.serving_commit.as_ref().map(|c| c.message.as_str()),
        Some("twenty"),
        "{s:?}"
    );
    sync.shutdown().await;
}
