//! Benchmarks of hostile flag files: the largest mappings, merges, lists, documents and error
//! counts the default limits let through, from bytes to a compiled environment or its
//! diagnostics. Every case must finish well under a second. Run with
//! `cargo bench -p switchyard-core --bench hostile`.

mod inputs;

use divan::Bencher;
use switchyard_core::{Limits, SourceFile, compile_environment};

fn main() {
    divan::main();
}

/// Compiles one file; returns how many flags or diagnostics came out.
fn run(b: Bencher, path: &str, text: String) {
    assert!(
        text.len() <= inputs::MAX_FILE,
        "{path}: {} bytes",
        text.len()
    );
    let files = [SourceFile::new(path, text)];
    b.bench(|| {
        match compile_environment("default", divan::black_box(&files), &Limits::default()) {
            Ok(env) => env.flag_count(),
            Err(d) => d.len(),
        }
    });
}

/// A valid flag whose metadata is one mapping of 100,000 keys (1.9 MB).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn mapping_100k_keys(b: Bencher) {
    run(b, "features.yaml", inputs::wide_metadata(100_000));
}

/// The widest metadata mapping in an 8 MiB file (381,300 keys).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn mapping_8mib(b: Bencher) {
    run(
        b,
        "features.yaml",
        inputs::widest_metadata(inputs::MAX_FILE),
    );
}

/// 100,000 unknown top-level keys: 100,000 errors, 1,000 listed.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn unknown_keys_100k(b: Bencher) {
    run(b, "features.yaml", inputs::wide_unknown(100_000));
}

/// A 50,000-key mapping merged into one with 50,000 keys of its own.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn merge_50k_into_50k(b: Bencher) {
    run(b, "features.yaml", inputs::merged_maps(50_000));
}

/// An 8 MiB flow sequence of zeros (refused at the node limit).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn flat_sequence_8mib(b: Bencher) {
    run(b, "features.yaml", inputs::flat_sequence(inputs::MAX_FILE));
}

/// 8 MiB of `[` (refused at the depth limit).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn deep_flow_8mib(b: Bencher) {
    run(b, "features.yaml", inputs::deep_flow(inputs::MAX_FILE));
}

/// One flag with 100,000 variants and a rule with 100,000 distributions.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn variants_100k(b: Bencher) {
    run(b, "features.yaml", inputs::many_variants(100_000));
}

/// 100,000 segments and one rule listing all of them.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn segment_keys_100k(b: Bencher) {
    run(b, "features.yaml", inputs::many_segment_keys(100_000));
}

/// 1,024 JSON documents on one 8 MiB line.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn json_1024_documents_8mib(b: Bencher) {
    run(
        b,
        "features.json",
        inputs::json_documents(1_024, inputs::MAX_FILE),
    );
}

/// 8 MiB of flags without names: 600,000 errors, 1,000 listed.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn errors_8mib(b: Bencher) {
    run(b, "features.yaml", inputs::many_errors(inputs::MAX_FILE));
}

/// Seven unknown keys of a megabyte each.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn megabyte_keys_8mib(b: Bencher) {
    run(b, "features.yaml", inputs::long_keys(inputs::MAX_FILE));
}

/// The "billion laughs" file (refused at the alias expansion limit).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn alias_bomb(b: Bencher) {
    run(b, "features.yaml", inputs::alias_bomb());
}
