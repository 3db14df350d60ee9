//! An evaluation context read from a request body, borrowing its keys and values from the body
//! where they need no unescaping: one allocation for the list, none per entry.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use switchyard_core::Context;

/// Past this many entries the list is sorted once for binary-search lookups.
const LINEAR_MAX: usize = 16;

/// Key/value pairs as read; a repeated key keeps its last value, as in a map.
#[derive(Debug, Default)]
pub(crate) struct RequestContext<'b> {
    pairs: Vec<(Cow<'b, str>, Cow<'b, str>)>,
    sorted: bool,
}

impl<'b> RequestContext<'b> {
    /// A context of `pairs` (the last of a repeated key wins).
    pub(crate) fn from_pairs(mut pairs: Vec<(Cow<'b, str>, Cow<'b, str>)>) -> Self {
        let sorted = pairs.len() > LINEAR_MAX;
        if sorted {
            // keep the last of each key: reversed, a stable sort puts it first of its run
            pairs.reverse();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs.dedup_by(|later, first| later.0 == first.0);
        }
        RequestContext { pairs, sorted }
    }

    /// The same context owning its strings.
    pub(crate) fn into_owned(self) -> RequestContext<'static> {
        RequestContext {
            pairs: self
                .pairs
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
            sorted: self.sorted,
        }
    }

    /// Whether there are no entries.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value for `key`, if present.
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        if self.sorted {
            self.pairs
                .binary_search_by(|(k, _)| k.as_ref().cmp(key))
                .ok()
                .map(|i| self.pairs[i].1.as_ref())
        } else {
            self.pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_ref())
        }
    }
}

impl Context for RequestContext<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.value(key)
    }
}

/// How the values are read.
#[derive(Clone, Copy)]
pub(crate) enum Values {
    /// Strings only, `null` as `""` (Flipt's `map<string,string>` through jsonpb).
    Strings,
    /// Any JSON value: strings as they are, `null` as `""`, others as their JSON text (OFREP).
    Any,
}

/// A string, borrowed when the input needs no unescaping.
pub(crate) struct Text<'b>(pub(crate) Cow<'b, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One value, read as [`Values`] says.
struct Entry(Values);

impl<'de> de::DeserializeSeed<'de> for Entry {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        struct V(Values);
        impl<'de> V {
            fn other<E: de::Error>(&self, v: impl FnOnce() -> Value) -> Result<Cow<'de, str>, E> {
                match self.0 {
                    Values::Any => Ok(Cow::Owned(v().to_string())),
                    Values::Strings => Err(E::custom("not a string")),
                }
            }
        }
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a context value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s))
            }
            // jsonpb reads `null` into a Go string as ""
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(""))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(""))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                self.other(|| Value::from(b))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                self.other(|| Value::from(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                self.other(|| Value::from(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                self.other(|| Value::from(n))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(s))?;
                self.other(|| v)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(m))?;
                self.other(|| v)
            }
        }
        d.deserialize_any(V(self.0))
    }
}

/// Reads a context object (`null`: empty) with values read as `values` says.
pub(crate) struct ContextSeed(pub(crate) Values);

impl<'de> de::DeserializeSeed<'de> for ContextSeed {
    type Value = RequestContext<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RequestContext<'de>, D::Error> {
        struct V(Values);
        impl<'de> Visitor<'de> for V {
            type Value = RequestContext<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequestContext::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequestContext::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(8).min(64));
                while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
                    let v = m.next_value_seed(Entry(self.0))?;
                    pairs.push((k, v));
                }
                Ok(RequestContext::from_pairs(pairs))
            }
        }
        d.deserialize_option(V(self.0))
    }
}

/// A context object or `null` (`Some`), or any other value, skipped (`None`).
struct Lenient<'b>(Option<RequestContext<'b>>);

impl<'de> Deserialize<'de> for Lenient<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                let d = de::value::MapAccessDeserializer::new(m);
                de::DeserializeSeed::deserialize(ContextSeed(Values::Any), d)
                    .map(|c| Lenient(Some(c)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient(Some(RequestContext::default())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// OFREP's request body: only `context` is read (other members are ignored).
#[derive(Default)]
pub(crate) struct OfrepBody<'b> {
    /// `context` (absent or `null`: empty).
    pub(crate) context: RequestContext<'b>,
}

impl<'de> Deserialize<'de> for OfrepBody<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OfrepBody<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // a repeated `context` keeps the last, as a JSON object does: one of the wrong
                // type is an error only if no other follows it
                let mut last: Option<Option<RequestContext<'de>>> = None;
                while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
                    if k == "context" {
                        last = Some(m.next_value::<Lenient<'de>>()?.0);
                    } else {
                        m.next_value::<de::IgnoredAny>()?;
                    }
                }
                match last {
                    None => Ok(OfrepBody::default()),
                    Some(Some(context)) => Ok(OfrepBody { context }),
                    Some(None) => Err(de::Error::custom("context is not an object")),
                }
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::{Map, Value};

    use super::*;
    use crate::body::parse;

    /// The former reading, through a `serde_json::Map`: the oracle.
    fn former(body: &[u8]) -> Result<HashMap<String, String>, String> {
        let mut parsed: Map<String, Value> = parse(body)?;
        let ctx = match parsed.remove("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(crate::body::INVALID_VALUES.to_string()),
        };
        Ok(ctx
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect())
    }

    #[test]
    fn reads_what_the_map_reading_read() {
        let mut many = String::from(r#"{"context":{"#);
        for i in 0..40 {
            many.push_str(&format!(r#""k{}":"v{i}","#, i % 23));
        }
        many.push_str(r#""last":1}}"#);
        for body in [
            "",
            "null",
            "{}",
            r#"{"context":null}"#,
            r#"{"context":{}}"#,
            r#"{"context":{"a":"x","b":null,"c":1,"d":-2,"e":1.5,"f":true,"g":[1,{"z":1,"a":2}],"h":{"y":null,"b":[]},"i":1e300,"j":12345678901234567890}}"#,
            r#"{"context":{"a":"1","a":"2"},"other":[1,2]}"#,
            r#"{"context":{"a":"1"},"context":{"b":"2"}}"#,
            r#"{"context":5,"context":{"b":"2"}}"#,
            r#"{"context":[1,[2]],"context":null}"#,
            r#"{"context":{"b":"2"},"context":"x"}"#,
            r#"{"context":{"esc\"aped\u00e9":"v\\al\nue"}}"#,
            r#"{"context":"x"}"#,
            r#"{"context":[]}"#,
            r#"{"context":1}"#,
            "[]",
            "1",
            r#"{"context":{"a":"1"}} trailing"#,
            many.as_str(),
        ] {
            let want = former(body.as_bytes());
            let got: Result<OfrepBody<'_>, String> = parse(body.as_bytes());
            match (want, got) {
                (Ok(want), Ok(got)) => {
                    for (k, v) in &want {
                        assert_eq!(got.context.value(k), Some(v.as_str()), "{body}: {k}");
                    }
                    let distinct: std::collections::HashSet<&str> =
                        got.context.pairs.iter().map(|(k, _)| k.as_ref()).collect();
                    assert_eq!(distinct.len(), want.len(), "{body}");
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{body}"),
                (a, b) => panic!("{body}: {a:?} vs {:?}", b.map(|b| b.context)),
            }
        }
    }
}
