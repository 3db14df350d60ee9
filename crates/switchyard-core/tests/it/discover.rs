//! File discovery per Flipt generation: v1's default patterns and `.flipt.yml` index, v2's fixed
//! `*/features.{yaml,yml,json}` and its root `flipt.yaml`.

use switchyard_core::{Discovery, Limits, SourceFile, discover};

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

/// The repository of issue 11 item 7, as observed with Flipt v2.
const ITEM_7: &[&str] = &[
    ".flipt.yml",
    "a/b/features.yaml",
    "c/x.features.yml",
    "d/features.yaml",
    "e/features.yml",
    "f/features.json",
    "features.yml",
];

fn files(rules: Discovery, paths: &[&str], root: Option<&SourceFile>) -> Vec<String> {
    discover(rules, paths.iter().copied(), root, &Limits::default())
        .expect("discovers")
        .files
}

fn problems(rules: Discovery, root: &SourceFile) -> Vec<String> {
    discover(
        rules,
        ITEM_7.iter().copied(),
        Some(root),
        &Limits::default(),
    )
    .expect_err("refused")
    .iter()
    .map(ToString::to_string)
    .collect()
}

#[test]
fn v1_default_patterns_match_at_any_depth_without_json() {
    assert_eq!(
        files(Discovery::FliptV1, PATHS, None),
        [
            "features.yaml",
            "myfeatures.yml",
            "team/features.yml",
            "x.features.yaml"
        ]
    );
}

#[test]
fn v1_index_include_and_exclude() {
    let idx = SourceFile::new(
        ".flipt.yml",
        "version: \"1.0\"\ninclude:\n  - \"prod/*.yaml\"\n  - \"**features.yml\"\nexclude:\n  - \"team/**\"\n",
    );
    let d = discover(
        Discovery::FliptV1,
        PATHS.iter().copied(),
        Some(&idx),
        &Limits::default(),
    )
    .expect("discovers");
    assert_eq!(d.files, ["myfeatures.yml", "prod/flags.yaml"]);
    assert_eq!(d.root_file.as_deref(), Some(".flipt.yml"));
    assert_eq!(d.rules, Discovery::FliptV1);
}

#[test]
fn v1_index_with_only_exclude_keeps_default_includes() {
    let idx = SourceFile::new(".flipt.yml", "exclude: [\"x.*\"]\n");
    let got = files(Discovery::FliptV1, PATHS, Some(&idx));
    assert!(!got.contains(&"x.features.yaml".to_string()));
    assert!(got.contains(&"features.yaml".to_string()));
}

#[test]
fn v1_bad_index_is_reported_with_location() {
    let idx = SourceFile::new(
        ".flipt.yml",
        "version: \"1.0\"\nincludes: [\"*.yaml\"]\nexclude: \"x\"\n",
    );
    let err = discover(
        Discovery::FliptV1,
        PATHS.iter().copied(),
        Some(&idx),
        &Limits::default(),
    )
    .unwrap_err();
    let lines: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            ".flipt.yml:2:1: includes: unknown field `includes`; did you mean `include`?",
            ".flipt.yml:3:10: exclude: expected a list of globs, found a string",
        ]
    );
}

#[test]
fn item_7_v1_reads_the_root_and_x_features_and_honours_the_index() {
    assert_eq!(
        files(Discovery::FliptV1, ITEM_7, None),
        [
            "a/b/features.yaml",
            "c/x.features.yml",
            "d/features.yaml",
            "e/features.yml",
            "features.yml"
        ]
    );
    let idx = SourceFile::new(".flipt.yml", "exclude:\n  - \"d/**\"\n");
    let d = discover(
        Discovery::FliptV1,
        ITEM_7.iter().copied(),
        Some(&idx),
        &Limits::default(),
    )
    .expect("discovers");
    assert_eq!(
        d.files,
        [
            "a/b/features.yaml",
            "c/x.features.yml",
            "e/features.yml",
            "features.yml"
        ]
    );
    assert_eq!(d.not_read, ["d/features.yaml", "f/features.json"]);
}

#[test]
fn item_7_v2_reads_only_fixed_names_below_the_root_and_ignores_the_index() {
    let want = [
        "a/b/features.yaml",
        "d/features.yaml",
        "e/features.yml",
        "f/features.json",
    ];
    let d = discover(
        Discovery::FliptV2,
        ITEM_7.iter().copied(),
        None,
        &Limits::default(),
    )
    .expect("discovers");
    assert_eq!(d.files, want);
    assert_eq!(
        d.not_read,
        [".flipt.yml", "c/x.features.yml", "features.yml"]
    );
    // Not even handed a `.flipt.yml`, v2 rules never read one: `d/features.yaml` stays.
    assert_eq!(
        files(
            Discovery::FliptV2,
            &[
                "d/features.yaml",
                "deep/er/features.json",
                "x/features.yaml.bak",
                "x/myfeatures.yml"
            ],
            None
        ),
        ["d/features.yaml", "deep/er/features.json"]
    );
}

#[test]
fn v2_root_config_with_a_full_version_selects_nothing_more() {
    for version in ["2.0.0", "1.0.0", "2.0.0-rc.1"] {
        let config = SourceFile::new(
            "flipt.yaml",
            format!(
                "version: \"{version}\"\ntemplates:\n  commit_message: \"update {{{{ .Changes }}}}\"\nother: ignored\n"
            ),
        );
        let d = discover(
            Discovery::FliptV2,
            ITEM_7.iter().copied(),
            Some(&config),
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{version}: {e:?}"));
        assert_eq!(d.root_file.as_deref(), Some("flipt.yaml"));
        assert_eq!(d.files.len(), 4, "{version}");
    }
}

#[test]
fn v2_root_config_refusals_are_flipts_with_a_fix() {
    let two_oh = SourceFile::new("flipt.yaml", "version: \"2.0\"\n");
    assert_eq!(
        problems(Discovery::FliptV2, &two_oh),
        [
            "flipt.yaml:1:10: version: version \"2.0\" is not a full semantic version (major.minor.patch) and Flipt v2 refuses the environment (\"No Major.Minor.Patch elements found\"); write `version: \"2.0.0\"` (quoted: a full major.minor.patch)"
        ]
    );
    let newer = SourceFile::new("flipt.yml", "version: \"2.1.0\"\n");
    assert_eq!(
        problems(Discovery::FliptV2, &newer),
        [
            "flipt.yml:1:10: version: unsupported flipt config version: \"2.1.0\"; the newest Flipt v2 reads is 2.0.0: write `version: \"2.0.0\"` (quoted: a full major.minor.patch)"
        ]
    );
    let number = SourceFile::new("flipt.yaml", "version: 2.0\n");
    assert!(problems(Discovery::FliptV2, &number)[0].starts_with(
        "flipt.yaml:1:10: version: version must be a string such as \"2.0.0\", found a number"
    ),);
    let none = SourceFile::new("flipt.yaml", "templates: {}\n");
    assert_eq!(
        problems(Discovery::FliptV2, &none),
        [
            "flipt.yaml:1:1: no `version`: Flipt v2 then assumes \"2.0\", which is not a full semantic version, and Flipt v2 refuses the environment; add `version: \"2.0.0\"`"
        ]
    );
    let empty = SourceFile::new("flipt.yaml", "# nothing\n");
    assert!(
        problems(Discovery::FliptV2, &empty)[0].contains("the repository configuration is empty")
    );
    let list = SourceFile::new("flipt.yaml", "- version: \"2.0.0\"\n");
    assert!(problems(Discovery::FliptV2, &list)[0].contains("must be a mapping"));
    let bad_template = SourceFile::new(
        "flipt.yaml",
        "version: \"2.0.0\"\ntemplates:\n  commit_message: [a]\n",
    );
    assert_eq!(
        problems(Discovery::FliptV2, &bad_template),
        [
            "flipt.yaml:3:19: templates.commit_message: a template must be a string, found a list; Flipt v2 refuses the environment"
        ]
    );
}

#[test]
fn root_file_lookup_per_generation() {
    let present = |names: &'static [&'static str]| move |f: &str| names.contains(&f);
    assert_eq!(
        Discovery::FliptV1.root_file(present(&[".flipt.yml", "flipt.yaml"])),
        Some(".flipt.yml")
    );
    assert_eq!(Discovery::FliptV1.root_file(present(&["flipt.yaml"])), None);
    assert_eq!(
        Discovery::FliptV2.root_file(present(&[".flipt.yml", "flipt.yml", "flipt.yaml"])),
        Some("flipt.yaml")
    );
    assert_eq!(
        Discovery::FliptV2.root_file(present(&["flipt.yml"])),
        Some("flipt.yml")
    );
    assert_eq!(Discovery::FliptV2.root_file(present(&[".flipt.yml"])), None);
}

#[test]
fn look_alikes_not_read_are_warnings_where_probably_a_mistake() {
    let warned = |rules, root: Option<&SourceFile>| -> Vec<String> {
        discover(rules, ITEM_7.iter().copied(), root, &Limits::default())
            .expect("discovers")
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        warned(Discovery::FliptV2, None),
        [
            ".flipt.yml:1:1: warning: not read: Flipt v2 has no .flipt.yml index, its include and exclude globs have no effect; flag files are features.yaml, features.yml, features.json in a directory below the root",
            "c/x.features.yml:1:1: warning: not read: Flipt v2 reads only files named exactly features.yaml, features.yml, features.json; rename it or move it to its own directory as features.yml",
            "features.yml:1:1: warning: not read: Flipt v2 reads features.yaml, features.yml, features.json only in a directory below the environment root, never at it; move it to a namespace directory (default/features.yml)",
        ]
    );
    // v1 without an index: the JSON name its defaults lack
    let no_index: Vec<&str> = ITEM_7
        .iter()
        .copied()
        .filter(|p| *p != ".flipt.yml")
        .collect();
    let d = discover(Discovery::FliptV1, no_index, None, &Limits::default()).expect("discovers");
    let w: Vec<String> = d.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("f/features.json:1:1: warning: not read: Flipt v1's default patterns"),
        "{w:?}"
    );
    // v1 with an index: what it excludes is excluded on purpose
    let idx = SourceFile::new(".flipt.yml", "exclude:\n  - \"d/**\"\n");
    assert_eq!(warned(Discovery::FliptV1, Some(&idx)), Vec::<String>::new());
}
