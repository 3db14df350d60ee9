//! Warnings: what compiles and is served, but probably does not do what its author meant.

use crate::diagnostic::Sink;
use crate::document::{FlagDoc, paths};
use crate::snapshot::{Flag, FlagType, Rule, SegmentOperator};

/// Reports the warnings of one compiled flag written as `doc` in `file`.
pub(crate) fn flag_warnings(ns_key: &str, file: &str, doc: &FlagDoc, flag: &Flag, sink: &mut Sink) {
    if flag.flag_type == FlagType::Variant
        && flag.enabled
        && !flag.rules.is_empty()
        && flag.default_variant.is_none()
        && !flag.rules.iter().any(matches_everyone)
    {
        sink.push(
            file,
            doc.key.pos,
            &paths::flag(doc),
            format!(
                "flag {ns_key}/{} has rules but no default variant: users that match no rule get reason UNKNOWN and an empty variant; mark one variant `default: true` (format 1.3 or later)",
                flag.key
            ),
        );
    }
}

/// Whether a rule matches every entity: its segments have no constraints.
fn matches_everyone(rule: &Rule) -> bool {
    let open = |s: &std::sync::Arc<crate::snapshot::Segment>| s.constraints.is_empty();
    !rule.segments.is_empty()
        && match rule.segment_operator {
            SegmentOperator::Or => rule.segments.iter().any(open),
            SegmentOperator::And => rule.segments.iter().all(open),
        }
}
