//! Flipt's `flipt.evaluation.EvaluationService` (`Boolean`, `Variant`, `Batch`): Flipt's messages
//! and status codes, answered by the same evaluation as `/evaluate/v1/*`
//! ([`crate::api::evaluate_single`], [`crate::api::evaluate_many`]).

use std::time::SystemTime;

use switchyard_core::{
    BatchItem, BooleanEvaluation, ErrorReason, Evaluation, FlagType, Reason, VariantEvaluation,
};
use tonic::{Request, Response, Status};

use super::pb::flipt as pb;
use crate::api::{Answer, Query, evaluate_many, evaluate_single};
use crate::state::AppState;

/// The service over the server's state.
pub(super) struct FliptEvaluation {
    state: AppState,
}

impl FliptEvaluation {
    pub(super) fn new(state: AppState) -> Self {
        FliptEvaluation { state }
    }
}

/// Flipt's `EvaluationReason` number.
fn reason(r: Reason) -> i32 {
    (match r {
        Reason::Unknown => pb::EvaluationReason::UnknownEvaluationReason,
        Reason::FlagDisabled => pb::EvaluationReason::FlagDisabledEvaluationReason,
        Reason::Match => pb::EvaluationReason::MatchEvaluationReason,
        Reason::Default => pb::EvaluationReason::DefaultEvaluationReason,
    }) as i32
}

fn error_reason(r: ErrorReason) -> i32 {
    (match r {
        ErrorReason::Unknown => pb::ErrorEvaluationReason::UnknownErrorEvaluationReason,
        ErrorReason::NotFound => pb::ErrorEvaluationReason::NotFoundErrorEvaluationReason,
    }) as i32
}

fn variant_response(
    flag_key: &str,
    v: &VariantEvaluation<'_>,
    request_id: &str,
    millis: f64,
    now: prost_types::Timestamp,
) -> pb::VariantEvaluationResponse {
    pb::VariantEvaluationResponse {
        r#match: v.matched,
        segment_keys: v.segment_keys.iter().map(|k| k.to_string()).collect(),
        reason: reason(v.reason),
        variant_key: v.variant_key().to_string(),
        variant_attachment: v.variant_attachment().to_string(),
        request_id: request_id.to_string(),
        request_duration_millis: millis,
        timestamp: Some(now),
        flag_key: flag_key.to_string(),
    }
}

fn boolean_response(
    flag_key: &str,
    b: &BooleanEvaluation<'_>,
    request_id: &str,
    millis: f64,
    now: prost_types::Timestamp,
) -> pb::BooleanEvaluationResponse {
    pb::BooleanEvaluationResponse {
        enabled: b.enabled,
        reason: reason(b.reason),
        request_id: request_id.to_string(),
        request_duration_millis: millis,
        timestamp: Some(now),
        flag_key: flag_key.to_string(),
        segment_keys: b.segment_keys.iter().map(|k| k.to_string()).collect(),
    }
}

fn query<'a>(
    r: &'a pb::EvaluationRequest,
    header: Option<&'a str>,
) -> Query<'a, std::collections::HashMap<String, String>> {
    Query {
        environment_key: &r.environment_key,
        environment_header: header,
        namespace_key: &r.namespace_key,
        flag_key: &r.flag_key,
        entity_id: &r.entity_id,
        context: &r.context,
    }
}

impl FliptEvaluation {
    /// One flag of type `want`; `encode` writes its answer.
    fn single<T>(
        &self,
        request: &Request<pb::EvaluationRequest>,
        want: FlagType,
        encode: impl FnOnce(Answer<'_>, &str, prost_types::Timestamp) -> T,
    ) -> Result<Response<T>, Status> {
        let metadata = request.metadata();
        let req = request.get_ref();
        let q = query(req, super::environment_header(metadata));
        let done = evaluate_single(&self.state, &q, want, |a| {
            let request_id = super::request_id(&req.request_id, metadata);
            encode(a, &request_id, SystemTime::now().into())
        })?;
        Ok(super::with_commit(
            &self.state,
            done.value,
            done.env_key,
            &done.env,
        ))
    }
}

#[tonic::async_trait]
impl pb::evaluation_service_server::EvaluationService for FliptEvaluation {
    async fn boolean(
        &self,
        request: Request<pb::EvaluationRequest>,
    ) -> Result<Response<pb::BooleanEvaluationResponse>, Status> {
        self.single(&request, FlagType::Boolean, |a, id, now| match &a.eval {
            Evaluation::Boolean(b) => boolean_response(a.flag_key, b, id, a.millis, now),
            // evaluate_single answers a variant flag with Flipt's type error
            Evaluation::Variant(_) => pb::BooleanEvaluationResponse::default(),
        })
    }

    async fn variant(
        &self,
        request: Request<pb::EvaluationRequest>,
    ) -> Result<Response<pb::VariantEvaluationResponse>, Status> {
        self.single(&request, FlagType::Variant, |a, id, now| match &a.eval {
            Evaluation::Variant(v) => variant_response(a.flag_key, v, id, a.millis, now),
            Evaluation::Boolean(_) => pb::VariantEvaluationResponse::default(),
        })
    }

    async fn batch(
        &self,
        request: Request<pb::BatchEvaluationRequest>,
    ) -> Result<Response<pb::BatchEvaluationResponse>, Status> {
        let metadata = request.metadata();
        let req = request.get_ref();
        let header = super::environment_header(metadata);
        let queries: Vec<_> = req.requests.iter().map(|r| query(r, header)).collect();
        let (message, first) = evaluate_many(&self.state, "", &queries, |results, ms| {
            let now: prost_types::Timestamp = SystemTime::now().into();
            let responses = req
                .requests
                .iter()
                .zip(results)
                .map(|(r, item)| {
                    use pb::evaluation_response::Response as R;
                    let (kind, response) = match item {
                        BatchItem::Ok(Evaluation::Variant(v)) => (
                            pb::EvaluationResponseType::VariantEvaluationResponseType,
                            R::VariantResponse(variant_response(
                                &r.flag_key,
                                v,
                                &r.request_id,
                                ms,
                                now,
                            )),
                        ),
                        BatchItem::Ok(Evaluation::Boolean(b)) => (
                            pb::EvaluationResponseType::BooleanEvaluationResponseType,
                            R::BooleanResponse(boolean_response(
                                &r.flag_key,
                                b,
                                &r.request_id,
                                ms,
                                now,
                            )),
                        ),
                        BatchItem::Error(e) => (
                            pb::EvaluationResponseType::ErrorEvaluationResponseType,
                            R::ErrorResponse(pb::ErrorEvaluationResponse {
                                flag_key: r.flag_key.clone(),
                                namespace_key: r.namespace_key.clone(),
                                reason: error_reason(*e),
                            }),
                        ),
                    };
                    pb::EvaluationResponse {
                        r#type: kind as i32,
                        response: Some(response),
                    }
                })
                .collect();
            pb::BatchEvaluationResponse {
                request_id: super::request_id(&req.request_id, metadata),
                responses,
                request_duration_millis: ms,
            }
        })?;
        Ok(match first {
            Some((key, env)) => super::with_commit(&self.state, message, key, &env),
            None => Response::new(message),
        })
    }
}
