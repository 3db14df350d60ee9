//! Explicit limits on what a set of flag files may contain, so hostile input is refused quickly.

/// Size, count, nesting and alias limits applied while reading flag files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_file_bytes: usize,
    /// Largest accepted total of all files of one environment, in bytes.
    pub max_total_bytes: usize,
    /// Most files one environment may hold.
    pub max_files: usize,
    /// Most YAML documents in one file.
    pub max_documents_per_file: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes in one file after alias expansion (bounds "billion laughs" files).
    pub max_nodes_per_file: usize,
    /// Most alias uses in one file.
    pub max_aliases_per_file: usize,
    /// Most nodes alias expansion may add to one file (bounds the memory a "billion laughs"
    /// file costs before it is refused).
    pub max_alias_nodes_per_file: usize,
    /// Most entries in one YAML flow collection (`[…]`, `{…}`) that starts in block context (the
    /// YAML parser holds all of its tokens until it ends).
    pub max_flow_entries: usize,
    /// Most diagnostics reported for one set of files; the rest are counted in a last one.
    pub max_diagnostics: usize,
}

impl Limits {
    /// The error for a file of `size` bytes, `None` if it is within `max_file_bytes` (the one
    /// wording of this diagnostic, used by the compiler and by the sync before it reads a file).
    pub fn file_size_error(&self, size: u64) -> Option<String> {
        (size > self.max_file_bytes as u64).then(|| {
            format!(
                "file is {size} bytes, larger than the limit of {} bytes; not read",
                self.max_file_bytes
            )
        })
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 8 * 1024 * 1024,
            max_total_bytes: 256 * 1024 * 1024,
            max_files: 10_000,
            max_documents_per_file: 1_024,
            max_depth: 64,
            max_nodes_per_file: 2_000_000,
            max_aliases_per_file: 10_000,
            max_alias_nodes_per_file: 200_000,
            max_flow_entries: 100_000,
            max_diagnostics: 1_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;

    #[test]
    fn file_size_error_has_one_wording_and_allows_the_limit_itself() {
        let limits = Limits {
            max_file_bytes: 100,
            ..Limits::default()
        };
        assert_eq!(limits.file_size_error(100), None);
        assert_eq!(
            limits.file_size_error(101).as_deref(),
            Some("file is 101 bytes, larger than the limit of 100 bytes; not read")
        );
    }
}
