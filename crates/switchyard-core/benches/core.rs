//! Benchmarks of the core: variant and boolean evaluation, and building a 10,000-flag snapshot.
//! Run with `cargo bench -p switchyard-core`.

#[path = "../examples/corpus/mod.rs"]
mod corpus;

use std::collections::HashMap;

use divan::Bencher;
use switchyard_core::{
    Environment, Limits, SourceFile, compile_environment, evaluate_boolean, evaluate_variant,
};

fn main() {
    divan::main();
}

const FLAGS: &str = r#"
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

fn env() -> Environment {
    compile_environment(
        "default",
        &[SourceFile::new("features.yaml", FLAGS)],
        &Limits::default(),
    )
    .expect("valid")
}

/// One rule on a segment with two constraints and three distributions, matching.
#[divan::bench(sample_count = 200, sample_size = 10_000)]
fn variant_evaluation(b: Bencher) {
    let env = env();
    let flag = env.find_flag("default", "checkout").expect("flag");
    let ctx: HashMap<String, String> = [
        ("plan".to_string(), "pro".to_string()),
        ("region".to_string(), "eu-west-1".to_string()),
    ]
    .into();
    b.bench(|| {
        evaluate_variant(divan::black_box(flag), divan::black_box("user-1234"), &ctx)
            .map(|e| e.matched)
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
