//! Starting the sync: one slot per environment and per storage, each storage opened and its
//! worker thread and poll loop started; waiting for the first cycles.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use switchyard_core::{Environment, Limits, compile_environment};
use tokio::sync::{Notify, broadcast, watch};

use super::glass::Glass;
use super::run_loop::{LoopInfo, WorkerThread, run};
use super::worker::{FlagLossGuard, Source, Worker};
use super::{EnvSlot, Jitter, Shared, StartError, StorageSlot, SyncHandle, random_seed};
use crate::break_glass::state_path;
use crate::config::{BackendKind, FetchPolicy, SyncConfig};
use crate::dir::DirSource;
use crate::error::SyncError;
use crate::fed::{FedInbox, FedSource};
use crate::followed::{Followed, Origin};
use crate::git::GitSource;
use crate::history::History;
use crate::status::{DiscoveryStatus, SyncStatus, UpstreamStatus};

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
        let envs = env_slots(&config, &followed, &limits);
        let used: Vec<&String> = config
            .storage
            .keys()
            .filter(|id| config.environments.values().any(|e| &e.storage == *id))
            .collect();
        let storages = used
            .iter()
            .map(|id| ((*id).clone(), storage_slot(&config, id)))
            .collect();
        let shared = Arc::new(Shared {
            envs,
            followed,
            storages,
            events,
            status_version: watch::channel(0).0,
            attempts,
            limits,
            extra_checks: config.extra_checks,
            max_override: config.max_override,
        });
        let (stop, _) = watch::channel(false);
        let mut threads = Vec::new();
        let seed = config.poll_jitter_seed.unwrap_or_else(random_seed);
        tracing::info!(seed, "poll jitter: each wait moved by up to 10 %");
        for id in used {
            let source = open_source(&config, id, &shared).await?;
            if let (Source::Git(git), Some(slot)) = (&source, shared.storages.get(id)) {
                let _ = slot.repo.set(git.shared_repo());
            }
            let worker = worker(&config, id, source, &shared, limits);
            let info = LoopInfo {
                storage: id.clone(),
                envs: worker.envs.clone(),
                interval: worker.interval,
                jitter: Jitter::new(seed, id),
                shared: shared.clone(),
            };
            let thread = WorkerThread::spawn(worker).map_err(|e| StartError::Open {
                storage: id.clone(),
                error: SyncError::local("starting the sync thread", e),
            })?;
            threads.push((thread, info));
        }
        let mut tasks: Vec<_> = threads
            .into_iter()
            .map(|(thread, info)| tokio::spawn(run(thread, info, stop.subscribe())))
            .collect();
        tasks.push(tokio::spawn(super::glass::expiry_clock(
            shared.clone(),
            stop.subscribe(),
        )));
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
}

pub(super) fn empty_environment(key: &str, limits: &Limits) -> Environment {
    compile_environment(key, &[], limits).unwrap_or_else(|_| Environment {
        key: key.to_string(),
        namespaces: BTreeMap::new(),
        digest: String::new(),
        revision: None,
    })
}

/// One slot per environment: an empty snapshot served until the first commit, and the status
/// saying what it follows.
fn env_slots(
    config: &SyncConfig,
    followed: &[Followed],
    limits: &Limits,
) -> BTreeMap<String, EnvSlot> {
    let mut envs = BTreeMap::new();
    for f in followed {
        let (key, s) = (&f.key, &config.storage[&f.storage]);
        let e = &config.environments[key];
        let (enabled, repository, branch) = match &f.origin {
            Origin::Remote { url, reference } => (true, url.redacted(), reference.label()),
            Origin::Directory(p) => (false, p.display().to_string(), String::new()),
            Origin::Given => (false, String::new(), String::new()),
            Origin::Upstream(url) => (true, url.clone(), "upstream".to_string()),
        };
        let empty = Arc::new(empty_environment(key, limits));
        let mut status = SyncStatus::new(
            enabled,
            repository,
            branch,
            f.directory.clone(),
            s.poll_interval,
        );
        status.digest = empty.digest.clone();
        status.discovery = DiscoveryStatus::new(e.discovery);
        let glass = Glass::loaded(
            (s.backend.kind == BackendKind::Local)
                .then_some(s.backend.path.as_deref())
                .flatten()
                .map(|dir| state_path(dir, key)),
        );
        status.paused = glass.state.paused.clone();
        status.pinned = glass.state.pinned.clone();
        // The break-glass actions recorded before the restart come first in the history.
        let mut history = History::new(config.history_limit);
        for a in &glass.state.log {
            history.push(crate::history::Attempt {
                time: crate::status::rfc3339(a.actor.at),
                duration_ms: 0,
                commit: None,
                outcome: crate::history::Outcome::BreakGlass {
                    action: a.kind,
                    detail: a.detail.clone(),
                    actor: a.actor.name.clone(),
                    reason: a.actor.reason.clone(),
                },
                diff: Vec::new(),
                diff_total: 0,
                repeats: 0,
                last_time: None,
            });
        }
        if let Origin::Upstream(url) = &f.origin {
            status.upstream = Some(UpstreamStatus {
                url: url.clone(),
                ..UpstreamStatus::default()
            });
        }
        envs.insert(
            key.clone(),
            EnvSlot {
                storage: f.storage.clone(),
                directory: f.directory.clone(),
                discovery: e.discovery,
                tx: watch::channel(empty).0,
                served: watch::channel(None).0,
                status: Mutex::new(status),
                history: Mutex::new(history),
                glass: Mutex::new(glass),
            },
        );
    }
    envs
}

/// The trigger and the cycle counters of storage `id`.
fn storage_slot(config: &SyncConfig, id: &str) -> StorageSlot {
    StorageSlot {
        trigger: Notify::new(),
        started: AtomicU64::new(0),
        finished: watch::channel(0).0,
        first: watch::channel(None).0,
        policy: config.storage[id].fetch_policy,
        feed: config.storage[id]
            .upstream
            .is_some()
            .then(|| Arc::new(FedInbox::default())),
        repo: std::sync::OnceLock::new(),
    }
}

/// Opens storage `id`: its directory, or its bare repository (on a blocking thread: it may
/// create the repository and write key files).
async fn open_source(
    config: &SyncConfig,
    id: &String,
    shared: &Shared,
) -> Result<Source, StartError> {
    let s = config.storage[id].clone();
    if let Some(inbox) = shared.storages.get(id).and_then(|slot| slot.feed.clone()) {
        let last_good_dir = (s.backend.kind == BackendKind::Local)
            .then(|| s.backend.path.clone())
            .flatten();
        return Ok(Source::Fed(FedSource {
            inbox,
            last_good_dir,
            wait: s.timeouts.connect,
        }));
    }
    let creds = s
        .credentials
        .as_ref()
        .and_then(|c| config.credentials.get(c))
        .cloned();
    if let Some(path) = &s.local_path {
        return Ok(Source::Dir(DirSource::new(path)));
    }
    let opened = tokio::task::spawn_blocking(move || GitSource::open(&s, creds.as_ref()))
        .await
        .map_err(|e| StartError::Open {
            storage: id.clone(),
            error: SyncError::local("opening", e),
        })?;
    let git = opened.map_err(|error| StartError::Open {
        storage: id.clone(),
        error,
    })?;
    Ok(Source::Git(Box::new(git)))
}

/// The worker of storage `id`, for the environments on it.
fn worker(
    config: &SyncConfig,
    id: &String,
    source: Source,
    shared: &Arc<Shared>,
    limits: Limits,
) -> Worker {
    let s = &config.storage[id];
    let envs: Vec<String> = config
        .environments
        .iter()
        .filter(|(_, e)| &e.storage == id)
        .map(|(k, _)| k.clone())
        .collect();
    Worker {
        storage: id.clone(),
        source,
        envs,
        shared: shared.clone(),
        limits,
        extra_checks: config.extra_checks,
        interval: s.poll_interval,
        guard: FlagLossGuard {
            allow: s.allow_flag_loss,
            max_percent: s.max_flag_loss_percent,
        },
        panic_on: s.fault_panic_on_commit_message.clone(),
        last_seen: None,
        current: None,
        failures: 0,
    }
}
