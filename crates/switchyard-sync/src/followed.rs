//! What each environment follows, as the sync runs it: one description for everything outside
//! the sync (the API's environment list, webhook matching), so nothing re-derives it from the
//! configuration.

use std::path::PathBuf;

use crate::config::{ConfigError, SyncConfig};
use crate::git::Reference;
use crate::remote_url::RemoteUrl;

/// Where an environment's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A Git remote and what is followed on it.
    Remote {
        /// The remote.
        url: RemoteUrl,
        /// The branch, tag or commit.
        reference: Reference,
    },
    /// A plain directory (`local_path`).
    Directory(PathBuf),
    /// Another Switchyard's relay stream (relay mode), by its URL without credentials.
    Upstream(String),
    /// Snapshots handed to the sync ([`crate::SyncHandle::fixed`]), never fetched.
    Given,
}

/// One environment of the running sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    /// Environment key.
    pub key: String,
    /// Whether it is the default environment (the only one is).
    pub default: bool,
    /// Storage id.
    pub storage: String,
    /// Where its files come from.
    pub origin: Origin,
    /// Sub-directory of the repository that is its root.
    pub directory: String,
}

/// A push a Git host reported through a webhook.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// Every URL the payload gives for the repository (clone, ssh, html).
    pub repository_urls: &'a [&'a str],
    /// `owner/name`, when the payload has it.
    pub full_name: Option<&'a str>,
    /// The pushed ref, `refs/heads/main` or `refs/tags/v1`.
    pub git_ref: &'a str,
}

impl Followed {
    /// Every environment of `config`, in key order; the errors are those of
    /// [`SyncConfig::validate`].
    pub fn all(config: &SyncConfig) -> Result<Vec<Followed>, ConfigError> {
        let only = config.environments.len() == 1;
        config
            .environments
            .iter()
            .map(|(key, e)| {
                let storage =
                    config
                        .storage
                        .get(&e.storage)
                        .ok_or_else(|| ConfigError::MissingStorage {
                            environment: key.clone(),
                            storage: e.storage.clone(),
                        })?;
                let origin = match (&storage.remote, &storage.local_path) {
                    _ if storage.upstream.is_some() => {
                        Origin::Upstream(storage.upstream.clone().unwrap_or_default())
                    }
                    (Some(remote), _) => Origin::Remote {
                        url: RemoteUrl::parse(remote).map_err(|err| {
                            ConfigError::Remote(e.storage.clone(), err.to_string())
                        })?,
                        reference: Reference::from_config(storage).map_err(|err| {
                            ConfigError::Reference(e.storage.clone(), err.to_string())
                        })?,
                    },
                    (None, Some(path)) => Origin::Directory(path.clone()),
                    (None, None) => return Err(ConfigError::Source(e.storage.clone())),
                };
                Ok(Followed {
                    key: key.clone(),
                    default: e.default || only,
                    storage: e.storage.clone(),
                    origin,
                    directory: e.directory.clone(),
                })
            })
            .collect()
    }

    /// The remote without credentials, if the files come from one.
    pub fn remote(&self) -> Option<String> {
        match &self.origin {
            Origin::Remote { url, .. } => Some(url.redacted()),
            Origin::Directory(_) | Origin::Given | Origin::Upstream(_) => None,
        }
    }

    /// The upstream Switchyard followed in relay mode, without credentials.
    pub fn upstream(&self) -> Option<&str> {
        match &self.origin {
            Origin::Upstream(url) => Some(url),
            _ => None,
        }
    }

    /// The branch followed, if a branch is.
    pub fn branch(&self) -> Option<&str> {
        match &self.origin {
            Origin::Remote {
                reference: Reference::Branch(b),
                ..
            } => Some(b),
            _ => None,
        }
    }

    /// What is followed: the branch name, `tag v1` or `commit <sha>` (empty for a directory).
    pub fn reference_label(&self) -> String {
        match &self.origin {
            Origin::Remote { reference, .. } => reference.label(),
            Origin::Directory(_) | Origin::Given | Origin::Upstream(_) => String::new(),
        }
    }

    /// Whether `push` moved what this environment follows: the same repository (by any of
    /// its URLs, or by `owner/name`) and its branch or tag. A pinned commit never matches.
    pub fn matches_push(&self, push: &Push<'_>) -> bool {
        let Origin::Remote { url, reference } = &self.origin else {
            return false;
        };
        let id = url.repository_id();
        let same_repository = push
            .repository_urls
            .iter()
            .filter(|u| !u.is_empty())
            .filter_map(|u| RemoteUrl::parse(u).ok())
            .any(|u| u.repository_id() == id)
            || push
                .full_name
                .is_some_and(|name| id.ends_with(&format!("/{}", name.to_ascii_lowercase())));
        let same_ref = match reference {
            Reference::Branch(b) => push.git_ref.strip_prefix("refs/heads/") == Some(b),
            Reference::Tag(t) => push.git_ref.strip_prefix("refs/tags/") == Some(t),
            Reference::Commit(_) => false,
        };
        same_repository && same_ref
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvironmentConfig, StorageConfig};

    fn followed(remote: &str, branch: Option<&str>, tag: Option<&str>) -> Followed {
        let mut storage = StorageConfig::remote(remote);
        if let Some(b) = branch {
            storage.branch = b.into();
        }
        storage.tag = tag.map(Into::into);
        let mut config = SyncConfig::default();
        config.storage.insert("s".into(), storage);
        config
            .environments
            .insert("prod".into(), EnvironmentConfig::new("s", "prod"));
        let mut all = Followed::all(&config).expect("valid");
        all.remove(0)
    }

    #[test]
    fn an_environment_says_what_it_follows() {
        let f = followed(
            "https://u:tok@github.com/acme/flags.git",
            Some("main"),
            None,
        );
        assert!(f.default, "the only environment is the default");
        assert_eq!(
            f.remote().as_deref(),
            Some("https://github.com/acme/flags.git")
        );
        assert_eq!(f.reference_label(), "main");
        assert_eq!(f.branch(), Some("main"));
        assert_eq!(f.directory, "prod");
        let t = followed("git@github.com:acme/flags.git", None, Some("v1"));
        assert_eq!(t.reference_label(), "tag v1");
        assert_eq!(t.branch(), None);
    }

    #[test]
    fn a_push_matches_by_repository_and_reference() {
        let branch = followed("git@github.com:Acme/flags.git", Some("main"), None);
        let tag = followed("https://github.com/acme/flags", None, Some("v1.2"));
        let push = |urls: &'static [&'static str], name, r| Push {
            repository_urls: urls,
            full_name: name,
            git_ref: r,
        };
        let urls: &[&str] = &["https://github.com/acme/flags.git", ""];
        assert!(branch.matches_push(&push(urls, None, "refs/heads/main")));
        assert!(!branch.matches_push(&push(urls, None, "refs/heads/dev")));
        assert!(!branch.matches_push(&push(urls, None, "refs/tags/main")));
        assert!(tag.matches_push(&push(urls, None, "refs/tags/v1.2")));
        assert!(!tag.matches_push(&push(urls, None, "refs/tags/v1.20")));
        assert!(!tag.matches_push(&push(urls, None, "refs/heads/v1.2")));
        let other: &[&str] = &["https://github.com/acme/other.git"];
        assert!(!branch.matches_push(&push(other, None, "refs/heads/main")));
        assert!(branch.matches_push(&push(other, Some("ACME/flags"), "refs/heads/main")));
        assert!(!branch.matches_push(&push(&[], Some("me/flags"), "refs/heads/main")));
    }
}
