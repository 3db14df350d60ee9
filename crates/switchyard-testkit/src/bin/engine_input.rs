//! Prints the input of `benches/engine/run.sh`: the flag set of switchyard-core's
//! `variant_evaluation` bench (`switchyard_testkit::variant`) as Flipt's client snapshot, the
//! evaluation request, and switchyard-core's answer.
//!
//! Usage: `cargo run --release -p switchyard-testkit --bin engine_input -- [OUT]` (default
//! stdout). Output: `{"snapshot": <EvaluationNamespaceSnapshot>, "request": {"namespaceKey",
//! "flagKey", "entityId", "context"}, "ffiRequest": <the same request as the JSON string Flipt's FFI
//! engine takes>, "expected": {"match", "reason", "variantKey", "segmentKeys"}}`. Exits 1 if the
//! flag set does not compile or does not evaluate.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::process::ExitCode;

use serde_json::json;
use switchyard_core::{Limits, SourceFile, compile_environment, evaluate_variant, export};
use switchyard_testkit::variant;

fn main() -> ExitCode {
    match run(std::env::args().nth(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engine_input: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(out: Option<String>) -> Result<(), String> {
    let env = compile_environment(
        "default",
        &[SourceFile::new("features.yaml", variant::FLAGS)],
        &Limits::default(),
    )
    .map_err(|e| format!("the bench's flag set does not compile: {e}"))?;
    let ns = env
        .namespace("default")
        .ok_or("the bench's flag set has no namespace `default`")?;
    let flag = ns
        .flag(variant::FLAG_KEY)
        .ok_or_else(|| format!("flag `{}` is missing", variant::FLAG_KEY))?;
    let ctx: HashMap<String, String> = variant::CONTEXT
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let eval = evaluate_variant(flag, variant::ENTITY_ID, &ctx)
        .map_err(|e| format!("evaluating `{}`: {e}", variant::FLAG_KEY))?;

    let mut snapshot = Vec::new();
    export::write_client_snapshot(&mut snapshot, ns, "2026-01-01T00:00:00Z")
        .map_err(|e| format!("exporting the snapshot: {e}"))?;
    let snapshot =
        String::from_utf8(snapshot).map_err(|e| format!("snapshot is not UTF-8: {e}"))?;
    let context: BTreeMap<&str, &str> = variant::CONTEXT.iter().copied().collect();
    let request = json!({
        "namespaceKey": "default",
        "flagKey": variant::FLAG_KEY,
        "entityId": variant::ENTITY_ID,
        "context": context,
    });
    let expected = json!({
        "match": eval.matched,
        "reason": eval.reason.as_str(),
        "variantKey": eval.variant_key(),
        "segmentKeys": eval.segment_keys.to_vec(),
    });
    let text = format!(
        "{{\"snapshot\":{snapshot},\"request\":{request},\"ffiRequest\":{},\"expected\":{expected}}}\n",
        serde_json::Value::from(variant::ffi_request())
    );
    match out {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("writing {path}: {e}")),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| format!("writing stdout: {e}")),
    }
}
