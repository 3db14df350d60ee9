//! Flipt v2's `evaluation.ClientEvaluationService`: the client snapshot Flipt's SDKs evaluate
//! (`EvaluationSnapshotNamespace`) and its stream (`EvaluationSnapshotNamespaceStream`).
//!
//! The snapshot has one writer, the core's `export::write_client_snapshot` (the JSON served on
//! `/client/v2/…`, cached per digest by [`crate::bodies`]); here that JSON is transcoded into the
//! protobuf message with the vendored descriptors (protobuf's JSON mapping, unknown fields
//! refused), so both encodings carry the same snapshot.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt as _};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use tonic::{Request, Response, Status};

use super::pb::flipt_v2 as pb;
use crate::api::namespace_changes;
use crate::error::ApiError;
use crate::state::AppState;

/// Past this many flags the transcoding runs on a blocking thread.
const BLOCKING_FLAGS: usize = 1000;

/// The service over the server's state.
pub(super) struct ClientEvaluation {
    state: AppState,
    snapshot: MessageDescriptor,
}

impl ClientEvaluation {
    /// Fails only if the build's descriptors lack the snapshot message.
    pub(super) fn new(state: AppState) -> Result<Self, String> {
        let pool = DescriptorPool::decode(super::pb::DESCRIPTORS).map_err(|e| e.to_string())?;
        let snapshot = pool
            .get_message_by_name("evaluation.EvaluationNamespaceSnapshot")
            .ok_or("evaluation.EvaluationNamespaceSnapshot is missing")?;
        Ok(ClientEvaluation { state, snapshot })
    }
}

/// The snapshot's JSON as the protobuf message.
fn transcode(
    desc: MessageDescriptor,
    json: &[u8],
) -> Result<pb::EvaluationNamespaceSnapshot, Status> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let dynamic = DynamicMessage::deserialize(desc, &mut de)
        .map_err(|e| Status::internal(format!("client snapshot transcoding: {e}")))?;
    pb::EvaluationNamespaceSnapshot::decode(dynamic.encode_to_vec().as_slice())
        .map_err(|e| Status::internal(format!("client snapshot transcoding: {e}")))
}

/// The environment a request names (an unknown one is `NOT_FOUND`, as on `/client/v2/…`), else
/// the `x-flipt-environment` one, else the default.
fn environment_key(
    state: &AppState,
    given: &str,
    metadata: &tonic::metadata::MetadataMap,
) -> Result<String, Status> {
    if given.is_empty() {
        return Ok(state
            .evaluation_environment_named("", super::environment_header(metadata))?
            .to_string());
    }
    if state.sync().environment(given).is_none() {
        return Err(ApiError::not_found(format!("environment \"{given}\" not found")).into());
    }
    Ok(given.to_string())
}

/// The namespace's snapshot as served now, with its digest.
async fn snapshot(
    state: &AppState,
    desc: &MessageDescriptor,
    env_key: &str,
    ns: &str,
) -> Result<(String, pb::EvaluationNamespaceSnapshot), Status> {
    let env = state.snapshot(env_key)?;
    let namespace = env.namespace(ns).ok_or_else(|| {
        ApiError::not_found(format!(
            "evaluation snapshot for namespace \"{ns}\" not found"
        ))
    })?;
    let digest = namespace.digest.clone();
    let large = namespace.flags.len() > BLOCKING_FLAGS;
    let json = state.bodies().client_snapshot(env_key, &env, ns).await?;
    let desc = desc.clone();
    let message = if large {
        tokio::task::spawn_blocking(move || transcode(desc, &json))
            .await
            .map_err(|e| Status::internal(format!("client snapshot transcoding: {e}")))??
    } else {
        transcode(desc, &json)?
    };
    Ok((digest, message))
}

type Snapshots =
    Pin<Box<dyn Stream<Item = Result<pb::EvaluationNamespaceSnapshot, Status>> + Send>>;

#[tonic::async_trait]
impl pb::client_evaluation_service_server::ClientEvaluationService for ClientEvaluation {
    async fn evaluation_snapshot_namespace(
        &self,
        request: Request<pb::EvaluationNamespaceSnapshotRequest>,
    ) -> Result<Response<pb::EvaluationNamespaceSnapshot>, Status> {
        let r = request.get_ref();
        let env_key = environment_key(&self.state, &r.environment_key, request.metadata())?;
        self.state.metrics().snapshot_request(&env_key, &r.key);
        let (_, message) = snapshot(&self.state, &self.snapshot, &env_key, &r.key).await?;
        let env = self.state.snapshot(&env_key)?;
        Ok(super::with_commit(&self.state, message, &env_key, &env))
    }

    type EvaluationSnapshotNamespaceStreamStream = Snapshots;

    /// The snapshot now (unless its digest is the request's) and after every change, a digest
    /// equal to the last one sent skipped and an absent namespace silent, as on HTTP.
    async fn evaluation_snapshot_namespace_stream(
        &self,
        request: Request<pb::EvaluationNamespaceSnapshotStreamRequest>,
    ) -> Result<Response<Snapshots>, Status> {
        let env_key = environment_key(
            &self.state,
            &request.get_ref().environment_key,
            request.metadata(),
        )?;
        let r = request.into_inner();
        let mut last = match r.digest.filter(|d| !d.is_empty()) {
            None => None,
            Some(d) if d.chars().count() == 40 => Some(d),
            Some(_) => {
                return Err(Status::invalid_argument(
                    "invalid field digest: must be a 40-character string",
                ));
            }
        };
        let rx = self
            .state
            .sync()
            .watch(&env_key)
            .ok_or_else(|| Status::not_found(format!("environment \"{env_key}\" not found")))?;
        let state = self.state.clone();
        let desc = self.snapshot.clone();
        let (env_key, ns) = (Arc::<str>::from(env_key), Arc::<str>::from(r.key));
        let messages = namespace_changes(state.clone(), rx, ns.to_string(), false)
            .filter_map(move |_| {
                let (state, desc, env_key, ns) =
                    (state.clone(), desc.clone(), env_key.clone(), ns.clone());
                async move { snapshot(&state, &desc, &env_key, &ns).await.ok() }
            })
            .filter_map(move |(digest, message)| {
                let new = last.as_deref() != Some(digest.as_str());
                if new {
                    last = Some(digest);
                }
                std::future::ready(new.then_some(Ok(message)))
            });
        Ok(Response::new(Box::pin(messages)))
    }
}
