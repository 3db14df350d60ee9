//! `ExtraChecks`: each check Switchyard adds beyond Flipt v2.11 refuses the files by default and,
//! under `warn`, becomes a warning while the snapshot is built as Flipt builds it; Flipt's own
//! checks refuse the files in both modes.

use switchyard_core::{
    Diagnostics, Environment, ExtraChecks, Limits, Severity, SourceFile, compile_environment_with,
    evaluate_boolean, evaluate_variant, export,
};

fn compile_in(mode: ExtraChecks, files: &[(&str, &str)]) -> Result<Environment, Diagnostics> {
    let files: Vec<SourceFile> = files.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect();
    compile_environment_with("default", &files, &Limits::default(), mode)
}

/// The display lines of the errors of `text` in `error` mode, each one an extra check's.
#[track_caller]
fn refused(text: &str) -> Vec<String> {
    let d =
        compile_in(ExtraChecks::Error, &[("features.yaml", text)]).expect_err("refused by default");
    assert!(
        d.iter().all(|d| d.extra && d.severity == Severity::Error),
        "{d}"
    );
    d.iter().map(ToString::to_string).collect()
}

/// `text` compiled in `warn` mode, and its warnings (every one an extra check's).
#[track_caller]
fn served(text: &str) -> (Environment, Vec<String>) {
    let env = match compile_in(ExtraChecks::Warn, &[("features.yaml", text)]) {
        Ok(env) => env,
        Err(d) => panic!("served under warn, got\n{d}"),
    };
    let w: Vec<String> = env
        .warnings()
        .iter()
        .filter(|d| d.extra)
        .map(|d| {
            assert_eq!(d.severity, Severity::Warning);
            d.to_string()
        })
        .collect();
    (env, w)
}

/// The same finding, as an error by default and as a warning under `warn`.
#[track_caller]
fn both_modes(text: &str, finding: &str) -> Environment {
    let errors = refused(text);
    assert_eq!(errors, [finding.to_string()], "error mode");
    let (env, warnings) = served(text);
    // "file:l:c: path: message" becomes "file:l:c: warning: path: message".
    let (at, rest) = finding.split_once(": ").expect("a located finding");
    let as_warning = format!("{at}: warning: {rest}");
    assert_eq!(warnings, [as_warning], "warn mode");
    env
}

fn ctx<'a>(pairs: &'a [(&'a str, &'a str)]) -> &'a [(&'a str, &'a str)] {
    pairs
}

#[test]
fn thresholds_outside_0_to_100_saturate_as_in_flipt() {
    let text = "flags:\n- key: b\n  name: B\n  type: BOOLEAN_FLAG_TYPE\n  rollouts:\n  - threshold: {percentage: 150, value: true}\n- key: n\n  name: N\n  type: BOOLEAN_FLAG_TYPE\n  enabled: true\n  rollouts:\n  - threshold: {percentage: -5, value: false}\n";
    let d = compile_in(ExtraChecks::Error, &[("features.yaml", text)]).unwrap_err();
    let lines: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "features.yaml:6:29: flags[0].rollouts[0].threshold.percentage: invalid value 150 (out of bound <=100)",
            "features.yaml:12:29: flags[1].rollouts[0].threshold.percentage: invalid value -5 (out of bound >=0)",
        ]
    );
    assert!(d.iter().all(|d| d.extra));
    let (env, warnings) = served(text);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    let ns = env.namespace("default").unwrap();
    // Flipt compares `bucket < percentage`: above 100 everyone matches, below 0 nobody does.
    for entity in ["a", "b", "c", "user-42"] {
        let b = evaluate_boolean(ns.flag("b").unwrap(), entity, ctx(&[])).unwrap();
        assert!(b.enabled, "{entity}");
        let n = evaluate_boolean(ns.flag("n").unwrap(), entity, ctx(&[])).unwrap();
        assert!(
            n.enabled,
            "{entity}: -5 % matches nobody, so the flag's own value applies"
        );
    }
    // A distribution's rollout stays bounded by Flipt's own schema in both modes.
    let dist = "flags:\n- key: f\n  name: F\n  variants: [{key: a}]\n  rules:\n  - segment: s\n    distributions: [{variant: a, rollout: 110}]\nsegments:\n- {key: s, name: S, match_type: ANY_MATCH_TYPE}\n";
    for mode in [ExtraChecks::Error, ExtraChecks::Warn] {
        let d = compile_in(mode, &[("features.yaml", dist)]).unwrap_err();
        assert!(d.iter().all(|d| !d.extra), "{d}");
    }
}

#[test]
fn two_default_variants_the_last_wins_as_in_flipt() {
    let text = "version: \"1.3\"\nflags:\n- key: f\n  name: F\n  enabled: true\n  variants:\n  - {key: a, default: true}\n  - {key: b, default: true}\n";
    let env = both_modes(
        text,
        "features.yaml:8:23: flags[0].variants[1].default: flag default/f has more than one default variant (first at line 7 column 23)",
    );
    let f = env.namespace("default").unwrap().flag("f").unwrap().clone();
    let e = evaluate_variant(&f, "x", ctx(&[])).unwrap();
    assert_eq!(e.variant_key(), "b");
    let flags: Vec<bool> = f.variants.iter().map(|v| v.is_default).collect();
    assert_eq!(flags, [false, true]);
}

#[test]
fn the_le_operator_never_matches_as_in_flipt() {
    let text = "segments:\n- key: s\n  name: S\n  match_type: ANY_MATCH_TYPE\n  constraints:\n  - {type: NUMBER_COMPARISON_TYPE, property: age, operator: le, value: \"30\"}\nflags:\n- key: f\n  name: F\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: s\n    distributions: [{variant: b, rollout: 100}]\n";
    let env = both_modes(
        text,
        "features.yaml:6:61: segments[0].constraints[0].operator: operator \"le\" never matches: Flipt v2.11's schema accepts it for NUMBER_COMPARISON_TYPE but its evaluator knows only `lt` and `lte`; did you mean `lt` or `lte`?",
    );
    let ns = env.namespace("default").unwrap();
    for age in ["1", "30", "99", ""] {
        let e = evaluate_variant(ns.flag("f").unwrap(), "x", ctx(&[("age", age)])).unwrap();
        assert_eq!(e.variant_key(), "a", "age {age:?}: the rule never matches");
    }
    // The client snapshot carries the operator as written (Flipt's SDKs do not match it either).
    let snap = export::client_snapshot(ns, "2026-01-01T00:00:00Z").to_string();
    assert!(snap.contains("\"operator\":\"le\""), "{snap}");
    // `lt`, which Flipt v2.11's schema refuses by mistake (fixed after it), stays accepted.
    let lt = text.replace("operator: le", "operator: lt");
    let env = compile_in(ExtraChecks::Error, &[("features.yaml", &lt)]).expect("lt compiles");
    let e = evaluate_variant(
        env.namespace("default").unwrap().flag("f").unwrap(),
        "x",
        ctx(&[("age", "29")]),
    )
    .unwrap();
    assert_eq!(e.variant_key(), "b");
    // On a datetime too; any value is kept unread, as Flipt keeps it.
    let dt = "segments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {type: DATETIME_COMPARISON_TYPE, property: at, operator: le, value: \"soon\"}\n";
    let (env, w) = served(dt);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(
        env.namespace("default")
            .unwrap()
            .segment("s")
            .unwrap()
            .constraints[0]
            .value,
        "soon"
    );
}

#[test]
fn duplicate_keys_the_last_wins_as_in_flipt() {
    let a = "segments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints: [{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: old}]\nflags:\n- key: f\n  name: First\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: s\n    distributions: [{variant: b, rollout: 100}]\n";
    let b = "segments:\n- key: s\n  name: S2\n  match_type: ALL_MATCH_TYPE\n  constraints: [{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: new}]\nflags:\n- key: f\n  name: Second\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: s\n    distributions: [{variant: b, rollout: 100}]\n- key: g\n  name: G\n  variants: [{key: x}, {key: x}]\n";
    let files = [("a/features.yaml", a), ("b/features.yaml", b)];
    let d = compile_in(ExtraChecks::Error, &files).unwrap_err();
    assert!(d.iter().all(|d| d.extra), "{d}");
    assert_eq!(d.len(), 3, "{d}");
    let env = compile_in(ExtraChecks::Warn, &files).expect("served under warn");
    let w: Vec<String> = env.warnings().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        w,
        [
            "b/features.yaml:2:8: warning: segments[0].key: duplicate segment key \"s\" in namespace \"default\" (first defined at a/features.yaml:2:8)",
            "b/features.yaml:7:8: warning: flags[0].key: duplicate flag key \"f\" in namespace \"default\" (first defined at a/features.yaml:7:8)",
            "b/features.yaml:16:30: warning: flags[1].variants[1].key: duplicate variant key \"x\" in flag default/g",
        ]
    );
    let ns = env.namespace("default").unwrap();
    // One flag `f`, the last one, whose rule uses the last segment `s`.
    assert_eq!(ns.flags.len(), 2);
    let f = ns.flag("f").unwrap();
    assert_eq!(f.name, "Second");
    let hit = |plan: &str| {
        evaluate_variant(f, "x", ctx(&[("plan", plan)]))
            .unwrap()
            .variant_key()
            .to_string()
    };
    assert_eq!(hit("new"), "b");
    assert_eq!(hit("old"), "a");
    assert_eq!(ns.segment("s").unwrap().name, "S2");
    // Flipt keeps both variants of a key.
    assert_eq!(ns.flag("g").unwrap().variants.len(), 2);
}

#[test]
fn unparsable_constraint_values_drop_their_segment_as_in_flipt() {
    // OR over a broken segment and an open one: Flipt leaves the broken one out of the rule.
    let text = "segments:\n- key: broken\n  name: Broken\n  match_type: ANY_MATCH_TYPE\n  constraints:\n  - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gt, value: \"eighteen\"}\n- key: beta\n  name: Beta\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: beta}\nflags:\n- key: f\n  name: F\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: {keys: [broken, beta], operator: OR_SEGMENT_OPERATOR}\n    distributions: [{variant: b, rollout: 100}]\n- key: g\n  name: G\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: {keys: [broken], operator: AND_SEGMENT_OPERATOR}\n    distributions: [{variant: b, rollout: 100}]\n";
    let env = both_modes(
        text,
        "features.yaml:6:72: segments[0].constraints[0].value: \"eighteen\" is not a number (Flipt would drop this segment)",
    );
    let ns = env.namespace("default").unwrap();
    let f = ns.flag("f").unwrap();
    assert_eq!(f.rules[0].segments.len(), 1);
    assert_eq!(f.rules[0].segments[0].key, "beta");
    let e = evaluate_variant(f, "x", ctx(&[("plan", "beta"), ("age", "20")])).unwrap();
    assert_eq!(
        (e.variant_key(), e.segment_keys.to_vec()),
        ("b", vec!["beta"])
    );
    // AND over no segments left: Flipt matches everyone.
    let g = ns.flag("g").unwrap();
    assert!(g.rules[0].segments.is_empty());
    assert_eq!(
        evaluate_variant(g, "x", ctx(&[])).unwrap().variant_key(),
        "b"
    );
    // The segment is still listed, its value as written.
    assert_eq!(
        ns.segment("broken").unwrap().constraints[0].value,
        "eighteen"
    );
    // A datetime and a pre-1.6 JSON list do the same.
    let dt = "version: \"1.5\"\nsegments:\n- key: s\n  name: S\n  match_type: ANY_MATCH_TYPE\n  constraints:\n  - {type: DATETIME_COMPARISON_TYPE, property: at, operator: gt, value: \"next tuesday\"}\n  - {type: STRING_COMPARISON_TYPE, property: plan, operator: isoneof, value: \"pro,enterprise\"}\n";
    assert_eq!(refused(dt).len(), 2);
    let (env, w) = served(dt);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(env.namespace("default").unwrap().segment("s").is_some());
}

#[test]
fn a_missing_value_compares_with_the_empty_string_as_in_flipt() {
    let text = "segments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {type: STRING_COMPARISON_TYPE, property: plan, operator: neq}\nflags:\n- key: f\n  name: F\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: s\n    distributions: [{variant: b, rollout: 100}]\n";
    let env = both_modes(
        text,
        "features.yaml:6:5: segments[0].constraints[0].value: operator `neq` needs a `value`",
    );
    let f = env.namespace("default").unwrap().flag("f").unwrap().clone();
    // `neq ""` matches any non-empty value; an empty one fails every such operator in Flipt.
    assert_eq!(
        evaluate_variant(&f, "x", ctx(&[("plan", "pro")]))
            .unwrap()
            .variant_key(),
        "b"
    );
    assert_eq!(
        evaluate_variant(&f, "x", ctx(&[])).unwrap().variant_key(),
        "a"
    );
}

#[test]
fn empty_keys_lists_match_nobody_with_or_and_everybody_with_and_as_in_flipt() {
    let text = "flags:\n- key: or\n  name: OR\n  enabled: true\n  variants: [{key: a, default: true}, {key: b}]\n  rules:\n  - segment: {keys: []}\n    distributions: [{variant: b, rollout: 100}]\n- key: and\n  name: AND\n  type: BOOLEAN_FLAG_TYPE\n  rollouts:\n  - segment: {keys: [], operator: AND_SEGMENT_OPERATOR, value: true}\n";
    let d = compile_in(ExtraChecks::Error, &[("features.yaml", text)]).unwrap_err();
    let lines: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "features.yaml:7:21: flags[0].rules[0].segment.keys: `keys` must name at least one segment (Flipt accepts an empty list: the rule or rollout then matches nobody with OR_SEGMENT_OPERATOR and everybody with AND_SEGMENT_OPERATOR)",
            "features.yaml:13:21: flags[1].rollouts[0].segment.keys: `keys` must name at least one segment (Flipt accepts an empty list: the rule or rollout then matches nobody with OR_SEGMENT_OPERATOR and everybody with AND_SEGMENT_OPERATOR)",
        ]
    );
    let (env, w) = served(text);
    assert_eq!(w.len(), 2, "{w:#?}");
    let ns = env.namespace("default").unwrap();
    assert_eq!(
        evaluate_variant(ns.flag("or").unwrap(), "x", ctx(&[]))
            .unwrap()
            .variant_key(),
        "a"
    );
    assert!(
        evaluate_boolean(ns.flag("and").unwrap(), "x", ctx(&[]))
            .unwrap()
            .enabled
    );
}

#[test]
fn distribution_sums_over_100_are_normalised_as_in_flipt() {
    let text = "flags:\n- key: f\n  name: F\n  enabled: true\n  variants: [{key: a}, {key: b}]\n  rules:\n  - segment: s\n    distributions:\n    - {variant: a, rollout: 60}\n    - {variant: b, rollout: 60}\nsegments:\n- {key: s, name: S, match_type: ANY_MATCH_TYPE}\n";
    let env = both_modes(
        text,
        "features.yaml:7:5: flags[0].rules[0].distributions: distributions of rule 1 of flag default/f sum to 120, more than 100",
    );
    let f = env.namespace("default").unwrap().flag("f").unwrap().clone();
    // Every entity gets a variant: 60/120 each.
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        let e = evaluate_variant(&f, &format!("user-{i}"), ctx(&[])).unwrap();
        assert!(e.matched);
        seen.insert(e.variant_key().to_string());
    }
    assert_eq!(seen.len(), 2);
}

#[test]
fn flipts_own_refusals_hold_in_both_modes() {
    // A rule that refers to a segment of a later document of the stream.
    let later = "flags:\n- key: f\n  name: F\n  variants: [{key: a}]\n  rules:\n  - segment: s\n---\nsegments:\n- {key: s, name: S, match_type: ANY_MATCH_TYPE}\n";
    // `flags: null` (CUE: null is not a list).
    let null = "flags:\nsegments: []\n";
    for mode in [ExtraChecks::Error, ExtraChecks::Warn] {
        let d = compile_in(mode, &[("features.yaml", later)]).unwrap_err();
        let lines: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "features.yaml:6:14: flags[0].rules[0].segment: flag default/f rule 1 references unknown segment \"s\": it is defined later, at features.yaml:9:9, and Flipt resolves a reference only against the segments of its own and earlier documents (files in path order, documents in file order); move the segment up"
            ],
            "{mode}"
        );
        assert!(!d.as_slice()[0].extra);
        // Across files, in path order, too.
        let first =
            "flags:\n- key: f\n  name: F\n  variants: [{key: a}]\n  rules:\n  - segment: s\n";
        let second = "segments:\n- {key: s, name: S, match_type: ANY_MATCH_TYPE}\n";
        assert!(
            compile_in(
                mode,
                &[("a/features.yaml", first), ("b/features.yaml", second)]
            )
            .is_err()
        );
        assert!(
            compile_in(
                mode,
                &[("b/features.yaml", first), ("a/features.yaml", second)]
            )
            .is_ok()
        );
        let d = compile_in(mode, &[("features.yaml", null)]).unwrap_err();
        assert_eq!(
            d.to_string(),
            "features.yaml:1:6: flags: `flags` must be a list, found null; write `flags: []` or remove the key"
        );
        // Nor is null a boolean or a mapping.
        let d = compile_in(
            mode,
            &[(
                "features.yaml",
                "flags:\n- key: f\n  name: F\n  enabled:\n  metadata:\n",
            )],
        )
        .unwrap_err();
        let lines: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "features.yaml:4:10: flags[0].enabled: `enabled` must be true or false, found null",
                "features.yaml:5:11: flags[0].metadata: `metadata` must be a mapping, found null",
            ]
        );
        // A JSON rule's `segment` in string form (encoding/json cannot read it into Flipt's struct).
        let json = r#"{"flags": [{"key": "f", "name": "F", "variants": [{"key": "a"}], "rules": [{"segment": "s"}]}], "segments": [{"key": "s", "name": "S", "match_type": "ANY_MATCH_TYPE"}]}"#;
        let d = compile_in(mode, &[("features.json", json)]).unwrap_err();
        assert!(
            d.to_string().contains(
                "flags[0].rules[0].segment: in a JSON file `segment` must be an object: Flipt v2 cannot read the string form there; write \"segment\": {\"keys\": [\"s\"]}"
            ),
            "{d}"
        );
        let object = json.replace(r#""segment": "s""#, r#""segment": {"keys": ["s"]}"#);
        assert!(compile_in(mode, &[("features.json", &object)]).is_ok());
    }
    // The same document later in the stream is fine, and YAML's string form is too.
    let earlier = "segments:\n- {key: s, name: S, match_type: ANY_MATCH_TYPE}\n---\nflags:\n- key: f\n  name: F\n  variants: [{key: a}]\n  rules:\n  - segment: s\n";
    assert!(compile_in(ExtraChecks::Error, &[("features.yaml", earlier)]).is_ok());
}
