//! Flag files as read from a commit or a directory, and which of them are flag files.
//!
//! Discovery follows Flipt: a `.flipt.yml` index at the environment root (v1) lists `include` and
//! `exclude` globs; without it the defaults `**features.yml`, `**features.yaml`,
//! `**.features.yml`, `**.features.yaml` and `**features.json` apply. Globs are gobwas-style:
//! `*` also matches `/`, so the defaults find `features.yaml` at any depth, including the root.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diagnostic::{Diagnostic, Diagnostics, Pos, Sink};
use crate::limits::Limits;
use crate::yaml::{self, Value};

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

/// Default include patterns when no index file exists.
pub const DEFAULT_INCLUDE: &[&str] = &[
    "**features.yml",
    "**features.yaml",
    "**.features.yml",
    "**.features.yaml",
    "**features.json",
];

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
        let mut sink = Sink::default();
        let text = match std::str::from_utf8(&index.contents) {
            Ok(t) => t,
            Err(_) => {
                sink.push(file, Pos::new(1, 1), "", "file is not valid UTF-8");
                return Err(sink.finish());
            }
        };
        let docs = match yaml::parse_yaml(text, limits) {
            Ok(d) => d,
            Err(e) => {
                sink.push(file, e.pos, "", e.message);
                return Err(sink.finish());
            }
        };
        let mut include: Vec<String> = Vec::new();
        let mut exclude: Vec<String> = Vec::new();
        let mut saw_include = false;
        for doc in docs.into_iter().take(1) {
            let Value::Map(entries) = doc.value else {
                sink.push(
                    file,
                    doc.pos,
                    "",
                    "index must be a mapping with `version`, `include` and `exclude`",
                );
                continue;
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
                    "include" | "exclude" => {
                        let target = if key.name == "include" {
                            saw_include = true;
                            &mut include
                        } else {
                            &mut exclude
                        };
                        match node.value {
                            Value::Seq(items) => {
                                for (i, item) in items.into_iter().enumerate() {
                                    let path = format!("{}[{i}]", key.name);
                                    match item.value {
                                        Value::Str(g) => {
                                            if let Err(e) = compile_glob(&g) {
                                                sink.push(
                                                    file,
                                                    item.pos,
                                                    &path,
                                                    format!("invalid glob: {e}"),
                                                );
                                            } else {
                                                target.push(g.into_owned());
                                            }
                                        }
                                        other => sink.push(
                                            file,
                                            item.pos,
                                            &path,
                                            format!(
                                                "expected a glob string, found {}",
                                                other.kind()
                                            ),
                                        ),
                                    }
                                }
                            }
                            other => sink.push(
                                file,
                                node.pos,
                                &key.name,
                                format!("expected a list of globs, found {}", other.kind()),
                            ),
                        }
                    }
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
        if !sink.is_empty() {
            return Err(sink.finish());
        }
        let include = if saw_include {
            build_set(include.iter().map(String::as_str))
        } else {
            build_set(DEFAULT_INCLUDE.iter().copied())
        };
        let exclude = build_set(exclude.iter().map(String::as_str));
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

    /// Whether `path` (relative to the environment root) is a flag file.
    pub fn matches(&self, path: &str) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
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

/// Chooses the flag files among `paths` (all files below the environment root).
///
/// `index` is the `.flipt.yml` at the root, if there is one. The result is sorted, as Flipt
/// walks the tree in lexical order.
pub fn discover<'p>(
    paths: impl IntoIterator<Item = &'p str>,
    index: Option<&SourceFile>,
    limits: &Limits,
) -> Result<Vec<String>, Diagnostics> {
    let selector = match index {
        Some(idx) => FileSelector::from_index(idx, limits)?,
        None => FileSelector::defaults(),
    };
    let mut out: Vec<String> = paths
        .into_iter()
        .filter(|p| *p != INDEX_FILE && selector.matches(p))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
