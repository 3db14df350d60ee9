//! OpenFeature Remote Evaluation Protocol: single and bulk evaluation, bulk ETags, and the SSE
//! stream that tells static-context clients to refetch.
//!
//! Follows Flipt v2's OFREP bridge (reference §4.3): namespace from `X-Flipt-Namespace`,
//! environment from `X-Flipt-Environment`, entity id from `context.targetingKey` (a random UUID
//! when absent, as Flipt does), variant flags answer their variant key as a string value, boolean
//! flags a bool with variant `"true"`/`"false"`. Unlike Flipt, context values of any JSON type are
//! accepted (numbers and booleans become their JSON text), and the bulk response's stream URL
//! carries the configured public origin (`ServerConfig::public_url`) when there is one.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::{Map, Value, json};
use switchyard_core::{Environment, Evaluation, FlagType, Reason, evaluate};

use crate::body;
use crate::error::OfrepError;
use crate::state::AppState;

fn namespace(headers: &HeaderMap) -> String {
    headers
        .get("x-flipt-namespace")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string()
}

fn reason(r: Reason) -> &'static str {
    match r {
        Reason::FlagDisabled => "DISABLED",
        Reason::Match => "TARGETING_MATCH",
        Reason::Default => "DEFAULT",
        Reason::Unknown => "UNKNOWN",
    }
}

/// The evaluation context as Flipt's string map, and the entity id.
fn context(
    body: &[u8],
    key: Option<&str>,
) -> Result<(HashMap<String, String>, String), OfrepError> {
    let mut parsed: Map<String, Value> =
        body::parse(body).map_err(|e| OfrepError::bad_request(key, "PARSE_ERROR", e))?;
    let ctx = match parsed.remove("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(OfrepError::bad_request(
                key,
                "INVALID_CONTEXT",
                format!("context must be an object, found {other}"),
            ));
        }
    };
    let mut out = HashMap::with_capacity(ctx.len());
    for (k, v) in ctx {
        let s = match v {
            Value::String(s) => s,
            Value::Null => continue,
            other => other.to_string(),
        };
        out.insert(k, s);
    }
    let entity = out
        .get("targetingKey")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    Ok((out, entity))
}

fn success(key: &str, eval: &Evaluation<'_>) -> Value {
    match eval {
        Evaluation::Variant(v) => {
            let mut metadata = Map::new();
            if !v.segment_keys.is_empty() {
                metadata.insert("segments".into(), json!(v.segment_keys.join(",")));
            }
            let attachment = v.variant_attachment();
            if !attachment.is_empty() && attachment != "null" {
                metadata.insert("attachment".into(), json!(attachment));
            }
            json!({"key": key, "reason": reason(v.reason), "variant": v.variant_key(), "value": v.variant_key(), "metadata": metadata})
        }
        Evaluation::Boolean(b) => {
            json!({"key": key, "reason": reason(b.reason), "variant": if b.enabled {"true"} else {"false"}, "value": b.enabled, "metadata": {}})
        }
    }
}

/// `POST /ofrep/v1/evaluate/flags/{key}`.
pub(crate) async fn evaluate_flag(
    State(state): State<AppState>,
    Path(key): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let bytes = match body::read(req, &state).await {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(Some(&key), e).into_response(),
    };
    match evaluate_one(&state, &headers, &key, &bytes) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn evaluate_one(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    bytes: &[u8],
) -> Result<Value, OfrepError> {
    let started = std::time::Instant::now();
    if key.is_empty() {
        return Err(OfrepError::bad_request(
            None,
            "GENERAL",
            "flag key was not provided",
        ));
    }
    let (ctx, entity) = context(bytes, Some(key))?;
    let env_key = state.environment_key(None, headers);
    let env = state
        .snapshot(&env_key)
        .map_err(|e| OfrepError::from_api(Some(key), e))?;
    let ns = namespace(headers);
    let flag = env
        .find_flag(&ns, key)
        .map_err(|_| OfrepError::not_found(key, format!("flag was not found {key}")))?;
    let eval = evaluate(flag, &entity, &ctx);
    let r = match &eval {
        Evaluation::Variant(v) => v.reason,
        Evaluation::Boolean(b) => b.reason,
    };
    state
        .metrics()
        .evaluation(&env_key, &ns, key, r.as_str(), started.elapsed());
    Ok(success(key, &eval))
}

/// Whether an `If-None-Match` list matches `etag` (weak comparison, `*` matches anything).
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    let want = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || strip(t) == want
            })
        })
}

/// `POST /ofrep/v1/evaluate/flags`: every boolean flag and every enabled variant flag (or the
/// keys listed in `context.flags`), with an ETag over the evaluated results.
pub(crate) async fn evaluate_flags(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let bytes = match body::read(req, &state).await {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(None, e).into_response(),
    };
    let (ctx, entity) = match context(&bytes, None) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let env_key = state.environment_key(None, &headers);
    let env = match state.snapshot(&env_key) {
        Ok(e) => e,
        Err(e) => return OfrepError::from_api(None, e).into_response(),
    };
    let ns_key = namespace(&headers);
    let large = env
        .namespace(&ns_key)
        .is_some_and(|n| n.flags.len() > BLOCKING_BULK_FLAGS);
    if !large {
        return bulk(&state, &headers, &env, &env_key, &ns_key, &ctx, &entity);
    }
    // thousands of evaluations and a body of megabytes: not on an async worker
    tokio::task::spawn_blocking(move || {
        bulk(&state, &headers, &env, &env_key, &ns_key, &ctx, &entity)
    })
    .await
    .unwrap_or_else(|e| {
        OfrepError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: None,
            code: "GENERAL",
            details: format!("bulk evaluation failed: {e}"),
        }
        .into_response()
    })
}

/// Namespaces with more flags than this are bulk-evaluated on a blocking thread.
const BLOCKING_BULK_FLAGS: usize = 1000;

/// The bulk answer: every selected flag evaluated, the ETag, 304 on a match.
fn bulk(
    state: &AppState,
    headers: &HeaderMap,
    env: &Environment,
    env_key: &str,
    ns_key: &str,
    ctx: &HashMap<String, String>,
    entity: &str,
) -> Response {
    let mut flags = Vec::new();
    let mut h = crc32fast::Hasher::new();
    h.update(env_key.as_bytes());
    h.update(&[0]);
    h.update(ns_key.as_bytes());
    if let Some(ns) = env.namespace(ns_key) {
        let wanted: Option<Vec<&str>> = ctx.get("flags").map(|f| {
            f.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        });
        for flag in &ns.flags {
            let selected = match &wanted {
                Some(keys) => keys.contains(&flag.key.as_str()),
                None => flag.flag_type == FlagType::Boolean || flag.enabled,
            };
            if !selected {
                continue;
            }
            let eval = evaluate(flag, entity, ctx);
            let item = success(&flag.key, &eval);
            h.update(&[0]);
            h.update(flag.key.as_bytes());
            h.update(&[0]);
            h.update(item["variant"].as_str().unwrap_or_default().as_bytes());
            h.update(item["reason"].as_str().unwrap_or_default().as_bytes());
            h.update(item["metadata"].to_string().as_bytes());
            flags.push(item);
        }
        state.metrics().bulk_request(env_key, ns_key, flags.len());
    } else if ctx.contains_key("flags") || ns_key != "default" {
        return OfrepError::bad_request(
            None,
            "GENERAL",
            format!("namespace \"{ns_key}\" not found"),
        )
        .into_response();
    }
    h.update(env.digest.as_bytes());
    let etag = format!("W/\"{:08x}\"", h.finalize());
    let etag_value =
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
    if if_none_match(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    let stream_path = format!("/ofrep/v1/_stream/{}/{}/events", env_key, ns_key);
    let mut stream = json!({"type": "sse", "endpoint": {"requestUri": stream_path}});
    // Never from the request's Host header (a forged one would be echoed as the stream's
    // origin): the configured public URL, else no origin (clients use their base URL's).
    if let Some(origin) = state.config().public_origin() {
        stream["endpoint"]["origin"] = json!(origin);
    }
    let body = json!({"flags": flags, "eventStreams": [stream]});
    (StatusCode::OK, [(header::ETAG, etag_value)], Json(body)).into_response()
}

/// `GET /ofrep/v1/_stream/{env}/{ns}/events`: `refetchEvaluation` on every change of the namespace.
pub(crate) async fn stream(
    State(state): State<AppState>,
    Path((env, ns)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let accepts = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream") || a.contains("*/*"));
    if !accepts {
        return (StatusCode::NOT_ACCEPTABLE, Json(json!({"errorCode": "GENERAL", "errorDetails": "text/event-stream is the only supported content type for this endpoint"}))).into_response();
    }
    let Some(rx) = state.sync().watch(&env) else {
        return OfrepError {
            status: StatusCode::NOT_FOUND,
            key: None,
            code: "GENERAL",
            details: format!("environment \"{env}\" not found"),
        }
        .into_response();
    };
    // No announcement of the digest the client already has: only real changes (issue 9).
    let skip = super::stream::client_has_current(&rx, &ns, &headers);
    let events = super::stream::namespace_changes(state.clone(), rx, ns, skip).map(|digest| {
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .id(digest.chars().take(9).collect::<String>())
                .data(json!({"type": "refetchEvaluation", "etag": digest}).to_string()),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
