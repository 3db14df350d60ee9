//! Shared state of the HTTP layer: the sync's read side, environment descriptions, settings,
//! metrics, and the shutdown signal that ends open streams.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::http::HeaderMap;
use switchyard_core::Environment;
use switchyard_sync::{Followed, Outcome, SyncHandle};
use tokio::sync::watch;

use crate::api::StateLines;
use crate::bodies::SnapshotBodies;
use crate::commit_header::CommitHeaders;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ofrep_pieces::BulkPiecesCache;
use crate::sync_json::outcome_name;

/// The access log (opened here: `ServerConfig::validate` has checked it can be) and the
/// per-request telemetry; the observable metrics are registered on the meter once.
fn observer(config: &ServerConfig, metrics: &Arc<Metrics>) -> Option<Arc<crate::edge::Observer>> {
    if let Some(meter) = config.telemetry.meter() {
        crate::telemetry::observe_metrics(meter, metrics);
    }
    let access_log = config.access_log.as_ref().and_then(|target| {
        match crate::access_log::AccessLog::start(target) {
            Ok(log) => Some(log),
            Err(e) => {
                tracing::error!(target = %target, error = %e, "access log: cannot open it; requests are not logged");
                None
            }
        }
    });
    if access_log.is_none() && !config.telemetry.is_on() {
        return None;
    }
    Some(Arc::new(crate::edge::Observer {
        access_log,
        telemetry: config.telemetry.clone(),
    }))
}

/// The state handed to every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    sync: Arc<SyncHandle>,
    default_environment: String,
    config: ServerConfig,
    metrics: Arc<Metrics>,
    stopping: watch::Sender<bool>,
    /// When the server state was made (how long a first sync has been awaited).
    started: Instant,
    /// Set when shutdown begins: `/ready` answers 503 from then on.
    draining: AtomicBool,
    /// Latched once an environment serves a valid snapshot (it never goes back).
    serving: HashMap<String, AtomicBool>,
    bodies: SnapshotBodies,
    bulk_pieces: BulkPiecesCache,
    commit_headers: CommitHeaders,
    /// The relay stream's `state` lines, built once per swap.
    relay_lines: StateLines,
    /// Relay mode: the HTTP client for the upstream.
    relay_client: Option<reqwest::Client>,
    /// The access log and OpenTelemetry per request, when either is on (shared by every
    /// service made from this state).
    observer: Option<Arc<crate::edge::Observer>>,
    /// Diffs computed at once (`/api/v1/environments/{env}/diff`).
    diff_permits: Arc<tokio::sync::Semaphore>,
    /// Change notifications: one outbox per configured sink (none on a relay).
    outboxes: Arc<[crate::notify::Outbox]>,
}

/// Diffs between commits computed at once; more get a 503.
pub(crate) const MAX_DIFFS: usize = 2;

impl AppState {
    /// State over a running sync; what each environment follows comes from the sync itself.
    pub fn new(sync: Arc<SyncHandle>, config: ServerConfig) -> Self {
        let default_environment = sync
            .environments()
            .iter()
            .find(|e| e.default)
            .map_or_else(|| "default".to_string(), |e| e.key.clone());
        let serving = sync
            .environment_keys()
            .map(|k| (k.to_string(), AtomicBool::new(false)))
            .collect();
        let commit_headers = CommitHeaders::new(sync.environment_keys());
        let config_upstream = config.upstream.clone();
        let metrics: Arc<Metrics> = Arc::default();
        let observer = observer(&config, &metrics);
        let outboxes: Arc<[crate::notify::Outbox]> =
            crate::notifier::outboxes(&config.notifications, config_upstream.is_some()).into();
        let state = AppState {
            inner: Arc::new(Inner {
                sync,
                default_environment,
                config,
                metrics,
                stopping: watch::channel(false).0,
                started: Instant::now(),
                draining: AtomicBool::new(false),
                serving,
                bodies: SnapshotBodies::default(),
                bulk_pieces: BulkPiecesCache::default(),
                commit_headers,
                relay_lines: StateLines::default(),
                diff_permits: Arc::new(tokio::sync::Semaphore::new(MAX_DIFFS)),
                relay_client: config_upstream
                    .as_ref()
                    .and_then(|_| crate::relay::client()),
                observer,
                outboxes,
            }),
        };
        state.record_sync_metrics();
        crate::notifier::spawn(
            Arc::downgrade(&state.inner.sync),
            state.inner.outboxes.clone(),
            state.stop_signal(),
        );
        state.follow_upstream();
        state
    }

    /// The access log and OpenTelemetry per request, when either is on.
    pub(crate) fn observer(&self) -> Option<Arc<crate::edge::Observer>> {
        self.inner.observer.clone()
    }

    /// Relay mode: starts the client that feeds the upstream's states to the sync.
    fn follow_upstream(&self) {
        let (Some(upstream), Some(client)) =
            (&self.inner.config.upstream, &self.inner.relay_client)
        else {
            return;
        };
        let keys: Vec<String> = self
            .environments()
            .iter()
            .filter(|f| f.upstream().is_some())
            .map(|f| f.key.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        crate::relay::spawn(
            Arc::downgrade(&self.inner.sync),
            keys,
            upstream.clone(),
            client.clone(),
            self.stop_signal(),
        );
    }

    /// The relay stream's shared `state` lines.
    pub(crate) fn relay_lines(&self) -> &StateLines {
        &self.inner.relay_lines
    }

    /// Relay mode: the HTTP client for the upstream.
    pub(crate) fn relay_client(&self) -> Option<&reqwest::Client> {
        self.inner.relay_client.as_ref()
    }

    /// Feeds sync attempts into the metrics, from a task that ends with the server.
    fn record_sync_metrics(&self) {
        for key in self.inner.sync.environment_keys() {
            self.inner.metrics.snapshot_seen(key);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut attempts = self.inner.sync.subscribe_attempts();
        let mut stop = self.stop_signal();
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            loop {
                let next = tokio::select! {
                    a = attempts.recv() => a,
                    _ = stop.wait_for(|s| *s) => return,
                };
                let Some(inner) = weak.upgrade() else { return };
                match next {
                    Ok((env, attempt)) => {
                        let class = match &attempt.outcome {
                            // not a sync attempt: counted by the break-glass gauges
                            Outcome::BreakGlass { .. } => continue,
                            Outcome::Unchanged | Outcome::Applied | Outcome::Held { .. } => None,
                            Outcome::Rejected { .. } => Some("validation".to_string()),
                            Outcome::Failed { class, .. } => Some(class.as_str().to_string()),
                        };
                        inner.metrics.sync_attempt(
                            &env,
                            outcome_name(&attempt.outcome),
                            class,
                            std::time::Duration::from_millis(attempt.duration_ms),
                        );
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// The change-notification outboxes (for `/metrics`).
    pub(crate) fn outboxes(&self) -> &[crate::notify::Outbox] {
        &self.inner.outboxes
    }

    /// Gives queued notifications at most `grace` to go out (at shutdown).
    pub(crate) async fn drain_notifications(&self, grace: std::time::Duration) {
        crate::notifier::drain(&self.inner.outboxes, grace).await;
    }

    /// The sync, shared (for blocking threads).
    pub(crate) fn sync_arc(&self) -> Arc<SyncHandle> {
        self.inner.sync.clone()
    }

    /// The permits of diffs between commits (at most [`MAX_DIFFS`] at once).
    pub(crate) fn diff_permits(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.inner.diff_permits
    }

    /// The sync's read side.
    pub fn sync(&self) -> &SyncHandle {
        &self.inner.sync
    }

    /// Environment descriptions, by key order.
    pub fn environments(&self) -> &[Followed] {
        self.inner.sync.environments()
    }

    /// The default environment's key.
    pub fn default_environment(&self) -> &str {
        &self.inner.default_environment
    }

    /// Server settings.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Serialised client snapshots, shared by requests and streams.
    pub(crate) fn bodies(&self) -> &SnapshotBodies {
        &self.inner.bodies
    }

    /// The prebuilt pieces of OFREP bulk answers.
    pub(crate) fn bulk_pieces(&self) -> &BulkPiecesCache {
        &self.inner.bulk_pieces
    }

    /// `X-Switchyard-Commit` values, one per served snapshot.
    pub(crate) fn commit_headers(&self) -> &CommitHeaders {
        &self.inner.commit_headers
    }

    /// Counters and histograms for `/metrics`.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Set to true when the server shuts down; open streams end then.
    pub(crate) fn stopping(&self) -> watch::Sender<bool> {
        self.inner.stopping.clone()
    }

    /// Shutdown has begun: `/ready` says `shutting down` from now on.
    pub(crate) fn begin_draining(&self) {
        self.inner.draining.store(true, Ordering::Release);
    }

    /// What `/ready` answers 200 for: every environment serves a valid snapshot and shutdown
    /// has not begun (also gRPC health's `SERVING`).
    pub(crate) fn is_ready(&self) -> bool {
        !self.draining()
            && self
                .sync()
                .environment_keys()
                .all(|k| self.readiness(k).is_ok())
    }

    /// Whether shutdown has begun.
    pub(crate) fn draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }

    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// Picks the environment: an explicit key, else `X-Flipt-Environment`, else the default.
    pub(crate) fn environment_key(&self, explicit: Option<&str>, headers: &HeaderMap) -> String {
        explicit
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                headers
                    .get("x-flipt-environment")
                    .and_then(|v| v.to_str().ok())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| self.inner.default_environment.clone())
    }

    /// The environment an evaluation uses, as Flipt v2 picks it (`EnvironmentStore.Get`, then
    /// `GetFromContext`): `key` when it names one; else the `X-Flipt-Environment` header's when
    /// it names one; else the default one when the header is absent or says `default`. An
    /// unknown header is a 404 in Flipt's words; an unknown `key` alone is not an error.
    /// `header` is the `X-Flipt-Environment` value (an HTTP header or gRPC metadata).
    pub(crate) fn evaluation_environment_named(
        &self,
        key: &str,
        header: Option<&str>,
    ) -> Result<&str, ApiError> {
        if let Some((k, _)) = self.inner.serving.get_key_value(key) {
            return Ok(k);
        }
        let Some(h) = header.filter(|s| !s.is_empty()) else {
            return Ok(&self.inner.default_environment);
        };
        match self.inner.serving.get_key_value(h) {
            Some((k, _)) => Ok(k),
            None if h == "default" => Ok(&self.inner.default_environment),
            None => Err(ApiError::not_found(format!(
                "failed to get environment \"{h}\" from context: environment: \"{h}\" not found"
            ))),
        }
    }

    /// The environment served now; a 404 naming an unknown one, a 503 saying why one that has
    /// no valid snapshot yet cannot answer.
    pub(crate) fn snapshot(&self, key: &str) -> Result<Arc<Environment>, ApiError> {
        let env = self
            .inner
            .sync
            .environment(key)
            .ok_or_else(|| ApiError::not_found(format!("environment \"{key}\" not found")))?;
        self.readiness(key).map_err(ApiError::not_ready)?;
        Ok(env)
    }

    /// Whether `key` serves a valid snapshot yet (see [`crate::readiness::readiness`]); one
    /// atomic load once it does.
    pub(crate) fn readiness(&self, key: &str) -> Result<(), String> {
        let latch = self.inner.serving.get(key);
        if latch.is_some_and(|l| l.load(Ordering::Acquire)) {
            return Ok(());
        }
        let Some(status) = self.inner.sync.status(key) else {
            return Err(format!("environment \"{key}\" not found"));
        };
        crate::readiness::readiness(key, (&status).into(), self.inner.started.elapsed())?;
        if let Some(l) = latch {
            l.store(true, Ordering::Release);
        }
        Ok(())
    }
}
