//! The sync status of one environment (the server writes it as the sync API's camelCase JSON).
//!
//! A superset of the seed's `GitSyncStatus` (`enabled`, `repository`, `branch`, `pollInterval`,
//! `syncStatus`, `lastSyncTime`, `errorMessage`) with what Flipt never shows: the last success,
//! the next planned sync, the served and the remote commit, the failure count and the full list
//! of validation errors of a rejected commit. Times are RFC 3339 UTC.

use std::time::{Duration, Instant, SystemTime};

use switchyard_core::{Diagnostics, Discovered, Discovery};

use crate::break_glass::{Actor, Drift, Pin};
use crate::error::ErrorClass;
use crate::git::CommitInfo;

/// Where a sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// No sync has run yet.
    Idle,
    /// A sync is running.
    Syncing,
    /// The last sync succeeded (or nothing had changed).
    Success,
    /// The last sync failed or the remote commit was rejected.
    Error,
}

/// One validation error of a rejected commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// File, relative to the environment root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Document path of the offending node.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Found by a check Switchyard adds beyond Flipt's (`validation.extra_checks`); written only
    /// when true.
    pub extra: bool,
}

/// `file:line:column: path: message` (the path left out when empty), as logs and
/// notifications show it.
impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Converts core diagnostics into status entries.
pub fn validation_errors(d: &Diagnostics) -> Vec<ValidationError> {
    entries(d.iter())
}

/// Which rule finds an environment's flag files, and the files of the snapshot served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryStatus {
    /// The rule set in force: `flipt-v1` (a v1 or the seed's configuration) or `flipt-v2`.
    pub rules: &'static str,
    /// The rule in plain words, as it applied to the snapshot served.
    pub summary: String,
    /// The rule's file at the environment root that was read for the snapshot served:
    /// `.flipt.yml` (v1's index) or `flipt.yaml`/`flipt.yml` (v2's repository configuration).
    pub root_file: Option<String>,
    /// The flag files the snapshot served was read from, relative to the environment root,
    /// sorted; empty until one is served.
    pub files: Vec<String>,
    /// Files of that commit that look like flag files to either Flipt generation (or a
    /// `.flipt.yml` under v2's rule) but were not read by this rule, sorted.
    pub not_read: Vec<String>,
}

impl DiscoveryStatus {
    /// The rule set before any snapshot is served.
    pub fn new(rules: Discovery) -> Self {
        DiscoveryStatus {
            rules: rules.as_str(),
            summary: rules.rule(),
            root_file: None,
            files: Vec::new(),
            not_read: Vec::new(),
        }
    }

    /// What `discovered` chose.
    pub fn of(discovered: &Discovered) -> Self {
        DiscoveryStatus {
            rules: discovered.rules.as_str(),
            summary: discovered.rules.summary(discovered.root_file.as_deref()),
            root_file: discovered.root_file.clone(),
            files: discovered.files.clone(),
            not_read: discovered.not_read.clone(),
        }
    }
}

impl Default for DiscoveryStatus {
    fn default() -> Self {
        DiscoveryStatus::new(Discovery::default())
    }
}

/// What the status shows of a served environment.
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// Flags served.
    pub flags: usize,
    /// Digest of the environment.
    pub digest: String,
    /// Its warnings (it compiles, but probably not as meant).
    pub warnings: Vec<ValidationError>,
    /// The rule and the files it was read from.
    pub discovery: DiscoveryStatus,
}

impl Served {
    /// What `env`, read from the files `discovered` chose, shows in the status; its warnings
    /// include discovery's (look-alike files the rule did not read).
    pub fn of(env: &switchyard_core::Environment, discovered: &Discovered) -> Self {
        let skipped = discovered.warnings();
        let mut warnings: Vec<&switchyard_core::Diagnostic> = env.warnings();
        warnings.extend(&skipped);
        warnings.sort();
        Served {
            flags: env.flag_count(),
            digest: env.digest.clone(),
            warnings: entries(warnings),
            discovery: DiscoveryStatus::of(discovered),
        }
    }
}

fn entries<'a>(
    d: impl IntoIterator<Item = &'a switchyard_core::Diagnostic>,
) -> Vec<ValidationError> {
    d.into_iter()
        .map(|d| ValidationError {
            file: d.location.file.clone(),
            line: d.location.line,
            column: d.location.column,
            path: d.path.clone(),
            message: d.message.clone(),
            extra: d.extra,
        })
        .collect()
}

/// The sync status of one environment.
///
/// A small state machine: the sync calls [`SyncStatus::begin`] when an attempt starts and one of
/// [`SyncStatus::unchanged`], [`SyncStatus::applied`], [`SyncStatus::rejected`] or
/// [`SyncStatus::failed`] when it ends; `syncStatus` is derived from those in one place, so it
/// never says `syncing` beside the error of a finished attempt. Readers take a
/// [`SyncStatus::view`], which fills in what depends on the clock (`stalledSince`,
/// `degradedReason`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    /// Whether this environment is synced from a remote (false for a plain directory).
    pub enabled: bool,
    /// Remote URL without credentials, or the directory.
    pub repository: String,
    /// Branch followed (or `tag v1`, `commit <sha>`).
    pub branch: String,
    /// Environment directory inside the repository.
    pub directory: String,
    /// Poll interval, e.g. `30s`.
    pub poll_interval: String,
    /// `idle` (nothing finished yet), `syncing` (an attempt runs and the last one did not
    /// fail), `success` or `error` (the last finished attempt failed or its commit was rejected,
    /// even while a retry runs).
    pub sync_status: SyncState,
    /// End of the last sync attempt.
    pub last_sync_time: Option<String>,
    /// The last error, if the last attempt failed or its commit was rejected.
    pub error_message: Option<String>,
    /// Class of the last error (`authentication`, `network`, `timeout`, `not_found`,
    /// `validation`, `internal`, `other`).
    pub error_class: Option<ErrorClass>,
    /// End of the last successful sync.
    pub last_success_time: Option<String>,
    /// When the next poll is planned.
    pub next_sync_time: Option<String>,
    /// The commit being served.
    pub serving_commit: Option<CommitInfo>,
    /// The commit the remote pointed to at the last successful fetch.
    pub remote_commit: Option<CommitInfo>,
    /// Failed attempts in a row (fetch errors and rejected commits).
    pub consecutive_failures: u32,
    /// Every validation error of the rejected remote commit.
    pub validation_errors: Vec<ValidationError>,
    /// The warnings of the snapshot served (it is valid, but probably not as meant).
    pub warnings: Vec<ValidationError>,
    /// Which rule finds the flag files (Flipt v1's or v2's) and the files served.
    pub discovery: DiscoveryStatus,
    /// Flags served.
    pub flags: usize,
    /// Digest of the environment served.
    pub digest: String,
    /// Whether the environment serves a snapshot of a valid commit (fetched, the local
    /// backend's last good commit, or a directory); false only until the first one.
    pub serving_valid_snapshot: bool,
    /// When the first sync attempt started.
    pub first_sync_started_at: Option<String>,
    /// When the running attempt started; none between attempts.
    pub attempt_started_at: Option<String>,
    /// Set while the running attempt has taken longer than the poll interval: the moment it
    /// went past it.
    pub stalled_since: Option<String>,
    /// Why the environment is not fully healthy, in plain words (none when it is).
    pub degraded_reason: Option<String>,
    /// Relay mode: the upstream Switchyard followed and how far behind it this relay is.
    pub upstream: Option<UpstreamStatus>,
    /// Break-glass: set while new commits are validated but not applied (who, why, when).
    pub paused: Option<Actor>,
    /// Break-glass: the commit served instead of the branch head, with who pinned it.
    pub pinned: Option<Pin>,
    /// Break-glass: the overrides in effect, each with whether the followed branch now
    /// carries the same change and the patch that would make it.
    pub drift: Vec<Drift>,
    /// The newest valid commit of the followed reference while it is held back (paused or
    /// pinned), none otherwise.
    pub held_commit: Option<CommitInfo>,
    clock: Clock,
}

/// What a relay knows of the upstream Switchyard it follows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamStatus {
    /// The upstream's URL, without credentials.
    pub url: String,
    /// Whether the stream from the upstream is up (as of the last attempt).
    pub connected: bool,
    /// The state the upstream serves (its commit id, or its label for another state).
    pub label: Option<String>,
    /// When the upstream swapped that state in, Unix milliseconds.
    pub applied_at_ms: Option<u64>,
    /// The upstream state this relay serves.
    pub served_label: Option<String>,
    /// When the upstream was last heard from (RFC 3339).
    pub last_contact: Option<String>,
    /// Filled in by [`SyncStatus::view`]: 0 when this relay serves the upstream's state, else the
    /// seconds since the upstream swapped in the state this relay does not serve yet.
    pub behind_seconds: Option<u64>,
}

/// What the derived fields are computed from; not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clock {
    interval: Duration,
    /// Start of the running attempt.
    attempt: Option<Instant>,
    /// Outcome of the last finished attempt (`Idle` before the first).
    outcome: SyncState,
    /// The error of the commit last seen (rejected, or a cycle that panicked on it): an
    /// unchanged poll reports it again.
    tip_error: Option<(ErrorClass, String)>,
}

impl SyncStatus {
    /// The status of an environment before its first attempt: `enabled` when it follows a
    /// remote, the remote (without credentials) or directory, the reference's label, the
    /// directory inside the repository and the poll interval.
    pub fn new(
        enabled: bool,
        repository: String,
        branch: String,
        directory: String,
        interval: Duration,
    ) -> Self {
        SyncStatus {
            enabled,
            repository,
            branch,
            directory,
            poll_interval: crate::config::format_duration(interval),
            sync_status: SyncState::Idle,
            last_sync_time: None,
            error_message: None,
            error_class: None,
            last_success_time: None,
            next_sync_time: None,
            serving_commit: None,
            remote_commit: None,
            consecutive_failures: 0,
            validation_errors: Vec::new(),
            warnings: Vec::new(),
            discovery: DiscoveryStatus::default(),
            flags: 0,
            digest: String::new(),
            serving_valid_snapshot: false,
            first_sync_started_at: None,
            attempt_started_at: None,
            stalled_since: None,
            degraded_reason: None,
            upstream: None,
            paused: None,
            pinned: None,
            drift: Vec::new(),
            held_commit: None,
            clock: Clock {
                interval,
                attempt: None,
                outcome: SyncState::Idle,
                tip_error: None,
            },
        }
    }

    /// The one place `syncStatus` comes from.
    fn derive(&mut self) {
        self.sync_status = match (self.clock.attempt.is_some(), self.clock.outcome) {
            (_, SyncState::Error) => SyncState::Error,
            (true, _) => SyncState::Syncing,
            (false, outcome) => outcome,
        };
    }

    fn finish(&mut self, now: SystemTime, outcome: SyncState) {
        self.clock.attempt = None;
        self.attempt_started_at = None;
        self.clock.outcome = outcome;
        self.last_sync_time = Some(rfc3339(now));
        if outcome == SyncState::Success {
            self.last_success_time = self.last_sync_time.clone();
            self.error_message = None;
            self.error_class = None;
            self.consecutive_failures = 0;
        }
        self.derive();
    }

    /// An attempt found a valid new commit that is held back (paused or pinned): the sync
    /// works, the commit served does not move.
    pub fn held(&mut self, now: SystemTime, remote: Option<CommitInfo>) {
        self.clock.tip_error = None;
        self.validation_errors.clear();
        if remote.is_some() {
            self.remote_commit = remote;
        }
        self.finish(now, SyncState::Success);
    }

    /// An attempt starts.
    pub fn begin(&mut self, at: Instant, now: SystemTime) {
        let stamp = rfc3339(now);
        if self.first_sync_started_at.is_none() {
            self.first_sync_started_at = Some(stamp.clone());
        }
        self.attempt_started_at = Some(stamp);
        // nothing is planned while an attempt runs (the loop sets it again when it ends)
        self.next_sync_time = None;
        self.clock.attempt = Some(at);
        self.derive();
    }

    /// The attempt found the commit (or directory) last seen: success, or that commit's error
    /// again if it was rejected.
    pub fn unchanged(&mut self, now: SystemTime, remote: Option<CommitInfo>) {
        if self.remote_commit.is_some() || remote.is_some() {
            self.remote_commit = remote;
        }
        match self.clock.tip_error.clone() {
            None => self.finish(now, SyncState::Success),
            Some((class, message)) => {
                self.error_class = Some(class);
                self.error_message = Some(message);
                self.finish(now, SyncState::Error);
            }
        }
    }

    /// A new valid commit (or directory content) is served.
    pub fn applied(&mut self, now: SystemTime, commit: Option<CommitInfo>, served: Served) {
        self.clock.tip_error = None;
        self.validation_errors.clear();
        self.serving_commit = commit.clone();
        self.remote_commit = commit;
        self.serve(served);
        self.finish(now, SyncState::Success);
    }

    /// Serves a valid commit restored without a sync (the local backend's last good commit).
    pub fn restored(&mut self, commit: Option<CommitInfo>, served: Served) {
        self.serving_commit = commit;
        self.serve(served);
        self.derive();
    }

    fn serve(&mut self, served: Served) {
        self.flags = served.flags;
        self.digest = served.digest;
        self.warnings = served.warnings;
        self.discovery = served.discovery;
        self.serving_valid_snapshot = true;
    }

    /// The remote commit was looked at and refused (invalid, would empty the environment, or
    /// its cycle panicked): it is not tried again, and unchanged polls keep reporting this.
    pub fn rejected(
        &mut self,
        now: SystemTime,
        commit: Option<CommitInfo>,
        class: ErrorClass,
        message: String,
        errors: Vec<ValidationError>,
    ) {
        self.clock.tip_error = Some((class, message.clone()));
        self.validation_errors = errors;
        self.remote_commit = commit;
        self.failed(now, class, message);
    }

    /// The attempt failed (fetch, reading, a panic before a commit was known).
    pub fn failed(&mut self, now: SystemTime, class: ErrorClass, message: String) {
        self.error_class = Some(class);
        self.error_message = Some(message);
        self.consecutive_failures += 1;
        self.finish(now, SyncState::Error);
    }

    /// The status as of `at`/`now`: fills in `stalledSince` and `degradedReason`.
    pub fn view(&self, at: Instant, now: SystemTime) -> SyncStatus {
        let mut v = self.clone();
        let running = v
            .clock
            .attempt
            .map(|start| at.saturating_duration_since(start));
        v.stalled_since = match running {
            Some(r) if r > v.clock.interval => Some(rfc3339(now - (r - v.clock.interval))),
            _ => None,
        };
        let secs = |d: Duration| d.as_secs();
        v.degraded_reason = if !v.serving_valid_snapshot {
            Some(match (running, v.clock.outcome, &v.error_message) {
                (_, SyncState::Error, Some(e)) => format!("no valid snapshot served yet: {e}"),
                (Some(r), SyncState::Idle, _) => {
                    format!("first sync in progress for {} s", secs(r))
                }
                (None, SyncState::Idle, _) => "waiting for the first sync".to_string(),
                _ => "no valid snapshot served yet".to_string(),
            })
        } else if v.clock.outcome == SyncState::Error {
            let serving = v
                .serving_commit
                .as_ref()
                .map_or("the last good snapshot".to_string(), |c| {
                    format!("the last good commit {}", short(&c.sha))
                });
            Some(format!(
                "serving {serving}; the last sync failed ({}): {}",
                v.error_class.map_or("other", ErrorClass::as_str),
                v.error_message.as_deref().unwrap_or("")
            ))
        } else {
            None
        };
        if let Some(glass) = v.break_glass_words() {
            v.degraded_reason = Some(match v.degraded_reason {
                Some(d) => format!("{d}; {glass}"),
                None => glass,
            });
        }
        if let Some(u) = v.upstream.as_mut() {
            u.behind_seconds = match (&u.label, &u.served_label, u.applied_at_ms) {
                (Some(l), Some(s), _) if l == s => Some(0),
                (Some(_), _, Some(at)) => {
                    let now_ms = now
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    Some(now_ms.saturating_sub(at) / 1000)
                }
                _ => None,
            };
        }
        if let (Some(r), Some(_)) = (running, &v.stalled_since) {
            let stalled = format!(
                "syncing for {} s, longer than the poll interval ({})",
                secs(r),
                v.poll_interval
            );
            v.degraded_reason = Some(match v.degraded_reason {
                Some(d) => format!("{d}; {stalled}"),
                None => stalled,
            });
        }
        v
    }

    /// Break-glass in effect, in plain words (none when nothing is).
    fn break_glass_words(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(a) = &self.paused {
            parts.push(format!("paused by {} ({})", a.name, a.reason));
        }
        if let Some(p) = &self.pinned {
            parts.push(format!(
                "pinned to {} by {} ({})",
                short(&p.commit),
                p.actor.name,
                p.actor.reason
            ));
        }
        if let Some(h) = &self.held_commit {
            parts.push(format!("the branch is at {}, not applied", short(&h.sha)));
        }
        match self.drift.len() {
            0 => {}
            1 => parts.push("1 flag override in effect (drift from Git)".to_string()),
            n => parts.push(format!("{n} flag overrides in effect (drift from Git)")),
        }
        (!parts.is_empty()).then(|| format!("break-glass: {}", parts.join(", ")))
    }

    /// Whether an attempt is running.
    pub fn is_syncing(&self) -> bool {
        self.clock.attempt.is_some()
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Formats Unix seconds as RFC 3339 UTC, e.g. `2026-11-26T04:18:34Z`.
pub fn rfc3339_from_unix(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Formats a system time as RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_are_rfc3339_utc() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_796_000_000), "2026-11-30T00:53:20Z");
    }
}

#[cfg(test)]
mod machine_tests;
