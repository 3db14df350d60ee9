//! Flipt's declarative document as written in a file, with the position of every part.
//!
//! These types are what `decode` produces from YAML or JSON after checking the schema
//! (required fields, enums, key patterns, version gates). `compile` turns a set of them
//! into a `Namespace`; nothing outside the crate sees them.

use crate::constraint::{ComparisonType, Operator};
use crate::diagnostic::Pos;
use crate::snapshot::{FlagType, MatchType, SegmentOperator};

/// A value with the position where it is written. Document paths are rebuilt from the
/// `index` fields of the enclosing items, only when a diagnostic needs one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) pos: Pos,
}

/// How a rule or rollout names its segments, which decides the path of each key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefForm {
    /// `segment: key` on a rule.
    RuleKey,
    /// `segment: {keys: [...]}` on a rule.
    RuleKeys,
    /// `segment: {key: k}` on a rollout.
    RolloutKey,
    /// `segment: {keys: [...]}` on a rollout.
    RolloutKeys,
}

/// One YAML or JSON document.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// Index of the file in the input set.
    pub(crate) file: usize,
    pub(crate) namespace: NamespaceDoc,
    pub(crate) flags: Vec<FlagDoc>,
    pub(crate) segments: Vec<SegmentDoc>,
    /// What the extra checks found in it under [`ExtraChecks::Warn`](crate::ExtraChecks).
    pub(crate) warnings: Vec<crate::diagnostic::Diagnostic>,
}

#[derive(Debug, Clone)]
pub(crate) struct NamespaceDoc {
    pub(crate) key: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FlagDoc {
    pub(crate) index: usize,
    pub(crate) key: At<String>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) flag_type: FlagType,
    pub(crate) enabled: bool,
    pub(crate) metadata: serde_json::Map<String, serde_json::Value>,
    pub(crate) variants: Vec<VariantDoc>,
    pub(crate) rules: Vec<RuleDoc>,
    pub(crate) rollouts: Vec<RolloutDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct VariantDoc {
    pub(crate) index: usize,
    pub(crate) key: At<String>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) attachment: Option<serde_json::Value>,
    pub(crate) default: Option<At<bool>>,
}

#[derive(Debug, Clone)]
pub(crate) struct SegmentRef {
    pub(crate) keys: Vec<At<String>>,
    pub(crate) operator: SegmentOperator,
    pub(crate) form: RefForm,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDoc {
    /// 0-based position in the file; the rank is `index + 1` even when an earlier rule was unusable.
    pub(crate) index: usize,
    pub(crate) pos: Pos,
    pub(crate) segment: SegmentRef,
    pub(crate) distributions: Vec<DistributionDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct DistributionDoc {
    pub(crate) index: usize,
    pub(crate) variant: At<String>,
    pub(crate) rollout: At<f32>,
}

#[derive(Debug, Clone)]
pub(crate) struct RolloutDoc {
    /// 0-based position in the file.
    pub(crate) index: usize,
    pub(crate) description: Option<String>,
    pub(crate) kind: RolloutDocKind,
}

#[derive(Debug, Clone)]
pub(crate) enum RolloutDocKind {
    Threshold { percentage: At<f32>, value: bool },
    Segment { segment: SegmentRef, value: bool },
    Empty,
}

#[derive(Debug, Clone)]
pub(crate) struct SegmentDoc {
    pub(crate) index: usize,
    pub(crate) key: At<String>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) match_type: MatchType,
    pub(crate) constraints: Vec<ConstraintDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConstraintDoc {
    pub(crate) index: usize,
    pub(crate) comparison: ComparisonType,
    pub(crate) property: String,
    pub(crate) operator: Operator,
    /// Flipt's stored form: a string, or a JSON array string for list operators.
    pub(crate) value: At<String>,
    pub(crate) description: Option<String>,
}

/// Paths of document items, rebuilt for diagnostics found after decoding.
pub(crate) mod paths {
    use super::{FlagDoc, RefForm, RolloutDoc, RuleDoc, SegmentRef};

    /// `flags[i]`.
    pub(crate) fn flag(f: &FlagDoc) -> String {
        format!("flags[{}]", f.index)
    }

    /// `flags[i].rules[j]`.
    pub(crate) fn rule(f: &FlagDoc, r: &RuleDoc) -> String {
        format!("flags[{}].rules[{}]", f.index, r.index)
    }

    /// `flags[i].rollouts[j]`.
    pub(crate) fn rollout(f: &FlagDoc, r: &RolloutDoc) -> String {
        format!("flags[{}].rollouts[{}]", f.index, r.index)
    }

    /// The path of key `k` of a segment reference below `owner` (a rule or rollout path).
    pub(crate) fn segment_key(owner: &str, refs: &SegmentRef, k: usize) -> String {
        match refs.form {
            RefForm::RuleKey => format!("{owner}.segment"),
            RefForm::RolloutKey => format!("{owner}.segment.key"),
            RefForm::RuleKeys | RefForm::RolloutKeys => format!("{owner}.segment.keys[{k}]"),
        }
    }
}
