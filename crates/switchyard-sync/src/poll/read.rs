//! The read side of a running sync: snapshots, statuses, history, change subscriptions, and
//! triggers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use switchyard_core::{Environment, Snapshot};
use tokio::sync::{broadcast, watch};

use super::{ChangeEvent, StorageSlot, SyncHandle, lock};
use crate::at_commit::{AtError, ReadRules, compile_at, resolve};
use crate::error::SyncError;
use crate::fed::FedRevision;
use crate::followed::{Followed, Push};
use crate::history::Attempt;
use crate::status::SyncStatus;

impl SyncHandle {
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

    /// The served state of `key` (label, commit, flag files), on every swap: what a relay
    /// stream sends.
    pub fn watch_served(&self, key: &str) -> Option<watch::Receiver<Option<Arc<FedRevision>>>> {
        self.shared.envs.get(key).map(|e| e.served.subscribe())
    }

    /// Relay mode: offers the upstream's newest state of `key` and syncs it; false when `key`
    /// is not fed from an upstream.
    pub fn offer(&self, key: &str, state: FedRevision) -> bool {
        let Some(slot) = self.slot_of(key) else {
            return false;
        };
        let Some(feed) = &slot.feed else {
            return false;
        };
        feed.offer(state);
        slot.trigger.notify_one();
        true
    }

    /// Relay mode: the upstream of `key` cannot be followed now (`error` says why); the
    /// environment keeps serving its last good state and reports the error.
    pub fn upstream_failed(&self, key: &str, error: SyncError) -> bool {
        let Some(slot) = self.slot_of(key) else {
            return false;
        };
        let Some(feed) = &slot.feed else {
            return false;
        };
        feed.down(error);
        slot.trigger.notify_one();
        true
    }

    /// Environment `key` compiled at `commit` from the storage's local objects (no fetch), for
    /// a commit its history records (applied or rejected) or the one it serves: the full SHA
    /// or a prefix of at least 7 hex digits. Blocking (reads the object store): call it on a
    /// blocking thread.
    pub fn compile_recorded(&self, key: &str, commit: &str) -> Result<Environment, AtError> {
        let env = self
            .shared
            .envs
            .get(key)
            .ok_or_else(|| AtError::UnknownEnvironment(key.to_string()))?;
        let repo = self
            .slot_of(key)
            .and_then(|s| s.repo.get())
            .ok_or_else(|| AtError::NoRepository(key.to_string()))?;
        let served = env.tx.borrow().revision.clone();
        let (recorded, window) = {
            let history = lock(&env.history);
            let commits: Vec<String> = history
                .entries()
                .into_iter()
                .filter_map(|a| a.commit)
                .chain(served)
                .collect();
            (commits, history.len())
        };
        let wanted = commit.to_ascii_lowercase();
        let found = (wanted.len() >= 7)
            .then(|| recorded.into_iter().find(|c| c.starts_with(&wanted)))
            .flatten()
            .ok_or_else(|| AtError::NotInHistory {
                environment: key.to_string(),
                commit: commit.to_string(),
                window,
            })?;
        let repo = repo.to_thread_local();
        let id = resolve(&repo, &found)?;
        compile_at(
            &repo,
            id,
            ReadRules {
                key,
                directory: &env.directory,
                discovery: env.discovery,
                limits: &self.shared.limits,
                extra_checks: self.shared.extra_checks,
            },
        )
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
