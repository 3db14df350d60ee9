//! The entries of one mapping while it is read: duplicate keys and merge keys in O(keys).
//!
//! Small mappings (the common case: a flag has fewer than ten fields) are searched linearly;
//! once a mapping grows past [`INDEX_FROM`] entries a hash index of its key names is built and
//! kept up to date, so a mapping of n keys costs O(n) whatever its size.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Key, Node};

/// Entry count from which a hash index is kept.
const INDEX_FROM: usize = 16;

/// A mapping under construction: entries in source order, keys unique.
#[derive(Default)]
pub(super) struct Entries<'a> {
    list: Vec<(Key<'a>, Node<'a>)>,
    index: HashMap<Cow<'a, str>, usize>,
}

impl<'a> Entries<'a> {
    /// The entry whose key is `name`, if any.
    pub(super) fn find(&self, name: &str) -> Option<&Key<'a>> {
        if self.list.len() < INDEX_FROM {
            self.list.iter().map(|(k, _)| k).find(|k| k.name == name)
        } else {
            self.index.get(name).map(|&i| &self.list[i].0)
        }
    }

    /// Appends an entry whose key is known not to be present.
    pub(super) fn push(&mut self, key: Key<'a>, value: Node<'a>) {
        if self.list.len() + 1 == INDEX_FROM {
            for (i, (k, _)) in self.list.iter().enumerate() {
                self.index.insert(k.name.clone(), i);
            }
        }
        if self.list.len() + 1 >= INDEX_FROM {
            self.index.insert(key.name.clone(), self.list.len());
        }
        self.list.push((key, value));
    }

    /// Appends an entry unless its key is present (merge keys never override).
    pub(super) fn merge(&mut self, key: Key<'a>, value: Node<'a>) {
        if self.find(&key.name).is_none() {
            self.push(key, value);
        }
    }

    /// The entries in source order.
    pub(super) fn into_vec(self) -> Vec<(Key<'a>, Node<'a>)> {
        self.list
    }
}
