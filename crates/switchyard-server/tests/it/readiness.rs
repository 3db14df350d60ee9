//! An environment whose first commit was rejected: `/health` answers, `/ready` and every
//! evaluation say why nothing is served (503, `PROVIDER_NOT_READY` for OFREP), until a valid
//! commit arrives.

use axum::http::StatusCode;
use serde_json::Value;
use switchyard_server::ServerConfig;

use crate::support::{FLAGS, Fixture, get, post};

const BROKEN: &str = "version: \"1.4\"\nnamespace: default\nflags:\n  - key: dark\n    name: Dark\n    type: BOOLEAN_FLAG_TYPE\n    enabled: maybe\n";

fn says_why(v: &Value, field: &str) {
    let m = v[field].as_str().unwrap_or_default();
    assert!(
        m.contains("environment \"default\" has no valid snapshot yet")
            && m.contains("rejected")
            && m.contains("features.yaml"),
        "{field}: {v}"
    );
}

#[tokio::test]
async fn a_rejected_first_commit_is_named_until_a_valid_one_is_served() {
    let f = Fixture::with_flags(ServerConfig::default(), BROKEN).await;
    let (s, _, _) = f.call(get("/health")).await;
    assert_eq!(s, StatusCode::OK);

    let (s, h, v) = f.call(get("/ready")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.contains_key("retry-after"));
    assert_eq!(v["waiting"], serde_json::json!(["default"]));
    says_why(&v["reasons"], "default");

    let eval = r#"{"flagKey":"dark","entityId":"u1"}"#;
    for uri in ["/evaluate/v1/boolean", "/evaluate/v1/variant"] {
        let (s, h, v) = f.call(post(uri, eval)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert!(h.contains_key("retry-after"));
        assert_eq!(v["code"], 14, "{v}");
        says_why(&v, "message");
    }
    let (s, _, v) = f
        .call(post(
            "/evaluate/v1/batch",
            r#"{"requests":[{"flagKey":"dark","entityId":"u1"}]}"#,
        ))
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");

    let (s, _, v) = f.call(post("/ofrep/v1/evaluate/flags/dark", "{}")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["key"], "dark");
    assert_eq!(v["errorCode"], "PROVIDER_NOT_READY");
    says_why(&v, "errorDetails");

    let (s, _, v) = f.call(post("/ofrep/v1/evaluate/flags", "{}")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["errorCode"], "PROVIDER_NOT_READY");
    says_why(&v, "errorDetails");

    let (s, _, v) = f
        .call(get(
            "/client/v2/environments/default/namespaces/default/snapshot",
        ))
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    says_why(&v, "message");

    f.rewrite(FLAGS).await;
    assert_eq!(f.call(get("/ready")).await.0, StatusCode::OK);
    let (s, _, v) = f.call(post("/evaluate/v1/boolean", eval)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _, _) = f.call(post("/ofrep/v1/evaluate/flags/dark", "{}")).await;
    assert_eq!(s, StatusCode::OK);

    // a later rejected commit does not take readiness back: the last good one keeps serving
    f.rewrite_unchecked(BROKEN).await;
    let (s, _, _) = f.call(post("/evaluate/v1/boolean", eval)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(f.call(get("/ready")).await.0, StatusCode::OK);
}
