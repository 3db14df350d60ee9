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
        s.warnings.iter().any(|w| w
            .to_string()
            .contains("credentials \"github\" are not defined")),
        "{:?}",
        s.warnings
    );
    assert!(s.sync.environments["default"].default);
    assert_eq!(s.sync.environments["default"].discovery, Discovery::FliptV1);
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
    assert!(
        !s.warnings.iter().any(|w| w.path.starts_with("validation")),
        "{:?}",
        s.warnings
    );
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
          ci: { credential: "s3cret-s3cret-s3cret" }
          apps: { credential: "public-evaluation-token", metadata: { scope: evaluation } }
server: { host: 127.0.0.1, http_port: 9090 }
cors: { enabled: true, allowed_origins: ["http://localhost:4200"] }
webhooks: { github: { secret: hush } }
"#;
    let s = parse("config.yml", text, &[]).expect("valid");
    assert_eq!(s.format, Format::FliptV2);
    assert_eq!(s.sync.environments.len(), 2);
    assert!(
        s.sync
            .environments
            .values()
            .all(|e| e.discovery == Discovery::FliptV2)
    );
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
            .any(|w| w.to_string().contains("storage.flags.signature"))
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
    assert_eq!(s.sync.environments["default"].discovery, Discovery::FliptV1);
    assert!(matches!(
        s.sync.credentials["git"],
        switchyard_sync::CredentialsConfig::Bearer { .. }
    ));
}

#[test]
fn the_shape_alone_is_read_for_the_discovery_rule() {
    let t = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = t.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    // an unset `${env:…}` does not matter: only the shape is read
    let v2 = write(
        "v2.yml",
        "storage:\n  flags:\n    remote: https://h/r.git\n    credentials: gh\ncredentials:\n  gh:\n    type: access_token\n    access_token: ${env:NOT_SET_ANYWHERE}\n",
    );
    assert_eq!(
        format_of(&v2, &[]).map(Format::discovery),
        Ok(Discovery::FliptV2)
    );
    let v1 = write(
        "v1.yml",
        "storage:\n  type: git\n  git:\n    repository: https://h/r.git\n",
    );
    assert_eq!(
        format_of(&v1, &[]).map(Format::discovery),
        Ok(Discovery::FliptV1)
    );
    let seed = write("seed.yml", SEED);
    assert_eq!(format_of(&seed, &[]), Ok(Format::Seed));
    let odd = write("odd.yml", "storage:\n  type: database\n");
    let e = format_of(&odd, &[]).unwrap_err();
    assert_eq!((e.line, e.column), (2, 9), "{e}");
}

#[test]
fn variables_that_are_not_configuration_are_skipped() {
    let env = [
        (
            "SWITCHYARD_BIN".to_string(),
            "target/release/switchyard".to_string(),
        ),
        ("SWITCHYARD_STORGE__X".to_string(), "1".to_string()),
    ];
    let s = parse("f.yml", SEED, &env).expect("valid");
    let w: Vec<String> = s.warnings.iter().map(ToString::to_string).collect();
    assert!(
        w.contains(&"SWITCHYARD_STORGE__X (overriding f.yml): storge: not a configuration section, so this variable is ignored; did you mean `storage`?".to_string()),
        "{w:?}"
    );
    assert!(!w.iter().any(|x| x.contains("SWITCHYARD_BIN")), "{w:?}");
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

/// The error's text for a file `flipt.yml` holding `text`.
fn error(text: &str, env: &[(String, String)]) -> String {
    parse("flipt.yml", text, env)
        .expect_err("an error")
        .to_string()
}

#[test]
fn errors_name_file_line_column_leaf_and_fix() {
    assert_eq!(
        error(
            "storage:\n  flags:\n    remote: https://x/y.git\n    poll_interval: 10 seconds\n",
            &[]
        ),
        "flipt.yml:4:20: storage.flags.poll_interval: invalid duration \"10 seconds\""
    );
    assert_eq!(
        error(
            "storage:\n  flags:\n    remote: https://x/y.git\n    poll_interval: 100ms\n",
            &[]
        ),
        "flipt.yml:4:5: storage.flags.poll_interval: storage \"flags\": poll interval must be at least 1 second"
    );
    assert_eq!(
        error(
            "storage:\n  flags:\n    remote: https://x:99999/y.git\n",
            &[]
        ),
        "flipt.yml:3:5: storage.flags.remote: storage \"flags\": invalid remote URL: expected https://host/path, ssh://[user@]host[:port]/path, user@host:path, file:///path or a local path"
    );
    assert_eq!(
        error(
            "storage:\n  flags:\n    remote: https://x/y.git\n    brnch: main\n",
            &[]
        ),
        "flipt.yml:4:5: storage.flags.brnch: unknown key `brnch`; did you mean `branch`?"
    );
    let e = error("storage: [\n", &[]);
    assert!(e.starts_with("flipt.yml:2:1: invalid YAML"), "{e}");
    assert_eq!(
        error("storage:\n  type: database\n", &[]),
        "flipt.yml:2:9: storage.type: storage type \"database\" has no git repository to follow: Flipt v1 uses `storage.type: git` with `storage.git.repository`; Flipt v2 uses `storage.<id>.remote`"
    );
    assert!(
        error("", &[]).ends_with("storage: no storage configured: add `storage: { default: { remote: <git URL>, branch: main } }`")
    );
}

/// The cases of issue 9 item 6, as a user wrote them.
const ISSUE_FILE: &str = "# Switchyard
storage:
  default:
    remote: https://github.com/acme/flags.git
    poll_interval: 10x
    credentials: github
credentials:
  github:
    type: access_token
    access_token: ${env:GITHUB_TOKEN}
";

#[test]
fn an_unset_env_reference_points_at_its_line() {
    assert_eq!(
        error(&ISSUE_FILE.replace("10x", "10s"), &[]),
        "flipt.yml:10:19: credentials.github.access_token: environment variable GITHUB_TOKEN is not set (referenced as ${env:GITHUB_TOKEN})"
    );
}

#[test]
fn an_invalid_duration_points_at_the_value() {
    let env = [("GITHUB_TOKEN".to_string(), "t".to_string())];
    assert_eq!(
        error(ISSUE_FILE, &env),
        "flipt.yml:5:20: storage.default.poll_interval: invalid duration \"10x\""
    );
}

#[test]
fn misspelled_keys_get_a_suggestion() {
    let env = [("GITHUB_TOKEN".to_string(), "t".to_string())];
    assert_eq!(
        error(
            &ISSUE_FILE.replace("poll_interval: 10x", "pol_interval: 10s"),
            &env
        ),
        "flipt.yml:5:5: storage.default.pol_interval: unknown key `pol_interval`; did you mean `poll_interval`?"
    );
    assert_eq!(
        error(&ISSUE_FILE.replace("storage:", "storge:"), &env),
        "flipt.yml:2:1: storge: unknown key `storge`; did you mean `storage`?"
    );
    assert_eq!(
        error(
            &ISSUE_FILE.replace(
                "    type: access_token",
                "    type: access_token\n    acess_token: x"
            ),
            &env
        ),
        "flipt.yml:10:5: credentials.github.acess_token: unknown key `acess_token`; did you mean `access_token`?"
    );
    assert_eq!(
        error(
            "storage:\n  default:\n    remote: https://x/y.git\n    fetch_policy: strct\n",
            &[]
        ),
        "flipt.yml:4:19: storage.default.fetch_policy: unknown value `strct`; did you mean `strict`?"
    );
}

#[test]
fn an_environment_override_is_named_in_its_error() {
    let env = [
        ("GITHUB_TOKEN".to_string(), "t".to_string()),
        (
            "SWITCHYARD_STORAGE__DEFAULT__POLL_INTERVAL".to_string(),
            "often".to_string(),
        ),
    ];
    assert_eq!(
        error(ISSUE_FILE, &env),
        "SWITCHYARD_STORAGE__DEFAULT__POLL_INTERVAL (overriding flipt.yml): storage.default.poll_interval: invalid duration \"often\""
    );
}

const BASE: &str = "storage:\n  default:\n    remote: https://x/y.git\n";

#[test]
fn https_maps_to_tls_and_its_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "c").expect("write");
    std::fs::write(&key, "k").expect("write");
    let text = format!(
        "{BASE}server:\n  protocol: https\n  host: 127.0.0.1\n  https_port: 8443\n  cert_file: {}\n  cert_key: {}\n",
        cert.display(),
        key.display()
    );
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let tls = s.server.tls.expect("tls");
    assert_eq!((tls.cert_file, tls.key_file), (cert.clone(), key.clone()));
    assert_eq!(s.listen.to_string(), "127.0.0.1:8443");
    let plain = parse("flipt.yml", BASE, &[]).expect("valid");
    assert!(plain.server.tls.is_none());
    assert_eq!(plain.listen.to_string(), "0.0.0.0:8080");
}

#[test]
fn https_without_a_certificate_and_key_is_refused() {
    assert_eq!(
        error(&format!("{BASE}server:\n  protocol: https\n"), &[]),
        "flipt.yml:5:13: server.protocol: https needs both server.cert_file and server.cert_key (PEM files); server.cert_file is not set"
    );
    assert_eq!(
        error(
            &format!(
                "{BASE}server:\n  protocol: https\n  cert_file: /nonexistent/cert.pem\n  cert_key: /nonexistent/key.pem\n"
            ),
            &[]
        ),
        "flipt.yml:6:14: server.cert_file: cannot read /nonexistent/cert.pem: No such file or directory (os error 2)"
    );
    assert_eq!(
        error(&format!("{BASE}server:\n  protocol: htps\n"), &[]),
        "flipt.yml:5:13: server.protocol: expected `http` or `https`"
    );
}

#[test]
fn unavailable_authentication_methods_are_refused() {
    assert_eq!(
        error(
            &format!(
                "{BASE}authentication:\n  required: true\n  methods:\n    oidc:\n      enabled: true\n"
            ),
            &[]
        ),
        "flipt.yml:7:5: authentication.methods.oidc: authentication method `oidc` is not available in Switchyard, which would serve without it: only static tokens (authentication.methods.token) are; remove it or set `enabled: false`"
    );
    let off = format!("{BASE}authentication:\n  methods:\n    github:\n      enabled: false\n");
    assert!(parse("flipt.yml", &off, &[]).is_ok());
    assert_eq!(
        error(&format!("{BASE}authorization:\n  required: true\n"), &[]),
        "flipt.yml:5:13: authorization.required: authorization policies are not available in Switchyard, so they would not be enforced: remove `authorization` (or set required: false) and limit tokens with `metadata.scope: evaluation` instead"
    );
}

#[test]
fn unimplemented_flipt_keys_are_warned_about_with_their_line() {
    let text = format!(
        "{BASE}tracing:\n  enabled: true\nanalytics:\n  storage: {{}}\nserver:\n  grpc_conn_max_idle_time: 5m\n"
    );
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let w: Vec<String> = s.warnings.iter().map(ToString::to_string).collect();
    assert!(
        w.contains(
            &"flipt.yml:4:1: tracing: ignored: Switchyard exports no traces (no OpenTelemetry)"
                .to_string()
        ),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|x| x.starts_with("flipt.yml:6:1: analytics: ignored")),
        "{w:?}"
    );
    assert!(
        w.contains(
            &"flipt.yml:9:3: server.grpc_conn_max_idle_time: ignored: Switchyard's gRPC connections close when HTTP/2 keepalive pings go unanswered or after server.grpc_conn_max_age, not when idle"
                .to_string()
        ),
        "{w:?}"
    );
}

#[test]
fn weak_secrets_are_refused_at_their_key() {
    assert_eq!(
        error(
            &format!("{BASE}webhooks:\n  github:\n    secret: \"  \"\n"),
            &[]
        ),
        "flipt.yml:6:13: webhooks.github.secret: an empty webhook secret would accept any request: set a long random value (e.g. `openssl rand -hex 32`), or remove the key to turn this endpoint off"
    );
    assert_eq!(
        error(
            &format!(
                "{BASE}authentication:\n  methods:\n    token:\n      storage:\n        tokens:\n          ci: {{ credential: short }}\n"
            ),
            &[]
        ),
        "flipt.yml:9:29: authentication.methods.token.storage.tokens.ci.credential: a static token must be at least 16 bytes (this one has 5); generate one with `openssl rand -hex 32`"
    );
}

#[test]
fn tokens_may_be_a_list_with_names_as_in_flipts_schema() {
    let text = format!(
        "{BASE}authentication:\n  methods:\n    token:\n      storage:\n        tokens:\n          - name: ci\n            credential: 0123456789abcdef0123\n            metadata: {{ scope: evaluation }}\n"
    );
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let t = &s.server.auth.tokens;
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].name.as_str(), t[0].scope),
        ("ci", switchyard_server::Scope::Evaluation)
    );
    assert_eq!(
        error(&text.replace("0123456789abcdef0123", "short"), &[]),
        "flipt.yml:10:25: authentication.methods.token.storage.tokens[0].credential: a static token must be at least 16 bytes (this one has 5); generate one with `openssl rand -hex 32`"
    );
}

#[test]
fn the_github_example_loads_without_warnings() {
    let text = include_str!("../../../../examples/github/switchyard.yml");
    let env = [
        ("GITHUB_TOKEN".to_string(), "github_pat_example".to_string()),
        (
            "WEBHOOK_SECRET".to_string(),
            "0123456789abcdef0123".to_string(),
        ),
        (
            "SWITCHYARD_ADMIN_TOKEN".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
        ),
    ];
    let s = parse("examples/github/switchyard.yml", text, &env).expect("the example is valid");
    assert_eq!(s.format, Format::FliptV2);
    assert!(
        !s.warnings.iter().any(|w| w.path.starts_with("validation")),
        "{:?}",
        s.warnings
    );
    assert_eq!(
        s.sync.environments.keys().collect::<Vec<_>>(),
        ["production", "staging"]
    );
    assert!(s.sync.environments["production"].default);
    let storage = &s.sync.storage["flags"];
    assert_eq!(storage.branch, "main");
    assert_eq!(storage.credentials.as_deref(), Some("github"));
    assert_eq!(s.server.auth.tokens.len(), 1);
    assert!(s.server.auth.public_evaluation);
    assert_eq!(
        s.server.webhooks.github.as_deref(),
        Some("0123456789abcdef0123")
    );
    assert_eq!(s.listen.port(), 8080);
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
    assert_eq!(
        e.to_string(),
        "flipt.yml:5:17: server.idle_timeout: invalid duration \"soon\" (e.g. \"10s\", \"1m\")"
    );
}

/// Flipt's `environments.<id>.name` is the environment's key (`internal/config/environments.go`
/// defaults it to `<id>`; `git.Environment.Key` returns it).
#[test]
fn an_environment_name_is_its_key() {
    let text = r#"
storage:
  flags: { remote: "https://example.com/flags.git", branch: main }
environments:
  prod: { name: production, storage: flags, directory: prod, default: true }
  staging: { storage: flags, directory: staging }
"#;
    let s = parse("config.yml", text, &[]).expect("valid");
    assert_eq!(
        s.sync.environments.keys().collect::<Vec<_>>(),
        ["production", "staging"]
    );
    assert_eq!(s.sync.environments["production"].directory, "prod");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let twice = r#"
storage:
  flags: { remote: "https://example.com/flags.git", branch: main }
environments:
  a: { name: same, storage: flags, directory: a, default: true }
  b: { name: same, storage: flags, directory: b }
"#;
    let e = parse("config.yml", twice, &[]).expect_err("one key twice");
    assert!(
        e.to_string().contains("config.yml:6:")
            && e.to_string()
                .contains("environments \"a\" and \"b\" both have the key \"same\""),
        "{e}"
    );
    let empty = r#"
storage:
  flags: { remote: "https://example.com/flags.git", branch: main }
environments:
  a: { name: "", storage: flags, default: true }
"#;
    let e = parse("config.yml", empty, &[]).expect_err("empty name");
    assert!(e.to_string().contains("environments.a.name"), "{e}");
}

#[test]
fn validation_extra_checks_is_error_by_default_warn_from_the_file_or_a_variable() {
    use switchyard_core::ExtraChecks;
    let s = parse("f.yml", SEED, &[]).expect("valid");
    assert_eq!(s.sync.extra_checks, ExtraChecks::Error);
    let warn = format!("{SEED}validation:\n  extra_checks: warn\n");
    let s = parse("f.yml", &warn, &[]).expect("valid");
    assert_eq!(s.sync.extra_checks, ExtraChecks::Warn);
    assert!(
        !s.warnings.iter().any(|w| w.path.starts_with("validation")),
        "{:?}",
        s.warnings
    );
    let env = [(
        "SWITCHYARD_VALIDATION__EXTRA_CHECKS".to_string(),
        "warn".to_string(),
    )];
    assert_eq!(
        parse("f.yml", SEED, &env).expect("valid").sync.extra_checks,
        ExtraChecks::Warn
    );
    assert_eq!(
        error(
            &format!("{SEED}validation:\n  extra_checks: warning\n"),
            &[]
        ),
        "flipt.yml:14:17: validation.extra_checks: must be `error` (refuse what only Switchyard's extra checks find) or `warn` (serve it as Flipt does, with warnings), found \"warning\""
    );
    assert_eq!(
        error(&format!("{SEED}validation:\n  extra_check: warn\n"), &[]),
        "flipt.yml:14:3: validation.extra_check: unknown key `extra_check`; did you mean `extra_checks`?"
    );
}

#[test]
fn sync_poll_jitter_seed_is_random_by_default_or_given() {
    let s = parse("f.yml", SEED, &[]).expect("valid");
    assert_eq!(s.sync.poll_jitter_seed, None);
    let given = format!("{SEED}sync:\n  poll_jitter_seed: 12345\n");
    let s = parse("f.yml", &given, &[]).expect("valid");
    assert_eq!(s.sync.poll_jitter_seed, Some(12345));
    let env = [(
        "SWITCHYARD_SYNC__POLL_JITTER_SEED".to_string(),
        "7".to_string(),
    )];
    assert_eq!(
        parse("f.yml", SEED, &env)
            .expect("valid")
            .sync
            .poll_jitter_seed,
        Some(7)
    );
    let bad = error(&format!("{SEED}sync:\n  poll_jitter_seed: -1\n"), &[]);
    assert!(
        bad.starts_with("flipt.yml:14:21: sync.poll_jitter_seed: "),
        "{bad}"
    );
    let typo = error(&format!("{SEED}sync:\n  poll_jitter: 1\n"), &[]);
    assert!(typo.contains("did you mean `poll_jitter_seed`?"), "{typo}");
}

#[test]
fn server_shutdown_grace_period_and_delay() {
    use std::time::Duration;
    let base = "storage:\n  flags:\n    remote: https://x/y.git\n";
    let s = parse("flipt.yml", base, &[]).expect("valid");
    assert_eq!(s.server.shutdown.grace_period, Duration::from_secs(10));
    assert_eq!(s.server.shutdown.delay, Duration::ZERO);
    let text = format!("{base}server:\n  shutdown_grace_period: 30s\n  shutdown_delay: 5s\n");
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    assert_eq!(s.server.shutdown.grace_period, Duration::from_secs(30));
    assert_eq!(s.server.shutdown.delay, Duration::from_secs(5));
    let zero = format!("{base}server:\n  shutdown_grace_period: 0s\n");
    assert_eq!(
        parse("flipt.yml", &zero, &[])
            .expect("valid")
            .server
            .shutdown
            .grace_period,
        Duration::ZERO
    );
    let e = parse(
        "flipt.yml",
        &format!("{base}server:\n  shutdown_delay: later\n"),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "flipt.yml:5:19: server.shutdown_delay: invalid duration \"later\" (e.g. \"10s\", \"1m\")"
    );
}

#[test]
fn grpc_listens_on_flipts_port_unless_turned_off() {
    let absent = parse("flipt.yml", BASE, &[]).expect("valid");
    let g = absent.grpc_listen.expect("on by default");
    assert_eq!(
        (g.address.to_string().as_str(), g.explicit),
        ("0.0.0.0:9000", false)
    );
    let text =
        format!("{BASE}server:\n  host: 127.0.0.1\n  grpc_port: 9100\n  grpc_conn_max_age: 5m\n");
    let s = parse("flipt.yml", &text, &[]).expect("valid");
    let g = s.grpc_listen.expect("on");
    assert_eq!(
        (g.address.to_string().as_str(), g.explicit),
        ("127.0.0.1:9100", true)
    );
    assert_eq!(
        s.server.grpc.max_connection_age,
        Some(std::time::Duration::from_secs(300))
    );
    let off = format!("{BASE}server:\n  grpc_port: 0\n");
    assert_eq!(
        parse("flipt.yml", &off, &[]).expect("valid").grpc_listen,
        None
    );
    let env = [("SWITCHYARD_SERVER__GRPC_PORT".to_string(), "0".to_string())];
    assert_eq!(
        parse("flipt.yml", BASE, &env).expect("valid").grpc_listen,
        None
    );
}

#[test]
fn server_access_log_targets() {
    use switchyard_server::AccessLogTarget;
    let base = "storage:\n  flags:\n    remote: https://x/y.git\n";
    let at = |v: &str, env: &[(String, String)]| {
        parse(
            "flipt.yml",
            &format!("{base}server:\n  access_log: {v}\n"),
            env,
        )
        .expect("valid")
        .server
        .access_log
    };
    assert_eq!(
        parse("flipt.yml", base, &[])
            .expect("valid")
            .server
            .access_log,
        None
    );
    assert_eq!(at("true", &[]), Some(AccessLogTarget::Stdout));
    assert_eq!(at("stdout", &[]), Some(AccessLogTarget::Stdout));
    assert_eq!(at("stderr", &[]), Some(AccessLogTarget::Stderr));
    assert_eq!(at("false", &[]), None);
    assert_eq!(
        at("/var/log/switchyard/access.jsonl", &[]),
        Some(AccessLogTarget::File(
            "/var/log/switchyard/access.jsonl".into()
        ))
    );
    let env = [(
        "SWITCHYARD_SERVER__ACCESS_LOG".to_string(),
        "stderr".to_string(),
    )];
    assert_eq!(at("true", &env), Some(AccessLogTarget::Stderr));
}

#[test]
fn notification_sinks_and_their_errors() {
    use switchyard_server::notify::Sink;
    let base = "storage:\n  flags:\n    remote: https://x/y.git\n";
    let cfg = parse(
        "flipt.yml",
        &format!("{base}notifications:\n  queue_size: 10\n  attempts: 3\n  backoff: 50ms\n  sinks:\n    - type: webhook\n      url: https://hooks.example.com/in\n      secret: ${{env:HOOK_SECRET}}\n    - type: slack\n      url: https://hooks.slack.com/services/T/B/X\n    - type: log\n"),
        &[("HOOK_SECRET".to_string(), "s3cr3t".to_string())],
    )
    .expect("valid")
    .server
    .notifications;
    assert_eq!(cfg.queue_size, 10);
    assert_eq!(cfg.retry.attempts, 3);
    assert_eq!(cfg.retry.backoff, std::time::Duration::from_millis(50));
    assert!(matches!(&cfg.sinks[0], Sink::Webhook { secret, .. } if secret == "s3cr3t"));
    assert!(matches!(&cfg.sinks[1], Sink::Slack { .. }));
    assert!(matches!(&cfg.sinks[2], Sink::Log));
    // the Debug form (which a config dump would use) shows no secret
    let shown = format!("{:?}", cfg.sinks);
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("/services/"),
        "{shown}"
    );
    let e = error(
        &format!(
            "{base}notifications:\n  sinks:\n    - type: webhook\n      url: https://h.example/x\n"
        ),
        &[],
    );
    assert!(
        e.contains("notifications.sinks[0].secret") && e.contains("HMAC"),
        "{e}"
    );
    let e = error(
        &format!("{base}notifications:\n  sinks:\n    - type: pager\n"),
        &[],
    );
    assert!(
        e.contains("flipt.yml:6:13:") && e.contains("unknown sink type \"pager\""),
        "{e}"
    );
    let e = error(
        &format!("{base}notifications:\n  sinks:\n    - type: slack\n      url: ftp://x/y\n"),
        &[],
    );
    assert!(
        e.contains("notifications.sinks[0].url") && e.contains("http://"),
        "{e}"
    );
    let e = error(&format!("{base}notifications:\n  queue_size: 0\n"), &[]);
    assert!(
        e.contains("notifications.queue_size") && e.contains("at least 1"),
        "{e}"
    );
    let e = error(&format!("{base}notifications:\n  sink: []\n"), &[]);
    assert!(e.contains("did you mean `sinks`"), "{e}");
}

#[test]
fn break_glass_max_override_defaults_to_a_day_or_is_given() {
    use std::time::Duration;
    let s = parse("f.yml", SEED, &[]).expect("valid");
    assert_eq!(s.sync.max_override, Duration::from_secs(24 * 3600));
    let given = format!("{SEED}break_glass:\n  max_override: 4h\n");
    let s = parse("f.yml", &given, &[]).expect("valid");
    assert_eq!(s.sync.max_override, Duration::from_secs(4 * 3600));
    let bad = error(&format!("{SEED}break_glass:\n  max_override: soon\n"), &[]);
    assert_eq!(
        bad,
        "flipt.yml:14:17: break_glass.max_override: invalid duration \"soon\": the longest an override may last, e.g. \"4h\" (default 24h)"
    );
    let typo = error(&format!("{SEED}break_glass:\n  max_overide: 1h\n"), &[]);
    assert!(typo.contains("did you mean `max_override`?"), "{typo}");
}
