//! The variant evaluation that switchyard-core's `variant_evaluation` bench measures, shared with
//! the `engine_input` binary that exports it for `benches/engine/run.sh` (Flipt's engine, same
//! work).

/// Flag `checkout`: one rule on segment `pro-eu` (two constraints, ALL), three distributions.
pub const FLAGS: &str = r#"
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants: [{key: a}, {key: b}, {key: c}]
    rules:
      - segment: pro-eu
        distributions:
          - {variant: a, rollout: 34}
          - {variant: b, rollout: 33}
          - {variant: c, rollout: 33}
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - threshold: {percentage: 50, value: true}
segments:
  - key: pro-eu
    name: Pro EU
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
      - {type: STRING_COMPARISON_TYPE, property: region, operator: prefix, value: eu-}
"#;

/// The variant flag evaluated.
pub const FLAG_KEY: &str = "checkout";

/// The entity evaluated.
pub const ENTITY_ID: &str = "user-1234";

/// The evaluation context, which matches segment `pro-eu`.
pub const CONTEXT: &[(&str, &str)] = &[("plan", "pro"), ("region", "eu-west-1")];

/// The request as Flipt's FFI engine takes it: `{"flag_key", "entity_id", "context"}`.
pub fn ffi_request() -> String {
    let context: serde_json::Map<String, serde_json::Value> = CONTEXT
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    serde_json::json!({ "flag_key": FLAG_KEY, "entity_id": ENTITY_ID, "context": context })
        .to_string()
}
