//! Reading flag files from the local file system with the sync's directory loader (the one
//! `serve` uses for `local_path`: symlinks inside the root followed, others refused), skipping
//! build output (`target/`, `node_modules/`) and whatever Git ignores there.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use switchyard_core::{Diagnostics, Discovery, Limits};
use switchyard_sync::EnvFiles;
use switchyard_sync::dir::DirSource;
use switchyard_sync::error::SyncError;

use crate::cli::{DiscoveryArgs, Rules};

/// Directory names never searched: build output and installed packages.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// How long `git ls-files` may take to list the ignored paths.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The flag files of one root directory, with paths relative to it, or their problems.
pub enum Loaded {
    /// The selected files, and what discovery chose.
    Files(EnvFiles),
    /// A bad `.flipt.yml` index, a symlink leaving the root, a file over the size limit.
    Invalid(Diagnostics),
}

/// The rule `args` choose: `--discovery`, else the shape of `--config`, else Flipt v1's.
pub fn discovery(args: &DiscoveryArgs) -> Result<Discovery> {
    if let Some(rules) = args.discovery {
        return Ok(match rules {
            Rules::FliptV1 => Discovery::FliptV1,
            Rules::FliptV2 => Discovery::FliptV2,
        });
    }
    match &args.config {
        Some(path) => {
            let env: Vec<(String, String)> = std::env::vars().collect();
            let format = crate::config::format_of(path, &env)
                .with_context(|| format!("reading the shape of {}", path.display()))?;
            Ok(format.discovery())
        }
        None => Ok(Discovery::FliptV1),
    }
}

/// Loads the flag files below `root` as Flipt would discover them by `rules`.
pub fn load_dir(root: &Path, rules: Discovery, limits: &Limits) -> Result<Loaded> {
    let ignored = git_ignored(root);
    let keep = |rel: &str, is_dir: bool| {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if is_dir {
            !SKIPPED_DIRS.contains(&name) && !ignored.contains(&format!("{rel}/"))
        } else {
            !ignored.contains(rel)
        }
    };
    match DirSource::new(root).read_files_where("", rules, limits, &keep) {
        Ok(read) => Ok(Loaded::Files(read)),
        Err(SyncError::Invalid(d)) => Ok(Loaded::Invalid(d)),
        Err(e) => Err(anyhow!("{e}")),
    }
}

/// Paths below `root` that Git ignores (directories end with `/`); none outside a repository
/// or without `git`.
fn git_ignored(root: &Path) -> HashSet<String> {
    let child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return HashSet::new();
    };
    let Some(mut stdout) = child.stdout.take() else {
        return HashSet::new();
    };
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + GIT_TIMEOUT;
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !ok {
        return HashSet::new();
    }
    out.split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// Display form of a file path below `root`.
pub fn display_path(root: &Path, rel: &str) -> String {
    if root == Path::new(".") {
        rel.to_string()
    } else {
        PathBuf::from(root).join(rel).to_string_lossy().into_owned()
    }
}
