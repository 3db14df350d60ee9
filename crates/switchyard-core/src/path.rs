//! Document paths such as `flags[0].rules[1].distributions[0].rollout`, built on the stack while
//! decoding and turned into text only when a diagnostic needs one.

use std::fmt;

use crate::diagnostic::clip;

/// A path from the document root: a chain of field names and list indexes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The document itself.
    Root,
    /// A field of the parent mapping.
    Field(&'a Path<'a>, &'a str),
    /// An item of the parent list.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The path of field `name` below this one.
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    /// The path of item `i` below this one.
    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }

    /// The index of the last segment, if it is a list item.
    pub(crate) fn last_index(&self) -> Option<usize> {
        match self {
            Path::Index(_, i) => Some(*i),
            _ => None,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(&clip(name)),
            Path::Field(parent, name) => write!(f, "{parent}.{}", clip(name)),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_flipt_paths() {
        let root = Path::Root;
        let flags = root.field("flags");
        let f0 = flags.index(0);
        let rules = f0.field("rules");
        let r1 = rules.index(1);
        assert_eq!(r1.field("segment").to_string(), "flags[0].rules[1].segment");
        assert_eq!(root.field("version").to_string(), "version");
        assert_eq!(r1.last_index(), Some(1));
    }
}
