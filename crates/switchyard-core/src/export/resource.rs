//! Flipt v2's environments-API resources: a flag or a segment as the `Resource` message of
//! `rpc/v2/environments/environments.proto`, its payload a protobuf `Any` holding
//! `flipt.core.Flag` or `flipt.core.Segment` (`rpc/flipt/core/core.proto`).
//!
//! The JSON is protojson's with `EmitDefaultValues`, as Flipt's gateway writes it: fields in
//! declaration order, `"@type"` first in the payload, empty strings and lists present, optional
//! fields (`defaultVariant`, `metadata`, a variant's `attachment`) only when set. A variant's
//! attachment and a flag's metadata are `google.protobuf.Value`/`Struct`: JSON values (not
//! strings), written as `structpb` writes them (keys sorted, Go float64 numbers). Written straight
//! into a byte buffer, one resource at a time, without a JSON tree.

use serde::Serialize;

use super::F32Number;
use crate::gojson;
use crate::snapshot::{Flag, Rollout, RolloutKind, Rule, Segment, SegmentOperator, Variant};

/// The `Any` type of a flag payload.
pub const FLAG_TYPE: &str = "flipt.core.Flag";
/// The `Any` type of a segment payload.
pub const SEGMENT_TYPE: &str = "flipt.core.Segment";

/// A JSON string (serde_json's escaping: `"`, `\` and control characters, as protojson).
fn string(out: &mut Vec<u8>, s: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A serialisable scalar (a number or a bool).
fn scalar<T: Serialize>(out: &mut Vec<u8>, v: &T) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// `"name":` (a member name; names here are plain ASCII).
fn name(out: &mut Vec<u8>, n: &str) {
    out.push(b'"');
    out.extend_from_slice(n.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"name":"value"`, or `"name":"value"` when `first`.
fn member_str(out: &mut Vec<u8>, first: bool, n: &str, v: &str) {
    if !first {
        out.push(b',');
    }
    name(out, n);
    string(out, v);
}

/// A JSON list of strings.
fn strings<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.push(b']');
}

/// `{"namespaceKey":…,"key":…,"payload":` — the common head of a resource.
fn resource_head(out: &mut Vec<u8>, namespace: &str, key: &str, type_url: &str) {
    out.push(b'{');
    member_str(out, true, "namespaceKey", namespace);
    member_str(out, false, "key", key);
    out.push(b',');
    name(out, "payload");
    out.push(b'{');
    member_str(out, true, "@type", type_url);
}

fn segment_operator(out: &mut Vec<u8>, op: SegmentOperator) {
    out.push(b',');
    name(out, "segmentOperator");
    string(out, op.as_str());
}

/// A JSON list of `items`, each written by `item`.
fn list<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

/// Writes flag `flag` of namespace `namespace` as a `Resource` with a `flipt.core.Flag` payload.
pub fn write_flag_resource(out: &mut Vec<u8>, namespace: &str, flag: &Flag) {
    resource_head(out, namespace, &flag.key, FLAG_TYPE);
    member_str(out, false, "key", &flag.key);
    member_str(out, false, "type", flag.flag_type.as_str());
    member_str(out, false, "name", &flag.name);
    member_str(
        out,
        false,
        "description",
        flag.description.as_deref().unwrap_or(""),
    );
    out.push(b',');
    name(out, "enabled");
    scalar(out, &flag.enabled);
    out.push(b',');
    name(out, "variants");
    list(out, &flag.variants, variant);
    out.push(b',');
    name(out, "rules");
    list(out, &flag.rules, |out, r| rule(out, flag, r));
    out.push(b',');
    name(out, "rollouts");
    list(out, &flag.rollouts, rollout);
    if let Some(d) = flag.default_variant() {
        member_str(out, false, "defaultVariant", &d.key);
    }
    if !flag.metadata.is_empty() {
        out.push(b',');
        name(out, "metadata");
        out.extend_from_slice(
            gojson::marshal_object(&flag.metadata, gojson::GoEncoder::Structpb).as_bytes(),
        );
    }
    out.extend_from_slice(b"}}");
}

/// A `flipt.core.Variant`.
fn variant(out: &mut Vec<u8>, v: &Variant) {
    out.push(b'{');
    member_str(out, true, "key", &v.key);
    member_str(out, false, "name", v.name.as_deref().unwrap_or(""));
    member_str(
        out,
        false,
        "description",
        v.description.as_deref().unwrap_or(""),
    );
    if v.attachment.is_some() {
        // `attachment_json` is `structpb.NewValue(v).MarshalJSON()`: protojson's own bytes.
        out.push(b',');
        name(out, "attachment");
        out.extend_from_slice(v.attachment_json.as_bytes());
    }
    out.push(b'}');
}

/// A `flipt.core.Rule` of `flag`, its distributions naming `flag`'s variants.
fn rule(out: &mut Vec<u8>, flag: &Flag, r: &Rule) {
    out.push(b'{');
    name(out, "segmentOperator");
    string(out, r.segment_operator.as_str());
    out.push(b',');
    name(out, "segments");
    strings(out, r.segments.iter().map(|s| s.key.as_str()));
    out.push(b',');
    name(out, "distributions");
    list(out, &r.distributions, |out, d| {
        out.push(b'{');
        member_str(out, true, "variant", &flag.variants[d.variant].key);
        out.push(b',');
        name(out, "rollout");
        scalar(out, &F32Number::from(d.rollout));
        out.push(b'}');
    });
    out.push(b'}');
}

/// A `flipt.core.Rollout`: its type, and its `segment` or `threshold` member.
fn rollout(out: &mut Vec<u8>, r: &Rollout) {
    let kind = match r.kind {
        RolloutKind::Segment { .. } => "SEGMENT_ROLLOUT_TYPE",
        RolloutKind::Threshold { .. } => "THRESHOLD_ROLLOUT_TYPE",
        RolloutKind::Empty => "UNKNOWN_ROLLOUT_TYPE",
    };
    out.push(b'{');
    member_str(out, true, "type", kind);
    member_str(
        out,
        false,
        "description",
        r.description.as_deref().unwrap_or(""),
    );
    match &r.kind {
        RolloutKind::Segment {
            segments,
            operator,
            value,
        } => {
            out.push(b',');
            name(out, "segment");
            out.push(b'{');
            name(out, "value");
            scalar(out, value);
            out.push(b',');
            name(out, "segments");
            strings(out, segments.iter().map(|s| s.key.as_str()));
            segment_operator(out, *operator);
            out.push(b'}');
        }
        RolloutKind::Threshold { percentage, value } => {
            out.push(b',');
            name(out, "threshold");
            out.push(b'{');
            name(out, "percentage");
            scalar(out, &F32Number::from(*percentage));
            out.push(b',');
            name(out, "value");
            scalar(out, value);
            out.push(b'}');
        }
        RolloutKind::Empty => {}
    }
    out.push(b'}');
}

/// Writes segment `segment` of namespace `namespace` as a `Resource` with a
/// `flipt.core.Segment` payload.
pub fn write_segment_resource(out: &mut Vec<u8>, namespace: &str, segment: &Segment) {
    resource_head(out, namespace, &segment.key, SEGMENT_TYPE);
    member_str(out, false, "key", &segment.key);
    member_str(out, false, "matchType", segment.match_type.as_str());
    member_str(out, false, "name", &segment.name);
    member_str(
        out,
        false,
        "description",
        segment.description.as_deref().unwrap_or(""),
    );
    out.push(b',');
    name(out, "constraints");
    list(out, &segment.constraints, |out, c| {
        out.push(b'{');
        member_str(out, true, "type", c.comparison.as_str());
        member_str(out, false, "property", &c.property);
        member_str(out, false, "operator", c.operator.as_str());
        member_str(out, false, "value", &c.value);
        member_str(
            out,
            false,
            "description",
            c.description.as_deref().unwrap_or(""),
        );
        out.push(b'}');
    });
    out.extend_from_slice(b"}}");
}
