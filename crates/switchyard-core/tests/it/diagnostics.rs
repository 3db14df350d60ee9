//! Which diagnostic comes first, suggestions for operators, warnings and the diagnostics cap.

use crate::support::{compile, errors};
use switchyard_core::{Limits, Severity, SourceFile, compile_environment};

const SEGMENT: &str = "segments:\n- {key: s, name: S, match_type: ALL_MATCH_TYPE, constraints: [{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: x}]}\n";

#[test]
fn a_misspelt_required_field_shows_the_suggestion_first() {
    // Block mapping, the typo is not the mapping's first key: the "missing" error used to come
    // first (at the mapping) and become the status's `errorMessage`.
    let text = format!(
        "{SEGMENT}flags:\n- key: f\n  name: F\n  variants: [{{key: a}}]\n  rules:\n  - segment: s\n    distributions:\n    - rollout: 100\n      variant_key: a\n"
    );
    assert_eq!(
        errors(&text),
        [
            "features.yaml:11:7: flags[0].rules[0].distributions[0].variant_key: unknown field `variant_key` in a distribution; did you mean `variant`?",
            "features.yaml:11:7: flags[0].rules[0].distributions[0]: the distribution is missing required field `variant`",
        ]
    );
    // Flow mapping: same order, both at the misspelt key.
    let text = format!(
        "{SEGMENT}flags:\n- key: f\n  name: F\n  variants: [{{key: a}}]\n  rules:\n  - segment: s\n    distributions: [{{rollout: 100, varient: a}}]\n"
    );
    assert_eq!(
        errors(&text)[0],
        "features.yaml:9:36: flags[0].rules[0].distributions[0].varient: unknown field `varient` in a distribution; did you mean `variant`?"
    );
}

#[test]
fn a_missing_field_without_a_misspelling_stays_at_its_mapping() {
    let text = format!(
        "{SEGMENT}flags:\n- key: f\n  name: F\n  variants: [{{key: a}}]\n  rules:\n  - segment: s\n    distributions:\n    - rollout: 100\n"
    );
    assert_eq!(
        errors(&text),
        [
            "features.yaml:10:7: flags[0].rules[0].distributions[0]: the distribution is missing required field `variant`"
        ]
    );
}

fn operator_error(comparison: &str, operator: &str) -> String {
    let text = format!(
        "segments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {{type: {comparison}, property: p, operator: {operator}, value: \"1\"}}\n"
    );
    let got = errors(&text);
    assert_eq!(got.len(), 1, "{got:#?}");
    got[0].clone()
}

#[test]
fn operator_synonyms_suggest_flipt_operators() {
    assert_eq!(
        operator_error("STRING_COMPARISON_TYPE", "equals"),
        "features.yaml:6:59: segments[0].constraints[0].operator: operator \"equals\" is not allowed for STRING_COMPARISON_TYPE: use one of eq, neq, empty, notempty, prefix, suffix, contains, notcontains, isoneof, isnotoneof; did you mean `eq`?"
    );
    for (comparison, written, want) in [
        ("STRING_COMPARISON_TYPE", "not_equals", "neq"),
        ("STRING_COMPARISON_TYPE", "notEquals", "neq"),
        ("STRING_COMPARISON_TYPE", "starts_with", "prefix"),
        ("STRING_COMPARISON_TYPE", "ends-with", "suffix"),
        ("STRING_COMPARISON_TYPE", "in", "isoneof"),
        ("STRING_COMPARISON_TYPE", "not_in", "isnotoneof"),
        ("STRING_COMPARISON_TYPE", "includes", "contains"),
        ("NUMBER_COMPARISON_TYPE", "greater_than", "gt"),
        ("NUMBER_COMPARISON_TYPE", "greater_than_or_equal", "gte"),
        ("NUMBER_COMPARISON_TYPE", "less_than", "lt"),
        ("NUMBER_COMPARISON_TYPE", "\"<=\"", "lte"),
        ("NUMBER_COMPARISON_TYPE", "\"!=\"", "neq"),
        ("DATETIME_COMPARISON_TYPE", "before", "lt"),
        ("DATETIME_COMPARISON_TYPE", "exists", "present"),
        ("BOOLEAN_COMPARISON_TYPE", "is_true", "true"),
    ] {
        let got = operator_error(comparison, written);
        assert!(
            got.ends_with(&format!("; did you mean `{want}`?")),
            "{written} on {comparison}: {got}"
        );
    }
    // A synonym of an operator the type does not have gets no wrong suggestion.
    let got = operator_error("STRING_COMPARISON_TYPE", "greater_than");
    assert!(!got.contains("did you mean"), "{got}");
}

fn warnings_of(flags: &str) -> Vec<String> {
    let env = compile(&[("features.yaml", &format!("{SEGMENT}flags:\n{flags}"))]).expect("valid");
    let w = env.warnings();
    assert!(w.iter().all(|d| d.severity == Severity::Warning));
    w.iter().map(ToString::to_string).collect()
}

#[test]
fn rules_without_a_default_variant_are_warned_about() {
    assert_eq!(
        warnings_of(
            "- key: f\n  name: F\n  enabled: true\n  variants: [{key: a}, {key: b}]\n  rules:\n  - {segment: s, distributions: [{variant: a, rollout: 100}]}\n"
        ),
        [
            "features.yaml:4:8: warning: flags[0]: flag default/f has rules but no default variant: users that match no rule get reason UNKNOWN and an empty variant; mark one variant `default: true` (format 1.3 or later)"
        ]
    );
    // Each of these answers every user deliberately: no warning.
    for quiet in [
        // a default variant
        "- key: f\n  name: F\n  enabled: true\n  variants: [{key: a, default: true}]\n  rules:\n  - {segment: s, distributions: [{variant: a, rollout: 100}]}\n",
        // disabled: every user gets FLAG_DISABLED
        "- key: f\n  name: F\n  enabled: false\n  variants: [{key: a}]\n  rules:\n  - {segment: s, distributions: [{variant: a, rollout: 100}]}\n",
        // no rules
        "- key: f\n  name: F\n  enabled: true\n  variants: [{key: a}]\n",
        // a boolean flag
        "- key: f\n  name: F\n  type: BOOLEAN_FLAG_TYPE\n  enabled: true\n  rollouts:\n  - segment: {key: s, value: true}\n",
    ] {
        assert_eq!(warnings_of(quiet), Vec::<String>::new(), "{quiet}");
    }
    // A last rule on a segment without constraints matches everyone: no warning.
    let env = compile(&[(
        "features.yaml",
        "segments:\n- {key: all, name: All, match_type: ALL_MATCH_TYPE}\nflags:\n- key: f\n  name: F\n  enabled: true\n  variants: [{key: a}]\n  rules:\n  - {segment: all, distributions: [{variant: a, rollout: 100}]}\n",
    )])
    .expect("valid");
    assert!(env.warnings().is_empty());
    assert!(env.namespace("default").expect("ns").warnings().is_empty());
}

#[test]
fn diagnostics_are_capped_with_a_summary() {
    let mut text = String::from("flags:\n");
    for i in 0..3_000 {
        text.push_str(&format!("- {{key: f{i}}}\n"));
    }
    let limits = Limits {
        max_diagnostics: 100,
        ..Limits::default()
    };
    let err = compile_environment(
        "default",
        &[SourceFile::new("features.yaml", text.as_str())],
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.len(), 101);
    assert_eq!(
        err.as_slice()[100].to_string(),
        "features.yaml:102:3: at least 2900 more problems were found and not listed (at most 100 are listed); the first of them is here"
    );
    assert_eq!(
        err.as_slice()[0].to_string(),
        "features.yaml:2:3: flags[0]: the flag is missing required field `name`"
    );
}

#[test]
fn megabyte_keys_are_clipped_in_messages() {
    let key = "k".repeat(1 << 20);
    // An explicit key: YAML limits implicit keys to 1024 characters.
    let got = errors(&format!("flags: []\n? {key}\n: 1\n"));
    assert_eq!(got.len(), 1, "{got:.200?}");
    assert!(got[0].len() < 400, "{} bytes", got[0].len());
    assert!(
        got[0].contains(&format!("`{}…`", "k".repeat(64))),
        "{}",
        got[0]
    );
}
