//! A serde deserializer over the positioned configuration tree: typed settings are read from it
//! as from any format, and every error comes back with the origin and key path of the innermost
//! value it concerns (an unknown key points at that key, with a "did you mean").

use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use switchyard_core::closest_name;

use super::node::{Entry, Node, Origin, Problem, Val, join};

/// Reads `T` from `node`, which is written at key path `path`.
pub(super) fn from_node<T: DeserializeOwned>(node: &Node, path: &str) -> Result<T, Problem> {
    T::deserialize(De {
        node,
        path: path.to_string(),
    })
    .map_err(|e| e.locate(node, path).into_problem(node, path))
}

/// A deserialization error; located once, by the innermost value that sees it.
#[derive(Debug)]
pub(super) struct Error {
    at: Option<(Origin, String)>,
    message: String,
    /// The unknown key this error is about, to point at the key itself.
    unknown: Option<String>,
}

impl Error {
    fn locate(mut self, node: &Node, path: &str) -> Self {
        if self.at.is_some() {
            return self;
        }
        let key = self.unknown.as_deref().and_then(|k| node.entry(k));
        self.at = Some(match key {
            Some(e) => (e.origin.clone(), join(path, &e.written)),
            None => (node.origin.clone(), path.to_string()),
        });
        self
    }

    fn into_problem(self, node: &Node, path: &str) -> Problem {
        let (origin, path) = self
            .at
            .unwrap_or_else(|| (node.origin.clone(), path.to_string()));
        Problem {
            origin,
            path,
            message: self.message,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

fn hint(unknown: &str, expected: &[&str]) -> String {
    match closest_name(unknown, expected) {
        Some(k) => format!("; did you mean `{k}`?"),
        None if expected.is_empty() => String::new(),
        None => format!(
            " (expected one of {})",
            expected
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            at: None,
            message: msg.to_string(),
            unknown: None,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error {
            at: None,
            message: format!("unknown key `{field}`{}", hint(field, expected)),
            unknown: Some(field.to_string()),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::custom(format!(
            "unknown value `{variant}`{}",
            hint(variant, expected)
        ))
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::custom(format!("expected {exp}, found {unexp}"))
    }
}

struct De<'a> {
    node: &'a Node,
    path: String,
}

impl<'a> De<'a> {
    fn scalar_text(&self) -> Option<String> {
        match &self.node.value {
            Val::Str(s) => Some(s.clone()),
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(f.to_string()),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn locate<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        r.map_err(|e| e.locate(self.node, &self.path))
    }
}

impl<'de, 'a> de::Deserializer<'de> for De<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let r = match &self.node.value {
            Val::Null => visitor.visit_unit(),
            Val::Bool(b) => visitor.visit_bool(*b),
            Val::Int(i) => visitor.visit_i64(*i),
            Val::Float(f) => visitor.visit_f64(*f),
            Val::Str(s) => visitor.visit_str(s),
            Val::Seq(items) => visitor.visit_seq(Seq {
                items: items.iter(),
                index: 0,
                path: &self.path,
            }),
            Val::Map(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                current: None,
                path: &self.path,
            }),
        };
        self.locate(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if matches!(self.node.value, Val::Null) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.scalar_text() {
            Some(s) => {
                let r = visitor.visit_string(s);
                self.locate(r)
            }
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            Val::Str(s) => {
                let d: StrDeserializer<'_, Error> = s.as_str().into_deserializer();
                let r = visitor.visit_enum(d);
                self.locate(r)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'a, 'p> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
    path: &'p str,
}

impl<'de> SeqAccess<'de> for Seq<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(De {
            node,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| e.locate(node, &path))
    }
}

struct Map<'a, 'p> {
    entries: std::slice::Iter<'a, Entry>,
    current: Option<&'a Entry>,
    path: &'p str,
}

impl<'de> MapAccess<'de> for Map<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let d: StrDeserializer<'_, Error> = entry.key.as_str().into_deserializer();
        seed.deserialize(d).map(Some).map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some((entry.origin.clone(), join(self.path, &entry.written)));
            }
            e
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some(entry) = self.current.take() else {
            return Err(de::Error::custom("a value without a key"));
        };
        let path = join(self.path, &entry.written);
        seed.deserialize(De {
            node: &entry.value,
            path: path.clone(),
        })
        .map_err(|e| e.locate(&entry.value, &path))
    }
}
