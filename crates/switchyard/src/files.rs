//! Reading flag files from the local file system into `SourceFile`s.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use switchyard_core::{INDEX_FILE, Limits, SourceFile, discover};

/// The flag files of one root directory, with paths relative to it, or diagnostics from a bad index.
pub enum Loaded {
    /// The selected files.
    Files(Vec<SourceFile>),
    /// The `.flipt.yml` index is invalid.
    BadIndex(switchyard_core::Diagnostics),
}

/// Lists regular files below `root` (relative paths with `/`), skipping `.git`; symlinks are refused.
fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ft = e
            .file_type()
            .with_context(|| format!("reading {}", e.path().display()))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() || ft.is_symlink() {
            out.push(path);
        }
    }
    Ok(())
}

fn read_limited(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let meta = fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.file_type().is_symlink() {
        bail!(
            "{} is a symbolic link; flag files must be regular files",
            path.display()
        );
    }
    if meta.len() > limits.max_file_bytes as u64 {
        bail!(
            "{} is {} bytes; the limit is {} bytes",
            path.display(),
            meta.len(),
            limits.max_file_bytes
        );
    }
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Loads the flag files below `root` as Flipt would discover them.
pub fn load_dir(root: &Path, limits: &Limits) -> Result<Loaded> {
    let mut all = Vec::new();
    walk(root, "", &mut all)?;
    let index = if all.iter().any(|p| p == INDEX_FILE) {
        Some(SourceFile::new(
            INDEX_FILE,
            read_limited(&root.join(INDEX_FILE), limits)?,
        ))
    } else {
        None
    };
    let chosen = match discover(all.iter().map(String::as_str), index.as_ref(), limits) {
        Ok(c) => c,
        Err(d) => return Ok(Loaded::BadIndex(d)),
    };
    let mut files = Vec::with_capacity(chosen.len());
    for rel in chosen {
        let contents = read_limited(&root.join(&rel), limits)?;
        files.push(SourceFile::new(rel, contents));
    }
    Ok(Loaded::Files(files))
}

/// Display form of a file path below `root`.
pub fn display_path(root: &Path, rel: &str) -> String {
    if root == Path::new(".") {
        rel.to_string()
    } else {
        PathBuf::from(root).join(rel).to_string_lossy().into_owned()
    }
}
