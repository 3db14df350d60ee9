//! The poll loop of one storage on tokio, and the OS thread its blocking cycles run on.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{oneshot, watch};

use super::worker::{CycleReport, Worker};
use super::{Jitter, Shared, lock};
use crate::error::SyncError;
use crate::status::rfc3339;

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
pub(super) struct LoopInfo {
    pub(super) storage: String,
    pub(super) envs: Vec<String>,
    pub(super) interval: Duration,
    pub(super) jitter: Jitter,
    pub(super) shared: Arc<Shared>,
}

/// The OS thread that owns one storage's [`Worker`]: every blocking cycle (gix fetch, tree
/// reads, compile) of that storage runs on it.
///
/// A dedicated thread rather than `spawn_blocking`: with cycles hopping between the blocking
/// pool's threads, glibc gave each thread its own malloc arena, and the peak RSS of a
/// 10,000-flag sync grew from about 81 MiB to about 114 MiB (see BENCHMARKS.md).
pub(super) struct WorkerThread {
    pub(super) jobs: Option<std::sync::mpsc::Sender<oneshot::Sender<CycleReport>>>,
    pub(super) handle: Option<std::thread::JoinHandle<()>>,
}

impl WorkerThread {
    pub(super) fn spawn(mut worker: Worker) -> std::io::Result<Self> {
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
    pub(super) async fn cycle(&self) -> Option<CycleReport> {
        let (tx, rx) = oneshot::channel();
        self.jobs.as_ref()?.send(tx).ok()?;
        rx.await.ok()
    }

    /// Lets a running cycle finish, then ends the thread (dropping the repository, which
    /// removes a memory backend's directory).
    pub(super) async fn stop(mut self) {
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

/// The poll loop of one storage: the first cycle at once, then one per interval (sooner after
/// a failure, at once on a trigger).
pub(super) async fn run(thread: WorkerThread, info: LoopInfo, mut stop: watch::Receiver<bool>) {
    let Some(slot) = info.shared.storages.get(&info.storage) else {
        return;
    };
    let mut failures = 0;
    let mut first = true;
    let mut cycles: u64 = 0;
    loop {
        if !first {
            let delay = info
                .jitter
                .apply(next_delay(info.interval, failures), cycles);
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
        cycles = cycles.wrapping_add(1);
    }
    thread.stop().await;
}
