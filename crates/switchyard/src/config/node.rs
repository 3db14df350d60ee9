//! The configuration as a tree in which every value knows where it was written: a position in
//! the file, or the `SWITCHYARD_…` variable that overrode it. Environment overrides and
//! `${env:NAME}` references are applied to this tree.

use switchyard_core::{Pos, TreeNode, TreeValue};

/// Where a value was written.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Origin {
    /// A line and column of the configuration file.
    File(Pos),
    /// An environment variable (`SWITCHYARD_A__B`) that set it.
    Env(String),
}

/// A configuration value and its origin.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub(super) value: Val,
    pub(super) origin: Origin,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key read by the settings, the key as written (for paths), where it is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) written: String,
    pub(super) origin: Origin,
    pub(super) value: Node,
}

/// A configuration problem: where, at which key path, and what.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Problem {
    pub(super) origin: Origin,
    pub(super) path: String,
    pub(super) message: String,
}

impl Problem {
    /// A problem at `origin` for the key path `path`.
    pub(super) fn new(origin: &Origin, path: &str, message: impl Into<String>) -> Problem {
        Problem {
            origin: origin.clone(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// `a.b` from `a` and `b` (`b` alone at the top).
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Node {
    /// An empty mapping at `origin`.
    pub(super) fn empty_map(origin: Origin) -> Node {
        Node {
            value: Val::Map(Vec::new()),
            origin,
        }
    }

    /// The node read from the core's positioned YAML tree.
    pub(super) fn from_tree(t: TreeNode) -> Node {
        let value = match t.value {
            TreeValue::Null => Val::Null,
            TreeValue::Bool(b) => Val::Bool(b),
            TreeValue::Int(i) => Val::Int(i),
            TreeValue::Float(f) => Val::Float(f),
            TreeValue::Str(s) => Val::Str(s),
            TreeValue::Seq(items) => Val::Seq(items.into_iter().map(Node::from_tree).collect()),
            TreeValue::Map(entries) => Val::Map(
                entries
                    .into_iter()
                    .map(|(k, pos, v)| Entry {
                        written: k.clone(),
                        key: k,
                        origin: Origin::File(pos),
                        value: Node::from_tree(v),
                    })
                    .collect(),
            ),
        };
        Node {
            value,
            origin: Origin::File(t.pos),
        }
    }

    /// A short English name of the value's kind, for messages.
    pub(super) fn kind(&self) -> &'static str {
        match self.value {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Int(_) | Val::Float(_) => "a number",
            Val::Str(_) => "a string",
            Val::Seq(_) => "a list",
            Val::Map(_) => "a mapping",
        }
    }

    /// The entries of a mapping (none for null).
    pub(super) fn entries(&self) -> &[Entry] {
        match &self.value {
            Val::Map(e) => e,
            _ => &[],
        }
    }

    /// The entries of a mapping, none for null, an error naming `path` for anything else.
    pub(super) fn mapping(&self, path: &str) -> Result<&[Entry], Problem> {
        match &self.value {
            Val::Map(e) => Ok(e),
            Val::Null => Ok(&[]),
            _ => Err(Problem::new(
                &self.origin,
                path,
                format!("expected a mapping, found {}", self.kind()),
            )),
        }
    }

    /// The entry named `key` of a mapping.
    pub(super) fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    /// The value at `key` of a mapping.
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The string value, if it is one.
    pub(super) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean value, if it is one.
    pub(super) fn as_bool(&self) -> Option<bool> {
        match self.value {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A copy of this mapping without the entries named in `keys`.
    pub(super) fn without(&self, keys: &[&str]) -> Node {
        let kept = self
            .entries()
            .iter()
            .filter(|e| !keys.contains(&e.key.as_str()))
            .cloned()
            .collect();
        Node {
            value: Val::Map(kept),
            origin: self.origin.clone(),
        }
    }

    /// A mapping at `origin` holding `entries`.
    pub(super) fn map(entries: Vec<Entry>, origin: Origin) -> Node {
        Node {
            value: Val::Map(entries),
            origin,
        }
    }
}

/// `SWITCHYARD_A__B__C=v` sets `a.b.c` (lower-cased); `true`/`false` and integers keep their type.
/// Variables whose first segment is not one of the `sections` are not configuration (e.g. a
/// test's `SWITCHYARD_BIN`) and are skipped; one that looks like a misspelt section is reported.
pub(super) fn apply_env_overrides(
    root: &mut Node,
    env: &[(String, String)],
    sections: &[&str],
    warnings: &mut Vec<Problem>,
) {
    for (k, v) in env {
        let Some(path) = k.strip_prefix("SWITCHYARD_") else {
            continue;
        };
        if path == "CONFIG" || path == "LISTEN" || path.is_empty() {
            continue;
        }
        let origin = Origin::Env(k.clone());
        let first = path.split("__").next().unwrap_or("").to_ascii_lowercase();
        if !sections.contains(&first.as_str()) {
            if let Some(s) = switchyard_core::closest_name(&first, sections) {
                warnings.push(Problem::new(
                    &origin,
                    &first,
                    format!("not a configuration section, so this variable is ignored; did you mean `{s}`?"),
                ));
            }
            continue;
        }
        let value = match v.as_str() {
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            _ => v
                .parse::<i64>()
                .map(Val::Int)
                .unwrap_or_else(|_| Val::Str(v.clone())),
        };
        let segments: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let mut cur = &mut *root;
        for (i, seg) in segments.iter().enumerate() {
            if !matches!(cur.value, Val::Map(_)) {
                *cur = Node::empty_map(origin.clone());
            }
            let Val::Map(entries) = &mut cur.value else {
                break;
            };
            let idx = match entries.iter().position(|e| &e.key == seg) {
                Some(i) => i,
                None => {
                    entries.push(Entry {
                        key: seg.clone(),
                        written: seg.clone(),
                        origin: origin.clone(),
                        value: Node::empty_map(origin.clone()),
                    });
                    entries.len() - 1
                }
            };
            let entry = &mut entries[idx];
            if i + 1 == segments.len() {
                entry.origin = origin.clone();
                entry.value = Node {
                    value: value.clone(),
                    origin: origin.clone(),
                };
                break;
            }
            cur = &mut entry.value;
        }
    }
}

/// Replaces `${env:NAME}` in string values; an unset variable is an error at that value.
pub(super) fn substitute_env_refs(
    node: &mut Node,
    path: &str,
    env: &[(String, String)],
) -> Result<(), Problem> {
    match &mut node.value {
        Val::Str(s) if s.contains("${env:") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${env:") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 6..];
                let Some(end) = after.find('}') else {
                    return Err(Problem::new(
                        &node.origin,
                        path,
                        format!("unterminated ${{env:…}} in {s:?}"),
                    ));
                };
                let name = &after[..end];
                let Some((_, val)) = env.iter().find(|(k, _)| k == name) else {
                    return Err(Problem::new(
                        &node.origin,
                        path,
                        format!(
                            "environment variable {name} is not set (referenced as ${{env:{name}}})"
                        ),
                    ));
                };
                out.push_str(val);
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            *s = out;
            Ok(())
        }
        Val::Seq(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, n)| substitute_env_refs(n, &format!("{path}[{i}]"), env)),
        Val::Map(entries) => entries.iter_mut().try_for_each(|e| {
            let p = join(path, &e.written);
            substitute_env_refs(&mut e.value, &p, env)
        }),
        _ => Ok(()),
    }
}
