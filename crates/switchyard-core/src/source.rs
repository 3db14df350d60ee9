//! Flag files as read from a commit or a directory, and which of them are flag files.
//!
//! Which files are flag files depends on the Flipt generation the configuration has
//! ([`Discovery`]):
//!
//! - **Flipt v1** (and the seed's shape): a `.flipt.yml` index at the environment root lists
//!   `include` and `exclude` globs; without it the defaults `**features.yml`,
//!   `**features.yaml`, `**.features.yml` and `**.features.yaml` apply
//!   (`v1:internal/storage/fs/index.go`). Globs are gobwas-style: `*` also matches `/`, so the
//!   defaults find `features.yaml` at any depth, including the root.
//! - **Flipt v2**: the fixed patterns `*/features.yaml`, `*/features.yml`, `*/features.json`
//!   (`v2:internal/storage/fs/config.go`): the file must be in a directory below the root (at
//!   any depth; a root `features.yaml` is not read) and named exactly so. `.flipt.yml` is not
//!   read. A root `flipt.yaml` (else `flipt.yml`) is the repository's configuration; it selects
//!   nothing, but Flipt v2 refuses the environment when it is unreadable or its `version` is not
//!   a semantic version up to 2.0.0 (`repo_config`).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diagnostic::{Diagnostic, Diagnostics, Pos, Sink};
use crate::limits::Limits;
use crate::yaml::{self, Value};

mod repo_config;

/// One file: its path relative to the environment root and its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the environment root, with `/` separators.
    pub path: String,
    /// The file's bytes exactly as stored.
    pub contents: Vec<u8>,
}

impl SourceFile {
    /// Builds a source file from a path and its contents.
    pub fn new(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        SourceFile {
            path: path.into(),
            contents: contents.into(),
        }
    }
}

/// Name of the optional index file at the environment root.
pub const INDEX_FILE: &str = ".flipt.yml";

/// Flipt v1's include patterns when no index file exists (`defaultFliptIndex`; no JSON name).
pub const DEFAULT_INCLUDE: &[&str] = &[
    "**features.yml",
    "**features.yaml",
    "**.features.yml",
    "**.features.yaml",
];

/// Flipt v2's flag file names; such a file is read in any directory below the root, never at it.
pub const V2_FILE_NAMES: &[&str] = &["features.yaml", "features.yml", "features.json"];

/// Flipt v2's repository configuration files at the environment root, in the order looked for.
pub const V2_CONFIG_FILES: &[&str] = &["flipt.yaml", "flipt.yml"];

/// Which Flipt generation's rule finds an environment's flag files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Discovery {
    /// Flipt v1 (and the seed's shape): the `.flipt.yml` index, else [`DEFAULT_INCLUDE`], at
    /// any depth including the root.
    #[default]
    FliptV1,
    /// Flipt v2: [`V2_FILE_NAMES`] in a directory below the root; a root `flipt.yaml` or
    /// `flipt.yml` is checked, `.flipt.yml` is not read.
    FliptV2,
}

impl Discovery {
    /// The name used in the status and on the command line: `flipt-v1` or `flipt-v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Discovery::FliptV1 => "flipt-v1",
            Discovery::FliptV2 => "flipt-v2",
        }
    }

    /// The file at the environment root this rule reads before choosing, if `exists` says one
    /// of its names is there: `.flipt.yml` (v1), `flipt.yaml` then `flipt.yml` (v2).
    pub fn root_file(self, exists: impl Fn(&str) -> bool) -> Option<&'static str> {
        match self {
            Discovery::FliptV1 => exists(INDEX_FILE).then_some(INDEX_FILE),
            Discovery::FliptV2 => V2_CONFIG_FILES.iter().copied().find(|f| exists(f)),
        }
    }

    /// The rule in plain words, before it is known which root file is there.
    pub fn rule(self) -> String {
        match self {
            Discovery::FliptV1 => format!(
                "Flipt v1: the include and exclude globs of a {INDEX_FILE} index at the root, else paths matching {} at any depth, the root included",
                DEFAULT_INCLUDE.join(", ")
            ),
            Discovery::FliptV2 => self.summary(None),
        }
    }

    /// The rule in plain words, given the root file it read.
    pub fn summary(self, root_file: Option<&str>) -> String {
        match (self, root_file) {
            (Discovery::FliptV1, Some(index)) => {
                format!("Flipt v1: the files that the include and exclude globs of {index} select")
            }
            (Discovery::FliptV1, None) => format!(
                "Flipt v1: paths matching {} at any depth, the root included (no {INDEX_FILE})",
                DEFAULT_INCLUDE.join(", ")
            ),
            (Discovery::FliptV2, config) => {
                let config = config.map(|c| format!("; {c} checked")).unwrap_or_default();
                format!(
                    "Flipt v2: {} in a directory below the root, at any depth (never at the root); {INDEX_FILE} is not read{config}",
                    V2_FILE_NAMES.join(", ")
                )
            }
        }
    }
}

impl Discovered {
    /// Warnings about look-alike files this rule did not read where that is probably a
    /// mistake: under Flipt v2's rule every one of [`Discovered::not_read`] (a root
    /// `features.yml`, an `x.features.yml`, a `.flipt.yml` index); under Flipt v1's default
    /// patterns a `features.json` (files an index excluded were excluded on purpose).
    pub fn warnings(&self) -> Vec<Diagnostic> {
        let names = V2_FILE_NAMES.join(", ");
        self.not_read
            .iter()
            .filter_map(|path| {
                let message = match self.rules {
                    Discovery::FliptV2 if path == INDEX_FILE => format!(
                        "not read: Flipt v2 has no {INDEX_FILE} index, its include and exclude globs have no effect; flag files are {names} in a directory below the root"
                    ),
                    Discovery::FliptV2 if !path.contains('/') => format!(
                        "not read: Flipt v2 reads {names} only in a directory below the environment root, never at it; move it to a namespace directory (default/{path})"
                    ),
                    Discovery::FliptV2 => format!(
                        "not read: Flipt v2 reads only files named exactly {names}; rename it or move it to its own directory as features.yml"
                    ),
                    Discovery::FliptV1 if self.root_file.is_none() && is_v2_flag_file(path) => {
                        format!(
                            "not read: Flipt v1's default patterns ({}) have no JSON name; include it in a {INDEX_FILE} index (`include: [\"**features.json\"]`, with the defaults you need)",
                            DEFAULT_INCLUDE.join(", ")
                        )
                    }
                    Discovery::FliptV1 => return None,
                };
                Some(Diagnostic::warning(path.as_str(), Pos::new(1, 1), "", message))
            })
            .collect()
    }
}

impl std::fmt::Display for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What discovery chose in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovered {
    /// The rule set used.
    pub rules: Discovery,
    /// The rule's root file that was read (`.flipt.yml`, `flipt.yaml`, `flipt.yml`), if any.
    pub root_file: Option<String>,
    /// The flag files, relative to the environment root, sorted.
    pub files: Vec<String>,
    /// Paths that look like flag files to either generation (or a `.flipt.yml` under v2's
    /// rule) but that this rule did not choose, sorted: what a reader of the other generation,
    /// or of the index, should know is not served.
    pub not_read: Vec<String>,
}

/// Which paths below the environment root hold flag documents.
#[derive(Debug, Clone)]
pub struct FileSelector {
    include: GlobSet,
    exclude: GlobSet,
}

impl FileSelector {
    /// The selector used when there is no `.flipt.yml`.
    pub fn defaults() -> Self {
        let include =
            build_set(DEFAULT_INCLUDE.iter().copied()).unwrap_or_else(|_| GlobSet::empty());
        FileSelector {
            include,
            exclude: GlobSet::empty(),
        }
    }

    /// Reads a `.flipt.yml` index (`version`, `include`, `exclude`).
    pub fn from_index(index: &SourceFile, limits: &Limits) -> Result<Self, Diagnostics> {
        let file = index.path.as_str();
        let docs = read_index(index, limits)?;
        let mut sink = Sink::default();
        let mut globs = IndexGlobs::default();
        if let Some(doc) = docs.into_iter().next() {
            globs.read(file, doc, &mut sink);
        }
        if !sink.is_empty() {
            return Err(sink.finish());
        }
        globs.selector(file)
    }

    /// Whether `path` (relative to the environment root) is a flag file.
    pub fn matches(&self, path: &str) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
    }
}

/// The documents of a `.flipt.yml` index; not UTF-8 or not YAML is one diagnostic.
fn read_index<'t>(
    index: &'t SourceFile,
    limits: &Limits,
) -> Result<Vec<yaml::Node<'t>>, Diagnostics> {
    let file = index.path.as_str();
    let mut sink = Sink::default();
    let Ok(text) = std::str::from_utf8(&index.contents) else {
        sink.push(file, Pos::new(1, 1), "", "file is not valid UTF-8");
        return Err(sink.finish());
    };
    yaml::parse_yaml(text, limits).map_err(move |e| {
        sink.push(file, e.pos, "", e.message);
        sink.finish()
    })
}

/// The globs a `.flipt.yml` index lists, each checked.
#[derive(Default)]
struct IndexGlobs {
    /// `include`'s globs; `None` when the index has no `include` (the defaults apply).
    include: Option<Vec<String>>,
    /// `exclude`'s globs.
    exclude: Vec<String>,
}

impl IndexGlobs {
    /// Reads the index's first document, every problem pushed to `sink`.
    fn read(&mut self, file: &str, doc: yaml::Node<'_>, sink: &mut Sink) {
        let Value::Map(entries) = doc.value else {
            sink.push(
                file,
                doc.pos,
                "",
                "index must be a mapping with `version`, `include` and `exclude`",
            );
            return;
        };
        for (key, node) in entries {
            match key.name.as_ref() {
                "version" => match &node.value {
                    Value::Str(v) if v == "1.0" => {}
                    _ => sink.push(
                        file,
                        node.pos,
                        "version",
                        "unsupported index version; only \"1.0\" exists",
                    ),
                },
                "include" => {
                    let include = self.include.get_or_insert_with(Vec::new);
                    read_globs(file, "include", node, include, sink);
                }
                "exclude" => read_globs(file, "exclude", node, &mut self.exclude, sink),
                other => {
                    let hint =
                        crate::suggest::did_you_mean(other, &["version", "include", "exclude"]);
                    sink.push(
                        file,
                        key.pos,
                        other,
                        format!("unknown field `{other}`{hint}"),
                    );
                }
            }
        }
    }

    /// The selector of these globs (the default includes when there is no `include`).
    fn selector(self, file: &str) -> Result<FileSelector, Diagnostics> {
        let include = match &self.include {
            Some(globs) => build_set(globs.iter().map(String::as_str)),
            None => build_set(DEFAULT_INCLUDE.iter().copied()),
        };
        let exclude = build_set(self.exclude.iter().map(String::as_str));
        match (include, exclude) {
            (Ok(include), Ok(exclude)) => Ok(FileSelector { include, exclude }),
            (Err(e), _) | (_, Err(e)) => Err(Diagnostics::from_vec(vec![Diagnostic::new(
                file,
                Pos::new(1, 1),
                "",
                format!("invalid glob: {e}"),
            )])),
        }
    }
}

/// Reads the list of globs `node` of index field `field` into `target`.
fn read_globs(
    file: &str,
    field: &str,
    node: yaml::Node<'_>,
    target: &mut Vec<String>,
    sink: &mut Sink,
) {
    let items = match node.value {
        Value::Seq(items) => items,
        other => {
            let found = other.kind();
            sink.push(
                file,
                node.pos,
                field,
                format!("expected a list of globs, found {found}"),
            );
            return;
        }
    };
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("{field}[{i}]");
        match item.value {
            Value::Str(g) => match compile_glob(&g) {
                Ok(_) => target.push(g.into_owned()),
                Err(e) => sink.push(file, item.pos, &path, format!("invalid glob: {e}")),
            },
            other => sink.push(
                file,
                item.pos,
                &path,
                format!("expected a glob string, found {}", other.kind()),
            ),
        }
    }
}

fn compile_glob(g: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(g)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
}

fn build_set<'a>(globs: impl Iterator<Item = &'a str>) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(compile_glob(g)?);
    }
    b.build()
}

/// Chooses the flag files among `paths` (all files below the environment root) by `rules`.
///
/// `root_file` is the file [`Discovery::root_file`] named, read: the `.flipt.yml` index (v1) or
/// the repository configuration (v2), whose problems are returned as diagnostics. The result is
/// sorted, as Flipt walks the tree in lexical order.
pub fn discover<'p>(
    rules: Discovery,
    paths: impl IntoIterator<Item = &'p str>,
    root_file: Option<&SourceFile>,
    limits: &Limits,
) -> Result<Discovered, Diagnostics> {
    let paths: Vec<&str> = paths.into_iter().collect();
    let defaults = FileSelector::defaults();
    let mut files: Vec<String> = match rules {
        Discovery::FliptV1 => {
            let selector = match root_file {
                Some(idx) => FileSelector::from_index(idx, limits)?,
                None => defaults.clone(),
            };
            paths
                .iter()
                .filter(|p| **p != INDEX_FILE && selector.matches(p))
                .map(|p| p.to_string())
                .collect()
        }
        Discovery::FliptV2 => {
            if let Some(config) = root_file {
                repo_config::check(config, limits)?;
            }
            paths
                .iter()
                .filter(|p| is_v2_flag_file(p))
                .map(|p| p.to_string())
                .collect()
        }
    };
    files.sort();
    files.dedup();
    // What either generation would take for a flag file (or v1's index), but this rule did not.
    let mut not_read: Vec<String> = paths
        .iter()
        .filter(|p| {
            let lookalike = defaults.matches(p)
                || is_v2_flag_file(p)
                || (**p == INDEX_FILE && rules == Discovery::FliptV2);
            lookalike && files.binary_search_by(|f| f.as_str().cmp(**p)).is_err()
        })
        .map(|p| p.to_string())
        .collect();
    not_read.sort();
    not_read.dedup();
    Ok(Discovered {
        rules,
        root_file: root_file.map(|f| f.path.clone()),
        files,
        not_read,
    })
}

/// Flipt v2's `*/features.{yaml,yml,json}` with gobwas semantics: a `/`, then exactly the name.
fn is_v2_flag_file(path: &str) -> bool {
    path.rsplit_once('/')
        .is_some_and(|(_, name)| V2_FILE_NAMES.contains(&name))
}
