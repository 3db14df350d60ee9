//! `switchyard validate` on directories: build output and Git-ignored paths are skipped, a
//! directory without flag files is an error unless `--allow-empty`, symlinks follow `serve`'s rule.

use std::path::Path;
use std::process::Command;

use super::{bin, run};

const VALID: &str = "flags:\n  - key: a\n    name: A\n    enabled: true\n";
const INVALID: &str = "flags:\n  - key: a\n    nme: A\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

#[test]
fn validate_skips_build_output_and_git_ignored_paths() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(git.success());
    write(dir, ".gitignore", "/build-out/\ngenerated.features.yml\n");
    write(dir, "flags/features.yml", VALID);
    write(
        dir,
        "target/debug/build/x/out/features.json",
        "{\"flags\": [{\"nope\": 1}]}",
    );
    write(dir, "node_modules/pkg/features.yml", INVALID);
    write(dir, "build-out/features.yml", INVALID);
    write(dir, "other/generated.features.yml", INVALID);
    let (code, out, err) = run(bin().arg("validate").current_dir(dir));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("1 flag file(s) valid"), "{err}");
    // Not ignored: still found and reported.
    write(dir, "more/features.yml", INVALID);
    let (code, out, _) = run(bin().arg("validate").current_dir(dir));
    assert_eq!(code, 1);
    assert!(
        out.lines().all(|l| l.starts_with("more/features.yml:")),
        "{out}"
    );
    assert!(
        out.contains("more/features.yml:3:5: flags[0].nme: unknown field `nme` in a flag; did you mean `name`?"),
        "{out}"
    );
}

#[test]
fn validate_outside_a_repository_still_skips_target_and_node_modules() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    write(dir, "prod/features.yml", VALID);
    write(dir, "target/features.yml", INVALID);
    write(dir, "web/node_modules/features.yml", INVALID);
    let (code, out, err) = run(bin().arg("validate").arg(dir));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn validate_without_flag_files_fails_unless_allowed() {
    let t = tempfile::tempdir().expect("tempdir");
    write(t.path(), "README.md", "no flags here\n");
    let (code, out, err) = run(bin().arg("validate").arg(t.path()));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("no flag files found in"), "{err}");
    assert!(err.contains("--allow-empty"), "{err}");
    let (code, _, err) = run(bin().args(["validate", "--allow-empty"]).arg(t.path()));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 flag file(s) valid"), "{err}");
}

#[cfg(unix)]
#[test]
fn validate_follows_symlinks_inside_the_directory_as_serve_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("root");
    write(&dir, "shared/flags.yml", VALID);
    std::fs::create_dir_all(dir.join("prod")).expect("mkdir");
    std::os::unix::fs::symlink("../shared/flags.yml", dir.join("prod/features.yml"))
        .expect("symlink");
    let (code, out, err) = run(bin().arg("validate").arg(&dir));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    write(t.path(), "outside.yml", VALID);
    std::os::unix::fs::symlink("../../outside.yml", dir.join("prod/more.features.yml"))
        .expect("symlink");
    let (code, out, _) = run(bin().arg("validate").arg(&dir));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("points outside the directory; refused"),
        "{out}"
    );
}

#[test]
fn validate_prints_warnings_and_still_exits_0() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    write(
        dir,
        "features.yml",
        "flags:\n  - key: checkout\n    name: Checkout\n    enabled: true\n    variants:\n      - key: blue\n    rules:\n      - segment: pro\n        distributions: [{variant: blue, rollout: 100}]\nsegments:\n  - key: pro\n    name: Pro\n    match_type: ALL_MATCH_TYPE\n    constraints:\n      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}\n",
    );
    let (code, out, err) = run(bin().arg("validate").arg(dir.join("features.yml")));
    assert_eq!(code, 0, "{out}{err}");
    let line = out.lines().next().unwrap_or_default();
    assert!(
        line.ends_with(
            "features.yml:2:10: warning: flags[0]: flag default/checkout has rules but no default variant: users that match no rule get reason UNKNOWN and an empty variant; mark one variant `default: true` (format 1.3 or later)"
        ),
        "{out}"
    );
    assert!(err.contains("1 flag file(s) valid, 1 warning(s)"), "{err}");
    let (code, out, _) = run(bin()
        .args(["validate", "--format", "json"])
        .arg(dir.join("features.yml")));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["severity"], "warning");
    assert_eq!(v[0]["location"]["line"], 2);
}

#[test]
fn validate_extra_checks_error_by_default_warn_on_request_strict_fails_on_warnings() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    // Two default variants: Flipt serves this (the last wins); Switchyard's extra check objects.
    write(
        dir,
        "features.yml",
        "flags:\n  - key: f\n    name: F\n    variants:\n      - {key: a, default: true}\n      - {key: b, default: true}\n",
    );
    let file = dir.join("features.yml");
    let finding = "features.yml:6:27: flags[0].variants[1].default: flag default/f has more than one default variant (first at line 5 column 27)";
    let (code, out, err) = run(bin().arg("validate").arg(&file));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.trim_end().ends_with(finding), "{out}");
    assert!(
        err.contains("all of them come from Switchyard's checks beyond Flipt's (Flipt v2.11 serves these files): `--extra-checks warn` reports them as warnings"),
        "{err}"
    );
    // warn: a warning, exit 0.
    let (code, out, err) = run(bin()
        .args(["validate", "--extra-checks", "warn"])
        .arg(&file));
    assert_eq!(code, 0, "{out}{err}");
    let warned = finding.replacen(": flags", ": warning: flags", 1);
    assert!(out.trim_end().ends_with(&warned), "{out}");
    assert!(err.contains("1 flag file(s) valid, 1 warning(s)"), "{err}");
    // --strict: the same warning fails.
    let (code, out, _) = run(bin()
        .args(["validate", "--extra-checks", "warn", "--strict"])
        .arg(&file));
    assert_eq!(code, 1, "{out}");
    assert!(out.trim_end().ends_with(&warned), "{out}");
    // JSON marks the extra check's finding.
    let (code, out, _) = run(bin()
        .args(["validate", "--extra-checks", "warn", "--format", "json"])
        .arg(&file));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (&v[0]["severity"], &v[0]["extra"]),
        (&serde_json::json!("warning"), &serde_json::json!(true))
    );
    // --strict without warnings passes; Flipt's own errors fail in both modes.
    write(dir, "features.yml", VALID);
    let (code, _, err) = run(bin().args(["validate", "--strict"]).arg(&file));
    assert_eq!(code, 0, "{err}");
    write(dir, "features.yml", INVALID);
    let (code, _, err) = run(bin()
        .args(["validate", "--extra-checks", "warn"])
        .arg(&file));
    assert_eq!(code, 1);
    assert!(!err.contains("--extra-checks warn"), "{err}");
}
