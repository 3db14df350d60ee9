//! Export of a compiled namespace: Flipt's client-snapshot JSON, Flipt's declarative format, and
//! the environments API's flag and segment resources (`resource`).
//!
//! The client snapshot is what Flipt serves at `/internal/v1/evaluation/snapshot/namespace/{ns}`
//! and `/client/v2/.../snapshot` (reference §4.4) and what Flipt's SDK engine deserialises: every
//! required field is present (protojson `EmitDefaultValues`), enums use the snapshot spellings
//! (`ALL_SEGMENT_MATCH_TYPE`, `STRING_CONSTRAINT_COMPARISON_TYPE`, `THRESHOLD_ROLLOUT_TYPE`) and a
//! variant without attachment carries the string `"null"`, as Flipt writes it. It has exactly
//! the fields of Flipt v2's `EvaluationNamespaceSnapshot` proto (`rpc/v2/evaluation/evaluationv2.proto`)
//! and no others, so protojson's strict decoder accepts it (`tests/proto` checks that).

mod resource;

use std::io;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::constraint::Constraint;
use crate::snapshot::{
    Flag, Namespace, Rollout, RolloutKind, Rule, Segment, SegmentOperator, Variant,
};

pub use resource::{FLAG_TYPE, SEGMENT_TYPE, write_flag_resource, write_segment_resource};

/// A float32 as protojson prints it: shortest form, integers without a fraction.
#[derive(Serialize)]
#[serde(untagged)]
enum F32Number {
    /// An integral value, printed without a fraction.
    Int(i64),
    /// The shortest decimal that reads back to the float32 (non-finite values print as `null`).
    Float(f64),
}

impl From<f32> for F32Number {
    fn from(v: f32) -> Self {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            return F32Number::Int(v as i64);
        }
        F32Number::Float(format!("{v}").parse().unwrap_or(f64::from(v)))
    }
}

/// A float32 as JSON the way protojson prints it (see [`F32Number`]).
fn f32_json(v: f32) -> Value {
    match F32Number::from(v) {
        F32Number::Int(i) => Value::from(i),
        F32Number::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
    }
}

/// A stable UUID-shaped id derived from `seed` (Flipt uses random ids; stable ones keep ETags stable).
fn stable_id(seed: &str) -> String {
    let h = Sha1::digest(seed.as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-5{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        &x[16..20],
        &x[20..32]
    )
}

fn constraint_json(c: &Constraint) -> Value {
    json!({
        "type": c.comparison.snapshot_str(),
        "property": c.property,
        "operator": c.operator.as_str(),
        "value": c.value,
    })
}

fn segment_json(s: &Segment) -> Value {
    json!({
        "key": s.key,
        "name": "",
        "description": "",
        "matchType": s.match_type.snapshot_str(),
        "constraints": s.constraints.iter().map(constraint_json).collect::<Vec<_>>(),
    })
}

fn flag_json(ns: &Namespace, f: &Flag, timestamp: &str) -> Value {
    let mut o = Map::new();
    o.insert("key".into(), json!(f.key));
    o.insert("name".into(), json!(""));
    o.insert("description".into(), json!(""));
    o.insert("enabled".into(), json!(f.enabled));
    o.insert("type".into(), json!(f.flag_type.as_str()));
    o.insert("createdAt".into(), json!(timestamp));
    o.insert("updatedAt".into(), json!(timestamp));
    let rules: Vec<Value> = f
        .rules
        .iter()
        .map(|r| {
            let id = stable_id(&format!("{}/{}/rule/{}", ns.key, f.key, r.rank));
            json!({
                "id": id,
                "rank": r.rank,
                "segmentOperator": r.segment_operator.as_str(),
                "segments": r.segments.iter().map(|s| segment_json(s)).collect::<Vec<_>>(),
                "distributions": r.distributions.iter().map(|d| {
                    let v = &f.variants[d.variant];
                    json!({
                        "ruleId": id,
                        "variantKey": v.key,
                        "variantAttachment": v.attachment_json,
                        "rollout": f32_json(d.rollout),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    o.insert("rules".into(), Value::Array(rules));
    let rollouts: Vec<Value> = f
        .rollouts
        .iter()
        .map(|r| {
            let mut ro = Map::new();
            match &r.kind {
                RolloutKind::Threshold { percentage, value } => {
                    ro.insert("type".into(), json!("THRESHOLD_ROLLOUT_TYPE"));
                    ro.insert("rank".into(), json!(r.rank));
                    ro.insert("threshold".into(), json!({ "percentage": f32_json(*percentage), "value": value }));
                }
                RolloutKind::Segment { segments, operator, value } => {
                    ro.insert("type".into(), json!("SEGMENT_ROLLOUT_TYPE"));
                    ro.insert("rank".into(), json!(r.rank));
                    ro.insert(
                        "segment".into(),
                        json!({
                            "value": value,
                            "segmentOperator": operator.as_str(),
                            "segments": segments.iter().map(|s| segment_json(s)).collect::<Vec<_>>(),
                        }),
                    );
                }
                RolloutKind::Empty => {
                    ro.insert("type".into(), json!("UNKNOWN_ROLLOUT_TYPE"));
                    ro.insert("rank".into(), json!(r.rank));
                }
            }
            Value::Object(ro)
        })
        .collect();
    o.insert("rollouts".into(), Value::Array(rollouts));
    if let Some(d) = f.default_variant() {
        o.insert(
            "defaultVariant".into(),
            json!({ "id": format!("{}/{}", f.key, d.key), "key": d.key, "attachment": d.snapshot_attachment_json }),
        );
    }
    Value::Object(o)
}

/// Flipt's `EvaluationNamespaceSnapshot` for one namespace as a JSON tree. `timestamp` (RFC 3339)
/// fills `createdAt`/`updatedAt`, which Flipt sets to the snapshot build time. Serving uses
/// [`write_client_snapshot`] (same bytes, no tree); this form is for tests and tools.
pub fn client_snapshot(ns: &Namespace, timestamp: &str) -> Value {
    json!({
        "namespace": { "key": ns.key },
        "digest": ns.digest,
        "flags": ns.flags.iter().map(|f| flag_json(ns, f, timestamp)).collect::<Vec<_>>(),
    })
}

/// The client snapshot of one namespace, serialised flag by flag without a JSON tree.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    namespace: NamespaceKey<'a>,
    digest: &'a str,
    flags: FlagsOut<'a>,
}

/// `{"key": ...}` of the snapshot's namespace.
#[derive(Serialize)]
struct NamespaceKey<'a> {
    key: &'a str,
}

/// Every flag of a namespace, serialised one at a time.
struct FlagsOut<'a> {
    ns: &'a Namespace,
    timestamp: &'a str,
}

impl Serialize for FlagsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.ns
                .flags
                .iter()
                .map(|f| FlagOut::new(self.ns, f, self.timestamp)),
        )
    }
}

/// One flag of the client snapshot.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagOut<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    enabled: bool,
    #[serde(rename = "type")]
    flag_type: &'static str,
    created_at: &'a str,
    updated_at: &'a str,
    rules: RulesOut<'a>,
    rollouts: RolloutsOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_variant: Option<DefaultVariantOut<'a>>,
}

impl<'a> FlagOut<'a> {
    fn new(ns: &'a Namespace, f: &'a Flag, timestamp: &'a str) -> Self {
        FlagOut {
            key: &f.key,
            name: "",
            description: "",
            enabled: f.enabled,
            flag_type: f.flag_type.as_str(),
            created_at: timestamp,
            updated_at: timestamp,
            rules: RulesOut { ns, flag: f },
            rollouts: RolloutsOut { flag: f },
            default_variant: f.default_variant().map(|d| DefaultVariantOut {
                id: IdOut {
                    flag: &f.key,
                    variant: &d.key,
                },
                key: &d.key,
                attachment: &d.snapshot_attachment_json,
            }),
        }
    }
}

/// A flag's default variant.
#[derive(Serialize)]
struct DefaultVariantOut<'a> {
    id: IdOut<'a>,
    key: &'a str,
    attachment: &'a str,
}

/// `"{flag}/{variant}"`, written without building the string.
struct IdOut<'a> {
    flag: &'a str,
    variant: &'a str,
}

impl Serialize for IdOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}/{}", self.flag, self.variant))
    }
}

/// A flag's rules, each with its stable id.
struct RulesOut<'a> {
    ns: &'a Namespace,
    flag: &'a Flag,
}

impl Serialize for RulesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.flag.rules.len()))?;
        for r in &self.flag.rules {
            let id = stable_id(&format!(
                "{}/{}/rule/{}",
                self.ns.key, self.flag.key, r.rank
            ));
            seq.serialize_element(&RuleOut {
                id: &id,
                rank: r.rank,
                segment_operator: r.segment_operator.as_str(),
                segments: SegmentsOut(&r.segments),
                distributions: DistributionsOut {
                    rule_id: &id,
                    flag: self.flag,
                    rule: r,
                },
            })?;
        }
        seq.end()
    }
}

/// One rule of the client snapshot.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleOut<'a> {
    id: &'a str,
    rank: u32,
    segment_operator: &'static str,
    segments: SegmentsOut<'a>,
    distributions: DistributionsOut<'a>,
}

/// A rule's distributions.
struct DistributionsOut<'a> {
    rule_id: &'a str,
    flag: &'a Flag,
    rule: &'a Rule,
}

impl Serialize for DistributionsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.rule.distributions.iter().map(|d| {
            let v = &self.flag.variants[d.variant];
            DistributionOut {
                rule_id: self.rule_id,
                variant_key: &v.key,
                variant_attachment: &v.attachment_json,
                rollout: F32Number::from(d.rollout),
            }
        }))
    }
}

/// One distribution of a rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DistributionOut<'a> {
    rule_id: &'a str,
    variant_key: &'a str,
    variant_attachment: &'a str,
    rollout: F32Number,
}

/// A flag's rollouts.
struct RolloutsOut<'a> {
    flag: &'a Flag,
}

impl Serialize for RolloutsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.flag.rollouts.iter().map(RolloutOut::new))
    }
}

/// One rollout: its type and rank, then the threshold or segment part.
#[derive(Serialize)]
struct RolloutOut<'a> {
    #[serde(rename = "type")]
    rollout_type: &'static str,
    rank: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<ThresholdOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<SegmentRolloutOut<'a>>,
}

impl<'a> RolloutOut<'a> {
    fn new(r: &'a Rollout) -> Self {
        let (rollout_type, threshold, segment) = match &r.kind {
            RolloutKind::Threshold { percentage, value } => (
                "THRESHOLD_ROLLOUT_TYPE",
                Some(ThresholdOut {
                    percentage: F32Number::from(*percentage),
                    value: *value,
                }),
                None,
            ),
            RolloutKind::Segment {
                segments,
                operator,
                value,
            } => (
                "SEGMENT_ROLLOUT_TYPE",
                None,
                Some(SegmentRolloutOut {
                    value: *value,
                    segment_operator: operator.as_str(),
                    segments: SegmentsOut(segments),
                }),
            ),
            RolloutKind::Empty => ("UNKNOWN_ROLLOUT_TYPE", None, None),
        };
        RolloutOut {
            rollout_type,
            rank: r.rank,
            threshold,
            segment,
        }
    }
}

/// A threshold rollout's part.
#[derive(Serialize)]
struct ThresholdOut {
    percentage: F32Number,
    value: bool,
}

/// A segment rollout's part.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentRolloutOut<'a> {
    value: bool,
    segment_operator: &'static str,
    segments: SegmentsOut<'a>,
}

/// Segments as the snapshot embeds them (whole, in file order).
struct SegmentsOut<'a>(&'a [Arc<Segment>]);

impl Serialize for SegmentsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|seg| SegmentOut {
            key: &seg.key,
            name: "",
            description: "",
            match_type: seg.match_type.snapshot_str(),
            constraints: ConstraintsOut(&seg.constraints),
        }))
    }
}

/// One segment of the snapshot.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentOut<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    match_type: &'static str,
    constraints: ConstraintsOut<'a>,
}

/// A segment's constraints.
struct ConstraintsOut<'a>(&'a [Constraint]);

impl Serialize for ConstraintsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|c| ConstraintOut {
            constraint_type: c.comparison.snapshot_str(),
            property: &c.property,
            operator: c.operator.as_str(),
            value: &c.value,
        }))
    }
}

/// One constraint of the snapshot.
#[derive(Serialize)]
struct ConstraintOut<'a> {
    #[serde(rename = "type")]
    constraint_type: &'static str,
    property: &'a str,
    operator: &'static str,
    value: &'a str,
}

/// Writes Flipt's `EvaluationNamespaceSnapshot` for one namespace to `w`, flag by flag, without
/// building a JSON tree; the bytes are those of `serde_json::to_vec(&client_snapshot(ns, timestamp))`.
pub fn write_client_snapshot<W: io::Write>(
    w: W,
    ns: &Namespace,
    timestamp: &str,
) -> io::Result<()> {
    let out = SnapshotOut {
        namespace: NamespaceKey { key: &ns.key },
        digest: &ns.digest,
        flags: FlagsOut { ns, timestamp },
    };
    serde_json::to_writer(w, &out).map_err(io::Error::from)
}

fn opt(o: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        o.insert(key.into(), json!(v));
    }
}

/// A rule's segments, always in the object form: Flipt v2 reads `segment: key` from YAML but
/// not from JSON (`SegmentRule.UnmarshalJSON`), and the document may be saved as either.
fn segment_ref(segments: &[Arc<Segment>], operator: SegmentOperator) -> Value {
    json!({ "keys": segments.iter().map(|s| s.key.clone()).collect::<Vec<_>>(), "operator": operator.as_str() })
}

/// The namespace as one Flipt declarative document (format 1.6), which reads back to the same
/// compiled namespace.
pub fn document(ns: &Namespace) -> Value {
    let mut nso = Map::new();
    nso.insert("key".into(), json!(ns.key));
    opt(&mut nso, "name", &ns.name);
    opt(&mut nso, "description", &ns.description);
    let flags: Vec<Value> = ns.flags.iter().map(|f| document_flag(f)).collect();
    let segments: Vec<Value> = ns.segments.iter().map(|s| document_segment(s)).collect();
    json!({ "version": "1.6", "namespace": Value::Object(nso), "flags": flags, "segments": segments })
}

/// A flag of [`document`].
fn document_flag(f: &Flag) -> Value {
    let mut o = Map::new();
    o.insert("key".into(), json!(f.key));
    o.insert("name".into(), json!(f.name));
    opt(&mut o, "description", &f.description);
    o.insert("type".into(), json!(f.flag_type.as_str()));
    o.insert("enabled".into(), json!(f.enabled));
    if !f.metadata.is_empty() {
        o.insert("metadata".into(), Value::Object(f.metadata.clone()));
    }
    let variants: Vec<Value> = f.variants.iter().map(document_variant).collect();
    o.insert("variants".into(), Value::Array(variants));
    let rules: Vec<Value> = f
        .rules
        .iter()
        .map(|r| {
            json!({
                "segment": segment_ref(&r.segments, r.segment_operator),
                "distributions": r.distributions.iter().map(|d| json!({
                    "variant": f.variants[d.variant].key,
                    "rollout": f32_json(d.rollout),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    o.insert("rules".into(), Value::Array(rules));
    if !f.rollouts.is_empty() {
        let rollouts: Vec<Value> = f.rollouts.iter().map(document_rollout).collect();
        o.insert("rollouts".into(), Value::Array(rollouts));
    }
    Value::Object(o)
}

/// A variant of [`document`].
fn document_variant(v: &Variant) -> Value {
    let mut vo = Map::new();
    vo.insert("key".into(), json!(v.key));
    opt(&mut vo, "name", &v.name);
    opt(&mut vo, "description", &v.description);
    if let Some(a) = &v.attachment {
        vo.insert("attachment".into(), a.clone());
    }
    if v.is_default {
        vo.insert("default".into(), json!(true));
    }
    Value::Object(vo)
}

/// A rollout of [`document`].
fn document_rollout(r: &Rollout) -> Value {
    let mut ro = Map::new();
    opt(&mut ro, "description", &r.description);
    match &r.kind {
        RolloutKind::Threshold { percentage, value } => {
            ro.insert(
                "threshold".into(),
                json!({ "percentage": f32_json(*percentage), "value": value }),
            );
        }
        RolloutKind::Segment {
            segments,
            operator,
            value,
        } => {
            ro.insert(
                "segment".into(),
                json!({
                    "keys": segments.iter().map(|s| s.key.clone()).collect::<Vec<_>>(),
                    "operator": operator.as_str(),
                    "value": value,
                }),
            );
        }
        RolloutKind::Empty => {}
    }
    Value::Object(ro)
}

/// A segment of [`document`].
fn document_segment(s: &Segment) -> Value {
    let mut so = Map::new();
    so.insert("key".into(), json!(s.key));
    so.insert("name".into(), json!(s.name));
    opt(&mut so, "description", &s.description);
    so.insert("match_type".into(), json!(s.match_type.as_str()));
    let constraints: Vec<Value> = s.constraints.iter().map(document_constraint).collect();
    so.insert("constraints".into(), Value::Array(constraints));
    Value::Object(so)
}

/// A constraint of [`document`]: a list operator's value as the list it holds.
fn document_constraint(c: &Constraint) -> Value {
    let mut co = Map::new();
    co.insert("type".into(), json!(c.comparison.as_str()));
    co.insert("property".into(), json!(c.property));
    co.insert("operator".into(), json!(c.operator.as_str()));
    if c.operator.takes_list() {
        let list: Value = serde_json::from_str(&c.value).unwrap_or(Value::Array(vec![]));
        co.insert("value".into(), list);
    } else if !c.operator.takes_no_value() || !c.value.is_empty() {
        co.insert("value".into(), json!(c.value));
    }
    opt(&mut co, "description", &c.description);
    Value::Object(co)
}
