//! Compiling an environment at any commit of a local repository, from its objects alone (no
//! fetch): what `switchyard diff` compares and what the diff API serves for two commits of the
//! history.

use gix::ObjectId;
use switchyard_core::{
    Diagnostics, Discovery, Environment, ExtraChecks, Limits, compile_environment_with,
};

use crate::error::SyncError;
use crate::tree::read_files;

/// Why an environment could not be compiled at a commit.
#[derive(Debug, thiserror::Error)]
pub enum AtError {
    /// The revision names no commit of the repository.
    #[error("{spec:?} is not a commit of the repository: {reason}")]
    UnknownRevision {
        /// The revision as given.
        spec: String,
        /// Why it did not resolve.
        reason: String,
    },
    /// The commit is not one the environment's history holds.
    #[error(
        "commit {commit:?} is not in the history of environment {environment:?} (the last {window} attempts); pick one listed by /api/v1/sync/history"
    )]
    NotInHistory {
        /// Environment key.
        environment: String,
        /// The commit as given.
        commit: String,
        /// How many attempts the history keeps.
        window: usize,
    },
    /// The repository could not be opened.
    #[error("{path} is not a Git repository: {reason}")]
    Open {
        /// The path given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The environment is not known.
    #[error("environment {0:?} not found")]
    UnknownEnvironment(String),
    /// The environment has no Git repository (a directory, a given snapshot, a relay).
    #[error("environment {0:?} is not read from a Git repository of this server")]
    NoRepository(String),
    /// The files could not be read from the commit's tree.
    #[error("{0}")]
    Read(SyncError),
    /// The files at the commit do not compile.
    #[error("the flag files at {commit} are invalid: {first}")]
    Invalid {
        /// The commit.
        commit: String,
        /// The first diagnostic, in words.
        first: String,
        /// Every diagnostic.
        diagnostics: Diagnostics,
    },
}

/// What reading an environment at a commit needs besides the repository.
#[derive(Debug, Clone, Copy)]
pub struct ReadRules<'a> {
    /// Environment key given to the compiled environment.
    pub key: &'a str,
    /// The environment's directory in the tree (`""`: the root).
    pub directory: &'a str,
    /// The rule that finds its flag files.
    pub discovery: Discovery,
    /// Reader limits.
    pub limits: &'a Limits,
    /// What the extra checks do.
    pub extra_checks: ExtraChecks,
}

/// Opens the repository at `path` (a work tree or a bare repository) to read its objects.
pub fn open(path: &std::path::Path) -> Result<gix::Repository, AtError> {
    gix::open(path).map_err(|e| AtError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The commit `spec` names: a full or abbreviated SHA, `HEAD`, a branch, a tag or a remote
/// branch (`origin/main`), peeled to its commit.
pub fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId, AtError> {
    let unknown = |reason: String| AtError::UnknownRevision {
        spec: spec.to_string(),
        reason,
    };
    let id = if spec == "HEAD" {
        repo.head_id().map_err(|e| unknown(e.to_string()))?.detach()
    } else if let Some(id) = by_reference(repo, spec) {
        id
    } else if spec.len() == 40 {
        ObjectId::from_hex(spec.as_bytes()).map_err(|e| unknown(e.to_string()))?
    } else if (4..40).contains(&spec.len()) && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
        let prefix = gix::hash::Prefix::from_hex(spec).map_err(|e| unknown(e.to_string()))?;
        match repo.objects.lookup_prefix(prefix, None) {
            Ok(Some(Ok(id))) => id,
            Ok(Some(Err(()))) => return Err(unknown("the abbreviation is ambiguous".into())),
            Ok(None) => return Err(unknown("no such object".into())),
            Err(e) => return Err(unknown(e.to_string())),
        }
    } else {
        return Err(unknown(
            "no branch, tag or remote branch has this name, and it is no SHA".into(),
        ));
    };
    let object = repo
        .find_object(id)
        .map_err(|e| unknown(format!("no such object ({e})")))?;
    object
        .peel_to_commit()
        .map(|c| c.id)
        .map_err(|e| unknown(format!("not a commit ({e})")))
}

fn by_reference(repo: &gix::Repository, spec: &str) -> Option<ObjectId> {
    ["", "refs/heads/", "refs/tags/", "refs/remotes/"]
        .iter()
        .find_map(|prefix| {
            let mut r = repo.try_find_reference(&format!("{prefix}{spec}")).ok()??;
            r.peel_to_id().ok().map(|id| id.detach())
        })
}

/// The environment as the sync would compile it at `commit`, from the local objects; its
/// `revision` is the commit.
pub fn compile_at(
    repo: &gix::Repository,
    commit: ObjectId,
    rules: ReadRules<'_>,
) -> Result<Environment, AtError> {
    compile_at_with_files(repo, commit, rules).map(|(env, _)| env)
}

/// [`compile_at`], with the files read (what a pinned commit serves to relays).
pub fn compile_at_with_files(
    repo: &gix::Repository,
    commit: ObjectId,
    rules: ReadRules<'_>,
) -> Result<(Environment, crate::tree::EnvFiles), AtError> {
    let read =
        read_files(repo, commit, rules.directory, rules.discovery, rules.limits).map_err(|e| {
            match e {
                SyncError::Invalid(diagnostics) => invalid(commit, diagnostics),
                other => AtError::Read(other),
            }
        })?;
    let mut env =
        compile_environment_with(rules.key, &read.files, rules.limits, rules.extra_checks)
            .map_err(|d| invalid(commit, d))?;
    env.revision = Some(commit.to_string());
    Ok((env, read))
}

fn invalid(commit: ObjectId, diagnostics: Diagnostics) -> AtError {
    let first = diagnostics
        .iter()
        .next()
        .map(ToString::to_string)
        .unwrap_or_default();
    AtError::Invalid {
        commit: commit.to_string(),
        first,
        diagnostics,
    }
}
