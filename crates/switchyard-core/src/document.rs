//! Flipt's declarative document as written in a file, with the position of every part.
//!
//! These types are what `decode` produces from YAML or JSON after checking the schema
//! (required fields, enums, key patterns, version gates). `compile` turns a set of them
//! into a `Namespace`; nothing outside the crate sees them.

use crate::constraint::{ComparisonType, Operator};
use crate::diagnostic::Pos;
use crate::snapshot::{FlagType, MatchType, SegmentOperator};

/// A value with the position where it is written and its document path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) pos: Pos,
    pub(crate) path: String,
}

/// One YAML or JSON document.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// Index of the file in the input set.
    pub(crate) file: usize,
    pub(crate) namespace: NamespaceDoc,
    pub(crate) flags: Vec<FlagDoc>,
    pub(crate) segments: Vec<SegmentDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct NamespaceDoc {
    pub(crate) key: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FlagDoc {
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
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDoc {
    /// 1-based position in the file, used in messages even when an earlier rule was unusable.
    pub(crate) rank: usize,
    pub(crate) at: At<()>,
    pub(crate) segment: SegmentRef,
    pub(crate) distributions: Vec<DistributionDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct DistributionDoc {
    pub(crate) variant: At<String>,
    pub(crate) rollout: At<f32>,
}

#[derive(Debug, Clone)]
pub(crate) struct RolloutDoc {
    /// 1-based position in the file.
    pub(crate) rank: usize,
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
    pub(crate) key: At<String>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) match_type: MatchType,
    pub(crate) constraints: Vec<ConstraintDoc>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConstraintDoc {
    pub(crate) comparison: ComparisonType,
    pub(crate) property: String,
    pub(crate) operator: Operator,
    /// Flipt's stored form: a string, or a JSON array string for list operators.
    pub(crate) value: At<String>,
    pub(crate) description: Option<String>,
}
