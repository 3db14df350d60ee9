//! The positioned YAML tree for readers outside the core (the CLI's configuration file): the
//! same reader as flag files (YAML 1.2 core schema, merge keys, duplicate keys refused, limits),
//! as an owned, public tree.

use crate::diagnostic::Pos;
use crate::limits::Limits;
use crate::yaml;

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The resolved value.
    pub value: TreeValue,
    /// 1-based line and column of the node.
    pub pos: Pos,
}

/// The resolved value of a [`TreeNode`].
#[derive(Debug, Clone, PartialEq)]
pub enum TreeValue {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<TreeNode>),
    /// A mapping: entries in source order, each key with its position; keys are unique.
    Map(Vec<(String, Pos, TreeNode)>),
}

impl TreeValue {
    /// A short English name for the kind of value, for messages ("a string", "a mapping").
    pub fn kind(&self) -> &'static str {
        match self {
            TreeValue::Null => "null",
            TreeValue::Bool(_) => "a boolean",
            TreeValue::Int(_) | TreeValue::Float(_) => "a number",
            TreeValue::Str(_) => "a string",
            TreeValue::Seq(_) => "a list",
            TreeValue::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error or an exceeded limit: where and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", pos.line, pos.column)]
pub struct TreeError {
    /// Where reading stopped.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Reads a YAML stream into one tree per non-empty document.
pub fn parse_tree(text: &str, limits: &Limits) -> Result<Vec<TreeNode>, TreeError> {
    yaml::parse_yaml(text, limits)
        .map(|docs| docs.into_iter().map(own).collect())
        .map_err(|e| TreeError {
            pos: e.pos,
            message: e.message,
        })
}

/// The known name closest to `unknown`, when it is a plausible typo (as flag files' hints).
pub fn closest_name<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    crate::suggest::closest(unknown, known)
}

fn own(n: yaml::Node<'_>) -> TreeNode {
    let value = match n.value {
        yaml::Value::Null => TreeValue::Null,
        yaml::Value::Bool(b) => TreeValue::Bool(b),
        yaml::Value::Int(i) => TreeValue::Int(i),
        yaml::Value::Float(f) => TreeValue::Float(f),
        yaml::Value::Str(s) => TreeValue::Str(s.into_owned()),
        yaml::Value::Seq(items) => TreeValue::Seq(items.into_iter().map(own).collect()),
        yaml::Value::Map(entries) => TreeValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.name.into_owned(), k.pos, own(v)))
                .collect(),
        ),
    };
    TreeNode { value, pos: n.pos }
}

#[cfg(test)]
mod tests;
