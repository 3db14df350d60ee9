//! Validation: Flipt's schema and references, plus what Flipt silently lets through.

use crate::support::{check, compile, errors, fixture};

#[test]
fn seed_features_yml_is_rejected_with_precise_errors() {
    let text = fixture("seed-invalid/flipt/features.yml");
    let got = errors(&text);
    let f = "features.yaml";
    for want in [
        format!(
            "{f}:10:18: flags[0].rules[0].segment: flag default/newHomeUI rule 1 references unknown segment \"premium-users\""
        ),
        format!(
            "{f}:12:13: flags[0].rules[0].distributions[0].variant_key: unknown field `variant_key` in a distribution; did you mean `variant`?"
        ),
        format!(
            "{f}:12:13: flags[0].rules[0].distributions[0]: the distribution is missing required field `variant`"
        ),
        format!("{f}:14:5: flags[1]: the flag is missing required field `name`"),
        format!(
            "{f}:17:18: flags[1].rules[0].segment: flag default/newDashboard rule 1 references unknown segment \"beta-testers\""
        ),
        format!("{f}:28:5: flags[3]: the flag is missing required field `name`"),
        format!(
            "{f}:31:18: flags[3].rules[0].segment: flag default/checkoutExperiment rule 1 references unknown segment \"enterprise-users\""
        ),
    ] {
        assert!(got.contains(&want), "missing {want}\n got: {got:#?}");
    }
    assert_eq!(got.len(), 17, "{got:#?}");
}

#[test]
fn seed_corrected_version_passes() {
    let env = compile(&[(
        "flipt/features.yml",
        &fixture("seed-valid/flipt/features.yml"),
    )])
    .expect("valid");
    let ns = env.namespace("default").expect("default namespace");
    let keys: Vec<&str> = ns.flags.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "newHomeUI",
            "newDashboard",
            "newPaymentFlow",
            "checkoutExperiment"
        ]
    );
    assert_eq!(ns.segments.len(), 3);
}

#[test]
fn flipt_pinned_rollout_bound_message() {
    // Flipt's validate_test: `flags.0.rules.1.distributions.0.rollout: invalid value 110 (out of bound <=100)`.
    check(
        r#"flags:
- key: a
  name: A
  variants: [{key: v}]
  rules:
  - segment: s
    distributions: [{variant: v, rollout: 10}]
  - segment: s
    distributions: [{variant: v, rollout: 110}]
segments:
- {key: s, name: S, match_type: ALL_MATCH_TYPE}
"#,
        &[
            "features.yaml:9:43: flags[0].rules[1].distributions[0].rollout: invalid value 110 (out of bound <=100)",
        ],
    );
}

#[test]
fn duplicates_that_flipt_lets_through() {
    let base =
        "segments:\n- {key: s, name: S, match_type: ALL_MATCH_TYPE}\nflags:\n- {key: f, name: F}\n";
    let err = compile(&[("a/features.yaml", base), ("b/features.yaml", base)]).unwrap_err();
    let lines: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "b/features.yaml:2:9: segments[0].key: duplicate segment key \"s\" in namespace \"default\" (first defined at a/features.yaml:2:9)",
            "b/features.yaml:4:9: flags[0].key: duplicate flag key \"f\" in namespace \"default\" (first defined at a/features.yaml:4:9)",
        ]
    );
    // Different namespaces may reuse keys.
    let other = "namespace: other\nsegments:\n- {key: s, name: S, match_type: ALL_MATCH_TYPE}\n";
    assert!(compile(&[("a/features.yaml", base), ("b/features.yaml", other)]).is_ok());
}

#[test]
fn variant_problems() {
    check(
        r#"version: "1.3"
flags:
- key: f
  name: F
  variants:
  - {key: a, default: true}
  - {key: a}
  - {key: b, default: true}
  - {key: c, attachment: "text"}
"#,
        &[
            "features.yaml:7:11: flags[0].variants[1].key: duplicate variant key \"a\" in flag default/f",
            "features.yaml:8:23: flags[0].variants[2].default: flag default/f has more than one default variant (first at line 6 column 23)",
            "features.yaml:9:26: flags[0].variants[3].attachment: `attachment` must be an object or a list, found a string",
        ],
    );
}

#[test]
fn distributions_over_100_and_unknown_variants() {
    check(
        r#"flags:
- key: f
  name: F
  variants: [{key: a}, {key: b}]
  rules:
  - segment: s
    distributions:
    - {variant: a, rollout: 60}
    - {variant: b, rollout: 50}
    - {variant: z, rollout: 0}
segments:
- {key: s, name: S, match_type: ANY_MATCH_TYPE}
"#,
        &[
            "features.yaml:6:5: flags[0].rules[0].distributions: distributions of rule 1 of flag default/f sum to 110, more than 100",
            "features.yaml:10:17: flags[0].rules[0].distributions[2].variant: flag default/f rule 1 references unknown variant \"z\"",
        ],
    );
}

#[test]
fn boolean_rollout_problems() {
    check(
        r#"flags:
- key: b
  name: B
  type: BOOLEAN_FLAG_TYPE
  rollouts:
  - threshold: {percentage: 150, value: true}
  - segment: {key: nope, value: true}
  - segment: {key: s, keys: [s]}
  - threshold: {percentage: 5}
    segment: {key: s}
- key: v
  name: V
  rollouts: []
segments:
- {key: s, name: S, match_type: ANY_MATCH_TYPE}
"#,
        &[
            "features.yaml:6:29: flags[0].rollouts[0].threshold.percentage: invalid value 150 (out of bound <=100)",
            "features.yaml:7:20: flags[0].rollouts[1].segment.key: flag default/b rollout 2 references unknown segment \"nope\"",
            "features.yaml:8:29: flags[0].rollouts[2].segment.keys: use either `key` or `keys`, not both",
            "features.yaml:9:16: flags[0].rollouts[3].threshold: a rollout has either `segment` or `threshold`, not both",
            "features.yaml:13:3: flags[1].rollouts: `rollouts` are only allowed on flags with `type: BOOLEAN_FLAG_TYPE`; variant flags use `rules`",
        ],
    );
}

#[test]
fn version_gates() {
    check(
        r#"version: "1.0"
flags:
- key: f
  name: F
  type: BOOLEAN_FLAG_TYPE
"#,
        &[
            "features.yaml:5:3: flags[0].type: field `type` needs format version 1.1 or later; this document is version 1.0 (set `version: \"1.6\"`)",
        ],
    );
    check(
        r#"version: "1.2"
flags:
- key: f
  name: F
  metadata: {owner: me}
  variants: [{key: a, default: true}]
"#,
        &[
            "features.yaml:5:3: flags[0].metadata: field `metadata` needs format version 1.3 or later; this document is version 1.2 (set `version: \"1.6\"`)",
            "features.yaml:6:23: flags[0].variants[0].default: field `default` needs format version 1.3 or later; this document is version 1.2 (set `version: \"1.6\"`)",
        ],
    );
    check(
        "version: \"1.3\"\nnamespace: {key: x}\n",
        &[
            "features.yaml:2:12: namespace: the object form of `namespace` needs format version 1.4 or later; this document is version 1.3",
        ],
    );
    check(
        r#"version: "1.1"
flags:
- key: b
  name: B
  type: BOOLEAN_FLAG_TYPE
  rollouts:
  - segment: {keys: [s]}
segments:
- {key: s, name: S, match_type: ANY_MATCH_TYPE}
"#,
        &[
            "features.yaml:7:15: flags[0].rollouts[0].segment.keys: field `keys` needs format version 1.2 or later; this document is version 1.1 (set `version: \"1.6\"`)",
        ],
    );
    check(
        "version: \"2.0\"\n",
        &[
            "features.yaml:1:10: version: unsupported version \"2.0\": must be one of \"1.0\" to \"1.6\"",
        ],
    );
    check(
        "version: 1.4\n",
        &[
            "features.yaml:1:10: version: `version` must be a string, found a number; quote it, e.g. version: \"1.4\"",
        ],
    );
}

#[test]
fn isoneof_forms_by_version() {
    let seg = |version: &str, value: &str| {
        format!(
            "version: \"{version}\"\nsegments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {{type: STRING_COMPARISON_TYPE, property: plan, operator: isoneof, value: {value}}}\n"
        )
    };
    assert!(compile(&[("features.yaml", &seg("1.6", "[pro, enterprise]"))]).is_ok());
    assert!(compile(&[("features.yaml", &seg("1.5", "'[\"pro\",\"enterprise\"]'"))]).is_ok());
    let e = errors(&seg("1.6", "'[\"pro\"]'"));
    assert!(
        e[0].contains("in format version 1.6 `isoneof` takes a YAML list"),
        "{e:?}"
    );
    let e = errors(&seg("1.5", "[pro]"));
    assert!(
        e[0].contains("a list value for `isoneof` needs format version 1.6"),
        "{e:?}"
    );
    let e = errors(&seg("1.5", "'pro,enterprise'"));
    assert!(
        e[0].contains("needs a JSON array of strings")
            && e[0].contains("Flipt would drop this segment"),
        "{e:?}"
    );
    let e = errors(&seg("1.6", "[pro, 3]"));
    assert!(
        e[0].contains("takes a list of strings, found a number; quote it"),
        "{e:?}"
    );
    // Numbers, and the stored JSON form of a 1.6 list.
    let env = compile(&[(
        "features.yaml",
        "segments:\n- key: s\n  name: S\n  match_type: ALL_MATCH_TYPE\n  constraints:\n  - {type: NUMBER_COMPARISON_TYPE, property: age, operator: isoneof, value: [18, 21.5]}\n",
    )])
    .unwrap();
    assert_eq!(
        env.namespace("default")
            .unwrap()
            .segment("s")
            .unwrap()
            .constraints[0]
            .value,
        "[18,21.5]"
    );
}

#[test]
fn constraint_values_flipt_would_drop() {
    check(
        r#"segments:
- key: s
  name: S
  match_type: ANY_MATCH_TYPE
  constraints:
  - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gt, value: "eighteen"}
  - {type: NUMBER_COMPARISON_TYPE, property: age, operator: lt, value: 18}
  - {type: DATETIME_COMPARISON_TYPE, property: at, operator: lt, value: "next tuesday"}
  - {type: DATETIME_COMPARISON_TYPE, property: at, operator: le, value: "2026-01-01"}
  - {type: BOOLEAN_COMPARISON_TYPE, property: beta, operator: eq, value: "true"}
  - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq}
  - {type: TEXT_COMPARISON_TYPE, property: plan, operator: eq, value: x}
"#,
        &[
            "features.yaml:6:72: segments[0].constraints[0].value: \"eighteen\" is not a number (Flipt would drop this segment)",
            "features.yaml:7:72: segments[0].constraints[1].value: `value` must be a string, found a number; quote it to make it a string",
            "features.yaml:8:73: segments[0].constraints[2].value: \"next tuesday\" is not a datetime; use RFC 3339 such as 2026-01-02T15:04:05Z or a date such as 2026-01-02 (Flipt would drop this segment)",
            "features.yaml:9:62: segments[0].constraints[3].operator: operator \"le\" never matches: Flipt v2.11's schema accepts it for DATETIME_COMPARISON_TYPE but its evaluator knows only `lt` and `lte`; did you mean `lt` or `lte`?",
            "features.yaml:10:63: segments[0].constraints[4].operator: operator \"eq\" is not allowed for BOOLEAN_COMPARISON_TYPE: use one of true, false, present, notpresent",
            "features.yaml:11:5: segments[0].constraints[5].value: operator `eq` needs a `value`",
            "features.yaml:12:12: segments[0].constraints[6].type: invalid constraint type \"TEXT_COMPARISON_TYPE\": must be one of STRING_COMPARISON_TYPE, NUMBER_COMPARISON_TYPE, BOOLEAN_COMPARISON_TYPE, DATETIME_COMPARISON_TYPE, ENTITY_ID_COMPARISON_TYPE; did you mean `STRING_COMPARISON_TYPE`?",
        ],
    );
}

#[test]
fn schema_shapes_keys_and_enums() {
    check(
        r#"flag:
- key: x
flags:
- key: "bad key"
  name: ""
  enabled: yes
- key: ok
  name: OK
  type: VARIANT
segments:
- {key: s, name: S, match_type: ALL}
- {key: t, name: T, matchType: ANY_MATCH_TYPE}
"#,
        &[
            "features.yaml:1:1: flag: unknown field `flag` in a document; did you mean `flags`?",
            "features.yaml:4:8: flags[0].key: invalid key \"bad key\": keys may only contain letters, digits, `-`, `_` and `,`",
            "features.yaml:5:9: flags[0].name: `name` must be a non-empty single line",
            "features.yaml:6:12: flags[0].enabled: `enabled` must be true or false; `yes` is a string in YAML 1.2",
            "features.yaml:9:9: flags[1].type: invalid flag type \"VARIANT\": must be one of VARIANT_FLAG_TYPE, BOOLEAN_FLAG_TYPE; did you mean `VARIANT_FLAG_TYPE`?",
            "features.yaml:11:33: segments[0].match_type: invalid match_type \"ALL\": must be one of ALL_MATCH_TYPE, ANY_MATCH_TYPE; did you mean `ALL_MATCH_TYPE`?",
            // The missing field is reported where the misspelling is, after its "did you mean".
            "features.yaml:12:21: segments[1].matchType: unknown field `matchType` in a segment; did you mean `match_type`?",
            "features.yaml:12:21: segments[1]: the segment is missing required field `match_type`",
        ],
    );
}

#[test]
fn null_descriptions_and_namespace_objects_are_accepted() {
    let env = compile(&[(
        "features.yaml",
        "version: \"1.4\"\nnamespace: {key: team, name: Team, description: null}\nflags:\n- {key: f, name: F, description: null}\n",
    )])
    .unwrap();
    let ns = env.namespace("team").unwrap();
    assert_eq!(ns.name.as_deref(), Some("Team"));
    assert!(ns.flag("f").unwrap().description.is_none());
}

#[test]
fn yaml_streams_and_json_files() {
    let env = compile(&[
        ("features.yaml", "namespace: a\nflags: [{key: f, name: F}]\n---\nnamespace: b\nflags: [{key: f, name: F}]\n"),
        ("more/features.json", "{\"namespace\": \"c\", \"flags\": [{\"key\": \"g\", \"name\": \"G\"}]}"),
    ])
    .unwrap();
    assert_eq!(env.namespaces.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    let err = compile(&[("features.json", "{\"flags\": [\n  {\"key\": \"g\"}\n]}")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "features.json:2:3: flags[0]: the flag is missing required field `name`"
    );
    let err = compile(&[("features.json", "{\"flags\": [}")]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("features.json:1:12: invalid JSON"),
        "{err}"
    );
    let err = compile(&[("features.txt", "flags: []")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "features.txt:1:1: unexpected extension: \".txt\" (use .yaml, .yml or .json)"
    );
}

#[test]
fn every_error_of_every_file_is_reported() {
    let err = compile(&[
        ("a/features.yaml", "flags:\n- {key: a}\n- {key: b}\n"),
        ("b/features.yaml", "segments:\n- {key: s}\n"),
        ("c/features.yaml", "flags: [\n"),
    ])
    .unwrap_err();
    assert_eq!(err.len(), 5, "{err}");
    assert_eq!(err.as_slice()[4].location.file, "c/features.yaml");
}

#[test]
fn limits_refuse_hostile_files() {
    use switchyard_core::{Limits, SourceFile, compile_environment};
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = compile(&[("features.yaml", &bomb)]).unwrap_err();
    assert!(err.to_string().contains("billion laughs"), "{err}");
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let big = SourceFile::new("features.yaml", "#".repeat(101));
    let err = compile_environment("default", &[big], &limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "features.yaml:1:1: file is 101 bytes, larger than the limit of 100 bytes; not read"
    );
}

#[test]
fn invalid_utf8_is_located() {
    use switchyard_core::{Limits, SourceFile, compile_environment};
    let f = SourceFile::new("features.yaml", b"flags:\n- key: \xff\n".to_vec());
    let err = compile_environment("default", &[f], &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "features.yaml:2:8: file is not valid UTF-8"
    );
}

#[test]
fn digests_follow_content() {
    use sha1::{Digest, Sha1};
    let text = "flags: [{key: f, name: F}]\n";
    let a = compile(&[("features.yaml", text)]).unwrap();
    let b = compile(&[(
        "features.yaml",
        "flags: [{key: f, name: F, enabled: true}]\n",
    )])
    .unwrap();
    let a2 = compile(&[("features.yaml", text)]).unwrap();
    // Flipt: the namespace digest is the SHA-1 of the bytes of the file that declares it.
    assert_eq!(
        a.namespace("default").unwrap().digest,
        hex::encode(Sha1::digest(text.as_bytes()))
    );
    assert_ne!(a.digest, b.digest);
    assert_eq!(a.digest, a2.digest);
    // A second document of the same namespace chains: sha1(prev + file digest), still 40 hex.
    let two = compile(&[
        ("a/features.yaml", text),
        ("b/features.yaml", "segments: []\n"),
    ])
    .unwrap();
    let d1 = hex::encode(Sha1::digest(text.as_bytes()));
    let d2 = hex::encode(Sha1::digest(b"segments: []\n"));
    assert_eq!(
        two.namespace("default").unwrap().digest,
        hex::encode(Sha1::digest(format!("{d1}{d2}").as_bytes()))
    );
}
