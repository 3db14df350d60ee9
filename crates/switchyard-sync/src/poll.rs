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
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use switchyard_core::{Diff, Discovery, Environment, ExtraChecks, Limits};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use crate::config::{ConfigError, FetchPolicy};
use crate::error::SyncError;
use crate::fed::{FedInbox, FedRevision};
use crate::followed::Followed;
use crate::git::CommitInfo;
use crate::history::{Attempt, History};
use crate::status::SyncStatus;

mod fixed;
mod glass;
mod jitter;
mod messages;
mod read;
mod run_loop;
mod start;
mod worker;

pub use glass::{OVERRIDE_SUFFIX, commit_of};
use jitter::{Jitter, random_seed};
pub use run_loop::next_delay;

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
    /// The served state's label, commit and flag files, for relays (none until one is served).
    served: watch::Sender<Option<Arc<FedRevision>>>,
    status: Mutex<SyncStatus>,
    history: Mutex<History>,
    /// Break-glass: pause, pin, overrides, and the head and base they apply to. Locked
    /// before `status` and `history` when both are taken.
    glass: Mutex<glass::Glass>,
}

struct StorageSlot {
    trigger: Notify,
    started: AtomicU64,
    finished: watch::Sender<u64>,
    /// Set when the first cycle has ended: the fetch error it ran into, if any.
    first: watch::Sender<Option<Option<SyncError>>>,
    policy: FetchPolicy,
    /// Relay mode: where the relay client's offers go.
    feed: Option<Arc<FedInbox>>,
    /// The storage's Git repository once opened, for reading other commits (`compile_recorded`).
    repo: std::sync::OnceLock<gix::ThreadSafeRepository>,
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
    /// The reader limits every compile uses.
    limits: Limits,
    /// What the extra checks do in every compile.
    extra_checks: ExtraChecks,
    /// The longest lifetime of a break-glass override.
    max_override: std::time::Duration,
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

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::next_delay;
    use super::worker::FlagLossGuard;

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
