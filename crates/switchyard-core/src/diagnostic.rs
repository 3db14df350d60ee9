//! Diagnostics: every problem found in a set of flag files, each with file, line, column and path.

use std::fmt;

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

/// One problem in the flag files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// The document path of the offending node, e.g. `flags[0].rules[1].distributions[0].rollout`.
    pub path: String,
    /// What is wrong, in lower case without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// Builds a diagnostic at `pos` in `file`.
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
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.location;
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

/// A non-empty list of diagnostics, sorted by file, line and column.
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

/// Collects diagnostics while a document set is read.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) list: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn push(&mut self, file: &str, pos: Pos, path: &str, message: impl Into<String>) {
        self.list.push(Diagnostic::new(file, pos, path, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn finish(self) -> Diagnostics {
        Diagnostics::from_vec(self.list)
    }
}
