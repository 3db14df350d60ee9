//! The sync status of one environment, serialisable as camelCase JSON.
//!
//! A superset of the seed's `GitSyncStatus` (`enabled`, `repository`, `branch`, `pollInterval`,
//! `syncStatus`, `lastSyncTime`, `errorMessage`) with what Flipt never shows: the last success,
//! the next planned sync, the served and the remote commit, the failure count and the full list
//! of validation errors of a rejected commit. Times are RFC 3339 UTC.

use serde::Serialize;
use switchyard_core::Diagnostics;

use crate::error::ErrorClass;
use crate::git::CommitInfo;

/// Where a sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
}

/// Converts core diagnostics into status entries.
pub fn validation_errors(d: &Diagnostics) -> Vec<ValidationError> {
    d.iter()
        .map(|d| ValidationError {
            file: d.location.file.clone(),
            line: d.location.line,
            column: d.location.column,
            path: d.path.clone(),
            message: d.message.clone(),
        })
        .collect()
}

/// The sync status of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
    /// `idle`, `syncing`, `success` or `error`.
    pub sync_status: SyncState,
    /// End of the last sync attempt.
    pub last_sync_time: Option<String>,
    /// The last error, if the last attempt failed or its commit was rejected.
    pub error_message: Option<String>,
    /// Class of the last error (`authentication`, `network`, `not_found`, `validation`, `other`).
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
    /// Flags served.
    pub flags: usize,
    /// Digest of the environment served.
    pub digest: String,
}

impl SyncStatus {
    pub(crate) fn new(
        enabled: bool,
        repository: String,
        branch: String,
        directory: String,
        poll_interval: String,
    ) -> Self {
        SyncStatus {
            enabled,
            repository,
            branch,
            directory,
            poll_interval,
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
            flags: 0,
            digest: String::new(),
        }
    }
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
    fn camel_case_field_names() {
        let s = SyncStatus::new(
            true,
            "https://h/r.git".into(),
            "main".into(),
            String::new(),
            "30s".into(),
        );
        let v = serde_json::to_value(&s).unwrap();
        for k in [
            "enabled",
            "repository",
            "branch",
            "pollInterval",
            "syncStatus",
            "lastSyncTime",
            "errorMessage",
            "lastSuccessTime",
            "nextSyncTime",
            "servingCommit",
            "remoteCommit",
            "consecutiveFailures",
            "validationErrors",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["syncStatus"], "idle");
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
    }
}
