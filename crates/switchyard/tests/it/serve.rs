//! `switchyard serve` refusing configuration files, with the exact place and a fix.

use super::{bin, run};

#[test]
fn a_bad_config_stops_serve_with_file_line_column_and_leaf() {
    let t = tempfile::tempdir().expect("tempdir");
    let config = t.path().join("flipt.yml");
    std::fs::write(
        &config,
        "storage:\n  default:\n    remote: https://github.com/acme/flags.git\n    branch: main\n    poll_interval: 10x\n",
    )
    .expect("write");
    let (code, out, err) = run(bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config));
    assert_eq!(code, 2, "{out}{err}");
    let want = format!(
        "switchyard: {}:5:20: storage.default.poll_interval: invalid duration \"10x\"",
        config.display()
    );
    assert!(err.lines().any(|l| l == want), "{err}");
}

#[test]
fn an_unavailable_authentication_method_stops_serve() {
    let t = tempfile::tempdir().expect("tempdir");
    let config = t.path().join("flipt.yml");
    std::fs::write(
        &config,
        "storage:\n  default:\n    local_path: .\nauthentication:\n  methods:\n    oidc:\n      enabled: true\n",
    )
    .expect("write");
    let (code, out, err) = run(bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            ":6:5: authentication.methods.oidc: authentication method `oidc` is not available"
        ),
        "{err}"
    );
}

/// Starts `serve` on `config` with `env` and returns the first stderr line containing `want`
/// (within 30 s), then stops the server.
fn serve_until_log(config: &std::path::Path, env: &[(&str, &str)], want: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut cmd = bin();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    let found = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(want) => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    drop(rx);
    let _ = reader.join();
    found.unwrap_or_else(|| panic!("no log line with {want:?}; got:\n{}", seen.join("\n")))
}

#[test]
fn a_first_commit_refused_only_by_extra_checks_says_how_to_serve_it_with_warnings() {
    let t = tempfile::tempdir().expect("tempdir");
    let flags = t.path().join("flags");
    // a Flipt v2 configuration: the flag file sits in a directory below the root
    std::fs::create_dir_all(flags.join("default")).expect("mkdir");
    // Two default variants: Flipt v2.11 serves this (the last wins).
    std::fs::write(
        flags.join("default/features.yaml"),
        "flags:\n  - key: f\n    name: F\n    variants:\n      - {key: a, default: true}\n      - {key: b, default: true}\n",
    )
    .expect("write");
    let config = t.path().join("flipt.yml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  default:\n    local_path: {}\n",
            flags.display()
        ),
    )
    .expect("write");
    let hint = serve_until_log(&config, &[], "validation: {extra_checks: warn}");
    assert!(
        hint.contains("1 of the 1 problems come from Switchyard's checks beyond Flipt's, and Flipt v2.11 would serve this commit")
            && hint.contains("SWITCHYARD_VALIDATION__EXTRA_CHECKS=warn"),
        "{hint}"
    );
    // With the switch the same commit is served.
    serve_until_log(
        &config,
        &[("SWITCHYARD_VALIDATION__EXTRA_CHECKS", "warn")],
        "Git sync completed successfully",
    );
}
