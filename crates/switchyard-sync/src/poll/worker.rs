//! One storage's sync cycle on its own thread: fetch (or fingerprint the directory), read each
//! environment's files, compile, guard against flag loss, swap, and record the outcome in the
//! status and history.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use switchyard_core::{
    Discovered, Discovery, Environment, ExtraChecks, Limits, compile_environment_with,
};

use super::glass::{Base, publish, record_held, refresh_status};
use super::messages::rejection_message;
use super::{EnvSlot, Shared, lock};
use crate::dir::DirSource;
use crate::error::{ErrorClass, SyncError};
use crate::fed::{FedFiles, FedRevision, FedSource};
use crate::git::{CommitInfo, GitSource};
use crate::history::{Attempt, Outcome};
use crate::status::{Served, rfc3339, validation_errors};
use crate::tree::EnvFiles;

pub(super) enum Source {
    Git(Box<GitSource>),
    Dir(DirSource),
    /// Relay mode: states offered by the server's relay client.
    Fed(FedSource),
}

pub(super) struct Worker {
    pub(super) storage: String,
    pub(super) source: Source,
    pub(super) envs: Vec<String>,
    pub(super) shared: Arc<Shared>,
    pub(super) limits: Limits,
    /// What the checks Switchyard adds beyond Flipt's do (`validation.extra_checks`).
    pub(super) extra_checks: ExtraChecks,
    pub(super) interval: Duration,
    pub(super) guard: FlagLossGuard,
    /// Test hook: panic when the fetched commit's message contains this.
    pub(super) panic_on: Option<String>,
    /// Commit id (or directory fingerprint) last processed, served or rejected.
    pub(super) last_seen: Option<String>,
    /// The commit (or fingerprint) the running cycle works on, once fetched.
    pub(super) current: Option<Revision>,
    pub(super) failures: u32,
}

/// What a cycle works on: a fetched commit, or a plain directory's fingerprint.
#[derive(Debug, Clone)]
pub(super) enum Revision {
    /// A commit of the remote, with its author and message.
    Commit {
        /// The commit id.
        id: gix::ObjectId,
        /// Who wrote it and what it says.
        info: CommitInfo,
    },
    /// A directory, by the fingerprint of its files.
    Directory(String),
    /// A state of the upstream Switchyard (relay mode).
    Fed(Arc<FedRevision>),
}

impl Revision {
    /// What is remembered as processed: the commit id or the fingerprint.
    fn seen(&self) -> String {
        match self {
            Revision::Commit { id, .. } => id.to_string(),
            Revision::Directory(fingerprint) => fingerprint.clone(),
            Revision::Fed(state) => state.label.clone(),
        }
    }

    /// The commit's author and message (none for a directory).
    fn info(&self) -> Option<CommitInfo> {
        match self {
            Revision::Commit { info, .. } => Some(info.clone()),
            Revision::Directory(_) => None,
            Revision::Fed(state) => state.commit.clone(),
        }
    }

    /// The commit id (none for a directory).
    fn commit(&self) -> Option<gix::ObjectId> {
        match self {
            Revision::Commit { id, .. } => Some(*id),
            Revision::Directory(_) => None,
            Revision::Fed(state) => state
                .commit
                .as_ref()
                .and_then(|c| gix::ObjectId::from_hex(c.sha.as_bytes()).ok()),
        }
    }
}

/// When a commit that removes flags is refused (`allow_flag_loss`, `max_flag_loss_percent`).
#[derive(Debug, Clone, Copy)]
pub(super) struct FlagLossGuard {
    pub(super) allow: bool,
    pub(super) max_percent: u8,
}

impl FlagLossGuard {
    /// Why going from `old` to `new` flags is refused, if it is.
    pub(super) fn check(&self, old: usize, new: usize) -> Option<String> {
        if self.allow || old == 0 || new >= old {
            return None;
        }
        let lost = old - new;
        let percent = lost as f64 * 100.0 / old as f64;
        if new == 0 {
            Some(format!("the commit would remove all {old} flags"))
        } else if percent > f64::from(self.max_percent) {
            Some(format!(
                "the commit would remove {lost} of {old} flags ({percent:.0}%), more than max_flag_loss_percent ({}%)",
                self.max_percent
            ))
        } else {
            None
        }
    }
}

/// What one cycle did, for the loop and for startup.
pub(super) struct CycleReport {
    pub(super) fetch_error: Option<SyncError>,
    /// Failed fetches in a row after this cycle, for the backoff.
    pub(super) failures: u32,
}

/// What reading one environment at one commit gave.
pub(super) enum EnvResult {
    Valid(Environment, Arc<FedFiles>),
    Invalid(SyncError),
}

/// Where a served environment was read: the commit (none for a directory), the label of the
/// state (commit id, fingerprint or upstream label) and its files.
pub(super) struct ReadAt {
    pub(super) info: Option<CommitInfo>,
    pub(super) commit: Option<gix::ObjectId>,
    pub(super) label: String,
    pub(super) files: Arc<FedFiles>,
    /// Relay mode: the upstream's break-glass overrides that came with the state.
    pub(super) inherited: Vec<crate::break_glass::Override>,
}

/// Now in Unix milliseconds.
fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Worker {
    pub(super) fn env_slot(&self, key: &str) -> Option<&EnvSlot> {
        self.shared.envs.get(key)
    }

    /// Local backend: serve each environment's last good commit at once.
    pub(super) fn restore_last_good(&mut self) {
        if let Source::Fed(fed) = &self.source {
            self.restore_fed(fed.last_good_dir.is_some());
            return;
        }
        let Source::Git(git) = &self.source else {
            return;
        };
        let mut seen = Vec::new();
        for key in &self.envs {
            let Some(slot) = self.shared.envs.get(key) else {
                continue;
            };
            let Some(commit) = git.last_good(key) else {
                continue;
            };
            let read = match crate::tree::read_files(
                &git.repo(),
                commit,
                &slot.directory,
                slot.discovery,
                &self.limits,
            ) {
                Ok(f) => f,
                Err(_) => continue,
            };
            if let Ok(mut env) =
                compile_environment_with(key, &read.files, &self.limits, self.extra_checks)
            {
                env.revision = Some(commit.to_string());
                let head = Base {
                    env: Arc::new(env),
                    info: Some(git.commit_info(commit)),
                    label: commit.to_string(),
                    files: Arc::new(FedFiles {
                        files: read.files,
                        discovered: read.discovered,
                    }),
                    inherited: Vec::new(),
                };
                let mut g = lock(&slot.glass);
                g.head = Some(head.clone());
                g.base = Some(head);
                if let Some(pin) = g.state.pinned.clone() {
                    match self.pinned_base(git, key, slot, &pin.commit) {
                        Some(base) => g.base = Some(base),
                        None => {
                            tracing::warn!(environment = %key, commit = %pin.commit, "the pinned commit can no longer be read; serving the last good commit")
                        }
                    }
                }
                let served = publish(&self.shared, key, slot, &mut g);
                refresh_status(slot, &g, served.as_ref().map(|(e, _)| e.as_ref()));
                drop(g);
                tracing::info!(environment = %key, commit = %commit, "serving the last good commit from the local repository");
                seen.push(commit);
            }
        }
        if seen.len() == self.envs.len() && seen.windows(2).all(|w| w[0] == w[1]) {
            self.last_seen = seen.first().map(|c| c.to_string());
        }
        self.shared.touch();
    }

    /// Relay mode with the local backend: serve the last good upstream state at once.
    fn restore_fed(&mut self, local: bool) {
        let Source::Fed(fed) = &self.source else {
            return;
        };
        if !local {
            return;
        }
        for key in &self.envs {
            let Some(slot) = self.shared.envs.get(key) else {
                continue;
            };
            let Some(state) = fed.last_good(key) else {
                continue;
            };
            let Some(files) = state.files.clone() else {
                continue;
            };
            if let Ok(mut env) =
                compile_environment_with(key, &files.files, &self.limits, self.extra_checks)
            {
                env.revision = state.commit.as_ref().map(|c| c.sha.clone());
                let base = Base {
                    env: Arc::new(env),
                    info: state.commit.clone(),
                    label: state.label.clone(),
                    files: files.clone(),
                    inherited: state.overrides.clone(),
                };
                let mut g = lock(&slot.glass);
                g.head = Some(base.clone());
                g.base = Some(base);
                let served = publish(&self.shared, key, slot, &mut g);
                refresh_status(slot, &g, served.as_ref().map(|(e, _)| e.as_ref()));
                drop(g);
                if let Some(u) = lock(&slot.status).upstream.as_mut() {
                    u.served_label = Some(state.label.clone());
                }
                tracing::info!(environment = %key, state = %state.label, "serving the last good upstream state from the local backend");
                self.last_seen = Some(state.label.clone());
            }
        }
        self.shared.touch();
    }

    /// One sync: fetch (or fingerprint), and for anything new read, validate and swap. A panic
    /// anywhere in it is caught and recorded as an `internal` error.
    pub(super) fn cycle(&mut self) -> CycleReport {
        if let Some(s) = self.shared.storages.get(&self.storage) {
            s.started.fetch_add(1, Ordering::SeqCst);
        }
        self.current = None;
        let report =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.cycle_inner())) {
                Ok(report) => report,
                Err(payload) => self.after_panic(crate::git::panic_message(&*payload)),
            };
        if let Some(s) = self.shared.storages.get(&self.storage) {
            s.finished.send_modify(|n| *n += 1);
        }
        report
    }

    /// Records a panicked cycle: the commit it worked on (if it got that far) counts as seen,
    /// so it is not tried again in a loop.
    pub(super) fn after_panic(&mut self, message: String) -> CycleReport {
        let error = SyncError::Internal(message);
        let start_time = rfc3339(SystemTime::now());
        let started = Instant::now();
        let current = self.current.take();
        let sticky = current.is_some();
        let info = current.as_ref().and_then(Revision::info);
        if let Some(revision) = current {
            self.last_seen = Some(revision.seen());
        } else {
            self.failures += 1;
        }
        for key in self.envs.clone() {
            self.record_failure(&key, &error, info.clone(), sticky, &start_time, started);
        }
        CycleReport {
            fetch_error: (!sticky).then_some(error),
            failures: self.failures,
        }
    }

    /// One attempt, inside its `sync.attempt` span (a trace of its own: the root is made
    /// outside any other span); its steps are `sync.fetch`, then per environment `sync.read`,
    /// `sync.compile` and `sync.swap`.
    pub(super) fn cycle_inner(&mut self) -> CycleReport {
        let root = tracing::info_span!(
            parent: None,
            "sync.attempt",
            storage = %self.storage,
            environment = %self.envs.join(","),
            commit = tracing::field::Empty,
            outcome = tracing::field::Empty,
            error.class = tracing::field::Empty,
        );
        let _entered = root.enter();
        let started = Instant::now();
        let now = SystemTime::now();
        let start_time = rfc3339(now);
        for key in &self.envs {
            if let Some(e) = self.env_slot(key) {
                lock(&e.status).begin(started, now);
            }
        }
        self.shared.touch();
        // 1. fetch, or fingerprint the directory
        let fetched = tracing::info_span!("sync.fetch").in_scope(|| self.fetch_revision());
        let revision = match fetched {
            Ok(r) => r,
            Err(error) => {
                root.record("outcome", "failed");
                root.record("error.class", error.class().to_string());
                self.failures += 1;
                for key in self.envs.clone() {
                    self.record_failure(&key, &error, None, false, &start_time, started);
                }
                return CycleReport {
                    fetch_error: Some(error),
                    failures: self.failures,
                };
            }
        };
        self.failures = 0;
        self.current = Some(revision.clone());
        root.record("commit", revision.seen().as_str());
        if self.last_seen.as_deref() == Some(revision.seen().as_str()) {
            // 2. nothing new: one ref advertisement, no parsing
            root.record("outcome", "unchanged");
            self.record_unchanged(&revision, &start_time, started);
        } else {
            // 3. new commit: read, validate, swap, per environment
            self.inject_fault(&revision);
            let (all_processed, outcome) = self.process(&revision, &start_time, started);
            root.record("outcome", outcome);
            if all_processed {
                self.last_seen = Some(revision.seen());
            }
        }
        self.current = None;
        CycleReport {
            fetch_error: None,
            failures: 0,
        }
    }

    /// The commit the reference points to now, or the directory's fingerprint.
    fn fetch_revision(&mut self) -> Result<Revision, SyncError> {
        match &mut self.source {
            Source::Git(git) => git.fetch().map(|f| Revision::Commit {
                id: f.commit,
                info: git.commit_info(f.commit),
            }),
            Source::Dir(dir) => dir.fingerprint().map(Revision::Directory),
            Source::Fed(fed) => {
                let taken = fed.inbox.take(fed.wait);
                for key in &self.envs {
                    if let Some(slot) = self.shared.envs.get(key)
                        && let Some(u) = lock(&slot.status).upstream.as_mut()
                    {
                        u.connected = taken.is_ok();
                        if let Ok(state) = &taken {
                            u.label = Some(state.label.clone());
                            u.applied_at_ms = state.applied_at_ms;
                            u.last_contact = Some(rfc3339(SystemTime::now()));
                        }
                    }
                }
                taken.map(Revision::Fed)
            }
        }
    }

    /// Records an attempt that found nothing new in every environment of the storage.
    fn record_unchanged(&self, revision: &Revision, start_time: &str, started: Instant) {
        for key in &self.envs {
            let Some(slot) = self.env_slot(key) else {
                continue;
            };
            lock(&slot.status).unchanged(SystemTime::now(), revision.info());
            let commit = revision.commit().map(|c| c.to_string());
            let attempt = Attempt::without_diff(start_time, started, commit, Outcome::Unchanged);
            self.shared.record(key, slot, attempt);
            tracing::debug!(environment = %key, "git sync: no change");
        }
    }

    /// Test hook (`fault_panic_on_commit_message`): panics on a commit whose message has it.
    fn inject_fault(&self, revision: &Revision) {
        if let (Some(needle), Some(info)) = (&self.panic_on, revision.info())
            && info.message.contains(needle.as_str())
        {
            panic!(
                "injected fault: commit {} message contains {needle:?}",
                info.sha
            );
        }
    }

    /// Reads, validates and swaps each environment at `revision`; whether every one was
    /// processed (served or rejected for good), so the revision need not be read again, and
    /// the attempt's outcome (`failed` if one environment failed, else `rejected` if one was
    /// rejected, else `applied`).
    fn process(
        &mut self,
        revision: &Revision,
        start_time: &str,
        started: Instant,
    ) -> (bool, &'static str) {
        let (info, commit) = (revision.info(), revision.commit());
        let mut all_processed = true;
        let mut outcome = "applied";
        for key in self.envs.clone() {
            let Some(slot) = self.env_slot(&key) else {
                continue;
            };
            match self.read_environment(&key, slot, revision) {
                EnvResult::Valid(env, files) => {
                    let inherited = match revision {
                        Revision::Fed(state) => state.overrides.clone(),
                        _ => Vec::new(),
                    };
                    let read = ReadAt {
                        info: info.clone(),
                        commit,
                        label: revision.seen(),
                        files,
                        inherited,
                    };
                    tracing::info_span!("sync.swap", environment = %key, flags = env.flag_count())
                        .in_scope(|| self.apply(&key, env, read, start_time, started))
                }
                EnvResult::Invalid(error) => {
                    let sticky = matches!(error, SyncError::Invalid(_));
                    if !sticky {
                        all_processed = false;
                        outcome = "failed";
                    } else if outcome == "applied" {
                        outcome = "rejected";
                    }
                    self.record_failure(&key, &error, info.clone(), sticky, start_time, started);
                }
            }
        }
        (all_processed, outcome)
    }

    /// One environment's files at `commit` (or in the directory), compiled and checked for
    /// flag loss.
    fn read_environment(&self, key: &str, slot: &EnvSlot, revision: &Revision) -> EnvResult {
        let (directory, rules) = (&slot.directory, slot.discovery);
        let reading =
            tracing::info_span!("sync.read", environment = %key, directory = %directory).entered();
        let owned = |r: Result<EnvFiles, SyncError>| {
            r.map(|EnvFiles { files, discovered }| Arc::new(FedFiles { files, discovered }))
        };
        let files = match (&self.source, revision) {
            (Source::Git(git), Revision::Commit { id, .. }) => owned(crate::tree::read_files(
                &git.repo(),
                *id,
                directory,
                rules,
                &self.limits,
            )),
            (Source::Dir(dir), _) => owned(dir.read_files(directory, rules, &self.limits)),
            (Source::Fed(_), Revision::Fed(state)) => state.files.clone().ok_or_else(|| {
                SyncError::Local(format!(
                    "the upstream named state {} but sent no files for it",
                    state.label
                ))
            }),
            _ => Err(SyncError::Local("no commit".into())),
        };
        drop(reading);
        match files {
            Ok(read) => {
                let compile_span = tracing::info_span!(
                    "sync.compile",
                    environment = %key,
                    files = read.files.len(),
                    outcome = tracing::field::Empty,
                );
                let _compiling = compile_span.enter();
                let compiled =
                    compile_environment_with(key, &read.files, &self.limits, self.extra_checks);
                compile_span.record(
                    "outcome",
                    if compiled.is_ok() { "valid" } else { "invalid" },
                );
                match compiled {
                    Ok(env) => match self.flag_loss(slot, &env, &read.discovered) {
                        Some(d) => EnvResult::Invalid(SyncError::Invalid(d)),
                        None => EnvResult::Valid(env, read),
                    },
                    Err(d) => EnvResult::Invalid(SyncError::Invalid(d)),
                }
            }
            Err(e) => EnvResult::Invalid(e),
        }
    }

    /// The refusal of a commit that would remove too many flags, naming the cause.
    pub(super) fn flag_loss(
        &self,
        slot: &EnvSlot,
        env: &Environment,
        discovered: &Discovered,
    ) -> Option<switchyard_core::Diagnostics> {
        if !lock(&slot.status).serving_valid_snapshot {
            return None;
        }
        let old = slot.tx.borrow().flag_count();
        let reason = self.guard.check(old, env.flag_count())?;
        let dir = slot.directory.trim_matches('/');
        let place = if dir.is_empty() {
            "the repository root".to_string()
        } else {
            format!("directory {dir:?}")
        };
        let rules = discovered.rules.summary(discovered.root_file.as_deref());
        let files = discovered.files.len();
        let (file, cause) = match (env.flag_count(), files, &discovered.root_file) {
            (0, 0, Some(index)) if discovered.rules == Discovery::FliptV1 => {
                (index.clone(), format!("{index} selects no flag file"))
            }
            (0, 0, _) => (
                dir.to_string(),
                format!("no flag files are left in {place} (deleted?; files are found by {rules})"),
            ),
            (0, n, _) => (
                dir.to_string(),
                format!("its {n} flag file(s) define no flags"),
            ),
            _ => (dir.to_string(), "flags were deleted".to_string()),
        };
        Some(switchyard_core::Diagnostics::from_vec(vec![
            switchyard_core::Diagnostic::new(
                file,
                switchyard_core::Pos::new(1, 1),
                "",
                format!(
                    "{reason}: {cause}; the commit is not served (set allow_flag_loss: true on the storage to accept it)"
                ),
            ),
        ]))
    }

    /// Serves `env`, compiled from what `read` names, with the break-glass overrides laid
    /// over it; while paused or pinned it only becomes the head (recorded as held).
    pub(super) fn apply(
        &self,
        key: &str,
        env: Environment,
        read: ReadAt,
        start_time: &str,
        started: Instant,
    ) {
        let ReadAt {
            info,
            commit,
            label,
            files,
            inherited,
        } = read;
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let mut env = env;
        env.revision = commit.map(|c| c.to_string());
        let base = Base {
            env: Arc::new(env),
            info: info.clone(),
            label: label.clone(),
            files: files.clone(),
            inherited: inherited.clone(),
        };
        let mut g = lock(&slot.glass);
        g.head = Some(base.clone());
        if let Some(why) = g.held() {
            record_held(&self.shared, key, slot, &g, why, start_time, started);
            return;
        }
        g.base = Some(base);
        let Some((env, changes)) = publish(&self.shared, key, slot, &mut g) else {
            return;
        };
        let (lines, total) = crate::history::summarise(&changes);
        if let (Source::Git(git), Some(c)) = (&self.source, commit)
            && let Err(e) = git.record_last_good(key, c)
        {
            tracing::warn!(environment = %key, error = %e, "could not record the last good commit");
        }
        if let Source::Fed(fed) = &self.source {
            let state = FedRevision {
                label: label.clone(),
                commit: info.clone(),
                applied_at_ms: Some(unix_ms(SystemTime::now())),
                files: Some(files.clone()),
                overrides: inherited,
            };
            if let Err(e) = fed.record_last_good(key, &state) {
                tracing::warn!(environment = %key, error = %e, "could not record the last good upstream state");
            }
        }
        let duration = started.elapsed();
        {
            let mut st = lock(&slot.status);
            st.applied(SystemTime::now(), info, Served::of(&env, &files.discovered));
            if let Some(u) = st.upstream.as_mut() {
                u.served_label = Some(label);
            }
        }
        refresh_status(slot, &g, None);
        drop(g);
        self.shared.record(
            key,
            slot,
            Attempt {
                time: start_time.to_string(),
                duration_ms: duration.as_millis() as u64,
                commit: commit.map(|c| c.to_string()),
                outcome: Outcome::Applied,
                diff: lines,
                diff_total: total,
                repeats: 0,
                last_time: None,
            },
        );
        tracing::info!(
            environment = %key,
            commit = %commit.map(|c| c.to_string()).unwrap_or_else(|| "directory".into()),
            flags = env.flag_count(),
            duration_ms = duration.as_millis() as u64,
            "Git sync completed successfully"
        );
    }

    /// The pinned commit `sha` compiled from the local objects (a restart with a pin).
    fn pinned_base(&self, git: &GitSource, key: &str, slot: &EnvSlot, sha: &str) -> Option<Base> {
        let id = gix::ObjectId::from_hex(sha.as_bytes()).ok()?;
        let read = crate::tree::read_files(
            &git.repo(),
            id,
            &slot.directory,
            slot.discovery,
            &self.limits,
        )
        .ok()?;
        let mut env =
            compile_environment_with(key, &read.files, &self.limits, self.extra_checks).ok()?;
        env.revision = Some(sha.to_string());
        Some(Base {
            env: Arc::new(env),
            info: Some(git.commit_info(id)),
            label: sha.to_string(),
            files: Arc::new(FedFiles {
                files: read.files,
                discovered: read.discovered,
            }),
            inherited: Vec::new(),
        })
    }

    /// Records a failed attempt; `sticky`: the commit was looked at and refused (its error
    /// stays until the branch moves).
    pub(super) fn record_failure(
        &self,
        key: &str,
        error: &SyncError,
        info: Option<CommitInfo>,
        sticky: bool,
        start_time: &str,
        started: Instant,
    ) {
        let Some(slot) = self.env_slot(key) else {
            return;
        };
        let class = error.class();
        let errors = error
            .diagnostics()
            .map(validation_errors)
            .unwrap_or_default();
        let message = match error.diagnostics() {
            Some(_) => rejection_message(info.as_ref().map(|i| i.sha.as_str()), &errors),
            None => error.to_string(),
        };
        {
            let mut st = lock(&slot.status);
            if sticky {
                st.rejected(
                    SystemTime::now(),
                    info.clone(),
                    class,
                    message.clone(),
                    errors.clone(),
                );
            } else {
                st.failed(SystemTime::now(), class, message.clone());
            }
        }
        let never_served = !lock(&slot.status).serving_valid_snapshot;
        let further: Vec<String> = errors
            .iter()
            .skip(1)
            .take(2)
            .map(ToString::to_string)
            .collect();
        let outcome = if class == ErrorClass::Validation {
            Outcome::Rejected { errors }
        } else {
            Outcome::Failed {
                class,
                error: message.clone(),
            }
        };
        let attempt = Attempt::without_diff(start_time, started, info.map(|i| i.sha), outcome);
        self.shared.record(key, slot, attempt);
        if further.is_empty() {
            tracing::error!(environment = %key, class = %class, "Git sync error: {class}: {message}");
        } else {
            tracing::error!(environment = %key, class = %class, "Git sync error: {class}: {message}; next: {}", further.join("; "));
        }
        if let Some(d) = error.diagnostics()
            && never_served
            && self.extra_checks == ExtraChecks::Error
        {
            let extra = d.iter().filter(|d| d.extra).count();
            if extra > 0 {
                tracing::warn!(
                    environment = %key,
                    "{} of the {} problems come from Switchyard's checks beyond Flipt's, and Flipt v2.11 would serve this commit; to serve it as Flipt does while you fix them, set `validation: {{extra_checks: warn}}` in the configuration (or SWITCHYARD_VALIDATION__EXTRA_CHECKS=warn): each finding then shows as a warning in the status, the dashboard and /metrics",
                    extra,
                    d.len()
                );
            }
        }
    }
}
