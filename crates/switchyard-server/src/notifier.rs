//! Turns the sync's attempts into change notifications (issue 15 item 3): one message per
//! applied commit (with the plain-words diff and the impact the core computes between the
//! snapshot served before and the new one), per rejected commit (with its validation errors)
//! and per recovery (the first good attempt after failures or a rejection). Unchanged polls,
//! repeated failures and the first snapshot served after start send nothing. The task only
//! reads the sync and pushes into the outboxes, which never wait, so it cannot slow the sync
//! down. A relay sends nothing: its upstream does.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use switchyard_core::Environment;
use switchyard_sync::{Attempt, Outcome, SyncHandle};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::notify::{BreakGlassNote, Event, Notification, NotifyConfig, Outbox};

/// Impact lines kept per message (a change to thousands of flags is summarised).
const IMPACT_LINES_KEPT: usize = 50;

/// What the last attempt of an environment left to recover from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    /// Serving the newest commit it saw.
    Good,
    /// The last fetch failed: the next good attempt, even an unchanged one, is a recovery.
    Failed,
    /// The newest commit was refused: the next applied one is a recovery.
    Rejected,
}

/// Starts one outbox per configured sink; none on a relay (which logs why) or without sinks.
pub(crate) fn outboxes(config: &NotifyConfig, relay: bool) -> Vec<Outbox> {
    if config.sinks.is_empty() {
        return Vec::new();
    }
    if relay {
        tracing::info!(
            sinks = config.sinks.len(),
            "notifications are not sent by a relay: its upstream sends them once for the fleet"
        );
        return Vec::new();
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Vec::new();
    }
    config
        .sinks
        .iter()
        .map(|s| {
            tracing::info!(sink = %s.display(), kind = s.kind(), "change notifications on");
            Outbox::start(s.clone(), config.queue_size, config.retry)
        })
        .collect()
}

/// Follows the sync's attempts and pushes a message into every outbox for each change, until
/// `stop` turns true or the sync is gone.
pub(crate) fn spawn(
    sync: Weak<SyncHandle>,
    outboxes: Arc<[Outbox]>,
    mut stop: watch::Receiver<bool>,
) {
    if outboxes.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let Some(strong) = sync.upgrade() else { return };
    let mut attempts = strong.subscribe_attempts();
    // only real snapshots: before its first sync an environment serves an empty placeholder
    let mut served: HashMap<String, Arc<Environment>> = strong
        .environment_keys()
        .filter(|k| strong.status(k).is_some_and(|s| s.serving_commit.is_some()))
        .filter_map(|k| strong.environment(k).map(|e| (k.to_string(), e)))
        .collect();
    drop(strong);
    let mut health: HashMap<String, Health> = HashMap::new();
    let mut last_key: HashMap<String, String> = HashMap::new();
    runtime.spawn(async move {
        loop {
            let next = tokio::select! {
                a = attempts.recv() => a,
                _ = stop.wait_for(|s| *s) => return,
            };
            let (env, attempt) = match next {
                Ok(a) => a,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "notifications: sync attempts missed (the notifier fell behind)"
                    );
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some(sync) = sync.upgrade() else { return };
            let before = health.get(&env).copied().unwrap_or(Health::Good);
            let (message, after) = message_for(&sync, &env, &attempt, before, &mut served).await;
            health.insert(env.clone(), after);
            // one message per commit and event, however often the sync looks at it again
            let message = message.filter(|n| last_key.get(&env) != Some(&n.idempotency_key));
            if let Some(n) = message {
                last_key.insert(env, n.idempotency_key.clone());
                for o in outboxes.iter() {
                    o.push(n.clone());
                }
            }
        }
    });
}

/// The message for one attempt (if any) and the environment's health after it.
async fn message_for(
    sync: &SyncHandle,
    env: &str,
    attempt: &Attempt,
    before: Health,
    served: &mut HashMap<String, Arc<Environment>>,
) -> (Option<Notification>, Health) {
    let status = sync.status(env);
    match &attempt.outcome {
        Outcome::Unchanged if before == Health::Failed => {
            let commit = status.as_ref().and_then(|s| s.serving_commit.clone());
            let (sha, author) = commit.map_or_else(Default::default, |c| (c.sha, c.author));
            let mut n = Notification::new(Event::Recovered, env, &sha, &author);
            // the commit's own message had `<env>@<sha>`; a receiver must not drop this one
            n.idempotency_key.push_str("#recovered");
            n.diff = vec!["the Git host answers again; nothing changed meanwhile".to_string()];
            (Some(n), Health::Good)
        }
        Outcome::Unchanged | Outcome::Held { .. } => (None, before),
        Outcome::BreakGlass {
            action,
            detail,
            actor,
            reason,
        } => {
            let sha = attempt.commit.clone().unwrap_or_default();
            let note = BreakGlassNote {
                action: action.to_string(),
                actor: actor.clone(),
                reason: reason.clone(),
                detail: detail.clone(),
            };
            let n = Notification::break_glass(env, &sha, &attempt.time, note);
            (Some(n), before)
        }
        Outcome::Failed { .. } => (None, Health::Failed),
        Outcome::Rejected { errors } => {
            let sha = attempt.commit.clone().unwrap_or_default();
            let author = status
                .as_ref()
                .and_then(|s| s.remote_commit.as_ref())
                .filter(|c| c.sha == sha)
                .map(|c| c.author.clone())
                .unwrap_or_default();
            let mut n = Notification::new(Event::Rejected, env, &sha, &author);
            n.errors = errors.iter().map(ToString::to_string).collect();
            (Some(n), Health::Rejected)
        }
        Outcome::Applied => {
            let commit = status.as_ref().and_then(|s| s.serving_commit.clone());
            let sha = attempt
                .commit
                .clone()
                .or_else(|| commit.as_ref().map(|c| c.sha.clone()))
                .unwrap_or_default();
            let author = commit
                .filter(|c| c.sha == sha)
                .map(|c| c.author)
                .unwrap_or_default();
            let event = if before == Health::Good {
                Event::Applied
            } else {
                Event::Recovered
            };
            let mut n = Notification::new(event, env, &sha, &author);
            n.diff = attempt.diff.clone();
            if attempt.diff_total > attempt.diff.len() {
                n.diff
                    .push(format!("… {} changes in all", attempt.diff_total));
            }
            let old = match sync.environment(env) {
                Some(new) => served
                    .insert(env.to_string(), new.clone())
                    .map(|old| (old, new)),
                None => None,
            };
            match old {
                // already seen when the notifier started: that was the start's first snapshot
                Some((old, new)) if Arc::ptr_eq(&old, &new) && before == Health::Good => {
                    return (None, Health::Good);
                }
                Some((old, new)) => n.impact = impact_lines(old, new).await,
                // the first snapshot since start: nothing changed for clients, unless it ends
                // failures (a restart of every replica must not announce every flag)
                None if before == Health::Good => return (None, Health::Good),
                None => {}
            }
            (Some(n), Health::Good)
        }
    }
}

/// The impact of going from `old` to `new` in plain words, computed on a blocking thread (a
/// change to many flags costs real CPU) and cut to [`IMPACT_LINES_KEPT`] lines.
async fn impact_lines(old: Arc<Environment>, new: Arc<Environment>) -> Vec<String> {
    let work = tokio::task::spawn_blocking(move || {
        let diff = switchyard_core::diff(&old, &new);
        switchyard_core::impact::impact(&old, &new, &diff, &[]).lines()
    });
    match tokio::time::timeout(Duration::from_secs(10), work).await {
        Ok(Ok(mut lines)) => {
            if lines.len() > IMPACT_LINES_KEPT {
                let more = lines.len() - IMPACT_LINES_KEPT;
                lines.truncate(IMPACT_LINES_KEPT);
                lines.push(format!("… {more} more impact lines"));
            }
            lines
        }
        Ok(Err(e)) => vec![format!("impact not computed ({e})")],
        Err(_) => vec!["impact not computed (took longer than 10 s)".to_string()],
    }
}

/// Waits until every outbox is idle, at most `grace` (called once at shutdown).
pub(crate) async fn drain(outboxes: &[Outbox], grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    while outboxes.iter().any(|o| !o.idle()) {
        if tokio::time::Instant::now() >= deadline {
            let left: usize = outboxes.iter().map(Outbox::queued).sum();
            tracing::warn!(left, "notifications still queued at shutdown are not sent");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A metric: name, type, help text and its value per outbox.
type Series = (&'static str, &'static str, &'static str, fn(&Outbox) -> u64);

/// The notification metrics' exposition text.
pub(crate) fn render_metrics(outboxes: &[Outbox], out: &mut String) {
    use std::fmt::Write as _;
    let series: [Series; 4] = [
        (
            "switchyard_notifications_delivered_total",
            "counter",
            "Notifications delivered, by sink.",
            Outbox::delivered,
        ),
        (
            "switchyard_notifications_failed_total",
            "counter",
            "Notifications given up after every attempt failed, by sink.",
            Outbox::failed,
        ),
        (
            "switchyard_notifications_dropped_total",
            "counter",
            "Notifications dropped because the sink's queue was full (the oldest goes), by sink.",
            Outbox::dropped,
        ),
        (
            "switchyard_notifications_queued",
            "gauge",
            "Notifications waiting for delivery, by sink.",
            |o| o.queued() as u64,
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for o in outboxes {
            let _ = writeln!(
                out,
                "{name}{{sink=\"{}\"}} {}",
                crate::metrics::escape(o.name()),
                value(o)
            );
        }
    }
}
