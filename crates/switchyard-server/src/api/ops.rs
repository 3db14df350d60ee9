//! Operations: health, readiness, Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

/// `GET /ready`: 200 once every environment serves a snapshot from a valid commit; until then
/// 503 with each waiting environment's reason.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    if state.draining() {
        let resp = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "NOT_READY", "waiting": [], "reasons": {}, "message": "shutting down"})),
        )
            .into_response();
        return crate::error::with_cause(resp, "not ready: shutting down");
    }
    let reasons: serde_json::Map<String, serde_json::Value> = state
        .sync()
        .environment_keys()
        .filter_map(|k| state.readiness(k).err().map(|r| (k.to_string(), json!(r))))
        .collect();
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({"status": "READY"}))).into_response()
    } else {
        let waiting: Vec<&String> = reasons.keys().collect();
        let message = reasons
            .values()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let resp = (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            Json(json!({"status": "NOT_READY", "waiting": waiting, "reasons": reasons, "message": message})),
        )
            .into_response();
        crate::error::with_cause(resp, &format!("not ready: {message}"))
    }
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
            }
        })
        .collect();
    let body = state.metrics().render(&envs);
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
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
