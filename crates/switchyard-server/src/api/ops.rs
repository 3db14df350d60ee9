//! Operations: health, readiness, Prometheus metrics and the OpenAPI document.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::metrics::EnvGauges;
use crate::state::AppState;

/// `GET /health`: the process answers (a constant body: nothing is built per request).
pub(crate) async fn health() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"SERVING"}"#,
    )
        .into_response()
}

/// `/ready`'s body, in this field order.
#[derive(Serialize)]
struct Readiness<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<BTreeMap<&'a str, &'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// `GET /ready`: 200 once every environment serves a snapshot from a valid commit; until then
/// 503 with each waiting environment's reason.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    if state.draining() {
        let body = Readiness {
            status: "NOT_READY",
            waiting: Some(Vec::new()),
            reasons: Some(BTreeMap::new()),
            message: Some("shutting down".to_string()),
        };
        let resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        return crate::error::with_cause(resp, "not ready: shutting down");
    }
    let failed: Vec<(&str, String)> = state
        .sync()
        .environment_keys()
        .filter_map(|k| state.readiness(k).err().map(|r| (k, r)))
        .collect();
    if failed.is_empty() {
        let body = Readiness {
            status: "READY",
            waiting: None,
            reasons: None,
            message: None,
        };
        return (StatusCode::OK, Json(body)).into_response();
    }
    let reasons: BTreeMap<&str, &str> = failed.iter().map(|(k, r)| (*k, r.as_str())).collect();
    let message = reasons.values().copied().collect::<Vec<_>>().join("; ");
    let cause = format!("not ready: {message}");
    let body = Readiness {
        status: "NOT_READY",
        waiting: Some(reasons.keys().copied().collect()),
        message: Some(message),
        reasons: Some(reasons),
    };
    let resp = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        Json(body),
    )
        .into_response();
    crate::error::with_cause(resp, &cause)
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let statuses = state.sync().statuses();
    let envs: Vec<EnvGauges> = statuses
        .iter()
        .map(|(k, s)| {
            let env = state.sync().environment(k);
            EnvGauges {
                environment: k.clone(),
                flags: env.as_ref().map_or(0, |e| e.flag_count()),
                consecutive_failures: s.consecutive_failures,
                warnings: env.as_ref().map_or(0, |e| e.warnings().len()),
                paused: s.paused.is_some(),
                pinned: s.pinned.is_some(),
                overrides: s.drift.len(),
            }
        })
        .collect();
    let mut body = state.metrics().render(&envs);
    crate::notifier::render_metrics(state.outboxes(), &mut body);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::body(),
    )
        .into_response()
}
