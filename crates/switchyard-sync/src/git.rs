//! The git side: a bare repository (no work tree) that follows one branch, tag or pinned commit
//! of a remote, fetched with gix.
//!
//! The first fetch is shallow (depth 1), later ones incremental. Every fetch starts with a ref
//! advertisement; when the advertised tip equals the one fetched last time the connection is
//! dropped there, so an unchanged poll costs one round trip and no parsing. Credentials, headers
//! and the ssh command live in in-memory config overrides and callbacks, never in
//! `.git/config`. The remote is anonymous, so its URL is not written either.
//!
//! Proxies (http and https remotes) come from the environment, read by reqwest each time a fetch
//! builds its client: `HTTPS_PROXY`/`https_proxy` or `HTTP_PROXY`/`http_proxy`, else
//! `ALL_PROXY`/`all_proxy`; credentials in the proxy URL are sent as `Proxy-Authorization`.
//! `NO_PROXY`/`no_proxy` is matched against the remote's host as written, never resolved: IPs and
//! CIDRs match IP hosts, names match the name and its subdomains, `*` matches everything; ports
//! are not supported, and loopback gets no automatic exception. git's `http.proxy` is ignored.

mod child_processes;

use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gix::ObjectId;
use gix::credentials::helper::Action;
use gix::credentials::protocol::Outcome;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::Direction;
use gix::remote::fetch::Shallow;
use gix::sec::identity::Account;
use serde::Serialize;

use crate::config::{
    BackendKind, CredentialsConfig, FetchTimeouts, StorageConfig, format_duration,
};
use crate::error::{ErrorClass, SyncError, chain, classify};
use crate::redact::scrub;
use crate::remote_url::RemoteUrl;

/// Name of the file, inside the bare repository, that remembers each environment's last good
/// commit so a restart serves it at once.
pub const LAST_GOOD_FILE: &str = "switchyard-last-good";

/// Packs in the sync repository above which they are merged into one.
pub const PACK_LIMIT: usize = 16;

/// What a storage follows on its remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A branch, followed as it moves.
    Branch(String),
    /// A tag, pinned.
    Tag(String),
    /// A commit, pinned.
    Commit(ObjectId),
}

impl Reference {
    /// Works out the reference from a storage's `branch`, `tag` and `commit`.
    pub fn from_config(cfg: &StorageConfig) -> Result<Self, SyncError> {
        if let Some(c) = &cfg.commit {
            let id = ObjectId::from_hex(c.as_bytes())
                .map_err(|e| SyncError::local("invalid commit id", e))?;
            Ok(Reference::Commit(id))
        } else if let Some(t) = &cfg.tag {
            Ok(Reference::Tag(t.clone()))
        } else {
            Ok(Reference::Branch(cfg.branch.clone()))
        }
    }

    /// A short label: the branch name, `tag v1` or `commit <sha>`.
    pub fn label(&self) -> String {
        match self {
            Reference::Branch(b) => b.clone(),
            Reference::Tag(t) => format!("tag {t}"),
            Reference::Commit(c) => format!("commit {c}"),
        }
    }

    fn refspec(&self) -> String {
        match self {
            Reference::Branch(b) => format!("+refs/heads/{b}:refs/remotes/origin/{b}"),
            Reference::Tag(t) => format!("+refs/tags/{t}:refs/tags/{t}"),
            Reference::Commit(c) => format!("{c}:refs/switchyard/pinned"),
        }
    }

    fn local_ref(&self) -> String {
        match self {
            Reference::Branch(b) => format!("refs/remotes/origin/{b}"),
            Reference::Tag(t) => format!("refs/tags/{t}"),
            Reference::Commit(_) => "refs/switchyard/pinned".to_string(),
        }
    }
}

/// Who wrote a commit and what it says; shown in status and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    /// Full 40-hex commit id.
    pub sha: String,
    /// Author name and email, `Name <email>`.
    pub author: String,
    /// First line of the message.
    pub message: String,
    /// Commit time, RFC 3339 UTC.
    pub time: String,
}

/// The result of one fetch.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The commit the reference points to now.
    pub commit: ObjectId,
    /// Whether anything was transferred (false: the advertised tip had not moved).
    pub transferred: bool,
}

/// A bare repository following one reference of one remote.
pub struct GitSource {
    // gix::Repository is not Send; keep the thread-safe form and make a local handle per use
    repo: gix::ThreadSafeRepository,
    git_dir: PathBuf,
    conn: Arc<Conn>,
    last_tip: Option<ObjectId>,
    /// In-memory config overrides, applied again when the repository is reopened
    overrides: Vec<String>,
    /// A fetch that was given up at its deadline and has not ended yet
    abandoned: Option<Abandoned>,
    // keeps the memory backend's repository and the ssh key files alive; removed on drop
    _temp: Vec<tempfile::TempDir>,
}

/// What a fetch needs besides the repository, shared with the thread it runs on.
struct Conn {
    url: String,
    display_url: String,
    reference: Reference,
    basic: Option<(String, String)>,
    ca_pem: Option<Vec<u8>>,
    insecure_skip_tls: bool,
    secrets: Vec<String>,
    /// ssh writes its diagnostics here (`-E`), so they can be put in the error message
    ssh_log: Option<PathBuf>,
    timeouts: FetchTimeouts,
}

/// A fetch thread left behind at its deadline (interrupted, but blocked in a read).
struct Abandoned {
    handle: std::thread::JoinHandle<Result<Done, SyncError>>,
    since: Instant,
}

/// How a fetch thread ended.
enum Done {
    /// The advertised tip was the one fetched last time.
    Unchanged(ObjectId),
    /// A pack was received; the tip.
    Received(ObjectId),
}

impl std::fmt::Debug for GitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitSource")
            .field("remote", &self.conn.display_url)
            .field("reference", &self.conn.reference)
            .finish()
    }
}

impl GitSource {
    /// Opens (or creates) the bare repository of a storage and prepares authentication.
    pub fn open(cfg: &StorageConfig, creds: Option<&CredentialsConfig>) -> Result<Self, SyncError> {
        let url = cfg
            .remote
            .clone()
            .ok_or_else(|| SyncError::Local("storage has no remote".into()))?;
        let parsed = RemoteUrl::parse(&url)?;
        let display_url = parsed.redacted();
        let reference = Reference::from_config(cfg)?;
        let mut temp = Vec::new();
        let git_dir = match cfg.backend.kind {
            BackendKind::Local => cfg
                .backend
                .path
                .clone()
                .ok_or_else(|| SyncError::Local("local backend requires a path".into()))?,
            BackendKind::Memory => {
                let dir = tempfile::Builder::new()
                    .prefix("switchyard-git-")
                    .tempdir()
                    .map_err(|e| SyncError::local("creating a temporary directory", e))?;
                let path = dir.path().to_path_buf();
                temp.push(dir);
                path
            }
        };
        let mut repo = open_or_init(&git_dir)?;

        let mut overrides = vec![
            "credential.interactive=never".to_string(),
            "credential.helper=".to_string(),
        ];
        let mut basic = None;
        let mut ssh_log = None;
        let mut secrets = Vec::new();
        let mut url = url;
        if let Some(pw) = parsed.password() {
            secrets.push(pw.to_string());
            if parsed.is_http() {
                // credentials written in an http(s) URL: used as basic auth (unless configured
                // credentials say otherwise), and never handed to gix inside the URL
                basic = Some((parsed.user().unwrap_or("").to_string(), pw.to_string()));
                url = display_url.clone();
            }
        }
        match creds {
            None => {}
            Some(CredentialsConfig::Basic { basic: b }) => {
                secrets.push(b.password.clone());
                basic = Some((b.username.clone(), b.password.clone()));
            }
            Some(CredentialsConfig::AccessToken { access_token }) => {
                // Flipt v2: basic auth, username `x-token-auth`, the token as password
                secrets.push(access_token.clone());
                basic = Some(("x-token-auth".to_string(), access_token.clone()));
            }
            Some(CredentialsConfig::Bearer { bearer_token }) => {
                secrets.push(bearer_token.clone());
                overrides.push(format!(
                    "http.extraHeader=Authorization: Bearer {bearer_token}"
                ));
            }
            Some(CredentialsConfig::Ssh { ssh }) => {
                let dir = tempfile::Builder::new()
                    .prefix("switchyard-ssh-")
                    .tempdir()
                    .map_err(|e| SyncError::local("creating a temporary directory", e))?;
                let key_path = match (&ssh.private_key_path, &ssh.private_key_bytes) {
                    (Some(p), None) => p.clone(),
                    (None, Some(bytes)) => {
                        let p = dir.path().join("id");
                        write_private(&p, normalise_key(bytes).as_bytes())?;
                        p
                    }
                    _ => return Err(SyncError::Local(
                        "please provide exclusively one of private_key_bytes or private_key_path"
                            .into(),
                    )),
                };
                let mut cmd = String::new();
                if let Some(pass) = ssh.password.as_deref().filter(|p| !p.is_empty()) {
                    // ssh reads a key passphrase only from a terminal or SSH_ASKPASS: give it a
                    // private askpass script that prints the passphrase from a 0600 file
                    secrets.push(pass.to_string());
                    let pass_file = dir.path().join("passphrase");
                    write_private(&pass_file, pass.as_bytes())?;
                    let askpass = dir.path().join("askpass");
                    write_private(
                        &askpass,
                        format!("#!/bin/sh\ncat {}\n", shell_quote(&pass_file)).as_bytes(),
                    )?;
                    set_mode(&askpass, 0o700)?;
                    cmd.push_str(&format!(
                        "SSH_ASKPASS={} SSH_ASKPASS_REQUIRE=force DISPLAY=none ",
                        shell_quote(&askpass)
                    ));
                }
                let log = dir.path().join("ssh.log");
                cmd.push_str(&format!(
                    "ssh -i {} -E {} -o IdentitiesOnly=yes {}",
                    shell_quote(&key_path),
                    shell_quote(&log),
                    ssh_timeouts(&cfg.timeouts)
                ));
                ssh_log = Some(log);
                if ssh.password.as_deref().is_none_or(str::is_empty) {
                    cmd.push_str(" -o BatchMode=yes");
                } else {
                    cmd.push_str(
                        " -o NumberOfPasswordPrompts=1 -o PreferredAuthentications=publickey",
                    );
                }
                if ssh.insecure_ignore_host_key {
                    cmd.push_str(" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
                } else {
                    if let Some(kh) = &ssh.known_hosts_path {
                        cmd.push_str(&format!(" -o UserKnownHostsFile={}", shell_quote(kh)));
                    }
                    cmd.push_str(" -o StrictHostKeyChecking=yes");
                }
                if parsed.user().is_none() {
                    // the URL's user wins; otherwise the configured one
                    cmd.push_str(&format!(" -o User={}", shell_quote(Path::new(&ssh.user))));
                }
                overrides.push(format!("core.sshCommand={cmd}"));
                overrides.push("ssh.variant=ssh".to_string());
                temp.push(dir);
            }
        }
        if parsed.is_ssh() && !matches!(creds, Some(CredentialsConfig::Ssh { .. })) {
            // ssh without configured credentials: ssh's own keys, with the same bounds
            overrides.push(format!(
                "core.sshCommand=ssh {}",
                ssh_timeouts(&cfg.timeouts)
            ));
            overrides.push("ssh.variant=ssh".to_string());
        }
        configure(&mut repo, &overrides, &secrets)?;
        let ca_pem = match (&cfg.ca_cert_path, &cfg.ca_cert_bytes) {
            (Some(p), _) => Some(
                std::fs::read(p)
                    .map_err(|e| SyncError::local(&format!("reading {}", p.display()), e))?,
            ),
            (None, Some(b)) => Some(b.as_bytes().to_vec()),
            (None, None) => None,
        };
        if let Some(pem) = &ca_pem {
            reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SyncError::local("invalid CA certificate", e))?;
        }
        let last_tip = repo
            .find_reference(reference.local_ref().as_str())
            .ok()
            .and_then(|r| r.try_id().map(|id| id.detach()));
        Ok(GitSource {
            repo: repo.into_sync(),
            git_dir,
            conn: Arc::new(Conn {
                url,
                display_url,
                reference,
                basic,
                ca_pem,
                insecure_skip_tls: cfg.insecure_skip_tls,
                secrets,
                ssh_log,
                timeouts: cfg.timeouts,
            }),
            last_tip,
            overrides,
            abandoned: None,
            _temp: temp,
        })
    }

    /// The remote URL without credentials.
    pub fn display_url(&self) -> &str {
        &self.conn.display_url
    }

    /// What this source follows.
    pub fn reference(&self) -> &Reference {
        &self.conn.reference
    }

    /// A handle on the repository, to read trees from.
    pub fn repo(&self) -> gix::Repository {
        self.repo.to_thread_local()
    }

    /// Directory of the bare repository.
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The commit the local tracking reference points to (from an earlier run or fetch).
    pub fn local_commit(&self) -> Option<ObjectId> {
        let tip = self.last_tip?;
        self.peel(tip).ok()
    }

    /// Fetches the reference. Returns at the ref advertisement when the tip has not moved.
    ///
    /// The fetch runs on its own thread, watched against the storage's `timeouts`: past the
    /// total deadline, or when fewer than `low_speed_limit` bytes a second arrive over
    /// `low_speed_time`, it is interrupted, the processes it started (`git-upload-pack`, `ssh`)
    /// are ended, and this returns a `timeout` error at once. A fetch blocked on a socket ends
    /// by itself within `read`; until it has, later fetches report it instead of starting
    /// another one.
    pub fn fetch(&mut self) -> Result<Fetched, SyncError> {
        let repo = self.repo();
        if let Reference::Commit(id) = &self.conn.reference
            && repo.has_object(id)
        {
            // a pinned commit never changes: once here, no network is needed
            return Ok(Fetched {
                commit: *id,
                transferred: false,
            });
        }
        if let Some(old) = self.abandoned.take() {
            if !old.handle.is_finished() {
                let message = format!(
                    "the fetch given up {} s ago has not ended yet (its connection is still open)",
                    old.since.elapsed().as_secs()
                );
                self.abandoned = Some(old);
                return Err(self.conn.timeout(message));
            }
            if let Ok(Ok(Done::Received(tip))) = old.handle.join() {
                self.last_tip = Some(tip);
            }
        }
        let started = Instant::now();
        let interrupt = Arc::new(AtomicBool::new(false));
        // 0 until the fetch thread has told its id
        let fetch_tid = Arc::new(AtomicU32::new(0));
        let counter = Activity::default();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job = {
            let repo = self.repo.clone();
            let conn = self.conn.clone();
            let last_tip = self.last_tip;
            let interrupt = interrupt.clone();
            let counter = counter.clone();
            let fetch_tid = fetch_tid.clone();
            move || {
                if let Some(tid) = child_processes::current_thread_id() {
                    fetch_tid.store(tid, Ordering::Relaxed);
                }
                let result = conn.fetch(&repo.to_thread_local(), last_tip, &interrupt, counter);
                let _ = tx.send(());
                result
            }
        };
        let handle = std::thread::Builder::new()
            .name("git-fetch".into())
            .spawn(job)
            .map_err(|e| SyncError::local("starting the fetch thread", e))?;
        let t = self.conn.timeouts;
        let mut samples: std::collections::VecDeque<(Instant, u64)> =
            std::collections::VecDeque::new();
        let verdict = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if now - started >= t.total {
                break Some(format!(
                    "no complete answer within {} (timeouts.total)",
                    format_duration(t.total)
                ));
            }
            if t.low_speed_limit == 0 {
                continue;
            }
            let bytes = counter.total();
            samples.push_back((now, bytes));
            while samples
                .get(1)
                .is_some_and(|(at, _)| now - *at >= t.low_speed_time)
            {
                samples.pop_front();
            }
            if let Some((at, then)) = samples.front()
                && now - *at >= t.low_speed_time
            {
                let got = bytes.saturating_sub(*then);
                let need = t.low_speed_limit as f64 * (now - *at).as_secs_f64();
                if (got as f64) < need {
                    break Some(format!(
                        "{got} bytes in the last {} s, below {} bytes/s (timeouts.low_speed_limit over timeouts.low_speed_time)",
                        (now - *at).as_secs(),
                        t.low_speed_limit
                    ));
                }
            }
        };
        if let Some(reason) = verdict {
            interrupt.store(true, Ordering::Relaxed);
            // a fetch that reads gets the interrupt at its next read; one blocked on the pipe of
            // a process it started (`git-upload-pack` of a stalled `file://` remote, `ssh`)
            // returns once that process is ended; one blocked on a socket is left behind and
            // ends within `timeouts.read`
            let tid = fetch_tid.load(Ordering::Relaxed);
            if tid != 0 {
                let ended = child_processes::kill_children_of(tid);
                if ended > 0 {
                    tracing::debug!(ended, "ended the processes of a fetch given up");
                }
            }
            if rx.recv_timeout(Duration::from_millis(500)).is_err() {
                self.abandoned = Some(Abandoned {
                    handle,
                    since: Instant::now(),
                });
                return Err(self.conn.timeout(reason));
            }
            let _ = handle.join();
            return Err(self.conn.timeout(reason));
        }
        let done = handle.join().map_err(|p| {
            SyncError::Internal(format!("the fetch panicked: {}", panic_message(&p)))
        })??;
        match done {
            Done::Unchanged(tip) => Ok(Fetched {
                commit: self.peel(tip)?,
                transferred: false,
            }),
            Done::Received(tip) => {
                let commit = self.peel(tip)?;
                self.last_tip = Some(tip);
                self.compact_packs();
                Ok(Fetched {
                    commit,
                    transferred: true,
                })
            }
        }
    }

    /// Every fetch leaves one pack and gix has no gc: past [`PACK_LIMIT`] packs, merge them
    /// with `git repack` when the git CLI is installed (it is wherever `file://` works).
    fn compact_packs(&mut self) {
        let packs = std::fs::read_dir(self.git_dir.join("objects/pack"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                    .count()
            })
            .unwrap_or(0);
        if packs <= PACK_LIMIT {
            return;
        }
        let status = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&self.git_dir)
            .args(["repack", "-a", "-d", "-q"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => {
                // a fresh handle sees one pack and gets fresh slots
                match open_or_init(&self.git_dir).and_then(|mut repo| {
                    configure(&mut repo, &self.overrides, &self.conn.secrets)?;
                    Ok(repo)
                }) {
                    Ok(repo) => self.repo = repo.into_sync(),
                    Err(e) => {
                        tracing::warn!(remote = %self.conn.display_url, error = %e, "reopening after repack failed")
                    }
                }
                tracing::info!(remote = %self.conn.display_url, packs, "repacked the sync repository")
            }
            Ok(s) => {
                tracing::warn!(remote = %self.conn.display_url, packs, status = %s, "git repack failed")
            }
            Err(e) => {
                tracing::debug!(remote = %self.conn.display_url, packs, error = %e, "git CLI not available; packs not merged")
            }
        }
    }

    fn peel(&self, id: ObjectId) -> Result<ObjectId, SyncError> {
        let repo = self.repo();
        let obj = repo
            .find_object(id)
            .map_err(|e| SyncError::local("reading fetched object", chain(&e)))?;
        let commit = obj.peel_to_commit().map_err(|e| {
            SyncError::local(
                &format!("{} does not point to a commit", self.conn.reference.label()),
                chain(&e),
            )
        })?;
        Ok(commit.id)
    }

    /// Author, message and time of `commit`.
    pub fn commit_info(&self, commit: ObjectId) -> CommitInfo {
        commit_info(&self.repo(), commit)
    }

    /// Reads the last good commit recorded for `environment`, if its objects are still here.
    pub fn last_good(&self, environment: &str) -> Option<ObjectId> {
        let text = std::fs::read_to_string(self.git_dir.join(LAST_GOOD_FILE)).ok()?;
        let repo = self.repo();
        text.lines().find_map(|line| {
            let (sha, env) = line.split_once(' ')?;
            if env != environment {
                return None;
            }
            let id = ObjectId::from_hex(sha.as_bytes()).ok()?;
            repo.has_object(id).then_some(id)
        })
    }

    /// Records `commit` as the last good commit of `environment` (write to a temp file, rename).
    pub fn record_last_good(&self, environment: &str, commit: ObjectId) -> Result<(), SyncError> {
        let path = self.git_dir.join(LAST_GOOD_FILE);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut out: String = old
            .lines()
            .filter(|l| l.split_once(' ').is_none_or(|(_, e)| e != environment))
            .map(|l| format!("{l}\n"))
            .collect();
        out.push_str(&format!("{commit} {environment}\n"));
        let tmp = self.git_dir.join(format!("{LAST_GOOD_FILE}.tmp"));
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| SyncError::local("recording the last good commit", e))
    }
}

impl Conn {
    fn fetch_error(&self, e: &(dyn std::error::Error + 'static)) -> SyncError {
        let mut message = chain(e);
        if let Some(log) = &self.ssh_log {
            // gix only sees ssh's stdout; its own diagnostics went to the log
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
                .collect();
            if !lines.is_empty() {
                message = format!(
                    "{}: {message}",
                    lines[lines.len().saturating_sub(3)..].join("; ")
                );
            }
        }
        let mut message = scrub(&message, &self.secrets).replace(&self.url, &self.display_url);
        let class = classify(&message);
        if matches!(class, ErrorClass::Network | ErrorClass::Timeout)
            && let Some(proxy) = env_proxy(&self.url)
        {
            // reqwest's errors name the remote, never the proxy the request went through
            message.push_str(&format!(" (through the proxy {proxy})"));
        }
        SyncError::Fetch {
            class,
            remote: self.display_url.clone(),
            message,
        }
    }

    fn timeout(&self, message: String) -> SyncError {
        SyncError::Fetch {
            class: ErrorClass::Timeout,
            remote: self.display_url.clone(),
            message,
        }
    }

    fn missing(&self) -> SyncError {
        SyncError::Fetch {
            class: ErrorClass::NotFound,
            remote: self.display_url.clone(),
            message: match &self.reference {
                Reference::Branch(b) => format!("branch {b:?} not found on the remote"),
                Reference::Tag(t) => format!("tag {t:?} not found on the remote"),
                Reference::Commit(c) => format!("commit {c} not found on the remote"),
            },
        }
    }

    /// One fetch on the calling thread: the ref advertisement, then the pack if the tip moved.
    fn fetch(
        &self,
        repo: &gix::Repository,
        last_tip: Option<ObjectId>,
        interrupt: &AtomicBool,
        progress: Activity,
    ) -> Result<Done, SyncError> {
        if let Some(log) = &self.ssh_log {
            let _ = std::fs::write(log, b"");
        }
        let spec = self.reference.refspec();
        let remote = repo
            .remote_at(self.url.as_str())
            .map_err(|e| self.fetch_error(&e))?
            .with_refspecs([spec.as_str()], Direction::Fetch)
            .map_err(|e| self.fetch_error(&e))?;
        let mut con = remote
            .connect(Direction::Fetch)
            .map_err(|e| self.fetch_error(&e))?;
        if self.url.starts_with("https://") || self.url.starts_with("http://") {
            let mut opts = repo
                .transport_options(self.url.as_str(), None)
                .ok()
                .flatten()
                .and_then(|b| b.downcast::<http::Options>().ok())
                .map(|b| *b)
                .unwrap_or_default();
            let pem = self.ca_pem.clone();
            let insecure = self.insecure_skip_tls;
            let t = self.timeouts;
            let hook: Box<http::reqwest::ConfigureClientFn> =
                Box::new(move |b: reqwest::blocking::ClientBuilder| {
                    // reqwest's blocking `timeout` bounds the wait for the answer and for every
                    // read of its body: the first byte and any stall
                    let mut b = b.connect_timeout(t.connect).timeout(t.read);
                    if let Some(pem) = &pem {
                        let certs = reqwest::Certificate::from_pem_bundle(pem)
                            .map_err(gix::Error::from_error)?;
                        b = b.tls_certs_only(certs);
                    }
                    if insecure {
                        b = b.tls_danger_accept_invalid_certs(true);
                    }
                    if no_proxy_all() {
                        // reqwest reads HTTP(S)_PROXY / NO_PROXY itself, but its `*` entry
                        // skips IP-address hosts; `*` means every host, as with curl and git
                        b = b.no_proxy();
                    }
                    Ok(b)
                });
            opts.backend = Some(Arc::new(Mutex::new(http::reqwest::Options {
                configure_client: Some(hook),
                configure_request: None,
            })));
            con = con.with_transport_options(Box::new(opts));
        }
        let basic = self.basic.clone();
        let prepare = con
            .with_credentials(move |action| match (action, &basic) {
                (Action::Get(ctx), Some((u, p))) => Ok(Some(Outcome {
                    identity: Account {
                        username: u.clone(),
                        password: p.clone(),
                        oauth_refresh_token: None,
                    },
                    next: ctx.into(),
                })),
                // nothing configured: fail instead of prompting; store and erase are no-ops
                _ => Ok(None),
            })
            .prepare_fetch(progress.clone(), Default::default())
            .map_err(|e| self.fetch_error(&e))?;
        let advertised = prepare
            .ref_map()
            .mappings
            .iter()
            .find_map(|m| m.remote.as_id().map(|id| id.to_owned()));
        let Some(tip) = advertised else {
            return Err(self.missing());
        };
        if last_tip == Some(tip) && repo.has_object(tip) {
            drop(prepare);
            return Ok(Done::Unchanged(tip));
        }
        // depth 1 the first time this reference is fetched, incremental after
        let shallow = if last_tip.is_none() {
            NonZeroU32::new(1).map_or(Shallow::NoChange, Shallow::DepthAtRemote)
        } else {
            Shallow::NoChange
        };
        prepare
            .with_shallow(shallow)
            .receive(progress, interrupt)
            .map_err(|e| self.fetch_error(&e))?;
        Ok(Done::Received(tip))
    }
}

fn open_or_init(dir: &Path) -> Result<gix::Repository, SyncError> {
    let non_empty = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if !non_empty {
        std::fs::create_dir_all(dir)
            .map_err(|e| SyncError::local(&format!("creating {}", dir.display()), e))?;
        gix::init_bare(dir).map_err(|e| {
            SyncError::local(
                &format!("initialising a bare repository at {}", dir.display()),
                chain(&e),
            )
        })?;
    }
    // gix sizes its pack slots from the packs on disk when the repository is opened (at least
    // 32 by default) and fails once fetches add more: leave ample room, packs are merged
    // long before (see `compact_packs`)
    let slots = gix::odb::store::init::Slots::AsNeededByDiskState {
        multiplier: 2.0,
        minimum: 512,
    };
    gix::open_opts(dir, gix::open::Options::default().object_store_slots(slots)).map_err(|e| {
        SyncError::local(
            &format!("opening the repository at {}", dir.display()),
            chain(&e),
        )
    })
}

/// Applies in-memory config overrides (never written to `.git/config`).
fn configure(
    repo: &mut gix::Repository,
    overrides: &[String],
    secrets: &[String],
) -> Result<(), SyncError> {
    let mut snapshot = repo.config_snapshot_mut();
    snapshot
        .append_config(
            overrides.iter().map(String::as_str),
            gix::config::Source::Api,
        )
        .map_err(|e| SyncError::local("configuring the repository", scrub(&chain(&e), secrets)))?;
    snapshot
        .commit()
        .map_err(|e| SyncError::local("configuring the repository", chain(&e)))?;
    Ok(())
}

/// Author, message and time of a commit, with placeholders when it cannot be read.
pub fn commit_info(repo: &gix::Repository, commit: ObjectId) -> CommitInfo {
    let mut info = CommitInfo {
        sha: commit.to_string(),
        author: String::new(),
        message: String::new(),
        time: String::new(),
    };
    if let Ok(c) = repo.find_commit(commit) {
        if let Ok(a) = c.author() {
            info.author = format!("{} <{}>", a.name, a.email);
            if let Ok(t) = a.time() {
                info.time = crate::status::rfc3339_from_unix(t.seconds);
            }
        }
        if let Ok(m) = c.message() {
            info.message = m.title.to_string().trim().to_string();
        }
    }
    info
}

/// Whether `NO_PROXY` (or, when unset, `no_proxy`) has a `*` entry: no proxy for any host.
fn no_proxy_all() -> bool {
    std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .is_ok_and(|v| v.split(',').any(|e| e.trim() == "*"))
}

/// The proxy an http(s) fetch of `url` goes through, from the environment variables reqwest
/// reads (`HTTPS_PROXY`/`https_proxy` or `HTTP_PROXY`/`http_proxy`, then `ALL_PROXY`/`all_proxy`,
/// minus `NO_PROXY`/`no_proxy`), with the variable it came from:
/// `http://proxy:3128 from HTTPS_PROXY`. Proxy credentials are left out.
fn env_proxy(url: &str) -> Option<String> {
    use hyper_util::client::proxy::matcher::Matcher;
    if no_proxy_all() {
        return None;
    }
    let dst: ::http::Uri = url.parse().ok()?;
    let proxy = Matcher::from_env().intercept(&dst)?;
    let vars: [&str; 4] = if dst.scheme_str() == Some("https") {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let uri = proxy.uri().to_string();
    let uri = uri.strip_suffix('/').unwrap_or(&uri);
    let from = vars.into_iter().find(|v| {
        std::env::var(v).is_ok_and(|value| {
            Matcher::builder()
                .all(value)
                .build()
                .intercept(&dst)
                .is_some_and(|p| p.uri() == proxy.uri())
        })
    });
    Some(match from {
        Some(var) => format!("{uri} from {var}"),
        None => uri.to_string(),
    })
}

fn normalise_key(key: &str) -> String {
    let mut k = key.trim().to_string();
    k.push('\n');
    k
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| SyncError::local(&format!("writing {}", path.display()), e))?;
    f.write_all(bytes)
        .map_err(|e| SyncError::local(&format!("writing {}", path.display()), e))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), SyncError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| SyncError::local(&format!("chmod {}", path.display()), e))
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// ssh options for the storage's bounds: connect timeout, and keep-alives that end a session
/// whose server stops answering within `read`.
fn ssh_timeouts(t: &FetchTimeouts) -> String {
    let alive = (t.read.as_secs() / 3).max(1);
    format!(
        "-o ConnectTimeout={} -o ServerAliveInterval={alive} -o ServerAliveCountMax=3",
        t.connect.as_secs().max(1)
    )
}

/// The text of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// A progress sink that only counts: the sum of every step of every child, read by the fetch's
/// watchdog for its low-speed check (bytes of the pack dominate the sum).
#[derive(Clone, Default)]
struct Activity {
    steps: Arc<Mutex<Vec<gix::progress::StepShared>>>,
    mine: gix::progress::StepShared,
}

impl Activity {
    fn total(&self) -> u64 {
        let steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let children: usize = steps.iter().map(|s| s.load(Ordering::Relaxed)).sum();
        (children + self.mine.load(Ordering::Relaxed)) as u64
    }
}

impl gix::progress::Count for Activity {
    fn set(&self, step: gix::progress::Step) {
        self.mine.store(step, Ordering::Relaxed);
    }
    fn step(&self) -> gix::progress::Step {
        self.mine.load(Ordering::Relaxed)
    }
    fn inc_by(&self, step: gix::progress::Step) {
        self.mine.fetch_add(step, Ordering::Relaxed);
    }
    fn counter(&self) -> gix::progress::StepShared {
        self.mine.clone()
    }
}

impl gix::progress::Progress for Activity {
    fn init(&mut self, _max: Option<gix::progress::Step>, _unit: Option<gix::progress::Unit>) {}
    fn set_name(&mut self, _name: String) {}
    fn name(&self) -> Option<String> {
        None
    }
    fn id(&self) -> gix::progress::Id {
        gix::progress::UNKNOWN
    }
    fn message(&self, _level: gix::progress::MessageLevel, _message: String) {}
}

impl gix::progress::NestedProgress for Activity {
    type SubProgress = Activity;
    fn add_child(&mut self, _name: impl Into<String>) -> Activity {
        let child: gix::progress::StepShared = Arc::new(AtomicUsize::new(0));
        self.steps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(child.clone());
        Activity {
            steps: self.steps.clone(),
            mine: child,
        }
    }
    fn add_child_with_id(&mut self, name: impl Into<String>, _id: gix::progress::Id) -> Activity {
        self.add_child(name)
    }
}
