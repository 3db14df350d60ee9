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
//! again; unlike Flipt the reason is kept in the status and the history. A commit that would
//! empty an environment (or remove more than `max_flag_loss_percent` of its flags) is refused
//! the same way. A cycle that panics is recorded as an `internal` error, its commit is not
//! tried again, and the loop goes on.
//!
//! [`SyncHandle::start`] returns at once: the first cycle runs on the sync thread like any
//! other, and [`SyncHandle::wait_first_sync`] waits for it (where `fetch_policy: strict` turns
//! its failure into an error).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use switchyard_core::{
    Diff, Discovered, Discovery, Environment, Limits, Snapshot, compile_environment, diff,
};
use tokio::sync::{Notify, broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{ConfigError, FetchPolicy, SyncConfig};
use crate::dir::DirSource;
use crate::error::{ErrorClass, SyncError};
use crate::followed::{Followed, Origin, Push};
use crate::git::{CommitInfo, GitSource};
use crate::history::{Attempt, History, Outcome};
use crate::status::{DiscoveryStatus, Served, SyncStatus, rfc3339, validation_errors};
use crate::tree::EnvFiles;

mod fixed;

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
    /// The rule that finds its flag files.
    discovery: Discovery,
    tx: watch::Sender<Arc<Environment>>,
    status: Mutex<SyncStatus>,
    history: Mutex<History>,
}

struct StorageSlot {
    trigger: Notify,
    started: AtomicU64,
    finished: watch::Sender<u64>,
    /// Set when the first cycle has ended: the fetch error it ran into, if any.
    first: watch::Sender<Option<Option<SyncError>>>,
    policy: FetchPolicy,
}

struct Shared {
    envs: BTreeMap<String, EnvSlot>,
    /// What each environment follows, in key order.
    followed: Vec<Followed>,
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
    guard: FlagLossGuard,
    /// Test hook: panic when the fetched commit's message contains this.
    panic_on: Option<String>,
    /// Commit id (or directory fingerprint) last processed, served or rejected.
    last_seen: Option<String>,
    /// The commit (or fingerprint) the running cycle works on, once fetched.
    current: Option<(String, Option<CommitInfo>)>,
    failures: u32,
}

/// When a commit that removes flags is refused (`allow_flag_loss`, `max_flag_loss_percent`).
#[derive(Debug, Clone, Copy)]
struct FlagLossGuard {
    allow: bool,
    max_percent: u8,
}

impl FlagLossGuard {
    /// Why going from `old` to `new` flags is refused, if it is.
    fn check(&self, old: usize, new: usize) -> Option<String> {
        if self.allow || old == 0 || new >= old {
            return None;
        }
        let lost = old - new;
        let percent = lost as f64 * 100.0 / old as f64;
        if new == 0 {
            Some(format!("the commit would remove all {old} flags"))
        } else if percent > f64::from(self.max_percent) {
            Some(format!(
                "the commit would remove {lost} of {old} flags ({percent:.0}%), more than max_flag_loss_percent ({}%)",
                self.max_percent
            ))
        } else {
            None
        }
    }
}

/// What one cycle did, for the loop and for startup.
struct CycleReport {
    fetch_error: Option<SyncError>,
    /// Failed fetches in a row after this cycle, for the backoff.
    failures: u32,
}

impl SyncHandle {
    /// Validates `config`, opens every storage and starts the poll loops; returns without
    /// waiting for any fetch (the first cycle of each storage starts at once on its thread).
    ///
    /// See [`SyncHandle::wait_first_sync`] for the fetch policy of the first cycle.
    pub async fn start(config: SyncConfig, limits: Limits) -> Result<SyncHandle, StartError> {
        config.validate()?;
        let (events, _) = broadcast::channel(64);
        let (attempts, _) = broadcast::channel(256);
        let followed = Followed::all(&config)?;
        let mut envs = BTreeMap::new();
        for f in &followed {
            let (key, s) = (&f.key, &config.storage[&f.storage]);
            let e = &config.environments[key];
            let (enabled, repository, branch) = match &f.origin {
                Origin::Remote { url, reference } => (true, url.redacted(), reference.label()),
                Origin::Directory(p) => (false, p.display().to_string(), String::new()),
                Origin::Given => (false, String::new(), String::new()),
            };
            let empty = Arc::new(empty_environment(key, &limits));
            let mut status = SyncStatus::new(
                enabled,
                repository,
                branch,
                f.directory.clone(),
                s.poll_interval,
            );
            status.digest = empty.digest.clone();
            status.discovery = DiscoveryStatus::new(e.discovery);
            envs.insert(
                key.clone(),
                EnvSlot {
                    storage: f.storage.clone(),
                    directory: f.directory.clone(),
                    discovery: e.discovery,
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
                        first: watch::channel(None).0,
                        policy: config.storage[*id].fetch_policy,
                    },
                )
            })
            .collect();
        let shared = Arc::new(Shared {
            envs,
            followed,
            storages,
            events,
            status_version: watch::channel(0).0,
            attempts,
        });
        let (stop, _) = watch::channel(false);
        let mut threads = Vec::new();
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
                guard: FlagLossGuard {
                    allow: s.allow_flag_loss,
                    max_percent: s.max_flag_loss_percent,
                },
                panic_on: s.fault_panic_on_commit_message.clone(),
                last_seen: None,
                current: None,
                failures: 0,
            };
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
            threads.push((thread, info));
        }
        let tasks = threads
            .into_iter()
            .map(|(thread, info)| tokio::spawn(run(thread, info, stop.subscribe())))
            .collect();
        Ok(SyncHandle {
            shared,
            stop,
            tasks,
        })
    }

    /// [`SyncHandle::start`], then [`SyncHandle::wait_first_sync`].
    pub async fn start_and_wait(
        config: SyncConfig,
        limits: Limits,
    ) -> Result<SyncHandle, StartError> {
        let handle = SyncHandle::start(config, limits).await?;
        handle.wait_first_sync().await?;
        Ok(handle)
    }

    /// Waits until every storage's first cycle has ended (each is bounded by its `timeouts`).
    ///
    /// With `fetch_policy: strict` a failing first fetch is an error here; with `lenient` the
    /// environment keeps serving the local copy (local backend) or nothing, the error in its
    /// status, and the loop goes on.
    pub async fn wait_first_sync(&self) -> Result<(), StartError> {
        for (id, slot) in &self.shared.storages {
            let mut rx = slot.first.subscribe();
            let first = match rx.wait_for(Option::is_some).await {
                Ok(v) => v.clone().flatten(),
                Err(_) => {
                    return Err(StartError::Open {
                        storage: id.clone(),
                        error: SyncError::Local(
                            "the sync thread stopped during the first sync".into(),
                        ),
                    });
                }
            };
            if let (FetchPolicy::Strict, Some(error)) = (slot.policy, first) {
                return Err(StartError::InitialFetch {
                    storage: id.clone(),
                    error,
                });
            }
        }
        Ok(())
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

    /// What each environment follows (remote, reference, directory), in key order.
    pub fn environments(&self) -> &[Followed] {
        &self.shared.followed
    }

    /// Environment keys, in order.
    pub fn environment_keys(&self) -> impl Iterator<Item = &str> {
        self.shared.envs.keys().map(String::as_str)
    }

    /// Triggers a sync of every environment that follows what `push` moved; returns their
    /// keys (those whose trigger was taken).
    pub fn trigger_push(&self, push: &Push<'_>) -> Vec<String> {
        self.shared
            .followed
            .iter()
            .filter(|f| f.matches_push(push))
            .filter(|f| self.trigger(&f.key))
            .map(|f| f.key.clone())
            .collect()
    }

    /// The sync status of `key`.
    pub fn status(&self, key: &str) -> Option<SyncStatus> {
        let (at, now) = (Instant::now(), SystemTime::now());
        self.shared
            .envs
            .get(key)
            .map(|e| lock(&e.status).view(at, now))
    }

    /// The sync status of every environment, by key.
    pub fn statuses(&self) -> BTreeMap<String, SyncStatus> {
        let (at, now) = (Instant::now(), SystemTime::now());
        self.shared
            .envs
            .iter()
            .map(|(k, e)| (k.clone(), lock(&e.status).view(at, now)))
            .collect()
    }

    /// Environments that serve no valid snapshot yet, each with the reason (empty: ready).
    pub fn not_ready(&self) -> BTreeMap<String, String> {
        self.statuses()
            .into_iter()
            .filter(|(_, s)| !s.serving_valid_snapshot)
            .map(|(k, s)| {
                let reason = s
                    .degraded_reason
                    .unwrap_or_else(|| "no valid snapshot".into());
                (k, reason)
            })
            .collect()
    }

    /// When the attempt running now for `key`'s storage started (RFC 3339), if one runs.
    pub fn in_progress_since(&self, key: &str) -> Option<String> {
        let e = self.shared.envs.get(key)?;
        lock(&e.status).attempt_started_at.clone()
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
    let first = errors.first().map(describe).unwrap_or_default();
    format!(
        "commit {} rejected: {} validation error(s), first: {first}",
        sha.unwrap_or("-"),
        errors.len()
    )
}

/// `file:line:column: path: message` of one validation error.
fn describe(v: &crate::status::ValidationError) -> String {
    if v.path.is_empty() {
        format!("{}:{}:{}: {}", v.file, v.line, v.column, v.message)
    } else {
        format!(
            "{}:{}:{}: {}: {}",
            v.file, v.line, v.column, v.path, v.message
        )
    }
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

/// The poll loop of one storage: the first cycle at once, then one per interval (sooner after
/// a failure, at once on a trigger).
async fn run(thread: WorkerThread, info: LoopInfo, mut stop: watch::Receiver<bool>) {
    let Some(slot) = info.shared.storages.get(&info.storage) else {
        return;
    };
    let mut failures = 0;
    let mut first = true;
    loop {
        if !first {
            let delay = next_delay(info.interval, failures);
            let next = rfc3339(SystemTime::now() + delay);
            for key in &info.envs {
                if let Some(e) = info.shared.envs.get(key) {
                    lock(&e.status).next_sync_time = Some(next.clone());
                }
            }
            info.shared.touch();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = slot.trigger.notified() => {}
                _ = stop.changed() => break,
            }
        }
        if *stop.borrow() {
            break;
        }
        // while the attempt runs, wake status watchers once per interval: past the first,
        // the status reads as stalled
        let cycle = thread.cycle();
        tokio::pin!(cycle);
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + info.interval, info.interval);
        let report = loop {
            tokio::select! {
                r = &mut cycle => break r,
                _ = tick.tick() => info.shared.touch(),
            }
        };
        match report {
            Some(report) => {
                failures = report.failures;
                if first {
                    slot.first.send_replace(Some(report.fetch_error));
                }
            }
            None => {
                tracing::error!(storage = %info.storage, "Git sync error: internal: the sync thread stopped; poll loop ended");
                slot.first.send_replace(Some(Some(SyncError::Local(
                    "the sync thread stopped".into(),
                ))));
                break;
            }
        }
        first = false;
    }
    thread.stop().await;
}

/// What reading one environment at one commit gave.
enum EnvResult {
    Valid(Environment, Discovered),
    Invalid(SyncError),
}

/// Where a served environment was read: the commit (none for a directory) and its files.
struct ReadAt<'a> {
    info: Option<CommitInfo>,
    commit: Option<gix::ObjectId>,
    discovered: &'a Discovered,
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
            let read = match crate::tree::read_files(
                &git.repo(),
                commit,
                &slot.directory,
                slot.discovery,
                &self.limits,
            ) {
                Ok(f) => f,
                Err(_) => continue,
            };
            if let Ok(env) = compile_environment(key, &read.files, &self.limits) {
                let info = git.commit_info(commit);
                let env = Arc::new(env);
                lock(&slot.status).restored(info, Served::of(&env, &read.discovered));
                slot.tx.send_replace(env);
                tracing::info!(environment = %key, commit = %commit, "serving the last good commit from the local repository");
                seen.push(commit);
            }
        }
        if seen.len() == self.envs.len() && seen.windows(2).all(|w| w[0] == w[1]) {
            self.last_seen = seen.first().map(|c| c.to_string());
        }
        self.shared.touch();
    }

    /// One sync: fetch (or fingerprint), and for anything new read, validate and swap. A panic
    /// anywhere in it is caught and recorded as an `internal` error.
    fn cycle(&mut self) -> CycleReport {
        if let Some(s) = self.shared.storages.get(&self.storage) {
            s.started.fetch_add(1, Ordering::SeqCst);
        }
        self.current = None;
        let report =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.cycle_inner())) {
                Ok(report) => report,
                Err(payload) => self.after_panic(crate::git::panic_message(&*payload)),
            };
        if let Some(s) = self.shared.storages.get(&self.storage) {
            s.finished.send_modify(|n| *n += 1);
        }
        report
    }

    /// Records a panicked cycle: the commit it worked on (if it got that far) counts as seen,
    /// so it is not tried again in a loop.
    fn after_panic(&mut self, message: String) -> CycleReport {
        let error = SyncError::Internal(message);
        let start_time = rfc3339(SystemTime::now());
        let started = Instant::now();
        let current = self.current.take();
        let sticky = current.is_some();
        let info = current.as_ref().and_then(|(_, i)| i.clone());
        if let Some((seen, _)) = current {
            self.last_seen = Some(seen);
        } else {
            self.failures += 1;
        }
        for key in self.envs.clone() {
            self.record_failure(&key, &error, info.clone(), sticky, &start_time, started);
        }
        CycleReport {
            fetch_error: (!sticky).then_some(error),
            failures: self.failures,
        }
    }

    fn cycle_inner(&mut self) -> CycleReport {
        let started = Instant::now();
        let now = SystemTime::now();
        let start_time = rfc3339(now);
        for key in &self.envs {
            if let Some(e) = self.env_slot(key) {
                lock(&e.status).begin(started, now);
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
                    self.record_failure(&key, &error, None, false, &start_time, started);
                }
                return CycleReport {
                    fetch_error: Some(error),
                    failures: self.failures,
                };
            }
        };
        self.failures = 0;
        self.current = Some((seen.clone(), info.clone()));
        // 2. nothing new: one ref advertisement, no parsing
        if self.last_seen.as_deref() == Some(seen.as_str()) {
            for key in &self.envs {
                let Some(slot) = self.env_slot(key) else {
                    continue;
                };
                lock(&slot.status).unchanged(SystemTime::now(), info.clone());
                self.shared.record(
                    key,
                    slot,
                    Attempt {
                        time: start_time.clone(),
                        duration_ms: started.elapsed().as_millis() as u64,
                        commit: commit.map(|c| c.to_string()),
                        outcome: Outcome::Unchanged,
                        diff: Vec::new(),
                        diff_total: 0,
                        repeats: 0,
                        last_time: None,
                    },
                );
                tracing::debug!(environment = %key, "git sync: no change");
            }
            self.current = None;
            return CycleReport {
                fetch_error: None,
                failures: 0,
            };
        }
        // 3. new commit: read, validate, swap, per environment
        if let (Some(needle), Some(i)) = (&self.panic_on, &info)
            && i.message.contains(needle.as_str())
        {
            panic!(
                "injected fault: commit {} message contains {needle:?}",
                i.sha
            );
        }
        let mut all_processed = true;
        for key in self.envs.clone() {
            let Some(slot) = self.env_slot(&key) else {
                continue;
            };
            let (directory, rules) = (slot.directory.clone(), slot.discovery);
            let files = match &self.source {
                Source::Git(git) => commit.map_or_else(
                    || Err(SyncError::Local("no commit".into())),
                    |c| crate::tree::read_files(&git.repo(), c, &directory, rules, &self.limits),
                ),
                Source::Dir(dir) => dir.read_files(&directory, rules, &self.limits),
            };
            let result = match files {
                Ok(EnvFiles { files, discovered }) => {
                    match compile_environment(&key, &files, &self.limits) {
                        Ok(env) => match self.flag_loss(slot, &env, &discovered) {
                            Some(d) => EnvResult::Invalid(SyncError::Invalid(d)),
                            None => EnvResult::Valid(env, discovered),
                        },
                        Err(d) => EnvResult::Invalid(SyncError::Invalid(d)),
                    }
                }
                Err(e) => EnvResult::Invalid(e),
            };
            match result {
                EnvResult::Valid(env, discovered) => {
                    let read = ReadAt {
                        info: info.clone(),
                        commit,
                        discovered: &discovered,
                    };
                    self.apply(&key, env, read, &start_time, started)
                }
                EnvResult::Invalid(error) => {
                    let sticky = matches!(error, SyncError::Invalid(_));
                    if !sticky {
                        all_processed = false;
                    }
                    self.record_failure(&key, &error, info.clone(), sticky, &start_time, started);
                }
            }
        }
        if all_processed {
            self.last_seen = Some(seen);
        }
        self.current = None;
        CycleReport {
            fetch_error: None,
            failures: 0,
        }
    }

    /// The refusal of a commit that would remove too many flags, naming the cause.
    fn flag_loss(
        &self,
        slot: &EnvSlot,
        env: &Environment,
        discovered: &Discovered,
    ) -> Option<switchyard_core::Diagnostics> {
        if !lock(&slot.status).serving_valid_snapshot {
            return None;
        }
        let old = slot.tx.borrow().flag_count();
        let reason = self.guard.check(old, env.flag_count())?;
        let dir = slot.directory.trim_matches('/');
        let place = if dir.is_empty() {
            "the repository root".to_string()
        } else {
            format!("directory {dir:?}")
        };
        let rules = discovered.rules.summary(discovered.root_file.as_deref());
        let files = discovered.files.len();
        let (file, cause) = match (env.flag_count(), files, &discovered.root_file) {
            (0, 0, Some(index)) if discovered.rules == Discovery::FliptV1 => {
                (index.clone(), format!("{index} selects no flag file"))
            }
            (0, 0, _) => (
                dir.to_string(),
                format!("no flag files are left in {place} (deleted?; files are found by {rules})"),
            ),
            (0, n, _) => (
                dir.to_string(),
                format!("its {n} flag file(s) define no flags"),
            ),
            _ => (dir.to_string(), "flags were deleted".to_string()),
        };
        Some(switchyard_core::Diagnostics::from_vec(vec![
            switchyard_core::Diagnostic::new(
                file,
                switchyard_core::Pos::new(1, 1),
                "",
                format!(
                    "{reason}: {cause}; the commit is not served (set allow_flag_loss: true on the storage to accept it)"
                ),
            ),
        ]))
    }

    /// Serves `env`, compiled from what `read` names.
    fn apply(
        &self,
        key: &str,
        env: Environment,
        read: ReadAt<'_>,
        start_time: &str,
        started: Instant,
    ) {
        let ReadAt {
            info,
            commit,
            discovered,
        } = read;
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let env = Arc::new(env);
        let old = slot.tx.borrow().clone();
        let changes = diff(&old, &env);
        let swapped = old.digest != env.digest;
        let (lines, total) = crate::history::summarise(&changes);
        if swapped {
            slot.tx.send_replace(env.clone());
            let _ = self.shared.events.send(ChangeEvent {
                environment: key.to_string(),
                old_digest: old.digest.clone(),
                new_digest: env.digest.clone(),
                commit: info.clone(),
                diff: changes,
            });
        }
        drop(old);
        if let (Source::Git(git), Some(c)) = (&self.source, commit)
            && let Err(e) = git.record_last_good(key, c)
        {
            tracing::warn!(environment = %key, error = %e, "could not record the last good commit");
        }
        let duration = started.elapsed();
        lock(&slot.status).applied(SystemTime::now(), info, Served::of(&env, discovered));
        self.shared.record(
            key,
            slot,
            Attempt {
                time: start_time.to_string(),
                duration_ms: duration.as_millis() as u64,
                commit: commit.map(|c| c.to_string()),
                outcome: Outcome::Applied,
                diff: lines,
                diff_total: total,
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

    /// Records a failed attempt; `sticky`: the commit was looked at and refused (its error
    /// stays until the branch moves).
    fn record_failure(
        &self,
        key: &str,
        error: &SyncError,
        info: Option<CommitInfo>,
        sticky: bool,
        start_time: &str,
        started: Instant,
    ) {
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let class = error.class();
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
            if sticky {
                st.rejected(
                    SystemTime::now(),
                    info.clone(),
                    class,
                    message.clone(),
                    errors.clone(),
                );
            } else {
                st.failed(SystemTime::now(), class, message.clone());
            }
        }
        let further: Vec<String> = errors.iter().skip(1).take(2).map(describe).collect();
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
                diff_total: 0,
                repeats: 0,
                last_time: None,
            },
        );
        if further.is_empty() {
            tracing::error!(environment = %key, class = %class, "Git sync error: {class}: {message}");
        } else {
            tracing::error!(environment = %key, class = %class, "Git sync error: {class}: {message}; next: {}", further.join("; "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_loss_guard() {
        let g = FlagLossGuard {
            allow: false,
            max_percent: 100,
        };
        assert_eq!(
            g.check(3, 0).as_deref(),
            Some("the commit would remove all 3 flags")
        );
        assert_eq!(g.check(3, 1), None);
        assert_eq!(g.check(0, 0), None);
        let half = FlagLossGuard {
            allow: false,
            max_percent: 50,
        };
        assert_eq!(half.check(10, 5), None);
        assert_eq!(
            half.check(10, 4).as_deref(),
            Some(
                "the commit would remove 6 of 10 flags (60%), more than max_flag_loss_percent (50%)"
            )
        );
        let allow = FlagLossGuard {
            allow: true,
            max_percent: 0,
        };
        assert_eq!(allow.check(10, 0), None);
    }

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
