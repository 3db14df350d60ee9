//! Benchmarks of the core: variant evaluation (also with JSON in and out), boolean evaluation, and
//! building a 10,000-flag snapshot. Run with `cargo bench -p switchyard-core`.

use std::collections::HashMap;

use divan::Bencher;
use serde::{Deserialize, Serialize};
use switchyard_core::{
    Environment, Limits, SourceFile, compile_environment, evaluate_boolean, evaluate_variant,
};
use switchyard_testkit::{corpus, variant};

/// Flipt's `VariantEvaluationResponse` as the FFI returns it (the server's
/// `switchyard_server::responses::VariantResponse`, which this core bench cannot depend on).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantResponse<'a> {
    #[serde(rename = "match")]
    matched: bool,
    segment_keys: &'a [&'a str],
    reason: &'static str,
    variant_key: &'a str,
    variant_attachment: &'a str,
    request_id: &'a str,
    request_duration_millis: f64,
    timestamp: &'a str,
    flag_key: &'a str,
}

fn main() {
    divan::main();
}

fn env() -> Environment {
    compile_environment(
        "default",
        &[SourceFile::new("features.yaml", variant::FLAGS)],
        &Limits::default(),
    )
    .expect("valid")
}

/// One rule on a segment with two constraints and three distributions, matching.
#[divan::bench(sample_count = 200, sample_size = 10_000)]
fn variant_evaluation(b: Bencher) {
    let env = env();
    let flag = env.find_flag("default", variant::FLAG_KEY).expect("flag");
    let ctx: HashMap<String, String> = variant::CONTEXT
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    b.bench(|| {
        evaluate_variant(
            divan::black_box(flag),
            divan::black_box(variant::ENTITY_ID),
            &ctx,
        )
        .map(|e| e.matched)
    });
}

/// A request as Flipt's FFI engine takes it.
#[derive(Deserialize)]
struct FfiRequest {
    flag_key: String,
    entity_id: String,
    context: HashMap<String, String>,
}

/// `variant_evaluation` with JSON in and out, as one call of Flipt's FFI engine does: the request
/// JSON parsed, the flag found by key, evaluated, and Flipt's `VariantEvaluationResponse` in the
/// FFI's `{"status", "result", "error_message"}` envelope serialised (fixed request id and time)
/// and freed. Samples of 200 calls, like `benches/engine/run.sh`'s rounds of Flipt's engine (a
/// sample of 10,000 calls would last ~20 ms and be preempted on a loaded machine).
#[divan::bench(sample_count = 200, sample_size = 200)]
fn variant_evaluation_json(b: Bencher) {
    let env = env();
    let request = variant::ffi_request();
    b.bench(|| {
        let req: FfiRequest = serde_json::from_str(divan::black_box(&request)).ok()?;
        let flag = env.find_flag("default", &req.flag_key).ok()?;
        let eval = evaluate_variant(flag, &req.entity_id, &req.context).ok()?;
        let response = VariantResponse {
            matched: eval.matched,
            segment_keys: &eval.segment_keys,
            reason: eval.reason.as_str(),
            variant_key: eval.variant_key(),
            variant_attachment: eval.variant_attachment(),
            request_id: "",
            request_duration_millis: 0.0,
            timestamp: "2026-01-01T00:00:00Z",
            flag_key: &req.flag_key,
        };
        // The string is dropped inside the timed call, as the FFI's caller frees it there.
        serde_json::to_string(
            &serde_json::json!({ "status": "success", "result": response, "error_message": null }),
        )
        .ok()
        .map(|s| s.len())
    });
}

/// One threshold rollout.
#[divan::bench(sample_count = 200, sample_size = 10_000)]
fn boolean_threshold_evaluation(b: Bencher) {
    let env = env();
    let flag = env.find_flag("default", "dark").expect("flag");
    let ctx: HashMap<String, String> = HashMap::new();
    b.bench(|| {
        evaluate_boolean(divan::black_box(flag), divan::black_box("user-1234"), &ctx)
            .map(|e| e.enabled)
    });
}

/// 10,000 flags and 1,000 segments in 100 files, from bytes to a compiled environment.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn build_snapshot_10k_flags(b: Bencher) {
    let files: Vec<SourceFile> = corpus::generate(10_000, 1_000, 100)
        .into_iter()
        .map(|f| SourceFile::new(f.path, f.text))
        .collect();
    b.bench(|| {
        compile_environment("default", divan::black_box(&files), &Limits::default())
            .map(|e| e.flag_count())
    });
}
