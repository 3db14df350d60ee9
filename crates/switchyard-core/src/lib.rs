//! Switchyard's pure core: Flipt declarative flag documents, strict validation, compiled
//! snapshots and evaluation with Flipt v2's exact semantics.
//!
//! The data flow is one way: [`SourceFile`]s → [`compile_environment`] → [`Environment`]
//! (or [`Diagnostics`] listing every problem) → [`evaluate_variant`] / [`evaluate_boolean`].
//! This crate never does I/O, never reads a clock, never spawns and never logs: the same input
//! always gives the same output.

#![warn(missing_docs)]

mod compile;
pub mod constraint;
mod decode;
mod diagnostic;
pub mod diff;
mod document;
pub mod eval;
pub mod export;
mod extra;
mod gojson;
pub mod impact;
mod limits;
pub mod overlay;
mod path;
mod snapshot;
mod source;
mod suggest;
mod tree;
mod warnings;
mod yaml;

pub use compile::{compile_environment, compile_environment_with};
pub use constraint::{ComparisonType, Constraint, Operator};
pub use diagnostic::{Diagnostic, Diagnostics, Location, Pos, Severity};
pub use diff::{Change, ChangeKind, Diff, ObjectKind, diff};
pub use eval::{
    BatchItem, BatchRequest, BooleanEvaluation, Context, ErrorReason, EvalError, Evaluation,
    Reason, SegmentKeys, VariantEvaluation, evaluate, evaluate_batch, evaluate_boolean,
    evaluate_variant,
};
pub use extra::ExtraChecks;
pub use impact::{
    Answer, FlagImpact, Impact, Move, Population, SampleChange, SampleContext, SampleImpact, Share,
    impact,
};
pub use limits::Limits;
pub use overlay::{FlagOverride, Forced, OverlayError};
pub use snapshot::{
    Distribution, Environment, Flag, FlagType, MatchType, Namespace, Rollout, RolloutKind, Rule,
    Segment, SegmentOperator, Snapshot, Variant,
};
pub use source::{
    DEFAULT_INCLUDE, Discovered, Discovery, FileSelector, INDEX_FILE, SourceFile, V2_CONFIG_FILES,
    V2_FILE_NAMES, discover,
};
pub use tree::{TreeError, TreeNode, TreeValue, closest_name, parse_tree};
