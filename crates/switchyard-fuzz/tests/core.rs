//! Fuzz target `core`: the flag-file reader (YAML and JSON), the decoder, the compiler, the
//! `.flipt.yml` index reader, evaluation with arbitrary contexts and the exports.
//!
//! Checked for every input: nothing panics; compiling twice gives the same result; diagnostics
//! point inside the file and are sorted; every flag of a compiled environment evaluates and
//! exports for random entities and contexts. `cargo test` runs it for 2 s; `scripts/test.sh` for
//! 60 s; a long run: `SWITCHYARD_FUZZ_SECONDS=600 cargo test --release -p switchyard-fuzz --test
//! core -- --nocapture`.

use std::collections::HashMap;

use switchyard_core::{
    Diagnostics, Environment, FileSelector, FlagType, INDEX_FILE, Limits, SourceFile,
    compile_environment, evaluate, evaluate_boolean, evaluate_variant, export,
};
use switchyard_fuzz::{Dictionary, Input, Rng, fuzz, shape};
use switchyard_server::responses::{BooleanResponse, VariantResponse};

/// Words the mutator inserts: YAML syntax, Flipt's field names and enum values, odd scalars.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\n    - ",
    "  ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "<<: ",
    "<<: *a",
    "---\n",
    "...\n",
    "\"",
    "'",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!map ",
    "!custom ",
    "? ",
    "|\n  ",
    ">\n  ",
    "# c\n",
    "~",
    "null",
    "true",
    "false",
    "yes",
    "1e309",
    "-0",
    "0x1f",
    "0o17",
    ".nan",
    "-.inf",
    "1.0e+3",
    "18446744073709551616",
    "\t",
    "\r\n",
    "\u{feff}",
    "é",
    "\\u0000",
    "%YAML 1.2\n",
    "flags",
    "segments",
    "key",
    "name",
    "description",
    "enabled",
    "variants",
    "rules",
    "rollouts",
    "distributions",
    "segment",
    "keys",
    "operator",
    "constraints",
    "type",
    "property",
    "match_type",
    "threshold",
    "percentage",
    "value",
    "default",
    "attachment",
    "metadata",
    "rank",
    "rollout",
    "variant",
    "version: \"1.2\"\n",
    "version: \"1.6\"\n",
    "namespace",
    "include",
    "exclude",
    "VARIANT_FLAG_TYPE",
    "BOOLEAN_FLAG_TYPE",
    "ALL_MATCH_TYPE",
    "ANY_MATCH_TYPE",
    "OR_SEGMENT_OPERATOR",
    "AND_SEGMENT_OPERATOR",
    "STRING_COMPARISON_TYPE",
    "NUMBER_COMPARISON_TYPE",
    "BOOLEAN_COMPARISON_TYPE",
    "DATETIME_COMPARISON_TYPE",
    "ENTITY_ID_COMPARISON_TYPE",
    "eq",
    "neq",
    "lt",
    "lte",
    "gt",
    "gte",
    "empty",
    "notempty",
    "present",
    "notpresent",
    "prefix",
    "suffix",
    "contains",
    "notcontains",
    "isoneof",
    "isnotoneof",
    "equals",
    "2026-01-02",
    "2026-01-02T15:04:05Z",
    "[a, b]",
    "'[\"a\"]'",
    "[1, 2.5]",
    "{key: v}",
    "{variant: v, rollout: 50}",
    "{segment: s}",
    "{threshold: {percentage: 50, value: true}}",
    "100",
    "101",
    "-1",
    "0",
    "50",
    "99.9999",
    "100.0001",
    "**/*.yml",
];

/// What the checks found about one input, for the corpus's novelty test.
fn outcomes(input: &Input) -> Vec<String> {
    let file = SourceFile::new(input.name.clone(), input.bytes.clone());
    let limits = Limits::default();
    // YAML's line breaks: `\n`, `\r\n` and a lone `\r`.
    let b = &input.bytes;
    let breaks = (0..b.len())
        .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = breaks as u32 + 1;
    if input.name == INDEX_FILE {
        return match FileSelector::from_index(&file, &limits) {
            Ok(sel) => {
                let m = sel.matches("a/features.yml");
                vec![format!("index ok {m}")]
            }
            Err(d) => check_diagnostics(&d, lines),
        };
    }
    let first = compile_environment("default", std::slice::from_ref(&file), &limits);
    let again = compile_environment("default", std::slice::from_ref(&file), &limits);
    match (&first, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a.digest, b.digest, "compiling twice differs"),
        (Err(a), Err(b)) => assert_eq!(a, b, "compiling twice differs"),
        _ => panic!("compiling twice differs"),
    }
    // Tight limits reach the limit paths of small inputs.
    let tight = Limits {
        max_depth: 4,
        max_nodes_per_file: 64,
        max_aliases_per_file: 3,
        max_alias_nodes_per_file: 16,
        max_documents_per_file: 2,
        max_diagnostics: 3,
        max_flow_entries: 3,
        ..Limits::default()
    };
    let mut out = match compile_environment("default", std::slice::from_ref(&file), &tight) {
        Ok(_) => vec!["tight ok".to_string()],
        Err(d) => check_diagnostics(&d, lines),
    };
    match first {
        Ok(env) => out.push(exercise(&env, input.bytes.len() as u64)),
        Err(d) => out.extend(check_diagnostics(&d, lines)),
    }
    out
}

/// Checks diagnostics' positions and order; returns their message shapes.
fn check_diagnostics(d: &Diagnostics, lines: u32) -> Vec<String> {
    assert!(!d.is_empty(), "an error without diagnostics");
    let list = d.as_slice();
    // All but a possible last "more problems" summary are sorted.
    let sorted = &list[..list.len() - 1];
    assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "unsorted: {d}");
    for x in list {
        assert!(x.location.line >= 1 && x.location.column >= 1, "{x}");
        assert!(
            x.location.line <= lines,
            "line past the end ({lines} lines): {x}"
        );
        assert!(!x.message.is_empty(), "empty message at {x}");
        let _ = x.to_string();
    }
    list.iter().map(|x| shape(&x.message)).collect()
}

/// Evaluates and exports every flag; returns the environment's shape.
fn exercise(env: &Environment, salt: u64) -> String {
    let mut rng = Rng(salt);
    let values = [
        "",
        "pro",
        "1",
        "-2.5",
        "1e3",
        "true",
        "false",
        "2026-01-02",
        "2026-01-02T15:04:05Z",
        "@acme.io",
        "é",
        "[\"a\"]",
    ];
    let mut shape = Vec::new();
    for ns in env.namespaces.values() {
        let _ = export::client_snapshot(ns, "2026-01-01T00:00:00Z");
        let _ = export::document(ns);
        for w in ns.warnings() {
            assert!(w.location.line >= 1, "{w}");
        }
        for flag in &ns.flags {
            shape.push(format!(
                "{:?}/{}/{}/{}",
                flag.flag_type,
                flag.variants.len().min(3),
                flag.rules.len().min(3),
                flag.rollouts.len().min(3)
            ));
            for _ in 0..4 {
                let mut ctx: HashMap<String, String> = HashMap::new();
                for seg in &ns.segments {
                    for c in &seg.constraints {
                        if rng.below(3) > 0 {
                            ctx.insert(c.property.clone(), rng.pick(&values).to_string());
                        }
                    }
                }
                let entity = format!("user-{}", rng.next_u64() % 1000);
                let _ = evaluate(flag, &entity, &ctx);
                match flag.flag_type {
                    FlagType::Variant => {
                        if let Ok(v) = evaluate_variant(flag, &entity, &ctx) {
                            let r = VariantResponse::new(&flag.key, &v, "r", 0.1, "t");
                            assert!(serde_json::to_vec(&r).is_ok());
                        }
                    }
                    FlagType::Boolean => {
                        if let Ok(b) = evaluate_boolean(flag, &entity, &ctx) {
                            let r = BooleanResponse::new(&flag.key, &b, "r", 0.1, "t");
                            assert!(serde_json::to_vec(&r).is_ok());
                        }
                    }
                }
            }
        }
    }
    shape.sort();
    shape.dedup();
    format!("ok {}", shape.join(","))
}

/// The reader a seed file is read with, by its name.
fn name_of(file: &str) -> String {
    if file.ends_with(INDEX_FILE) {
        INDEX_FILE
    } else if file.ends_with(".json") {
        "features.json"
    } else if file.ends_with(".yml") {
        "features.yml"
    } else {
        "features.yaml"
    }
    .to_string()
}

#[test]
fn fuzz_core() {
    let dict = Dictionary {
        tokens: TOKENS,
        names: &["features.yaml", "features.yml", "features.json", INDEX_FILE],
    };
    fuzz("core", &dict, name_of, outcomes);
}
