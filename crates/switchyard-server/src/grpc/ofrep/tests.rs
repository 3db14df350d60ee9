//! `OFREPService` against the HTTP OFREP API on the same state: every answer of `EvaluateFlag`
//! and `EvaluateBulk`, written as JSON the way Flipt's gateway writes the message, equals the
//! HTTP body; errors have the gRPC code the HTTP status stands for, the same message, and
//! Flipt's `ofrep-flag-key` detail.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::Request as HttpRequest;
use http_body_util::BodyExt as _;
use prost::Message as _;
use serde_json::{Value as Json, json};
use tonic::Request;
use tower::ServiceExt as _;

use super::pb::ofrep_service_server::OfrepService as _;
use super::*;
use crate::fixtures::state;

/// A protobuf `Value` as JSON (protojson's mapping).
fn value_json(v: &Value) -> Json {
    match &v.kind {
        Some(Kind::StringValue(s)) => json!(s),
        Some(Kind::BoolValue(b)) => json!(b),
        Some(Kind::NumberValue(n)) => json!(n),
        Some(Kind::StructValue(s)) => struct_json(s),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(value_json).collect()),
        Some(Kind::NullValue(_)) | None => Json::Null,
    }
}

fn struct_json(s: &Struct) -> Json {
    Json::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect(),
    )
}

/// An answer as Flipt's gateway writes it (camelCase, the enum's name, no unset message).
fn answer_json(r: &pb::EvaluationResponse) -> Json {
    let reason = pb::EvaluateReason::try_from(r.reason)
        .map(|r| r.as_str_name())
        .unwrap_or("?");
    let mut out = json!({"key": r.key, "reason": reason, "variant": r.variant});
    if let Some(v) = &r.value {
        out["value"] = value_json(v);
    }
    if let Some(m) = &r.metadata {
        out["metadata"] = struct_json(m);
    }
    out
}

fn bulk_json(r: &pb::BulkEvaluationResponse) -> Json {
    let streams: Vec<Json> = r
        .event_streams
        .iter()
        .map(|s| {
            let mut endpoint = json!({});
            if let Some(e) = &s.endpoint {
                endpoint["requestUri"] = json!(e.request_uri);
                if let Some(o) = &e.origin {
                    endpoint["origin"] = json!(o);
                }
            }
            json!({"type": s.r#type, "endpoint": endpoint})
        })
        .collect();
    json!({"flags": r.flags.iter().map(answer_json).collect::<Vec<_>>(), "eventStreams": streams})
}

/// The HTTP answer: status and body.
async fn http(state: &AppState, path: &str, ctx: &Json, ns: Option<&str>) -> (u16, Json) {
    let mut req = HttpRequest::post(path).header("content-type", "application/json");
    if let Some(ns) = ns {
        req = req.header("x-flipt-namespace", ns);
    }
    let req = match req.body(Body::from(json!({ "context": ctx }).to_string())) {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    };
    let resp = match crate::app(state.clone()).oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let status = resp.status().as_u16();
    let bytes = match resp.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => panic!("body: {e}"),
    };
    let body = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
    (status, body)
}

fn grpc_request<T>(message: T, ns: Option<&str>) -> Request<T> {
    let mut req = Request::new(message);
    if let Some(ns) = ns.and_then(|n| n.parse().ok()) {
        req.metadata_mut().insert("x-flipt-namespace", ns);
    }
    req
}

fn context(ctx: &Json) -> HashMap<String, String> {
    ctx.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The `ofrep-flag-key` detail of a status, as grpc-go's `status.Details` reads it.
fn detail_key(st: &Status) -> Option<String> {
    if st.details().is_empty() {
        return None;
    }
    let rpc = RpcStatus::decode(st.details()).ok()?;
    assert_eq!(rpc.code, st.code() as i32);
    assert_eq!(rpc.message, st.message());
    let any = rpc.details.first()?;
    assert_eq!(any.type_url, "type.googleapis.com/google.protobuf.Struct");
    let s = Struct::decode(any.value.as_slice()).ok()?;
    match s.fields.get(FLAG_KEY_DETAIL)?.kind.as_ref()? {
        Kind::StringValue(k) => Some(k.clone()),
        _ => None,
    }
}

/// The gRPC code an HTTP OFREP error status stands for.
fn code_of(http: u16) -> tonic::Code {
    match http {
        400 => tonic::Code::InvalidArgument,
        404 => tonic::Code::NotFound,
        _ => tonic::Code::Internal,
    }
}

fn contexts() -> Vec<Json> {
    vec![
        json!({"targetingKey": "u1", "plan": "pro"}),
        json!({"targetingKey": "u2", "plan": "free"}),
        json!({"plan": "pro"}),
        json!({"targetingKey": ""}),
        json!({}),
    ]
}

#[tokio::test]
async fn evaluate_flag_answers_what_http_answers() {
    let state = state();
    let svc = Ofrep::new(state.clone());
    let mut reasons = std::collections::BTreeSet::new();
    let cases = [
        (None, "checkout"),
        (None, "dark"),
        (None, "beta"),
        (None, "off"),
        (None, "bare"),
        (None, "nope"),
        (Some("payments"), "fast"),
        (Some("payments"), "checkout"),
        (Some("nowhere"), "checkout"),
    ];
    for (ns, key) in cases {
        for ctx in contexts() {
            let (code, want) =
                http(&state, &format!("/ofrep/v1/evaluate/flags/{key}"), &ctx, ns).await;
            let req = pb::EvaluateFlagRequest {
                key: key.to_string(),
                context: context(&ctx),
            };
            match svc.evaluate_flag(grpc_request(req, ns)).await {
                Ok(r) => {
                    assert_eq!(code, 200, "{ns:?}/{key} {ctx}: HTTP {code} {want}");
                    let got = answer_json(r.get_ref());
                    assert_eq!(got, want, "{ns:?}/{key} {ctx}");
                    reasons.insert(got["reason"].to_string());
                }
                Err(st) => {
                    assert_eq!(
                        st.code(),
                        code_of(code),
                        "{ns:?}/{key} {ctx}: {st:?} vs {want}"
                    );
                    assert_eq!(Some(st.message()), want["errorDetails"].as_str());
                    assert_eq!(detail_key(&st).as_deref(), Some(key), "{st:?}");
                    assert_eq!(want["key"], json!(key));
                    assert_eq!(want["errorCode"], json!("FLAG_NOT_FOUND"));
                }
            }
        }
    }
    // targeting match, default, disabled: all compared
    for r in ["\"TARGETING_MATCH\"", "\"DEFAULT\"", "\"DISABLED\""] {
        assert!(reasons.contains(r), "{reasons:?}");
    }
}

#[tokio::test]
async fn evaluate_flag_errors_are_flipts() {
    let svc = Ofrep::new(state());
    let missing = svc
        .evaluate_flag(Request::new(pb::EvaluateFlagRequest::default()))
        .await
        .err();
    let missing = missing.map(|s| (s.code(), s.message().to_string(), detail_key(&s)));
    assert_eq!(
        missing,
        Some((
            tonic::Code::InvalidArgument,
            "flag key was not provided".to_string(),
            None
        ))
    );
    let mut req = Request::new(pb::EvaluateFlagRequest {
        key: "checkout".into(),
        context: HashMap::new(),
    });
    if let Ok(v) = "staging".parse() {
        req.metadata_mut().insert("x-flipt-environment", v);
    }
    let unknown_env = svc.evaluate_flag(req).await.err().map(|s| s.code());
    assert_eq!(unknown_env, Some(tonic::Code::NotFound));
}

#[tokio::test]
async fn evaluate_bulk_answers_what_http_answers() {
    let state = state();
    let svc = Ofrep::new(state.clone());
    let mut compared = 0;
    for ns in [None, Some("payments"), Some("nowhere")] {
        let mut ctxs = contexts();
        ctxs.push(
            json!({"targetingKey": "u1", "plan": "pro", "flags": "off,checkout,dark,checkout"}),
        );
        ctxs.push(json!({"targetingKey": "u1", "flags": "checkout,nope"}));
        ctxs.push(json!({"targetingKey": "u1", "flags": "checkout,,dark"}));
        for ctx in ctxs {
            let (code, mut want) = http(&state, "/ofrep/v1/evaluate/flags", &ctx, ns).await;
            let req = pb::EvaluateBulkRequest {
                context: context(&ctx),
            };
            match svc.evaluate_bulk(grpc_request(req, ns)).await {
                Ok(r) => {
                    assert_eq!(code, 200, "{ns:?} {ctx}: HTTP {code} {want}");
                    // the flag set's metadata has no field in Flipt's message
                    if let Some(m) = want.as_object_mut() {
                        m.remove("metadata");
                    }
                    assert_eq!(bulk_json(r.get_ref()), want, "{ns:?} {ctx}");
                    compared += r.get_ref().flags.len();
                }
                Err(st) => {
                    assert_eq!(st.code(), code_of(code), "{ns:?} {ctx}: {st:?} vs {want}");
                    assert_eq!(Some(st.message()), want["errorDetails"].as_str());
                    assert_eq!(detail_key(&st), want["key"].as_str().map(str::to_string));
                    assert_ne!(code, 200);
                }
            }
        }
    }
    assert!(compared > 20, "only {compared} flags compared");
}
