//! Switchyard's HTTP server: Flipt's evaluation API, Flipt's client snapshots and streams, OFREP,
//! the sync status and history API with live SSE, Git webhooks, Prometheus metrics, health, the
//! OpenAPI document and the embedded dashboard.
//!
//! The server only reads: every request takes the environment's current `Arc<Environment>` once
//! from the [`switchyard_sync::SyncHandle`] and answers from it, so a batch or a bulk answer never
//! mixes two commits. It is the only crate that knows the wire formats.

mod access_log;
pub mod api;
mod auth;
mod bodies;
mod body;
mod commit_header;
pub mod config;
mod conn;
mod cors;
mod dashboard;
mod edge;
mod error;
#[cfg(test)]
mod fixtures;
mod go_json;
mod grpc;
pub mod impact_json;
mod listener;
mod metrics;
mod notifier;
pub mod notify;
mod ofrep_pieces;
mod openapi;
mod readiness;
mod relay;
pub mod responses;
mod state;
mod sync_json;
pub mod telemetry;
mod time;
pub use time::Timestamp;
pub mod tls;
mod xxh64;

pub use access_log::AccessLogTarget;
pub use config::{
    AuthConfig, ConfigError, ConnectionLimits, GrpcConfig, Scope, ServerConfig, TlsConfig, Token,
    UpstreamConfig, WebhookSecrets,
};
pub use grpc::serve_grpc;
pub use listener::{ServeError, serve};
pub use state::AppState;
pub use tls::TlsError;

/// A new request id, shaped like Flipt's UUID v4: random bits chosen once per process and a
/// counter, so ids are unique without a system call per request.
pub fn request_id() -> uuid::Uuid {
    api::fast_uuid()
}

/// The whole HTTP service: every route behind the shared layers (request ids, panics, CORS).
pub fn app(state: AppState) -> App {
    api::service(state)
}

/// The service [`app`] returns; answer requests with `tower::ServiceExt::oneshot` or [`serve`].
pub type App = api::Service;
