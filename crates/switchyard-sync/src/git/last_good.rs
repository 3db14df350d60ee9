//! The local backend's record of each environment's last good commit, so a restart serves it
//! at once.

use gix::ObjectId;

use super::{GitSource, LAST_GOOD_FILE};
use crate::error::SyncError;

impl GitSource {
    /// Reads the last good commit recorded for `environment`, if its objects are still here.
    pub fn last_good(&self, environment: &str) -> Option<ObjectId> {
        let text = std::fs::read_to_string(self.git_dir.join(LAST_GOOD_FILE)).ok()?;
        let repo = self.repo();
        text.lines().find_map(|line| {
            let (sha, env) = line.split_once(' ')?;
            if env != environment {
                return None;
            }
            let id = ObjectId::from_hex(sha.as_bytes()).ok()?;
            repo.has_object(id).then_some(id)
        })
    }

    /// Records `commit` as the last good commit of `environment` (write to a temp file, rename).
    pub fn record_last_good(&self, environment: &str, commit: ObjectId) -> Result<(), SyncError> {
        let path = self.git_dir.join(LAST_GOOD_FILE);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut out: String = old
            .lines()
            .filter(|l| l.split_once(' ').is_none_or(|(_, e)| e != environment))
            .map(|l| format!("{l}\n"))
            .collect();
        out.push_str(&format!("{commit} {environment}\n"));
        let tmp = self.git_dir.join(format!("{LAST_GOOD_FILE}.tmp"));
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| SyncError::local("recording the last good commit", e))
    }
}
