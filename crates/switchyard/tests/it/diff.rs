//! `switchyard diff`: the Markdown preview against a checked-in snapshot, revisions of a real
//! Git repository, JSON figures and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{bin, run};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/diff")
}

#[test]
fn markdown_preview_matches_the_snapshot() {
    let (code, out, err) = run(bin()
        .current_dir(fixtures())
        .args(["diff", "base", "head", "--contexts", "contexts.jsonl"])
        .args(["--format", "markdown"]));
    assert_eq!(code, 1, "entities change: {err}");
    let expected = std::fs::read_to_string(fixtures().join("expected.md")).unwrap();
    assert_eq!(
        out, expected,
        "regenerate tests/it/diff/expected.md only after reading the change"
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn revisions_of_a_repository_json_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let base = std::fs::read_to_string(fixtures().join("base/features.yml")).unwrap();
    let head = std::fs::read_to_string(fixtures().join("head/features.yml")).unwrap();
    std::fs::write(repo.join("features.yml"), &base).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    git(repo, &["tag", "v1"]);
    let first = git(repo, &["rev-parse", "HEAD"]);
    git(repo, &["checkout", "-q", "-b", "change"]);
    std::fs::write(repo.join("features.yml"), &head).unwrap();
    git(repo, &["commit", "-q", "-am", "head"]);

    let (code, out, err) = run(bin()
        .arg("diff")
        .arg("main")
        .arg("change")
        .arg("--repo")
        .arg(repo)
        .args(["--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["changesEntities"], true);
    assert_eq!(v["from"], format!("main ({})", &first[..7]));
    let flag = |key: &str| {
        v["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} listed"))
    };
    let checkout = flag("checkout");
    assert_eq!(checkout["exact"]["percent"], "25%");
    assert_eq!(checkout["exact"]["changedBuckets"], 250);
    assert_eq!(checkout["exact"]["moves"][0]["from"]["variant"], "old");
    assert_eq!(checkout["exact"]["moves"][0]["to"]["variant"], "new");
    let dark = flag("darkMode");
    assert_eq!(dark["exact"]["percent"], "20%");
    assert_eq!(dark["exact"]["moves"][0]["to"]["enabled"], true);
    assert_eq!(
        flag("newPaymentFlow")["changedSegments"][0],
        "premium-users"
    );

    // the same revision: exit 0, nothing listed
    let (code, out, err) = run(bin()
        .arg("diff")
        .arg("v1")
        .arg(&first[..10])
        .arg("--repo")
        .arg(repo));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no changes"), "{out}");

    // a description-only change: listed, exit 0
    std::fs::write(
        repo.join("features.yml"),
        head.replace("name: Banner", "name: Hero banner"),
    )
    .unwrap();
    git(repo, &["commit", "-q", "-am", "rename"]);
    let (code, out, _) = run(bin()
        .arg("diff")
        .arg("change~1")
        .arg("HEAD")
        .arg("--repo")
        .arg(repo));
    assert_eq!(code, 2, "no revision syntax: an error");
    let _ = out;
    let prev = git(repo, &["rev-parse", "HEAD~1"]);
    let (code, out, err) = run(bin()
        .arg("diff")
        .arg(&prev)
        .arg("HEAD")
        .arg("--repo")
        .arg(repo));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("flag banner name: \"Banner\" -> \"Hero banner\""),
        "{out}"
    );
    assert!(out.contains("no entity gets a different answer"), "{out}");

    // errors: exit 2 with the reason
    let (code, _, err) = run(bin()
        .arg("diff")
        .arg("nope")
        .arg("HEAD")
        .arg("--repo")
        .arg(repo));
    assert_eq!(code, 2);
    assert!(
        err.contains("\"nope\" is not a commit of the repository"),
        "{err}"
    );
    std::fs::write(repo.join("bad.jsonl"), "{\"context\": {}}\n").unwrap();
    let (code, _, err) = run(bin()
        .arg("diff")
        .arg(&prev)
        .arg("HEAD")
        .arg("--repo")
        .arg(repo)
        .arg("--contexts")
        .arg(repo.join("bad.jsonl")));
    assert_eq!(code, 2);
    assert!(err.contains("line 1: expected"), "{err}");
}
