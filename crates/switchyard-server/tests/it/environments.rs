//! Flipt v2's environments API (`/api/v2/environments/...`): every read in Flipt's exact shape
//! and messages, every write a 501 that says Switchyard is read-only; through the router and
//! through the real server over a real Git repository.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use switchyard_server::ServerConfig;

use crate::support::{Fixture, Running, get, git};

/// Two namespaces in one file: `default` by name, `team` with a name and description.
const TWO_NAMESPACES: &str = r#"version: "1.4"
namespace: default
flags:
  - key: one
    name: One
    type: BOOLEAN_FLAG_TYPE
    enabled: true
---
version: "1.4"
namespace:
  key: team
  name: Team
  description: The team's flags
flags:
  - key: two
    name: Two
    type: BOOLEAN_FLAG_TYPE
    enabled: false
"#;

fn error(code: i64, message: &str) -> Value {
    json!({"code": code, "message": message, "details": []})
}

fn request(method: Method, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn environments_list_has_flipts_shape() {
    let f = Fixture::new(ServerConfig::default()).await;
    let (s, h, v) = f.call(get("/api/v2/environments")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    // A plain directory has no remote; Flipt leaves the optional `remote`/`directory` out then.
    assert_eq!(
        v,
        json!({"environments": [{"key": "default", "name": "default", "default": true, "configuration": {"ref": ""}}]})
    );
}

#[tokio::test]
async fn namespaces_list_and_get_have_flipts_shape() {
    let f = Fixture::with_flags(ServerConfig::default(), TWO_NAMESPACES).await;
    let (s, h, v) = f.call(get("/api/v2/environments/default/namespaces")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(
        v,
        json!({"items": [
            {"key": "default", "name": "default", "description": "", "protected": true},
            {"key": "team", "name": "Team", "description": "The team's flags", "protected": false},
        ], "revision": ""})
    );
    let (s, _, v) = f
        .call(get("/api/v2/environments/default/namespaces/team"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"namespace": {"key": "team", "name": "Team", "description": "The team's flags", "protected": false}, "revision": ""})
    );
    let (s, _, v) = f
        .call(get("/api/v2/environments/default/namespaces/nope"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v, error(5, "namespace \"nope\" not found"));
}

#[tokio::test]
async fn the_default_namespace_exists_even_when_no_file_declares_it() {
    let f = Fixture::with_flags(
        ServerConfig::default(),
        "version: \"1.4\"\nnamespace: team\nflags:\n  - {key: two, name: Two, type: BOOLEAN_FLAG_TYPE, enabled: true}\n",
    )
    .await;
    let default = json!({"key": "default", "name": "default", "description": "The default namespace", "protected": true});
    let (_, _, v) = f.call(get("/api/v2/environments/default/namespaces")).await;
    assert_eq!(
        v,
        json!({"items": [default, {"key": "team", "name": "team", "description": "", "protected": false}], "revision": ""})
    );
    let (s, _, v) = f
        .call(get("/api/v2/environments/default/namespaces/default"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"namespace": default, "revision": ""}));
    // and it has no resources
    let (s, _, v) = f
        .call(get(
            "/api/v2/environments/default/namespaces/default/resources/flipt.core.Flag",
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"resources": [], "revision": ""}));
}

/// The fixture's flags as `flipt.core.Flag` payloads (protojson, defaults present).
fn flag_resources() -> Value {
    json!([
        {"namespaceKey": "default", "key": "checkout", "payload": {
            "@type": "flipt.core.Flag", "key": "checkout", "type": "VARIANT_FLAG_TYPE", "name": "Checkout",
            "description": "", "enabled": true,
            "variants": [
                {"key": "control", "name": "", "description": ""},
                {"key": "treatment", "name": "", "description": "", "attachment": {"color": "blue"}},
            ],
            "rules": [{"segmentOperator": "OR_SEGMENT_OPERATOR", "segments": ["pro"],
                       "distributions": [{"variant": "treatment", "rollout": 100}]}],
            "rollouts": [], "defaultVariant": "control"}},
        {"namespaceKey": "default", "key": "dark", "payload": {
            "@type": "flipt.core.Flag", "key": "dark", "type": "BOOLEAN_FLAG_TYPE", "name": "Dark",
            "description": "", "enabled": false, "variants": [], "rules": [],
            "rollouts": [{"type": "SEGMENT_ROLLOUT_TYPE", "description": "",
                          "segment": {"value": true, "segments": ["pro"], "segmentOperator": "OR_SEGMENT_OPERATOR"}}]}},
        {"namespaceKey": "default", "key": "off", "payload": {
            "@type": "flipt.core.Flag", "key": "off", "type": "VARIANT_FLAG_TYPE", "name": "Off",
            "description": "", "enabled": false,
            "variants": [{"key": "a", "name": "", "description": ""}], "rules": [], "rollouts": []}},
    ])
}

fn segment_resource() -> Value {
    json!({"namespaceKey": "default", "key": "pro", "payload": {
        "@type": "flipt.core.Segment", "key": "pro", "matchType": "ALL_MATCH_TYPE", "name": "Pro", "description": "",
        "constraints": [{"type": "STRING_COMPARISON_TYPE", "property": "plan", "operator": "eq", "value": "pro", "description": ""}]}})
}

#[tokio::test]
async fn resources_list_and_get_have_flipts_shape() {
    let f = Fixture::new(ServerConfig::default()).await;
    let base = "/api/v2/environments/default/namespaces/default/resources";
    let (s, h, v) = f.call(get(&format!("{base}/flipt.core.Flag"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(v, json!({"resources": flag_resources(), "revision": ""}));
    // the type URL may carry protobuf's prefix (one path segment: its slash escaped)
    let (_, _, w) = f
        .call(get(&format!(
            "{base}/type.googleapis.com%2Fflipt.core.Flag"
        )))
        .await;
    assert_eq!(w, v);
    let (s, _, v) = f.call(get(&format!("{base}/flipt.core.Segment"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"resources": [segment_resource()], "revision": ""})
    );
    let (s, _, v) = f.call(get(&format!("{base}/flipt.core.Flag/dark"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"resource": flag_resources()[1], "revision": ""}));
    let (s, _, v) = f.call(get(&format!("{base}/flipt.core.Segment/pro"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"resource": segment_resource(), "revision": ""}));
    // a namespace nobody declares lists nothing, as in Flipt
    let (s, _, v) = f
        .call(get(
            "/api/v2/environments/default/namespaces/elsewhere/resources/flipt.core.Segment",
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"resources": [], "revision": ""}));
}

#[tokio::test]
async fn resource_and_environment_errors_have_flipts_messages() {
    let f = Fixture::new(ServerConfig::default()).await;
    let base = "/api/v2/environments/default/namespaces/default/resources";
    for (uri, status, body) in [
        (
            format!("{base}/flipt.core.Flag/nope"),
            StatusCode::NOT_FOUND,
            error(5, "getting flag default/nope: flag default/nope not found"),
        ),
        (
            format!("{base}/flipt.core.Segment/nope"),
            StatusCode::NOT_FOUND,
            error(
                5,
                "getting segment default/nope: segment default/nope not found",
            ),
        ),
        (
            "/api/v2/environments/default/namespaces/elsewhere/resources/flipt.core.Flag/one"
                .to_string(),
            StatusCode::NOT_FOUND,
            error(
                5,
                "getting flag elsewhere/one: flag elsewhere/one not found",
            ),
        ),
        (
            format!("{base}/flipt.core.Variant"),
            StatusCode::NOT_FOUND,
            error(
                5,
                "git storage view: resource type \"flipt.core.Variant\" not found",
            ),
        ),
        (
            format!("{base}/flag/checkout"),
            StatusCode::NOT_FOUND,
            error(5, "git storage view: resource type \".flag\" not found"),
        ),
        (
            "/api/v2/environments/prod/namespaces".to_string(),
            StatusCode::NOT_FOUND,
            error(5, "environment: \"prod\" not found"),
        ),
        (
            "/api/v2/environments/prod/namespaces/default".to_string(),
            StatusCode::NOT_FOUND,
            error(5, "environment: \"prod\" not found"),
        ),
        (
            "/api/v2/environments/prod/namespaces/default/resources/flipt.core.Flag".to_string(),
            StatusCode::NOT_FOUND,
            error(5, "environment: \"prod\" not found"),
        ),
        (
            "/api/v2/environments/prod/namespaces/default/resources/flipt.core.Flag/checkout"
                .to_string(),
            StatusCode::NOT_FOUND,
            error(5, "environment: \"prod\" not found"),
        ),
        (
            "/api/v2/environments/prod/branches".to_string(),
            StatusCode::NOT_FOUND,
            error(5, "environment: \"prod\" not found"),
        ),
    ] {
        let (s, _, v) = f.call(get(&uri)).await;
        assert_eq!((s, v), (status, body), "{uri}");
    }
    let (s, _, v) = f.call(get("/api/v2/environments/default/branches")).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"branches": []})));
}

/// Every write endpoint of Flipt's environments API, as (method, path, operation).
const WRITES: &[(&str, &str, &str)] = &[
    ("POST", "/namespaces", "create namespace"),
    ("PUT", "/namespaces", "update namespace"),
    ("DELETE", "/namespaces/team", "delete namespace"),
    ("POST", "/namespaces/default/resources", "create resource"),
    ("PUT", "/namespaces/default/resources", "update resource"),
    (
        "DELETE",
        "/namespaces/default/resources/flipt.core.Flag/checkout",
        "delete resource",
    ),
    ("POST", "/branches", "create branch environment"),
    ("DELETE", "/branches/feature", "delete branch environment"),
    ("POST", "/branches/feature", "propose environment"),
];

fn read_only(what: &str, target: &str) -> Value {
    error(
        12,
        &format!(
            "{what} is not supported: Switchyard is read-only and serves the flag files of its Git \
             repository; commit the change to the repository{target} and the sync applies it"
        ),
    )
}

#[tokio::test]
async fn every_write_answers_501_read_only() {
    let f = Fixture::new(ServerConfig::default()).await;
    for (method, path, what) in WRITES {
        let uri = format!("/api/v2/environments/default{path}");
        let req = request(method.parse().unwrap(), &uri, r#"{"key":"x","name":"X"}"#);
        let (s, h, v) = f.call(req).await;
        assert_eq!(s, StatusCode::NOT_IMPLEMENTED, "{method} {uri}");
        assert_eq!(h["content-type"], "application/json");
        // a plain directory has no repository to name
        assert_eq!(v, read_only(what, ""), "{method} {uri}");
    }
    // a method Flipt has no route for is Flipt's gateway answer: 501, `Method Not Allowed`
    let (s, _, v) = f
        .call(request(
            Method::PATCH,
            "/api/v2/environments/default/namespaces",
            "{}",
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(v["code"], 12, "{v}");
    assert_eq!(v["message"], "Method Not Allowed", "{v}");
}

/// Through the real server over a real Git repository: Flipt's first step of its stream test
/// (create a namespace) is told where the change goes; reads carry the served commit as
/// `revision`.
#[tokio::test]
async fn the_real_server_answers_reads_with_the_commit_and_writes_with_501() {
    let fixture = Fixture::with_git(ServerConfig::default(), TWO_NAMESPACES).await;
    let sha = git(fixture.dir.path(), &["rev-parse", "HEAD"]);
    let remote = format!("file://{}", fixture.dir.path().display());
    let server = Running::serve(fixture).await;
    let base = format!("http://{}/api/v2/environments/default", server.addr);
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{base}/namespaces"))
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), 200);
    let v: Value = serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert_eq!(v["revision"], sha.as_str());
    assert_eq!(v["items"][1]["key"], "team");
    let resp = client
        .get(format!(
            "{base}/namespaces/team/resources/flipt.core.Flag/two"
        ))
        .send()
        .await
        .expect("get");
    let v: Value = serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert_eq!(
        v,
        json!({"resource": {"namespaceKey": "team", "key": "two", "payload": {
            "@type": "flipt.core.Flag", "key": "two", "type": "BOOLEAN_FLAG_TYPE", "name": "Two", "description": "",
            "enabled": false, "variants": [], "rules": [], "rollouts": []}}, "revision": sha})
    );
    let resp = client
        .post(format!("{base}/namespaces"))
        .header("content-type", "application/json")
        .body(r#"{"environmentKey":"default","key":"test-namespace-stream","name":"Test Namespace Stream"}"#)
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), 501);
    let v: Value = serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert_eq!(
        v,
        read_only(
            "create namespace",
            &format!(" (branch \"main\" of {remote})")
        )
    );
    server.stop().await.expect("stops");
}

/// Before a valid snapshot is served every read says why (503, code 14, `Retry-After`), as the
/// evaluation APIs do; writes still say read-only.
#[tokio::test]
async fn reads_before_a_valid_snapshot_are_503_with_the_reason() {
    let broken = "version: \"1.4\"\nnamespace: default\nflags:\n  - key: dark\n    name: Dark\n    type: BOOLEAN_FLAG_TYPE\n    enabled: maybe\n";
    let f = Fixture::with_flags(ServerConfig::default(), broken).await;
    let base = "/api/v2/environments/default/namespaces";
    for uri in [
        base.to_string(),
        format!("{base}/default"),
        format!("{base}/default/resources/flipt.core.Flag"),
        format!("{base}/default/resources/flipt.core.Flag/dark"),
    ] {
        let (s, h, v) = f.call(get(&uri)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert_eq!(h["retry-after"], "5", "{uri}");
        assert_eq!(v["code"], 14, "{uri}: {v}");
        let m = v["message"].as_str().unwrap_or_default();
        assert!(
            m.starts_with("environment \"default\" has no valid snapshot yet")
                && m.contains("features.yaml"),
            "{uri}: {m}"
        );
    }
    let (s, _, v) = f.call(get("/api/v2/environments/default/branches")).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"branches": []})));
    let (s, _, v) = f.call(request(Method::POST, base, r#"{"key":"x"}"#)).await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_IMPLEMENTED,
            read_only("create namespace", "")
        )
    );
}
