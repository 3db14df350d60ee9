//! File discovery: Flipt's default patterns and the `.flipt.yml` index.

use switchyard_core::{Limits, SourceFile, discover};

const PATHS: &[&str] = &[
    "features.yaml",
    "README.md",
    "team/features.yml",
    "team/deep/features.json",
    "myfeatures.yml",
    "x.features.yaml",
    "other.yaml",
    "prod/flags.yaml",
];

#[test]
fn default_patterns_match_at_any_depth() {
    let got = discover(PATHS.iter().copied(), None, &Limits::default()).unwrap();
    assert_eq!(
        got,
        [
            "features.yaml",
            "myfeatures.yml",
            "team/deep/features.json",
            "team/features.yml",
            "x.features.yaml"
        ]
    );
}

#[test]
fn index_include_and_exclude() {
    let idx = SourceFile::new(
        ".flipt.yml",
        "version: \"1.0\"\ninclude:\n  - \"prod/*.yaml\"\n  - \"**features.yml\"\nexclude:\n  - \"team/**\"\n",
    );
    let got = discover(PATHS.iter().copied(), Some(&idx), &Limits::default()).unwrap();
    assert_eq!(got, ["myfeatures.yml", "prod/flags.yaml"]);
}

#[test]
fn index_with_only_exclude_keeps_default_includes() {
    let idx = SourceFile::new(".flipt.yml", "exclude: [\"x.*\"]\n");
    let got = discover(PATHS.iter().copied(), Some(&idx), &Limits::default()).unwrap();
    assert!(!got.contains(&"x.features.yaml".to_string()));
    assert!(got.contains(&"features.yaml".to_string()));
}

#[test]
fn bad_index_is_reported_with_location() {
    let idx = SourceFile::new(
        ".flipt.yml",
        "version: \"1.0\"\nincludes: [\"*.yaml\"]\nexclude: \"x\"\n",
    );
    let err = discover(PATHS.iter().copied(), Some(&idx), &Limits::default()).unwrap_err();
    let lines: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            ".flipt.yml:2:1: includes: unknown field `includes`; did you mean `include`?",
            ".flipt.yml:3:10: exclude: expected a list of globs, found a string",
        ]
    );
}
