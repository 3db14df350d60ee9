//! The compiled, immutable snapshot: environments, namespaces, flags and segments, ready to evaluate.
//!
//! Everything that can be worked out once is worked out here, at compile time: lookup maps,
//! rule ranks, parsed constraint values and variant bucket boundaries. A `Snapshot` is shared
//! between threads behind `Arc`s; replacing one environment copies only the outer map.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::constraint::Constraint;
use crate::diagnostic::{Diagnostic, Location};

/// The flag type: variant flags return a variant, boolean flags return true or false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagType {
    /// `VARIANT_FLAG_TYPE`.
    Variant,
    /// `BOOLEAN_FLAG_TYPE`.
    Boolean,
}

impl FlagType {
    /// The Flipt enum spelling, e.g. `VARIANT_FLAG_TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Variant => "VARIANT_FLAG_TYPE",
            FlagType::Boolean => "BOOLEAN_FLAG_TYPE",
        }
    }
}

/// How the segments of a rule or rollout combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SegmentOperator {
    /// `OR_SEGMENT_OPERATOR` (the default): any segment matching is enough.
    #[default]
    Or,
    /// `AND_SEGMENT_OPERATOR`: every segment must match.
    And,
}

impl SegmentOperator {
    /// The Flipt enum spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentOperator::Or => "OR_SEGMENT_OPERATOR",
            SegmentOperator::And => "AND_SEGMENT_OPERATOR",
        }
    }
}

/// How the constraints of a segment combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    /// `ALL_MATCH_TYPE`: every constraint must match (zero constraints match).
    All,
    /// `ANY_MATCH_TYPE`: one constraint is enough (zero constraints match).
    Any,
}

impl MatchType {
    /// The file-format spelling, e.g. `ALL_MATCH_TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::All => "ALL_MATCH_TYPE",
            MatchType::Any => "ANY_MATCH_TYPE",
        }
    }

    /// The client-snapshot spelling, e.g. `ALL_SEGMENT_MATCH_TYPE`.
    pub fn snapshot_str(self) -> &'static str {
        match self {
            MatchType::All => "ALL_SEGMENT_MATCH_TYPE",
            MatchType::Any => "ANY_SEGMENT_MATCH_TYPE",
        }
    }
}

/// All compiled environments, each independently replaceable.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    environments: BTreeMap<String, Arc<Environment>>,
}

impl Snapshot {
    /// An empty snapshot with no environments.
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// A copy of this snapshot with `env` added or replaced (the other environments are shared).
    pub fn with_environment(&self, env: Arc<Environment>) -> Self {
        let mut environments = self.environments.clone();
        environments.insert(env.key.clone(), env);
        Snapshot { environments }
    }

    /// The environment called `key`.
    pub fn environment(&self, key: &str) -> Option<&Arc<Environment>> {
        self.environments.get(key)
    }

    /// All environments, by key.
    pub fn environments(&self) -> impl Iterator<Item = &Arc<Environment>> {
        self.environments.values()
    }
}

/// One environment's flags: the namespaces compiled from one directory of one commit.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Environment key, e.g. `default` or `production`.
    pub key: String,
    /// Namespaces by key.
    pub namespaces: BTreeMap<String, Arc<Namespace>>,
    /// SHA-1 hex over every namespace key and digest: changes exactly when the content changes.
    pub digest: String,
    /// The revision the files were read at (a Git commit's SHA), set by whoever read them;
    /// `None` from the compiler and for a plain directory. Not part of the digest.
    pub revision: Option<String>,
}

impl Environment {
    /// The namespace called `key`.
    pub fn namespace(&self, key: &str) -> Option<&Arc<Namespace>> {
        self.namespaces.get(key)
    }

    /// Number of flags over all namespaces.
    pub fn flag_count(&self) -> usize {
        self.namespaces.values().map(|n| n.flags.len()).sum()
    }

    /// Number of segments over all namespaces.
    pub fn segment_count(&self) -> usize {
        self.namespaces.values().map(|n| n.segments.len()).sum()
    }

    /// The warnings of every namespace, by location (see [`Namespace::warnings`]).
    pub fn warnings(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self
            .namespaces
            .values()
            .flat_map(|n| n.warnings.iter())
            .collect();
        all.sort();
        all
    }
}

/// A namespace: its flags and segments.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// Namespace key.
    pub key: String,
    /// Display name, from the object form of `namespace`.
    pub name: Option<String>,
    /// Description, from the object form of `namespace`.
    pub description: Option<String>,
    /// Flipt-style digest: SHA-1 hex of the bytes of the files that declare this namespace.
    pub digest: String,
    /// Flags in file and document order.
    pub flags: Vec<Arc<Flag>>,
    /// Segments in file and document order.
    pub segments: Vec<Arc<Segment>>,
    pub(crate) flag_index: HashMap<String, usize>,
    pub(crate) segment_index: HashMap<String, usize>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Namespace {
    /// What compiled but probably does not do what its author meant, by location.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The flag called `key`.
    pub fn flag(&self, key: &str) -> Option<&Arc<Flag>> {
        self.flag_index.get(key).map(|&i| &self.flags[i])
    }

    /// The index in `flags` of the flag called `key`.
    pub fn flag_position(&self, key: &str) -> Option<usize> {
        self.flag_index.get(key).copied()
    }

    /// The segment called `key`.
    pub fn segment(&self, key: &str) -> Option<&Arc<Segment>> {
        self.segment_index.get(key).map(|&i| &self.segments[i])
    }
}

/// A compiled flag.
#[derive(Debug, Clone)]
pub struct Flag {
    /// Flag key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Variant or boolean.
    pub flag_type: FlagType,
    /// For variant flags, whether it is on; for boolean flags, the default value.
    pub enabled: bool,
    /// Free-form metadata (version 1.3 and later).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Variants in file order.
    pub variants: Vec<Variant>,
    /// Index into `variants` of the variant marked `default: true`.
    pub default_variant: Option<usize>,
    /// Rules in rank order (variant flags).
    pub rules: Vec<Rule>,
    /// Rollouts in rank order (boolean flags).
    pub rollouts: Vec<Rollout>,
    /// Where the flag's key is written.
    pub location: Location,
}

impl Flag {
    /// The default variant, if one is marked.
    pub fn default_variant(&self) -> Option<&Variant> {
        self.default_variant.map(|i| &self.variants[i])
    }
}

/// A variant of a variant flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Variant key.
    pub key: String,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The attachment (an object or an array), if any.
    pub attachment: Option<serde_json::Value>,
    /// The attachment as Flipt's evaluation responses, OFREP metadata and snapshot distributions
    /// carry it (`structpb.NewValue(v).MarshalJSON()`: compact, keys sorted, every number a Go
    /// float64); `"null"` when absent.
    pub attachment_json: String,
    /// The attachment as Flipt's client snapshot carries it in `defaultVariant.attachment`
    /// (`json.Marshal(v)`: like `attachment_json`, but YAML integers stay integers and `<`, `>`,
    /// `&`, U+2028, U+2029 are escaped); `"null"` when absent.
    pub snapshot_attachment_json: String,
    /// Whether this is the default variant.
    pub is_default: bool,
}

/// A rule of a variant flag.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based rank (the rule's position).
    pub rank: u32,
    /// Segments, in the order the file lists them.
    pub segments: Vec<Arc<Segment>>,
    /// How the segments combine.
    pub segment_operator: SegmentOperator,
    /// Distributions, in file order.
    pub distributions: Vec<Distribution>,
    /// Bucket boundaries (v2.9+ normalised, truncated) over the distributions with rollout > 0:
    /// `(upper boundary, index into distributions)`.
    pub(crate) buckets: Vec<(u32, usize)>,
}

/// A share of a rule's matches that gets one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Index of the variant in the flag's `variants`.
    pub variant: usize,
    /// Percentage, 0 to 100.
    pub rollout: f32,
}

/// A rollout of a boolean flag.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// 1-based rank.
    pub rank: u32,
    /// Description.
    pub description: Option<String>,
    /// What the rollout tests.
    pub kind: RolloutKind,
}

/// The two kinds of rollout, and the empty rollout Flipt allows.
#[derive(Debug, Clone)]
pub enum RolloutKind {
    /// A percentage of entities by hash.
    Threshold {
        /// Percentage, 0 to 100.
        percentage: f32,
        /// The value returned on a match.
        value: bool,
    },
    /// Entities matching segments.
    Segment {
        /// Segments in file order.
        segments: Vec<Arc<Segment>>,
        /// How the segments combine.
        operator: SegmentOperator,
        /// The value returned on a match.
        value: bool,
    },
    /// `{}` or a description alone: matches nothing.
    Empty,
}

/// A segment: a named set of constraints.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Segment key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// How constraints combine.
    pub match_type: MatchType,
    /// Constraints in file order.
    pub constraints: Vec<Constraint>,
    /// Whether Flipt leaves this segment out of every rule and rollout that uses it: a
    /// constraint value does not parse (served only under `ExtraChecks::Warn`).
    pub(crate) dropped: bool,
}
