//! The relay stream's messages (`GET /api/v1/relay/stream`): NDJSON, one message a line, each
//! with a `type`. Both ends use these types: the upstream writes them, the relay client reads
//! them.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

use switchyard_core::overlay::{FlagOverride, Forced};
use switchyard_core::{Discovered, Discovery, SourceFile};
use switchyard_sync::break_glass::{Actor, Override};
use switchyard_sync::{CommitInfo, FedFiles, FedRevision};

/// One line of the stream.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum Message {
    /// First line: the environments this stream carries.
    Hello {
        /// Environment keys.
        environments: Vec<String>,
    },
    /// A served state with its flag files: on connect unless the relay has it, then on every
    /// swap.
    State(State),
    /// On connect, for an environment whose served state the relay already has (`since`): the
    /// label and metadata, no files.
    Current(State),
    /// Sent every 15 s without traffic, so both ends notice a dead connection.
    Keepalive,
}

/// An environment's served state.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct State {
    /// Environment key.
    pub(crate) environment: String,
    /// What is served: the commit id, or the label of a state that is not a plain commit.
    pub(crate) label: String,
    /// The commit, when the state is one.
    pub(crate) commit: Option<Commit>,
    /// When the upstream swapped this state in (Unix milliseconds).
    pub(crate) applied_at_ms: Option<u64>,
    /// What the upstream's discovery chose (with `files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) discovery: Option<DiscoveryMsg>,
    /// The flag files, bytes in base64 (`state` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) files: Option<Vec<File>>,
    /// The upstream's break-glass overrides laid over the files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) overrides: Vec<OverrideMsg>,
}

/// A break-glass override: the flag, exactly one of `enabled`, `variant`, `rollout`, who set
/// it, why, when (Unix ms) and until when.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OverrideMsg {
    namespace: String,
    flag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rollout: Option<f32>,
    actor: String,
    reason: String,
    set_at_ms: u64,
    expires_at_ms: u64,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn from_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

impl OverrideMsg {
    fn of(o: &Override) -> OverrideMsg {
        let mut m = OverrideMsg {
            namespace: o.flag.namespace.clone(),
            flag: o.flag.flag.clone(),
            enabled: None,
            variant: None,
            rollout: None,
            actor: o.actor.name.clone(),
            reason: o.actor.reason.clone(),
            set_at_ms: unix_ms(o.actor.at),
            expires_at_ms: unix_ms(o.expires),
        };
        match &o.flag.forced {
            Forced::Enabled(b) => m.enabled = Some(*b),
            Forced::Variant(v) => m.variant = Some(v.clone()),
            Forced::Rollout(p) => m.rollout = Some(*p),
        }
        m
    }

    fn into_override(self) -> Result<Override, String> {
        let forced = match (self.enabled, self.variant, self.rollout) {
            (Some(b), None, None) => Forced::Enabled(b),
            (None, Some(v), None) => Forced::Variant(v),
            (None, None, Some(p)) => Forced::Rollout(p),
            _ => {
                return Err(format!(
                    "override of {}/{}: exactly one of enabled, variant, rollout",
                    self.namespace, self.flag
                ));
            }
        };
        Ok(Override {
            flag: FlagOverride {
                namespace: self.namespace,
                flag: self.flag,
                forced,
            },
            actor: Actor {
                name: self.actor,
                reason: self.reason,
                at: from_ms(self.set_at_ms),
            },
            expires: from_ms(self.expires_at_ms),
        })
    }
}

/// A commit: `sha`, `author`, `message`, `time` (as in the sync API).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Commit {
    sha: String,
    author: String,
    message: String,
    time: String,
}

/// The rule (`flipt-v1`, `flipt-v2`), its root file, and the look-alike files not read.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DiscoveryMsg {
    rules: String,
    root_file: Option<String>,
    #[serde(default)]
    not_read: Vec<String>,
}

/// One flag file.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct File {
    path: String,
    /// The bytes, standard base64.
    contents: String,
}

impl State {
    /// The message of `key`'s served state; with its files when `files`.
    pub(crate) fn of(key: &str, served: &FedRevision, files: bool) -> State {
        let with = files.then_some(()).and(served.files.as_ref());
        State {
            environment: key.to_string(),
            label: served.label.clone(),
            commit: served.commit.as_ref().map(|c| Commit {
                sha: c.sha.clone(),
                author: c.author.clone(),
                message: c.message.clone(),
                time: c.time.clone(),
            }),
            applied_at_ms: served.applied_at_ms,
            discovery: with.map(|f| DiscoveryMsg {
                rules: f.discovered.rules.as_str().to_string(),
                root_file: f.discovered.root_file.clone(),
                not_read: f.discovered.not_read.clone(),
            }),
            files: with.map(|f| {
                f.files
                    .iter()
                    .map(|file| File {
                        path: file.path.clone(),
                        contents: STANDARD.encode(&file.contents),
                    })
                    .collect()
            }),
            overrides: served.overrides.iter().map(OverrideMsg::of).collect(),
        }
    }

    /// The state as the sync takes it; an error names what is malformed.
    pub(crate) fn into_revision(self) -> Result<FedRevision, String> {
        let files = match (self.files, self.discovery) {
            (Some(files), discovery) => {
                let rules = match discovery.as_ref().map(|d| d.rules.as_str()) {
                    Some("flipt-v2") => Discovery::FliptV2,
                    Some("flipt-v1") | None => Discovery::FliptV1,
                    Some(other) => return Err(format!("unknown discovery rules {other:?}")),
                };
                let mut read = Vec::with_capacity(files.len());
                for f in files {
                    let bytes = STANDARD
                        .decode(f.contents.as_bytes())
                        .map_err(|e| format!("file {:?}: contents are not base64: {e}", f.path))?;
                    read.push(SourceFile::new(f.path, bytes));
                }
                let (root_file, not_read) = discovery
                    .map(|d| (d.root_file, d.not_read))
                    .unwrap_or_default();
                Some(Arc::new(FedFiles {
                    discovered: Discovered {
                        rules,
                        root_file,
                        files: read.iter().map(|f| f.path.clone()).collect(),
                        not_read,
                    },
                    files: read,
                }))
            }
            (None, _) => None,
        };
        Ok(FedRevision {
            label: self.label,
            commit: self.commit.map(|c| CommitInfo {
                sha: c.sha,
                author: c.author,
                message: c.message,
                time: c.time,
            }),
            applied_at_ms: self.applied_at_ms,
            files,
            overrides: self
                .overrides
                .into_iter()
                .map(OverrideMsg::into_override)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// `message` as one NDJSON line.
pub(crate) fn line(message: &Message) -> bytes::Bytes {
    let mut out = serde_json::to_vec(message).unwrap_or_default();
    out.push(b'\n');
    bytes::Bytes::from(out)
}
