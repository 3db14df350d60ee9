//! Break-glass on the running sync: pause, resume, pin, override, clear and expiry.
//!
//! Each environment keeps the newest valid commit of what it follows (`head`) and what it
//! serves under the overrides (`base`: the head, or a pinned commit). What is served is always
//! `base` with the overrides laid over it by the core's `overlay`, swapped in like a commit
//! (same `watch`, same change events, `revision` `<sha>+override` while overrides apply).
//! While paused or pinned the worker still fetches and validates, records the commit as
//! `held` and keeps it as the head; resume serves it at once, with no fetch. Every action goes
//! into the history with its actor and reason, and with the local backend into a state file
//! that a restart reads back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use switchyard_core::overlay::{self, FlagOverride};
use switchyard_core::{Diff, Environment, diff};

use super::{ChangeEvent, EnvSlot, Shared, SyncHandle, lock};
use crate::at_commit::{ReadRules, compile_at_with_files};
use crate::break_glass::{
    Action, Actor, BreakGlass, BreakGlassError, DEFAULT_OVERRIDE, Drift, Override, Pin,
    check_request, load, save,
};
use crate::fed::{FedFiles, FedRevision};
use crate::git::CommitInfo;
use crate::history::{Attempt, Outcome};
use crate::status::{Served, rfc3339};

/// The suffix of a served revision with overrides laid over it.
pub const OVERRIDE_SUFFIX: &str = "+override";

/// A compiled commit (or directory state) an environment can serve.
#[derive(Debug, Clone)]
pub(super) struct Base {
    /// The environment, its `revision` the commit.
    pub(super) env: Arc<Environment>,
    /// The commit's author and message.
    pub(super) info: Option<CommitInfo>,
    /// The state's label (the commit id, a fingerprint, an upstream label).
    pub(super) label: String,
    /// The files it was compiled from.
    pub(super) files: Arc<FedFiles>,
    /// Relay mode: the upstream's overrides that came with the state (who set them, until
    /// when), laid under this environment's own.
    pub(super) inherited: Vec<Override>,
}

/// One environment's break-glass state with what it applies to.
#[derive(Debug, Default)]
pub(super) struct Glass {
    pub(super) state: BreakGlass,
    /// The newest valid state of what the environment follows.
    pub(super) head: Option<Base>,
    /// What is served under the overrides.
    pub(super) base: Option<Base>,
    /// The local backend's state file (none with the memory backend).
    pub(super) file: Option<PathBuf>,
}

impl Glass {
    /// The state from `file` when it exists (the local backend), else an empty one.
    pub(super) fn loaded(file: Option<PathBuf>) -> Glass {
        let state = file.as_deref().and_then(load).unwrap_or_default();
        Glass {
            state,
            file,
            ..Glass::default()
        }
    }

    fn save(&self, key: &str) {
        if let Some(path) = &self.file
            && let Err(e) = save(path, &self.state)
        {
            tracing::warn!(environment = %key, error = %e, "could not record the break-glass state");
        }
    }

    /// Why new commits are held back, if they are.
    pub(super) fn held(&self) -> Option<&'static str> {
        if self.state.pinned.is_some() {
            Some("pinned")
        } else if self.state.paused.is_some() {
            Some("paused")
        } else {
            None
        }
    }
}

/// The commit id of a served revision (`<sha>+override` → `<sha>`).
pub fn commit_of(revision: &str) -> &str {
    revision.strip_suffix(OVERRIDE_SUFFIX).unwrap_or(revision)
}

/// Lays the overrides over the base and swaps the result in (change event when the content
/// moved); overrides that no longer fit the base are dropped and recorded. Returns what is
/// served and the diff against what was, or none when there is no base yet.
pub(super) fn publish(
    shared: &Shared,
    key: &str,
    slot: &EnvSlot,
    g: &mut Glass,
) -> Option<(Arc<Environment>, Diff)> {
    let base = g.base.clone()?;
    drop_unfit(shared, key, slot, g, &base.env);
    let mut all: Vec<Override> = base.inherited.clone();
    all.extend(g.state.overrides.iter().cloned());
    let mut overrides: Vec<FlagOverride> = all.iter().map(|o| o.flag.clone()).collect();
    let served = if overrides.is_empty() {
        base.env.clone()
    } else {
        // The environment's own overrides were checked against this base just above; an
        // upstream's that do not fit are the upstream's error, and serve it without them.
        let mut env = match overlay::overlay(&base.env, &overrides) {
            Ok(env) => env,
            Err(e) => {
                tracing::error!(environment = %key, error = %e, "the upstream's break-glass overrides do not fit its own files; serving without them");
                all = g.state.overrides.clone();
                overrides = g.state.flag_overrides();
                overlay::overlay(&base.env, &overrides).ok()?
            }
        };
        env.revision = base
            .env
            .revision
            .as_ref()
            .map(|r| format!("{r}{OVERRIDE_SUFFIX}"));
        Arc::new(env)
    };
    let old = slot.tx.borrow().clone();
    let changes = diff(&old, &served);
    let swapped = old.digest != served.digest;
    if swapped || old.revision != served.revision {
        slot.tx.send_replace(served.clone());
    }
    if swapped {
        let _ = shared.events.send(ChangeEvent {
            environment: key.to_string(),
            old_digest: old.digest.clone(),
            new_digest: served.digest.clone(),
            commit: base.info.clone(),
            diff: changes.clone(),
        });
    }
    let label = match overrides.is_empty() {
        true => base.label.clone(),
        false => format!("{}{OVERRIDE_SUFFIX}", base.label),
    };
    slot.served.send_replace(Some(Arc::new(FedRevision {
        label,
        commit: base.info.clone(),
        applied_at_ms: Some(unix_ms(SystemTime::now())),
        files: Some(base.files.clone()),
        overrides: all,
    })));
    Some((served, changes))
}

/// [`publish`], the status refreshed with what is served, the glass lock released, and status
/// watchers told.
fn republish(shared: &Shared, key: &str, slot: &EnvSlot, mut g: std::sync::MutexGuard<'_, Glass>) {
    let served = publish(shared, key, slot, &mut g);
    refresh_status(slot, &g, served.as_ref().map(|(e, _)| e.as_ref()));
    drop(g);
    shared.touch();
}

/// Drops (and records) the overrides that no longer fit `env`: their flag or variant is gone.
fn drop_unfit(shared: &Shared, key: &str, slot: &EnvSlot, g: &mut Glass, env: &Environment) {
    let unfit: Vec<(Override, String)> = g
        .state
        .overrides
        .iter()
        .filter_map(|o| {
            overlay::check(env, &o.flag)
                .err()
                .map(|e| (o.clone(), e.to_string()))
        })
        .collect();
    for (o, why) in unfit {
        g.state.clear(&o.flag.namespace, &o.flag.flag);
        let actor = Actor {
            name: "server".into(),
            reason: format!("the served commit no longer fits it: {why}"),
            at: SystemTime::now(),
        };
        tracing::warn!(environment = %key, flag = %o.flag.flag, "break-glass override ended: {}", actor.reason);
        act(shared, key, slot, g, "expire", describe(&o), actor);
    }
}

/// Copies the break-glass state into the status (and what is served, when given).
pub(super) fn refresh_status(slot: &EnvSlot, g: &Glass, served: Option<&Environment>) {
    let inherited = g.base.iter().flat_map(|b| b.inherited.iter());
    let drift = inherited
        .chain(g.state.overrides.iter())
        .map(|o| {
            let git_matches = g
                .head
                .as_ref()
                .is_some_and(|h| overlay::git_matches(&h.env, &o.flag));
            let patch = match (&g.head, git_matches) {
                (Some(h), false) => overlay::patch(&h.env, &h.files.files, &o.flag)
                    .map(|p| from_repository_root(&p, &slot.directory)),
                _ => None,
            };
            Drift {
                over: o.clone(),
                git_matches,
                patch,
            }
        })
        .collect();
    let mut st = lock(&slot.status);
    st.paused = g.state.paused.clone();
    st.pinned = g.state.pinned.clone();
    st.drift = drift;
    st.held_commit = match (&g.head, &g.base, g.held()) {
        (Some(h), Some(b), Some(_)) if h.label != b.label => h.info.clone(),
        _ => None,
    };
    if let (Some(env), Some(base)) = (served, &g.base) {
        st.restored(base.info.clone(), Served::of(env, &base.files.discovered));
    }
}

/// A patch whose paths are relative to the environment's directory, with paths relative to
/// the repository root (what `git apply` in a clone expects).
fn from_repository_root(patch: &str, directory: &str) -> String {
    let dir = directory.trim_matches('/');
    if dir.is_empty() {
        return patch.to_string();
    }
    let mut out = String::with_capacity(patch.len() + 2 * dir.len());
    let mut header = true;
    for line in patch.split_inclusive('\n') {
        header &= !line.starts_with("@@");
        let head = ["--- a/", "+++ b/"]
            .into_iter()
            .find(|h| header && line.starts_with(h));
        match head {
            Some(h) => {
                out.push_str(h);
                out.push_str(dir);
                out.push('/');
                out.push_str(&line[h.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Records action `kind` in the state's log, the history and the state file.
fn act(
    shared: &Shared,
    key: &str,
    slot: &EnvSlot,
    g: &mut Glass,
    kind: &'static str,
    detail: String,
    actor: Actor,
) {
    let commit = slot
        .tx
        .borrow()
        .revision
        .as_deref()
        .map(|r| commit_of(r).to_string());
    let attempt = Attempt {
        time: rfc3339(actor.at),
        duration_ms: 0,
        commit,
        outcome: Outcome::BreakGlass {
            action: kind,
            detail: detail.clone(),
            actor: actor.name.clone(),
            reason: actor.reason.clone(),
        },
        diff: Vec::new(),
        diff_total: 0,
        repeats: 0,
        last_time: None,
    };
    tracing::warn!(environment = %key, action = kind, actor = %actor.name, reason = %actor.reason, "break-glass: {detail}");
    g.state.log(Action {
        kind,
        detail,
        actor,
    });
    g.save(key);
    shared.record(key, slot, attempt);
}

/// An override in plain words, e.g. `flag default/checkout enabled: false until 2026-…`.
fn describe(o: &Override) -> String {
    format!(
        "flag {}/{} {} until {}",
        o.flag.namespace,
        o.flag.flag,
        o.flag.forced.describe(),
        rfc3339(o.expires)
    )
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Ends the overrides of every environment that have expired at `now`; how many ended.
pub(super) fn expire_all(shared: &Shared, now: SystemTime) -> usize {
    let mut ended = 0;
    for (key, slot) in &shared.envs {
        let mut g = lock(&slot.glass);
        // Relay mode: an upstream's override also ends on time while the upstream is away.
        let lapsed = |b: &Option<Base>| {
            b.as_ref()
                .is_some_and(|b| b.inherited.iter().any(|o| o.expires <= now))
        };
        let inherited_lapsed = lapsed(&g.base) || lapsed(&g.head);
        if inherited_lapsed {
            let glass = &mut *g;
            for b in [&mut glass.base, &mut glass.head].into_iter().flatten() {
                b.inherited.retain(|o| o.expires > now);
            }
        }
        if !inherited_lapsed && g.state.overrides.iter().all(|o| o.expires > now) {
            continue;
        }
        for o in g.state.expire(now) {
            ended += 1;
            let actor = Actor {
                name: "server".into(),
                reason: format!("expired (set by {}: {})", o.actor.name, o.actor.reason),
                at: now,
            };
            act(shared, key, slot, &mut g, "expire", describe(&o), actor);
        }
        republish(shared, key, slot, g);
    }
    ended
}

/// Ticks every second while the sync runs, ending expired overrides.
pub(super) async fn expiry_clock(
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        expire_all(&shared, SystemTime::now());
    }
}

impl SyncHandle {
    fn glass_slot(&self, key: &str) -> Result<&EnvSlot, BreakGlassError> {
        self.shared
            .envs
            .get(key)
            .ok_or_else(|| BreakGlassError::UnknownEnvironment(key.to_string()))
    }

    /// The longest lifetime an override may be given.
    pub fn max_override(&self) -> Duration {
        self.shared.max_override
    }

    /// `key`'s break-glass state.
    pub fn break_glass(&self, key: &str) -> Option<BreakGlass> {
        let slot = self.shared.envs.get(key)?;
        Some(lock(&slot.glass).state.clone())
    }

    /// Stops applying new commits to `key` (they are still fetched, validated and recorded).
    pub fn pause(&self, key: &str, actor: Actor) -> Result<(), BreakGlassError> {
        check_request(&actor, None, self.shared.max_override)?;
        let slot = self.glass_slot(key)?;
        let mut g = lock(&slot.glass);
        g.state.paused = Some(actor.clone());
        act(
            &self.shared,
            key,
            slot,
            &mut g,
            "pause",
            "new commits are validated but not applied".into(),
            actor,
        );
        refresh_status(slot, &g, None);
        drop(g);
        self.shared.touch();
        Ok(())
    }

    /// Ends a pause and a pin: serves the newest valid commit of the followed reference at
    /// once (with the overrides still in effect) and asks for a sync.
    pub fn resume(&self, key: &str, actor: Actor) -> Result<(), BreakGlassError> {
        check_request(&actor, None, self.shared.max_override)?;
        let slot = self.glass_slot(key)?;
        let mut g = lock(&slot.glass);
        if !g.state.holds_commits() {
            return Err(BreakGlassError::NotHeld(key.to_string()));
        }
        g.state.paused = None;
        g.state.pinned = None;
        if g.head.is_some() {
            g.base = g.head.clone();
        }
        let detail = match g.base.as_ref().and_then(|b| b.info.as_ref()) {
            Some(c) => format!("serving the branch's commit {}", short(&c.sha)),
            None => "serving the followed reference again".to_string(),
        };
        act(&self.shared, key, slot, &mut g, "resume", detail, actor);
        republish(&self.shared, key, slot, g);
        self.trigger(key);
        Ok(())
    }

    /// Serves `commit` (full or abbreviated, at least 7 hex digits) of `key` instead of the
    /// branch head, from the local objects: it must be a commit this environment applied or
    /// held before (in its history, or served). Blocking: compiles the commit.
    pub fn pin(
        &self,
        key: &str,
        commit: &str,
        actor: Actor,
    ) -> Result<CommitInfo, BreakGlassError> {
        check_request(&actor, None, self.shared.max_override)?;
        let slot = self.glass_slot(key)?;
        let sha = self.validated_commit(key, slot, commit)?;
        let repo = self
            .shared
            .storages
            .get(&slot.storage)
            .and_then(|s| s.repo.get())
            .ok_or_else(|| {
                BreakGlassError::NotValidated(format!(
                    "environment {key:?} is not read from a Git repository: only Git commits can be pinned"
                ))
            })?
            .to_thread_local();
        let id = gix::ObjectId::from_hex(sha.as_bytes())
            .map_err(|e| BreakGlassError::NotValidated(format!("commit {sha}: {e}")))?;
        let rules = ReadRules {
            key,
            directory: &slot.directory,
            discovery: slot.discovery,
            limits: &self.shared.limits,
            extra_checks: self.shared.extra_checks,
        };
        let (env, read) = compile_at_with_files(&repo, id, rules)
            .map_err(|e| BreakGlassError::NotValidated(e.to_string()))?;
        let info = crate::git::commit_info(&repo, id);
        let base = Base {
            env: Arc::new(env),
            info: Some(info.clone()),
            label: sha.clone(),
            files: Arc::new(FedFiles {
                files: read.files,
                discovered: read.discovered,
            }),
            inherited: Vec::new(),
        };
        let mut g = lock(&slot.glass);
        if g.head.is_none() {
            g.head = g.base.clone();
        }
        g.base = Some(base);
        g.state.pinned = Some(Pin {
            commit: sha.clone(),
            actor: actor.clone(),
        });
        let detail = format!("serving commit {} ({})", short(&sha), info.message);
        act(&self.shared, key, slot, &mut g, "pin", detail, actor);
        republish(&self.shared, key, slot, g);
        Ok(info)
    }

    /// The full id of `commit` when `key` applied, held or served it (its history or now).
    fn validated_commit(
        &self,
        key: &str,
        slot: &EnvSlot,
        commit: &str,
    ) -> Result<String, BreakGlassError> {
        let wanted = commit.trim().to_ascii_lowercase();
        if wanted.len() < 7 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BreakGlassError::NotValidated(format!(
                "{commit:?} is not a commit id: give at least 7 hex digits of a commit the history lists as applied"
            )));
        }
        let mut known: Vec<String> = lock(&slot.history)
            .entries()
            .into_iter()
            .filter(|a| matches!(a.outcome, Outcome::Applied | Outcome::Held { .. }))
            .filter_map(|a| a.commit)
            .collect();
        {
            let g = lock(&slot.glass);
            for b in [&g.head, &g.base].into_iter().flatten() {
                known.extend(b.info.as_ref().map(|c| c.sha.clone()));
            }
        }
        let mut matching: Vec<String> = known
            .into_iter()
            .filter(|c| c.starts_with(&wanted))
            .collect();
        matching.sort();
        matching.dedup();
        match matching.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(BreakGlassError::NotValidated(format!(
                "commit {commit} was not validated for environment {key:?}: only commits its history lists as applied (or held) can be pinned; see /api/v1/sync/history?environment={key}"
            ))),
            _ => Err(BreakGlassError::NotValidated(format!(
                "commit {commit} is ambiguous: give more hex digits"
            ))),
        }
    }

    /// Forces `flag` for `lifetime` (default 1 h, at most `max_override`), validated against
    /// the served commit and swapped in at once. Returns the override.
    pub fn set_override(
        &self,
        key: &str,
        flag: FlagOverride,
        lifetime: Option<Duration>,
        actor: Actor,
    ) -> Result<Override, BreakGlassError> {
        check_request(&actor, lifetime, self.shared.max_override)?;
        let slot = self.glass_slot(key)?;
        let mut g = lock(&slot.glass);
        let base = g
            .base
            .clone()
            .ok_or_else(|| BreakGlassError::NothingServed(key.to_string()))?;
        overlay::check(&base.env, &flag)?;
        let lifetime = lifetime.unwrap_or(DEFAULT_OVERRIDE);
        let expires = actor
            .at
            .checked_add(lifetime)
            .ok_or(BreakGlassError::Expiry {
                max: self.shared.max_override,
                asked: lifetime,
            })?;
        let o = Override {
            flag,
            expires,
            actor: actor.clone(),
        };
        g.state.set_override(o.clone());
        act(
            &self.shared,
            key,
            slot,
            &mut g,
            "override",
            describe(&o),
            actor,
        );
        republish(&self.shared, key, slot, g);
        Ok(o)
    }

    /// Ends the override of `namespace`/`flag` at once.
    pub fn clear_override(
        &self,
        key: &str,
        namespace: &str,
        flag: &str,
        actor: Actor,
    ) -> Result<Override, BreakGlassError> {
        check_request(&actor, None, self.shared.max_override)?;
        let slot = self.glass_slot(key)?;
        let mut g = lock(&slot.glass);
        let o = g
            .state
            .clear(namespace, flag)
            .ok_or_else(|| BreakGlassError::NoOverride {
                namespace: namespace.to_string(),
                flag: flag.to_string(),
            })?;
        act(
            &self.shared,
            key,
            slot,
            &mut g,
            "clear",
            describe(&o),
            actor,
        );
        republish(&self.shared, key, slot, g);
        Ok(o)
    }
}

/// Records that a valid commit was held back (paused or pinned), in the status and history.
pub(super) fn record_held(
    shared: &Shared,
    key: &str,
    slot: &EnvSlot,
    g: &Glass,
    why: &'static str,
    start_time: &str,
    started: Instant,
) {
    let head = g.head.as_ref();
    refresh_status(slot, g, None);
    lock(&slot.status).held(SystemTime::now(), head.and_then(|h| h.info.clone()));
    let commit = head.and_then(|h| h.info.as_ref().map(|c| c.sha.clone()));
    tracing::warn!(environment = %key, commit = ?commit, "break-glass: a valid new commit is not applied ({why})");
    let attempt = Attempt::without_diff(start_time, started, commit, Outcome::Held { why });
    shared.record(key, slot, attempt);
}

#[cfg(test)]
mod tests {
    use switchyard_core::overlay::Forced;
    use switchyard_core::{Limits, SourceFile, compile_environment, evaluate_variant};

    use super::*;

    const FLAGS: &str = "namespace: default\nflags:\n  - key: checkout\n    name: Checkout\n    type: VARIANT_FLAG_TYPE\n    enabled: true\n    variants:\n      - key: old\n        default: true\n      - key: new\n";

    fn handle() -> SyncHandle {
        let mut env = compile_environment(
            "default",
            &[SourceFile::new("features.yaml", FLAGS)],
            &Limits::default(),
        )
        .expect("compiles");
        env.revision = Some("a".repeat(40));
        SyncHandle::fixed(vec![env])
    }

    fn actor(reason: &str) -> Actor {
        Actor {
            name: "ops".into(),
            reason: reason.into(),
            at: SystemTime::now(),
        }
    }

    fn variant(h: &SyncHandle) -> String {
        let env = h.environment("default").expect("served");
        let flag = env
            .namespace("default")
            .and_then(|n| n.flag("checkout"))
            .expect("flag");
        let e = evaluate_variant(flag, "u1", &[("a", "b")][..]).expect("eval");
        format!("{}/{}", e.variant_key(), e.reason.as_str())
    }

    #[test]
    fn an_override_is_served_at_once_shown_as_drift_and_cleared() {
        let h = handle();
        let mut events = h.subscribe();
        assert_eq!(variant(&h), "old/DEFAULT_EVALUATION_REASON");
        let flag = FlagOverride {
            namespace: "default".into(),
            flag: "checkout".into(),
            forced: Forced::Variant("new".into()),
        };
        let o = h
            .set_override("default", flag.clone(), None, actor("incident 7"))
            .expect("set");
        assert_eq!(variant(&h), "new/DEFAULT_EVALUATION_REASON");
        let env = h.environment("default").expect("served");
        assert_eq!(
            env.revision.as_deref(),
            Some(format!("{}+override", "a".repeat(40)).as_str())
        );
        assert!(events.try_recv().is_ok(), "a change event");
        let st = h.status("default").expect("status");
        assert_eq!(st.drift.len(), 1);
        assert!(!st.drift[0].git_matches);
        assert!(
            st.degraded_reason
                .as_deref()
                .unwrap_or("")
                .contains("1 flag override")
        );
        let d = o.expires.duration_since(o.actor.at).expect("later");
        assert_eq!(d, DEFAULT_OVERRIDE);
        let history = h.history("default").expect("history");
        assert!(matches!(
            &history.last().expect("an entry").outcome,
            Outcome::BreakGlass { action: "override", actor, reason, .. } if actor == "ops" && reason == "incident 7"
        ));
        h.clear_override("default", "default", "checkout", actor("fixed"))
            .expect("cleared");
        assert_eq!(variant(&h), "old/DEFAULT_EVALUATION_REASON");
        assert_eq!(
            h.environment("default").and_then(|e| e.revision.clone()),
            Some("a".repeat(40))
        );
        assert!(h.status("default").expect("status").drift.is_empty());
    }

    #[test]
    fn bad_requests_are_refused_and_change_nothing() {
        let h = handle();
        let flag = |f: &str, forced| FlagOverride {
            namespace: "default".into(),
            flag: f.into(),
            forced,
        };
        let e = h
            .set_override(
                "default",
                flag("checkout", Forced::Enabled(false)),
                None,
                actor(""),
            )
            .expect_err("no reason");
        assert_eq!(e, BreakGlassError::MissingReason);
        let e = h
            .set_override(
                "default",
                flag("checkout", Forced::Enabled(false)),
                Some(Duration::from_secs(25 * 3600)),
                actor("r"),
            )
            .expect_err("too long");
        assert!(matches!(e, BreakGlassError::Expiry { .. }));
        let e = h
            .set_override(
                "default",
                flag("nope", Forced::Enabled(false)),
                None,
                actor("r"),
            )
            .expect_err("no flag");
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(
            h.set_override(
                "staging",
                flag("checkout", Forced::Enabled(false)),
                None,
                actor("r")
            )
            .is_err()
        );
        assert_eq!(
            h.resume("default", actor("r")),
            Err(BreakGlassError::NotHeld("default".into()))
        );
        assert!(
            h.clear_override("default", "default", "checkout", actor("r"))
                .is_err()
        );
        assert_eq!(variant(&h), "old/DEFAULT_EVALUATION_REASON");
        assert!(
            h.break_glass("default")
                .expect("state")
                .overrides
                .is_empty()
        );
    }

    #[test]
    fn overrides_expire_on_their_own() {
        let h = handle();
        let flag = FlagOverride {
            namespace: "default".into(),
            flag: "checkout".into(),
            forced: Forced::Enabled(false),
        };
        h.set_override("default", flag, Some(Duration::from_secs(60)), actor("r"))
            .expect("set");
        assert!(variant(&h).ends_with("/FLAG_DISABLED_EVALUATION_REASON"));
        assert_eq!(expire_all(&h.shared, SystemTime::now()), 0);
        let later = SystemTime::now() + Duration::from_secs(61);
        assert_eq!(expire_all(&h.shared, later), 1);
        assert_eq!(variant(&h), "old/DEFAULT_EVALUATION_REASON");
        let history = h.history("default").expect("history");
        assert!(matches!(
            &history.last().expect("an entry").outcome,
            Outcome::BreakGlass { action: "expire", actor, .. } if actor == "server"
        ));
    }

    #[test]
    fn an_upstreams_override_shows_as_drift_and_ends_on_time_while_it_is_away() {
        let h = handle();
        let slot = &h.shared.envs["default"];
        let set = SystemTime::now();
        {
            let mut g = lock(&slot.glass);
            let inherited = vec![Override {
                flag: FlagOverride {
                    namespace: "default".into(),
                    flag: "checkout".into(),
                    forced: Forced::Variant("new".into()),
                },
                actor: Actor {
                    name: "upstream-oncall".into(),
                    reason: "incident 9".into(),
                    at: set,
                },
                expires: set + Duration::from_secs(60),
            }];
            let glass = &mut *g;
            for b in [&mut glass.base, &mut glass.head].into_iter().flatten() {
                b.inherited = inherited.clone();
            }
            republish(&h.shared, "default", slot, g);
        }
        assert_eq!(variant(&h), "new/DEFAULT_EVALUATION_REASON");
        let st = h.status("default").expect("status");
        assert_eq!(st.drift.len(), 1);
        assert_eq!(st.drift[0].over.actor.name, "upstream-oncall");
        assert_eq!(expire_all(&h.shared, set + Duration::from_secs(30)), 0);
        assert_eq!(variant(&h), "new/DEFAULT_EVALUATION_REASON");
        expire_all(&h.shared, set + Duration::from_secs(61));
        assert_eq!(variant(&h), "old/DEFAULT_EVALUATION_REASON");
        assert!(h.status("default").expect("status").drift.is_empty());
        assert_eq!(
            h.environment("default").and_then(|e| e.revision.clone()),
            Some("a".repeat(40))
        );
    }

    #[test]
    fn patch_paths_start_at_the_repository_root() {
        let p = "--- a/features.yaml\n+++ b/features.yaml\n@@ -1,1 +1,1 @@\n--- a/x\n";
        assert_eq!(from_repository_root(p, ""), p);
        assert_eq!(
            from_repository_root(p, "/prod/"),
            "--- a/prod/features.yaml\n+++ b/prod/features.yaml\n@@ -1,1 +1,1 @@\n--- a/x\n"
        );
    }

    #[test]
    fn pause_and_resume_are_recorded() {
        let h = handle();
        h.pause("default", actor("Git host down")).expect("paused");
        let st = h.status("default").expect("status");
        assert_eq!(
            st.paused.as_ref().map(|a| a.reason.as_str()),
            Some("Git host down")
        );
        assert!(
            st.degraded_reason
                .as_deref()
                .unwrap_or("")
                .contains("paused by ops")
        );
        h.resume("default", actor("back")).expect("resumed");
        assert!(h.status("default").expect("status").paused.is_none());
        let kinds: Vec<&str> = h
            .history("default")
            .expect("history")
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::BreakGlass { action, .. } => Some(*action),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, ["pause", "resume"]);
    }
}
