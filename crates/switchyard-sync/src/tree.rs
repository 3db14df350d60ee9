//! Reads one environment's flag files straight from a commit's tree (no work tree, no index).
//!
//! All blob paths below the environment's directory are listed, the core's `discover` picks the
//! flag files by the environment's [`Discovery`] rule (reading its root file first: `.flipt.yml`
//! for Flipt v1, `flipt.yaml`/`flipt.yml` for Flipt v2), and only those blobs are read. Sizes
//! are checked from the object header before a blob is loaded, so an oversized file is refused
//! without reading it. Symlinks are never followed: a symlink where a flag file is expected is
//! reported with its target.

use gix::ObjectId;
use gix::bstr::ByteSlice;
use switchyard_core::{
    Diagnostic, Diagnostics, Discovered, Discovery, Limits, Pos, SourceFile, discover,
};

use crate::error::{SyncError, chain};

/// An environment's flag files as read, and what discovery chose.
#[derive(Debug, Clone, Default)]
pub struct EnvFiles {
    /// The flag files, in [`Discovered::files`] order.
    pub files: Vec<SourceFile>,
    /// The rule used, the root file it read and the paths chosen.
    pub discovered: Discovered,
}

impl EnvFiles {
    /// No files: a missing environment directory, as in Flipt.
    pub(crate) fn none(rules: Discovery) -> Self {
        EnvFiles {
            files: Vec::new(),
            discovered: Discovered {
                rules,
                ..Discovered::default()
            },
        }
    }
}

/// Reads the flag files of the environment rooted at `directory` in `commit`, chosen by `rules`.
///
/// Content problems (oversize, symlinks, a bad `.flipt.yml` or `flipt.yaml`) come back as
/// [`SyncError::Invalid`]; a missing directory is an empty environment, as in Flipt.
pub fn read_files(
    repo: &gix::Repository,
    commit: ObjectId,
    directory: &str,
    rules: Discovery,
    limits: &Limits,
) -> Result<EnvFiles, SyncError> {
    let io = |what: &str, e: &(dyn std::error::Error + 'static)| {
        SyncError::local(&format!("reading {what} of commit {commit}"), chain(e))
    };
    let commit_obj = repo.find_commit(commit).map_err(|e| io("the commit", &e))?;
    let root = commit_obj.tree().map_err(|e| io("the tree", &e))?;
    let dir = directory.trim_matches('/');
    let tree = if dir.is_empty() {
        root
    } else {
        match root.lookup_entry_by_path(dir).map_err(|e| io(dir, &e))? {
            Some(entry) if entry.mode().is_tree() => {
                entry.object().map_err(|e| io(dir, &e))?.into_tree()
            }
            Some(_) => {
                return Err(SyncError::Invalid(one(
                    dir,
                    "",
                    format!("environment directory {dir:?} is not a directory"),
                )));
            }
            None => return Ok(EnvFiles::none(rules)),
        }
    };
    let mut rec = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut rec)
        .map_err(|e| io("the tree", &e))?;
    let mut entries: Vec<(String, gix::objs::tree::EntryMode, ObjectId)> = Vec::new();
    for r in rec.records {
        if r.mode.is_tree() || r.mode.is_commit() {
            continue;
        }
        let path = r.filepath.to_str_lossy().into_owned();
        entries.push((path, r.mode, r.oid));
    }
    let blob = |name: &str| {
        entries
            .iter()
            .find(|(p, m, _)| p == name && m.is_blob())
            .map(|(_, _, oid)| *oid)
    };
    let root_file = match rules.root_file(|name| blob(name).is_some()) {
        Some(name) => match blob(name) {
            Some(oid) => Some(read_blob(repo, name, oid, limits)?),
            None => None,
        },
        None => None,
    };
    let discovered = discover(
        rules,
        entries.iter().map(|(p, _, _)| p.as_str()),
        root_file.as_ref(),
        limits,
    )
    .map_err(SyncError::Invalid)?;
    check_file_count(&discovered.files, limits)?;
    let mut problems = Vec::new();
    let mut files = Vec::with_capacity(discovered.files.len());
    let mut total = 0usize;
    for path in &discovered.files {
        let Some((_, mode, oid)) = entries.iter().find(|(p, _, _)| p == path) else {
            continue;
        };
        if mode.is_link() {
            let target = repo
                .find_blob(*oid)
                .map(|b| b.data.to_str_lossy().into_owned())
                .unwrap_or_default();
            problems.push(symlink_diagnostic(path, &target, dir));
            continue;
        }
        match read_blob(repo, path, *oid, limits) {
            Ok(f) => {
                total += f.contents.len();
                if total > limits.max_total_bytes {
                    problems.push(Diagnostic::new(
                        path,
                        Pos::new(1, 1),
                        "",
                        format!(
                            "flag files exceed {} bytes in total (limit)",
                            limits.max_total_bytes
                        ),
                    ));
                    break;
                }
                files.push(f);
            }
            Err(SyncError::Invalid(d)) => problems.extend(d),
            Err(e) => return Err(e),
        }
    }
    if problems.is_empty() {
        Ok(EnvFiles { files, discovered })
    } else {
        Err(SyncError::Invalid(Diagnostics::from_vec(problems)))
    }
}

fn read_blob(
    repo: &gix::Repository,
    path: &str,
    oid: ObjectId,
    limits: &Limits,
) -> Result<SourceFile, SyncError> {
    let header = repo
        .find_header(oid)
        .map_err(|e| SyncError::local(&format!("reading {path}"), chain(&e)))?;
    let size = header.size();
    if let Some(message) = limits.file_size_error(size) {
        return Err(SyncError::Invalid(one(path, "", message)));
    }
    let mut blob = repo
        .find_blob(oid)
        .map_err(|e| SyncError::local(&format!("reading {path}"), chain(&e)))?;
    Ok(SourceFile::new(path, blob.take_data()))
}

/// The diagnostic for a symlink where a flag file is expected.
pub(crate) fn symlink_diagnostic(path: &str, target: &str, env_dir: &str) -> Diagnostic {
    let outside = points_outside(path, target, env_dir);
    let message = if outside {
        format!("symlink to {target:?} points outside the repository; symlinks are not followed")
    } else {
        format!("symlink to {target:?}; symlinks are not followed, commit the file itself")
    };
    Diagnostic::new(path, Pos::new(1, 1), "", message)
}

/// Whether `target`, relative to the symlink at `path` (below `env_dir`), leaves the repository.
fn points_outside(path: &str, target: &str, env_dir: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut stack: Vec<&str> = env_dir.split('/').filter(|s| !s.is_empty()).collect();
    stack.extend(path.split('/').filter(|s| !s.is_empty()));
    stack.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return true;
                }
            }
            p => stack.push(p),
        }
    }
    false
}

fn one(file: &str, path: &str, message: String) -> Diagnostics {
    Diagnostics::from_vec(vec![Diagnostic::new(file, Pos::new(1, 1), path, message)])
}

/// Refuses more flag files than `limits.max_files`, before any is read.
pub(crate) fn check_file_count(chosen: &[String], limits: &Limits) -> Result<(), SyncError> {
    if chosen.len() <= limits.max_files {
        return Ok(());
    }
    let first_over = chosen.get(limits.max_files).cloned().unwrap_or_default();
    Err(SyncError::Invalid(Diagnostics::from_vec(vec![
        Diagnostic::new(
            first_over,
            Pos::new(1, 1),
            "",
            format!(
                "more than {} flag files (limit); none read",
                limits.max_files
            ),
        ),
    ])))
}

#[cfg(test)]
mod tests {
    use super::points_outside;

    #[test]
    fn symlink_targets() {
        assert!(points_outside("features.yaml", "/etc/passwd", ""));
        assert!(points_outside("features.yaml", "../x", ""));
        assert!(!points_outside("a/features.yaml", "../b.yaml", ""));
        assert!(points_outside("features.yaml", "../../x", "prod"));
        assert!(!points_outside("features.yaml", "../x", "prod"));
    }
}
