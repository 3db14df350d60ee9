//! Tests' view of JSON field order: objects with their keys in the order they are written (a
//! `serde_json::Value` sorts them).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value reduced to its structure: objects keep their written key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An object's entries, in written order.
    Object(Vec<(String, Node)>),
    /// An array's items.
    Array(Vec<Node>),
    /// A string, number, boolean or null.
    Scalar,
}

impl Node {
    /// The object's keys in written order (empty for anything else).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Node::Object(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The item at `index` of an array.
    pub fn at(&self, index: usize) -> Option<&Node> {
        match self {
            Node::Array(items) => items.get(index),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Node>()? {
                    entries.push(entry);
                }
                Ok(Node::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
        }
        d.deserialize_any(V)
    }
}

/// `text` parsed with its key order kept; `None` when it is not JSON.
pub fn parse(text: &str) -> Option<Node> {
    serde_json::from_str(text).ok()
}

/// The keys of the JSON object `text`, in written order (empty when it is not an object).
pub fn keys(text: &str) -> Vec<String> {
    parse(text)
        .map(|n| n.keys().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_in_written_order() {
        assert_eq!(
            keys(r#"{"b":1,"a":{"z":0,"y":[{"q":1,"p":2}]},"c":[]}"#),
            ["b", "a", "c"]
        );
        let n = parse(r#"{"b":1,"a":{"z":0,"y":[{"q":1,"p":null}]}}"#);
        let inner = n.as_ref().and_then(|n| n.get("a"));
        assert_eq!(inner.map(Node::keys), Some(vec!["z", "y"]));
        let item = inner.and_then(|a| a.get("y")).and_then(|y| y.at(0));
        assert_eq!(item.map(Node::keys), Some(vec!["q", "p"]));
        assert!(keys("[1]").is_empty());
        assert!(parse("{").is_none());
    }
}
