//! Break-glass under `/api/v1/environments/{env}/`: `pause`, `resume`, `pin`, `overrides`
//! (admin scope; the token's name is the actor, a reason is required), and
//! `GET break-glass` (read scope). On a relay every action goes to the upstream, whose
//! state the relays follow.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchyard_core::overlay::{FlagOverride, Forced};
use switchyard_sync::SyncHandle;
use switchyard_sync::break_glass::{Actor, BreakGlassError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::sync_json::{BreakGlassJson, DriftJson};

/// `{"reason": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: Option<String>,
}

/// `{"commit": "<sha>", "reason": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinBody {
    commit: Option<String>,
    reason: Option<String>,
}

/// `{"namespace": "default", "flag": "...", "enabled"|"variant"|"rollout": ..., "reason": "...",
/// "duration": "30m"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideBody {
    namespace: Option<String>,
    flag: Option<String>,
    enabled: Option<bool>,
    variant: Option<String>,
    rollout: Option<f32>,
    reason: Option<String>,
    duration: Option<String>,
}

/// `?reason=` (for `DELETE`, whose body clients often cannot send).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ReasonQuery {
    reason: Option<String>,
}

fn glass_error(e: BreakGlassError) -> ApiError {
    match e {
        BreakGlassError::UnknownEnvironment(_) | BreakGlassError::NoOverride { .. } => {
            ApiError::not_found(e.to_string())
        }
        BreakGlassError::NotHeld(_) | BreakGlassError::NothingServed(_) => ApiError {
            status: StatusCode::CONFLICT,
            code: 9,
            message: e.to_string(),
        },
        _ => ApiError::invalid(e.to_string()),
    }
}

/// The request's JSON body as `T`, with serde's words for what is wrong.
async fn json_body<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    body: axum::body::Body,
) -> Result<T, ApiError> {
    let bytes = crate::body::read(body, state).await?;
    let bytes = if bytes.trim_ascii().is_empty() {
        &b"{}"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("request body: {e}")))
}

fn actor(state: &AppState, headers: &axum::http::HeaderMap, reason: Option<String>) -> Actor {
    Actor {
        name: crate::auth::actor_name(state, headers),
        reason: reason.unwrap_or_default().trim().to_string(),
        at: SystemTime::now(),
    }
}

/// The environment's break-glass view, as every action answers.
fn view(state: &AppState, env: &str, status: StatusCode) -> Result<Response, ApiError> {
    let s = state
        .sync()
        .status(env)
        .ok_or_else(|| ApiError::not_found(format!("environment \"{env}\" not found")))?;
    let revision = state
        .sync()
        .environment(env)
        .and_then(|e| e.revision.clone());
    Ok((
        status,
        Json(BreakGlassJson::new(env, &s, revision.as_deref())),
    )
        .into_response())
}

/// What an action's handler works on: the upstream's answer on a relay (the action is
/// forwarded), else the request's headers and its body as `T`.
enum Incoming<T> {
    Forwarded(Response),
    Here(axum::http::HeaderMap, T),
}

async fn incoming<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    req: Request,
) -> Result<Incoming<T>, ApiError> {
    if let Some(upstream) = state.config().upstream.clone() {
        return Ok(Incoming::Forwarded(
            crate::relay::forward(state, &upstream, req).await,
        ));
    }
    let (parts, body) = req.into_parts();
    Ok(Incoming::Here(parts.headers, json_body(state, body).await?))
}

/// `GET /api/v1/environments/{env}/break-glass`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(env): Path<String>,
) -> Result<Response, ApiError> {
    view(&state, &env, StatusCode::OK)
}

/// `POST /api/v1/environments/{env}/pause`.
pub(crate) async fn pause(
    state: State<AppState>,
    env: Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    lever(state, env, req, SyncHandle::pause).await
}

/// `POST /api/v1/environments/{env}/resume`.
pub(crate) async fn resume(
    state: State<AppState>,
    env: Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    lever(state, env, req, SyncHandle::resume).await
}

/// Pause and resume: a reason in the body, one `SyncHandle` call, the environment's view back.
async fn lever(
    State(state): State<AppState>,
    Path(env): Path<String>,
    req: Request,
    pull: fn(&SyncHandle, &str, Actor) -> Result<(), BreakGlassError>,
) -> Result<Response, ApiError> {
    let (headers, b) = match incoming::<ReasonBody>(&state, req).await? {
        Incoming::Forwarded(r) => return Ok(r),
        Incoming::Here(h, b) => (h, b),
    };
    pull(state.sync(), &env, actor(&state, &headers, b.reason)).map_err(glass_error)?;
    view(&state, &env, StatusCode::OK)
}

/// `POST /api/v1/environments/{env}/pin`: compiles the commit on a blocking thread (10 s).
pub(crate) async fn pin(
    State(state): State<AppState>,
    Path(env): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (headers, b) = match incoming::<PinBody>(&state, req).await? {
        Incoming::Forwarded(r) => return Ok(r),
        Incoming::Here(h, b) => (h, b),
    };
    let commit = b.commit.filter(|c| !c.trim().is_empty()).ok_or_else(|| {
        ApiError::invalid(
            "commit is required: a commit the environment applied before (see /api/v1/sync/history)",
        )
    })?;
    let who = actor(&state, &headers, b.reason);
    let sync = state.sync_arc();
    let key = env.clone();
    let work = tokio::task::spawn_blocking(move || sync.pin(&key, &commit, who));
    match tokio::time::timeout(Duration::from_secs(10), work).await {
        Err(_) => {
            return Err(ApiError::not_ready(
                "pinning took longer than 10 s (reading the commit); the pin may still apply: see /api/v1/environments/{env}/break-glass",
            ));
        }
        Ok(Err(e)) => return Err(ApiError::internal(format!("pinning: {e}"))),
        Ok(Ok(r)) => r.map_err(glass_error)?,
    };
    view(&state, &env, StatusCode::OK)
}

/// `POST /api/v1/environments/{env}/overrides`: 201 with the override.
pub(crate) async fn set_override(
    State(state): State<AppState>,
    Path(env): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (headers, b) = match incoming::<OverrideBody>(&state, req).await? {
        Incoming::Forwarded(r) => return Ok(r),
        Incoming::Here(h, b) => (h, b),
    };
    let flag = b
        .flag
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::invalid("flag is required: the key of the flag to override"))?;
    let forced = match (b.enabled, b.variant, b.rollout) {
        (Some(e), None, None) => Forced::Enabled(e),
        (None, Some(v), None) => Forced::Variant(v),
        (None, None, Some(p)) => Forced::Rollout(p),
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of enabled (true or false), variant (a variant key) or rollout (a percentage of a boolean flag)",
            ));
        }
    };
    let lifetime = match b.duration.as_deref() {
        None | Some("") => None,
        Some(d) => Some(switchyard_sync::config::parse_duration(d).ok_or_else(|| {
            ApiError::invalid(format!(
                "duration {d:?} is not a duration: write it like 30m, 1h or 1h30m"
            ))
        })?),
    };
    let o = FlagOverride {
        namespace: b
            .namespace
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into()),
        flag,
        forced,
    };
    let who = actor(&state, &headers, b.reason);
    let set = state
        .sync()
        .set_override(&env, o, lifetime, who)
        .map_err(glass_error)?;
    Ok((StatusCode::CREATED, Json(DriftJson::of_override(&set))).into_response())
}

/// `DELETE /api/v1/environments/{env}/overrides/{namespace}/{flag}[?reason=]` (or the reason
/// in a JSON body).
pub(crate) async fn clear_override(
    State(state): State<AppState>,
    Path((env, namespace, flag)): Path<(String, String, String)>,
    Query(q): Query<ReasonQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let (headers, b) = match incoming::<ReasonBody>(&state, req).await? {
        Incoming::Forwarded(r) => return Ok(r),
        Incoming::Here(h, b) => (h, b),
    };
    let who = actor(&state, &headers, b.reason.or(q.reason));
    state
        .sync()
        .clear_override(&env, &namespace, &flag, who)
        .map_err(glass_error)?;
    view(&state, &env, StatusCode::OK)
}
