//! Diagnostics: every problem found in a set of flag files, each with file, line, column and path.

use std::borrow::Cow;
use std::fmt;

use crate::extra::ExtraChecks;

/// A position in a source file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number (in characters).
    pub column: u32,
}

impl Pos {
    /// Builds a position from a 1-based line and column.
    pub const fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }
}

/// Where a diagnostic points: a file and a position in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Path of the file, relative to the environment root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// The files are refused: nothing of them is served.
    #[default]
    Error,
    /// The files are served, but something probably does not do what its author meant.
    Warning,
}

/// One problem in the flag files.
///
/// Diagnostics sort by location; at one location a diagnostic that suggests a fix ("did you
/// mean …?") comes first, so whoever shows only the first one shows the most helpful one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// Whether the problem refuses the files or only warns.
    pub severity: Severity,
    /// The document path of the offending node, e.g. `flags[0].rules[1].distributions[0].rollout`.
    pub path: String,
    /// What is wrong, in lower case without a trailing period.
    pub message: String,
    /// Whether a check Switchyard adds beyond Flipt's found it (Flipt v2.11 serves these files;
    /// see [`ExtraChecks`](crate::ExtraChecks)).
    pub extra: bool,
}

impl Diagnostic {
    /// Builds an error at `pos` in `file`.
    pub fn new(
        file: impl Into<String>,
        pos: Pos,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            location: Location {
                file: file.into(),
                line: pos.line,
                column: pos.column,
            },
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            extra: false,
        }
    }

    /// Builds a warning at `pos` in `file`.
    pub fn warning(
        file: impl Into<String>,
        pos: Pos,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(file, pos, path, message)
        }
    }

    /// Whether the message suggests a fix ("did you mean …?").
    pub fn has_suggestion(&self) -> bool {
        crate::suggest::has_suggestion(&self.message)
    }
}

impl Ord for Diagnostic {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.location
            .cmp(&other.location)
            .then_with(|| other.has_suggestion().cmp(&self.has_suggestion()))
            .then_with(|| self.severity.cmp(&other.severity))
            .then_with(|| self.path.cmp(&other.path))
            .then_with(|| self.message.cmp(&other.message))
            .then_with(|| self.extra.cmp(&other.extra))
    }
}

impl PartialOrd for Diagnostic {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.location;
        if self.severity == Severity::Warning {
            write!(f, "{}:{}:{}: warning: ", l.file, l.line, l.column)?;
            return if self.path.is_empty() {
                write!(f, "{}", self.message)
            } else {
                write!(f, "{}: {}", self.path, self.message)
            };
        }
        if self.path.is_empty() {
            write!(f, "{}:{}:{}: {}", l.file, l.line, l.column, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                l.file, l.line, l.column, self.path, self.message
            )
        }
    }
}

/// A non-empty list of diagnostics, sorted by file, line and column (see [`Diagnostic`]); when
/// there were more than [`Limits::max_diagnostics`](crate::Limits::max_diagnostics), the last
/// entry says how many were left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Wraps a list of diagnostics, sorting it and removing exact duplicates.
    pub fn from_vec(mut list: Vec<Diagnostic>) -> Self {
        list.sort();
        list.dedup();
        Diagnostics(list)
    }

    /// The diagnostics, in file, line, column order.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no problems.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Longest text (in characters) quoted from the input into a message.
const QUOTE_CHARS: usize = 64;

/// `text` for quoting in a message: cut to its first characters and `…` when it is long, so a
/// hostile megabyte-long key does not make a megabyte-long diagnostic.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTE_CHARS) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// Collects diagnostics while a document set is read, keeping at most a bounded number.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) list: Vec<Diagnostic>,
    /// What every diagnostic pushed here is.
    severity: Severity,
    /// Most diagnostics kept; the rest are counted.
    limit: usize,
    /// How many were not kept, and the first of them (where the summary points).
    dropped: usize,
    first_dropped: Option<Location>,
    /// What the checks Switchyard adds beyond Flipt's do ([`Sink::extra`]).
    pub(crate) extra_checks: ExtraChecks,
    /// Findings of those checks kept as warnings under [`ExtraChecks::Warn`], at most `limit`.
    pub(crate) extra_warnings: Vec<Diagnostic>,
}

impl Default for Sink {
    fn default() -> Self {
        Sink::new(crate::limits::Limits::default().max_diagnostics)
    }
}

impl Sink {
    /// A sink that keeps at most `limit` diagnostics.
    pub(crate) fn new(limit: usize) -> Self {
        Sink {
            list: Vec::new(),
            severity: Severity::Error,
            limit: limit.max(1),
            dropped: 0,
            first_dropped: None,
            extra_checks: ExtraChecks::Error,
            extra_warnings: Vec::new(),
        }
    }

    /// A sink whose extra checks follow `extra_checks`.
    pub(crate) fn with_extra_checks(limit: usize, extra_checks: ExtraChecks) -> Self {
        Sink {
            extra_checks,
            ..Sink::new(limit)
        }
    }

    /// Reports what a check Switchyard adds beyond Flipt's found: an error under
    /// [`ExtraChecks::Error`], a warning kept aside under [`ExtraChecks::Warn`]. Returns whether
    /// the input is accepted (then the caller builds what Flipt builds).
    pub(crate) fn extra(
        &mut self,
        file: &str,
        pos: Pos,
        path: &str,
        message: impl Into<String>,
    ) -> bool {
        match self.extra_checks {
            ExtraChecks::Error => {
                let before = self.list.len();
                self.push(file, pos, path, message);
                if let Some(d) = self.list.get_mut(before) {
                    d.extra = true;
                }
                false
            }
            ExtraChecks::Warn => {
                if self.extra_warnings.len() < self.limit {
                    let mut d = Diagnostic::warning(file, pos, path, message);
                    d.extra = true;
                    self.extra_warnings.push(d);
                }
                true
            }
        }
    }

    /// Takes the warnings of extra checks found so far.
    pub(crate) fn take_extra_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.extra_warnings)
    }

    /// A sink for warnings that keeps at most `limit` of them.
    pub(crate) fn warnings(limit: usize) -> Self {
        Sink {
            severity: Severity::Warning,
            ..Sink::new(limit)
        }
    }

    pub(crate) fn push(&mut self, file: &str, pos: Pos, path: &str, message: impl Into<String>) {
        if self.list.len() >= self.limit {
            self.drop_one(|| Location {
                file: file.to_string(),
                line: pos.line,
                column: pos.column,
            });
            return;
        }
        let mut d = Diagnostic::new(file, pos, path, message);
        d.severity = self.severity;
        self.list.push(d);
    }

    fn drop_one(&mut self, at: impl FnOnce() -> Location) {
        self.dropped += 1;
        if self.first_dropped.is_none() {
            self.first_dropped = Some(at());
        }
    }

    /// Takes over the diagnostics of another sink (a file read on another thread).
    pub(crate) fn absorb(&mut self, other: Sink) {
        for d in other.list {
            if self.list.len() >= self.limit {
                let at = d.location;
                self.drop_one(|| at);
            } else {
                self.list.push(d);
            }
        }
        for d in other.extra_warnings {
            if self.extra_warnings.len() < self.limit {
                self.extra_warnings.push(d);
            }
        }
        self.dropped += other.dropped;
        if self.first_dropped.is_none() {
            self.first_dropped = other.first_dropped;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether no further diagnostic will be kept (only counted).
    pub(crate) fn is_full(&self) -> bool {
        self.list.len() >= self.limit
    }

    /// The diagnostics in order; when some were left out, a last one says how many and where
    /// the first of them was.
    pub(crate) fn finish(self) -> Diagnostics {
        Diagnostics(self.into_list())
    }

    /// [`Sink::finish`] as a plain list.
    pub(crate) fn into_list(self) -> Vec<Diagnostic> {
        let mut list = self.list;
        list.sort();
        list.dedup();
        if let Some(at) = self.first_dropped {
            let mut d = Diagnostic::new(
                at.file,
                Pos::new(at.line, at.column),
                "",
                format!(
                    "at least {} more problems were found and not listed (at most {} are listed); the first of them is here",
                    self.dropped, self.limit
                ),
            );
            d.severity = self.severity;
            list.push(d);
        }
        list
    }
}
