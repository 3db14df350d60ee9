//! A running sync over a temporary directory, and request helpers.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use switchyard_core::{ExtraChecks, Limits};
use switchyard_server::{AppState, ServerConfig};
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig, SyncHandle};
use tower::ServiceExt;

pub const FLAGS: &str = r#"version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - {key: control, default: true}
      - {key: treatment, attachment: {color: blue}}
    rules:
      - segment: pro
        distributions: [{variant: treatment, rollout: 100}]
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: pro, value: true}
  - key: off
    name: Off
    enabled: false
    variants: [{key: a}]
segments:
  - key: pro
    name: Pro
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
"#;

/// A sync of a temporary directory plus the router state.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub sync: Arc<SyncHandle>,
}

impl Fixture {
    pub async fn new(config: ServerConfig) -> Fixture {
        Fixture::with_flags(config, FLAGS).await
    }

    /// A fixture whose directory starts with `flags` as its only flag file.
    pub async fn with_flags(config: ServerConfig, flags: &str) -> Fixture {
        Fixture::with_flags_checked(config, flags, ExtraChecks::Error).await
    }

    /// [`Fixture::with_flags`] with `validation.extra_checks` set to `extra_checks`.
    pub async fn with_flags_checked(
        config: ServerConfig,
        flags: &str,
        extra_checks: ExtraChecks,
    ) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("features.yaml"), flags).expect("write");
        let mut storage = StorageConfig::local_directory(dir.path());
        storage.poll_interval = Duration::from_secs(1);
        let mut sync_config = SyncConfig {
            extra_checks,
            ..SyncConfig::default()
        };
        sync_config.storage.insert("default".into(), storage);
        sync_config.environments.insert(
            "default".into(),
            EnvironmentConfig {
                default: true,
                ..EnvironmentConfig::new("default", "")
            },
        );
        let sync = Arc::new(
            SyncHandle::start_and_wait(sync_config.clone(), Limits::default())
                .await
                .expect("sync starts"),
        );
        let state = AppState::new(sync.clone(), &sync_config, config);
        Fixture { dir, state, sync }
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        switchyard_server::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible")
    }

    /// Sends and reads the whole body as JSON (Null when empty).
    pub async fn call(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let resp = self.send(req).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, v)
    }

    /// Rewrites the flag file and waits until the environment's digest changes.
    pub async fn rewrite(&self, text: &str) {
        let before = self
            .sync
            .environment("default")
            .expect("env")
            .digest
            .clone();
        std::fs::write(self.dir.path().join("features.yaml"), text).expect("write");
        for _ in 0..100 {
            self.sync.trigger("default");
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.sync.environment("default").expect("env").digest != before {
                return;
            }
        }
        panic!("the new content was not served within 5 s");
    }

    /// Rewrites the flag file with invalid content and waits until the sync has rejected it.
    pub async fn rewrite_unchecked(&self, text: &str) {
        std::fs::write(self.dir.path().join("features.yaml"), text).expect("write");
        for _ in 0..100 {
            self.sync.trigger("default");
            tokio::time::sleep(Duration::from_millis(50)).await;
            let status = self.sync.status("default").expect("status");
            if !status.validation_errors.is_empty() {
                return;
            }
        }
        panic!("the invalid content was not rejected within 5 s");
    }
}

pub fn post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// The server on a loopback port, stopped on drop.
pub struct Running {
    pub fixture: Fixture,
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), switchyard_server::ServeError>>>,
}

impl Running {
    /// Starts a fixture with `config` and serves it on 127.0.0.1 (any port).
    pub async fn start(config: ServerConfig) -> Running {
        let fixture = Fixture::new(config).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(switchyard_server::serve(
            listener,
            fixture.state.clone(),
            async move {
                let _ = rx.await;
            },
        ));
        Running {
            fixture,
            addr,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the server and waits (at most 15 s) until `serve` returns.
    pub async fn stop(mut self) -> Result<(), switchyard_server::ServeError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("task");
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
