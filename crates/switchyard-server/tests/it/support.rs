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

/// The router state over a sync of a temporary directory, or over a given environment.
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
        Fixture::with_environment(config, flags, "default").await
    }

    /// A fixture serving `flags` as the (default) environment `env_key`.
    pub async fn with_environment(config: ServerConfig, flags: &str, env_key: &str) -> Fixture {
        Fixture::directory(config, flags, env_key, ExtraChecks::Error).await
    }

    /// [`Fixture::with_flags`] with `validation.extra_checks` set to `extra_checks`.
    pub async fn with_flags_checked(
        config: ServerConfig,
        flags: &str,
        extra_checks: ExtraChecks,
    ) -> Fixture {
        Fixture::directory(config, flags, "default", extra_checks).await
    }

    async fn directory(
        config: ServerConfig,
        flags: &str,
        env_key: &str,
        extra_checks: ExtraChecks,
    ) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("features.yaml"), flags).expect("write");
        let mut storage = StorageConfig::local_directory(dir.path());
        storage.poll_interval = Duration::from_secs(1);
        Fixture::start(dir, storage, config, env_key, extra_checks).await
    }

    /// A fixture following branch `main` of a real Git repository (a `file://` remote, the
    /// fixture's directory) whose first commit holds `flags` as `features.yaml`.
    pub async fn with_git(config: ServerConfig, flags: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("features.yaml"), flags).expect("write");
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "first flags"]);
        let mut storage = StorageConfig::remote(format!("file://{}", dir.path().display()));
        storage.poll_interval = Duration::from_secs(1);
        Fixture::start(dir, storage, config, "default", ExtraChecks::Error).await
    }

    async fn start(
        dir: tempfile::TempDir,
        storage: StorageConfig,
        config: ServerConfig,
        env_key: &str,
        extra_checks: ExtraChecks,
    ) -> Fixture {
        let mut sync_config = SyncConfig {
            extra_checks,
            ..SyncConfig::default()
        };
        sync_config.storage.insert("default".into(), storage);
        sync_config.environments.insert(
            env_key.into(),
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
        let state = AppState::new(sync.clone(), config);
        Fixture { dir, state, sync }
    }

    /// A fixture whose environment `default` is compiled from `flags` and handed to the server
    /// as given: no directory, no sync thread (for tests that only read).
    pub fn given(config: ServerConfig, flags: &str) -> Fixture {
        let env = switchyard_core::compile_environment(
            "default",
            &[switchyard_core::SourceFile::new("features.yaml", flags)],
            &Limits::default(),
        )
        .expect("valid flags");
        let sync = Arc::new(SyncHandle::fixed(vec![env]));
        let state = AppState::new(sync.clone(), config);
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
            state,
            sync,
        }
    }

    /// Syncs now and waits for that cycle (bounded: 10 s).
    async fn sync_now(&self) {
        let synced = tokio::time::timeout(Duration::from_secs(10), self.sync.sync_now("default"))
            .await
            .expect("a sync cycle within 10 s");
        assert!(synced, "the fixture's environment syncs");
    }

    /// Writes `files` (path below the directory, text) and, for a Git fixture, commits them;
    /// then asks the sync to look now. Returns the commit (empty for a plain directory).
    pub fn change(&self, files: &[(&str, &str)]) -> String {
        for (path, text) in files {
            let path = self.dir.path().join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(path, text).expect("write");
        }
        let mut sha = String::new();
        if self.dir.path().join(".git").exists() {
            git(self.dir.path(), &["add", "-A"]);
            git(self.dir.path(), &["commit", "-q", "-m", "change flags"]);
            sha = git(self.dir.path(), &["rev-parse", "HEAD"]);
        }
        self.sync.trigger("default");
        sha
    }

    /// A fixture serving each `(key, flags)` as an environment rooted at the directory `key`
    /// of one storage; the first is the default.
    pub async fn with_environments(config: ServerConfig, envs: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut storage = StorageConfig::local_directory(dir.path());
        storage.poll_interval = Duration::from_secs(1);
        let mut sync_config = SyncConfig::default();
        sync_config.storage.insert("default".into(), storage);
        for (i, (key, flags)) in envs.iter().enumerate() {
            std::fs::create_dir_all(dir.path().join(key)).expect("mkdir");
            std::fs::write(dir.path().join(key).join("features.yaml"), flags).expect("write");
            sync_config.environments.insert(
                (*key).into(),
                EnvironmentConfig {
                    default: i == 0,
                    ..EnvironmentConfig::new("default", *key)
                },
            );
        }
        let sync = Arc::new(
            SyncHandle::start_and_wait(sync_config.clone(), Limits::default())
                .await
                .expect("sync starts"),
        );
        let state = AppState::new(sync.clone(), config);
        Fixture { dir, state, sync }
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        switchyard_server::app(self.state.clone())
            .oneshot(req)
            .await
            .expect("infallible")
    }

    /// Sends and reads the whole body as text.
    pub async fn call_text(&self, req: Request<Body>) -> (StatusCode, String) {
        let resp = self.send(req).await;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
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

    /// Rewrites the flag file and syncs it in.
    pub async fn rewrite(&self, text: &str) {
        let before = self
            .sync
            .environment("default")
            .expect("env")
            .digest
            .clone();
        std::fs::write(self.dir.path().join("features.yaml"), text).expect("write");
        self.sync_now().await;
        let after = &self.sync.environment("default").expect("env").digest;
        assert_ne!(after, &before, "the new content is served");
    }

    /// Rewrites the flag file with invalid content and syncs it (it is rejected).
    pub async fn rewrite_unchecked(&self, text: &str) {
        std::fs::write(self.dir.path().join("features.yaml"), text).expect("write");
        self.sync_now().await;
        let status = self.sync.status("default").expect("status");
        assert!(
            !status.validation_errors.is_empty(),
            "the invalid content is rejected: {status:?}"
        );
    }
}

/// Runs `git` in `dir` (a fixed author, no user configuration read) and returns its trimmed
/// output; panics with its error output when it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
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
        Running::serve(Fixture::new(config).await).await
    }

    /// Serves `fixture` on 127.0.0.1 (any port).
    pub async fn serve(fixture: Fixture) -> Running {
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
