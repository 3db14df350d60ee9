//! The sync API's JSON, byte for byte (names, order, `null` against absent), for each type; the
//! statuses are made by the sync's own state machine.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use switchyard_core::{Change, ChangeKind, Diff, Discovered, Discovery, ObjectKind};
use switchyard_sync::ErrorClass;
use switchyard_sync::status::Served;

use super::*;

/// 2026-11-30T00:53:20Z plus `seconds`.
fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000 + seconds)
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn commit(sha: &str) -> CommitInfo {
    CommitInfo {
        sha: sha.into(),
        author: "Ada <ada@example.com>".into(),
        message: "Turn on dark mode".into(),
        time: "2026-12-01T10:00:00Z".into(),
    }
}

fn commit_json(sha: &str) -> serde_json::Value {
    json!({
        "sha": sha,
        "author": "Ada <ada@example.com>",
        "message": "Turn on dark mode",
        "time": "2026-12-01T10:00:00Z",
    })
}

fn error(file: &str, message: &str) -> ValidationError {
    ValidationError {
        file: file.into(),
        line: 3,
        column: 5,
        path: "flags[0].key".into(),
        message: message.into(),
        extra: false,
    }
}

fn status() -> SyncStatus {
    SyncStatus::new(
        true,
        "https://git.example.com/flags.git".into(),
        "main".into(),
        "prod".into(),
        Duration::from_secs(30),
    )
}

/// What the API writes.
fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("serialisable")
}

/// What the API writes, as a value (field order aside: see `json_order`).
fn value(v: &impl Serialize) -> serde_json::Value {
    serde_json::from_str(&json(v)).expect("JSON")
}

#[test]
fn sync_states_are_lower_case_words() {
    let words = [
        SyncState::Idle,
        SyncState::Syncing,
        SyncState::Success,
        SyncState::Error,
    ]
    .map(sync_state);
    assert_eq!(words, ["idle", "syncing", "success", "error"]);
}

#[test]
fn a_status_before_the_first_sync_has_every_field_null_or_empty() {
    let v = status().view(Instant::now(), at(0));
    let expected = json!({
        "environment": "default",
        "enabled": true,
        "repository": "https://git.example.com/flags.git",
        "branch": "main",
        "directory": "prod",
        "pollInterval": "30s",
        "syncStatus": "idle",
        "lastSyncTime": null,
        "errorMessage": null,
        "errorClass": null,
        "lastSuccessTime": null,
        "nextSyncTime": null,
        "servingCommit": null,
        "remoteCommit": null,
        "consecutiveFailures": 0,
        "validationErrors": [],
        "warnings": [],
        "discovery": {
            "rules": "flipt-v1",
            "summary": Discovery::default().rule(),
            "rootFile": null,
            "files": [],
            "notRead": [],
        },
        "flags": 0,
        "digest": "",
        "servingValidSnapshot": false,
        "firstSyncStartedAt": null,
        "attemptStartedAt": null,
        "stalledSince": null,
        "degradedReason": "waiting for the first sync",
        "paused": null,
        "pinned": null,
        "drift": [],
        "heldCommit": null,
    });
    assert_eq!(value(&StatusJson::new("default", &v)), expected);
    // the fields in the order written above
    assert_eq!(
        switchyard_testkit::json_order::keys(&json(&StatusJson::new("default", &v))),
        [
            "environment",
            "enabled",
            "repository",
            "branch",
            "directory",
            "pollInterval",
            "syncStatus",
            "lastSyncTime",
            "errorMessage",
            "errorClass",
            "lastSuccessTime",
            "nextSyncTime",
            "servingCommit",
            "remoteCommit",
            "consecutiveFailures",
            "validationErrors",
            "warnings",
            "discovery",
            "flags",
            "digest",
            "servingValidSnapshot",
            "firstSyncStartedAt",
            "attemptStartedAt",
            "stalledSince",
            "degradedReason",
            "paused",
            "pinned",
            "drift",
            "heldCommit",
        ]
    );
}

#[test]
fn a_rejected_first_commit_lists_its_validation_errors() {
    let mut s = status();
    let start = Instant::now();
    s.begin(start, at(0));
    s.rejected(
        at(2),
        Some(commit(SHA)),
        ErrorClass::Validation,
        "commit 0123456789ab rejected: 1 validation error(s)".into(),
        vec![error("features.yaml", "required")],
    );
    let v = s.view(start, at(2));
    let expected = json!({
        "environment": "prod",
        "enabled": true,
        "repository": "https://git.example.com/flags.git",
        "branch": "main",
        "directory": "prod",
        "pollInterval": "30s",
        "syncStatus": "error",
        "lastSyncTime": "2026-11-30T00:53:22Z",
        "errorMessage": "commit 0123456789ab rejected: 1 validation error(s)",
        "errorClass": "validation",
        "lastSuccessTime": null,
        "nextSyncTime": null,
        "servingCommit": null,
        "remoteCommit": commit_json(SHA),
        "consecutiveFailures": 1,
        "validationErrors": [{
            "file": "features.yaml",
            "line": 3,
            "column": 5,
            "path": "flags[0].key",
            "message": "required",
        }],
        "warnings": [],
        "discovery": {
            "rules": "flipt-v1",
            "summary": Discovery::default().rule(),
            "rootFile": null,
            "files": [],
            "notRead": [],
        },
        "flags": 0,
        "digest": "",
        "servingValidSnapshot": false,
        "firstSyncStartedAt": "2026-11-30T00:53:20Z",
        "attemptStartedAt": null,
        "stalledSince": null,
        "degradedReason":
            "no valid snapshot served yet: commit 0123456789ab rejected: 1 validation error(s)",
        "paused": null,
        "pinned": null,
        "drift": [],
        "heldCommit": null,
    });
    assert_eq!(value(&StatusJson::new("prod", &v)), expected);
}

/// A commit served from `.flipt.yml`'s files, then a failed fetch, then an attempt running
/// for longer than the poll interval.
fn served_failed_stalled() -> SyncStatus {
    let mut s = status();
    let start = Instant::now();
    s.begin(start, at(0));
    let discovered = Discovered {
        rules: Discovery::default(),
        root_file: Some(".flipt.yml".into()),
        files: vec!["a.features.yaml".into(), "b.features.yml".into()],
        not_read: vec!["c/flipt.yaml".into()],
    };
    let served = Served {
        flags: 2,
        digest: "d1g3st".into(),
        warnings: vec![error("a.features.yaml", "rule 2 is never reached")],
        discovery: DiscoveryStatus::of(&discovered),
    };
    s.applied(at(1), Some(commit(SHA)), served);
    s.begin(start, at(31));
    s.failed(at(32), ErrorClass::Network, "connection refused".into());
    s.next_sync_time = Some("2026-11-30T00:53:33.000Z".into());
    s.begin(start, at(33));
    s.view(start + Duration::from_secs(40), at(73))
}

#[test]
fn a_served_commit_with_a_failed_fetch_and_a_stalled_attempt() {
    let v = served_failed_stalled();
    let summary = Discovery::default().summary(Some(".flipt.yml"));
    let expected = json!({
        "environment": "prod",
        "enabled": true,
        "repository": "https://git.example.com/flags.git",
        "branch": "main",
        "directory": "prod",
        "pollInterval": "30s",
        "syncStatus": "error",
        "lastSyncTime": "2026-11-30T00:53:52Z",
        "errorMessage": "connection refused",
        "errorClass": "network",
        "lastSuccessTime": "2026-11-30T00:53:21Z",
        "nextSyncTime": null,
        "servingCommit": commit_json(SHA),
        "remoteCommit": commit_json(SHA),
        "consecutiveFailures": 1,
        "validationErrors": [],
        "warnings": [{
            "file": "a.features.yaml",
            "line": 3,
            "column": 5,
            "path": "flags[0].key",
            "message": "rule 2 is never reached",
        }],
        "discovery": {
            "rules": "flipt-v1",
            "summary": summary,
            "rootFile": ".flipt.yml",
            "files": ["a.features.yaml", "b.features.yml"],
            "notRead": ["c/flipt.yaml"],
        },
        "flags": 2,
        "digest": "d1g3st",
        "servingValidSnapshot": true,
        "firstSyncStartedAt": "2026-11-30T00:53:20Z",
        "attemptStartedAt": "2026-11-30T00:53:53Z",
        "stalledSince": "2026-11-30T00:54:23Z",
        "degradedReason": "serving the last good commit 0123456789ab; the last sync failed \
            (network): connection refused; syncing for 40 s, longer than the poll interval (30s)",
        "paused": null,
        "pinned": null,
        "drift": [],
        "heldCommit": null,
    });
    assert_eq!(value(&StatusJson::new("prod", &v)), expected);
}

#[test]
fn statuses_are_wrapped_and_keyed_in_the_order_given() {
    let all = BTreeMap::from([
        ("prod".to_string(), served_failed_stalled()),
        ("dev".to_string(), status()),
    ]);
    let expected = json!({"statuses": [
        serde_json::from_str::<serde_json::Value>(&json(&StatusJson::new("dev", &all["dev"])))
            .expect("json"),
        serde_json::from_str::<serde_json::Value>(&json(&StatusJson::new("prod", &all["prod"])))
            .expect("json"),
    ]});
    assert_eq!(value(&StatusesJson::new(&all)), expected);
    assert!(json(&StatusesJson::new(&all)).starts_with(r#"{"statuses":[{"environment":"dev","#));
}

fn attempt(outcome: Outcome) -> Attempt {
    Attempt {
        time: "2026-12-01T10:00:00.000Z".into(),
        duration_ms: 12,
        commit: Some(SHA.into()),
        outcome,
        diff: Vec::new(),
        diff_total: 0,
        repeats: 0,
        last_time: None,
    }
}

#[test]
fn history_entries_carry_only_their_outcome_s_fields() {
    let mut applied = attempt(Outcome::Applied);
    applied.diff = vec!["flag darkMode enabled: false -> true".into()];
    applied.diff_total = 1;
    let mut unchanged = attempt(Outcome::Unchanged);
    unchanged.repeats = 4;
    unchanged.last_time = Some("2026-12-01T10:02:00.000Z".into());
    let rejected = attempt(Outcome::Rejected {
        errors: vec![error("features.yaml", "required")],
    });
    let mut failed = attempt(Outcome::Failed {
        class: ErrorClass::NotFound,
        error: "branch main not found".into(),
    });
    failed.commit = None;
    let entries = [applied, unchanged, rejected, failed];
    let expected = json!({"environment": "prod", "entries": [
        {
            "time": "2026-12-01T10:00:00.000Z", "durationMs": 12, "commit": SHA,
            "outcome": "applied",
            "diff": ["flag darkMode enabled: false -> true"], "diffTotal": 1,
            "repeats": 0, "lastTime": null,
        },
        {
            "time": "2026-12-01T10:00:00.000Z", "durationMs": 12, "commit": SHA,
            "outcome": "unchanged",
            "diff": [], "diffTotal": 0, "repeats": 4, "lastTime": "2026-12-01T10:02:00.000Z",
        },
        {
            "time": "2026-12-01T10:00:00.000Z", "durationMs": 12, "commit": SHA,
            "outcome": "rejected",
            "errors": [{
                "file": "features.yaml", "line": 3, "column": 5, "path": "flags[0].key",
                "message": "required",
            }],
            "diff": [], "diffTotal": 0, "repeats": 0, "lastTime": null,
        },
        {
            "time": "2026-12-01T10:00:00.000Z", "durationMs": 12, "commit": null,
            "outcome": "failed", "class": "not_found", "error": "branch main not found",
            "diff": [], "diffTotal": 0, "repeats": 0, "lastTime": null,
        },
    ]});
    assert_eq!(value(&HistoryJson::new("prod", &entries)), expected);
}

#[test]
fn error_classes_are_snake_case_words() {
    let classes = [
        ErrorClass::Authentication,
        ErrorClass::Network,
        ErrorClass::Timeout,
        ErrorClass::NotFound,
        ErrorClass::Validation,
        ErrorClass::Internal,
        ErrorClass::Other,
    ];
    let words: Vec<serde_json::Value> = classes
        .into_iter()
        .map(|class| {
            let a = attempt(Outcome::Failed {
                class,
                error: String::new(),
            });
            let v: serde_json::Value = serde_json::from_str(&json(&a.json())).expect("json");
            v["class"].clone()
        })
        .collect();
    let expected = json!([
        "authentication",
        "network",
        "timeout",
        "not_found",
        "validation",
        "internal",
        "other"
    ]);
    assert_eq!(serde_json::Value::from(words), expected);
}

#[test]
fn a_change_event_has_its_diff_in_lines() {
    let changed = |key: &str| Change {
        namespace: "default".into(),
        object: ObjectKind::Flag,
        key: key.into(),
        kind: ChangeKind::Changed,
        details: vec!["enabled: false -> true".into()],
    };
    let e = ChangeEvent {
        environment: "prod".into(),
        old_digest: "a1".into(),
        new_digest: "b2".into(),
        commit: Some(commit(SHA)),
        diff: Diff {
            changes: vec![changed("darkMode")],
        },
    };
    let expected = json!({
        "environment": "prod",
        "oldDigest": "a1",
        "newDigest": "b2",
        "commit": commit_json(SHA),
        "diff": ["flag darkMode enabled: false -> true"],
    });
    assert_eq!(value(&ChangeJson::new(&e)), expected);
    // a plain directory has no commit
    let e = ChangeEvent { commit: None, ..e };
    assert!(
        json(&ChangeJson::new(&e)).contains(r#""newDigest":"b2","commit":null,"diff":"#),
        "{}",
        json(&ChangeJson::new(&e))
    );
}

#[test]
fn a_finding_of_an_extra_check_says_so_and_others_do_not() {
    let flipt = error("a.yaml", "flipt's own");
    let extra = ValidationError {
        extra: true,
        ..error("b.yaml", "switchyard's")
    };
    assert_eq!(
        value(&flipt.json()),
        json!({"file": "a.yaml", "line": 3, "column": 5, "path": "flags[0].key", "message": "flipt's own"})
    );
    assert_eq!(
        value(&extra.json()),
        json!({"file": "b.yaml", "line": 3, "column": 5, "path": "flags[0].key", "message": "switchyard's", "extra": true})
    );
    assert_eq!(
        switchyard_testkit::json_order::keys(&json(&extra.json())),
        ["file", "line", "column", "path", "message", "extra"]
    );
}
