use super::*;
use crate::{Limits, SourceFile, compile_environment};

fn env(yaml: &str) -> Environment {
    compile_environment(
        "default",
        &[SourceFile::new("features.yaml", yaml.trim_start())],
        &Limits::default(),
    )
    .unwrap()
}

const BASE: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: newPaymentFlow
    name: New payment flow
    type: VARIANT_FLAG_TYPE
    enabled: true
    variants: [{key: on}, {key: off}]
    rules:
      - segment: premium-users
        distributions: [{variant: on, rollout: 25}, {variant: off, rollout: 75}]
  - key: darkMode
    name: Dark mode
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 10, value: true}
segments:
  - key: premium-users
    name: Premium users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}
"#;

#[test]
fn identical_environments_have_no_diff() {
    assert!(diff(&env(BASE), &env(BASE)).is_empty());
}

#[test]
fn enabled_rollouts_and_constraints_in_plain_words() {
    let new = BASE
        .replace("enabled: false", "enabled: true")
        .replace("rollout: 25}, {variant: off, rollout: 75", "rollout: 50}, {variant: off, rollout: 50")
        .replace("percentage: 10", "percentage: 30")
        .replace("value: premium}", "value: premium}\n      - {type: STRING_COMPARISON_TYPE, property: country, operator: eq, value: fr}");
    let d = diff(&env(BASE), &env(&new));
    assert_eq!(
        d.lines(),
        vec![
            "flag darkMode enabled: false -> true",
            "flag darkMode rollout 1 threshold 10% -> 30%",
            "flag newPaymentFlow rule 1 (premium-users): variant off rollout 75% -> 50%",
            "flag newPaymentFlow rule 1 (premium-users): variant on rollout 25% -> 50%",
            "segment premium-users constraint added: country eq fr",
        ]
    );
}

#[test]
fn added_removed_flags_variants_and_rules() {
    let new = BASE
        .replace("variants: [{key: on}, {key: off}]", "variants: [{key: on}, {key: off}, {key: beta}]")
        .replace("  - key: darkMode\n    name: Dark mode", "  - key: lightMode\n    name: Light mode")
        .replace(
            "distributions: [{variant: on, rollout: 25}, {variant: off, rollout: 75}]",
            "distributions: [{variant: on, rollout: 25}, {variant: off, rollout: 75}]\n      - segment: premium-users\n        distributions: [{variant: beta, rollout: 100}]",
        );
    let d = diff(&env(BASE), &env(&new));
    assert_eq!(
        d.lines(),
        vec![
            "flag darkMode removed",
            "flag lightMode added",
            "flag newPaymentFlow variant beta added",
            "flag newPaymentFlow rule 2 added (segments premium-users: beta 100%)",
        ]
    );
    assert_eq!(d.changes[0].kind, ChangeKind::Removed);
    assert_eq!(d.changes[2].kind, ChangeKind::Changed);
}

#[test]
fn segment_match_type_and_removed_segment() {
    let new = BASE.replace("match_type: ALL_MATCH_TYPE", "match_type: ANY_MATCH_TYPE");
    assert_eq!(
        diff(&env(BASE), &env(&new)).lines(),
        vec!["segment premium-users match type: ALL_MATCH_TYPE -> ANY_MATCH_TYPE"]
    );
    let empty = compile_environment("default", &[], &Limits::default()).unwrap();
    let lines = diff(&env(BASE), &empty).lines();
    assert_eq!(
        lines,
        vec![
            "flag darkMode removed",
            "flag newPaymentFlow removed",
            "segment premium-users removed"
        ]
    );
}
