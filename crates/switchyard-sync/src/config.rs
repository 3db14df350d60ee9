//! Plain configuration structs, shaped like Flipt v2's `storage`, `environments` and
//! `credentials` maps (snake_case keys), so the CLI can map Flipt config files onto them.
//!
//! Everything here is data: [`SyncConfig::validate`] checks the cross references and the rules
//! Flipt enforces (`poll interval must be at least 1 second`, one of `ca_cert_path` or
//! `ca_cert_bytes`, one default environment, distinct directories on a shared storage).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use switchyard_core::{Discovery, ExtraChecks};

/// Default poll interval, as in Flipt (`30s`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Smallest accepted poll interval, as in Flipt v2 (`1s`).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Default number of sync attempts kept in each environment's history.
pub const DEFAULT_HISTORY_LIMIT: usize = 100;

/// The whole sync configuration: storages, environments and named credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Storages (git repositories or local directories) by id.
    #[serde(default)]
    pub storage: BTreeMap<String, StorageConfig>,
    /// Environments by key.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Named credentials that storages refer to.
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialsConfig>,
    /// How many sync attempts each environment's history keeps (default 100).
    #[serde(default = "default_history_limit")]
    pub history_limit: usize,
    /// What the checks Switchyard adds beyond Flipt's do (Switchyard's
    /// `validation.extra_checks`, set by the CLI; `error` by default).
    #[serde(skip)]
    pub extra_checks: ExtraChecks,
    /// The seed of this replica's poll jitter (Switchyard's `sync.poll_jitter_seed`, set by the
    /// CLI); none: a random one at start.
    #[serde(skip)]
    pub poll_jitter_seed: Option<u64>,
    /// The longest lifetime a break-glass override may be given (Switchyard's
    /// `break_glass.max_override`, set by the CLI; 24 h by default).
    #[serde(skip, default = "default_max_override")]
    pub max_override: std::time::Duration,
}

fn default_max_override() -> std::time::Duration {
    crate::break_glass::DEFAULT_MAX_OVERRIDE
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            storage: BTreeMap::new(),
            environments: BTreeMap::new(),
            credentials: BTreeMap::new(),
            history_limit: DEFAULT_HISTORY_LIMIT,
            extra_checks: ExtraChecks::Error,
            poll_jitter_seed: None,
            max_override: default_max_override(),
        }
    }
}

fn default_history_limit() -> usize {
    DEFAULT_HISTORY_LIMIT
}

/// One storage: a git remote (or a plain local directory) and how to follow it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Remote URL (`https://`, `ssh://`, scp-like `git@host:path`, `file://` or a plain path).
    #[serde(default)]
    pub remote: Option<String>,
    /// A plain directory read without git (development mode); excludes `remote`.
    #[serde(default)]
    pub local_path: Option<PathBuf>,
    /// Relay mode: the upstream Switchyard this storage's environment follows (credentials
    /// removed; its stream is read by the server's relay client, which feeds the sync). Set
    /// by the CLI from the `upstream` section; excludes `remote` and `local_path`.
    #[serde(skip)]
    pub upstream: Option<String>,
    /// Branch to follow (default `main`); ignored when `tag` or `commit` is set.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// Pin a tag instead of following a branch.
    #[serde(default)]
    pub tag: Option<String>,
    /// Pin a 40-hex commit id instead of following a branch.
    #[serde(default)]
    pub commit: Option<String>,
    /// How often to poll (default `30s`, at least `1s`), e.g. `"30s"`, `"1m"`, `"500ms"`.
    #[serde(
        default = "default_poll_interval",
        deserialize_with = "deserialize_duration"
    )]
    pub poll_interval: Duration,
    /// What to do when the first fetch fails.
    #[serde(default)]
    pub fetch_policy: FetchPolicy,
    /// Where the bare repository lives.
    #[serde(default)]
    pub backend: BackendConfig,
    /// Name of an entry in [`SyncConfig::credentials`].
    #[serde(default)]
    pub credentials: Option<String>,
    /// Path of a PEM file with the CA certificates to trust for HTTPS.
    #[serde(default)]
    pub ca_cert_path: Option<PathBuf>,
    /// PEM text of the CA certificates to trust for HTTPS.
    #[serde(default)]
    pub ca_cert_bytes: Option<String>,
    /// Skip TLS certificate verification (tests only).
    #[serde(default)]
    pub insecure_skip_tls: bool,
    /// Bounds on every network operation of a sync attempt.
    #[serde(default)]
    pub timeouts: FetchTimeouts,
    /// Serve a commit even when it removes every flag of an environment (or more than
    /// `max_flag_loss_percent` of them); off by default, such a commit is rejected.
    #[serde(default)]
    pub allow_flag_loss: bool,
    /// The share of an environment's flags (0–100 %) one commit may remove before it is
    /// rejected; default 100: only a commit that leaves no flag at all is rejected.
    #[serde(default = "default_max_flag_loss")]
    pub max_flag_loss_percent: u8,
    /// Test hook: a sync cycle panics when the fetched commit's message contains this text.
    #[doc(hidden)]
    #[serde(skip)]
    pub fault_panic_on_commit_message: Option<String>,
}

fn default_max_flag_loss() -> u8 {
    100
}

/// Time and speed bounds of one sync attempt, for HTTPS, SSH and `file://` alike.
///
/// Defaults fit the default 30 s poll: `connect: 10s`, `read: 20s`, `low_speed_limit: 1024`
/// (bytes per second) over `low_speed_time: 20s`, `total: 60s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchTimeouts {
    /// Establishing the connection (TCP and TLS; ssh's `ConnectTimeout`).
    #[serde(deserialize_with = "deserialize_duration")]
    pub connect: Duration,
    /// Waiting for the first byte of an answer, and for any byte after it (ssh: keep-alives
    /// unanswered for this long).
    #[serde(deserialize_with = "deserialize_duration")]
    pub read: Duration,
    /// Bytes per second below which a transfer counts as stalled…
    pub low_speed_limit: u64,
    /// …when it stays below the limit for this long.
    #[serde(deserialize_with = "deserialize_duration")]
    pub low_speed_time: Duration,
    /// The whole attempt, however it is going.
    #[serde(deserialize_with = "deserialize_duration")]
    pub total: Duration,
}

impl Default for FetchTimeouts {
    fn default() -> Self {
        FetchTimeouts {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(20),
            low_speed_limit: 1024,
            low_speed_time: Duration::from_secs(20),
            total: Duration::from_secs(60),
        }
    }
}

impl StorageConfig {
    /// A storage following `branch` of `remote` with every other setting at its default.
    pub fn remote(remote: impl Into<String>) -> Self {
        StorageConfig {
            remote: Some(remote.into()),
            ..StorageConfig::default()
        }
    }

    /// A plain directory, re-read when it changes (development mode).
    pub fn local_directory(path: impl Into<PathBuf>) -> Self {
        StorageConfig {
            local_path: Some(path.into()),
            ..StorageConfig::default()
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            remote: None,
            local_path: None,
            upstream: None,
            branch: default_branch(),
            tag: None,
            commit: None,
            poll_interval: DEFAULT_POLL_INTERVAL,
            fetch_policy: FetchPolicy::default(),
            backend: BackendConfig::default(),
            credentials: None,
            ca_cert_path: None,
            ca_cert_bytes: None,
            insecure_skip_tls: false,
            timeouts: FetchTimeouts::default(),
            allow_flag_loss: false,
            max_flag_loss_percent: default_max_flag_loss(),
            fault_panic_on_commit_message: None,
        }
    }
}

fn default_branch() -> String {
    "main".to_string()
}

fn default_poll_interval() -> Duration {
    DEFAULT_POLL_INTERVAL
}

/// Flipt's `fetch_policy`: what a failing first fetch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchPolicy {
    /// The first fetch failing makes startup fail with the error (Flipt's default).
    #[default]
    Strict,
    /// Start from the local copy (local backend) or empty, with the error in the status.
    Lenient,
}

/// Where a storage keeps its bare repository.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// `memory` (a temporary directory removed on drop) or `local` (kept at `path`).
    #[serde(rename = "type", default)]
    pub kind: BackendKind,
    /// Directory of the bare repository for the `local` backend.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

impl BackendConfig {
    /// The `local` backend at `path`.
    pub fn local(path: impl Into<PathBuf>) -> Self {
        BackendConfig {
            kind: BackendKind::Local,
            path: Some(path.into()),
        }
    }
}

/// The two backends of Flipt v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Nothing kept once the process ends.
    #[default]
    Memory,
    /// The repository and the last good commit stay on disk.
    Local,
}

/// One environment: a storage and a directory inside it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Storage id (default `default`).
    #[serde(default = "default_storage")]
    pub storage: String,
    /// Sub-directory of the repository that is this environment's root.
    #[serde(default)]
    pub directory: String,
    /// Whether this is the default environment.
    #[serde(default)]
    pub default: bool,
    /// Which Flipt generation's rule finds the flag files (default Flipt v1's); set from the
    /// configuration file's shape, never written in it.
    #[serde(skip)]
    pub discovery: Discovery,
}

impl EnvironmentConfig {
    /// An environment on `storage` rooted at `directory`, with Flipt v1's discovery.
    pub fn new(storage: impl Into<String>, directory: impl Into<String>) -> Self {
        EnvironmentConfig {
            storage: storage.into(),
            directory: directory.into(),
            default: false,
            discovery: Discovery::default(),
        }
    }
}

fn default_storage() -> String {
    "default".to_string()
}

/// Named credentials, tagged by `type` as in Flipt v2.
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialsConfig {
    /// HTTP basic auth.
    Basic {
        /// Username and password.
        basic: BasicAuth,
    },
    /// An access token sent the Flipt v2 way: basic auth with username `x-token-auth`.
    AccessToken {
        /// The token.
        access_token: String,
    },
    /// An `Authorization: Bearer` header (Flipt v1 `authentication.token`).
    Bearer {
        /// The token.
        bearer_token: String,
    },
    /// SSH with a private key.
    Ssh {
        /// Key, user and host key policy.
        ssh: SshAuth,
    },
}

impl fmt::Debug for CredentialsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // never print secrets
        match self {
            CredentialsConfig::Basic { basic } => write!(
                f,
                "Basic {{ username: {:?}, password: \"***\" }}",
                basic.username
            ),
            CredentialsConfig::AccessToken { .. } => f.write_str("AccessToken { *** }"),
            CredentialsConfig::Bearer { .. } => f.write_str("Bearer { *** }"),
            CredentialsConfig::Ssh { ssh } => write!(
                f,
                "Ssh {{ user: {:?}, private_key_path: {:?}, insecure_ignore_host_key: {} }}",
                ssh.user, ssh.private_key_path, ssh.insecure_ignore_host_key
            ),
        }
    }
}

/// Username and password for HTTP basic auth.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// SSH key authentication.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshAuth {
    /// Remote user (default `git`); a user in the URL wins.
    #[serde(default = "default_ssh_user")]
    pub user: String,
    /// Passphrase of the private key, if it is encrypted.
    #[serde(default)]
    pub password: Option<String>,
    /// Path of the private key.
    #[serde(default)]
    pub private_key_path: Option<PathBuf>,
    /// The private key itself (OpenSSH PEM text).
    #[serde(default)]
    pub private_key_bytes: Option<String>,
    /// A known_hosts file to check the host key against (default: ssh's own files).
    #[serde(default)]
    pub known_hosts_path: Option<PathBuf>,
    /// Accept any host key. Only by explicit choice.
    #[serde(default)]
    pub insecure_ignore_host_key: bool,
}

fn default_ssh_user() -> String {
    "git".to_string()
}

/// A configuration mistake found before anything is fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// An environment names a storage that does not exist.
    #[error("missing storage for name {storage:?} (environment {environment:?})")]
    MissingStorage {
        /// Environment key.
        environment: String,
        /// Storage id it names.
        storage: String,
    },
    /// A storage names credentials that do not exist.
    #[error("credential {0:?} not found")]
    MissingCredentials(String),
    /// Poll interval below one second.
    #[error("storage {0:?}: poll interval must be at least 1 second")]
    PollInterval(String),
    /// A zero timeout, or one that does not fit in the total.
    #[error("storage {0:?}: timeouts.{1}")]
    Timeouts(String, &'static str),
    /// `max_flag_loss_percent` above 100.
    #[error("storage {0:?}: max_flag_loss_percent must be between 0 and 100")]
    FlagLoss(String),
    /// Both CA forms given.
    #[error("storage {0:?}: please provide only one of ca_cert_path or ca_cert_bytes")]
    CaCert(String),
    /// A remote URL gix cannot read.
    #[error("storage {0:?}: {1}")]
    Remote(String, String),
    /// Neither or both of `remote` and `local_path`.
    #[error("storage {0:?}: exactly one of remote or local_path is required")]
    Source(String),
    /// Both `tag` and `commit`, or a malformed commit id.
    #[error("storage {0:?}: {1}")]
    Reference(String, String),
    /// A `local` backend without a path.
    #[error("storage {0:?}: local backend requires a path")]
    BackendPath(String),
    /// SSH key given zero or two times.
    #[error(
        "credential {0:?}: please provide exclusively one of private_key_bytes or private_key_path"
    )]
    SshKey(String),
    /// Two environments on one storage and directory.
    #[error("environments [{0}, {1}] share the same storage {2:?} and directory {3:?}")]
    SharedDirectory(String, String, String, String),
    /// More than one default environment.
    #[error("only one environment can be default")]
    SeveralDefaults,
    /// No environments at all.
    #[error("no environments configured")]
    NoEnvironments,
}

impl SyncConfig {
    /// Checks references between the maps and Flipt's field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.environments.is_empty() {
            return Err(ConfigError::NoEnvironments);
        }
        for (id, s) in &self.storage {
            let sources = [
                s.remote.is_some(),
                s.local_path.is_some(),
                s.upstream.is_some(),
            ];
            if sources.iter().filter(|x| **x).count() != 1 {
                return Err(ConfigError::Source(id.clone()));
            }
            if let Some(remote) = &s.remote
                && let Err(e) = crate::remote_url::RemoteUrl::parse(remote)
            {
                return Err(ConfigError::Remote(id.clone(), e.to_string()));
            }
            if s.poll_interval < MIN_POLL_INTERVAL {
                return Err(ConfigError::PollInterval(id.clone()));
            }
            let t = &s.timeouts;
            if t.connect.is_zero() || t.read.is_zero() || t.total.is_zero() {
                return Err(ConfigError::Timeouts(
                    id.clone(),
                    "connect, read and total must be more than 0s",
                ));
            }
            if t.low_speed_limit > 0 && t.low_speed_time.is_zero() {
                return Err(ConfigError::Timeouts(
                    id.clone(),
                    "low_speed_time must be more than 0s when low_speed_limit is set",
                ));
            }
            if s.max_flag_loss_percent > 100 {
                return Err(ConfigError::FlagLoss(id.clone()));
            }
            if s.ca_cert_path.is_some() && s.ca_cert_bytes.is_some() {
                return Err(ConfigError::CaCert(id.clone()));
            }
            if s.tag.is_some() && s.commit.is_some() {
                return Err(ConfigError::Reference(
                    id.clone(),
                    "please provide only one of tag or commit".into(),
                ));
            }
            if let Some(c) = &s.commit
                && (c.len() != 40 || !c.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(ConfigError::Reference(
                    id.clone(),
                    format!("commit {c:?} is not a 40-hex commit id"),
                ));
            }
            if s.backend.kind == BackendKind::Local
                && s.backend
                    .path
                    .as_deref()
                    .is_none_or(|p| p.as_os_str().is_empty())
            {
                return Err(ConfigError::BackendPath(id.clone()));
            }
            if let Some(name) = &s.credentials {
                match self.credentials.get(name) {
                    None => return Err(ConfigError::MissingCredentials(name.clone())),
                    Some(CredentialsConfig::Ssh { ssh }) => {
                        if ssh.private_key_path.is_some() == ssh.private_key_bytes.is_some() {
                            return Err(ConfigError::SshKey(name.clone()));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        let mut seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut defaults = 0;
        for (key, e) in &self.environments {
            if !self.storage.contains_key(&e.storage) {
                return Err(ConfigError::MissingStorage {
                    environment: key.clone(),
                    storage: e.storage.clone(),
                });
            }
            let dir = e.directory.trim_matches('/');
            if let Some(other) = seen.insert((e.storage.as_str(), dir), key.as_str()) {
                return Err(ConfigError::SharedDirectory(
                    other.into(),
                    key.clone(),
                    e.storage.clone(),
                    dir.into(),
                ));
            }
            defaults += usize::from(e.default);
        }
        if defaults > 1 {
            return Err(ConfigError::SeveralDefaults);
        }
        Ok(())
    }
}

/// Parses `"30s"`, `"1m"`, `"1m30s"`, `"500ms"`, `"1h"` (Go-style durations as Flipt writes them).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(Duration::try_from_secs_f64(value * factor).ok()?)?;
    }
    Some(total)
}

/// Formats a duration the way Flipt prints it: `30s`, `1m30s`, `500ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(u64),
    }
    match Raw::deserialize(d)? {
        Raw::Seconds(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid duration {t:?}"))),
    }
}

#[cfg(test)]
mod tests;
