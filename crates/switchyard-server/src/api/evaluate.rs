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
    BatchItem, BatchRequest, EvalError, Evaluation, FlagType, evaluate_batch, evaluate_boolean,
    evaluate_variant,
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

/// One flag of the expected type, answered in that type's response shape.
fn single(
    state: &AppState,
    parts: &Parts,
    req: &EvaluationRequest<'_>,
    want: FlagType,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let headers: &HeaderMap = &parts.headers;
    // Like Flipt, no check of the keys: an empty `flagKey` is a flag that is not found.
    let env_key = state.evaluation_environment(&req.environment_key, headers)?;
    let env = state.snapshot(env_key)?;
    let ns = namespace(&req.namespace_key);
    let flag = env
        .find_flag(ns, &req.flag_key)
        .map_err(|e| eval_error(state, env_key, e))?;
    let request_id = request_id(&req.request_id, parts);
    let now = Timestamp::now();
    let (reason, response) = match want {
        FlagType::Variant => {
            let eval = evaluate_variant(flag, &req.entity_id, &req.context)
                .map_err(|e| eval_error(state, env_key, e))?;
            let ms = millis(started.elapsed());
            let body = VariantResponse::new(&flag.key, &eval, &request_id, ms, now.as_str());
            (eval.reason, Json(body).into_response())
        }
        FlagType::Boolean => {
            let eval = evaluate_boolean(flag, &req.entity_id, &req.context)
                .map_err(|e| eval_error(state, env_key, e))?;
            let ms = millis(started.elapsed());
            let body = BooleanResponse::new(&flag.key, &eval, &request_id, ms, now.as_str());
            (eval.reason, Json(body).into_response())
        }
    };
    state
        .metrics()
        .evaluation(env_key, ns, &flag.key, reason, started.elapsed());
    Ok(state.commit_headers().on(response, env_key, &env))
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
    let started = Instant::now();
    let req: BatchEvaluationRequest<'_> = body.parse()?;
    let headers = &body.parts.headers;
    // Each item in its own environment, as Flipt's `Batch` picks it (the batch's
    // `environmentKey`, a Switchyard addition, stands in for an item's missing one); one
    // snapshot per environment for the whole batch.
    let mut envs: Vec<(&str, Arc<switchyard_core::Environment>)> = Vec::new();
    let mut item_envs = Vec::with_capacity(req.requests.len());
    for r in &req.requests {
        let key = if r.environment_key.is_empty() {
            &req.environment_key
        } else {
            &r.environment_key
        };
        let env_key = state.evaluation_environment(key, headers)?;
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
    let items: Vec<BatchRequest<'_, RequestContext<'_>>> = req
        .requests
        .iter()
        .map(|r| BatchRequest {
            namespace: &r.namespace_key,
            flag_key: &r.flag_key,
            entity_id: &r.entity_id,
            context: &r.context,
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
    let ms = millis(elapsed);
    let now = Timestamp::now();
    let responses: Vec<BatchItemResponse<'_>> = req
        .requests
        .iter()
        .zip(results.iter())
        .zip(&item_envs)
        .map(|((r, item), &i)| {
            let env_key = envs[i].0;
            let ns = namespace(&r.namespace_key);
            match item {
                BatchItem::Ok(Evaluation::Variant(v)) => {
                    state
                        .metrics()
                        .evaluation(env_key, ns, &r.flag_key, v.reason, elapsed);
                    BatchItemResponse::Variant {
                        variant_response: VariantResponse::new(
                            &r.flag_key,
                            v,
                            &r.request_id,
                            ms,
                            now.as_str(),
                        ),
                    }
                }
                BatchItem::Ok(Evaluation::Boolean(b)) => {
                    state
                        .metrics()
                        .evaluation(env_key, ns, &r.flag_key, b.reason, elapsed);
                    BatchItemResponse::Boolean {
                        boolean_response: BooleanResponse::new(
                            &r.flag_key,
                            b,
                            &r.request_id,
                            ms,
                            now.as_str(),
                        ),
                    }
                }
                BatchItem::Error(reason) => {
                    state.metrics().evaluation_error(env_key, "not_found");
                    BatchItemResponse::Error {
                        error_response: ErrorResponse::new(&r.flag_key, &r.namespace_key, *reason),
                    }
                }
            }
        })
        .collect();
    let request_id = request_id(&req.request_id, &body.parts);
    let response = Json(BatchResponse {
        request_id: &request_id,
        request_duration_millis: ms,
        responses,
    })
    .into_response();
    // the commit of the batch's first environment (a batch nearly always has one)
    Ok(match envs.first() {
        Some((key, env)) => state.commit_headers().on(response, key, env),
        None => response,
    })
}
