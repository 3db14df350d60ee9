//! Flipt's evaluation request bodies, read as its gateway's `jsonpb.Unmarshaler` reads them
//! (golang/protobuf 1.5 `jsonpb/decode.go`, `unmarshalMessage`): a field is found by its proto
//! name (`flag_key`) and then by its JSON name (`flagKey`), the JSON name winning when both are
//! given; a repeated key keeps its last value; a `null` field is skipped; a `null` map value is
//! the empty string; unknown fields are ignored.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::context::{ContextSeed, RequestContext, Text, Values};

/// Flipt's `EvaluationRequest`, borrowing from the body where no unescaping is needed.
#[derive(Debug, Default)]
pub(crate) struct EvaluationRequest<'b> {
    /// `requestId` (empty: the request's id).
    pub(crate) request_id: Cow<'b, str>,
    /// `namespaceKey` (empty: `default`).
    pub(crate) namespace_key: Cow<'b, str>,
    /// `flagKey` (empty: a flag that is not found).
    pub(crate) flag_key: Cow<'b, str>,
    /// `entityId`.
    pub(crate) entity_id: Cow<'b, str>,
    /// `context`.
    pub(crate) context: RequestContext<'b>,
    /// `environmentKey` (empty or unknown: the header's or the default environment).
    pub(crate) environment_key: Cow<'b, str>,
}

/// Flipt's `BatchEvaluationRequest`, and `environmentKey`, Switchyard's default for the items
/// that name none (Flipt has no such field and ignores it).
#[derive(Debug, Default)]
pub(crate) struct BatchEvaluationRequest<'b> {
    /// `requestId` (empty: the request's id).
    pub(crate) request_id: Cow<'b, str>,
    /// `requests`.
    pub(crate) requests: Vec<EvaluationRequest<'b>>,
    /// `environmentKey`, for the items without one.
    pub(crate) environment_key: Cow<'b, str>,
}

/// A field as written under its two names: `None` when absent, `Some(None)` when `null`.
struct Named<T> {
    json: Option<Option<T>>,
    proto: Option<Option<T>>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named {
            json: None,
            proto: None,
        }
    }
}

impl<T: Default> Named<T> {
    /// Stores a value read under the JSON name (`json`) or the proto name.
    fn set(&mut self, json: bool, v: Option<T>) {
        if json {
            self.json = Some(v);
        } else {
            self.proto = Some(v);
        }
    }

    /// The value Flipt keeps: the JSON name's if present, else the proto name's; `null` skipped.
    fn get(self) -> T {
        self.json.or(self.proto).flatten().unwrap_or_default()
    }
}

/// The field names of both messages.
enum Name {
    RequestId(bool),
    NamespaceKey(bool),
    FlagKey(bool),
    EntityId(bool),
    Context,
    EnvironmentKey(bool),
    Reference,
    Requests,
    Other,
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name, E> {
                Ok(match s {
                    "requestId" => Name::RequestId(true),
                    "request_id" => Name::RequestId(false),
                    "namespaceKey" => Name::NamespaceKey(true),
                    "namespace_key" => Name::NamespaceKey(false),
                    "flagKey" => Name::FlagKey(true),
                    "flag_key" => Name::FlagKey(false),
                    "entityId" => Name::EntityId(true),
                    "entity_id" => Name::EntityId(false),
                    "context" => Name::Context,
                    "environmentKey" => Name::EnvironmentKey(true),
                    "environment_key" => Name::EnvironmentKey(false),
                    "reference" => Name::Reference,
                    "requests" => Name::Requests,
                    _ => Name::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// An item of `requests`: an object, or `null` read as an empty request.
struct Item<'b>(EvaluationRequest<'b>);

impl<'de> Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<EvaluationRequest<'de>>::deserialize(d).map(|r| Item(r.unwrap_or_default()))
    }
}

/// `requests`: a list of requests.
struct Items<'b>(Vec<EvaluationRequest<'b>>);

impl<'de> Deserialize<'de> for Items<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of requests")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Items<'de>, A::Error> {
                let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(1024));
                while let Some(Item(r)) = s.next_element()? {
                    out.push(r);
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Every field of both messages, as written.
#[derive(Default)]
struct Fields<'b> {
    request_id: Named<Cow<'b, str>>,
    namespace_key: Named<Cow<'b, str>>,
    flag_key: Named<Cow<'b, str>>,
    entity_id: Named<Cow<'b, str>>,
    context: Named<RequestContext<'b>>,
    environment_key: Named<Cow<'b, str>>,
    requests: Named<Vec<EvaluationRequest<'b>>>,
}

/// A string member: `None` when `null`.
fn text<'de, A: MapAccess<'de>>(m: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
    Ok(m.next_value::<Option<Text<'de>>>()?.map(|t| t.0))
}

impl<'de> Fields<'de> {
    /// Reads the fields of a batch request (`batch`) or of a single one; the other message's
    /// fields are unknown there, and ignored whatever their type, as Flipt ignores them.
    fn read<D: Deserializer<'de>>(d: D, batch: bool) -> Result<Self, D::Error> {
        struct V {
            batch: bool,
        }
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Fields<'de>, A::Error> {
                let mut f = Fields::default();
                while let Some(key) = m.next_key::<Name>()? {
                    match key {
                        Name::RequestId(j) => f.request_id.set(j, text(&mut m)?),
                        Name::EnvironmentKey(j) => f.environment_key.set(j, text(&mut m)?),
                        Name::Reference => {
                            // read for its type, then ignored (Flipt v2 ignores it too)
                            m.next_value::<Option<String>>()?;
                        }
                        Name::NamespaceKey(j) if !self.batch => {
                            f.namespace_key.set(j, text(&mut m)?)
                        }
                        Name::FlagKey(j) if !self.batch => f.flag_key.set(j, text(&mut m)?),
                        Name::EntityId(j) if !self.batch => f.entity_id.set(j, text(&mut m)?),
                        Name::Context if !self.batch => {
                            let c = m.next_value_seed(ContextSeed(Values::Strings))?;
                            f.context.set(true, Some(c));
                        }
                        Name::Requests if self.batch => {
                            let r: Option<Items<'de>> = m.next_value()?;
                            f.requests.set(true, r.map(|r| r.0));
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(f)
            }
        }
        d.deserialize_map(V { batch })
    }
}

impl<'de> Deserialize<'de> for EvaluationRequest<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = Fields::read(d, false)?;
        Ok(EvaluationRequest {
            request_id: f.request_id.get(),
            namespace_key: f.namespace_key.get(),
            flag_key: f.flag_key.get(),
            entity_id: f.entity_id.get(),
            context: f.context.get(),
            environment_key: f.environment_key.get(),
        })
    }
}

impl<'de> Deserialize<'de> for BatchEvaluationRequest<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = Fields::read(d, true)?;
        Ok(BatchEvaluationRequest {
            request_id: f.request_id.get(),
            requests: f.requests.get(),
            environment_key: f.environment_key.get(),
        })
    }
}

#[cfg(test)]
mod tests {
    //! Vectors pinned from golang/protobuf 1.5 `jsonpb` (`Unmarshaler.unmarshalMessage` and
    //! `unmarshalValue`), as Flipt's `gateway.V1toV2MarshallerAdapter` decodes requests.

    use super::{BatchEvaluationRequest, EvaluationRequest};
    use crate::body::{INVALID_VALUES, parse};

    fn req(body: &str) -> Result<EvaluationRequest<'_>, String> {
        parse(body.as_bytes())
    }

    #[test]
    fn names_nulls_and_repeats_as_jsonpb_reads_them() {
        let r = req(r#"{"flag_key":"snake","flagKey":"camel"}"#).unwrap();
        assert_eq!(r.flag_key, "camel");
        let r = req(r#"{"flagKey":"camel","flag_key":"snake"}"#).unwrap();
        assert_eq!(r.flag_key, "camel", "the JSON name wins whatever the order");
        let r = req(r#"{"flagKey":"a","flagKey":"b"}"#).unwrap();
        assert_eq!(r.flag_key, "b", "a repeated key keeps its last value");
        let r = req(r#"{"flag_key":"snake","flagKey":null}"#).unwrap();
        assert_eq!(
            r.flag_key, "",
            "a null JSON name hides the proto name, then is skipped"
        );
        let r =
            req(r#"{"flagKey":null,"entityId":null,"context":null,"unknown":{"x":[1]}}"#).unwrap();
        assert_eq!((&*r.flag_key, r.context.is_empty()), ("", true));
        let r = req(r#"{"context":{"a":null,"b":"x"}}"#).unwrap();
        assert_eq!(r.context.value("a"), Some(""));
        assert_eq!(r.context.value("b"), Some("x"));
        let b: BatchEvaluationRequest =
            parse(br#"{"requests":[null,{"flagKey":"x"}],"request_id":"r"}"#).unwrap();
        assert_eq!(b.requests.len(), 2);
        assert_eq!((&*b.requests[1].flag_key, &*b.request_id), ("x", "r"));
    }

    #[test]
    fn values_of_the_wrong_type_are_invalid_values() {
        for body in [
            r#"{"flagKey":42}"#,
            r#"{"flagKey":true}"#,
            r#"{"context":{"age":3}}"#,
            r#"{"context":"x"}"#,
            r#"{"context":[]}"#,
            "[]",
            r#""x""#,
            "1",
        ] {
            assert_eq!(req(body).err().as_deref(), Some(INVALID_VALUES), "{body}");
        }
        // fields of the other message are unknown, whatever their type
        assert!(req(r#"{"requests":"x","flagKey":"f"}"#).is_ok());
        let b: Result<BatchEvaluationRequest, _> = parse(br#"{"flagKey":42,"requests":[]}"#);
        assert!(b.is_ok());
        assert_eq!(
            req(r#"{"reference":1}"#).err().as_deref(),
            Some(INVALID_VALUES)
        );
        for body in [
            r#"{"requests":"x"}"#,
            r#"{"requests":{}}"#,
            r#"{"requests":[1]}"#,
        ] {
            let r: Result<BatchEvaluationRequest, _> = parse(body.as_bytes());
            assert_eq!(r.err().as_deref(), Some(INVALID_VALUES), "{body}");
        }
    }
}
