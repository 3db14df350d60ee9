//! Read APIs over the served flags: Flipt's `GET /api/v1/namespaces/{ns}/flags` and
//! `GET /api/v2/environments`, plus namespace listings and documents for the dashboard.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use switchyard_core::{Flag, export};

use crate::error::ApiError;
use crate::state::AppState;
use crate::time::now_rfc3339;

/// A variant in Flipt's `ListFlags` answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantJson<'a> {
    id: String,
    flag_key: &'a str,
    key: &'a str,
    name: &'a str,
    description: &'a str,
    attachment: &'a str,
    namespace_key: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
}

/// A flag's default variant reference.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DefaultVariantJson<'a> {
    id: String,
    key: &'a str,
    flag_key: &'a str,
    namespace_key: &'a str,
}

/// A flag in Flipt's `ListFlags` answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagJson<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    enabled: bool,
    r#type: &'static str,
    namespace_key: &'a str,
    variants: Vec<VariantJson<'a>>,
    metadata: &'a serde_json::Map<String, Value>,
    created_at: &'a str,
    updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_variant: Option<DefaultVariantJson<'a>>,
}

fn flag_json<'a>(ns: &'a str, f: &'a Flag, now: &'a str) -> FlagJson<'a> {
    let variants = f
        .variants
        .iter()
        .map(|v| VariantJson {
            id: format!("{}/{}", f.key, v.key),
            flag_key: &f.key,
            key: &v.key,
            name: v.name.as_deref().unwrap_or_default(),
            description: v.description.as_deref().unwrap_or_default(),
            attachment: v
                .attachment
                .as_ref()
                .map_or("", |_| v.attachment_json.as_str()),
            namespace_key: ns,
            created_at: now,
            updated_at: now,
        })
        .collect();
    FlagJson {
        key: &f.key,
        name: &f.name,
        description: f.description.as_deref().unwrap_or_default(),
        enabled: f.enabled,
        r#type: f.flag_type.as_str(),
        namespace_key: ns,
        variants,
        metadata: &f.metadata,
        created_at: now,
        updated_at: now,
        default_variant: f.default_variant().map(|d| DefaultVariantJson {
            id: format!("{}/{}", f.key, d.key),
            key: &d.key,
            flag_key: &f.key,
            namespace_key: ns,
        }),
    }
}

/// The end of a `ListFlags` page.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageTail {
    next_page_token: String,
    total_count: usize,
}

/// An environment in Flipt's `ListEnvironmentsResponse`.
#[derive(Serialize)]
struct EnvironmentJson<'a> {
    key: &'a str,
    name: &'a str,
    default: bool,
    configuration: ConfigurationJson<'a>,
}

/// What an environment follows.
#[derive(Serialize)]
struct ConfigurationJson<'a> {
    r#ref: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    directory: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<String>,
}

/// A namespace in the dashboard's listing.
#[derive(Serialize)]
struct NamespaceJson<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    digest: &'a str,
    flags: usize,
    segments: usize,
}

/// The dashboard's namespace listing.
#[derive(Serialize)]
struct NamespacesJson<'a> {
    environment: &'a str,
    digest: &'a str,
    namespaces: Vec<NamespaceJson<'a>>,
}

/// Flags per page at most (`limit` is capped to it).
const MAX_PAGE: usize = 10_000;

/// `GET /api/v1/namespaces/{ns}/flags` (environment from `X-Flipt-Environment`), paginated as
/// Flipt does: `limit` (all flags when absent or 0, at most [`MAX_PAGE`]), `pageToken` from the
/// previous page's `nextPageToken` (or `offset`); the JSON is built on a blocking thread.
pub(crate) async fn list_flags(
    State(state): State<AppState>,
    Path(ns): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let number = |name: &str| -> Result<usize, ApiError> {
        query
            .get(name)
            .filter(|v| !v.is_empty())
            .map_or(Ok(0), |v| {
                v.parse().map_err(|_| {
                    ApiError::invalid(format!("{name} must be a non-negative integer, got {v:?}"))
                })
            })
    };
    let limit = number("limit")?;
    let start = match query
        .get("pageToken")
        .or_else(|| query.get("page_token"))
        .filter(|t| !t.is_empty())
    {
        Some(token) => token.parse::<usize>().map_err(|_| {
            ApiError::invalid(format!(
                "pageToken {token:?} is not one this server issued (use nextPageToken)"
            ))
        })?,
        None => number("offset")?,
    };
    let env_key = state.environment_key(None, &headers);
    let env = state.snapshot(&env_key)?;
    if env.namespace(&ns).is_none() {
        return Err(ApiError::not_found(format!("namespace \"{ns}\" not found")));
    }
    let mut commit = HeaderMap::new();
    state.commit_headers().set(&mut commit, &env_key, &env);
    let body = tokio::task::spawn_blocking(move || {
        let namespace = env.namespace(&ns)?;
        let total = namespace.flags.len();
        let start = start.min(total);
        let take = if limit == 0 {
            total
        } else {
            limit.min(MAX_PAGE)
        };
        let end = start.saturating_add(take).min(total);
        let now = now_rfc3339();
        // one flag's JSON tree at a time, not the whole page's
        let mut out = Vec::with_capacity(64 + (end - start) * 512);
        out.extend_from_slice(b"{\"flags\":[");
        for (i, f) in namespace.flags[start..end].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &flag_json(&ns, f, &now)).ok()?;
        }
        let next = if end < total {
            end.to_string()
        } else {
            String::new()
        };
        let tail = serde_json::to_string(&PageTail {
            next_page_token: next,
            total_count: total,
        })
        .ok()?;
        out.extend_from_slice(b"],");
        out.extend_from_slice(tail.trim_start_matches('{').as_bytes());
        Some(out)
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| ApiError::internal("building the flag list failed"))?;
    Ok((
        commit,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from(body),
    )
        .into_response())
}

/// `GET /api/v2/environments`, in the shape of Flipt's `ListEnvironmentsResponse`: the optional
/// `directory` and `remote` only when set.
pub(crate) async fn environments(State(state): State<AppState>) -> Response {
    #[derive(Serialize)]
    struct List<'a> {
        environments: Vec<EnvironmentJson<'a>>,
    }
    let environments = state
        .environments()
        .iter()
        .map(|e| EnvironmentJson {
            key: &e.key,
            name: &e.key,
            default: e.default,
            configuration: ConfigurationJson {
                r#ref: e.reference_label(),
                directory: &e.directory,
                remote: e.remote(),
            },
        })
        .collect();
    Json(List { environments }).into_response()
}

/// `GET /api/v1/environments/{env}/namespaces`.
pub(crate) async fn namespaces(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> Result<Response, ApiError> {
    let env = state.snapshot(&env_key)?;
    let mut commit = HeaderMap::new();
    state.commit_headers().set(&mut commit, &env_key, &env);
    let namespaces = env
        .namespaces
        .values()
        .map(|n| NamespaceJson {
            key: &n.key,
            name: n.name.as_deref().unwrap_or(&n.key),
            description: n.description.as_deref().unwrap_or_default(),
            digest: &n.digest,
            flags: n.flags.len(),
            segments: n.segments.len(),
        })
        .collect();
    let body = NamespacesJson {
        environment: &env_key,
        digest: &env.digest,
        namespaces,
    };
    Ok((commit, Json(body)).into_response())
}

/// `GET /api/v1/environments/{env}/namespaces/{ns}/document`: the namespace as a Flipt document,
/// built on a blocking thread (a large namespace is megabytes of JSON).
pub(crate) async fn document(
    State(state): State<AppState>,
    Path((env_key, ns)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let env = state.snapshot(&env_key)?;
    if env.namespace(&ns).is_none() {
        return Err(ApiError::not_found(format!("namespace \"{ns}\" not found")));
    }
    let mut commit = HeaderMap::new();
    state.commit_headers().set(&mut commit, &env_key, &env);
    let body = tokio::task::spawn_blocking(move || {
        let namespace = env.namespace(&ns)?;
        serde_json::to_vec(&export::document(namespace)).ok()
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| ApiError::internal("building the document failed"))?;
    Ok((
        commit,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from(body),
    )
        .into_response())
}
