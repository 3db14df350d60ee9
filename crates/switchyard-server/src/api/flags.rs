//! Read APIs over the served flags: Flipt's `GET /api/v1/namespaces/{ns}/flags` and
//! `GET /api/v2/environments`, plus namespace listings and documents for the dashboard.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use switchyard_core::{Flag, export};

use crate::error::ApiError;
use crate::state::AppState;
use crate::time::now_rfc3339;

fn flag_json(ns: &str, f: &Flag, now: &str) -> Value {
    let variants: Vec<Value> = f
        .variants
        .iter()
        .map(|v| {
            json!({
                "id": format!("{}/{}", f.key, v.key), "flagKey": f.key, "key": v.key,
                "name": v.name.clone().unwrap_or_default(), "description": v.description.clone().unwrap_or_default(),
                "attachment": v.attachment.as_ref().map(ToString::to_string).unwrap_or_default(),
                "namespaceKey": ns, "createdAt": now, "updatedAt": now,
            })
        })
        .collect();
    let mut o = json!({
        "key": f.key, "name": f.name, "description": f.description.clone().unwrap_or_default(),
        "enabled": f.enabled, "type": f.flag_type.as_str(), "namespaceKey": ns,
        "variants": variants, "metadata": f.metadata, "createdAt": now, "updatedAt": now,
    });
    if let Some(d) = f.default_variant() {
        o["defaultVariant"] = json!({"id": format!("{}/{}", f.key, d.key), "key": d.key, "flagKey": f.key, "namespaceKey": ns});
    }
    o
}

/// `GET /api/v1/namespaces/{ns}/flags` (environment from `X-Flipt-Environment`).
pub(crate) async fn list_flags(
    State(state): State<AppState>,
    Path(ns): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let env_key = state.environment_key(None, &headers);
    let env = state.snapshot(&env_key)?;
    let namespace = env
        .namespace(&ns)
        .ok_or_else(|| ApiError::not_found(format!("namespace \"{ns}\" not found")))?;
    let now = now_rfc3339();
    let flags: Vec<Value> = namespace
        .flags
        .iter()
        .map(|f| flag_json(&ns, f, &now))
        .collect();
    Ok(Json(
        json!({"flags": flags, "nextPageToken": "", "totalCount": namespace.flags.len()}),
    ))
}

/// `GET /api/v2/environments`.
pub(crate) async fn environments(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .environments()
        .iter()
        .map(|e| {
            json!({
                "key": e.key, "name": e.key, "default": e.default,
                "configuration": {"ref": e.reference, "directory": e.directory, "remote": e.remote.clone().unwrap_or_default(), "storage": e.storage},
            })
        })
        .collect();
    Json(json!({"environments": list}))
}

/// `GET /api/v1/environments/{env}/namespaces`.
pub(crate) async fn namespaces(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let env = state.snapshot(&env_key)?;
    let list: Vec<Value> = env
        .namespaces
        .values()
        .map(|n| {
            json!({"key": n.key, "name": n.name.clone().unwrap_or_else(|| n.key.clone()), "description": n.description.clone().unwrap_or_default(),
                   "digest": n.digest, "flags": n.flags.len(), "segments": n.segments.len()})
        })
        .collect();
    Ok(Json(
        json!({"environment": env_key, "digest": env.digest, "namespaces": list}),
    ))
}

/// `GET /api/v1/environments/{env}/namespaces/{ns}/document`: the namespace as a Flipt document.
pub(crate) async fn document(
    State(state): State<AppState>,
    Path((env_key, ns)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let env = state.snapshot(&env_key)?;
    let namespace = env
        .namespace(&ns)
        .ok_or_else(|| ApiError::not_found(format!("namespace \"{ns}\" not found")))?;
    Ok(Json(export::document(namespace)))
}
