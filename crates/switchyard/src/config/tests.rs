//! Tests of configuration loading: the seed's file as written, Flipt v1 and v2, overrides, errors.

use super::*;

const SEED: &str = r#"storage:
  type: memory
  remote:
    type: git
    git:
      repository: "https://github.com/dev-alxv/openfeature-flipt-angular.git"
      branch: "main"
      poll_interval: "30s"
      fetch_policy: "strict"
      credentials: "github"
      backend:
        type: memory
"#;

#[test]
fn the_seed_config_as_written() {
    let s = parse("flipt/flipt.yml", SEED, &[]).expect("valid");
    assert_eq!(s.format, Format::Seed);
    let storage = &s.sync.storage["default"];
    assert_eq!(
        storage.remote.as_deref(),
        Some("https://github.com/dev-alxv/openfeature-flipt-angular.git")
    );
    assert_eq!(storage.branch, "main");
    assert_eq!(storage.poll_interval, std::time::Duration::from_secs(30));
    assert!(
        storage.credentials.is_none(),
        "undefined credentials are dropped with a warning"
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("credentials \"github\" are not defined")),
        "{:?}",
        s.warnings
    );
    assert!(s.sync.environments["default"].default);
    assert_eq!(s.listen.to_string(), "0.0.0.0:8080");
}

#[test]
fn seed_with_defined_credentials_and_env_reference() {
    let text = format!(
        "{SEED}credentials:\n  github:\n    type: access_token\n    access_token: ${{env:GH_TOKEN}}\n"
    );
    let s = parse("f.yml", &text, &[("GH_TOKEN".into(), "t0k".into())]).expect("valid");
    assert_eq!(
        s.sync.storage["default"].credentials.as_deref(),
        Some("github")
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let e = parse("f.yml", &text, &[]).unwrap_err();
    assert!(e.message.contains("GH_TOKEN is not set"), "{e}");
}

#[test]
fn flipt_v2_config() {
    let text = r#"credentials:
  github:
    type: access_token
    access_token: abc
storage:
  flags:
    name: flags
    remote: "https://github.com/acme/flags.git"
    branch: main
    poll_interval: 10s
    fetch_policy: lenient
    credentials: github
    backend: { type: local, path: /var/lib/flags }
    signature: { name: "Flipt", email: "flipt@acme.io" }
environments:
  production: { storage: flags, directory: production, default: true }
  staging:    { storage: flags, directory: staging }
authentication:
  exclude: { evaluation: true }
  methods:
    token:
      enabled: true
      storage:
        tokens:
          ci: { credential: "s3cret" }
          apps: { credential: "pub", metadata: { scope: evaluation } }
server: { host: 127.0.0.1, http_port: 9090 }
cors: { enabled: true, allowed_origins: ["http://localhost:4200"] }
webhooks: { github: { secret: hush } }
log: { level: info }
"#;
    let s = parse("config.yml", text, &[]).expect("valid");
    assert_eq!(s.format, Format::FliptV2);
    assert_eq!(s.sync.environments.len(), 2);
    assert_eq!(
        s.sync.storage["flags"].poll_interval,
        std::time::Duration::from_secs(10)
    );
    assert_eq!(s.listen.to_string(), "127.0.0.1:9090");
    assert!(s.server.auth.public_evaluation);
    assert_eq!(s.server.auth.tokens.len(), 2);
    assert_eq!(
        s.server
            .auth
            .tokens
            .iter()
            .find(|t| t.name == "apps")
            .map(|t| t.scope),
        Some(switchyard_server::Scope::Evaluation)
    );
    assert_eq!(s.server.cors_allowed_origins, ["http://localhost:4200"]);
    assert_eq!(s.server.webhooks.github.as_deref(), Some("hush"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("storage.flags.signature"))
    );
}

#[test]
fn flipt_v1_config() {
    let text = "storage:\n  type: git\n  git:\n    repository: https://github.com/acme/flags.git\n    ref: 0123456789abcdef0123456789abcdef01234567\n    directory: prod\n    poll_interval: 5s\n    authentication:\n      token:\n        access_token: abc\n";
    let s = parse("v1.yml", text, &[]).expect("valid");
    assert_eq!(s.format, Format::FliptV1);
    assert_eq!(
        s.sync.storage["default"].commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(s.sync.environments["default"].directory, "prod");
    assert!(matches!(
        s.sync.credentials["git"],
        switchyard_sync::CredentialsConfig::Bearer { .. }
    ));
}

#[test]
fn env_overrides() {
    let env = [(
        "SWITCHYARD_STORAGE__REMOTE__GIT__BRANCH".to_string(),
        "dev".to_string(),
    )];
    let s = parse("f.yml", SEED, &env).expect("valid");
    assert_eq!(s.sync.storage["default"].branch, "dev");
}

#[test]
fn errors_name_file_line_and_fix() {
    let e = parse(
        "flipt.yml",
        "storage:\n  flags:\n    remote: https://x/y.git\n    poll_interval: 10 seconds\n",
        &[],
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("flipt.yml", 2), "{e}");
    assert!(e.message.contains("storage.flags"), "{e}");
    let e = parse(
        "flipt.yml",
        "storage:\n  flags:\n    remote: https://x/y.git\n    poll_interval: 100ms\n",
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("at least 1 second"), "{e}");
    let e = parse(
        "flipt.yml",
        "storage:\n  flags:\n    remote: https://x/y.git\n    brnch: main\n",
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("brnch"), "{e}");
    let e = parse("flipt.yml", "storage: [\n", &[]).unwrap_err();
    assert!(e.message.starts_with("invalid YAML"), "{e}");
    let e = parse("flipt.yml", "storage:\n  type: database\n", &[]).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let e = parse("flipt.yml", "", &[]).unwrap_err();
    assert!(e.message.contains("no storage configured"), "{e}");
}

#[test]
fn server_connection_limits_public_url_and_cors_off() {
    let base = "storage:\n  flags:\n    remote: https://x/y.git\n";
    let text = format!(
        "{base}server:\n  public_url: https://flags.example.com\n  max_connections: 20000\n  idle_timeout: 2m\n  read_header_timeout: 5s\n  body_read_timeout: 15s\ncors:\n  enabled: false\n  allowed_origins: ['*']\n"
    );
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let l = s.server.limits;
    assert_eq!(l.max_connections, 20000);
    assert_eq!(l.idle_timeout, std::time::Duration::from_secs(120));
    assert_eq!(l.header_read_timeout, std::time::Duration::from_secs(5));
    assert_eq!(l.body_read_timeout, std::time::Duration::from_secs(15));
    assert_eq!(
        s.server.public_url.as_deref(),
        Some("https://flags.example.com")
    );
    assert!(s.server.cors_allowed_origins.is_empty(), "CORS off");
    let e = parse(
        "flipt.yml",
        &format!("{base}server:\n  idle_timeout: soon\n"),
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("server.idle_timeout"), "{e}");
}

#[test]
fn flipt_https_keys_map_to_tls_and_the_https_port() {
    let base = "storage:\n  flags:\n    remote: https://x/y.git\n";
    let text = format!(
        "{base}server:\n  protocol: https\n  https_port: 8443\n  cert_file: /etc/tls/server.crt\n  cert_key: /etc/tls/server.key\n"
    );
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let tls = s.server.tls.expect("TLS on");
    assert_eq!(tls.cert_file, std::path::Path::new("/etc/tls/server.crt"));
    assert_eq!(tls.key_file, std::path::Path::new("/etc/tls/server.key"));
    assert_eq!(s.listen.port(), 8443);
    let s = parse("flipt.yml", base, &[]).expect("valid");
    assert!(s.server.tls.is_none());
    let e = parse(
        "flipt.yml",
        &format!("{base}server:\n  protocol: https\n  cert_file: a.crt\n"),
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("server.cert_key"), "{e}");
    let e = parse(
        "flipt.yml",
        &format!("{base}server:\n  protocol: grpc\n"),
        &[],
    )
    .unwrap_err();
    assert!(e.message.contains("use http or https"), "{e}");
}
