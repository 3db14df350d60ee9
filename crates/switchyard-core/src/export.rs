//! Export of a compiled namespace: Flipt's client-snapshot JSON, and Flipt's declarative format.
//!
//! The client snapshot is what Flipt serves at `/internal/v1/evaluation/snapshot/namespace/{ns}`
//! and `/client/v2/.../snapshot` (reference §4.4) and what Flipt's SDK engine deserialises: every
//! required field is present (protojson `EmitDefaultValues`), enums use the snapshot spellings
//! (`ALL_SEGMENT_MATCH_TYPE`, `STRING_CONSTRAINT_COMPARISON_TYPE`, `THRESHOLD_ROLLOUT_TYPE`) and a
//! variant without attachment carries the string `"null"`, as Flipt writes it. It has exactly
//! the fields of Flipt v2's `EvaluationNamespaceSnapshot` proto (`rpc/v2/evaluation/evaluationv2.proto`)
//! and no others, so protojson's strict decoder accepts it (`tests/proto` checks that).

use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::constraint::Constraint;
use crate::snapshot::{Flag, Namespace, RolloutKind, Segment, SegmentOperator};

/// A float32 as JSON the way protojson prints it: shortest form, integers without a fraction.
fn f32_json(v: f32) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return Value::from(v as i64);
    }
    let shortest: f64 = format!("{v}").parse().unwrap_or(f64::from(v));
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
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

/// Flipt's `EvaluationNamespaceSnapshot` for one namespace. `timestamp` (RFC 3339) fills
/// `createdAt`/`updatedAt`, which Flipt sets to the snapshot build time.
pub fn client_snapshot(ns: &Namespace, timestamp: &str) -> Value {
    json!({
        "namespace": { "key": ns.key },
        "digest": ns.digest,
        "flags": ns.flags.iter().map(|f| flag_json(ns, f, timestamp)).collect::<Vec<_>>(),
    })
}

fn opt(o: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        o.insert(key.into(), json!(v));
    }
}

fn segment_ref(segments: &[std::sync::Arc<Segment>], operator: SegmentOperator) -> Value {
    if segments.len() == 1 && operator == SegmentOperator::Or {
        json!(segments[0].key)
    } else {
        json!({ "keys": segments.iter().map(|s| s.key.clone()).collect::<Vec<_>>(), "operator": operator.as_str() })
    }
}

/// The namespace as one Flipt declarative document (format 1.6), which reads back to the same
/// compiled namespace.
pub fn document(ns: &Namespace) -> Value {
    let mut nso = Map::new();
    nso.insert("key".into(), json!(ns.key));
    opt(&mut nso, "name", &ns.name);
    opt(&mut nso, "description", &ns.description);
    let flags: Vec<Value> = ns
        .flags
        .iter()
        .map(|f| {
            let mut o = Map::new();
            o.insert("key".into(), json!(f.key));
            o.insert("name".into(), json!(f.name));
            opt(&mut o, "description", &f.description);
            o.insert("type".into(), json!(f.flag_type.as_str()));
            o.insert("enabled".into(), json!(f.enabled));
            if !f.metadata.is_empty() {
                o.insert("metadata".into(), Value::Object(f.metadata.clone()));
            }
            let variants: Vec<Value> = f
                .variants
                .iter()
                .map(|v| {
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
                })
                .collect();
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
                let rollouts: Vec<Value> = f
                    .rollouts
                    .iter()
                    .map(|r| {
                        let mut ro = Map::new();
                        opt(&mut ro, "description", &r.description);
                        match &r.kind {
                            RolloutKind::Threshold { percentage, value } => {
                                ro.insert("threshold".into(), json!({ "percentage": f32_json(*percentage), "value": value }));
                            }
                            RolloutKind::Segment { segments, operator, value } => {
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
                    })
                    .collect();
                o.insert("rollouts".into(), Value::Array(rollouts));
            }
            Value::Object(o)
        })
        .collect();
    let segments: Vec<Value> = ns
        .segments
        .iter()
        .map(|s| {
            let mut so = Map::new();
            so.insert("key".into(), json!(s.key));
            so.insert("name".into(), json!(s.name));
            opt(&mut so, "description", &s.description);
            so.insert("match_type".into(), json!(s.match_type.as_str()));
            let constraints: Vec<Value> = s
                .constraints
                .iter()
                .map(|c| {
                    let mut co = Map::new();
                    co.insert("type".into(), json!(c.comparison.as_str()));
                    co.insert("property".into(), json!(c.property));
                    co.insert("operator".into(), json!(c.operator.as_str()));
                    if c.operator.takes_list() {
                        let list: Value =
                            serde_json::from_str(&c.value).unwrap_or(Value::Array(vec![]));
                        co.insert("value".into(), list);
                    } else if !c.operator.takes_no_value() || !c.value.is_empty() {
                        co.insert("value".into(), json!(c.value));
                    }
                    opt(&mut co, "description", &c.description);
                    Value::Object(co)
                })
                .collect();
            so.insert("constraints".into(), Value::Array(constraints));
            Value::Object(so)
        })
        .collect();
    json!({ "version": "1.6", "namespace": Value::Object(nso), "flags": flags, "segments": segments })
}

/// Flipt's `VariantEvaluationResponse` JSON (camelCase, defaults present, string enums).
pub fn variant_response(
    flag_key: &str,
    eval: &crate::eval::VariantEvaluation<'_>,
    request_id: &str,
    duration_ms: f64,
    timestamp: &str,
) -> Value {
    json!({
        "match": eval.matched,
        "segmentKeys": eval.segment_keys,
        "reason": eval.reason.as_str(),
        "variantKey": eval.variant_key(),
        "variantAttachment": eval.variant_attachment(),
        "requestId": request_id,
        "requestDurationMillis": duration_ms,
        "timestamp": timestamp,
        "flagKey": flag_key,
    })
}

/// Flipt's `BooleanEvaluationResponse` JSON.
pub fn boolean_response(
    flag_key: &str,
    eval: &crate::eval::BooleanEvaluation<'_>,
    request_id: &str,
    duration_ms: f64,
    timestamp: &str,
) -> Value {
    json!({
        "enabled": eval.enabled,
        "reason": eval.reason.as_str(),
        "requestId": request_id,
        "requestDurationMillis": duration_ms,
        "timestamp": timestamp,
        "flagKey": flag_key,
        "segmentKeys": eval.segment_keys,
    })
}
