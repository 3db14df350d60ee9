//! Switchyard's git sync layer: follows a branch, tag or pinned commit of a git remote (or a
//! plain directory), validates every new commit with `switchyard-core`, and publishes each
//! environment's last good [`switchyard_core::Environment`] with status and history.
//!
//! Flow: [`SyncHandle::start`] opens each storage's bare repository ([`git`]), runs the first
//! sync under its [`config::FetchPolicy`], then one poll loop per storage ([`poll`]) fetches,
//! reads the environment's files from the commit tree ([`tree`]), compiles them and swaps the
//! result in atomically. Readers never block and never see a partial snapshot. An invalid
//! commit is never served; the reason goes to [`status`] and [`history`], the change to
//! subscribers with core's semantic [`diff`](mod@switchyard_core::diff). This crate does not
//! serve HTTP and writes no wire format (the server makes the JSON). It writes no credentials
//! to disk. The one exception is an inline ssh key or a key passphrase, which goes to a 0600
//! file in a private temporary directory that is removed on drop.

pub mod at_commit;
pub mod break_glass;
pub mod config;
pub mod dir;
pub mod error;
pub mod fed;
pub mod followed;
pub mod git;
pub mod history;
pub mod poll;
pub mod redact;
pub mod remote_url;
pub mod status;
pub mod tree;

pub use config::{
    BackendConfig, BackendKind, BasicAuth, ConfigError, CredentialsConfig, EnvironmentConfig,
    FetchPolicy, FetchTimeouts, SshAuth, StorageConfig, SyncConfig,
};
pub use error::{ErrorClass, SyncError};
pub use fed::{FedFiles, FedRevision};
pub use followed::{Followed, Origin, Push};
pub use git::{CommitInfo, GitSource, Reference};
pub use history::{Attempt, History, Outcome};
pub use poll::{ChangeEvent, StartError, SyncHandle};
pub use remote_url::{RemoteUrl, redact_url};
pub use status::{DiscoveryStatus, SyncState, SyncStatus, UpstreamStatus, ValidationError};
pub use tree::EnvFiles;
