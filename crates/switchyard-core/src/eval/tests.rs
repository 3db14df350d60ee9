//! Unit tests for evaluation: the vectors of reference §3.8 and the cases Flipt pins (§3.2, §3.3).

use std::collections::HashMap;

use super::*;
use crate::{Limits, SourceFile, compile_environment};

fn env(yaml: &str) -> Environment {
    match compile_environment(
        "default",
        &[SourceFile::new("features.yaml", yaml)],
        &Limits::default(),
    ) {
        Ok(e) => e,
        Err(d) => panic!("fixture does not compile:\n{d}"),
    }
}

fn ctx(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn crc32_test_vectors() {
    assert_eq!(bucket::variant_bucket("foo", "1"), 244);
    assert_eq!(bucket::variant_bucket("foo", "2"), 934);
    assert_eq!(bucket::variant_bucket("test-flag", "test-entity"), 745);
    assert_eq!(bucket::threshold_bucket("test-entity", "test-flag"), 65);
    assert_eq!(bucket::variant_bucket("flag1", "entity"), 673);
    assert_eq!(bucket::threshold_bucket("entity", "flag1"), 38);
    assert_eq!(bucket::variant_bucket("my-flag", "user-123"), 333);
    assert_eq!(bucket::threshold_bucket("user-123", "my-flag"), 11);
}

fn dists(rollouts: &[f32]) -> Vec<crate::snapshot::Distribution> {
    rollouts
        .iter()
        .enumerate()
        .map(|(i, r)| crate::snapshot::Distribution {
            variant: i,
            rollout: *r,
        })
        .collect()
}

#[test]
fn boundaries_are_normalised_truncated_and_end_at_1000() {
    let b: Vec<u32> = bucket::boundaries(&dists(&[1.0, 1.0, 1.0]))
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(
        b,
        vec![333, 666, 1000],
        "Go truncates where the Rust SDK rounds to 667"
    );
    assert_eq!(
        bucket::pick(&bucket::boundaries(&dists(&[1.0, 1.0, 1.0])), 666),
        Some(2)
    );
    let b: Vec<u32> = bucket::boundaries(&dists(&[20.0, 20.0]))
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(b, vec![500, 1000], "20/20 behaves as 50/50");
    let b = bucket::boundaries(&dists(&[0.0, 30.0, 0.0, 70.0]));
    assert_eq!(b, vec![(300, 1), (1000, 3)], "zero rollouts are skipped");
    assert_eq!(bucket::pick(&b, 299), Some(1));
    assert_eq!(bucket::pick(&b, 300), Some(3));
    assert_eq!(bucket::pick(&b, 999), Some(3));
}

const FIFTY_FIFTY: &str = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants: [{key: variant1}, {key: variant2}]
    rules:
      - segment: everyone
        distributions: [{variant: variant1, rollout: 50}, {variant: variant2, rollout: 50}]
segments:
  - {key: everyone, name: Everyone, match_type: ALL_MATCH_TYPE}
"#;

#[test]
fn fifty_fifty_matches_flipt_rust_test() {
    let e = env(FIFTY_FIFTY);
    let f = e.find_flag("default", "foo").unwrap();
    let a = evaluate_variant(f, "1", &ctx(&[])).unwrap();
    assert_eq!(
        (a.matched, a.reason, a.variant_key()),
        (true, Reason::Match, "variant1")
    );
    assert_eq!(a.segment_keys, vec!["everyone"]);
    assert_eq!(a.variant_attachment(), "null");
    let b = evaluate_variant(f, "2", &ctx(&[])).unwrap();
    assert_eq!(b.variant_key(), "variant2");
}

#[test]
fn boolean_percentage_rule_match() {
    // Flipt's TestBoolean_PercentageRuleMatch: crc32("test-entitytest-flag") % 100 = 65.
    let yaml = |pct: u32| {
        format!(
            "flags:\n  - key: test-flag\n    name: T\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n    rollouts:\n      - threshold: {{percentage: {pct}, value: false}}\n"
        )
    };
    let e = env(&yaml(70));
    let r = evaluate_boolean(
        e.find_flag("default", "test-flag").unwrap(),
        "test-entity",
        &ctx(&[]),
    )
    .unwrap();
    assert_eq!((r.enabled, r.reason), (false, Reason::Match));
    let e = env(&yaml(5));
    let r = evaluate_boolean(
        e.find_flag("default", "test-flag").unwrap(),
        "test-entity",
        &ctx(&[]),
    )
    .unwrap();
    assert_eq!((r.enabled, r.reason), (true, Reason::Default));
    let e = env(&yaml(65));
    let r = evaluate_boolean(
        e.find_flag("default", "test-flag").unwrap(),
        "test-entity",
        &ctx(&[]),
    )
    .unwrap();
    assert_eq!(r.reason, Reason::Default, "65 < 65 is false");
}

const MIXED: &str = r#"
version: "1.4"
flags:
  - key: off
    name: Off
    enabled: false
    variants: [{key: a}, {key: b, default: true, attachment: {x: 1}}]
    rules:
      - segment: everyone
        distributions: [{variant: a, rollout: 100}]
  - key: norules
    name: No rules
    enabled: true
    variants: [{key: a}]
  - key: norules-default
    name: No rules with default
    enabled: true
    variants: [{key: a, default: true}]
  - key: nodist
    name: Match without distributions
    enabled: true
    variants: [{key: a}, {key: d, default: true}]
    rules:
      - segment: everyone
  - key: and-or
    name: And or
    enabled: true
    variants: [{key: both}, {key: either}]
    rules:
      - segment: {keys: [pro, eu], operator: AND_SEGMENT_OPERATOR}
        distributions: [{variant: both, rollout: 100}]
      - segment: {keys: [pro, eu], operator: OR_SEGMENT_OPERATOR}
        distributions: [{variant: either, rollout: 100}]
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: pro, value: true}
  - key: bool-and
    name: Bool and
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {keys: [pro, eu], operator: AND_SEGMENT_OPERATOR, value: false}
      - {}
segments:
  - {key: everyone, name: Everyone, match_type: ANY_MATCH_TYPE}
  - key: pro
    name: Pro
    match_type: ALL_MATCH_TYPE
    constraints: [{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}]
  - key: eu
    name: EU
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: region, operator: eq, value: eu-west}
      - {type: STRING_COMPARISON_TYPE, property: region, operator: eq, value: eu-central}
"#;

#[test]
fn disabled_variant_flag_keeps_the_default_variant() {
    let e = env(MIXED);
    let r = evaluate_variant(e.find_flag("default", "off").unwrap(), "u", &ctx(&[])).unwrap();
    assert_eq!(
        (r.matched, r.reason, r.variant_key(), r.variant_attachment()),
        (false, Reason::FlagDisabled, "b", "{\"x\":1}")
    );
}

#[test]
fn no_rules_gives_unknown_or_default() {
    let e = env(MIXED);
    let r = evaluate_variant(e.find_flag("default", "norules").unwrap(), "u", &ctx(&[])).unwrap();
    assert_eq!(
        (r.reason, r.variant_key(), r.variant_attachment()),
        (Reason::Unknown, "", "")
    );
    let r = evaluate_variant(
        e.find_flag("default", "norules-default").unwrap(),
        "u",
        &ctx(&[]),
    )
    .unwrap();
    assert_eq!(
        (r.matched, r.reason, r.variant_key(), r.variant_attachment()),
        (false, Reason::Default, "a", "null")
    );
}

#[test]
fn match_without_distributions_keeps_the_default_key() {
    let e = env(MIXED);
    let r = evaluate_variant(e.find_flag("default", "nodist").unwrap(), "u", &ctx(&[])).unwrap();
    assert_eq!(
        (r.matched, r.reason, r.variant_key()),
        (true, Reason::Match, "d")
    );
    assert_eq!(r.segment_keys, vec!["everyone"], "zero constraints match");
}

#[test]
fn and_or_segment_operators() {
    let e = env(MIXED);
    let f = e.find_flag("default", "and-or").unwrap();
    let r = evaluate_variant(f, "u", &ctx(&[("plan", "pro"), ("region", "eu-central")])).unwrap();
    assert_eq!(
        (r.variant_key(), r.segment_keys.to_vec()),
        ("both", vec!["pro", "eu"])
    );
    let r = evaluate_variant(f, "u", &ctx(&[("plan", "free"), ("region", "eu-west")])).unwrap();
    assert_eq!(
        (r.variant_key(), r.segment_keys.to_vec()),
        ("either", vec!["eu"])
    );
    let r = evaluate_variant(f, "u", &ctx(&[("plan", "free")])).unwrap();
    assert_eq!((r.matched, r.reason), (false, Reason::Unknown));
}

#[test]
fn boolean_rollouts_run_even_when_disabled() {
    let e = env(MIXED);
    let f = e.find_flag("default", "dark").unwrap();
    let r = evaluate_boolean(f, "u", &ctx(&[("plan", "pro")])).unwrap();
    assert_eq!(
        (r.enabled, r.reason, r.segment_keys.to_vec()),
        (true, Reason::Match, vec!["pro"])
    );
    let r = evaluate_boolean(f, "u", &ctx(&[])).unwrap();
    assert_eq!((r.enabled, r.reason), (false, Reason::Default));
    let f = e.find_flag("default", "bool-and").unwrap();
    let r = evaluate_boolean(f, "u", &ctx(&[("plan", "pro"), ("region", "eu-west")])).unwrap();
    assert_eq!((r.enabled, r.reason), (false, Reason::Match));
    let r = evaluate_boolean(f, "u", &ctx(&[("plan", "pro")])).unwrap();
    assert_eq!(
        (r.enabled, r.reason),
        (true, Reason::Default),
        "empty rollout matches nothing"
    );
}

#[test]
fn wrong_type_and_not_found() {
    let e = env(MIXED);
    let err =
        evaluate_variant(e.find_flag("default", "dark").unwrap(), "u", &ctx(&[])).unwrap_err();
    assert_eq!(err.to_string(), "flag type BOOLEAN_FLAG_TYPE invalid");
    let err = evaluate_boolean(e.find_flag("default", "off").unwrap(), "u", &ctx(&[])).unwrap_err();
    assert_eq!(err.to_string(), "flag type VARIANT_FLAG_TYPE invalid");
    assert_eq!(
        e.find_flag("default", "nope").unwrap_err().to_string(),
        "flag \"default/nope\" not found"
    );
    assert_eq!(
        e.find_flag("other", "off").unwrap_err().to_string(),
        "namespace \"other\" not found"
    );
}

#[test]
fn batch_evaluates_each_by_type_and_reports_not_found() {
    let e = env(MIXED);
    let c = ctx(&[("plan", "pro")]);
    let reqs = [
        BatchRequest {
            namespace: "",
            flag_key: "dark",
            entity_id: "u",
            context: &c,
        },
        BatchRequest {
            namespace: "default",
            flag_key: "nodist",
            entity_id: "u",
            context: &c,
        },
        BatchRequest {
            namespace: "default",
            flag_key: "missing",
            entity_id: "u",
            context: &c,
        },
        BatchRequest {
            namespace: "nope",
            flag_key: "dark",
            entity_id: "u",
            context: &c,
        },
    ];
    let out = evaluate_batch(&e, &reqs);
    assert!(matches!(&out[0], BatchItem::Ok(Evaluation::Boolean(b)) if b.enabled));
    assert!(matches!(&out[1], BatchItem::Ok(Evaluation::Variant(v)) if v.variant_key() == "d"));
    assert_eq!(out[2], BatchItem::Error(ErrorReason::NotFound));
    assert_eq!(out[3], BatchItem::Error(ErrorReason::NotFound));
}

#[test]
fn first_matching_rule_wins_in_rank_order() {
    let e = env(MIXED);
    let f = e.find_flag("default", "and-or").unwrap();
    assert_eq!(f.rules[0].rank, 1);
    assert_eq!(f.rules[1].rank, 2);
}

/// Vectors of Go's `path.Join` (how Flipt's `storage.ResourceRequest.String` names a flag in
/// `flag %q not found`, `internal/storage/fs/snapshot.go` `GetFlag`).
#[test]
fn flag_names_in_errors_are_joined_as_go_path_join() {
    use super::go_path_join;
    for (ns, key, want) in [
        ("default", "checkout", "default/checkout"),
        ("default", "", "default"),
        ("default", "a/../b", "default/b"),
        ("default", "../x", "x"),
        ("default", "../../x", "../x"),
        ("default", "a//b/", "default/a/b"),
        ("default", "./.", "default"),
        ("default", "/x", "default/x"),
        ("a", "..", "."),
        ("/a", "../..", "/"),
        ("", "", ""),
    ] {
        assert_eq!(go_path_join(ns, key), want, "{ns:?} {key:?}");
    }
    let e = super::EvalError::FlagNotFound {
        namespace: "default".into(),
        flag: String::new(),
    };
    assert_eq!(e.to_string(), "flag \"default\" not found");
}
