//! Helpers shared by the integration tests.

use switchyard_core::{Diagnostics, Environment, Limits, SourceFile, compile_environment};

/// Compiles `(path, text)` files as the `default` environment.
pub fn compile(files: &[(&str, &str)]) -> Result<Environment, Diagnostics> {
    let files: Vec<SourceFile> = files.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect();
    compile_environment("default", &files, &Limits::default())
}

/// Compiles one `features.yaml`, expecting diagnostics; returns their display lines.
pub fn errors(text: &str) -> Vec<String> {
    match compile(&[("features.yaml", text)]) {
        Ok(_) => panic!("expected diagnostics, the document compiled"),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that exactly these diagnostics (display form) are produced, in order.
#[track_caller]
pub fn check(text: &str, expected: &[&str]) {
    let got = errors(text);
    assert_eq!(got, expected, "\n got: {got:#?}");
}

/// Reads a fixture below tests/data.
pub fn fixture(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The JSON of `export::write_client_snapshot`, checked equal to the tree form.
#[track_caller]
pub fn assert_snapshot_writer_matches_tree(ns: &switchyard_core::Namespace, what: &str) {
    let tree = switchyard_core::export::client_snapshot(ns, "2026-01-01T00:00:00Z");
    let mut written = Vec::new();
    switchyard_core::export::write_client_snapshot(&mut written, ns, "2026-01-01T00:00:00Z")
        .expect("the writer serialises");
    // the same JSON (a value's keys are sorted: the writer's field order is Flipt's proto order,
    // which the strict protojson decoding in tests/proto checks)
    let parsed: serde_json::Value =
        serde_json::from_slice(&written).expect("the writer writes JSON");
    assert!(
        tree == parsed,
        "{what}: writer and tree differ\n tree: {tree}\n writer: {}",
        String::from_utf8_lossy(&written)
    );
}
