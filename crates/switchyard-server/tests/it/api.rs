//! Endpoint behaviour: shapes, errors, ETags, streams, auth, webhooks, metrics.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::Sha256;
use switchyard_core::ExtraChecks;
use switchyard_server::{AuthConfig, Scope, ServerConfig, Token, WebhookSecrets};
use switchyard_testkit::json_order::{self, Node};

use crate::support::{FLAGS, Fixture, get, post};

/// The seed-like flags served as given (no sync thread).
async fn fixture() -> Fixture {
    Fixture::given(ServerConfig::default(), crate::support::FLAGS)
}

#[tokio::test]
async fn variant_boolean_and_batch_have_flipt_shapes() {
    let f = fixture().await;
    let (s, h, v) = f
        .call(post(
            "/evaluate/v1/variant",
            r#"{"flagKey":"checkout","entityId":"u1","context":{"plan":"pro"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.contains_key("x-request-id"));
    assert_eq!(v["match"], true);
    assert_eq!(v["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(v["variantKey"], "treatment");
    assert_eq!(v["variantAttachment"], "{\"color\":\"blue\"}");
    assert_eq!(v["segmentKeys"], json!(["pro"]));
    assert_eq!(v["flagKey"], "checkout");
    assert_eq!(v["requestId"].as_str().map(str::len), Some(36));
    assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let (_, _, v) = f
        .call(post(
            "/evaluate/v1/variant",
            r#"{"flag_key":"checkout","entity_id":"u1","request_id":"r-1"}"#,
        ))
        .await;
    assert_eq!(
        (
            v["reason"].as_str(),
            v["variantKey"].as_str(),
            v["requestId"].as_str()
        ),
        (
            Some("DEFAULT_EVALUATION_REASON"),
            Some("control"),
            Some("r-1")
        )
    );
    let (_, _, v) = f
        .call(post(
            "/evaluate/v1/boolean",
            r#"{"flagKey":"dark","entityId":"u1","context":{"plan":"pro"}}"#,
        ))
        .await;
    assert_eq!(
        (v["enabled"].as_bool(), v["reason"].as_str()),
        (Some(true), Some("MATCH_EVALUATION_REASON"))
    );
    let (_, _, v) = f.call(post("/evaluate/v1/batch", r#"{"requests":[{"flagKey":"checkout","entityId":"u"},{"flagKey":"dark","entityId":"u"},{"flagKey":"nope","entityId":"u"}]}"#)).await;
    let r = &v["responses"];
    assert_eq!(r[0]["type"], "VARIANT_EVALUATION_RESPONSE_TYPE");
    assert_eq!(r[0]["variantResponse"]["variantKey"], "control");
    assert_eq!(r[1]["type"], "BOOLEAN_EVALUATION_RESPONSE_TYPE");
    assert_eq!(r[1]["booleanResponse"]["enabled"], false);
    assert_eq!(
        r[2],
        json!({"type": "ERROR_EVALUATION_RESPONSE_TYPE", "errorResponse": {"flagKey": "nope", "namespaceKey": "", "reason": "NOT_FOUND_ERROR_EVALUATION_REASON"}})
    );
    assert!(v["requestId"].is_string() && v["requestDurationMillis"].is_number());
}

#[tokio::test]
async fn bad_input_gets_clear_errors_never_500() {
    let f = fixture().await;
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"nope","entityId":"u"}"#,
            ),
            StatusCode::NOT_FOUND,
            "flag \"default/nope\" not found",
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"dark","entityId":"u"}"#,
            ),
            StatusCode::BAD_REQUEST,
            "flag type BOOLEAN_FLAG_TYPE invalid",
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","namespaceKey":"other","entityId":"u"}"#,
            ),
            StatusCode::NOT_FOUND,
            "namespace \"other\" not found",
        ),
        (
            post("/evaluate/v1/variant", r#"{"flagKey":"checkout","#),
            StatusCode::BAD_REQUEST,
            "unexpected EOF",
        ),
        (
            post(
                "/evaluate/v1/variant",
                r#"{"flagKey":"checkout","context":{"age":3}}"#,
            ),
            StatusCode::BAD_REQUEST,
            "invalid values for key(s) in json body",
        ),
        (
            post("/evaluate/v1/variant", r#"{"flagKey":42}"#),
            StatusCode::BAD_REQUEST,
            "invalid values for key(s) in json body",
        ),
        (
            post("/evaluate/v1/variant", r#"[]"#),
            StatusCode::BAD_REQUEST,
            "invalid values for key(s) in json body",
        ),
        (
            post("/evaluate/v1/variant", r#"{}"#),
            StatusCode::NOT_FOUND,
            "flag \"default\" not found",
        ),
        (
            post(
                "/evaluate/v1/variant",
                &format!("{{\"flagKey\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        ),
        (
            get("/no/such/path"),
            StatusCode::NOT_FOUND,
            "no such endpoint",
        ),
    ];
    for (req, status, text) in cases {
        let uri = req.uri().to_string();
        let (s, _, v) = f.call(req).await;
        assert_eq!(s, status, "{uri}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains(text)),
            "{uri}: {v}"
        );
        assert!(v["code"].is_i64(), "{uri}: {v}");
    }
}

#[tokio::test]
async fn json_sent_as_text_plain_is_accepted() {
    let f = fixture().await;
    let req = Request::post("/evaluate/v1/boolean")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(Body::from(r#"{"flagKey":"dark","entityId":"u"}"#))
        .unwrap();
    let (s, _, v) = f.call(req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["reason"], "DEFAULT_EVALUATION_REASON");
}

#[tokio::test]
async fn client_snapshot_etag_and_304() {
    let f = fixture().await;
    let (s, h, v) = f
        .call(get("/internal/v1/evaluation/snapshot/namespace/default"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let etag = h["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, v["digest"].as_str().unwrap());
    assert_eq!(v["flags"][0]["defaultVariant"]["attachment"], "null");
    for inm in [
        etag.clone(),
        format!("\"{etag}\""),
        format!("\"other\", {etag}"),
        format!("W/\"{etag}\""),
    ] {
        let req = Request::get("/client/v2/environments/default/namespaces/default/snapshot")
            .header("if-none-match", inm.clone())
            .body(Body::empty())
            .unwrap();
        let (s, h, v) = f.call(req).await;
        assert_eq!(s, StatusCode::NOT_MODIFIED, "{inm}");
        assert_eq!(h["etag"].to_str().unwrap(), etag, "304 repeats the ETag");
        assert!(v.is_null());
    }
    let req = Request::get("/internal/v1/evaluation/snapshot/namespace/default")
        .header("if-none-match", "stale")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.call(req).await.0, StatusCode::OK);
    let (s, _, v) = f
        .call(get("/internal/v1/evaluation/snapshot/namespace/nope"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        v["message"],
        "evaluation snapshot for namespace \"nope\" not found"
    );
}

#[tokio::test]
async fn snapshot_stream_sends_ndjson_on_change() {
    let f = Fixture::new(ServerConfig::default()).await;
    let resp = f
        .send(get(
            "/client/v2/environments/default/namespaces/default/stream",
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("first frame")
        .expect("frame")
        .expect("ok");
    let line: Value = serde_json::from_slice(first.data_ref().expect("data")).expect("json line");
    assert_eq!(line["result"]["namespace"]["key"], "default");
    f.rewrite(&FLAGS.replace(
        "enabled: false\n    rollouts",
        "enabled: true\n    rollouts",
    ))
    .await;
    let next = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("second frame")
        .expect("frame")
        .expect("ok");
    let line: Value = serde_json::from_slice(next.data_ref().expect("data")).expect("json line");
    assert_eq!(line["result"]["flags"][1]["enabled"], true);
}

#[tokio::test]
async fn ofrep_single_bulk_etag_and_errors() {
    let f = Fixture::new(ServerConfig::default()).await;
    let (s, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/checkout",
            r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"key": "checkout", "reason": "TARGETING_MATCH", "variant": "treatment", "value": "treatment", "metadata": {"segments": "pro", "attachment": "{\"color\":\"blue\"}"}})
    );
    let (_, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/dark",
            r#"{"context":{"targetingKey":"u1","plan":"pro","n":3,"b":true}}"#,
        ))
        .await;
    assert_eq!(
        (v["value"].as_bool(), v["variant"].as_str()),
        (Some(true), Some("true"))
    );
    let (s, _, v) = f
        .call(post("/ofrep/v1/evaluate/flags/nope", r#"{"context":{}}"#))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        v,
        json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found nope"})
    );
    let (s, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags/checkout",
            r#"{"context": 5}"#,
        ))
        .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT"))
    );
    let (s, _, v) = f
        .call(post("/ofrep/v1/evaluate/flags/checkout", r#"{"context":"#))
        .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT"))
    );
    // Bulk: booleans and enabled variant flags; ETag over the results.
    let (s, h, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"targetingKey":"u1"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let keys: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["checkout", "dark"]);
    assert_eq!(
        v["eventStreams"][0]["endpoint"]["requestUri"],
        "/ofrep/v1/_stream/default/default/events"
    );
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""));
    let again = Request::post("/ofrep/v1/evaluate/flags")
        .header("if-none-match", etag.clone())
        .body(Body::from(r#"{"context":{"targetingKey":"u1"}}"#))
        .unwrap();
    let (s, h, _) = f.call(again).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert_eq!(h["etag"].to_str().unwrap(), etag);
    let other_ctx = Request::post("/ofrep/v1/evaluate/flags")
        .header("if-none-match", etag.clone())
        .body(Body::from(
            r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#,
        ))
        .unwrap();
    assert_eq!(
        f.call(other_ctx).await.0,
        StatusCode::OK,
        "the ETag depends on the context"
    );
    let (_, _, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"targetingKey":"u1","flags":"off,dark"}}"#,
        ))
        .await;
    let keys: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["off", "dark"], "a selection keeps its order");
    let (s, _, v) = f
        .call(get("/ofrep/v1/_stream/default/default/events"))
        .await;
    assert_eq!(s, StatusCode::NOT_ACCEPTABLE, "{v}");
}

/// The next SSE frame of an OFREP stream as (id, data JSON), within five seconds.
async fn next_sse_event(body: &mut Body) -> (String, Value) {
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("an event within 5 s")
        .expect("frame")
        .expect("ok");
    let text = String::from_utf8(frame.into_data().expect("data").to_vec()).expect("utf-8");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let data = serde_json::from_str(&field("data:")).expect("json data");
    (field("id:"), data)
}

fn ns_digest(f: &Fixture) -> String {
    let env = f.sync.environment("default").expect("env");
    env.namespace("default").expect("namespace").digest.clone()
}

const STREAM: &str = "/ofrep/v1/_stream/default/default/events";

#[tokio::test]
async fn ofrep_stream_announces_only_real_changes() {
    let f = Fixture::new(ServerConfig::default()).await;
    let before = ns_digest(&f);
    let resp = f
        .send(with_header(get(STREAM), "accept", "text/event-stream"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    f.rewrite(&FLAGS.replace(
        "enabled: false\n    rollouts",
        "enabled: true\n    rollouts",
    ))
    .await;
    let after = ns_digest(&f);
    assert_ne!(before, after);
    // The first event a new client gets is the change, not the digest it already had.
    let (id, data) = next_sse_event(&mut body).await;
    assert_eq!(data, json!({"type": "refetchEvaluation", "etag": after}));
    assert_eq!(id, after[..9]);
}

#[tokio::test]
async fn ofrep_stream_reconnect_gets_a_change_it_missed() {
    let f = Fixture::new(ServerConfig::default()).await;
    let seen = ns_digest(&f);
    // Reconnecting with the id of the current digest: nothing to announce until a change.
    let resp = f
        .send(with_header(
            with_header(get(STREAM), "accept", "text/event-stream"),
            "last-event-id",
            &seen[..9],
        ))
        .await;
    let mut current = resp.into_body();
    f.rewrite(&FLAGS.replace(
        "enabled: false\n    rollouts",
        "enabled: true\n    rollouts",
    ))
    .await;
    let now = ns_digest(&f);
    assert_eq!(next_sse_event(&mut current).await.1["etag"], now);
    // Reconnecting with the id of an older digest: the change made while away comes at once.
    let resp = f
        .send(with_header(
            with_header(get(STREAM), "accept", "text/event-stream"),
            "last-event-id",
            &seen[..9],
        ))
        .await;
    let (id, data) = next_sse_event(&mut resp.into_body()).await;
    assert_eq!((id.as_str(), &data["etag"]), (&now[..9], &json!(now)));
}

#[tokio::test]
async fn sync_status_history_and_sync_now() {
    let f = Fixture::new(ServerConfig::default()).await;
    let (s, _, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(s, StatusCode::OK);
    for field in [
        "enabled",
        "repository",
        "branch",
        "pollInterval",
        "syncStatus",
        "lastSyncTime",
        "errorMessage",
        "servingCommit",
        "consecutiveFailures",
        "validationErrors",
    ] {
        assert!(v.get(field).is_some(), "status lacks {field}: {v}");
    }
    assert_eq!(v["environment"], "default");
    assert_eq!(v["pollInterval"], "1s");
    let (s, _, _) = f.call(get("/api/v1/sync/status?environment=nope")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, v) = f.call(get("/api/v1/sync/statuses")).await;
    assert_eq!(v["statuses"].as_array().map(Vec::len), Some(1));
    let (s, _, v) = f.call(post("/api/v1/sync", "")).await;
    assert_eq!(
        (s, v["triggered"].as_bool()),
        (StatusCode::ACCEPTED, Some(true))
    );
    // An invalid change is rejected with file and line; the last good flags keep answering.
    f.rewrite_unchecked(&FLAGS.replace("name: Checkout", "nam: Checkout"))
        .await;
    let status = f.call(get("/api/v1/sync/status")).await.2;
    assert_eq!(status["syncStatus"], "error", "{status}");
    // The first error is the misspelt key with its suggestion (the core sorts it first).
    let first = &status["validationErrors"][0];
    assert_eq!(
        (first["file"].as_str(), first["line"].as_u64()),
        (Some("features.yaml"), Some(5)),
        "{status}"
    );
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("did you mean `name`?")),
        "{status}"
    );
    let (s, _, v) = f
        .call(post(
            "/evaluate/v1/variant",
            r#"{"flagKey":"checkout","entityId":"u1","context":{"plan":"pro"}}"#,
        ))
        .await;
    assert_eq!(
        (s, v["variantKey"].as_str()),
        (StatusCode::OK, Some("treatment"))
    );
    let (_, _, h) = f.call(get("/api/v1/sync/history")).await;
    assert!(
        h["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "rejected"),
        "{h}"
    );
}

/// The keys of an object in written order (missing: none).
fn keys(n: Option<&Node>) -> Vec<&str> {
    n.map(Node::keys).unwrap_or_default()
}

#[tokio::test]
async fn sync_status_and_history_keys_come_in_their_documented_order() {
    let f = Fixture::new(ServerConfig::default()).await;
    let (s, headers, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let (_, text) = f.call_text(get("/api/v1/sync/status")).await;
    let status = json_order::parse(&text);
    assert_eq!(
        keys(status.as_ref()),
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
    assert_eq!(
        keys(status.as_ref().and_then(|n| n.get("discovery"))),
        ["rules", "summary", "rootFile", "files", "notRead"]
    );
    // a plain directory has no commit: null, not left out
    assert_eq!(v["servingCommit"], Value::Null);
    let (_, _, h) = f.call(get("/api/v1/sync/history")).await;
    let (_, text) = f.call_text(get("/api/v1/sync/history")).await;
    let history = json_order::parse(&text);
    assert_eq!(keys(history.as_ref()), ["environment", "entries"]);
    let first = history
        .as_ref()
        .and_then(|n| n.get("entries"))
        .and_then(|e| e.at(0));
    assert_eq!(
        keys(first),
        [
            "time",
            "durationMs",
            "commit",
            "outcome",
            "diff",
            "diffTotal",
            "repeats",
            "lastTime"
        ],
        "{h}"
    );
    assert_eq!(h["entries"][0]["outcome"], "applied", "{h}");
}

#[tokio::test]
async fn sync_events_stream_statuses() {
    let f = Fixture::new(ServerConfig::default()).await;
    let resp = f.send(get("/api/v1/sync/events")).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("event")
        .expect("frame")
        .expect("ok");
    let text = String::from_utf8_lossy(frame.data_ref().expect("data")).into_owned();
    assert!(
        text.starts_with("event: status\ndata: {\"environment\":\"default\""),
        "{text}"
    );
    f.rewrite(&FLAGS.replace(
        "[{variant: treatment, rollout: 100}]",
        "[{variant: treatment, rollout: 50}, {variant: control, rollout: 50}]",
    ))
    .await;
    let mut seen = String::new();
    for _ in 0..20 {
        let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), body.frame()).await
        else {
            break;
        };
        seen.push_str(&String::from_utf8_lossy(
            frame.data_ref().map(|b| b.as_ref()).unwrap_or_default(),
        ));
        if seen.contains("event: change") {
            break;
        }
    }
    assert!(
        seen.contains("event: change") && seen.contains("rollout 100% -> 50%"),
        "{seen}"
    );
}

fn with_auth() -> ServerConfig {
    ServerConfig {
        auth: AuthConfig {
            tokens: vec![
                Token {
                    name: "admin".into(),
                    token: "adm".into(),
                    scope: Scope::Admin,
                },
                Token {
                    name: "app".into(),
                    token: "app".into(),
                    scope: Scope::Evaluation,
                },
            ],
            public_evaluation: false,
        },
        ..ServerConfig::default()
    }
}

fn bearer(mut req: Request<Body>, token: &str) -> Request<Body> {
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

#[tokio::test]
async fn tokens_and_scopes() {
    let f = Fixture::new(with_auth()).await;
    let eval = || {
        post(
            "/evaluate/v1/boolean",
            r#"{"flagKey":"dark","entityId":"u"}"#,
        )
    };
    let (s, h, v) = f.call(eval()).await;
    assert_eq!(
        (s, v["code"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(16))
    );
    assert_eq!(h["www-authenticate"], "Bearer");
    assert_eq!(
        f.call(bearer(eval(), "wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(f.call(bearer(eval(), "app")).await.0, StatusCode::OK);
    assert_eq!(
        f.call(get("/api/v1/sync/status")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call(bearer(get("/api/v1/sync/status"), "app")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        f.call(bearer(post("/api/v1/sync", ""), "app")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        f.call(post("/api/v1/sync", "")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call(bearer(post("/api/v1/sync", ""), "adm")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(f.call(get("/health")).await.0, StatusCode::OK);
    let public = Fixture::new(ServerConfig {
        auth: AuthConfig {
            public_evaluation: true,
            ..with_auth().auth
        },
        ..with_auth()
    })
    .await;
    assert_eq!(public.call(eval()).await.0, StatusCode::OK);
    assert_eq!(
        public.call(post("/api/v1/sync", "")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn webhooks_verify_signatures_and_limits() {
    let config = ServerConfig {
        webhooks: WebhookSecrets {
            github: Some("s3".into()),
            gitlab: Some("tok".into()),
            gitea: Some("gs".into()),
        },
        ..ServerConfig::default()
    };
    let f = Fixture::new(config).await;
    let body = r#"{"ref":"refs/heads/main","repository":{"clone_url":"https://github.com/acme/flags.git","full_name":"acme/flags"}}"#;
    let hook = |sig: Option<String>, event: &str, body: &str| {
        let mut b = Request::post("/api/v1/webhooks/github").header("x-github-event", event);
        if let Some(s) = sig {
            b = b.header("x-hub-signature-256", s);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let (s, _, v) = f.call(hook(Some(sign("s3", body)), "push", body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(
        v["triggered"],
        json!([]),
        "a local directory follows no remote"
    );
    assert_eq!(
        f.call(hook(Some(sign("other", body)), "push", body))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call(hook(None, "push", body)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _, v) = f.call(hook(Some(sign("s3", "{}")), "ping", "{}")).await;
    assert_eq!((s, v["pong"].as_bool()), (StatusCode::OK, Some(true)));
    let big = "x".repeat(6 * 1024 * 1024);
    assert_eq!(
        f.call(hook(Some(sign("s3", &big)), "push", &big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let gl = |t: &str| {
        Request::post("/api/v1/webhooks/gitlab")
            .header("x-gitlab-token", t)
            .body(Body::from(r#"{"ref":"refs/heads/main","project":{}}"#))
            .unwrap()
    };
    assert_eq!(f.call(gl("tok")).await.0, StatusCode::ACCEPTED);
    assert_eq!(f.call(gl("bad")).await.0, StatusCode::UNAUTHORIZED);
    let gbody = r#"{"ref":"refs/heads/main","repository":{}}"#;
    let gt = Request::post("/api/v1/webhooks/gitea")
        .header(
            "x-gitea-signature",
            sign("gs", gbody).trim_start_matches("sha256=").to_string(),
        )
        .body(Body::from(gbody))
        .unwrap();
    assert_eq!(f.call(gt).await.0, StatusCode::ACCEPTED);
    let unconfigured = fixture().await;
    assert_eq!(
        unconfigured
            .call(hook(Some(sign("s3", body)), "push", body))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn operations_endpoints() {
    let f = Fixture::new(ServerConfig::default()).await;
    f.call(post(
        "/evaluate/v1/variant",
        r#"{"flagKey":"checkout","entityId":"u1"}"#,
    ))
    .await;
    let resp = f.send(get("/metrics")).await;
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for name in [
        "flipt_evaluations_requests_total{flipt_environment=\"default\",flipt_namespace=\"default\",flipt_flag=\"checkout\"} 1",
        "flipt_evaluations_results_total",
        "flipt_evaluations_latency_milliseconds_bucket",
        "flipt_git_sync_flags{environment=\"default\"} 3",
        "switchyard_snapshot_age_seconds{environment=\"default\"}",
    ] {
        assert!(text.contains(name), "missing {name} in\n{text}");
    }
    assert_eq!(f.call(get("/health")).await.2, json!({"status": "SERVING"}));
    assert_eq!(f.call(get("/ready")).await.0, StatusCode::OK);
    let (_, _, doc) = f.call(get("/openapi.json")).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/evaluate/v1/variant",
        "/ofrep/v1/evaluate/flags",
        "/api/v1/sync/status",
        "/api/v1/webhooks/github",
        "/metrics",
        "/flagd.evaluation.v1.Service/{method}",
    ] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
    let (_, _, envs) = f.call(get("/api/v2/environments")).await;
    assert_eq!(envs["environments"][0]["key"], "default");
    assert_eq!(envs["environments"][0]["default"], true);
    let (_, _, flags) = f.call(get("/api/v1/namespaces/default/flags")).await;
    assert_eq!(flags["totalCount"], 3);
    // the attachment string Flipt's Go code writes (the one evaluation answers carry); none is ""
    assert_eq!(flags["flags"][0]["variants"][0]["attachment"], "");
    assert_eq!(
        flags["flags"][0]["variants"][1]["attachment"],
        "{\"color\":\"blue\"}"
    );
    let (_, _, doc) = f
        .call(get(
            "/api/v1/environments/default/namespaces/default/document",
        ))
        .await;
    assert_eq!(doc["flags"][0]["key"], "checkout");
    let pre = Request::options("/ofrep/v1/evaluate/flags")
        .header("origin", "http://localhost:4200")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,if-none-match,authorization,x-flipt-namespace",
        )
        .body(Body::empty())
        .unwrap();
    let resp = f.send(pre).await;
    assert!(resp.status().is_success());
    let allow = resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allow.contains("if-none-match") && allow.contains("x-flipt-namespace"),
        "{allow}"
    );
    let resp = f
        .send(
            Request::post("/ofrep/v1/evaluate/flags")
                .header("origin", "http://localhost:4200")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    let expose = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(expose.contains("etag"), "{expose}");
}

fn with_header(mut req: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    req.headers_mut().insert(name, value.parse().unwrap());
    req
}

/// Issue 4 §5, the cases `bad_input_gets_clear_errors_never_500` does not cover: OFREP bodies,
/// unknown environments and namespaces on every family, batch types, wrong methods, webhooks.
#[tokio::test]
async fn more_bad_input_gets_clear_errors_never_500() {
    let f = Fixture::new(ServerConfig {
        webhooks: WebhookSecrets {
            github: Some("s3".into()),
            ..WebhookSecrets::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let big = format!(
        "{{\"context\":{{\"a\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    // OFREP: (request, status, errorCode, text in errorDetails).
    let ofrep: Vec<(Request<Body>, StatusCode, &str, &str)> = vec![
        (
            with_header(
                post("/ofrep/v1/evaluate/flags/checkout", r#"{"context":{}}"#),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            "failed to get environment \"prod\" from context",
        ),
        (
            with_header(
                post("/ofrep/v1/evaluate/flags/checkout", r#"{"context":{}}"#),
                "x-flipt-namespace",
                "other",
            ),
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            "flag was not found checkout",
        ),
        (
            with_header(
                post("/ofrep/v1/evaluate/flags", r#"{"context":{}}"#),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            "failed to get environment \"prod\" from context",
        ),
        (
            with_header(
                post("/ofrep/v1/evaluate/flags", r#"{"context":{}}"#),
                "x-flipt-namespace",
                "other",
            ),
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            "namespace \"other\" not found",
        ),
        (
            post("/ofrep/v1/evaluate/flags", r#"{"context":"#),
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
            "unexpected EOF",
        ),
        (
            post("/ofrep/v1/evaluate/flags", "[]"),
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
            "invalid values for key(s) in json body",
        ),
        (
            post("/ofrep/v1/evaluate/flags", r#"{"context":[1]}"#),
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
            "invalid values for key(s) in json body",
        ),
        (
            Request::post("/ofrep/v1/evaluate/flags/checkout")
                .body(Body::from(&b"\xff\xfe{"[..]))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
            "invalid character '\u{ff}' looking for beginning of value",
        ),
        (
            post("/ofrep/v1/evaluate/flags/checkout", &big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "GENERAL",
            "larger than the limit",
        ),
        (
            post("/ofrep/v1/evaluate/flags", &big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "GENERAL",
            "larger than the limit",
        ),
        (
            with_header(
                get("/ofrep/v1/_stream/prod/default/events"),
                "accept",
                "text/event-stream",
            ),
            StatusCode::NOT_FOUND,
            "GENERAL",
            "environment \"prod\" not found",
        ),
    ];
    for (req, status, code, text) in ofrep {
        let what = format!("{} {:?}", req.uri(), req.headers());
        let (s, h, v) = f.call(req).await;
        assert_eq!(s, status, "{what}: {v}");
        assert_eq!(v["errorCode"], code, "{what}: {v}");
        assert!(
            v["errorDetails"].as_str().is_some_and(|d| d.contains(text)),
            "{what}: {v}"
        );
        assert!(h.contains_key("x-request-id"), "{what}");
    }
    // The OFREP key of a 404 is the path segment, decoded.
    let (s, _, v) = f
        .call(post("/ofrep/v1/evaluate/flags/a%2Fb", r#"{"context":{}}"#))
        .await;
    assert_eq!((s, v["key"].as_str()), (StatusCode::NOT_FOUND, Some("a/b")));
    // JSON as text/plain on OFREP too.
    let (s, _, v) = f
        .call(
            Request::post("/ofrep/v1/evaluate/flags/checkout")
                .header("content-type", "text/plain;charset=UTF-8")
                .body(Body::from(
                    r#"{"context":{"targetingKey":"u","plan":"pro"}}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (s, v["value"].as_str()),
        (StatusCode::OK, Some("treatment"))
    );

    // Flipt-style families: (request, status, text in message).
    let flipt: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post(
                "/evaluate/v1/boolean",
                r#"{"flagKey":"checkout","entityId":"u"}"#,
            ),
            StatusCode::BAD_REQUEST,
            "flag type VARIANT_FLAG_TYPE invalid",
        ),
        (
            post("/evaluate/v1/boolean", ""),
            StatusCode::NOT_FOUND,
            "flag \"default\" not found",
        ),
        (
            with_header(
                post(
                    "/evaluate/v1/boolean",
                    r#"{"flagKey":"dark","entityId":"u"}"#,
                ),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "failed to get environment \"prod\" from context",
        ),
        (
            post("/evaluate/v1/batch", r#"{"requests":"x"}"#),
            StatusCode::BAD_REQUEST,
            "invalid values for key(s) in json body",
        ),
        (
            post(
                "/evaluate/v1/batch",
                r#"{"requests":[{"flagKey":"checkout","entityId":"u","context":{"n":1}}]}"#,
            ),
            StatusCode::BAD_REQUEST,
            "invalid values for key(s) in json body",
        ),
        (
            with_header(
                post(
                    "/evaluate/v1/batch",
                    r#"{"requests":[{"flagKey":"checkout","entityId":"u"}]}"#,
                ),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "failed to get environment \"prod\" from context",
        ),
        (
            with_header(
                get("/internal/v1/evaluation/snapshot/namespace/default"),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/client/v2/environments/prod/namespaces/default/snapshot"),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/client/v2/environments/default/namespaces/other/snapshot"),
            StatusCode::NOT_FOUND,
            "namespace \"other\" not found",
        ),
        (
            get("/client/v2/environments/prod/namespaces/default/stream"),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/api/v1/namespaces/other/flags"),
            StatusCode::NOT_FOUND,
            "namespace \"other\" not found",
        ),
        (
            with_header(
                get("/api/v1/namespaces/default/flags"),
                "x-flipt-environment",
                "prod",
            ),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/api/v1/environments/prod/namespaces"),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/api/v1/environments/default/namespaces/other/document"),
            StatusCode::NOT_FOUND,
            "namespace \"other\" not found",
        ),
        (
            post("/api/v1/sync?environment=prod", ""),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            get("/api/v1/sync/history?environment=prod"),
            StatusCode::NOT_FOUND,
            "environment \"prod\" not found",
        ),
        (
            Request::put("/evaluate/v1/variant")
                .body(Body::from("{}"))
                .unwrap(),
            StatusCode::NOT_IMPLEMENTED,
            "Method Not Allowed",
        ),
        (
            Request::delete("/api/v1/sync/status")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method DELETE not allowed",
        ),
    ];
    for (req, status, text) in flipt {
        let what = format!("{} {} {:?}", req.method(), req.uri(), req.headers());
        let (s, h, v) = f.call(req).await;
        assert_eq!(s, status, "{what}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains(text)),
            "{what}: {v}"
        );
        assert!(v["code"].is_i64(), "{what}: {v}");
        if s == StatusCode::METHOD_NOT_ALLOWED {
            assert!(
                h.contains_key("allow"),
                "{what}: 405 keeps the Allow header"
            );
        }
    }

    // A correctly signed webhook whose body is not JSON is a 400, not a 500.
    let body = r#"{"ref":"#;
    let req = Request::post("/api/v1/webhooks/github")
        .header("x-github-event", "push")
        .header("x-hub-signature-256", sign("s3", body))
        .body(Body::from(body))
        .unwrap();
    let (s, _, v) = f.call(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid JSON payload")),
        "{v}"
    );
    // After all of that the server still answers.
    assert_eq!(f.call(get("/ready")).await.0, StatusCode::OK);
}

/// Request ids are distinct, UUID-v4-shaped strings, and Flipt's `requestId` is the request's
/// own id (`x-request-id`) when the body names none.
#[tokio::test]
async fn request_ids_are_distinct_uuid_v4_strings() {
    let f = fixture().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        let (_, h, v) = f
            .call(post(
                "/evaluate/v1/boolean",
                r#"{"flagKey":"dark","entityId":"u"}"#,
            ))
            .await;
        let id = h["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(v["requestId"].as_str(), Some(id.as_str()), "{v}");
        let b = id.as_bytes();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(
            (b[8], b[13], b[14], b[18], b[23]),
            (b'-', b'-', b'4', b'-', b'-'),
            "{id}"
        );
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{id}");
        assert!(seen.insert(id.clone()), "duplicate {id}");
    }
    // a batch too; an id in the body wins
    let (_, h, v) = f
        .call(post("/evaluate/v1/batch", r#"{"requests":[]}"#))
        .await;
    assert_eq!(v["requestId"].as_str(), h["x-request-id"].to_str().ok());
    let (_, _, v) = f
        .call(post(
            "/evaluate/v1/variant",
            r#"{"flagKey":"checkout","entityId":"u","requestId":"mine"}"#,
        ))
        .await;
    assert_eq!(v["requestId"], "mine");
}

#[tokio::test]
async fn durations_have_no_float_noise_and_openapi_has_the_release_version() {
    let f = fixture().await;
    for _ in 0..20 {
        let (_, _, v) = f
            .call(post(
                "/evaluate/v1/boolean",
                r#"{"flagKey":"dark","entityId":"u1"}"#,
            ))
            .await;
        let text = v["requestDurationMillis"].to_string();
        let decimals = text.split('.').nth(1).map_or(0, str::len);
        assert!(decimals <= 3, "{text}");
    }
    let (_, _, v) = f
        .call(post(
            "/evaluate/v1/batch",
            r#"{"requests":[{"flagKey":"dark","entityId":"u1"}]}"#,
        ))
        .await;
    let text = v["requestDurationMillis"].to_string();
    assert!(text.split('.').nth(1).map_or(0, str::len) <= 3, "{text}");
    // every crate has the workspace's version, so this is what `switchyard --version` prints
    let version = env!("CARGO_PKG_VERSION");
    let (_, _, v) = f.call(get("/openapi.json")).await;
    assert_eq!(v["info"]["version"], version);
}

#[tokio::test]
async fn flag_listings_are_paginated_with_flipt_limit_and_page_token() {
    let f = fixture().await;
    let (s, _, v) = f
        .call(get("/api/v1/namespaces/default/flags?limit=2"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["totalCount"], 3);
    let keys = |v: &Value| -> Vec<String> {
        v["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&v), ["checkout", "dark"]);
    let token = v["nextPageToken"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let (_, _, v) = f
        .call(get(&format!(
            "/api/v1/namespaces/default/flags?limit=2&pageToken={token}"
        )))
        .await;
    assert_eq!(keys(&v), ["off"]);
    assert_eq!(v["nextPageToken"], "");
    let (_, _, v) = f.call(get("/api/v1/namespaces/default/flags")).await;
    assert_eq!(keys(&v).len(), 3, "no limit: every flag");
    for bad in ["limit=many", "pageToken=zz", "limit=-1"] {
        let (s, _, v) = f
            .call(get(&format!("/api/v1/namespaces/default/flags?{bad}")))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(v["code"], 3, "{bad}: {v}");
    }
}

#[tokio::test]
async fn client_snapshot_bodies_are_shared_until_the_namespace_changes() {
    let f = Fixture::new(ServerConfig::default()).await;
    let uri = "/client/v2/environments/default/namespaces/default/snapshot";
    async fn body(f: &Fixture, uri: &str) -> bytes::Bytes {
        let r = f.send(get(uri)).await;
        assert_eq!(r.headers()["content-type"], "application/json");
        r.into_body().collect().await.unwrap().to_bytes()
    }
    let a = body(&f, uri).await;
    let b = body(&f, uri).await;
    assert_eq!(a, b, "the same bytes for the same digest");
    let v: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["flags"].as_array().map(Vec::len), Some(3));
    let dark_on = FLAGS.replace(
        "type: BOOLEAN_FLAG_TYPE\n    enabled: false",
        "type: BOOLEAN_FLAG_TYPE\n    enabled: true",
    );
    assert_ne!(dark_on, FLAGS);
    f.rewrite(&dark_on).await;
    let c = body(&f, uri).await;
    assert_ne!(a, c);
    let v: Value = serde_json::from_slice(&c).unwrap();
    let dark = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "dark")
        .cloned()
        .unwrap();
    assert_eq!(dark["enabled"], true, "{dark}");
}

#[tokio::test]
async fn client_snapshots_are_sent_gzipped_to_clients_that_accept_it() {
    use std::io::Read as _;
    let f = fixture().await;
    for uri in [
        "/client/v2/environments/default/namespaces/default/snapshot",
        "/internal/v1/evaluation/snapshot/namespace/default",
    ] {
        let plain = f.send(get(uri)).await;
        assert!(!plain.headers().contains_key("content-encoding"));
        assert_eq!(plain.headers()["vary"], "accept-encoding");
        let etag = plain.headers()["etag"].clone();
        let plain = plain.into_body().collect().await.unwrap().to_bytes();
        for accept in ["gzip", "br, gzip;q=0.5", "*"] {
            let req = Request::get(uri)
                .header("accept-encoding", accept)
                .body(Body::empty())
                .unwrap();
            let r = f.send(req).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()["content-encoding"], "gzip", "{accept}");
            assert_eq!(r.headers()["etag"], etag, "one ETag for both encodings");
            let zipped = r.into_body().collect().await.unwrap().to_bytes();
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(&zipped[..])
                .read_to_end(&mut unzipped)
                .unwrap();
            assert_eq!(unzipped, plain, "{uri} with {accept}");
        }
        for refused in ["gzip;q=0", "br", "identity"] {
            let req = Request::get(uri)
                .header("accept-encoding", refused)
                .body(Body::empty())
                .unwrap();
            let r = f.send(req).await;
            assert!(!r.headers().contains_key("content-encoding"), "{refused}");
        }
        let req = Request::get(uri)
            .header("accept-encoding", "gzip")
            .header("if-none-match", etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(f.send(req).await.status(), StatusCode::NOT_MODIFIED);
    }
}

#[tokio::test]
async fn a_large_namespace_is_bulk_evaluated_and_listed_in_pages() {
    let mut text = String::from("version: \"1.4\"\nnamespace: default\nflags:\n");
    for i in 0..1500 {
        text.push_str(&format!(
            "  - {{key: f{i}, name: F{i}, type: BOOLEAN_FLAG_TYPE, enabled: true}}\n"
        ));
    }
    let f = Fixture::with_flags(ServerConfig::default(), &text).await;
    let (s, h, v) = f
        .call(post(
            "/ofrep/v1/evaluate/flags",
            r#"{"context":{"targetingKey":"u1"}}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["flags"].as_array().map(Vec::len), Some(1500));
    let etag = h["etag"].to_str().unwrap().to_string();
    let again = Request::post("/ofrep/v1/evaluate/flags")
        .header("if-none-match", etag)
        .body(Body::from(r#"{"context":{"targetingKey":"u1"}}"#))
        .unwrap();
    assert_eq!(f.call(again).await.0, StatusCode::NOT_MODIFIED);
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let (_, _, v) = f
            .call(get(&format!(
                "/api/v1/namespaces/default/flags?limit=400&pageToken={token}"
            )))
            .await;
        seen += v["flags"].as_array().map_or(0, Vec::len);
        token = v["nextPageToken"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, 1500);
}

#[tokio::test]
async fn the_status_lists_the_served_snapshots_warnings() {
    let flags = "flags:\n  - key: checkout\n    name: Checkout\n    enabled: true\n    variants:\n      - key: blue\n    rules:\n      - segment: pro\n        distributions: [{variant: blue, rollout: 100}]\nsegments:\n  - key: pro\n    name: Pro\n    match_type: ALL_MATCH_TYPE\n    constraints:\n      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}\n";
    let f = Fixture::with_flags(ServerConfig::default(), flags).await;
    let (s, _, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["syncStatus"], "success", "{v}");
    let w = &v["warnings"][0];
    assert_eq!(w["line"], 2, "{v}");
    assert_eq!(w["path"], "flags[0]");
    assert!(
        w["message"]
            .as_str()
            .is_some_and(|m| m.contains("has rules but no default variant")),
        "{v}"
    );
    // a snapshot without warnings has none
    f.rewrite(crate::support::FLAGS).await;
    let (_, _, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(v["warnings"], serde_json::json!([]), "{v}");
}

#[tokio::test]
async fn by_default_a_commit_only_extra_checks_refuse_is_rejected_with_its_errors_marked_extra() {
    let f = Fixture::new(ServerConfig::default()).await;
    let wide = "flags:\n  - key: wide\n    name: Wide\n    type: BOOLEAN_FLAG_TYPE\n    rollouts:\n      - threshold: {percentage: 150, value: true}\n";
    f.rewrite_unchecked(wide).await;
    let status = f.call(get("/api/v1/sync/status")).await.2;
    assert_eq!(status["syncStatus"], "error", "{status}");
    let e = &status["validationErrors"][0];
    assert_eq!(
        (&e["path"], &e["extra"]),
        (
            &json!("flags[0].rollouts[0].threshold.percentage"),
            &json!(true)
        ),
        "{status}"
    );
    // Flipt's own checks carry no `extra`.
    f.rewrite_unchecked("flags: {}\n").await;
    let status = f.call(get("/api/v1/sync/status")).await.2;
    assert_eq!(status["validationErrors"][0]["path"], "flags", "{status}");
    assert!(
        status["validationErrors"][0].get("extra").is_none(),
        "{status}"
    );
}

#[tokio::test]
async fn with_extra_checks_warn_a_commit_flipt_serves_is_served_with_warnings() {
    // A threshold of 150 %: refused by default, served as Flipt serves it under `warn`.
    let flags = "flags:\n  - key: wide\n    name: Wide\n    type: BOOLEAN_FLAG_TYPE\n    rollouts:\n      - threshold: {percentage: 150, value: true}\n";
    let f = Fixture::with_flags_checked(ServerConfig::default(), flags, ExtraChecks::Warn).await;
    let (s, _, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["syncStatus"], "success", "{v}");
    assert_eq!(v["flags"], 1, "{v}");
    let w = &v["warnings"][0];
    assert_eq!(
        (&w["line"], &w["path"], &w["message"]),
        (
            &json!(6),
            &json!("flags[0].rollouts[0].threshold.percentage"),
            &json!("invalid value 150 (out of bound <=100)")
        ),
        "{v}"
    );
    // Flipt's evaluation: above 100 % everyone is in.
    let (s, _, v) = f
        .call(
            Request::post("/evaluate/v1/boolean")
                .body(Body::from(
                    r#"{"flagKey":"wide","entityId":"anyone","context":{}}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["enabled"], true, "{v}");
    let (_, _, m) = f.call(get("/metrics")).await;
    let m = m.as_str().unwrap_or_default().to_string();
    assert!(
        m.contains("switchyard_snapshot_warnings{environment=\"default\"} 1\n"),
        "{m}"
    );
    // Fixed: no warning left.
    f.rewrite(&flags.replace("150", "100")).await;
    let (_, _, v) = f.call(get("/api/v1/sync/status")).await;
    assert_eq!(v["warnings"], json!([]), "{v}");
    let (_, _, m) = f.call(get("/metrics")).await;
    assert!(
        m.as_str()
            .unwrap_or_default()
            .contains("switchyard_snapshot_warnings{environment=\"default\"} 0\n")
    );
}

#[tokio::test]
async fn ofrep_bulk_pieces_follow_each_new_snapshot_of_the_namespace() {
    let f = Fixture::new(ServerConfig::default()).await;
    let bulk = || {
        Request::post("/ofrep/v1/evaluate/flags")
            .body(Body::from(
                r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#,
            ))
            .unwrap()
    };
    let first = f.send(bulk()).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "application/json");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"flags":[{"key":"checkout","reason":"TARGETING_MATCH","variant":"treatment","value":"treatment","metadata":{"segments":"pro","attachment":"{\"color\":\"blue\"}"}},{"key":"dark","reason":"TARGETING_MATCH","variant":"true","value":true}],"eventStreams":[{"type":"sse","endpoint":{"requestUri":"/ofrep/v1/_stream/default/default/events"}}]}"#
    );
    // a new commit: the cached pieces of the old digest must not answer
    f.rewrite(
        &FLAGS
            .replace("color: blue", "color: \"red \\\"dark\\\"\"")
            .replace("key: dark", "key: dim"),
    )
    .await;
    let again = Request::post("/ofrep/v1/evaluate/flags")
        .header("if-none-match", etag.clone())
        .body(Body::from(
            r#"{"context":{"targetingKey":"u1","plan":"pro"}}"#,
        ))
        .unwrap();
    let (s, h, v) = f.call(again).await;
    assert_eq!(s, StatusCode::OK, "the old ETag no longer matches");
    assert_ne!(h["etag"].to_str().unwrap(), etag);
    assert_eq!(
        v["flags"][0]["metadata"]["attachment"],
        "{\"color\":\"red \\\"dark\\\"\"}"
    );
    assert_eq!(v["flags"][1]["key"], "dim");
}

/// Break-glass requests that do not fit are refused with a 400 (or 404, 409) that says why, and
/// change nothing; a local directory (no Git) cannot be pinned.
#[tokio::test]
async fn break_glass_requests_that_do_not_fit_are_refused_with_the_reason() {
    let f = Fixture::new(ServerConfig::default()).await;
    let base = "/api/v1/environments/default";
    let cases: [(&str, &str, &str, StatusCode, &str); 9] = [
        (
            "POST",
            "overrides",
            r#"{"flag": "checkout", "variant": "nope", "reason": "r"}"#,
            StatusCode::BAD_REQUEST,
            "has no variant \"nope\" (its variants: control, treatment)",
        ),
        (
            "POST",
            "overrides",
            r#"{"flag": "chekout", "enabled": false, "reason": "r"}"#,
            StatusCode::BAD_REQUEST,
            "did you mean \"checkout\"?",
        ),
        (
            "POST",
            "overrides",
            r#"{"flag": "checkout", "enabled": false, "variant": "control", "reason": "r"}"#,
            StatusCode::BAD_REQUEST,
            "exactly one of enabled",
        ),
        (
            "POST",
            "overrides",
            r#"{"flag": "checkout", "enabled": false, "reason": "r", "duration": "18446744073709551615s18446744073709551615s"}"#,
            StatusCode::BAD_REQUEST,
            "is not a duration",
        ),
        (
            "POST",
            "overrides",
            r#"{"flag": "checkout", "enabled": false, "reason": "r", "duration": "25h"}"#,
            StatusCode::BAD_REQUEST,
            "at most 86400s",
        ),
        (
            "POST",
            "overrides",
            r#"{"flag": "checkout", "enabled": false, "reason": "r", "ttl": "1h"}"#,
            StatusCode::BAD_REQUEST,
            "unknown field `ttl`",
        ),
        (
            "POST",
            "pin",
            r#"{"commit": "abcdef0", "reason": "r"}"#,
            StatusCode::BAD_REQUEST,
            "was not validated",
        ),
        (
            "POST",
            "resume",
            r#"{"reason": "r"}"#,
            StatusCode::CONFLICT,
            "neither paused nor pinned",
        ),
        (
            "DELETE",
            "overrides/default/checkout",
            r#"{"reason": "r"}"#,
            StatusCode::NOT_FOUND,
            "no override of flag default/checkout",
        ),
    ];
    for (method, path, body, status, words) in cases {
        let req = Request::builder()
            .method(method)
            .uri(format!("{base}/{path}"))
            .body(Body::from(body.to_string()))
            .expect("request");
        let (s, _, v) = f.call(req).await;
        assert_eq!(s, status, "{method} {path} {body}: {v}");
        let message = v["message"].as_str().unwrap_or("");
        assert!(message.contains(words), "{method} {path} {body}: {v}");
    }
    let (_, _, state) = f.call(get(&format!("{base}/break-glass"))).await;
    assert_eq!(state["drift"], json!([]), "{state}");
    assert_eq!(state["paused"], Value::Null, "{state}");
    // And one that fits is served at once, with the revision's suffix where there is one.
    let (s, _, v) = f
        .call(post(
            &format!("{base}/overrides"),
            r#"{"flag": "dark", "enabled": true, "reason": "launch"}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["actor"], "anonymous");
    let (_, _, e) = f
        .call(post(
            "/evaluate/v1/boolean",
            r#"{"flagKey": "dark", "entityId": "u1"}"#,
        ))
        .await;
    assert_eq!(e["enabled"], true, "{e}");
}
