//! The sync engine: one poll loop per storage on tokio, publishing each environment's last
//! good snapshot through a `watch` channel.
//!
//! One cycle (fetch → read → validate → swap) runs on the storage's own OS thread, because gix
//! is blocking. The loop waits `poll_interval` between cycles; after a failure it retries sooner,
//! with exponential backoff starting at one second and capped at the interval (so it is never
//! slower than the interval). A trigger ([`SyncHandle::trigger`]) wakes the loop at once; it is
//! coalesced: triggers during a running cycle cause exactly one more cycle.
//!
//! As in Flipt v2 (`store.go`, `updateSnapshot`) an invalid commit is never served and not parsed
//! again; unlike Flipt the reason is kept in the status and the history.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use switchyard_core::{Environment, Limits, Snapshot, compile_environment};
use tokio::sync::{Notify, broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{ConfigError, FetchPolicy, SyncConfig, format_duration};
use crate::diff::{Diff, diff};
use crate::dir::DirSource;
use crate::error::{ErrorClass, SyncError};
use crate::git::{CommitInfo, GitSource};
use crate::history::{Attempt, History, Outcome};
use crate::status::{SyncState, SyncStatus, rfc3339, validation_errors};

/// Sent to subscribers each time an environment's served snapshot is swapped.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// Environment key.
    pub environment: String,
    /// Digest served before.
    pub old_digest: String,
    /// Digest served now.
    pub new_digest: String,
    /// The commit now served (none for a plain directory).
    pub commit: Option<CommitInfo>,
    /// What changed.
    pub diff: Diff,
}

/// Why the sync could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A storage could not be opened (repository, key files, CA).
    #[error("storage {storage:?}: {error}")]
    Open {
        /// Storage id.
        storage: String,
        /// What failed.
        error: SyncError,
    },
    /// The first fetch failed and the storage's fetch policy is strict.
    #[error("storage {storage:?}: performing initial fetch: {error}")]
    InitialFetch {
        /// Storage id.
        storage: String,
        /// What failed.
        error: SyncError,
    },
}

struct EnvSlot {
    storage: String,
    directory: String,
    tx: watch::Sender<Arc<Environment>>,
    status: Mutex<SyncStatus>,
    history: Mutex<History>,
}

struct StorageSlot {
    trigger: Notify,
    started: AtomicU64,
    finished: watch::Sender<u64>,
}

struct Shared {
    envs: BTreeMap<String, EnvSlot>,
    storages: BTreeMap<String, StorageSlot>,
    events: broadcast::Sender<ChangeEvent>,
    /// Bumped after every status change, so watchers can re-read the statuses.
    status_version: watch::Sender<u64>,
    /// Every recorded sync attempt, with its environment (for metrics and live history).
    attempts: broadcast::Sender<(String, Attempt)>,
}

impl Shared {
    /// Tells status watchers that some status changed.
    fn touch(&self) {
        self.status_version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Records an attempt in `key`'s history, publishes it and tells status watchers.
    fn record(&self, key: &str, slot: &EnvSlot, attempt: Attempt) {
        let _ = self.attempts.send((key.to_string(), attempt.clone()));
        lock(&slot.history).push(attempt);
        self.touch();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running sync: read side (snapshots, status, history, events) and control (trigger, stop).
pub struct SyncHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHandle")
            .field("environments", &self.shared.envs.keys().collect::<Vec<_>>())
            .finish()
    }
}

enum Source {
    Git(Box<GitSource>),
    Dir(DirSource),
}

struct Worker {
    storage: String,
    source: Source,
    envs: Vec<String>,
    shared: Arc<Shared>,
    limits: Limits,
    interval: Duration,
    /// Commit id (or directory fingerprint) last processed, served or rejected.
    last_seen: Option<String>,
    failures: u32,
}

/// What one cycle did, for the loop and for startup.
struct CycleReport {
    fetch_error: Option<SyncError>,
    /// Failed fetches in a row after this cycle, for the backoff.
    failures: u32,
}

impl SyncHandle {
    /// Validates `config`, opens every storage, runs each first sync and starts the poll loops.
    ///
    /// With `fetch_policy: strict` a failing first fetch fails here; with `lenient` the
    /// environment starts from the local copy (local backend) or empty, the error in its status.
    pub async fn start(config: SyncConfig, limits: Limits) -> Result<SyncHandle, StartError> {
        config.validate()?;
        let (events, _) = broadcast::channel(64);
        let (attempts, _) = broadcast::channel(256);
        let mut envs = BTreeMap::new();
        for (key, e) in &config.environments {
            let s = &config.storage[&e.storage];
            let (enabled, repository, branch) = match (&s.remote, &s.local_path) {
                (Some(r), _) => {
                    let reference = crate::git::Reference::from_config(s).map_err(|error| {
                        StartError::Open {
                            storage: e.storage.clone(),
                            error,
                        }
                    })?;
                    (true, crate::redact::redact_url(r), reference.label())
                }
                (None, Some(p)) => (false, p.display().to_string(), String::new()),
                (None, None) => (false, String::new(), String::new()),
            };
            let empty = Arc::new(empty_environment(key, &limits));
            let mut status = SyncStatus::new(
                enabled,
                repository,
                branch,
                e.directory.clone(),
                format_duration(s.poll_interval),
            );
            status.digest = empty.digest.clone();
            envs.insert(
                key.clone(),
                EnvSlot {
                    storage: e.storage.clone(),
                    directory: e.directory.clone(),
                    tx: watch::channel(empty).0,
                    status: Mutex::new(status),
                    history: Mutex::new(History::new(config.history_limit)),
                },
            );
        }
        let used: Vec<&String> = config
            .storage
            .keys()
            .filter(|id| config.environments.values().any(|e| &e.storage == *id))
            .collect();
        let storages = used
            .iter()
            .map(|id| {
                (
                    (*id).clone(),
                    StorageSlot {
                        trigger: Notify::new(),
                        started: AtomicU64::new(0),
                        finished: watch::channel(0).0,
                    },
                )
            })
            .collect();
        let shared = Arc::new(Shared {
            envs,
            storages,
            events,
            status_version: watch::channel(0).0,
            attempts,
        });
        let (stop, _) = watch::channel(false);
        let mut workers = Vec::new();
        for id in used {
            let s = config.storage[id].clone();
            let creds = s
                .credentials
                .as_ref()
                .and_then(|c| config.credentials.get(c))
                .cloned();
            let source = if let Some(path) = &s.local_path {
                Source::Dir(DirSource::new(path))
            } else {
                let opened =
                    tokio::task::spawn_blocking(move || GitSource::open(&s, creds.as_ref()))
                        .await
                        .map_err(|e| StartError::Open {
                            storage: id.clone(),
                            error: SyncError::local("opening", e),
                        })?;
                Source::Git(Box::new(opened.map_err(|error| StartError::Open {
                    storage: id.clone(),
                    error,
                })?))
            };
            let s = &config.storage[id];
            let env_keys: Vec<String> = config
                .environments
                .iter()
                .filter(|(_, e)| &e.storage == id)
                .map(|(k, _)| k.clone())
                .collect();
            let worker = Worker {
                storage: id.clone(),
                source,
                envs: env_keys,
                shared: shared.clone(),
                limits,
                interval: s.poll_interval,
                last_seen: None,
                failures: 0,
            };
            let policy = s.fetch_policy;
            let info = LoopInfo {
                storage: id.clone(),
                envs: worker.envs.clone(),
                interval: worker.interval,
                shared: shared.clone(),
            };
            let thread = WorkerThread::spawn(worker).map_err(|e| StartError::Open {
                storage: id.clone(),
                error: SyncError::local("starting the sync thread", e),
            })?;
            let Some(report) = thread.cycle().await else {
                return Err(StartError::Open {
                    storage: id.clone(),
                    error: SyncError::Local("the sync thread stopped during the first sync".into()),
                });
            };
            if let (FetchPolicy::Strict, Some(error)) = (policy, report.fetch_error) {
                thread.stop().await;
                return Err(StartError::InitialFetch {
                    storage: id.clone(),
                    error,
                });
            }
            workers.push((thread, info, report.failures));
        }
        let tasks = workers
            .into_iter()
            .map(|(thread, info, failures)| {
                tokio::spawn(run(thread, info, failures, stop.subscribe()))
            })
            .collect();
        Ok(SyncHandle {
            shared,
            stop,
            tasks,
        })
    }

    /// The environment served now (never blocks on a sync).
    pub fn environment(&self, key: &str) -> Option<Arc<Environment>> {
        self.shared.envs.get(key).map(|e| e.tx.borrow().clone())
    }

    /// All environments served now, as one snapshot.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.envs.values().fold(Snapshot::new(), |s, e| {
            s.with_environment(e.tx.borrow().clone())
        })
    }

    /// A receiver that sees every swap of `key`'s environment.
    pub fn watch(&self, key: &str) -> Option<watch::Receiver<Arc<Environment>>> {
        self.shared.envs.get(key).map(|e| e.tx.subscribe())
    }

    /// Change events of every environment.
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.shared.events.subscribe()
    }

    /// Wakes on every status change of any environment (re-read [`SyncHandle::statuses`]).
    pub fn watch_status(&self) -> watch::Receiver<u64> {
        self.shared.status_version.subscribe()
    }

    /// Every sync attempt as it is recorded, with its environment key.
    pub fn subscribe_attempts(&self) -> broadcast::Receiver<(String, Attempt)> {
        self.shared.attempts.subscribe()
    }

    /// Environment keys.
    pub fn environments(&self) -> Vec<String> {
        self.shared.envs.keys().cloned().collect()
    }

    /// The sync status of `key`.
    pub fn status(&self, key: &str) -> Option<SyncStatus> {
        self.shared.envs.get(key).map(|e| lock(&e.status).clone())
    }

    /// The sync status of every environment, by key.
    pub fn statuses(&self) -> BTreeMap<String, SyncStatus> {
        self.shared
            .envs
            .iter()
            .map(|(k, e)| (k.clone(), lock(&e.status).clone()))
            .collect()
    }

    /// The sync attempts recorded for `key`, oldest first.
    pub fn history(&self, key: &str) -> Option<Vec<Attempt>> {
        self.shared
            .envs
            .get(key)
            .map(|e| lock(&e.history).entries())
    }

    /// Asks the storage of environment `key` to sync now (coalesced with a running sync).
    /// Returns false for an unknown environment.
    pub fn trigger(&self, key: &str) -> bool {
        self.slot_of(key).map(|s| s.trigger.notify_one()).is_some()
    }

    /// Triggers a sync of `key`'s storage and waits until a sync that started after this call
    /// has finished. Returns false for an unknown environment or a stopped sync.
    pub async fn sync_now(&self, key: &str) -> bool {
        let Some(slot) = self.slot_of(key) else {
            return false;
        };
        let target = slot.started.load(Ordering::SeqCst) + 1;
        let mut rx = slot.finished.subscribe();
        slot.trigger.notify_one();
        rx.wait_for(|done| *done >= target).await.is_ok()
    }

    fn slot_of(&self, key: &str) -> Option<&StorageSlot> {
        let env = self.shared.envs.get(key)?;
        self.shared.storages.get(&env.storage)
    }

    /// Stops every poll loop, letting a running cycle finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn empty_environment(key: &str, limits: &Limits) -> Environment {
    compile_environment(key, &[], limits).unwrap_or_else(|_| Environment {
        key: key.to_string(),
        namespaces: BTreeMap::new(),
        digest: String::new(),
    })
}

/// The status message of a rejected commit: how many errors, and the first one.
fn rejection_message(sha: Option<&str>, errors: &[crate::status::ValidationError]) -> String {
    let first = errors
        .first()
        .map(|v| {
            if v.path.is_empty() {
                format!("{}:{}:{}: {}", v.file, v.line, v.column, v.message)
            } else {
                format!(
                    "{}:{}:{}: {}: {}",
                    v.file, v.line, v.column, v.path, v.message
                )
            }
        })
        .unwrap_or_default();
    format!(
        "commit {} rejected: {} validation error(s), first: {first}",
        sha.unwrap_or("-"),
        errors.len()
    )
}

/// The wait before the next cycle: the interval, or after `failures` failures in a row
/// 1s, 2s, 4s, … capped at the interval.
pub fn next_delay(interval: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return interval;
    }
    let backoff = Duration::from_secs(1u64 << failures.saturating_sub(1).min(16));
    backoff.min(interval)
}

/// What the poll loop needs to know about its storage.
struct LoopInfo {
    storage: String,
    envs: Vec<String>,
    interval: Duration,
    shared: Arc<Shared>,
}

/// The OS thread that owns one storage's [`Worker`]: every blocking cycle (gix fetch, tree
/// reads, compile) of that storage runs on it.
///
/// A dedicated thread rather than `spawn_blocking`: with cycles hopping between the blocking
/// pool's threads, glibc gave each thread its own malloc arena, and the peak RSS of a
/// 10,000-flag sync grew from about 81 MiB to about 114 MiB (see BENCHMARKS.md).
struct WorkerThread {
    jobs: Option<std::sync::mpsc::Sender<oneshot::Sender<CycleReport>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl WorkerThread {
    fn spawn(mut worker: Worker) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<oneshot::Sender<CycleReport>>();
        let handle = std::thread::Builder::new()
            .name(format!("sync-{}", worker.storage))
            .spawn(move || {
                worker.restore_last_good();
                while let Ok(reply) = rx.recv() {
                    let _ = reply.send(worker.cycle());
                }
            })?;
        Ok(WorkerThread {
            jobs: Some(tx),
            handle: Some(handle),
        })
    }

    /// Runs one cycle on the thread; `None` if the thread is gone.
    async fn cycle(&self) -> Option<CycleReport> {
        let (tx, rx) = oneshot::channel();
        self.jobs.as_ref()?.send(tx).ok()?;
        rx.await.ok()
    }

    /// Lets a running cycle finish, then ends the thread (dropping the repository, which
    /// removes a memory backend's directory).
    async fn stop(mut self) {
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

async fn run(
    thread: WorkerThread,
    info: LoopInfo,
    mut failures: u32,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let delay = next_delay(info.interval, failures);
        let next = rfc3339(SystemTime::now() + delay);
        for key in &info.envs {
            if let Some(e) = info.shared.envs.get(key) {
                lock(&e.status).next_sync_time = Some(next.clone());
            }
        }
        info.shared.touch();
        let Some(slot) = info.shared.storages.get(&info.storage) else {
            break;
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = slot.trigger.notified() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        match thread.cycle().await {
            Some(report) => failures = report.failures,
            None => {
                tracing::error!(storage = %info.storage, "Git sync error: other: the sync thread stopped; poll loop ended");
                break;
            }
        }
    }
    thread.stop().await;
}

/// What reading one environment at one commit gave.
enum EnvResult {
    Valid(Environment),
    Invalid(SyncError),
}

impl Worker {
    fn env_slot(&self, key: &str) -> Option<&EnvSlot> {
        self.shared.envs.get(key)
    }

    /// Local backend: serve each environment's last good commit at once.
    fn restore_last_good(&mut self) {
        let Source::Git(git) = &self.source else {
            return;
        };
        let mut seen = Vec::new();
        for key in &self.envs {
            let Some(slot) = self.shared.envs.get(key) else {
                continue;
            };
            let Some(commit) = git.last_good(key) else {
                continue;
            };
            let files =
                match crate::tree::read_files(&git.repo(), commit, &slot.directory, &self.limits) {
                    Ok(f) => f,
                    Err(_) => continue,
                };
            if let Ok(env) = compile_environment(key, &files, &self.limits) {
                let info = git.commit_info(commit);
                let env = Arc::new(env);
                {
                    let mut st = lock(&slot.status);
                    st.serving_commit = Some(info);
                    st.flags = env.flag_count();
                    st.digest = env.digest.clone();
                }
                slot.tx.send_replace(env);
                tracing::info!(environment = %key, commit = %commit, "serving the last good commit from the local repository");
                seen.push(commit);
            }
        }
        if seen.len() == self.envs.len() && seen.windows(2).all(|w| w[0] == w[1]) {
            self.last_seen = seen.first().map(|c| c.to_string());
        }
    }

    /// One sync: fetch (or fingerprint), and for anything new read, validate and swap.
    fn cycle(&mut self) -> CycleReport {
        let slot = self.shared.storages.get(&self.storage);
        if let Some(s) = slot {
            s.started.fetch_add(1, Ordering::SeqCst);
        }
        let report = self.cycle_inner();
        if let Some(s) = self.shared.storages.get(&self.storage) {
            s.finished.send_modify(|n| *n += 1);
        }
        report
    }

    fn cycle_inner(&mut self) -> CycleReport {
        let started = Instant::now();
        let start_time = rfc3339(SystemTime::now());
        for key in &self.envs {
            if let Some(e) = self.env_slot(key) {
                lock(&e.status).sync_status = SyncState::Syncing;
            }
        }
        self.shared.touch();
        // 1. fetch, or fingerprint the directory
        let fetched = match &mut self.source {
            Source::Git(git) => git.fetch().map(|f| {
                (
                    f.commit.to_string(),
                    Some(git.commit_info(f.commit)),
                    Some(f.commit),
                )
            }),
            Source::Dir(dir) => dir.fingerprint().map(|fp| (fp, None, None)),
        };
        let (seen, info, commit) = match fetched {
            Ok(x) => x,
            Err(error) => {
                self.failures += 1;
                for key in self.envs.clone() {
                    self.record_failure(&key, &error, None, &start_time, started);
                }
                return CycleReport {
                    fetch_error: Some(error),
                    failures: self.failures,
                };
            }
        };
        self.failures = 0;
        // 2. nothing new: one ref advertisement, no parsing
        if self.last_seen.as_deref() == Some(seen.as_str()) {
            for key in &self.envs {
                let Some(slot) = self.env_slot(key) else {
                    continue;
                };
                let now = rfc3339(SystemTime::now());
                let mut st = lock(&slot.status);
                st.last_sync_time = Some(now.clone());
                if st.remote_commit.is_some() || info.is_some() {
                    st.remote_commit = info.clone();
                }
                if st.validation_errors.is_empty() {
                    st.sync_status = SyncState::Success;
                    st.error_message = None;
                    st.error_class = None;
                    st.consecutive_failures = 0;
                    st.last_success_time = Some(now);
                } else {
                    // the remote still points at the rejected commit (a fetch error in between
                    // may have replaced the message): say so again
                    st.sync_status = SyncState::Error;
                    st.error_class = Some(ErrorClass::Validation);
                    let sha = st.remote_commit.as_ref().map(|c| c.sha.clone());
                    st.error_message =
                        Some(rejection_message(sha.as_deref(), &st.validation_errors));
                }
                drop(st);
                self.shared.record(
                    key,
                    slot,
                    Attempt {
                        time: start_time.clone(),
                        duration_ms: started.elapsed().as_millis() as u64,
                        commit: commit.map(|c| c.to_string()),
                        outcome: Outcome::Unchanged,
                        diff: Vec::new(),
                        changes: Diff::default(),
                        repeats: 0,
                        last_time: None,
                    },
                );
                tracing::debug!(environment = %key, "git sync: no change");
            }
            return CycleReport {
                fetch_error: None,
                failures: 0,
            };
        }
        // 3. new commit: read, validate, swap, per environment
        let mut all_processed = true;
        for key in self.envs.clone() {
            let Some(slot) = self.env_slot(&key) else {
                continue;
            };
            let directory = slot.directory.clone();
            let files = match &self.source {
                Source::Git(git) => commit.map_or_else(
                    || Err(SyncError::Local("no commit".into())),
                    |c| crate::tree::read_files(&git.repo(), c, &directory, &self.limits),
                ),
                Source::Dir(dir) => dir.read_files(&directory, &self.limits),
            };
            let result = match files {
                Ok(files) => match compile_environment(&key, &files, &self.limits) {
                    Ok(env) => EnvResult::Valid(env),
                    Err(d) => EnvResult::Invalid(SyncError::Invalid(d)),
                },
                Err(e) => EnvResult::Invalid(e),
            };
            match result {
                EnvResult::Valid(env) => {
                    self.apply(&key, env, info.clone(), commit, &start_time, started)
                }
                EnvResult::Invalid(error) => {
                    if !matches!(error, SyncError::Invalid(_)) {
                        all_processed = false;
                    }
                    self.record_failure(&key, &error, info.clone(), &start_time, started);
                }
            }
        }
        if all_processed {
            self.last_seen = Some(seen);
        }
        CycleReport {
            fetch_error: None,
            failures: 0,
        }
    }

    fn apply(
        &self,
        key: &str,
        env: Environment,
        info: Option<CommitInfo>,
        commit: Option<gix::ObjectId>,
        start_time: &str,
        started: Instant,
    ) {
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let env = Arc::new(env);
        let old = slot.tx.borrow().clone();
        let changes = diff(&old, &env);
        let swapped = old.digest != env.digest;
        if swapped {
            slot.tx.send_replace(env.clone());
            let _ = self.shared.events.send(ChangeEvent {
                environment: key.to_string(),
                old_digest: old.digest.clone(),
                new_digest: env.digest.clone(),
                commit: info.clone(),
                diff: changes.clone(),
            });
        }
        if let (Source::Git(git), Some(c)) = (&self.source, commit)
            && let Err(e) = git.record_last_good(key, c)
        {
            tracing::warn!(environment = %key, error = %e, "could not record the last good commit");
        }
        let duration = started.elapsed();
        let now = rfc3339(SystemTime::now());
        {
            let mut st = lock(&slot.status);
            st.sync_status = SyncState::Success;
            st.last_sync_time = Some(now.clone());
            st.last_success_time = Some(now);
            st.error_message = None;
            st.error_class = None;
            st.consecutive_failures = 0;
            st.validation_errors.clear();
            st.serving_commit = info.clone();
            st.remote_commit = info;
            st.flags = env.flag_count();
            st.digest = env.digest.clone();
        }
        self.shared.record(
            key,
            slot,
            Attempt {
                time: start_time.to_string(),
                duration_ms: duration.as_millis() as u64,
                commit: commit.map(|c| c.to_string()),
                outcome: Outcome::Applied,
                diff: changes.lines(),
                changes,
                repeats: 0,
                last_time: None,
            },
        );
        tracing::info!(
            environment = %key,
            commit = %commit.map(|c| c.to_string()).unwrap_or_else(|| "directory".into()),
            flags = env.flag_count(),
            duration_ms = duration.as_millis() as u64,
            "Git sync completed successfully"
        );
    }

    fn record_failure(
        &self,
        key: &str,
        error: &SyncError,
        info: Option<CommitInfo>,
        start_time: &str,
        started: Instant,
    ) {
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let class = error.class();
        let now = rfc3339(SystemTime::now());
        let errors = error
            .diagnostics()
            .map(validation_errors)
            .unwrap_or_default();
        let message = match error.diagnostics() {
            Some(_) => rejection_message(info.as_ref().map(|i| i.sha.as_str()), &errors),
            None => error.to_string(),
        };
        {
            let mut st = lock(&slot.status);
            st.sync_status = SyncState::Error;
            st.last_sync_time = Some(now);
            st.error_message = Some(message.clone());
            st.error_class = Some(class);
            st.consecutive_failures += 1;
            if class == ErrorClass::Validation {
                st.validation_errors = errors.clone();
                st.remote_commit = info.clone();
            }
        }
        let outcome = if class == ErrorClass::Validation {
            Outcome::Rejected { errors }
        } else {
            Outcome::Failed {
                class,
                error: message.clone(),
            }
        };
        self.shared.record(
            key,
            slot,
            Attempt {
                time: start_time.to_string(),
                duration_ms: started.elapsed().as_millis() as u64,
                commit: info.map(|i| i.sha),
                outcome,
                diff: Vec::new(),
                changes: Diff::default(),
                repeats: 0,
                last_time: None,
            },
        );
        match error.diagnostics() {
            Some(d) => {
                let first: Vec<String> = d.iter().take(3).map(|x| x.to_string()).collect();
                tracing::error!(environment = %key, class = %class, "Git sync error: validation: {message}; first errors: {}", first.join("; "));
            }
            None => {
                tracing::error!(environment = %key, class = %class, "Git sync error: {class}: {message}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_never_slower_than_the_interval() {
        let i = Duration::from_secs(30);
        assert_eq!(next_delay(i, 0), i);
        assert_eq!(next_delay(i, 1), Duration::from_secs(1));
        assert_eq!(next_delay(i, 3), Duration::from_secs(4));
        assert_eq!(next_delay(i, 10), i);
        assert_eq!(
            next_delay(Duration::from_secs(1), 5),
            Duration::from_secs(1)
        );
    }
}
