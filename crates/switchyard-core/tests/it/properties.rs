//! Property tests: evaluation never panics; a snapshot's impact on itself is zero; valid documents survive parse → export → parse; every break-glass override that fits has a patch that makes Git answer as it does.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_core::{Evaluation, SampleContext, diff, evaluate, export, impact};

use crate::support::compile;

const TYPES: &[(&str, &[&str])] = &[
    (
        "STRING_COMPARISON_TYPE",
        &[
            "eq",
            "neq",
            "empty",
            "notempty",
            "prefix",
            "suffix",
            "contains",
            "notcontains",
            "isoneof",
            "isnotoneof",
        ],
    ),
    (
        "NUMBER_COMPARISON_TYPE",
        &[
            "eq",
            "neq",
            "present",
            "notpresent",
            "lt",
            "lte",
            "gt",
            "gte",
            "isoneof",
            "isnotoneof",
        ],
    ),
    (
        "BOOLEAN_COMPARISON_TYPE",
        &["true", "false", "present", "notpresent"],
    ),
    (
        "DATETIME_COMPARISON_TYPE",
        &[
            "eq",
            "neq",
            "present",
            "notpresent",
            "lt",
            "lte",
            "gt",
            "gte",
        ],
    ),
    (
        "ENTITY_ID_COMPARISON_TYPE",
        &["eq", "neq", "isoneof", "isnotoneof", "prefix", "suffix"],
    ),
];

fn constraint() -> impl Strategy<Value = Value> {
    (
        0..TYPES.len(),
        0usize..10,
        0usize..4,
        -50i32..50,
        "[a-c]{0,3}",
    )
        .prop_map(|(t, o, p, n, s)| {
            let (ty, ops) = TYPES[t];
            let op = ops[o % ops.len()];
            let prop = ["plan", "age", "beta", "at"][p];
            let value = match (ty, op) {
                (_, "isoneof" | "isnotoneof") if ty == "NUMBER_COMPARISON_TYPE" => {
                    json!([n, n + 1])
                }
                (_, "isoneof" | "isnotoneof") => json!([s.clone(), "b"]),
                ("NUMBER_COMPARISON_TYPE", _) => json!(n.to_string()),
                ("DATETIME_COMPARISON_TYPE", _) => json!(format!(
                    "2026-01-{:02}T00:00:00Z",
                    (n.unsigned_abs() % 28) + 1
                )),
                _ => json!(s),
            };
            json!({"type": ty, "property": prop, "operator": op, "value": value})
        })
}

fn segment(i: usize) -> impl Strategy<Value = Value> {
    (prop::bool::ANY, prop::collection::vec(constraint(), 0..4)).prop_map(move |(all, cs)| {
        json!({"key": format!("s{i}"), "name": format!("S{i}"), "match_type": if all {"ALL_MATCH_TYPE"} else {"ANY_MATCH_TYPE"}, "constraints": cs})
    })
}

fn flag(i: usize, nseg: usize) -> impl Strategy<Value = Value> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        1usize..4,
        prop::option::of(0usize..3),
        prop::collection::vec((prop::collection::vec(0..nseg, 1..3), prop::bool::ANY, prop::collection::vec(0u32..60, 0..3)), 0..3),
        prop::collection::vec((prop::option::of(0u32..101), 0..nseg, prop::bool::ANY), 0..3),
    )
        .prop_map(move |(boolean, enabled, nvar, default, rules, rollouts)| {
            let key = format!("f{i}");
            if boolean {
                let rollouts: Vec<Value> = rollouts
                    .into_iter()
                    .map(|(pct, seg, value)| match pct {
                        Some(p) => json!({"threshold": {"percentage": p, "value": value}}),
                        None => json!({"segment": {"keys": [format!("s{seg}")], "value": value}}),
                    })
                    .collect();
                return json!({"key": key, "name": "B", "type": "BOOLEAN_FLAG_TYPE", "enabled": enabled, "rollouts": rollouts});
            }
            let variants: Vec<Value> = (0..nvar)
                .map(|v| {
                    let mut o = json!({"key": format!("v{v}")});
                    if default == Some(v) {
                        o["default"] = json!(true);
                    }
                    if v == 1 {
                        o["attachment"] = json!({"n": v});
                    }
                    o
                })
                .collect();
            let rules: Vec<Value> = rules
                .into_iter()
                .map(|(segs, and, rolls)| {
                    let mut keys: Vec<String> = segs.iter().map(|s| format!("s{s}")).collect();
                    keys.dedup();
                    keys.sort();
                    keys.dedup();
                    // Keep the sum at or under 100, as validation requires.
                    let sum: u32 = rolls.iter().sum();
                    let rolls: Vec<u32> = if sum > 100 { rolls.iter().map(|r| r * 100 / sum).collect() } else { rolls };
                    let dists: Vec<Value> = rolls
                        .iter()
                        .enumerate()
                        .filter(|(v, _)| *v < nvar)
                        .map(|(v, r)| json!({"variant": format!("v{v}"), "rollout": r}))
                        .collect();
                    json!({"segment": {"keys": keys, "operator": if and {"AND_SEGMENT_OPERATOR"} else {"OR_SEGMENT_OPERATOR"}}, "distributions": dists})
                })
                .collect();
            json!({"key": key, "name": "V", "enabled": enabled, "variants": variants, "rules": rules})
        })
}

fn document() -> impl Strategy<Value = Value> {
    (1usize..4).prop_flat_map(|nseg| {
        let segs: Vec<_> = (0..nseg).map(segment).collect();
        let flags: Vec<_> = (0..3).map(|i| flag(i, nseg)).collect();
        (segs, flags).prop_map(
            |(segments, flags)| json!({"version": "1.6", "flags": flags, "segments": segments}),
        )
    })
}

/// The plain-words diff of two environments.
fn diff_of(a: &switchyard_core::Environment, b: &switchyard_core::Environment) -> Vec<String> {
    diff(a, b).lines()
}

fn context() -> impl Strategy<Value = HashMap<String, String>> {
    prop::collection::hash_map(
        prop::sample::select(vec!["plan", "age", "beta", "at", "other"]).prop_map(str::to_string),
        prop_oneof![
            "[a-c ]{0,4}",
            (-60i32..60).prop_map(|n| n.to_string()),
            prop::sample::select(vec![
                "true",
                "false",
                "1",
                "T",
                "2026-01-10T00:00:00Z",
                "2026-01-10",
                "",
                " ",
                "\u{a0}x"
            ])
            .prop_map(str::to_string),
            any::<String>(),
        ],
        0..5,
    )
}

proptest! {

    #[test]
    fn evaluation_never_panics(doc in document(), entity in any::<String>(), ctx in context()) {
        let env = compile(&[("features.json", &doc.to_string())]).expect("generated documents are valid");
        let ns = env.namespace("default").expect("default namespace");
        for f in &ns.flags {
            match evaluate(f, &entity, &ctx) {
                Evaluation::Variant(v) => {
                    prop_assert!(!v.matched || v.reason == switchyard_core::Reason::Match);
                    prop_assert!(v.variant.is_none_or(|x| f.variants.contains(x)));
                }
                Evaluation::Boolean(_) => {}
            }
        }
    }

    #[test]
    fn impact_of_a_snapshot_with_itself_is_zero(doc in document(), entity in any::<String>(), ctx in context()) {
        let env = compile(&[("features.json", &doc.to_string())]).expect("generated documents are valid");
        let again = compile(&[("features.json", &doc.to_string())]).expect("generated documents are valid");
        let sample = SampleContext {
            entity_id: entity,
            context: ctx.into_iter().collect(),
            namespace: None,
            flag_key: None,
        };
        let i = impact(&env, &again, &diff(&env, &again), &[sample]);
        prop_assert!(i.flags.is_empty(), "{:?}", i.flags);
        prop_assert!(!i.changes_entities());
    }

    #[test]
    fn valid_documents_survive_parse_export_parse(doc in document()) {
        let env = compile(&[("features.json", &doc.to_string())]).expect("generated documents are valid");
        let ns = env.namespace("default").expect("default namespace");
        let exported = export::document(ns).to_string();
        let again = compile(&[("features.json", &exported)]).expect("exported document is valid");
        let ns2 = again.namespace("default").expect("default namespace");
        let mut a = export::client_snapshot(ns, "t");
        let mut b = export::client_snapshot(ns2, "t");
        a["digest"] = Value::Null;
        b["digest"] = Value::Null;
        prop_assert_eq!(a, b);
    }

    #[test]
    fn client_snapshot_writer_writes_the_bytes_of_the_tree(doc in document()) {
        let env = compile(&[("features.json", &doc.to_string())]).expect("generated documents are valid");
        let ns = env.namespace("default").expect("default namespace");
        crate::support::assert_snapshot_writer_matches_tree(ns, &doc.to_string());
    }

    #[test]
    fn every_fitting_override_has_a_patch_that_makes_git_match(doc in document()) {
        use switchyard_core::overlay::{self, FlagOverride, Forced};
        use switchyard_testkit::unified::{apply, block_yaml};
        let text = block_yaml(&doc);
        let files = [switchyard_core::SourceFile::new("features.yaml", text.as_str())];
        let env = compile(&[("features.yaml", &text)]).expect("generated documents are valid");
        let ns = env.namespace("default").expect("default namespace");
        for f in &ns.flags {
            let mut forced = vec![Forced::Enabled(true), Forced::Enabled(false), Forced::Rollout(37.0)];
            forced.extend(f.variants.iter().map(|v| Forced::Variant(v.key.clone())));
            for forced in forced {
                let o = FlagOverride { namespace: "default".into(), flag: f.key.clone(), forced };
                if overlay::check(&env, &o).is_err() {
                    continue;
                }
                let laid = overlay::overlay(&env, std::slice::from_ref(&o)).expect("checked");
                let Some(diff) = overlay::patch(&env, &files, &o) else {
                    prop_assert!(false, "no patch for {o:?} of\n{text}");
                    continue;
                };
                let fixed = apply(&text, &diff);
                let after = compile(&[("features.yaml", &fixed)]);
                prop_assert!(after.is_ok(), "{o:?}: the patched file is invalid:\n{diff}\n{:?}", after.err());
                let after = after.expect("checked");
                prop_assert!(overlay::git_matches(&after, &o), "{o:?}\n{diff}");
                // Git's version now answers as the override did, for every flag.
                let changes = diff_of(&laid, &after);
                prop_assert!(changes.is_empty(), "{o:?}: {changes:?}\n{diff}");
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_reader(text in any::<String>()) {
        let _ = compile(&[("features.yaml", &text)]);
        let _ = compile(&[("features.json", &text)]);
    }
}
