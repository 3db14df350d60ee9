//! A source fed from outside the sync: a relay's environment, whose states (a label, the commit
//! metadata and the flag files as the upstream read them) are offered by the server's relay
//! client instead of being fetched from Git. The worker takes the newest offer through the same
//! compile, flag-loss guard, swap, status and history path as a fetched commit.
//!
//! The inbox keeps only the newest offer (a slow worker coalesces), and the local backend keeps
//! the last good state's files in one file per environment so a restarted relay serves it at once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::break_glass::{Override, decode_override, override_fields};
use switchyard_core::{Discovered, Discovery, SourceFile};

use crate::error::{ErrorClass, SyncError};
use crate::git::CommitInfo;

/// One state of an upstream's environment, as a relay receives it.
#[derive(Debug, Clone)]
pub struct FedRevision {
    /// What the upstream serves: the commit id, or another label for a served state that is not
    /// a plain commit (a directory fingerprint; later a pinned or overridden state).
    pub label: String,
    /// The commit's author, message and time, when the state is a commit.
    pub commit: Option<CommitInfo>,
    /// When the upstream swapped this state in, in Unix milliseconds (for "how far behind").
    pub applied_at_ms: Option<u64>,
    /// The flag files and what discovery chose; none when the upstream only says which state
    /// it serves (the relay already has it).
    pub files: Option<Arc<FedFiles>>,
    /// The upstream's break-glass overrides laid over these files, with who set them and
    /// until when (the label then ends in `+override`); the relay lays the same ones.
    pub overrides: Vec<Override>,
}

/// An environment's flag files as read, with what discovery chose.
#[derive(Debug, Clone, Default)]
pub struct FedFiles {
    /// The flag files, path relative to the environment root and bytes as stored.
    pub files: Vec<SourceFile>,
    /// The rule, root file and paths the upstream's discovery chose.
    pub discovered: Discovered,
}

/// What the relay client last told the worker.
#[derive(Debug, Default)]
struct InboxState {
    latest: Option<Arc<FedRevision>>,
    down: Option<SyncError>,
    /// Bumped on every offer or failure, so a waiting cycle wakes.
    generation: u64,
}

/// The newest offer for one fed environment, shared by the relay client and the worker.
#[derive(Debug, Default)]
pub(crate) struct FedInbox {
    state: Mutex<InboxState>,
    changed: Condvar,
}

impl FedInbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `revision` as the newest state; the upstream is reachable again.
    pub(crate) fn offer(&self, revision: FedRevision) {
        let mut s = self.lock();
        // a state that only names the label keeps the files already offered for it
        let files = match (&revision.files, &s.latest) {
            (None, Some(old)) if old.label == revision.label => old.files.clone(),
            _ => revision.files.clone(),
        };
        s.latest = Some(Arc::new(FedRevision { files, ..revision }));
        s.down = None;
        s.generation += 1;
        self.changed.notify_all();
    }

    /// Records that the upstream cannot be followed now.
    pub(crate) fn down(&self, error: SyncError) {
        let mut s = self.lock();
        s.down = Some(error);
        s.generation += 1;
        self.changed.notify_all();
    }

    /// The newest state, the upstream's failure, or (when the relay client has said nothing
    /// yet) whatever it says within `wait`.
    pub(crate) fn take(&self, wait: Duration) -> Result<Arc<FedRevision>, SyncError> {
        let mut s = self.lock();
        if s.generation == 0 {
            s = self
                .changed
                .wait_timeout_while(s, wait, |s| s.generation == 0)
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        if let Some(e) = &s.down {
            return Err(e.clone());
        }
        s.latest.clone().ok_or_else(|| SyncError::Upstream {
            class: ErrorClass::UpstreamUnreachable,
            message: format!(
                "upstream unreachable: no answer from the upstream within {} s",
                wait.as_secs()
            ),
        })
    }
}

/// A fed storage's side of the worker: its inbox and where the local backend keeps last good
/// states.
#[derive(Debug)]
pub(crate) struct FedSource {
    pub(crate) inbox: Arc<FedInbox>,
    /// The local backend's directory (none: memory backend, nothing kept across restarts).
    pub(crate) last_good_dir: Option<PathBuf>,
    /// How long a cycle waits for the relay client's first word.
    pub(crate) wait: Duration,
}

/// The first line of a last-good file.
const MAGIC: &str = "switchyard-relay-last-good 1";

fn last_good_path(dir: &Path, environment: &str) -> PathBuf {
    dir.join(format!("relay-{}.last-good", file_name_part(environment)))
}

/// An environment key as part of a file name: characters other than ASCII letters, digits,
/// `-` and `_` become `_` (keys are configuration keys; the file stays in its directory).
pub(crate) fn file_name_part(environment: &str) -> String {
    environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl FedSource {
    /// Writes `revision` (which has files) as `environment`'s last good state: a temporary file
    /// renamed over the old one.
    pub(crate) fn record_last_good(
        &self,
        environment: &str,
        revision: &FedRevision,
    ) -> Result<(), SyncError> {
        let (Some(dir), Some(files)) = (&self.last_good_dir, &revision.files) else {
            return Ok(());
        };
        let out = encode(revision, files);
        std::fs::create_dir_all(dir)
            .map_err(|e| SyncError::local("creating the local backend's directory", e))?;
        let path = last_good_path(dir, environment);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| SyncError::local("recording the last good upstream state", e))
    }

    /// `environment`'s last good state, if the local backend has a readable one.
    pub(crate) fn last_good(&self, environment: &str) -> Option<FedRevision> {
        let dir = self.last_good_dir.as_ref()?;
        let bytes = std::fs::read(last_good_path(dir, environment)).ok()?;
        decode(&bytes)
    }
}

/// `key value` header lines, then each file as `file <length> <path>` and its bytes.
fn encode(revision: &FedRevision, files: &FedFiles) -> Vec<u8> {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    let mut out = format!("{MAGIC}\nlabel {}\n", one_line(&revision.label));
    if let Some(c) = &revision.commit {
        out.push_str(&format!(
            "sha {}\nauthor {}\nmessage {}\ntime {}\n",
            one_line(&c.sha),
            one_line(&c.author),
            one_line(&c.message),
            one_line(&c.time)
        ));
    }
    if let Some(t) = revision.applied_at_ms {
        out.push_str(&format!("applied {t}\n"));
    }
    let d = &files.discovered;
    out.push_str(&format!("rules {}\n", d.rules.as_str()));
    if let Some(r) = &d.root_file {
        out.push_str(&format!("root {}\n", one_line(r)));
    }
    for f in &d.not_read {
        out.push_str(&format!("not-read {}\n", one_line(f)));
    }
    for o in &revision.overrides {
        out.push_str(&format!("override {}\n", one_line(&override_fields(o))));
    }
    let mut out = out.into_bytes();
    for f in &files.files {
        out.extend_from_slice(
            format!("file {} {}\n", f.contents.len(), one_line(&f.path)).as_bytes(),
        );
        out.extend_from_slice(&f.contents);
        out.push(b'\n');
    }
    out
}

/// The next line of `rest` (without its newline), advancing past it.
fn take_line<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let end = rest.iter().position(|b| *b == b'\n')?;
    let line = std::str::from_utf8(&rest[..end]).ok();
    *rest = &rest[end + 1..];
    line
}

fn decode(bytes: &[u8]) -> Option<FedRevision> {
    let mut rest = bytes;
    if take_line(&mut rest)? != MAGIC {
        return None;
    }
    let (mut label, mut commit, mut applied) = (None, CommitInfo::default(), None);
    let mut discovered = Discovered::default();
    let mut files = Vec::new();
    let mut overrides = Vec::new();
    while let Some(l) = take_line(&mut rest) {
        let (key, value) = l.split_once(' ').unwrap_or((l, ""));
        match key {
            "label" => label = Some(value.to_string()),
            "sha" => commit.sha = value.to_string(),
            "author" => commit.author = value.to_string(),
            "message" => commit.message = value.to_string(),
            "time" => commit.time = value.to_string(),
            "applied" => applied = value.parse().ok(),
            "rules" => {
                discovered.rules = match value {
                    "flipt-v2" => Discovery::FliptV2,
                    _ => Discovery::FliptV1,
                }
            }
            "root" => discovered.root_file = Some(value.to_string()),
            "not-read" => discovered.not_read.push(value.to_string()),
            "override" => overrides.push(decode_override(&value.split('\t').collect::<Vec<_>>())?),
            "file" => {
                // the file's bytes follow its header, then a newline
                let (len, path) = value.split_once(' ')?;
                let len: usize = len.parse().ok()?;
                if rest.len() < len + 1 || rest[len] != b'\n' {
                    return None;
                }
                files.push(SourceFile::new(path, rest[..len].to_vec()));
                rest = &rest[len + 1..];
            }
            _ => return None,
        }
    }
    discovered.files = files.iter().map(|f| f.path.clone()).collect();
    Some(FedRevision {
        label: label?,
        commit: (!commit.sha.is_empty()).then_some(commit),
        applied_at_ms: applied,
        files: Some(Arc::new(FedFiles { files, discovered })),
        overrides,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::break_glass::Actor;
    use std::time::SystemTime;
    use switchyard_core::overlay::{FlagOverride, Forced};

    fn test_override(flag: &str, forced: Forced) -> Override {
        Override {
            flag: FlagOverride {
                namespace: "default".into(),
                flag: flag.into(),
                forced,
            },
            actor: Actor {
                name: "oncall".into(),
                reason: "incident 7".into(),
                at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000),
            },
            expires: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_003_600),
        }
    }

    #[test]
    fn a_last_good_state_reads_back_as_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = FedSource {
            inbox: Arc::default(),
            last_good_dir: Some(dir.path().join("backend")),
            wait: Duration::from_secs(1),
        };
        let revision = FedRevision {
            label: "abc+override".into(),
            commit: Some(CommitInfo {
                sha: "a".repeat(40),
                author: "A <a@example.com>".into(),
                message: "two\nlines".into(),
                time: "2026-12-02T06:00:00Z".into(),
            }),
            applied_at_ms: Some(1_796_000_000_000),
            files: Some(Arc::new(FedFiles {
                files: vec![
                    SourceFile::new("a/features.yaml", b"flags: []\n\n".to_vec()),
                    SourceFile::new("b/features.yml", Vec::new()),
                ],
                discovered: Discovered {
                    rules: Discovery::FliptV2,
                    root_file: Some("flipt.yaml".into()),
                    files: vec!["a/features.yaml".into(), "b/features.yml".into()],
                    not_read: vec!["c.features.yml".into()],
                },
            })),
            overrides: vec![
                test_override("checkout", Forced::Variant("new one".into())),
                test_override("banner", Forced::Rollout(12.5)),
            ],
        };
        source
            .record_last_good("prod/eu", &revision)
            .expect("written");
        let back = source.last_good("prod/eu").expect("read back");
        assert_eq!(back.label, revision.label);
        assert_eq!(back.applied_at_ms, revision.applied_at_ms);
        let commit = back.commit.expect("commit");
        assert_eq!(commit.message, "two lines");
        assert_eq!(commit.author, "A <a@example.com>");
        let (got, want) = (back.files.expect("files"), revision.files.expect("files"));
        assert_eq!(got.files, want.files);
        assert_eq!(got.discovered, want.discovered);
        assert_eq!(back.overrides, revision.overrides);
        assert!(source.last_good("other").is_none());
    }

    #[test]
    fn the_inbox_keeps_the_newest_offer_and_reports_the_upstream_down() {
        let inbox = FedInbox::default();
        let err = inbox
            .take(Duration::from_millis(10))
            .expect_err("nothing yet");
        assert_eq!(err.class(), ErrorClass::UpstreamUnreachable);
        let files = Arc::new(FedFiles::default());
        inbox.offer(FedRevision {
            label: "one".into(),
            commit: None,
            applied_at_ms: None,
            files: Some(files.clone()),
            overrides: Vec::new(),
        });
        inbox.offer(FedRevision {
            label: "one".into(),
            commit: None,
            applied_at_ms: Some(5),
            files: None,
            overrides: Vec::new(),
        });
        let got = inbox.take(Duration::ZERO).expect("offered");
        assert!(got.files.is_some(), "a label-only state keeps the files");
        inbox.down(SyncError::Upstream {
            class: ErrorClass::UpstreamUnreachable,
            message: "upstream unreachable: refused".into(),
        });
        assert!(inbox.take(Duration::ZERO).is_err());
    }
}
