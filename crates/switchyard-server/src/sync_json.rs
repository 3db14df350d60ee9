//! The JSON of the sync API (`/api/v1/sync/status`, `statuses`, `history`, `events`):
//! serialisable views that borrow from the sync's status, history and change events, so the
//! sync crate knows no wire format.
//!
//! Field names are camelCase and come in the order written here; absent values are `null`
//! (never left out), except the fields of an attempt's outcome, which only that outcome has.

use serde::{Serialize, Serializer};
use switchyard_core::overlay::Forced;
use switchyard_sync::break_glass::{Actor, Drift, Override, Pin};
use switchyard_sync::status::rfc3339;
use switchyard_sync::{
    Attempt, ChangeEvent, CommitInfo, DiscoveryStatus, Outcome, SyncState, SyncStatus,
    ValidationError,
};

/// `syncStatus`: `idle`, `syncing`, `success` or `error`.
pub(crate) fn sync_state(s: SyncState) -> &'static str {
    match s {
        SyncState::Idle => "idle",
        SyncState::Syncing => "syncing",
        SyncState::Success => "success",
        SyncState::Error => "error",
    }
}

/// An attempt's `outcome`: `unchanged`, `applied`, `rejected` or `failed`.
pub(crate) fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Unchanged => "unchanged",
        Outcome::Applied => "applied",
        Outcome::Rejected { .. } => "rejected",
        Outcome::Failed { .. } => "failed",
        Outcome::Held { .. } => "held",
        Outcome::BreakGlass { .. } => "break_glass",
    }
}

/// A sync type with a JSON view.
trait Wire {
    /// The view.
    type Json<'a>: Serialize
    where
        Self: 'a;
    /// The view of `self`.
    fn json(&self) -> Self::Json<'_>;
}

/// A slice written as a JSON array of its items' views.
struct Each<'a, T>(&'a [T]);

impl<T: Wire> Serialize for Each<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Wire::json))
    }
}

/// A commit: `sha`, `author`, `message`, `time`.
#[derive(Serialize)]
struct CommitJson<'a> {
    sha: &'a str,
    author: &'a str,
    message: &'a str,
    time: &'a str,
}

impl Wire for CommitInfo {
    type Json<'a> = CommitJson<'a>;
    fn json(&self) -> CommitJson<'_> {
        CommitJson {
            sha: &self.sha,
            author: &self.author,
            message: &self.message,
            time: &self.time,
        }
    }
}

/// A validation error or warning: where (`file`, `line`, `column`, `path`) and what.
#[derive(Serialize)]
struct ValidationErrorJson<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    path: &'a str,
    message: &'a str,
    /// Found by a check Switchyard adds beyond Flipt's; written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    extra: bool,
}

impl Wire for ValidationError {
    type Json<'a> = ValidationErrorJson<'a>;
    fn json(&self) -> ValidationErrorJson<'_> {
        ValidationErrorJson {
            file: &self.file,
            line: self.line,
            column: self.column,
            path: &self.path,
            message: &self.message,
            extra: self.extra,
        }
    }
}

/// The discovery rule and the files of the snapshot served.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiscoveryJson<'a> {
    rules: &'static str,
    summary: &'a str,
    root_file: Option<&'a str>,
    files: &'a [String],
    not_read: &'a [String],
}

impl Wire for DiscoveryStatus {
    type Json<'a> = DiscoveryJson<'a>;
    fn json(&self) -> DiscoveryJson<'_> {
        DiscoveryJson {
            rules: self.rules,
            summary: &self.summary,
            root_file: self.root_file.as_deref(),
            files: &self.files,
            not_read: &self.not_read,
        }
    }
}

/// One environment's sync status, its key first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusJson<'a> {
    environment: &'a str,
    enabled: bool,
    repository: &'a str,
    branch: &'a str,
    directory: &'a str,
    poll_interval: &'a str,
    sync_status: &'static str,
    last_sync_time: Option<&'a str>,
    error_message: Option<&'a str>,
    error_class: Option<&'static str>,
    last_success_time: Option<&'a str>,
    next_sync_time: Option<&'a str>,
    serving_commit: Option<CommitJson<'a>>,
    remote_commit: Option<CommitJson<'a>>,
    consecutive_failures: u32,
    validation_errors: Each<'a, ValidationError>,
    warnings: Each<'a, ValidationError>,
    discovery: DiscoveryJson<'a>,
    flags: usize,
    digest: &'a str,
    serving_valid_snapshot: bool,
    first_sync_started_at: Option<&'a str>,
    attempt_started_at: Option<&'a str>,
    stalled_since: Option<&'a str>,
    degraded_reason: Option<&'a str>,
    /// Relay mode only: the upstream followed and how far behind it this relay is.
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<UpstreamJson<'a>>,
    /// Break-glass: who paused and why, or null.
    paused: Option<ActorJson<'a>>,
    /// Break-glass: the pinned commit with who pinned it, or null.
    pinned: Option<PinJson<'a>>,
    /// Break-glass: the overrides in effect.
    drift: Vec<DriftJson<'a>>,
    /// The newest valid commit of the branch while it is held back (paused or pinned).
    held_commit: Option<CommitJson<'a>>,
}

/// Who did a break-glass action, why and when.
#[derive(Serialize)]
struct ActorJson<'a> {
    actor: &'a str,
    reason: &'a str,
    time: String,
}

impl<'a> ActorJson<'a> {
    fn new(a: &'a Actor) -> Self {
        ActorJson {
            actor: &a.name,
            reason: &a.reason,
            time: rfc3339(a.at),
        }
    }
}

/// A pinned commit.
#[derive(Serialize)]
struct PinJson<'a> {
    commit: &'a str,
    #[serde(flatten)]
    by: ActorJson<'a>,
}

impl<'a> PinJson<'a> {
    fn new(p: &'a Pin) -> Self {
        PinJson {
            commit: &p.commit,
            by: ActorJson::new(&p.actor),
        }
    }
}

/// An override in effect: the flag, exactly one of `enabled`, `variant`, `rollout`, who set
/// it, when it expires, whether Git now matches and the patch that would make it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DriftJson<'a> {
    namespace: &'a str,
    flag: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollout: Option<f32>,
    description: String,
    #[serde(flatten)]
    by: ActorJson<'a>,
    expires: String,
    git_matches: bool,
    patch: Option<&'a str>,
}

impl<'a> DriftJson<'a> {
    /// The view of an override in effect.
    pub(crate) fn new(d: &'a Drift) -> Self {
        Self::with(&d.over, d.git_matches, d.patch.as_deref())
    }

    /// The view of an override just set (Git's match is in the status).
    pub(crate) fn of_override(o: &'a Override) -> Self {
        Self::with(o, false, None)
    }

    fn with(o: &'a Override, git_matches: bool, patch: Option<&'a str>) -> Self {
        let (enabled, variant, rollout) = match &o.flag.forced {
            Forced::Enabled(b) => (Some(*b), None, None),
            Forced::Variant(v) => (None, Some(v.as_str()), None),
            Forced::Rollout(p) => (None, None, Some(*p)),
        };
        DriftJson {
            namespace: &o.flag.namespace,
            flag: &o.flag.flag,
            enabled,
            variant,
            rollout,
            description: o.flag.forced.describe(),
            by: ActorJson::new(&o.actor),
            expires: rfc3339(o.expires),
            git_matches,
            patch,
        }
    }
}

/// `GET /api/v1/environments/{env}/break-glass` and every break-glass action's answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BreakGlassJson<'a> {
    environment: &'a str,
    serving_commit: Option<CommitJson<'a>>,
    /// What `X-Switchyard-Commit` says: the commit, with `+override` while overrides apply.
    serving_revision: Option<&'a str>,
    paused: Option<ActorJson<'a>>,
    pinned: Option<PinJson<'a>>,
    drift: Vec<DriftJson<'a>>,
    held_commit: Option<CommitJson<'a>>,
}

impl<'a> BreakGlassJson<'a> {
    /// The break-glass fields of `s`; `revision`: the served snapshot's.
    pub(crate) fn new(environment: &'a str, s: &'a SyncStatus, revision: Option<&'a str>) -> Self {
        BreakGlassJson {
            environment,
            serving_commit: s.serving_commit.as_ref().map(Wire::json),
            serving_revision: revision,
            paused: s.paused.as_ref().map(ActorJson::new),
            pinned: s.pinned.as_ref().map(PinJson::new),
            drift: s.drift.iter().map(DriftJson::new).collect(),
            held_commit: s.held_commit.as_ref().map(Wire::json),
        }
    }
}

/// What a relay knows of its upstream.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpstreamJson<'a> {
    url: &'a str,
    connected: bool,
    /// The state the upstream serves (its commit id or label).
    upstream_commit: Option<&'a str>,
    /// The upstream state this relay serves.
    serving: Option<&'a str>,
    /// 0 when in step; else seconds since the upstream swapped in what this relay lacks.
    behind_seconds: Option<u64>,
    last_contact: Option<&'a str>,
}

impl<'a> StatusJson<'a> {
    /// The status `s` of the environment `environment`.
    pub(crate) fn new(environment: &'a str, s: &'a SyncStatus) -> Self {
        StatusJson {
            environment,
            enabled: s.enabled,
            repository: &s.repository,
            branch: &s.branch,
            directory: &s.directory,
            poll_interval: &s.poll_interval,
            sync_status: sync_state(s.sync_status),
            last_sync_time: s.last_sync_time.as_deref(),
            error_message: s.error_message.as_deref(),
            error_class: s.error_class.map(|c| c.as_str()),
            last_success_time: s.last_success_time.as_deref(),
            next_sync_time: s.next_sync_time.as_deref(),
            serving_commit: s.serving_commit.as_ref().map(Wire::json),
            remote_commit: s.remote_commit.as_ref().map(Wire::json),
            consecutive_failures: s.consecutive_failures,
            validation_errors: Each(&s.validation_errors),
            warnings: Each(&s.warnings),
            discovery: s.discovery.json(),
            flags: s.flags,
            digest: &s.digest,
            serving_valid_snapshot: s.serving_valid_snapshot,
            first_sync_started_at: s.first_sync_started_at.as_deref(),
            attempt_started_at: s.attempt_started_at.as_deref(),
            stalled_since: s.stalled_since.as_deref(),
            degraded_reason: s.degraded_reason.as_deref(),
            upstream: s.upstream.as_ref().map(|u| UpstreamJson {
                url: &u.url,
                connected: u.connected,
                upstream_commit: u.label.as_deref(),
                serving: u.served_label.as_deref(),
                behind_seconds: u.behind_seconds,
                last_contact: u.last_contact.as_deref(),
            }),
            paused: s.paused.as_ref().map(ActorJson::new),
            pinned: s.pinned.as_ref().map(PinJson::new),
            drift: s.drift.iter().map(DriftJson::new).collect(),
            held_commit: s.held_commit.as_ref().map(Wire::json),
        }
    }
}

/// `{"statuses": [...]}`: every environment's status, by key.
#[derive(Serialize)]
pub(crate) struct StatusesJson<'a> {
    statuses: Vec<StatusJson<'a>>,
}

impl<'a> StatusesJson<'a> {
    /// The statuses, keyed by environment, in the order given.
    pub(crate) fn new(statuses: impl IntoIterator<Item = (&'a String, &'a SyncStatus)>) -> Self {
        StatusesJson {
            statuses: statuses
                .into_iter()
                .map(|(k, s)| StatusJson::new(k, s))
                .collect(),
        }
    }
}

/// One sync attempt; `errors` only for a rejected commit, `class` and `error` only for a
/// failure.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttemptJson<'a> {
    time: &'a str,
    duration_ms: u64,
    commit: Option<&'a str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Each<'a, ValidationError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// `held`: `paused` or `pinned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<&'static str>,
    /// `break_glass`: the action, what it touched, who and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    diff: &'a [String],
    diff_total: usize,
    repeats: u64,
    last_time: Option<&'a str>,
}

impl Wire for Attempt {
    type Json<'a> = AttemptJson<'a>;
    fn json(&self) -> AttemptJson<'_> {
        let (errors, class, error) = match &self.outcome {
            Outcome::Rejected { errors } => (Some(Each(errors.as_slice())), None, None),
            Outcome::Failed { class, error } => (None, Some(class.as_str()), Some(error.as_str())),
            _ => (None, None, None),
        };
        let held = match &self.outcome {
            Outcome::Held { why } => Some(*why),
            _ => None,
        };
        let (action, detail, actor, reason) = match &self.outcome {
            Outcome::BreakGlass {
                action,
                detail,
                actor,
                reason,
            } => (
                Some(*action),
                Some(detail.as_str()),
                Some(actor.as_str()),
                Some(reason.as_str()),
            ),
            _ => (None, None, None, None),
        };
        AttemptJson {
            time: &self.time,
            duration_ms: self.duration_ms,
            commit: self.commit.as_deref(),
            outcome: outcome_name(&self.outcome),
            errors,
            class,
            error,
            held,
            action,
            detail,
            actor,
            reason,
            diff: &self.diff,
            diff_total: self.diff_total,
            repeats: self.repeats,
            last_time: self.last_time.as_deref(),
        }
    }
}

/// An environment's sync history, oldest attempt first.
#[derive(Serialize)]
pub(crate) struct HistoryJson<'a> {
    environment: &'a str,
    entries: Each<'a, Attempt>,
}

impl<'a> HistoryJson<'a> {
    /// The attempts `entries` of the environment `environment`.
    pub(crate) fn new(environment: &'a str, entries: &'a [Attempt]) -> Self {
        HistoryJson {
            environment,
            entries: Each(entries),
        }
    }
}

/// A `change` event: a new snapshot served, with its diff in plain lines.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeJson<'a> {
    environment: &'a str,
    old_digest: &'a str,
    new_digest: &'a str,
    commit: Option<CommitJson<'a>>,
    diff: Vec<String>,
}

impl<'a> ChangeJson<'a> {
    /// The event `e`.
    pub(crate) fn new(e: &'a ChangeEvent) -> Self {
        ChangeJson {
            environment: &e.environment,
            old_digest: &e.old_digest,
            new_digest: &e.new_digest,
            commit: e.commit.as_ref().map(Wire::json),
            diff: e.diff.lines(),
        }
    }
}

#[cfg(test)]
mod tests;
