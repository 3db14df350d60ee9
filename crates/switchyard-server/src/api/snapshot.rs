//! Flipt's client-side snapshot API, as Flipt's SDKs call it: the namespace snapshot with ETag
//! and 304, and the stream of snapshots (NDJSON `{"result": …}`, or SSE `refetchEvaluation`).

use axum::body::Body;
use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use super::ofrep::if_none_match;
use super::stream::namespace_changes;
use crate::bodies::accepts_gzip;
use crate::error::ApiError;
use crate::state::AppState;

async fn snapshot_response(
    state: &AppState,
    env_key: &str,
    ns: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let env = state.snapshot(env_key)?;
    let namespace = env.namespace(ns).ok_or_else(|| {
        ApiError::not_found(format!(
            "evaluation snapshot for namespace \"{ns}\" not found"
        ))
    })?;
    state.metrics().snapshot_request(env_key, ns);
    let etag = HeaderValue::from_str(&namespace.digest)
        .map_err(|_| ApiError::invalid("digest is not a header value"))?;
    if if_none_match(headers, &namespace.digest) {
        let response = (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        return Ok(state.commit_headers().on(response, env_key, &env));
    }
    // The gzip body, compressed once per digest, for clients that accept it; the ETag is the
    // digest either way (the representations hold the same snapshot).
    let gzip = accepts_gzip(
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .map(HeaderValue::as_bytes),
    );
    let bodies = state.bodies();
    let (body, encoding) = if gzip {
        let body = bodies.client_snapshot_gzip(env_key, &env, ns).await?;
        (body, Some(HeaderValue::from_static("gzip")))
    } else {
        (bodies.client_snapshot(env_key, &env, ns).await?, None)
    };
    let mut response = (
        StatusCode::OK,
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        Body::from(body),
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, encoding);
    }
    Ok(state.commit_headers().on(response, env_key, &env))
}

/// `GET /internal/v1/evaluation/snapshot/namespace/{ns}` (environment from `X-Flipt-Environment`).
pub(crate) async fn legacy(
    State(state): State<AppState>,
    Path(ns): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let env = state.environment_key(None, &headers);
    snapshot_response(&state, &env, &ns, &headers).await
}

/// `GET /client/v2/environments/{env}/namespaces/{ns}/snapshot`.
pub(crate) async fn v2(
    State(state): State<AppState>,
    Path((env, ns)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    snapshot_response(&state, &env, &ns, &headers).await
}

/// The `digest` a stream client says it has (`?digest=`): absent or empty, or 40 characters, as
/// Flipt checks it (`EvaluationSnapshotNamespaceStream`).
fn client_digest(query: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match query.get("digest").filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) if d.chars().count() == 40 => Ok(Some(d.clone())),
        Some(_) => Err(ApiError::invalid(
            "invalid field digest: must be a 40-character string",
        )),
    }
}

/// `GET /client/v2/environments/{env}/namespaces/{ns}/stream[?digest=D]`: the namespace's
/// snapshot now (unless its digest is `D`) and after every change of it, skipping a digest equal
/// to the last one sent and a namespace that is absent, as Flipt's publisher does. The body is
/// pulled by the connection, one message at a time, from a `watch` that keeps only the newest
/// environment: a slow reader holds no queue, and one that stops reading is closed by the
/// connection's blocked-write timeout.
pub(crate) async fn stream(
    State(state): State<AppState>,
    Path((env_key, ns)): Path<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let mut last = client_digest(&query)?;
    let rx = state
        .sync()
        .watch(&env_key)
        .ok_or_else(|| ApiError::not_found(format!("environment \"{env_key}\" not found")))?;
    let sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    // Flipt sends a snapshot only when its digest differs from the last one sent.
    let mut is_new = move |digest: &str| {
        let new = !digest.is_empty() && last.as_deref() != Some(digest);
        if new {
            last = Some(digest.to_string());
        }
        new
    };
    let changes = namespace_changes(state.clone(), rx, ns.clone(), false);
    if sse {
        let events = changes
            .filter(move |digest| std::future::ready(is_new(digest)))
            .map(|digest| Ok::<_, std::convert::Infallible>(super::stream::refetch(&digest)));
        return Ok(Sse::new(events.chain(super::stream::goodbye(&state)))
            .keep_alive(KeepAlive::default())
            .into_response());
    }
    // The body is that of the environment served when the change is read, which may be newer
    // than the digest announced: the digest it carries is the one compared.
    let lines = changes
        .filter_map(move |_| {
            let state = state.clone();
            let (env_key, ns) = (env_key.clone(), ns.clone());
            async move {
                let env = state.sync().environment(&env_key)?;
                let digest = env.namespace(&ns)?.digest.clone();
                let body = state
                    .bodies()
                    .client_snapshot(&env_key, &env, &ns)
                    .await
                    .ok()?;
                Some((digest, body))
            }
        })
        .filter_map(move |(digest, body)| {
            let line = is_new(&digest).then(|| {
                let mut line = Vec::with_capacity(body.len() + 12);
                line.extend_from_slice(b"{\"result\":");
                line.extend_from_slice(&body);
                line.extend_from_slice(b"}\n");
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
            });
            std::future::ready(line)
        });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(lines),
    )
        .into_response())
}
