//! Evaluation of variant and boolean flags with Flipt v2's server semantics.
//!
//! Matches `internal/server/evaluation/evaluation.go` of Flipt v2.9+ (reference §3): the default
//! variant is reported even for disabled flags, boolean flags evaluate their rollouts whether
//! enabled or not, and zero constraints always match. Flipt reports matched segment keys in
//! map iteration order, which is random; Switchyard reports them in the order the rule or
//! rollout lists them, so answers are stable.

pub mod bucket;
mod segment_keys;

pub use segment_keys::SegmentKeys;

use std::collections::{BTreeMap, HashMap};

use crate::constraint::ComparisonType;
use crate::snapshot::{
    Environment, Flag, FlagType, MatchType, RolloutKind, Segment, SegmentOperator, Variant,
};

/// Key/value context of an evaluation request (Flipt's `map<string,string>`).
pub trait Context {
    /// The value for `key`, if present.
    fn get(&self, key: &str) -> Option<&str>;
}

impl Context for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
}

impl Context for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

impl Context for [(String, String)] {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl Context for [(&str, &str)] {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Why an evaluation returned what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `UNKNOWN_EVALUATION_REASON`: no rule matched and there is no default variant.
    Unknown,
    /// `FLAG_DISABLED_EVALUATION_REASON`: a disabled variant flag.
    FlagDisabled,
    /// `MATCH_EVALUATION_REASON`: a rule or rollout matched.
    Match,
    /// `DEFAULT_EVALUATION_REASON`: nothing matched; the default applies.
    Default,
}

impl Reason {
    /// Flipt's enum spelling, e.g. `MATCH_EVALUATION_REASON`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unknown => "UNKNOWN_EVALUATION_REASON",
            Reason::FlagDisabled => "FLAG_DISABLED_EVALUATION_REASON",
            Reason::Match => "MATCH_EVALUATION_REASON",
            Reason::Default => "DEFAULT_EVALUATION_REASON",
        }
    }
}

/// Why a flag could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The namespace does not exist in the environment.
    #[error("namespace \"{0}\" not found")]
    NamespaceNotFound(String),
    /// The flag does not exist in the namespace; named as Flipt's `storage.ResourceRequest`
    /// prints it, with Go's `path.Join` (so an empty key reads `flag "default" not found`).
    #[error("flag \"{}\" not found", go_path_join(.namespace, .flag))]
    FlagNotFound {
        /// Namespace key.
        namespace: String,
        /// Flag key.
        flag: String,
    },
    /// A variant evaluation of a boolean flag, or the reverse.
    #[error("flag type {} invalid", .actual.as_str())]
    WrongType {
        /// The flag's real type.
        actual: FlagType,
    },
}

/// The result of evaluating a variant flag.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantEvaluation<'f> {
    /// Whether a rule matched.
    pub matched: bool,
    /// Why.
    pub reason: Reason,
    /// The chosen variant (or the default variant), if any.
    pub variant: Option<&'f Variant>,
    /// Keys of the matched segments of the matching rule.
    pub segment_keys: SegmentKeys<'f>,
}

impl VariantEvaluation<'_> {
    /// The variant key, or `""`.
    pub fn variant_key(&self) -> &str {
        self.variant.map_or("", |v| v.key.as_str())
    }

    /// The variant attachment as JSON (`"null"` when the variant has none), or `""`.
    pub fn variant_attachment(&self) -> &str {
        self.variant.map_or("", |v| v.attachment_json.as_str())
    }
}

/// The result of evaluating a boolean flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BooleanEvaluation<'f> {
    /// The value.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
    /// Keys of the matched segments of the matching rollout.
    pub segment_keys: SegmentKeys<'f>,
}

/// Either kind of result, for callers that evaluate by the flag's own type.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation<'f> {
    /// A variant flag's result.
    Variant(VariantEvaluation<'f>),
    /// A boolean flag's result.
    Boolean(BooleanEvaluation<'f>),
}

fn segment_matches<C: Context + ?Sized>(segment: &Segment, entity_id: &str, ctx: &C) -> bool {
    let mut matched = 0usize;
    for c in &segment.constraints {
        let v = if c.comparison == ComparisonType::EntityId {
            entity_id
        } else {
            ctx.get(&c.property).unwrap_or("")
        };
        if c.matches(v) {
            matched += 1;
            if segment.match_type == MatchType::Any {
                break;
            }
        } else if segment.match_type == MatchType::All {
            break;
        }
    }
    match segment.match_type {
        MatchType::All => matched == segment.constraints.len(),
        MatchType::Any => segment.constraints.is_empty() || matched > 0,
    }
}

/// Matched segment keys if the segments match under `operator`, else `None`; `is_in` says
/// whether the entity is in one segment.
fn segments_match<'f>(
    segments: &'f [std::sync::Arc<Segment>],
    operator: SegmentOperator,
    is_in: &impl Fn(&Segment) -> bool,
) -> Option<SegmentKeys<'f>> {
    let mut keys = SegmentKeys::new();
    for s in segments {
        if is_in(s) {
            keys.push(s.key.as_str());
        } else if operator == SegmentOperator::And {
            return None;
        }
    }
    match operator {
        SegmentOperator::Or if keys.is_empty() => None,
        _ => Some(keys),
    }
}

/// Evaluates a variant flag for an entity.
pub fn evaluate_variant<'f, C: Context + ?Sized>(
    flag: &'f Flag,
    entity_id: &str,
    ctx: &C,
) -> Result<VariantEvaluation<'f>, EvalError> {
    if flag.flag_type != FlagType::Variant {
        return Err(EvalError::WrongType {
            actual: flag.flag_type,
        });
    }
    Ok(variant_of(flag, entity_id, ctx))
}

fn variant_of<'f, C: Context + ?Sized>(
    flag: &'f Flag,
    entity_id: &str,
    ctx: &C,
) -> VariantEvaluation<'f> {
    variant_by(
        flag,
        &|s: &Segment| segment_matches(s, entity_id, ctx),
        || bucket::variant_bucket(&flag.key, entity_id),
    )
}

/// Flipt's variant evaluation with the segment test and the entity's bucket given: what
/// [`evaluate_variant`] does, and what `impact` enumerates over the bucket space.
pub(crate) fn variant_by<'f>(
    flag: &'f Flag,
    is_in: &impl Fn(&Segment) -> bool,
    bucket: impl FnOnce() -> u32,
) -> VariantEvaluation<'f> {
    let default = flag.default_variant();
    let mut resp = VariantEvaluation {
        matched: false,
        reason: if default.is_some() {
            Reason::Default
        } else {
            Reason::Unknown
        },
        variant: default,
        segment_keys: SegmentKeys::new(),
    };
    if !flag.enabled {
        resp.reason = Reason::FlagDisabled;
        return resp;
    }
    for rule in &flag.rules {
        let Some(keys) = segments_match(&rule.segments, rule.segment_operator, is_in) else {
            continue;
        };
        resp.segment_keys = keys;
        if rule.buckets.is_empty() {
            resp.matched = true;
            resp.reason = Reason::Match;
            return resp;
        }
        if let Some(d) = bucket::pick(&rule.buckets, bucket()) {
            resp.matched = true;
            resp.reason = Reason::Match;
            resp.variant = Some(&flag.variants[rule.distributions[d].variant]);
        }
        return resp;
    }
    resp
}

/// Evaluates a boolean flag for an entity.
pub fn evaluate_boolean<'f, C: Context + ?Sized>(
    flag: &'f Flag,
    entity_id: &str,
    ctx: &C,
) -> Result<BooleanEvaluation<'f>, EvalError> {
    if flag.flag_type != FlagType::Boolean {
        return Err(EvalError::WrongType {
            actual: flag.flag_type,
        });
    }
    Ok(boolean_of(flag, entity_id, ctx))
}

fn boolean_of<'f, C: Context + ?Sized>(
    flag: &'f Flag,
    entity_id: &str,
    ctx: &C,
) -> BooleanEvaluation<'f> {
    boolean_by(
        flag,
        &|s: &Segment| segment_matches(s, entity_id, ctx),
        || bucket::threshold_bucket(entity_id, &flag.key),
    )
}

/// Flipt's boolean evaluation with the segment test and the entity's threshold bucket given:
/// what [`evaluate_boolean`] does, and what `impact` enumerates over the bucket space.
pub(crate) fn boolean_by<'f>(
    flag: &'f Flag,
    is_in: &impl Fn(&Segment) -> bool,
    bucket: impl Fn() -> u32,
) -> BooleanEvaluation<'f> {
    for rollout in &flag.rollouts {
        match &rollout.kind {
            RolloutKind::Threshold { percentage, value } => {
                let normalized = bucket() as f32;
                if normalized < *percentage {
                    return BooleanEvaluation {
                        enabled: *value,
                        reason: Reason::Match,
                        segment_keys: SegmentKeys::new(),
                    };
                }
            }
            RolloutKind::Segment {
                segments,
                operator,
                value,
            } => {
                if let Some(keys) = segments_match(segments, *operator, is_in) {
                    return BooleanEvaluation {
                        enabled: *value,
                        reason: Reason::Match,
                        segment_keys: keys,
                    };
                }
            }
            RolloutKind::Empty => {}
        }
    }
    BooleanEvaluation {
        enabled: flag.enabled,
        reason: Reason::Default,
        segment_keys: SegmentKeys::new(),
    }
}

/// Evaluates a flag by its own type.
pub fn evaluate<'f, C: Context + ?Sized>(
    flag: &'f Flag,
    entity_id: &str,
    ctx: &C,
) -> Evaluation<'f> {
    match flag.flag_type {
        FlagType::Variant => Evaluation::Variant(variant_of(flag, entity_id, ctx)),
        FlagType::Boolean => Evaluation::Boolean(boolean_of(flag, entity_id, ctx)),
    }
}

impl Environment {
    /// Looks a flag up, with Flipt's not-found errors. Flipt's snapshot always holds the
    /// `default` namespace, so a flag looked up there is "not found" even when no document
    /// declares the namespace.
    pub fn find_flag(&self, namespace: &str, flag: &str) -> Result<&Flag, EvalError> {
        let not_found = || EvalError::FlagNotFound {
            namespace: namespace.to_string(),
            flag: flag.to_string(),
        };
        let Some(ns) = self.namespace(namespace) else {
            return Err(if namespace == "default" {
                not_found()
            } else {
                EvalError::NamespaceNotFound(namespace.to_string())
            });
        };
        ns.flag(flag).map(|f| &**f).ok_or_else(not_found)
    }
}

/// Go's `path.Join(namespace, key)`: the two joined by `/` (an empty one left out), then
/// cleaned as `path.Clean` does (`.` and empty elements dropped, `..` eating its parent).
pub fn go_path_join(namespace: &str, key: &str) -> String {
    let joined = match (namespace.is_empty(), key.is_empty()) {
        (true, true) => return String::new(),
        (false, true) => namespace.to_string(),
        (true, false) => key.to_string(),
        (false, false) => format!("{namespace}/{key}"),
    };
    let rooted = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let clean = parts.join("/");
    match (rooted, clean.is_empty()) {
        (true, _) => format!("/{clean}"),
        (false, true) => ".".to_string(),
        (false, false) => clean,
    }
}

/// One item of a batch request.
#[derive(Debug, Clone, Copy)]
pub struct BatchRequest<'a, C: ?Sized> {
    /// Namespace key (empty means `default`).
    pub namespace: &'a str,
    /// Flag key.
    pub flag_key: &'a str,
    /// Entity id.
    pub entity_id: &'a str,
    /// Context.
    pub context: &'a C,
}

/// Why a batch item failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorReason {
    /// `UNKNOWN_ERROR_EVALUATION_REASON`.
    Unknown,
    /// `NOT_FOUND_ERROR_EVALUATION_REASON`.
    NotFound,
}

impl ErrorReason {
    /// Flipt's enum spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorReason::Unknown => "UNKNOWN_ERROR_EVALUATION_REASON",
            ErrorReason::NotFound => "NOT_FOUND_ERROR_EVALUATION_REASON",
        }
    }
}

/// One item of a batch response.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchItem<'f> {
    /// The flag evaluated.
    Ok(Evaluation<'f>),
    /// The flag could not be evaluated.
    Error(ErrorReason),
}

/// Evaluates several flags against one environment, each by its own type.
pub fn evaluate_batch<'e, C: Context + ?Sized>(
    env: &'e Environment,
    requests: &[BatchRequest<'_, C>],
) -> Vec<BatchItem<'e>> {
    requests
        .iter()
        .map(|r| {
            let ns = if r.namespace.is_empty() {
                "default"
            } else {
                r.namespace
            };
            match env.find_flag(ns, r.flag_key) {
                Ok(flag) => BatchItem::Ok(evaluate(flag, r.entity_id, r.context)),
                Err(EvalError::NamespaceNotFound(_) | EvalError::FlagNotFound { .. }) => {
                    BatchItem::Error(ErrorReason::NotFound)
                }
                Err(EvalError::WrongType { .. }) => BatchItem::Error(ErrorReason::Unknown),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
