//! `X-Switchyard-Commit` (issue 13 item 5): every evaluation, snapshot and listing answer names
//! the commit it was answered from, OFREP also in its metadata; it follows each new commit, even
//! one that changes no flag; a plain directory has no commit and no header.

use std::time::Duration;

use serde_json::Value;
use switchyard_server::ServerConfig;

use crate::support::{FLAGS, Fixture, get, post};

const HEADER: &str = "x-switchyard-commit";

/// Every request that answers from the snapshot, with the metadata path of its commit in OFREP.
fn requests() -> Vec<(axum::http::Request<axum::body::Body>, Option<&'static str>)> {
    let ctx = r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#;
    vec![
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","entityId":"u1","context":{"plan":"pro"}}"#,
            ),
            None,
        ),
        (
            post(
                "/evaluate/v1/boolean",
                r#"{"flagKey":"dark","entityId":"u1","context":{}}"#,
            ),
            None,
        ),
        (
            post(
                "/evaluate/v1/batch",
                r#"{"requests":[{"flagKey":"dark","entityId":"u1","context":{}}]}"#,
            ),
            None,
        ),
        (
            post("/ofrep/v1/evaluate/flags/checkout", ctx),
            Some("/metadata/switchyardCommit"),
        ),
        (
            post("/ofrep/v1/evaluate/flags/dark", ctx),
            Some("/metadata/switchyardCommit"),
        ),
        (
            post("/ofrep/v1/evaluate/flags", ctx),
            Some("/metadata/switchyardCommit"),
        ),
        (
            get("/internal/v1/evaluation/snapshot/namespace/default"),
            None,
        ),
        (
            get("/client/v2/environments/default/namespaces/default/snapshot"),
            None,
        ),
        (get("/api/v1/namespaces/default/flags"), None),
        (get("/api/v1/environments/default/namespaces"), None),
        (
            get("/api/v1/environments/default/namespaces/default/document"),
            None,
        ),
    ]
}

async fn check_all(fixture: &Fixture, want: Option<&str>) {
    for (req, metadata) in requests() {
        let uri = req.uri().to_string();
        let (status, headers, body) = fixture.call(req).await;
        assert_eq!(status, 200, "{uri}: {body}");
        let got = headers.get(HEADER).map(|v| v.to_str().expect("ascii"));
        assert_eq!(got, want, "{uri}");
        if let Some(path) = metadata {
            assert_eq!(
                body.pointer(path).and_then(Value::as_str),
                want,
                "{uri}: {body}"
            );
        }
    }
}

async fn wait_for_commit(fixture: &Fixture, sha: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let env = fixture.sync.environment("default").expect("env");
        if env.revision.as_deref() == Some(sha) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "commit {sha} served within 10 s (serving {:?})",
            env.revision
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_answer_names_the_serving_commit_and_follows_it() {
    let fixture = Fixture::with_git(ServerConfig::default(), FLAGS).await;
    let first = crate::support::git(fixture.dir.path(), &["rev-parse", "HEAD"]);
    check_all(&fixture, Some(&first)).await;

    let second = fixture.change(&[("features.yaml", &FLAGS.replace("Checkout", "Checkout 2"))]);
    wait_for_commit(&fixture, &second).await;
    check_all(&fixture, Some(&second)).await;

    // a commit that changes no flag is served too: the header moves, the digest does not
    let digest = fixture
        .sync
        .environment("default")
        .expect("env")
        .digest
        .clone();
    let third = fixture.change(&[("README.md", "not a flag file")]);
    wait_for_commit(&fixture, &third).await;
    assert_eq!(
        fixture.sync.environment("default").expect("env").digest,
        digest
    );
    check_all(&fixture, Some(&third)).await;
}

#[tokio::test]
async fn a_plain_directory_has_no_commit_header() {
    let fixture = Fixture::with_flags(ServerConfig::default(), FLAGS).await;
    check_all(&fixture, None).await;
}
