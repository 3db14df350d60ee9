//! Flipt's evaluation API: `POST /evaluate/v1/variant`, `/evaluate/v1/boolean`, `/evaluate/v1/batch`.
//!
//! Request and response shapes are Flipt's (`rpc/flipt/evaluation/evaluation.proto` through
//! grpc-gateway): camelCase (snake_case also accepted on input), defaults present, string enums.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use switchyard_core::{
    BatchItem, BatchRequest, Context, EvalError, Evaluation, FlagType, evaluate_batch,
    evaluate_boolean, evaluate_variant,
};

use super::context::RequestContext;
use super::eval_request::{BatchEvaluationRequest, EvaluationRequest};
use crate::body::FliptBody;
use crate::error::ApiError;
use crate::responses::{
    BatchItemResponse, BatchResponse, BooleanResponse, ErrorResponse, VariantResponse,
};
use crate::state::AppState;
use crate::time::Timestamp;

/// The id an answer carries: the body's `requestId`, else the request's own (`x-request-id`,
/// set by the request-id layer), else a new one.
fn request_id<'a>(given: &'a str, parts: &'a Parts) -> std::borrow::Cow<'a, str> {
    if !given.is_empty() {
        return given.into();
    }
    match parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
    {
        Some(id) => id.into(),
        None => super::fast_uuid().to_string().into(),
    }
}

/// A duration in milliseconds rounded to the microsecond (no float noise such as
/// `0.041000000000000002` in `requestDurationMillis`).
fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

fn namespace(ns: &str) -> &str {
    if ns.is_empty() { "default" } else { ns }
}

fn eval_error(state: &AppState, env: &str, e: EvalError) -> ApiError {
    let kind = match e {
        EvalError::WrongType { .. } => "invalid",
        _ => "not_found",
    };
    state.metrics().evaluation_error(env, kind);
    e.into()
}

/// One flag asked for, whichever encoding carried the request (Flipt's `EvaluationRequest`).
pub(crate) struct Query<'a, C: ?Sized> {
    /// `environmentKey` (empty or unknown: the header's, else the default environment).
    pub(crate) environment_key: &'a str,
    /// `X-Flipt-Environment`, from the HTTP headers or the gRPC metadata.
    pub(crate) environment_header: Option<&'a str>,
    /// `namespaceKey` (empty: `default`).
    pub(crate) namespace_key: &'a str,
    /// `flagKey`.
    pub(crate) flag_key: &'a str,
    /// `entityId`.
    pub(crate) entity_id: &'a str,
    /// `context`.
    pub(crate) context: &'a C,
}

/// What an encoding writes one answer from.
pub(crate) struct Answer<'f> {
    /// The flag.
    pub(crate) flag: &'f switchyard_core::Flag,
    /// The flag's key.
    pub(crate) flag_key: &'f str,
    /// The result, in the flag's type.
    pub(crate) eval: Evaluation<'f>,
    /// Milliseconds spent so far.
    pub(crate) millis: f64,
}

/// An encoded answer and the snapshot it was read from (for the commit header).
pub(crate) struct Answered<'s, R> {
    /// What the encoding wrote.
    pub(crate) value: R,
    /// The environment's key.
    pub(crate) env_key: &'s str,
    /// Its snapshot.
    pub(crate) env: Arc<switchyard_core::Environment>,
}

/// An environment's key and the snapshot an answer was read from.
pub(crate) type Served<'s> = (&'s str, Arc<switchyard_core::Environment>);

/// `X-Flipt-Environment` of HTTP headers.
pub(crate) fn environment_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-flipt-environment")
        .and_then(|v| v.to_str().ok())
}

/// Flipt's `Variant` and `Boolean`: one flag of the type `want`, evaluated once for every
/// encoding (HTTP JSON and gRPC); `write` encodes the answer. Records the metrics.
pub(crate) fn evaluate_single<'s, C: Context + ?Sized, R>(
    state: &'s AppState,
    q: &Query<'_, C>,
    want: FlagType,
    write: impl FnOnce(Answer<'_>) -> R,
) -> Result<Answered<'s, R>, ApiError> {
    let started = Instant::now();
    // Like Flipt, no check of the keys: an empty `flagKey` is a flag that is not found.
    let env_key = state.evaluation_environment_named(q.environment_key, q.environment_header)?;
    let env = state.snapshot(env_key)?;
    let ns = namespace(q.namespace_key);
    let flag = env
        .find_flag(ns, q.flag_key)
        .map_err(|e| eval_error(state, env_key, e))?;
    let eval = match want {
        FlagType::Variant => {
            evaluate_variant(flag, q.entity_id, q.context).map(Evaluation::Variant)
        }
        FlagType::Boolean => {
            evaluate_boolean(flag, q.entity_id, q.context).map(Evaluation::Boolean)
        }
    }
    .map_err(|e| eval_error(state, env_key, e))?;
    let reason = match &eval {
        Evaluation::Variant(v) => v.reason,
        Evaluation::Boolean(b) => b.reason,
    };
    let value = write(Answer {
        flag,
        flag_key: &flag.key,
        eval,
        millis: millis(started.elapsed()),
    });
    state
        .metrics()
        .evaluation(env_key, ns, &flag.key, reason, started.elapsed());
    Ok(Answered {
        value,
        env_key,
        env: env.clone(),
    })
}

/// Flipt's `Batch`: every item evaluated by its flag's type against one snapshot of its
/// environment (the item's `environmentKey`, else `fallback_environment`, Switchyard's addition,
/// else the header's or the default), for every encoding; `write` gets the items' results in
/// order and the milliseconds spent. Records the metrics. The snapshot returned is the first
/// item's environment's (none for an empty batch).
pub(crate) fn evaluate_many<'s, C: Context + ?Sized, R>(
    state: &'s AppState,
    fallback_environment: &str,
    queries: &[Query<'_, C>],
    write: impl FnOnce(&[BatchItem<'_>], f64) -> R,
) -> Result<(R, Option<Served<'s>>), ApiError> {
    let started = Instant::now();
    // One snapshot per environment for the whole batch.
    let mut envs: Vec<(&str, Arc<switchyard_core::Environment>)> = Vec::new();
    let mut item_envs = Vec::with_capacity(queries.len());
    for q in queries {
        let key = if q.environment_key.is_empty() {
            fallback_environment
        } else {
            q.environment_key
        };
        let env_key = state.evaluation_environment_named(key, q.environment_header)?;
        let i = match envs.iter().position(|(k, _)| *k == env_key) {
            Some(i) => i,
            None => {
                let env = state.snapshot(env_key)?;
                envs.push((env_key, env));
                envs.len() - 1
            }
        };
        item_envs.push(i);
    }
    let items: Vec<BatchRequest<'_, C>> = queries
        .iter()
        .map(|q| BatchRequest {
            namespace: q.namespace_key,
            flag_key: q.flag_key,
            entity_id: q.entity_id,
            context: q.context,
        })
        .collect();
    let results: Vec<BatchItem<'_>> = match envs.as_slice() {
        [] => Vec::new(),
        [(_, env)] => evaluate_batch(env, &items),
        _ => items
            .iter()
            .zip(&item_envs)
            .flat_map(|(item, &i)| evaluate_batch(&envs[i].1, std::slice::from_ref(item)))
            .collect(),
    };
    let elapsed = started.elapsed();
    for ((q, item), &i) in queries.iter().zip(&results).zip(&item_envs) {
        let env_key = envs[i].0;
        let ns = namespace(q.namespace_key);
        match item {
            BatchItem::Ok(Evaluation::Variant(v)) => state
                .metrics()
                .evaluation(env_key, ns, q.flag_key, v.reason, elapsed),
            BatchItem::Ok(Evaluation::Boolean(b)) => state
                .metrics()
                .evaluation(env_key, ns, q.flag_key, b.reason, elapsed),
            BatchItem::Error(_) => state.metrics().evaluation_error(env_key, "not_found"),
        }
    }
    let value = write(&results, millis(elapsed));
    drop(results);
    Ok((value, envs.into_iter().next()))
}

/// One flag of the expected type, answered in that type's response shape.
fn single(
    state: &AppState,
    parts: &Parts,
    req: &EvaluationRequest<'_>,
    want: FlagType,
) -> Result<Response, ApiError> {
    let q = Query {
        environment_key: &req.environment_key,
        environment_header: environment_header(&parts.headers),
        namespace_key: &req.namespace_key,
        flag_key: &req.flag_key,
        entity_id: &req.entity_id,
        context: &req.context,
    };
    let done = evaluate_single(state, &q, want, |a| {
        let request_id = request_id(&req.request_id, parts);
        let now = Timestamp::now();
        match &a.eval {
            Evaluation::Variant(v) => Json(VariantResponse::new(
                a.flag_key,
                v,
                &request_id,
                a.millis,
                now.as_str(),
            ))
            .into_response(),
            Evaluation::Boolean(b) => Json(BooleanResponse::new(
                a.flag_key,
                b,
                &request_id,
                a.millis,
                now.as_str(),
            ))
            .into_response(),
        }
    })?;
    Ok(state
        .commit_headers()
        .on(done.value, done.env_key, &done.env))
}

/// `POST /evaluate/v1/variant`.
pub(crate) async fn variant(
    State(state): State<AppState>,
    body: FliptBody,
) -> Result<Response, ApiError> {
    single(&state, &body.parts, &body.parse()?, FlagType::Variant)
}

/// `POST /evaluate/v1/boolean`.
pub(crate) async fn boolean(
    State(state): State<AppState>,
    body: FliptBody,
) -> Result<Response, ApiError> {
    single(&state, &body.parts, &body.parse()?, FlagType::Boolean)
}

/// `POST /evaluate/v1/batch`: every item evaluated against one snapshot of its environment.
pub(crate) async fn batch(
    State(state): State<AppState>,
    body: FliptBody,
) -> Result<Response, ApiError> {
    let req: BatchEvaluationRequest<'_> = body.parse()?;
    let header = environment_header(&body.parts.headers);
    let queries: Vec<Query<'_, RequestContext<'_>>> = req
        .requests
        .iter()
        .map(|r| Query {
            environment_key: &r.environment_key,
            environment_header: header,
            namespace_key: &r.namespace_key,
            flag_key: &r.flag_key,
            entity_id: &r.entity_id,
            context: &r.context,
        })
        .collect();
    let (response, first) =
        evaluate_many(&state, &req.environment_key, &queries, |results, ms| {
            let now = Timestamp::now();
            let responses: Vec<BatchItemResponse<'_>> = req
                .requests
                .iter()
                .zip(results)
                .map(|(r, item)| match item {
                    BatchItem::Ok(Evaluation::Variant(v)) => BatchItemResponse::Variant {
                        variant_response: VariantResponse::new(
                            &r.flag_key,
                            v,
                            &r.request_id,
                            ms,
                            now.as_str(),
                        ),
                    },
                    BatchItem::Ok(Evaluation::Boolean(b)) => BatchItemResponse::Boolean {
                        boolean_response: BooleanResponse::new(
                            &r.flag_key,
                            b,
                            &r.request_id,
                            ms,
                            now.as_str(),
                        ),
                    },
                    BatchItem::Error(reason) => BatchItemResponse::Error {
                        error_response: ErrorResponse::new(&r.flag_key, &r.namespace_key, *reason),
                    },
                })
                .collect();
            let request_id = request_id(&req.request_id, &body.parts);
            Json(BatchResponse {
                request_id: &request_id,
                request_duration_millis: ms,
                responses,
            })
            .into_response()
        })?;
    // the commit of the batch's first environment (a batch nearly always has one)
    Ok(match first {
        Some((key, env)) => state.commit_headers().on(response, key, &env),
        None => response,
    })
}
