//! Runs the `switchyard` binary: `validate` and `evaluate` output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod break_glass;
mod demo;
mod diff;
mod discovery;
mod health;
mod notify;
mod relay;
mod serve;
mod shutdown;
mod validate;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../switchyard-core/tests/data")
        .join(rel)
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn validate_text_lists_every_problem_and_exits_1() {
    let dir = data("seed-invalid");
    let (code, out, err) = run(bin().arg("validate").arg(&dir));
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 17, "{out}");
    let file = dir.join("flipt/features.yml").display().to_string();
    assert!(lines.contains(&format!("{file}:12:13: flags[0].rules[0].distributions[0].variant_key: unknown field `variant_key` in a distribution; did you mean `variant`?").as_str()), "{out}");
    assert!(err.contains("17 problem(s) found"), "{err}");
}

#[test]
fn validate_json_has_flipt_shape() {
    let (code, out, _) = run(bin()
        .args(["validate", "--format", "json"])
        .arg(data("seed-invalid/flipt/features.yml")));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let first = &v.as_array().expect("array")[0];
    assert!(first["message"].is_string());
    assert!(
        first["location"]["file"]
            .as_str()
            .expect("file")
            .ends_with("features.yml")
    );
    assert!(first["location"]["line"].is_u64() && first["location"]["column"].is_u64());
    assert!(first["path"].is_string());
}

#[test]
fn validate_valid_exits_0() {
    let (code, out, err) = run(bin().arg("validate").arg(data("seed-valid")));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, out, _) = run(bin()
        .args(["validate", "--format", "json"])
        .arg(data("seed-valid")));
    assert_eq!((code, out.trim()), (0, "[]"));
}

#[test]
fn validate_unreadable_path_exits_2() {
    let (code, _, err) = run(bin().args(["validate", "/nonexistent/flags.yaml"]));
    assert_eq!(code, 2);
    assert!(err.contains("reading /nonexistent/flags.yaml"), "{err}");
}

#[test]
fn evaluate_prints_flipt_variant_response() {
    let (code, out, err) = run(bin()
        .args(["evaluate", "--dir"])
        .arg(data("seed-valid"))
        .args([
            "--flag",
            "checkoutExperiment",
            "--entity",
            "e2",
            "--context",
            "plan=enterprise",
        ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["match"], true);
    assert_eq!(v["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(v["segmentKeys"], serde_json::json!(["enterprise-users"]));
    assert_eq!(v["flagKey"], "checkoutExperiment");
    assert!(v["variantKey"] == "variant-a" || v["variantKey"] == "variant-b");
    assert!(v["requestId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(v["timestamp"].as_str().is_some_and(|s| s.ends_with('Z')));
    assert!(v["requestDurationMillis"].is_f64());
}

#[test]
fn evaluate_unknown_flag_and_invalid_dir() {
    let (code, _, err) = run(bin()
        .args(["evaluate", "--dir"])
        .arg(data("seed-valid"))
        .args(["--flag", "nope", "--entity", "e"]));
    assert_eq!(code, 1);
    assert!(err.contains("flag \"default/nope\" not found"), "{err}");
    let (code, _, err) = run(bin()
        .args(["evaluate", "--dir"])
        .arg(data("seed-invalid"))
        .args(["--flag", "newHomeUI", "--entity", "e"]));
    assert_eq!(code, 1);
    assert!(err.contains("references unknown segment"), "{err}");
    let (code, _, err) = run(bin()
        .args(["evaluate", "--dir"])
        .arg(data("seed-valid"))
        .args(["--flag", "x", "--entity", "e", "--context", "novalue"]));
    assert_eq!(code, 2);
    assert!(err.contains("expected key=value"), "{err}");
}

#[test]
fn index_file_selects_files() {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("prod")).expect("mkdir");
    std::fs::write(dir.join(".flipt.yml"), "include: [\"prod/*.yaml\"]\n").expect("write");
    std::fs::write(
        dir.join("prod/flags.yaml"),
        "flags: [{key: a, name: A, enabled: true}]\n",
    )
    .expect("write");
    std::fs::write(dir.join("features.yaml"), "this: is: not: valid\n").expect("write");
    let (code, _, err) = run(bin()
        .args(["evaluate", "--dir"])
        .arg(&dir)
        .args(["--flag", "a", "--entity", "e"]));
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
