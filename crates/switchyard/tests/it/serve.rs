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
