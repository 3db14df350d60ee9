//! Flipt v2's environments API (`rpc/v2/environments/environments.proto`), the management API
//! Flipt's UI reads: namespaces, flag and segment resources and branch listings, answered from
//! the served snapshot in Flipt's shapes and messages. Switchyard is read-only (its flags change
//! through Git), so every write endpoint answers 501 saying so.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_core::{Environment, Namespace, export};

use crate::error::ApiError;
use crate::state::AppState;

/// The namespace Flipt's environments API always has, declared or not
/// (`internal/storage/environments/fs/namespaces.go`).
const DEFAULT_NAMESPACE: NamespaceOut<'static> = NamespaceOut {
    key: "default",
    name: "default",
    description: "The default namespace",
    protected: true,
};

/// Flipt's `environments.Namespace` message.
#[derive(Serialize)]
struct NamespaceOut<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    protected: bool,
}

impl<'a> NamespaceOut<'a> {
    /// As Flipt reads a declared namespace: the name falls back to the key.
    fn new(ns: &'a Namespace) -> Self {
        NamespaceOut {
            key: &ns.key,
            name: ns
                .name
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(&ns.key),
            description: ns.description.as_deref().unwrap_or(""),
            protected: ns.key == DEFAULT_NAMESPACE.key,
        }
    }
}

/// The served environment `key`, with Flipt's message for an unknown one
/// (`EnvironmentStore.Get`), or a 503 while it has no valid snapshot yet.
fn environment(state: &AppState, key: &str) -> Result<Arc<Environment>, ApiError> {
    if !state.environments().iter().any(|e| e.key == key) {
        return Err(ApiError::not_found(format!(
            "environment: \"{key}\" not found"
        )));
    }
    state.snapshot(key)
}

/// Flipt's `revision`: the commit the served snapshot was read from (empty for a plain
/// directory, which has none).
fn revision(state: &AppState, key: &str) -> String {
    state
        .sync()
        .status(key)
        .and_then(|s| s.serving_commit)
        .map(|c| c.sha)
        .unwrap_or_default()
}

fn json_body(body: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

/// Appends `,"revision":"…"}`, closing a response object.
fn close_with_revision(out: &mut Vec<u8>, revision: &str) {
    out.extend_from_slice(b",\"revision\":");
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, revision);
    out.push(b'}');
}

/// `GET /api/v2/environments/{env}/namespaces` → `{"items": [Namespace], "revision"}`; `default`
/// comes first when no file declares it, as Flipt lists it.
pub(crate) async fn list_namespaces(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> Result<Response, ApiError> {
    let env = environment(&state, &env_key)?;
    let mut items: Vec<NamespaceOut<'_>> = Vec::with_capacity(env.namespaces.len() + 1);
    if env.namespace(DEFAULT_NAMESPACE.key).is_none() {
        items.push(DEFAULT_NAMESPACE);
    }
    items.extend(env.namespaces.values().map(|n| NamespaceOut::new(n)));
    let mut out = b"{\"items\":".to_vec();
    serde_json::to_writer(&mut out, &items)
        .map_err(|e| ApiError::internal(format!("writing the namespaces: {e}")))?;
    close_with_revision(&mut out, &revision(&state, &env_key));
    Ok(json_body(out))
}

/// `GET /api/v2/environments/{env}/namespaces/{ns}` → `{"namespace": Namespace, "revision"}`.
pub(crate) async fn get_namespace(
    State(state): State<AppState>,
    Path((env_key, ns)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let env = environment(&state, &env_key)?;
    let namespace = match env.namespace(&ns) {
        Some(n) => NamespaceOut::new(n),
        None if ns == DEFAULT_NAMESPACE.key => DEFAULT_NAMESPACE,
        None => return Err(ApiError::not_found(format!("namespace \"{ns}\" not found"))),
    };
    let mut out = b"{\"namespace\":".to_vec();
    serde_json::to_writer(&mut out, &namespace)
        .map_err(|e| ApiError::internal(format!("writing the namespace: {e}")))?;
    close_with_revision(&mut out, &revision(&state, &env_key));
    Ok(json_body(out))
}

/// The two resource types Flipt's environments API stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceType {
    Flag,
    Segment,
}

impl ResourceType {
    /// `flipt.core.Flag` or `flipt.core.Segment`, with or without `type.googleapis.com/`; any
    /// other type is Flipt's 404 (`ParseResourceType`, then the storage lookup).
    fn parse(type_url: &str) -> Result<Self, ApiError> {
        let t = type_url
            .strip_prefix("type.googleapis.com/")
            .unwrap_or(type_url);
        match t {
            export::FLAG_TYPE => Ok(ResourceType::Flag),
            export::SEGMENT_TYPE => Ok(ResourceType::Segment),
            _ => {
                // Flipt prints the type as `package.Name`: a type without a dot gets one.
                let shown = if t.contains('.') {
                    t.to_string()
                } else {
                    format!(".{t}")
                };
                Err(ApiError::not_found(format!(
                    "git storage view: resource type \"{shown}\" not found"
                )))
            }
        }
    }

    /// The word in Flipt's messages.
    fn word(self) -> &'static str {
        match self {
            ResourceType::Flag => "flag",
            ResourceType::Segment => "segment",
        }
    }
}

/// `GET /api/v2/environments/{env}/namespaces/{ns}/resources/{type}` →
/// `{"resources": [Resource], "revision"}`; a namespace no file declares has none. Written on a
/// blocking thread, one resource at a time (a namespace may hold thousands of flags).
pub(crate) async fn list_resources(
    State(state): State<AppState>,
    Path((env_key, ns, type_url)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let env = environment(&state, &env_key)?;
    let typ = ResourceType::parse(&type_url)?;
    let revision = revision(&state, &env_key);
    let body = tokio::task::spawn_blocking(move || {
        let mut out = b"{\"resources\":[".to_vec();
        if let Some(namespace) = env.namespace(&ns) {
            match typ {
                ResourceType::Flag => {
                    for (i, f) in namespace.flags.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        export::write_flag_resource(&mut out, &ns, f);
                    }
                }
                ResourceType::Segment => {
                    for (i, s) in namespace.segments.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        export::write_segment_resource(&mut out, &ns, s);
                    }
                }
            }
        }
        out.push(b']');
        close_with_revision(&mut out, &revision);
        out
    })
    .await
    .map_err(|e| ApiError::internal(format!("listing the resources: {e}")))?;
    Ok(json_body(body))
}

/// `GET /api/v2/environments/{env}/namespaces/{ns}/resources/{type}/{key}` →
/// `{"resource": Resource, "revision"}`.
pub(crate) async fn get_resource(
    State(state): State<AppState>,
    Path((env_key, ns, type_url, key)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let env = environment(&state, &env_key)?;
    let typ = ResourceType::parse(&type_url)?;
    let not_found = || {
        let w = typ.word();
        ApiError::not_found(format!("getting {w} {ns}/{key}: {w} {ns}/{key} not found"))
    };
    let namespace = env.namespace(&ns).ok_or_else(not_found)?;
    let mut out = b"{\"resource\":".to_vec();
    match typ {
        ResourceType::Flag => {
            let flag = namespace.flag(&key).ok_or_else(not_found)?;
            export::write_flag_resource(&mut out, &ns, flag);
        }
        ResourceType::Segment => {
            let segment = namespace.segment(&key).ok_or_else(not_found)?;
            export::write_segment_resource(&mut out, &ns, segment);
        }
    }
    close_with_revision(&mut out, &revision(&state, &env_key));
    Ok(json_body(out))
}

/// `GET /api/v2/environments/{env}/branches` → `{"branches": []}`: Switchyard serves no branch
/// environments.
pub(crate) async fn list_branches(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> Result<Response, ApiError> {
    if !state.environments().iter().any(|e| e.key == env_key) {
        return Err(ApiError::not_found(format!(
            "environment: \"{env_key}\" not found"
        )));
    }
    Ok(json_body(b"{\"branches\":[]}".to_vec()))
}

/// 501 (gRPC code 12, unimplemented) for a write: what was asked, that Switchyard is read-only,
/// and where the change goes instead.
fn read_only(state: &AppState, env_key: &str, what: &str) -> ApiError {
    let target = state
        .environments()
        .iter()
        .find(|e| e.key == env_key)
        .map(|e| {
            let dir = if e.directory.is_empty() {
                String::new()
            } else {
                format!(", directory \"{}\"", e.directory)
            };
            match (e.remote(), e.branch()) {
                (Some(remote), Some(branch)) => {
                    format!(" (branch \"{branch}\" of {remote}{dir})")
                }
                (Some(remote), None) => format!(" ({remote}{dir})"),
                _ => String::new(),
            }
        })
        .unwrap_or_default();
    ApiError {
        status: StatusCode::NOT_IMPLEMENTED,
        code: 12,
        message: format!(
            "{what} is not supported: Switchyard is read-only and serves the flag files of its Git \
             repository; commit the change to the repository{target} and the sync applies it"
        ),
    }
}

/// `POST /api/v2/environments/{env}/namespaces` (create namespace): 501, read-only.
pub(crate) async fn create_namespace(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> ApiError {
    read_only(&state, &env_key, "create namespace")
}

/// `PUT /api/v2/environments/{env}/namespaces` (update namespace): 501, read-only.
pub(crate) async fn update_namespace(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> ApiError {
    read_only(&state, &env_key, "update namespace")
}

/// `DELETE /api/v2/environments/{env}/namespaces/{ns}`: 501, read-only.
pub(crate) async fn delete_namespace(
    State(state): State<AppState>,
    Path((env_key, _)): Path<(String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "delete namespace")
}

/// `POST /api/v2/environments/{env}/namespaces/{ns}/resources` (create resource): 501.
pub(crate) async fn create_resource(
    State(state): State<AppState>,
    Path((env_key, _)): Path<(String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "create resource")
}

/// `PUT /api/v2/environments/{env}/namespaces/{ns}/resources` (update resource): 501.
pub(crate) async fn update_resource(
    State(state): State<AppState>,
    Path((env_key, _)): Path<(String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "update resource")
}

/// `DELETE /api/v2/environments/{env}/namespaces/{ns}/resources/{type}/{key}`: 501.
pub(crate) async fn delete_resource(
    State(state): State<AppState>,
    Path((env_key, _, _, _)): Path<(String, String, String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "delete resource")
}

/// `POST /api/v2/environments/{env}/branches` (create branch environment): 501.
pub(crate) async fn create_branch(
    State(state): State<AppState>,
    Path(env_key): Path<String>,
) -> ApiError {
    read_only(&state, &env_key, "create branch environment")
}

/// `DELETE /api/v2/environments/{env}/branches/{key}`: 501.
pub(crate) async fn delete_branch(
    State(state): State<AppState>,
    Path((env_key, _)): Path<(String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "delete branch environment")
}

/// `POST /api/v2/environments/{env}/branches/{key}` (propose environment): 501.
pub(crate) async fn propose(
    State(state): State<AppState>,
    Path((env_key, _)): Path<(String, String)>,
) -> ApiError {
    read_only(&state, &env_key, "propose environment")
}
