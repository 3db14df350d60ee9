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
