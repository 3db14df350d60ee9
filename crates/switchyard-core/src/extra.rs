//! `ExtraChecks`: what the checks Switchyard adds beyond Flipt's own do when they find something.
//!
//! Flipt v2 serves some files that Switchyard refuses by default because Flipt evaluates them in
//! a way their author very likely did not mean (a threshold of 150 %, two default variants, a
//! `le` operator that never matches, a constraint value that does not parse and silently drops
//! its segment, …). Each such check is an *extra* check: under [`ExtraChecks::Error`] (the
//! default) it refuses the files; under [`ExtraChecks::Warn`] it becomes a warning and the
//! snapshot is built as Flipt v2.11 builds it, so a repository Flipt serves today is served the
//! same way. Flipt's own checks (its CUE schema, unknown references) refuse the files in both.

/// How the checks Switchyard adds beyond Flipt's own report what they find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExtraChecks {
    /// Refuse the files (the default: nothing ambiguous is served).
    #[default]
    Error,
    /// Serve the files as Flipt would, with each finding as a warning.
    Warn,
}

impl ExtraChecks {
    /// The configuration spelling: `error` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtraChecks::Error => "error",
            ExtraChecks::Warn => "warn",
        }
    }

    /// Parses the configuration spelling (`error` or `warn`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(ExtraChecks::Error),
            "warn" => Some(ExtraChecks::Warn),
            _ => None,
        }
    }
}

impl std::fmt::Display for ExtraChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
