//! The status state machine, driven by hand: no git server, no clock but the one passed in.

use std::time::{Duration, Instant, SystemTime};

use super::*;

fn status() -> SyncStatus {
    SyncStatus::new(
        true,
        "https://h/r.git".into(),
        "main".into(),
        String::new(),
        Duration::from_secs(30),
    )
}

fn commit(sha: &str) -> CommitInfo {
    CommitInfo {
        sha: sha.into(),
        author: "A <a@x>".into(),
        message: "m".into(),
        time: String::new(),
    }
}

fn served(flags: usize, digest: &str) -> Served {
    Served {
        flags,
        digest: digest.into(),
        warnings: Vec::new(),
        ..Served::default()
    }
}

#[test]
fn first_sync_in_progress_then_applied() {
    let mut s = status();
    let t0 = Instant::now();
    let now = SystemTime::now();
    assert_eq!(s.sync_status, SyncState::Idle);
    assert_eq!(
        s.view(t0, now).degraded_reason.as_deref(),
        Some("waiting for the first sync")
    );
    s.next_sync_time = Some("planned".into());
    s.begin(t0, now);
    assert_eq!(s.sync_status, SyncState::Syncing);
    assert!(s.first_sync_started_at.is_some());
    // nothing is planned while an attempt runs (no `nextSyncTime` in the past)
    assert_eq!(s.next_sync_time, None);
    let v = s.view(t0 + Duration::from_secs(12), now + Duration::from_secs(12));
    assert_eq!(
        v.degraded_reason.as_deref(),
        Some("first sync in progress for 12 s")
    );
    assert!(!v.serving_valid_snapshot);
    s.applied(now, Some(commit("a")), served(3, "d"));
    assert_eq!(s.sync_status, SyncState::Success);
    assert!(s.serving_valid_snapshot);
    assert!(s.attempt_started_at.is_none());
    assert_eq!(s.view(t0, now).degraded_reason, None);
}

#[test]
fn never_syncing_beside_the_error_of_a_finished_attempt() {
    let mut s = status();
    let t0 = Instant::now();
    let now = SystemTime::now();
    s.begin(t0, now);
    s.failed(now, ErrorClass::Authentication, "HTTP status 401".into());
    assert_eq!(s.sync_status, SyncState::Error);
    // the retry starts: still the error of the attempt that finished, and the retry is visible
    s.begin(t0, now);
    assert_eq!(s.sync_status, SyncState::Error);
    assert_eq!(s.error_class, Some(ErrorClass::Authentication));
    assert!(s.attempt_started_at.is_some());
    assert_eq!(s.consecutive_failures, 1);
    s.unchanged(now, None);
    assert_eq!(s.sync_status, SyncState::Success);
    assert_eq!(s.error_class, None);
    assert_eq!(s.consecutive_failures, 0);
    // and syncing only ever comes without an error
    s.begin(t0, now);
    assert_eq!(s.sync_status, SyncState::Syncing);
    assert_eq!(s.error_class, None);
}

#[test]
fn a_restored_commit_is_a_valid_snapshot_even_when_the_remote_is_down() {
    let mut s = status();
    let t0 = Instant::now();
    let now = SystemTime::now();
    s.restored(Some(commit("0123456789abcdef")), served(2, "d"));
    assert!(s.serving_valid_snapshot);
    s.begin(t0, now);
    s.failed(now, ErrorClass::Network, "connection refused".into());
    let v = s.view(t0, now);
    assert!(v.serving_valid_snapshot);
    assert_eq!(v.sync_status, SyncState::Error);
    assert_eq!(
        v.degraded_reason.as_deref(),
        Some(
            "serving the last good commit 0123456789ab; the last sync failed (network): connection refused"
        )
    );
}

#[test]
fn a_rejected_commit_keeps_its_error_on_unchanged_polls() {
    let mut s = status();
    let t0 = Instant::now();
    let now = SystemTime::now();
    s.begin(t0, now);
    s.applied(now, Some(commit("a")), served(3, "d"));
    s.begin(t0, now);
    s.rejected(
        now,
        Some(commit("b")),
        ErrorClass::Internal,
        "sync cycle panicked: boom".into(),
        Vec::new(),
    );
    assert_eq!(s.sync_status, SyncState::Error);
    s.begin(t0, now);
    s.failed(now, ErrorClass::Network, "reset".into());
    assert_eq!(s.consecutive_failures, 2);
    s.begin(t0, now);
    s.unchanged(now, Some(commit("b")));
    assert_eq!(s.sync_status, SyncState::Error);
    assert_eq!(s.error_class, Some(ErrorClass::Internal));
    assert_eq!(
        s.error_message.as_deref(),
        Some("sync cycle panicked: boom")
    );
    assert_eq!(s.serving_commit.as_ref().map(|c| c.sha.as_str()), Some("a"));
    s.begin(t0, now);
    s.applied(now, Some(commit("c")), served(3, "e"));
    assert_eq!(s.sync_status, SyncState::Success);
    assert_eq!(s.error_class, None);
}

#[test]
fn an_attempt_longer_than_the_interval_is_reported_as_stalled() {
    let mut s = status();
    let t0 = Instant::now();
    let now = SystemTime::now();
    s.begin(t0, now);
    s.applied(now, Some(commit("a")), served(3, "d"));
    s.begin(t0, now);
    assert_eq!(
        s.view(t0 + Duration::from_secs(29), now).stalled_since,
        None
    );
    let v = s.view(t0 + Duration::from_secs(45), now + Duration::from_secs(45));
    assert_eq!(
        v.stalled_since,
        Some(rfc3339(now + Duration::from_secs(30)))
    );
    assert_eq!(v.sync_status, SyncState::Syncing);
    assert_eq!(
        v.degraded_reason.as_deref(),
        Some("syncing for 45 s, longer than the poll interval (30s)")
    );
}
