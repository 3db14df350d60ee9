//! A bounded record of sync attempts (default 100 per environment), newest last.
//!
//! Polls that find nothing new are folded into one entry (with a repeat count), so a 1s poll
//! does not push real events out of the ring. An applied commit keeps the first
//! [`DIFF_LINES_KEPT`] lines of its diff and the number of changes, so a commit that changes
//! 10,000 flags costs a few kilobytes here, not megabytes: the history's memory is bounded by
//! `limit` × (that many lines + the validation errors of a rejected commit).

use std::collections::VecDeque;

use switchyard_core::Diff;

use crate::error::ErrorClass;
use crate::status::ValidationError;

/// Lines of an applied commit's diff kept in its history entry.
pub const DIFF_LINES_KEPT: usize = 50;

/// How a sync attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The remote had not moved.
    Unchanged,
    /// A new commit was validated and is now served.
    Applied,
    /// A new commit was invalid; the previous snapshot stays.
    Rejected {
        /// Its validation errors.
        errors: Vec<ValidationError>,
    },
    /// The fetch (or reading the commit) failed.
    Failed {
        /// Error class.
        class: ErrorClass,
        /// Error message, without credentials.
        error: String,
    },
    /// A new commit was valid but is not applied: the environment is `paused` or `pinned`.
    Held {
        /// `paused` or `pinned`.
        why: &'static str,
    },
    /// A break-glass action (`pause`, `resume`, `pin`, `override`, `clear`, `expire`).
    BreakGlass {
        /// The action.
        action: &'static str,
        /// What it touched, in plain words.
        detail: String,
        /// The token's name (`server` for an expiry).
        actor: String,
        /// Why.
        reason: String,
    },
}

/// One sync attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it started, RFC 3339 UTC.
    pub time: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The commit it looked at, if the fetch got that far.
    pub commit: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// For an applied commit, what changed against the snapshot served before, in plain words:
    /// the first [`DIFF_LINES_KEPT`] lines.
    pub diff: Vec<String>,
    /// For an applied commit, how many flags and segments changed (more than `diff` shows
    /// when it was cut).
    pub diff_total: usize,
    /// How many more identical unchanged polls were folded into this entry.
    pub repeats: u64,
    /// Time of the last folded poll.
    pub last_time: Option<String>,
}

impl Attempt {
    /// An attempt started at `time` (RFC 3339), `started` ago, that served nothing new: no diff.
    pub fn without_diff(
        time: &str,
        started: std::time::Instant,
        commit: Option<String>,
        outcome: Outcome,
    ) -> Self {
        Attempt {
            time: time.to_string(),
            duration_ms: started.elapsed().as_millis() as u64,
            commit,
            outcome,
            diff: Vec::new(),
            diff_total: 0,
            repeats: 0,
            last_time: None,
        }
    }
}

/// The first [`DIFF_LINES_KEPT`] lines of `diff` and its number of changes.
pub fn summarise(diff: &Diff) -> (Vec<String>, usize) {
    let kept = Diff {
        changes: diff.changes.iter().take(DIFF_LINES_KEPT).cloned().collect(),
    };
    let mut lines = kept.lines();
    lines.truncate(DIFF_LINES_KEPT);
    (lines, diff.changes.len())
}

/// A ring of the last `limit` attempts.
#[derive(Debug, Clone)]
pub struct History {
    limit: usize,
    entries: VecDeque<Attempt>,
}

impl History {
    /// An empty history keeping at most `limit` attempts.
    pub fn new(limit: usize) -> Self {
        History {
            limit: limit.max(1),
            entries: VecDeque::new(),
        }
    }

    /// Adds an attempt, folding an unchanged poll into an unchanged entry for the same commit.
    pub fn push(&mut self, attempt: Attempt) {
        if attempt.outcome == Outcome::Unchanged
            && let Some(last) = self.entries.back_mut()
            && last.outcome == Outcome::Unchanged
            && last.commit == attempt.commit
        {
            last.repeats += 1;
            last.last_time = Some(attempt.time);
            return;
        }
        if self.entries.len() == self.limit {
            self.entries.pop_front();
        }
        self.entries.push_back(attempt);
    }

    /// The attempts, oldest first.
    pub fn entries(&self) -> Vec<Attempt> {
        self.entries.iter().cloned().collect()
    }

    /// How many attempts are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(outcome: Outcome, commit: &str) -> Attempt {
        Attempt {
            time: "t".into(),
            duration_ms: 1,
            commit: Some(commit.into()),
            outcome,
            diff: Vec::new(),
            diff_total: 0,
            repeats: 0,
            last_time: None,
        }
    }

    #[test]
    fn a_large_diff_is_summarised() {
        use switchyard_core::{Change, ChangeKind, ObjectKind};
        let diff = Diff {
            changes: (0..10_000)
                .map(|i| Change {
                    namespace: "default".into(),
                    object: ObjectKind::Flag,
                    key: format!("flag{i}"),
                    kind: ChangeKind::Changed,
                    details: vec!["enabled: false -> true".into()],
                })
                .collect(),
        };
        let (lines, total) = summarise(&diff);
        assert_eq!(total, 10_000);
        assert_eq!(lines.len(), DIFF_LINES_KEPT);
        assert!(lines[0].contains("flag0"), "{lines:?}");
        let small = Diff {
            changes: diff.changes[..3].to_vec(),
        };
        assert_eq!(summarise(&small), (small.lines(), 3));
    }

    #[test]
    fn bounded_and_folds_unchanged_polls() {
        let mut h = History::new(3);
        h.push(attempt(Outcome::Applied, "a"));
        h.push(attempt(Outcome::Unchanged, "a"));
        h.push(attempt(Outcome::Unchanged, "a"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.entries()[1].repeats, 1);
        h.push(attempt(Outcome::Applied, "b"));
        h.push(attempt(Outcome::Applied, "c"));
        assert_eq!(h.len(), 3);
        assert_eq!(h.entries()[0].commit.as_deref(), Some("a"));
        assert_eq!(h.entries()[0].outcome, Outcome::Unchanged);
    }
}
