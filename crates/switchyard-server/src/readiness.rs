//! Whether an environment serves a snapshot from a valid commit yet, and if not, why: the one
//! place `/ready`, evaluations, OFREP and client snapshots ask.

use std::time::Duration;

use switchyard_sync::{ErrorClass, SyncStatus};

/// What readiness needs from a [`SyncStatus`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress<'a> {
    /// A valid snapshot was served once.
    pub(crate) served: bool,
    /// The last attempt's error.
    pub(crate) error_message: Option<&'a str>,
    /// Its class.
    pub(crate) error_class: Option<ErrorClass>,
}

impl<'a> From<&'a SyncStatus> for Progress<'a> {
    /// Serving means a valid commit (or directory) was applied once, or the last good commit
    /// was loaded from the local repository.
    fn from(s: &'a SyncStatus) -> Self {
        Progress {
            served: s.serving_valid_snapshot,
            error_message: s.error_message.as_deref(),
            error_class: s.error_class,
        }
    }
}

/// Whether the environment `key` serves a valid snapshot, or the reason it does not yet.
///
/// Once served, an environment keeps serving through every failure, so readiness never goes
/// back. `waiting` is how long the server has been up.
pub(crate) fn readiness(key: &str, p: Progress<'_>, waiting: Duration) -> Result<(), String> {
    if p.served {
        return Ok(());
    }
    let why = match (p.error_message, p.error_class) {
        (Some(message), Some(ErrorClass::Validation)) => message.to_string(),
        (Some(message), class) => {
            let class = class.map_or("other", ErrorClass::as_str);
            format!("the first sync failed ({class}): {message}; retrying")
        }
        (None, _) => format!(
            "the first sync has been in progress for {} s",
            waiting.as_secs()
        ),
    };
    Err(format!(
        "environment \"{key}\" has no valid snapshot yet: {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_sync_in_progress_says_for_how_long() {
        let e = readiness("prod", Progress::default(), Duration::from_secs(12)).unwrap_err();
        assert_eq!(
            e,
            "environment \"prod\" has no valid snapshot yet: the first sync has been in progress for 12 s"
        );
    }

    #[test]
    fn a_rejected_first_commit_is_named() {
        let p = Progress {
            served: false,
            error_message: Some(
                "commit abc123 rejected: 1 validation error(s), first: f.yml:3:5: flags[0].key: required",
            ),
            error_class: Some(ErrorClass::Validation),
        };
        let e = readiness("default", p, Duration::ZERO).unwrap_err();
        assert!(
            e.starts_with(
                "environment \"default\" has no valid snapshot yet: commit abc123 rejected"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_failed_first_fetch_gives_its_class() {
        let p = Progress {
            served: false,
            error_message: Some("connection refused"),
            error_class: Some(ErrorClass::Network),
        };
        let e = readiness("default", p, Duration::ZERO).unwrap_err();
        assert!(
            e.ends_with("the first sync failed (network): connection refused; retrying"),
            "{e}"
        );
    }

    #[test]
    fn a_served_environment_is_ready_whatever_failed_since() {
        let p = Progress {
            served: true,
            error_message: Some("connection refused"),
            error_class: Some(ErrorClass::Network),
        };
        assert_eq!(readiness("default", p, Duration::ZERO), Ok(()));
    }
}
