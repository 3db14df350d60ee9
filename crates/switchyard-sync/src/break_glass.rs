//! Break-glass state of one environment (issue 15): paused, pinned to a commit validated
//! before, and time-boxed flag overrides, each with who did it and why; and its file next to
//! the local backend's last-good record, so a restart keeps it.
//!
//! The state is plain data. `poll::glass` applies it: what is served is the base (the branch
//! head, or the pinned commit) with the overrides laid over it by the core's `overlay`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use switchyard_core::overlay::{FlagOverride, Forced, OverlayError};

use crate::error::SyncError;

/// Default lifetime of an override when the caller names none.
pub const DEFAULT_OVERRIDE: Duration = Duration::from_secs(3600);

/// Default longest lifetime an override may be given (`break_glass.max_override`).
pub const DEFAULT_MAX_OVERRIDE: Duration = Duration::from_secs(24 * 3600);

/// Break-glass actions kept in the state file for the history after a restart.
const LOG_KEPT: usize = 50;

/// Who did a break-glass action, why and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's name.
    pub name: String,
    /// The mandatory reason.
    pub reason: String,
    /// When it was done.
    pub at: SystemTime,
}

/// A commit served instead of the branch head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The full commit id.
    pub commit: String,
    /// Who pinned it and why.
    pub actor: Actor,
}

/// One time-boxed override of a flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The flag and what is forced.
    pub flag: FlagOverride,
    /// Who set it and why.
    pub actor: Actor,
    /// When it stops applying.
    pub expires: SystemTime,
}

/// The break-glass state of one environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakGlass {
    /// Set while new commits are validated and recorded but not applied.
    pub paused: Option<Actor>,
    /// The commit served instead of the branch head.
    pub pinned: Option<Pin>,
    /// Active overrides, at most one per namespace and flag, oldest first.
    pub overrides: Vec<Override>,
    /// The last break-glass actions, oldest first (restored into the history after a restart).
    pub log: Vec<Action>,
}

/// A break-glass action, as the history, the notifications and the log name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// `pause`, `resume`, `pin`, `override`, `clear` or `expire`.
    pub kind: &'static str,
    /// What it touched, in plain words (e.g. `flag default/checkout enabled: false until …`).
    pub detail: String,
    /// Who did it and why (`expire`: the server, with the override's reason).
    pub actor: Actor,
}

/// An override in effect, as the status shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The override.
    pub over: Override,
    /// Whether the followed branch's newest valid commit already answers the flag as the
    /// override forces it (the override is no longer needed).
    pub git_matches: bool,
    /// The change to the flag file that makes Git match, as a unified diff (none when Git
    /// matches or the file is not block-style YAML).
    pub patch: Option<String>,
}

/// Why a break-glass action was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BreakGlassError {
    /// No environment has this key.
    #[error("environment {0:?} does not exist")]
    UnknownEnvironment(String),
    /// The reason is empty.
    #[error("a reason is required: say why (it goes into the history with your token's name)")]
    MissingReason,
    /// The lifetime is zero or beyond the configured maximum.
    #[error("an override lasts more than 0 s and at most {}s (break_glass.max_override); asked {}s", .max.as_secs(), .asked.as_secs())]
    Expiry {
        /// The configured maximum.
        max: Duration,
        /// What was asked.
        asked: Duration,
    },
    /// The override does not fit the served commit.
    #[error(transparent)]
    Overlay(#[from] OverlayError),
    /// The commit was never validated for this environment (or is no longer in its history).
    #[error("{0}")]
    NotValidated(String),
    /// Nothing is served yet to lay an override over or to resume to.
    #[error("environment {0:?} serves no valid commit yet")]
    NothingServed(String),
    /// No override of that flag is active.
    #[error("no override of flag {namespace}/{flag} is active")]
    NoOverride {
        /// Namespace.
        namespace: String,
        /// Flag.
        flag: String,
    },
    /// Nothing to resume from.
    #[error("environment {0:?} is neither paused nor pinned")]
    NotHeld(String),
}

impl BreakGlass {
    /// Whether new commits are held back (paused or pinned).
    pub fn holds_commits(&self) -> bool {
        self.paused.is_some() || self.pinned.is_some()
    }

    /// Whether anything is in effect.
    pub fn is_active(&self) -> bool {
        self.holds_commits() || !self.overrides.is_empty()
    }

    /// The overrides' flags, in order.
    pub fn flag_overrides(&self) -> Vec<FlagOverride> {
        self.overrides.iter().map(|o| o.flag.clone()).collect()
    }

    /// Sets or replaces the override of `o.flag`.
    pub fn set_override(&mut self, o: Override) {
        self.overrides
            .retain(|x| (&x.flag.namespace, &x.flag.flag) != (&o.flag.namespace, &o.flag.flag));
        self.overrides.push(o);
    }

    /// Ends the override of `namespace`/`flag`, returning it.
    pub fn clear(&mut self, namespace: &str, flag: &str) -> Option<Override> {
        let i = self
            .overrides
            .iter()
            .position(|x| x.flag.namespace == namespace && x.flag.flag == flag)?;
        Some(self.overrides.remove(i))
    }

    /// Removes and returns the overrides that have expired at `now`.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Override> {
        let (gone, kept) = std::mem::take(&mut self.overrides)
            .into_iter()
            .partition(|o| o.expires <= now);
        self.overrides = kept;
        gone
    }

    /// Records an action in the log (the newest `LOG_KEPT`).
    pub fn log(&mut self, action: Action) {
        self.log.push(action);
        if self.log.len() > LOG_KEPT {
            let extra = self.log.len() - LOG_KEPT;
            self.log.drain(..extra);
        }
    }
}

/// Checks an actor's reason and an override's lifetime against `max`.
pub fn check_request(
    actor: &Actor,
    lifetime: Option<Duration>,
    max: Duration,
) -> Result<(), BreakGlassError> {
    if actor.reason.trim().is_empty() {
        return Err(BreakGlassError::MissingReason);
    }
    if let Some(asked) = lifetime
        && (asked.is_zero() || asked > max)
    {
        return Err(BreakGlassError::Expiry { max, asked });
    }
    Ok(())
}

/// The first line of a state file.
const MAGIC: &str = "switchyard-break-glass 1";

/// The state file of `environment` in the local backend's directory.
pub(crate) fn state_path(dir: &Path, environment: &str) -> PathBuf {
    dir.join(format!(
        "switchyard-break-glass-{}",
        crate::fed::file_name_part(environment)
    ))
}

/// Writes `state` to `path` (a temporary file renamed over the old one).
pub(crate) fn save(path: &Path, state: &BreakGlass) -> Result<(), SyncError> {
    let tmp = path.with_extension("tmp");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| SyncError::local("creating the local backend's directory", e))?;
    }
    std::fs::write(&tmp, encode(state))
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| SyncError::local("recording the break-glass state", e))
}

/// Reads the state at `path`; none when absent or unreadable (a warning names the cause).
pub(crate) fn load(path: &Path) -> Option<BreakGlass> {
    let text = std::fs::read_to_string(path).ok()?;
    let state = decode(&text);
    if state.is_none() {
        tracing::warn!(path = %path.display(), "ignoring an unreadable break-glass state file");
    }
    state
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn at(ms: &str) -> Option<SystemTime> {
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms.parse().ok()?))
}

/// Text fields of a line are tab-separated; tabs and line breaks in them become spaces.
fn field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn actor_fields(a: &Actor) -> String {
    format!("{}\t{}\t{}", ms(a.at), field(&a.name), field(&a.reason))
}

fn forced_fields(f: &Forced) -> String {
    match f {
        Forced::Enabled(b) => format!("enabled\t{b}"),
        Forced::Variant(v) => format!("variant\t{}", field(v)),
        Forced::Rollout(p) => format!("rollout\t{p}"),
    }
}

/// An override as tab-separated fields: expiry (Unix ms), namespace, flag, kind, value, then
/// the actor's time, name and reason (also the relay's last-good file's `override` lines).
pub(crate) fn override_fields(o: &Override) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        ms(o.expires),
        field(&o.flag.namespace),
        field(&o.flag.flag),
        forced_fields(&o.flag.forced),
        actor_fields(&o.actor)
    )
}

/// The override of [`override_fields`]' fields.
pub(crate) fn decode_override(f: &[&str]) -> Option<Override> {
    let [expires, ns, flag, kind, value, rest @ ..] = f else {
        return None;
    };
    Some(Override {
        flag: FlagOverride {
            namespace: ns.to_string(),
            flag: flag.to_string(),
            forced: decode_forced(kind, value)?,
        },
        actor: decode_actor(rest)?,
        expires: at(expires)?,
    })
}

/// One line per item: `paused`, `pinned`, `override`, `log`, tab-separated fields.
fn encode(state: &BreakGlass) -> String {
    let mut out = format!("{MAGIC}\n");
    if let Some(a) = &state.paused {
        out.push_str(&format!("paused\t{}\n", actor_fields(a)));
    }
    if let Some(p) = &state.pinned {
        out.push_str(&format!(
            "pinned\t{}\t{}\n",
            field(&p.commit),
            actor_fields(&p.actor)
        ));
    }
    for o in &state.overrides {
        out.push_str(&format!("override\t{}\n", override_fields(o)));
    }
    for a in &state.log {
        out.push_str(&format!(
            "log\t{}\t{}\t{}\n",
            a.kind,
            field(&a.detail),
            actor_fields(&a.actor)
        ));
    }
    out
}

fn decode_actor(f: &[&str]) -> Option<Actor> {
    let [at_ms, name, reason] = f else {
        return None;
    };
    Some(Actor {
        name: name.to_string(),
        reason: reason.to_string(),
        at: at(at_ms)?,
    })
}

fn decode_forced(kind: &str, value: &str) -> Option<Forced> {
    Some(match kind {
        "enabled" => Forced::Enabled(value.parse().ok()?),
        "variant" => Forced::Variant(value.to_string()),
        "rollout" => Forced::Rollout(value.parse().ok()?),
        _ => return None,
    })
}

fn action_kind(s: &str) -> Option<&'static str> {
    ["pause", "resume", "pin", "override", "clear", "expire"]
        .into_iter()
        .find(|k| *k == s)
}

fn decode(text: &str) -> Option<BreakGlass> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut state = BreakGlass::default();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["paused", rest @ ..] => state.paused = Some(decode_actor(rest)?),
            ["pinned", commit, rest @ ..] => {
                state.pinned = Some(Pin {
                    commit: commit.to_string(),
                    actor: decode_actor(rest)?,
                })
            }
            ["override", rest @ ..] => state.overrides.push(decode_override(rest)?),
            ["log", kind, detail, rest @ ..] => state.log.push(Action {
                kind: action_kind(kind)?,
                detail: detail.to_string(),
                actor: decode_actor(rest)?,
            }),
            [""] => {}
            _ => return None,
        }
    }
    Some(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &str, reason: &str, secs: u64) -> Actor {
        Actor {
            name: name.into(),
            reason: reason.into(),
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    fn over(flag: &str, forced: Forced, expires: u64) -> Override {
        Override {
            flag: FlagOverride {
                namespace: "default".into(),
                flag: flag.into(),
                forced,
            },
            actor: actor("ops", "incident 42", 100),
            expires: SystemTime::UNIX_EPOCH + Duration::from_secs(expires),
        }
    }

    #[test]
    fn overrides_replace_per_flag_clear_and_expire() {
        let mut s = BreakGlass::default();
        assert!(!s.is_active());
        s.set_override(over("a", Forced::Enabled(false), 200));
        s.set_override(over("b", Forced::Rollout(10.0), 300));
        s.set_override(over("a", Forced::Enabled(true), 400));
        assert_eq!(s.overrides.len(), 2);
        assert_eq!(s.overrides[1].flag.forced, Forced::Enabled(true));
        assert!(s.is_active() && !s.holds_commits());
        let gone = s.expire(SystemTime::UNIX_EPOCH + Duration::from_secs(300));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].flag.flag, "b");
        assert!(s.clear("default", "a").is_some());
        assert!(s.clear("default", "a").is_none());
        assert!(!s.is_active());
    }

    #[test]
    fn requests_need_a_reason_and_a_lifetime_within_the_maximum() {
        let max = Duration::from_secs(7200);
        let a = actor("ops", "  ", 1);
        assert_eq!(
            check_request(&a, None, max),
            Err(BreakGlassError::MissingReason)
        );
        let a = actor("ops", "why", 1);
        assert!(check_request(&a, Some(Duration::from_secs(3600)), max).is_ok());
        let e = check_request(&a, Some(Duration::from_secs(7201)), max).expect_err("too long");
        assert_eq!(
            e.to_string(),
            "an override lasts more than 0 s and at most 7200s (break_glass.max_override); asked 7201s"
        );
        assert!(check_request(&a, Some(Duration::ZERO), max).is_err());
    }

    #[test]
    fn the_state_file_round_trips_and_refuses_what_it_cannot_read() {
        let mut s = BreakGlass {
            paused: Some(actor("ops", "Git host down", 10)),
            pinned: Some(Pin {
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                actor: actor("alice", "roll back\tnow", 20),
            }),
            overrides: vec![
                over("a", Forced::Variant("blue".into()), 500),
                over("b", Forced::Rollout(12.5), 600),
                over("c", Forced::Enabled(false), 700),
            ],
            log: Vec::new(),
        };
        s.log(Action {
            kind: "pin",
            detail: "commit 0123456".into(),
            actor: actor("alice", "roll back", 20),
        });
        let back = decode(&encode(&s)).expect("decodes");
        assert_eq!(back.overrides, s.overrides);
        assert_eq!(back.paused, s.paused);
        assert_eq!(back.log, s.log);
        // The tab in the reason became a space.
        assert_eq!(
            back.pinned.as_ref().map(|p| p.actor.reason.as_str()),
            Some("roll back now")
        );
        assert!(decode("something else\n").is_none());
        assert!(decode(&format!("{MAGIC}\nunknown\tline\n")).is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = state_path(dir.path(), "prod/eu");
        assert!(path.ends_with("switchyard-break-glass-prod_eu"));
        save(&path, &s).expect("saved");
        assert_eq!(load(&path).map(|b| b.overrides), Some(s.overrides.clone()));
    }

    #[test]
    fn the_log_keeps_the_newest_actions() {
        let mut s = BreakGlass::default();
        for i in 0..(LOG_KEPT + 5) {
            s.log(Action {
                kind: "pause",
                detail: format!("n{i}"),
                actor: actor("ops", "r", i as u64),
            });
        }
        assert_eq!(s.log.len(), LOG_KEPT);
        assert_eq!(s.log[0].detail, "n5");
    }
}
