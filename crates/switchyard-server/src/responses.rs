//! Evaluation answers on the wire: Flipt's `VariantEvaluationResponse`,
//! `BooleanEvaluationResponse` and `BatchEvaluationResponse` (camelCase, defaults present, string
//! enums) and OFREP's single-flag success, as `Serialize` structs that borrow from the snapshot
//! and the evaluation (no JSON tree is built per request). Field order is Flipt's.

use serde::Serialize;
use switchyard_core::{BooleanEvaluation, ErrorReason, Evaluation, Reason, VariantEvaluation};

use crate::ofrep_pieces::reason as ofrep_reason;

/// Flipt's `VariantEvaluationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantResponse<'a> {
    /// Whether a rule matched.
    #[serde(rename = "match")]
    pub matched: bool,
    /// The matched segments' keys.
    pub segment_keys: &'a [&'a str],
    /// Flipt's reason enum.
    pub reason: &'static str,
    /// The variant key, or `""`.
    pub variant_key: &'a str,
    /// The attachment JSON as a string (`"null"` for none), or `""`.
    pub variant_attachment: &'a str,
    /// The request's id.
    pub request_id: &'a str,
    /// Milliseconds spent.
    pub request_duration_millis: f64,
    /// RFC 3339.
    pub timestamp: &'a str,
    /// The flag.
    pub flag_key: &'a str,
}

impl<'a> VariantResponse<'a> {
    /// The answer for `eval` of flag `flag_key`.
    pub fn new(
        flag_key: &'a str,
        eval: &'a VariantEvaluation<'a>,
        request_id: &'a str,
        duration_ms: f64,
        timestamp: &'a str,
    ) -> Self {
        VariantResponse {
            matched: eval.matched,
            segment_keys: &eval.segment_keys,
            reason: eval.reason.as_str(),
            variant_key: eval.variant_key(),
            variant_attachment: eval.variant_attachment(),
            request_id,
            request_duration_millis: duration_ms,
            timestamp,
            flag_key,
        }
    }
}

/// Flipt's `BooleanEvaluationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BooleanResponse<'a> {
    /// The value.
    pub enabled: bool,
    /// Flipt's reason enum.
    pub reason: &'static str,
    /// The request's id.
    pub request_id: &'a str,
    /// Milliseconds spent.
    pub request_duration_millis: f64,
    /// RFC 3339.
    pub timestamp: &'a str,
    /// The flag.
    pub flag_key: &'a str,
    /// The matched segments' keys.
    pub segment_keys: &'a [&'a str],
}

impl<'a> BooleanResponse<'a> {
    /// The answer for `eval` of flag `flag_key`.
    pub fn new(
        flag_key: &'a str,
        eval: &'a BooleanEvaluation<'a>,
        request_id: &'a str,
        duration_ms: f64,
        timestamp: &'a str,
    ) -> Self {
        BooleanResponse {
            enabled: eval.enabled,
            reason: eval.reason.as_str(),
            request_id,
            request_duration_millis: duration_ms,
            timestamp,
            flag_key,
            segment_keys: &eval.segment_keys,
        }
    }
}

/// Either answer, by the flag's type (what `switchyard evaluate` prints).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EvaluationResponse<'a> {
    /// A variant flag's.
    Variant(VariantResponse<'a>),
    /// A boolean flag's.
    Boolean(BooleanResponse<'a>),
}

impl<'a> EvaluationResponse<'a> {
    /// The answer for `eval` of flag `flag_key`, in its type's shape.
    pub fn new(
        flag_key: &'a str,
        eval: &'a Evaluation<'a>,
        request_id: &'a str,
        duration_ms: f64,
        timestamp: &'a str,
    ) -> Self {
        match eval {
            Evaluation::Variant(v) => EvaluationResponse::Variant(VariantResponse::new(
                flag_key,
                v,
                request_id,
                duration_ms,
                timestamp,
            )),
            Evaluation::Boolean(b) => EvaluationResponse::Boolean(BooleanResponse::new(
                flag_key,
                b,
                request_id,
                duration_ms,
                timestamp,
            )),
        }
    }
}

/// Flipt's `BatchEvaluationResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchResponse<'a> {
    /// The batch's id.
    pub(crate) request_id: &'a str,
    /// Milliseconds spent.
    pub(crate) request_duration_millis: f64,
    /// One per request, in order.
    pub(crate) responses: Vec<BatchItemResponse<'a>>,
}

/// One item of a batch answer, tagged with Flipt's response type.
#[derive(Serialize)]
#[serde(tag = "type")]
pub(crate) enum BatchItemResponse<'a> {
    /// A variant flag's answer.
    #[serde(rename = "VARIANT_EVALUATION_RESPONSE_TYPE")]
    Variant {
        /// The answer.
        #[serde(rename = "variantResponse")]
        variant_response: VariantResponse<'a>,
    },
    /// A boolean flag's answer.
    #[serde(rename = "BOOLEAN_EVALUATION_RESPONSE_TYPE")]
    Boolean {
        /// The answer.
        #[serde(rename = "booleanResponse")]
        boolean_response: BooleanResponse<'a>,
    },
    /// A flag that could not be evaluated.
    #[serde(rename = "ERROR_EVALUATION_RESPONSE_TYPE")]
    Error {
        /// Why.
        #[serde(rename = "errorResponse")]
        error_response: ErrorResponse<'a>,
    },
}

/// Flipt's `ErrorEvaluationResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorResponse<'a> {
    /// The flag as asked.
    pub(crate) flag_key: &'a str,
    /// The namespace as asked.
    pub(crate) namespace_key: &'a str,
    /// Flipt's error reason enum.
    pub(crate) reason: &'static str,
}

impl<'a> ErrorResponse<'a> {
    /// The error item for a request of `flag_key` in `namespace_key`.
    pub(crate) fn new(flag_key: &'a str, namespace_key: &'a str, reason: ErrorReason) -> Self {
        ErrorResponse {
            flag_key,
            namespace_key,
            reason: reason.as_str(),
        }
    }
}

/// OFREP's single-flag success (`evaluationSuccess`); bulk bodies are written from pieces.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum OfrepSuccess<'a> {
    /// A variant flag: its variant key as variant and value, segments and attachment as metadata.
    Variant {
        /// The flag.
        key: &'a str,
        /// OFREP's reason.
        reason: &'static str,
        /// The variant key.
        variant: &'a str,
        /// The variant key again.
        value: &'a str,
        /// `segments` and `attachment` when present.
        metadata: OfrepMetadata<'a>,
    },
    /// A boolean flag: `"true"`/`"false"` and the bool (`metadata` only for the serving
    /// commit: Flipt sets none).
    Boolean {
        /// The flag.
        key: &'a str,
        /// OFREP's reason.
        reason: &'static str,
        /// `"true"` or `"false"`.
        variant: &'static str,
        /// The value.
        value: bool,
        /// `switchyardCommit` when set.
        #[serde(skip_serializing_if = "Option::is_none")]
        metadata: Option<CommitMetadata<'a>>,
    },
}

impl<'a> OfrepSuccess<'a> {
    /// The answer for `eval` of flag `key`.
    pub(crate) fn new(key: &'a str, eval: &'a Evaluation<'a>) -> Self {
        match eval {
            Evaluation::Variant(v) => OfrepSuccess::Variant {
                key,
                reason: ofrep_reason(v.reason),
                variant: v.variant_key(),
                value: v.variant_key(),
                metadata: OfrepMetadata {
                    segments: Joined(&v.segment_keys),
                    // `"null"` for a variant without an attachment, as Flipt sends it
                    attachment: v.variant_attachment(),
                    commit: None,
                },
            },
            Evaluation::Boolean(b) => OfrepSuccess::Boolean {
                key,
                reason: ofrep_reason(b.reason),
                variant: if b.enabled { "true" } else { "false" },
                value: b.enabled,
                metadata: None,
            },
        }
    }

    /// The answer with the serving commit in its metadata as `switchyardCommit` (single-flag
    /// answers; a bulk answer carries it once, in the flag set's metadata).
    pub(crate) fn with_commit(mut self, sha: Option<&'a str>) -> Self {
        match &mut self {
            OfrepSuccess::Variant { metadata, .. } => metadata.commit = sha,
            OfrepSuccess::Boolean { metadata, .. } => {
                *metadata = sha.map(|commit| CommitMetadata { commit });
            }
        }
        self
    }

    /// The evaluation's reason.
    pub(crate) fn core_reason(eval: &Evaluation<'_>) -> Reason {
        match eval {
            Evaluation::Variant(v) => v.reason,
            Evaluation::Boolean(b) => b.reason,
        }
    }
}

/// A variant answer's OFREP metadata.
#[derive(Serialize)]
pub(crate) struct OfrepMetadata<'a> {
    /// The matched segments' keys, comma-separated.
    #[serde(skip_serializing_if = "Joined::is_empty")]
    segments: Joined<'a>,
    /// The attachment JSON as a string.
    #[serde(skip_serializing_if = "str::is_empty")]
    attachment: &'a str,
    /// The serving commit (Switchyard's).
    #[serde(rename = "switchyardCommit", skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
}

impl OfrepMetadata<'_> {
    /// The matched segments' keys, comma-separated (`None` when none matched).
    pub(crate) fn segments(&self) -> Option<String> {
        (!self.segments.is_empty()).then(|| self.segments.to_string())
    }

    /// The attachment JSON as a string (`None` when empty).
    pub(crate) fn attachment(&self) -> Option<&str> {
        (!self.attachment.is_empty()).then_some(self.attachment)
    }

    /// The serving commit.
    pub(crate) fn commit(&self) -> Option<&str> {
        self.commit
    }
}

/// A boolean answer's OFREP metadata: only the serving commit.
#[derive(Serialize)]
pub(crate) struct CommitMetadata<'a> {
    /// The serving commit.
    #[serde(rename = "switchyardCommit")]
    commit: &'a str,
}

impl CommitMetadata<'_> {
    /// The serving commit.
    pub(crate) fn commit(&self) -> &str {
        self.commit
    }
}

/// Keys written as one comma-separated string, without building it.
struct Joined<'a>(&'a [&'a str]);

impl Joined<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, k) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(k)?;
        }
        Ok(())
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    //! The structs against the `json!` trees they replace (switchyard-core's former
    //! `export::{variant_response, boolean_response}` and the handlers' OFREP tree): same bytes.

    use serde_json::{Map, Value, json};
    use switchyard_core::{Environment, Limits, SourceFile, compile_environment, evaluate};

    use super::*;

    const FLAGS: &str = r#"version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - {key: control, default: true}
      - {key: "tre\"at", attachment: {color: "bl\nue", n: [1, 2.5]}}
      - {key: bare}
    rules:
      - segment: {keys: [pro, eu], operator: AND_SEGMENT_OPERATOR}
        distributions: [{variant: "tre\"at", rollout: 50}, {variant: bare, rollout: 50}]
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {key: pro, value: false}
segments:
  - key: pro
    name: Pro
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
  - key: eu
    name: EU
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: region, operator: prefix, value: eu}
"#;

    fn env() -> Environment {
        match compile_environment(
            "production",
            &[SourceFile::new("features.yaml", FLAGS)],
            &Limits::default(),
        ) {
            Ok(e) => e,
            Err(d) => panic!("{d:?}"),
        }
    }

    fn former(flag_key: &str, eval: &Evaluation<'_>) -> (Value, Value) {
        let flipt = match eval {
            Evaluation::Variant(v) => json!({
                "match": v.matched,
                "segmentKeys": v.segment_keys,
                "reason": v.reason.as_str(),
                "variantKey": v.variant_key(),
                "variantAttachment": v.variant_attachment(),
                "requestId": "r\"1",
                "requestDurationMillis": 0.041,
                "timestamp": "2026-12-02T04:00:00.5Z",
                "flagKey": flag_key,
            }),
            Evaluation::Boolean(b) => json!({
                "enabled": b.enabled,
                "reason": b.reason.as_str(),
                "requestId": "r\"1",
                "requestDurationMillis": 0.041,
                "timestamp": "2026-12-02T04:00:00.5Z",
                "flagKey": flag_key,
                "segmentKeys": b.segment_keys,
            }),
        };
        let ofrep = match eval {
            Evaluation::Variant(v) => {
                let mut metadata = Map::new();
                if !v.segment_keys.is_empty() {
                    metadata.insert("segments".into(), json!(v.segment_keys.join(",")));
                }
                let attachment = v.variant_attachment();
                if !attachment.is_empty() {
                    metadata.insert("attachment".into(), json!(attachment));
                }
                json!({"key": flag_key, "reason": ofrep_reason(v.reason), "variant": v.variant_key(), "value": v.variant_key(), "metadata": metadata})
            }
            Evaluation::Boolean(b) => {
                json!({"key": flag_key, "reason": ofrep_reason(b.reason), "variant": if b.enabled {"true"} else {"false"}, "value": b.enabled})
            }
        };
        (flipt, ofrep)
    }

    #[test]
    fn the_same_bytes_as_the_json_trees() {
        let env = env();
        let mut seen = std::collections::HashSet::new();
        for key in ["checkout", "dark"] {
            let flag = match env.find_flag("default", key) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            for i in 0..60 {
                let mut ctx = std::collections::HashMap::new();
                if i % 2 == 0 {
                    ctx.insert("plan".to_string(), "pro".to_string());
                }
                if i % 3 != 0 {
                    ctx.insert("region".to_string(), "eu-west".to_string());
                }
                let eval = evaluate(flag, &format!("user-{i}"), &ctx);
                let (flipt, ofrep) = former(key, &eval);
                let new =
                    EvaluationResponse::new(key, &eval, "r\"1", 0.041, "2026-12-02T04:00:00.5Z");
                let text = serde_json::to_string(&new).unwrap_or_default();
                assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(flipt));
                // Flipt's field order (its proto's)
                let order = switchyard_testkit::json_order::keys(&text);
                let want: &[&str] = match eval {
                    Evaluation::Variant(_) => &[
                        "match",
                        "segmentKeys",
                        "reason",
                        "variantKey",
                        "variantAttachment",
                        "requestId",
                        "requestDurationMillis",
                        "timestamp",
                        "flagKey",
                    ],
                    Evaluation::Boolean(_) => &[
                        "enabled",
                        "reason",
                        "requestId",
                        "requestDurationMillis",
                        "timestamp",
                        "flagKey",
                        "segmentKeys",
                    ],
                };
                assert_eq!(order, want);
                let text =
                    serde_json::to_string(&OfrepSuccess::new(key, &eval)).unwrap_or_default();
                assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(ofrep));
                assert_eq!(
                    &switchyard_testkit::json_order::keys(&text)[..4],
                    ["key", "reason", "variant", "value"]
                );
                seen.insert(text);
            }
        }
        // matches with both segments, defaults, a variant without attachment, both booleans
        assert!(seen.len() >= 4, "{seen:?}");
    }

    #[test]
    fn batch_items_are_tagged_first() {
        let item = BatchItemResponse::Error {
            error_response: ErrorResponse::new("f", "", ErrorReason::NotFound),
        };
        let out = serde_json::to_string(&BatchResponse {
            request_id: "r",
            request_duration_millis: 1.5,
            responses: vec![item],
        })
        .ok();
        let want = format!(
            r#"{{"requestId":"r","requestDurationMillis":1.5,"responses":[{{"type":"ERROR_EVALUATION_RESPONSE_TYPE","errorResponse":{{"flagKey":"f","namespaceKey":"","reason":"{}"}}}}]}}"#,
            ErrorReason::NotFound.as_str()
        );
        assert_eq!(out, Some(want));
    }
}
