//! `GET /api/v1/environments/{env}/diff?from=&to=`: two commits of a real Git repository's
//! history compiled from the local objects, their plain-words diff and impact; read scope;
//! precise errors for commits outside the history.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;
use switchyard_server::{AuthConfig, Scope, ServerConfig, Token};

use crate::support::{FLAGS, Fixture, get};

fn read_auth() -> ServerConfig {
    ServerConfig {
        auth: AuthConfig {
            tokens: vec![Token {
                name: "app".into(),
                token: "app".into(),
                scope: Scope::Evaluation,
            }],
            public_evaluation: false,
        },
        ..ServerConfig::default()
    }
}

fn bearer(uri: &str) -> axum::http::Request<axum::body::Body> {
    let mut req = get(uri);
    req.headers_mut()
        .insert("authorization", "Bearer app".parse().unwrap());
    req
}

async fn wait_for_commit(fixture: &Fixture, sha: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fixture
        .sync
        .environment("default")
        .and_then(|e| e.revision.clone())
        .as_deref()
        != Some(sha)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "commit {sha} served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_commits_of_the_history_give_their_diff_and_impact() {
    let f = Fixture::with_git(read_auth(), FLAGS).await;
    let first = crate::support::git(f.dir.path(), &["rev-parse", "HEAD"]);
    let second = f.change(&[(
        "features.yaml",
        &FLAGS.replace(
            "distributions: [{variant: treatment, rollout: 100}]",
            "distributions: [{variant: treatment, rollout: 25}, {variant: control, rollout: 75}]",
        ),
    )]);
    wait_for_commit(&f, &second).await;
    let uri = format!(
        "/api/v1/environments/default/diff?from={}&to={second}",
        &first[..7]
    );
    assert_eq!(f.call(get(&uri)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, v) = f.call(bearer(&uri)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["from"], first);
    assert_eq!(v["to"], second);
    assert_eq!(v["changesEntities"], true);
    assert_eq!(
        v["diff"][0],
        "flag checkout rule 1 (pro): variant control rollout 0% -> 75%"
    );
    let checkout = &v["flags"][0];
    assert_eq!(checkout["key"], "checkout");
    assert_eq!(checkout["exact"], Value::Null, "the rule tests segment pro");
    let pro = &checkout["shares"][0];
    assert_eq!(pro["population"], "segments");
    assert_eq!(pro["segments"][0], "pro");
    assert_eq!(pro["percent"], "75%");
    assert_eq!(pro["moves"][0]["from"]["variant"], "treatment");
    assert_eq!(pro["moves"][0]["to"]["variant"], "control");
    assert_eq!(
        v["impact"][0],
        "flag checkout: 75% of entities in segment pro change (treatment -> control 75%)"
    );

    // bounded by the history, with precise errors
    let unseen = {
        std::fs::write(f.dir.path().join("other.txt"), "x").unwrap();
        crate::support::git(f.dir.path(), &["add", "-A"]);
        crate::support::git(f.dir.path(), &["commit", "-q", "-m", "not synced"]);
        crate::support::git(f.dir.path(), &["rev-parse", "HEAD"])
    };
    let (status, _, v) = f
        .call(bearer(&format!(
            "/api/v1/environments/default/diff?from={first}&to={unseen}"
        )))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("is not in the history of environment \"default\""),
        "{v}"
    );
    let (status, _, v) = f
        .call(bearer(&format!(
            "/api/v1/environments/default/diff?to={second}"
        )))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("query parameter from is required"),
        "{v}"
    );
    let (status, _, _) = f
        .call(bearer(&format!(
            "/api/v1/environments/nope/diff?from={first}&to={second}"
        )))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, doc) = f.call(bearer("/openapi.json")).await;
    assert!(
        doc["paths"]["/api/v1/environments/{env}/diff"]["get"].is_object(),
        "documented"
    );
}

#[tokio::test]
async fn a_directory_environment_has_no_commits_to_compare() {
    let f = Fixture::new(ServerConfig::default()).await;
    let (status, _, v) = f
        .call(get(
            "/api/v1/environments/default/diff?from=abcdef0&to=abcdef1",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not read from a Git repository"),
        "{v}"
    );
}
