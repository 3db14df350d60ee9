//! A plain local directory as a source, without git (development mode).
//!
//! Each poll walks the directory and fingerprints every file's path, size and modification
//! time; only when the fingerprint moves are the flag files read and compiled again. Symlinks
//! that stay inside the directory are followed; any that leave it are refused.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use switchyard_core::{Diagnostic, Diagnostics, Discovery, Limits, Pos, SourceFile, discover};

use crate::error::SyncError;
use crate::tree::EnvFiles;

/// A directory tree read as-is.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// A source reading `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fingerprint of every file's path, size and modification time: it moves when anything changes.
    pub fn fingerprint(&self) -> Result<String, SyncError> {
        let mut h = DefaultHasher::new();
        let mut stack = vec![self.root.clone()];
        let mut seen = 0usize;
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| SyncError::Fetch {
                    class: crate::error::ErrorClass::NotFound,
                    remote: dir.display().to_string(),
                    message: e.to_string(),
                })?
                .filter_map(Result::ok)
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                if e.file_name() == ".git" {
                    continue;
                }
                let path = e.path();
                let meta = std::fs::metadata(&path).or_else(|_| std::fs::symlink_metadata(&path));
                let Ok(meta) = meta else { continue };
                path.hash(&mut h);
                meta.len().hash(&mut h);
                if let Ok(m) = meta.modified() {
                    m.hash(&mut h);
                }
                seen += 1;
                if meta.is_dir() && !e.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                    stack.push(path);
                }
            }
        }
        seen.hash(&mut h);
        Ok(format!("{:016x}", h.finish()))
    }

    /// Reads the flag files of the environment rooted at `directory` below the source's root,
    /// chosen by `rules` (the same rule as a Git tree's).
    pub fn read_files(
        &self,
        directory: &str,
        rules: Discovery,
        limits: &Limits,
    ) -> Result<EnvFiles, SyncError> {
        self.read_files_where(directory, rules, limits, &|_, _| true)
    }

    /// [`read_files`](Self::read_files), skipping every path (relative to the environment
    /// root, with `/`; `true` for a directory) for which `keep` is false.
    pub fn read_files_where(
        &self,
        directory: &str,
        rules: Discovery,
        limits: &Limits,
        keep: &dyn Fn(&str, bool) -> bool,
    ) -> Result<EnvFiles, SyncError> {
        let env_root = self.root.join(directory.trim_matches('/'));
        if !env_root.is_dir() {
            return Ok(EnvFiles::none(rules));
        }
        let canonical_root = self
            .root
            .canonicalize()
            .map_err(|e| SyncError::local(&format!("reading {}", self.root.display()), e))?;
        let mut paths = Vec::new();
        let mut stack = vec![env_root.clone()];
        while let Some(dir) = stack.pop() {
            let rd = std::fs::read_dir(&dir)
                .map_err(|e| SyncError::local(&format!("reading {}", dir.display()), e))?;
            for e in rd.filter_map(Result::ok) {
                if e.file_name() == ".git" {
                    continue;
                }
                let path = e.path();
                let is_link = e.file_type().map(|t| t.is_symlink()).unwrap_or(false);
                let is_dir = !is_link && path.is_dir();
                let Ok(rel) = path.strip_prefix(&env_root) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                if !keep(&rel, is_dir) {
                    continue;
                }
                if is_dir {
                    stack.push(path);
                } else {
                    paths.push(rel);
                }
            }
        }
        // Only a regular file counts, as only a blob does in a Git tree.
        let regular = |name: &str| {
            paths.iter().any(|p| p == name)
                && std::fs::symlink_metadata(env_root.join(name)).is_ok_and(|m| m.is_file())
        };
        let root_file = match rules.root_file(regular) {
            Some(name) => Some(read_root_file(&env_root, name, limits)?),
            None => None,
        };
        let discovered = discover(
            rules,
            paths.iter().map(String::as_str),
            root_file.as_ref(),
            limits,
        )
        .map_err(SyncError::Invalid)?;
        crate::tree::check_file_count(&discovered.files, limits)?;
        let mut problems = Vec::new();
        let mut files = Vec::new();
        for rel in &discovered.files {
            let full = env_root.join(rel);
            let link = std::fs::symlink_metadata(&full)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if link {
                let target = std::fs::read_link(&full)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                match full.canonicalize() {
                    Ok(c) if c.starts_with(&canonical_root) => {}
                    _ => {
                        problems.push(Diagnostic::new(
                            rel,
                            Pos::new(1, 1),
                            "",
                            format!("symlink to {target:?} points outside the directory; refused"),
                        ));
                        continue;
                    }
                }
            }
            let meta = std::fs::metadata(&full)
                .map_err(|e| SyncError::local(&format!("reading {}", full.display()), e))?;
            if let Some(message) = limits.file_size_error(meta.len()) {
                problems.push(Diagnostic::new(rel, Pos::new(1, 1), "", message));
                continue;
            }
            let bytes = std::fs::read(&full)
                .map_err(|e| SyncError::local(&format!("reading {}", full.display()), e))?;
            files.push(SourceFile::new(rel.clone(), bytes));
        }
        if problems.is_empty() {
            Ok(EnvFiles { files, discovered })
        } else {
            Err(SyncError::Invalid(Diagnostics::from_vec(problems)))
        }
    }
}

/// Reads the discovery rule's root file (`.flipt.yml`, `flipt.yaml`), its size checked first.
fn read_root_file(env_root: &Path, name: &str, limits: &Limits) -> Result<SourceFile, SyncError> {
    let path = env_root.join(name);
    let read_error =
        |e: std::io::Error| SyncError::local(&format!("reading {}", path.display()), e);
    let size = std::fs::metadata(&path).map_err(read_error)?.len();
    if let Some(message) = limits.file_size_error(size) {
        return Err(SyncError::Invalid(Diagnostics::from_vec(vec![
            Diagnostic::new(name, Pos::new(1, 1), "", message),
        ])));
    }
    let bytes = std::fs::read(&path).map_err(read_error)?;
    Ok(SourceFile::new(name, bytes))
}
