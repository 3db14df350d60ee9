//! File discovery follows the configuration's generation (issue 11 item 7): the repository Flipt
//! v2 was observed on, served by `switchyard serve` from a real Git repository under a Flipt v2,
//! a Flipt v1 and the seed's configuration, and checked by `switchyard validate` with the same
//! rules. The status names the rule set and the files read; the flags served are those files'.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{bin, run};

/// The files of item 7, each defining one flag named after its path; `.flipt.yml` excludes `d/`.
const ITEM_7: &[(&str, &str)] = &[
    ("features.yml", "root"),
    ("a/b/features.yaml", "a-b"),
    ("c/x.features.yml", "c-x"),
    ("d/features.yaml", "d"),
    ("e/features.yml", "e"),
    ("f/features.json", "f"),
];
const INDEX: &str = "exclude:\n  - \"d/**\"\n";

fn flag_file(path: &str, key: &str) -> String {
    if path.ends_with(".json") {
        format!("{{\"flags\": [{{\"key\": \"{key}\", \"name\": \"{key}\", \"enabled\": true}}]}}\n")
    } else {
        format!("flags:\n  - key: {key}\n    name: {key}\n    enabled: true\n")
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@t.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A Git repository holding item 7's files on `main`; returns its `file://` URL.
fn repository(root: &Path) -> String {
    let repo = root.join("flags");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    for (path, key) in ITEM_7 {
        write(&repo, path, &flag_file(path, key));
    }
    write(&repo, ".flipt.yml", INDEX);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "item 7"]);
    format!("file://{}", repo.display())
}

/// A `switchyard serve` child process, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `serve --config` with `config` written to a file; waits for its "listening" line.
    fn start(root: &Path, name: &str, config: &str) -> Server {
        let path = root.join(name);
        std::fs::write(&path, config).expect("write config");
        let mut child = bin()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("NO_COLOR", "1")
            .env("TMPDIR", root)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening")
                    && let Some(at) = line.find("127.0.0.1:")
                {
                    let digits: String = line[at + 10..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    let _ = tx.send(format!("http://127.0.0.1:{digits}"));
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("serve logs its address within 30 s");
        Server { child, base }
    }

    fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        let body = reqwest::blocking::get(&url)
            .and_then(|r| r.text())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
    }

    /// The status once `done` holds for it, within 30 s.
    fn status_when(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.get("/api/v1/sync/status");
            if done(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "{what} within 30 s: {s:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The keys of the flags served in namespace `default`, sorted.
    fn flag_keys(&self) -> Vec<String> {
        let v = self.get("/api/v1/namespaces/default/flags");
        let mut keys: Vec<String> = v["flags"]
            .as_array()
            .unwrap_or_else(|| panic!("a flag list: {v}"))
            .iter()
            .filter_map(|f| f["key"].as_str().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn serving(s: &Value) -> bool {
    s["servingValidSnapshot"] == true
}

#[test]
fn a_flipt_v2_configuration_reads_what_flipt_v2_reads() {
    let root = tempfile::tempdir().expect("tempdir");
    let remote = repository(root.path());
    let server = Server::start(
        root.path(),
        "v2.yml",
        &format!(
            "storage:\n  flags:\n    remote: {remote}\n    branch: main\n    poll_interval: 1s\n\
             environments:\n  default:\n    storage: flags\n    default: true\n"
        ),
    );
    let s = server.status_when("a served snapshot", serving);
    let d = &s["discovery"];
    assert_eq!(d["rules"], "flipt-v2", "{s:#}");
    // no root features.yml, no c/x.features.yml, and `.flipt.yml` ignored: d/ is served
    assert_eq!(
        strings(&d["files"]),
        [
            "a/b/features.yaml",
            "d/features.yaml",
            "e/features.yml",
            "f/features.json"
        ]
    );
    assert_eq!(d["rootFile"], Value::Null);
    assert_eq!(
        strings(&d["notRead"]),
        [".flipt.yml", "c/x.features.yml", "features.yml"]
    );
    assert!(
        d["summary"].as_str().is_some_and(
            |t| t.contains("never at the root") && t.contains(".flipt.yml is not read")
        ),
        "{d}"
    );
    assert_eq!(s["flags"], 4);
    assert_eq!(server.flag_keys(), ["a-b", "d", "e", "f"]);
    // each look-alike not read is a warning of the served snapshot
    let warned: Vec<&str> = s["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("warnings: {s}"))
        .iter()
        .filter_map(|w| w["file"].as_str())
        .collect();
    assert_eq!(
        warned,
        [".flipt.yml", "c/x.features.yml", "features.yml"],
        "{s:#}"
    );

    // a root flipt.yaml with version "2.0": Flipt v2 refuses it, so is the commit
    let repo = root.path().join("flags");
    write(&repo, "flipt.yaml", "version: \"2.0\"\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "flipt.yaml 2.0"]);
    let s = server.status_when("the rejection", |s| s["syncStatus"] == "error");
    let e = &s["validationErrors"][0];
    assert_eq!(
        (&e["file"], &e["line"], &e["column"], &e["path"]),
        (
            &Value::from("flipt.yaml"),
            &Value::from(1),
            &Value::from(10),
            &Value::from("version")
        ),
        "{s:#}"
    );
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a full semantic version") && m.contains("\"2.0.0\"")),
        "{e}"
    );
    assert_eq!(
        strings(&s["discovery"]["files"]).len(),
        4,
        "the last good files"
    );
    assert_eq!(server.flag_keys(), ["a-b", "d", "e", "f"]);

    // "2.0.0" is read; it selects nothing more
    write(&repo, "flipt.yaml", "version: \"2.0.0\"\n");
    git(&repo, &["commit", "-q", "-am", "flipt.yaml 2.0.0"]);
    let s = server.status_when("the fixed commit served", |s| {
        s["syncStatus"] == "success" && s["discovery"]["rootFile"] == "flipt.yaml"
    });
    assert_eq!(strings(&s["discovery"]["files"]).len(), 4, "{s:#}");
    assert_eq!(server.flag_keys(), ["a-b", "d", "e", "f"]);
}

#[test]
fn flipt_v1_and_seed_configurations_read_what_flipt_v1_reads() {
    let root = tempfile::tempdir().expect("tempdir");
    let remote = repository(root.path());
    let v1 = format!(
        "storage:\n  type: git\n  git:\n    repository: {remote}\n    ref: main\n    poll_interval: 1s\n"
    );
    let seed = format!(
        "storage:\n  type: memory\n  remote:\n    type: git\n    git:\n      repository: \"{remote}\"\n      branch: \"main\"\n      poll_interval: \"1s\"\n"
    );
    for (name, config) in [("v1.yml", v1), ("flipt.yml", seed)] {
        let server = Server::start(root.path(), name, &config);
        let s = server.status_when("a served snapshot", serving);
        let d = &s["discovery"];
        assert_eq!(d["rules"], "flipt-v1", "{name}: {s:#}");
        assert_eq!(d["rootFile"], ".flipt.yml", "{name}");
        // the root file and x.features.yml are read, the index excludes d/, no JSON name
        assert_eq!(
            strings(&d["files"]),
            [
                "a/b/features.yaml",
                "c/x.features.yml",
                "e/features.yml",
                "features.yml"
            ],
            "{name}"
        );
        assert_eq!(
            strings(&d["notRead"]),
            ["d/features.yaml", "f/features.json"],
            "{name}"
        );
        assert_eq!(
            s["warnings"],
            serde_json::json!([]),
            "{name}: the index excluded d/ on purpose"
        );
        assert_eq!(server.flag_keys(), ["a-b", "c-x", "e", "root"], "{name}");
    }
}

#[test]
fn validate_uses_the_same_rules_picked_by_flag_or_by_configuration() {
    const INVALID: &str = "flags:\n  - key: a\n    nme: A\n";
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("repo");
    for (path, _) in ITEM_7 {
        let text = if path.ends_with(".json") {
            "{\"flags\": [{\"key\": \"a\", \"nme\": \"A\"}]}\n"
        } else {
            INVALID
        };
        write(&dir, path, text);
    }
    write(&dir, ".flipt.yml", INDEX);
    let reported = |args: &[&str]| -> (i32, Vec<String>, String) {
        let (code, out, err) = run(bin().arg("validate").args(args).arg(&dir));
        let mut files: Vec<String> = out
            .lines()
            .filter(|l| !l.contains(": warning: "))
            .filter_map(|l| l.split(':').next())
            .map(|f| {
                f.trim_start_matches(&format!("{}/", dir.display()))
                    .to_string()
            })
            .collect();
        files.sort();
        files.dedup();
        (code, files, err)
    };
    let v2 = [
        "a/b/features.yaml",
        "d/features.yaml",
        "e/features.yml",
        "f/features.json",
    ];
    let v1 = [
        "a/b/features.yaml",
        "c/x.features.yml",
        "e/features.yml",
        "features.yml",
    ];
    let (code, files, _) = reported(&["--discovery", "flipt-v2"]);
    assert_eq!(code, 1);
    assert_eq!(files, v2);
    let (code, files, _) = reported(&[]);
    assert_eq!(code, 1, "the default is Flipt v1's");
    assert_eq!(files, v1);
    // --config: its shape picks the rule; an unset ${env:…} in it does not matter
    let config = t.path().join("switchyard.yml");
    std::fs::write(
        &config,
        "storage:\n  flags:\n    remote: https://h/r.git\n    credentials: gh\ncredentials:\n  gh:\n    type: access_token\n    access_token: ${env:SWITCHYARD_TEST_UNSET_TOKEN}\n",
    )
    .expect("write");
    let config = config.display().to_string();
    let (code, files, _) = reported(&["--config", &config]);
    assert_eq!(code, 1);
    assert_eq!(files, v2);

    // valid files: the summary names the rule; a root flipt.yaml is checked under v2 only
    for (path, key) in ITEM_7 {
        write(&dir, path, &flag_file(path, key));
    }
    let (code, out, err) = run(bin()
        .args(["validate", "--discovery", "flipt-v2"])
        .arg(&dir));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("4 flag file(s) valid, 3 warning(s) (discovery: flipt-v2)"),
        "{err}"
    );
    let warned: Vec<&str> = out
        .lines()
        .map(|l| l.trim_start_matches(&format!("{}/", dir.display())))
        .collect();
    assert_eq!(warned.len(), 3, "{out}");
    assert!(
        warned[0]
            .starts_with(".flipt.yml:1:1: warning: not read: Flipt v2 has no .flipt.yml index"),
        "{out}"
    );
    assert!(
        warned[1].starts_with(
            "c/x.features.yml:1:1: warning: not read: Flipt v2 reads only files named exactly"
        ),
        "{out}"
    );
    assert!(warned[2].starts_with("features.yml:1:1: warning: not read: Flipt v2 reads features.yaml, features.yml, features.json only in a directory below the environment root"), "{out}");
    write(&dir, "flipt.yaml", "version: \"2.0\"\n");
    let (code, files, _) = reported(&["--discovery", "flipt-v2"]);
    assert_eq!(code, 1);
    assert_eq!(files, ["flipt.yaml"]);
    let (code, _, err) = run(bin().arg("validate").arg(&dir));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("4 flag file(s) valid (discovery: flipt-v1)"),
        "{err}"
    );
    let (code, _, err) = run(bin()
        .args(["validate", "--discovery", "flipt-v2", "--config", &config])
        .arg(&dir));
    assert_eq!(
        code, 2,
        "--discovery and --config exclude each other: {err}"
    );

    // only a root features.yml: nothing for Flipt v2's rule, and the warning says why
    let only_root = t.path().join("only-root");
    write(
        &only_root,
        "features.yml",
        &flag_file("features.yml", "root"),
    );
    let (code, out, err) = run(bin()
        .args(["validate", "--discovery", "flipt-v2"])
        .arg(&only_root));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("features.yml:1:1: warning: not read: Flipt v2 reads features.yaml, features.yml, features.json only in a directory below the environment root, never at it; move it to a namespace directory (default/features.yml)"),
        "{out}"
    );
    assert!(
        err.contains("no flag files found in") && err.contains("by flipt-v2"),
        "{err}"
    );
}
