//! Flipt v2's `flipt.ofrep.OFREPService` (`EvaluateFlag`, `EvaluateBulk`): Flipt's messages,
//! answered by the same evaluation as `/ofrep/v1/evaluate/flags[/{key}]`
//! ([`crate::api::ofrep_evaluate_in`], [`crate::api::ofrep_bulk_plan`]); only the encoding differs.
//!
//! As Flipt's bridge (`OFREPFlagEvaluation[Bulk]`): the environment from `x-flipt-environment`
//! metadata, the namespace from `x-flipt-namespace` (else `default`), the entity from
//! `context.targetingKey` (else a random UUID); errors are gRPC statuses (`NOT_FOUND` for an
//! unknown flag, `flag was not found <key>`, with Flipt's `google.protobuf.Struct` detail
//! `{"ofrep-flag-key": key}`; `INVALID_ARGUMENT` `flag key was not provided`), the HTTP error
//! body's `errorCode` being the code's name in OFREP's terms. The serving commit is in
//! `x-switchyard-commit` response metadata (and in a single answer's metadata, as on HTTP).

use std::collections::HashMap;

use prost::Message as _;
use prost_types::value::Kind;
use prost_types::{Struct, Value};
use switchyard_core::{Environment, evaluate};
use tonic::{Request, Response, Status};

use super::pb::ofrep as pb;
use crate::api::{BLOCKING_BULK_FLAGS, BulkPlan, entity, ofrep_bulk_plan, ofrep_evaluate_in};
use crate::error::OfrepError;
use crate::ofrep_pieces::stream_uri;
use crate::responses::OfrepSuccess;
use crate::state::AppState;

/// The service over the server's state.
pub(super) struct Ofrep {
    state: AppState,
}

impl Ofrep {
    pub(super) fn new(state: AppState) -> Self {
        Ofrep { state }
    }
}

/// `google.rpc.Status`, the `grpc-status-details-bin` payload (as grpc-go's `status` writes it).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// The detail key Flipt's bridge names the flag with (`statusFlagKeyPointer`).
const FLAG_KEY_DETAIL: &str = "ofrep-flag-key";

fn string(s: impl Into<String>) -> Value {
    Value {
        kind: Some(Kind::StringValue(s.into())),
    }
}

/// The gRPC status of an OFREP error: the code the HTTP status stands for (as Flipt's gateway
/// maps them), the message as the HTTP body's `errorDetails`, and the flag key as Flipt's
/// `Struct` detail when the error names one.
fn status(e: OfrepError) -> Status {
    use tonic::Code;
    let code = match e.status.as_u16() {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        413 => Code::ResourceExhausted,
        503 => Code::Unavailable,
        504 => Code::DeadlineExceeded,
        _ => Code::Internal,
    };
    let Some(key) = e.key else {
        return Status::new(code, e.details);
    };
    let detail = Struct {
        fields: [(FLAG_KEY_DETAIL.to_string(), string(key))].into(),
    };
    let details = RpcStatus {
        code: code as i32,
        message: e.details.clone(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/google.protobuf.Struct".to_string(),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(code, e.details, details.encode_to_vec().into())
}

/// The message of an answer the HTTP API writes as JSON (the same `OfrepSuccess`).
fn response(a: &OfrepSuccess<'_>) -> pb::EvaluationResponse {
    let reason = |r: &str| pb::EvaluateReason::from_str_name(r).unwrap_or_default() as i32;
    match a {
        OfrepSuccess::Variant {
            key,
            reason: r,
            variant,
            value,
            metadata,
        } => {
            let mut fields = std::collections::BTreeMap::new();
            if let Some(s) = metadata.segments() {
                fields.insert("segments".to_string(), string(s));
            }
            if let Some(s) = metadata.attachment() {
                fields.insert("attachment".to_string(), string(s));
            }
            if let Some(s) = metadata.commit() {
                fields.insert("switchyardCommit".to_string(), string(s));
            }
            pb::EvaluationResponse {
                key: key.to_string(),
                reason: reason(r),
                variant: variant.to_string(),
                metadata: Some(Struct { fields }),
                value: Some(string(*value)),
            }
        }
        OfrepSuccess::Boolean {
            key,
            reason: r,
            variant,
            value,
            metadata,
        } => pb::EvaluationResponse {
            key: key.to_string(),
            reason: reason(r),
            variant: variant.to_string(),
            metadata: metadata.as_ref().map(|m| Struct {
                fields: [("switchyardCommit".to_string(), string(m.commit()))].into(),
            }),
            value: Some(Value {
                kind: Some(Kind::BoolValue(*value)),
            }),
        },
    }
}

/// The `x-flipt-*` metadata value `name`.
fn header<'m>(metadata: &'m tonic::metadata::MetadataMap, name: &str) -> Option<&'m str> {
    metadata.get(name).and_then(|v| v.to_str().ok())
}

/// The bulk answer of namespace `ns_key` in `env` for `ctx`.
fn bulk(
    state: &AppState,
    env_key: &str,
    env: &Environment,
    ns_key: &str,
    ctx: &HashMap<String, String>,
) -> Result<pb::BulkEvaluationResponse, OfrepError> {
    let plan = ofrep_bulk_plan(state, env, env_key, ns_key, ctx)?;
    let entity = entity(ctx);
    let flags: Vec<pb::EvaluationResponse> = match &plan {
        BulkPlan::Flags { ns, .. } => {
            let flags: Vec<_> = plan
                .indexes()
                .iter()
                .filter_map(|&i| ns.flags.get(i))
                .map(|flag| {
                    let eval = evaluate(flag, &entity, ctx);
                    response(&OfrepSuccess::new(&flag.key, &eval))
                })
                .collect();
            state.metrics().bulk_request(env_key, ns_key, flags.len());
            flags
        }
        BulkPlan::Empty => Vec::new(),
    };
    Ok(pb::BulkEvaluationResponse {
        flags,
        event_streams: vec![pb::EventStream {
            r#type: "sse".to_string(),
            endpoint: Some(pb::EventStreamEndpoint {
                request_uri: stream_uri(env_key, ns_key),
                origin: state.config().public_origin().map(str::to_string),
            }),
        }],
    })
}

#[tonic::async_trait]
impl pb::ofrep_service_server::OfrepService for Ofrep {
    async fn evaluate_flag(
        &self,
        request: Request<pb::EvaluateFlagRequest>,
    ) -> Result<Response<pb::EvaluationResponse>, Status> {
        let metadata = request.metadata();
        let req = request.get_ref();
        let answer = ofrep_evaluate_in(
            &self.state,
            super::environment_header(metadata),
            header(metadata, "x-flipt-namespace"),
            &req.key,
            &req.context,
            |a| response(&a),
        )
        .map_err(status)?;
        let mut out = Response::new(answer.value);
        if let Some(v) = answer.commit
            && let Ok(v) = tonic::metadata::MetadataValue::try_from(v.as_bytes())
        {
            out.metadata_mut().insert("x-switchyard-commit", v);
        }
        Ok(out)
    }

    async fn evaluate_bulk(
        &self,
        request: Request<pb::EvaluateBulkRequest>,
    ) -> Result<Response<pb::BulkEvaluationResponse>, Status> {
        let (metadata, _, req) = request.into_parts();
        let (env_key, env, ns_key) = crate::api::ofrep_scope(
            &self.state,
            super::environment_header(&metadata),
            header(&metadata, "x-flipt-namespace"),
            None,
        )
        .map_err(status)?;
        let large = env
            .namespace(ns_key)
            .is_some_and(|n| n.flags.len() > BLOCKING_BULK_FLAGS);
        let message = if large {
            // thousands of evaluations: not on an async worker
            let (state, env, env_key, ns_key) = (
                self.state.clone(),
                env.clone(),
                env_key.to_string(),
                ns_key.to_string(),
            );
            tokio::task::spawn_blocking(move || bulk(&state, &env_key, &env, &ns_key, &req.context))
                .await
                .map_err(|e| Status::internal(format!("bulk evaluation failed: {e}")))?
        } else {
            bulk(&self.state, env_key, &env, ns_key, &req.context)
        }
        .map_err(status)?;
        Ok(super::with_commit(&self.state, message, env_key, &env))
    }
}

#[cfg(test)]
mod tests;
