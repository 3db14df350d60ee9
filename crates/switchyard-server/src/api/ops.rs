//! Operations: health, readiness, Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_sync::SyncState;

use crate::state::AppState;

/// `GET /health`: the process answers.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "SERVING"}))
}

/// `GET /ready`: 200 once every environment serves a snapshot from a valid commit.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let statuses = state.sync().statuses();
    let waiting: Vec<&String> = statuses
        .iter()
        .filter(|(_, s)| s.last_success_time.is_none() && !(s.sync_status == SyncState::Success))
        .map(|(k, _)| k)
        .collect();
    if waiting.is_empty() {
        (StatusCode::OK, Json(json!({"status": "READY"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "NOT_READY", "waiting": waiting})),
        )
            .into_response()
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let statuses = state.sync().statuses();
    let flags: Vec<(String, usize, u32)> = statuses
        .iter()
        .map(|(k, s)| {
            (
                k.clone(),
                state.sync().environment(k).map_or(0, |e| e.flag_count()),
                s.consecutive_failures,
            )
        })
        .collect();
    let body = state.metrics().render(&flags);
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
