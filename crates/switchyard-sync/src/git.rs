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

mod auth;
mod child_processes;
mod fetch;
mod last_good;
mod proxy;
mod repack;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gix::ObjectId;

use self::auth::Auth;
use self::fetch::Abandoned;
use crate::config::{BackendKind, CredentialsConfig, FetchTimeouts, StorageConfig};
use crate::error::{SyncError, chain};
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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

        let auth = Auth::prepare(url, &parsed, &display_url, creds, &cfg.timeouts)?;
        temp.extend(auth.temp);
        let (url, basic, secrets, overrides, ssh_log) = (
            auth.url,
            auth.basic,
            auth.secrets,
            auth.overrides,
            auth.ssh_log,
        );
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

    /// The repository, shareable between threads (readers outside the sync thread).
    pub fn shared_repo(&self) -> gix::ThreadSafeRepository {
        self.repo.clone()
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

/// The text of a panic payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}
