//! The gRPC listener: Flipt's `flipt.evaluation.EvaluationService` and
//! `evaluation.ClientEvaluationService` and `flipt.ofrep.OFREPService`, flagd's
//! `flagd.evaluation.v1.Service` and `flagd.evaluation.v2.Service`, `grpc.health.v1.Health` and server reflection (v1), on tonic.
//!
//! The services call the same evaluation functions as the HTTP handlers
//! ([`crate::api::evaluate_single`], [`crate::api::evaluate_many`], OFREP's
//! [`crate::api::ofrep_evaluate_in`] and [`crate::api::ofrep_bulk_plan`]); only the encoding
//! differs.
//! Tokens and scopes are HTTP's (`authorization: Bearer …` metadata, [`crate::auth::grpc`]).
//! The listener uses the HTTP server's TLS settings, its connection limit and its shutdown: it
//! stops accepting when the HTTP listener closes, open event streams end, and open calls get
//! `server.shutdown_grace_period`.

mod client_snapshot;
pub(crate) mod connect;
mod flagd;
mod flagd_services;
mod flipt;
mod health;
mod incoming;
mod ofrep;

use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::{self, Need};
use crate::listener::ServeError;
use crate::state::AppState;

/// The generated messages and services of the vendored protos (`proto/`).
pub(crate) mod pb {
    /// Flipt's `flipt.evaluation` package.
    #[allow(clippy::all, missing_docs, dead_code)]
    pub(crate) mod flipt {
        tonic::include_proto!("flipt.evaluation");
    }
    /// Flipt v2's `evaluation` package (`ClientEvaluationService`, the client snapshot).
    #[allow(clippy::all, missing_docs, dead_code)]
    pub(crate) mod flipt_v2 {
        tonic::include_proto!("evaluation");
    }
    /// flagd's `flagd.evaluation.v1` package.
    #[allow(clippy::all, missing_docs, dead_code)]
    pub(crate) mod flagd {
        tonic::include_proto!("flagd.evaluation.v1");
    }
    /// flagd's `flagd.evaluation.v2` package (what `@openfeature/flagd-provider` 0.16 calls).
    #[allow(clippy::all, missing_docs, dead_code)]
    pub(crate) mod flagd_v2 {
        tonic::include_proto!("flagd.evaluation.v2");
    }
    /// Flipt v2's `flipt.ofrep` package (`OFREPService`).
    #[allow(clippy::all, missing_docs, dead_code)]
    pub(crate) mod ofrep {
        tonic::include_proto!("flipt.ofrep");
    }
    /// The file descriptor set of all of them, for server reflection.
    pub(crate) const DESCRIPTORS: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));
}

/// Longest time a unary call may take before it is answered `DEADLINE_EXCEEDED` (a client's
/// shorter `grpc-timeout` wins).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// HTTP/2 streams (calls, event streams) one connection may have open, as on the HTTP port.
const MAX_STREAMS: u32 = 100;
/// HTTP/2 pings on a quiet connection, so a vanished client is found.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer encoded (a `ResolveAll` of a large namespace).
const MAX_ENCODED_BYTES: usize = 32 * 1024 * 1024;
/// Largest header list a client may send.
const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

/// Serves gRPC on `listener` (TLS when the HTTP server has it) until the server stops: the same
/// stop signal as [`crate::serve`]'s, raised when its listener closes after
/// `server.shutdown_delay`; then open calls get `server.shutdown_grace_period`.
pub async fn serve_grpc(listener: TcpListener, state: AppState) -> Result<(), ServeError> {
    let tls = crate::tls::configured(state.config())?;
    let mut limits = state.config().limits;
    limits.max_connections = crate::listener::connection_limit(limits.max_connections);
    let grace = state.config().shutdown.grace_period;
    let max_decoded = state.config().max_body_bytes;
    let grpc = state.config().grpc;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    tokio::spawn(health::follow_readiness(state.clone(), reporter));
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::DESCRIPTORS)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Grpc(format!("server reflection: {e}")))?;

    let evaluation = pb::flipt::evaluation_service_server::EvaluationServiceServer::new(
        flipt::FliptEvaluation::new(state.clone()),
    )
    .max_decoding_message_size(max_decoded)
    .max_encoding_message_size(MAX_ENCODED_BYTES);
    let client =
        pb::flipt_v2::client_evaluation_service_server::ClientEvaluationServiceServer::new(
            client_snapshot::ClientEvaluation::new(state.clone())
                .map_err(|e| ServeError::Grpc(format!("client snapshot descriptors: {e}")))?,
        )
        .max_decoding_message_size(max_decoded)
        .max_encoding_message_size(MAX_ENCODED_BYTES);
    let flagd = pb::flagd::service_server::ServiceServer::new(flagd::Flagd::new(state.clone()))
        .max_decoding_message_size(max_decoded)
        .max_encoding_message_size(MAX_ENCODED_BYTES);
    let flagd_v2 =
        pb::flagd_v2::service_server::ServiceServer::new(flagd::Flagd::new(state.clone()))
            .max_decoding_message_size(max_decoded)
            .max_encoding_message_size(MAX_ENCODED_BYTES);
    let ofrep =
        pb::ofrep::ofrep_service_server::OfrepServiceServer::new(ofrep::Ofrep::new(state.clone()))
            .max_decoding_message_size(max_decoded)
            .max_encoding_message_size(MAX_ENCODED_BYTES);

    let mut builder = tonic::transport::Server::builder()
        .timeout(CALL_TIMEOUT)
        .max_concurrent_streams(MAX_STREAMS)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .tcp_nodelay(true);
    if let Some(age) = grpc.max_connection_age {
        builder = builder.max_connection_age(age);
    }
    if let Some(grace) = grpc.max_connection_age_grace {
        builder = builder.max_connection_age_grace(grace);
    }
    let router = builder
        .add_service(health_service)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reflection,
            auth::grpc(state.clone(), Need::Read),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            evaluation,
            auth::grpc(state.clone(), Need::Evaluation),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            client,
            auth::grpc(state.clone(), Need::Evaluation),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            ofrep,
            auth::grpc(state.clone(), Need::Evaluation),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            flagd,
            auth::grpc(state.clone(), Need::Evaluation),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            flagd_v2,
            auth::grpc(state.clone(), Need::Evaluation),
        ));

    let mut stop = state.stop_signal();
    let stopped = {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
    };
    let incoming = incoming::connections(listener, tls, limits, state.stop_signal());
    let served = router.serve_with_incoming_shutdown(incoming, stopped);
    tokio::pin!(served);
    tokio::select! {
        r = &mut served => r.map_err(|e| ServeError::Grpc(e.to_string())),
        _ = async {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(grace + Duration::from_secs(1)).await;
        } => {
            tracing::warn!("gRPC calls still open after the shutdown grace period");
            Ok(())
        }
    }
}

/// The request id an answer carries: the message's, else the `x-request-id` metadata, else a
/// new one (as the HTTP handlers pick it).
fn request_id(given: &str, metadata: &tonic::metadata::MetadataMap) -> String {
    if !given.is_empty() {
        return given.to_string();
    }
    match metadata.get("x-request-id").and_then(|v| v.to_str().ok()) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => crate::request_id().to_string(),
    }
}

/// `X-Flipt-Environment` of the call's metadata.
fn environment_header(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    metadata
        .get("x-flipt-environment")
        .and_then(|v| v.to_str().ok())
}

/// Sets `x-switchyard-commit` on an answer, as the HTTP answers carry it.
fn with_commit<T>(
    state: &AppState,
    message: T,
    env_key: &str,
    env: &switchyard_core::Environment,
) -> tonic::Response<T> {
    let mut response = tonic::Response::new(message);
    if let Some(v) = state.commit_headers().get(env_key, env)
        && let Ok(v) = tonic::metadata::MetadataValue::try_from(v.as_bytes())
    {
        response.metadata_mut().insert("x-switchyard-commit", v);
    }
    response
}
