//! Pack housekeeping: every fetch leaves one pack and gix has no gc, so past [`PACK_LIMIT`]
//! packs they are merged with `git repack`.

use super::{GitSource, PACK_LIMIT, configure, open_or_init};

impl GitSource {
    /// Every fetch leaves one pack and gix has no gc: past [`PACK_LIMIT`] packs, merge them
    /// with `git repack` when the git CLI is installed (it is wherever `file://` works).
    pub(super) fn compact_packs(&mut self) {
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
}
