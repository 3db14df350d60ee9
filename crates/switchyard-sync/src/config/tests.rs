use super::*;

#[test]
fn durations_parse_and_format() {
    assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
    assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("abc"), None);
    assert_eq!(parse_duration("10"), None);
    // A sum past the largest duration is refused, not a panic.
    assert_eq!(
        parse_duration("18446744073709551615s18446744073709551615s"),
        None
    );
    assert_eq!(format_duration(Duration::from_secs(30)), "30s");
    assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
}

#[test]
fn flipt_shaped_config_deserialises_and_validates() {
    let json = r#"{
      "credentials": {"github": {"type": "access_token", "access_token": "tok"}},
      "storage": {"flags": {"remote": "https://example.invalid/acme/flags.git", "branch": "main",
                  "poll_interval": "30s", "fetch_policy": "lenient", "credentials": "github",
                  "backend": {"type": "local", "path": "/tmp/x"}}},
      "environments": {"production": {"storage": "flags", "directory": "production", "default": true},
                       "staging": {"storage": "flags", "directory": "staging"}}
    }"#;
    let cfg: SyncConfig = serde_json::from_str(json).unwrap();
    assert_eq!(cfg.storage["flags"].fetch_policy, FetchPolicy::Lenient);
    assert_eq!(cfg.storage["flags"].backend.kind, BackendKind::Local);
    assert_eq!(cfg.history_limit, 100);
    cfg.validate().unwrap();
    assert!(!format!("{:?}", cfg.credentials).contains("tok"));
}

#[test]
fn validation_errors_use_flipt_wording() {
    let mut cfg = SyncConfig::default();
    cfg.storage.insert(
        "s".into(),
        StorageConfig {
            poll_interval: Duration::from_millis(500),
            ..StorageConfig::remote("file:///x")
        },
    );
    cfg.environments
        .insert("a".into(), EnvironmentConfig::new("s", ""));
    assert_eq!(
        cfg.validate().unwrap_err().to_string(),
        "storage \"s\": poll interval must be at least 1 second"
    );
    cfg.storage.get_mut("s").unwrap().poll_interval = Duration::from_secs(1);
    cfg.environments
        .insert("b".into(), EnvironmentConfig::new("s", "/"));
    assert_eq!(
        cfg.validate().unwrap_err().to_string(),
        "environments [a, b] share the same storage \"s\" and directory \"\""
    );
    cfg.environments.remove("b");
    cfg.storage.get_mut("s").unwrap().credentials = Some("nope".into());
    assert_eq!(
        cfg.validate().unwrap_err().to_string(),
        "credential \"nope\" not found"
    );
}

#[test]
fn timeouts_and_flag_loss_keys() {
    let json = r#"{
      "storage": {"flags": {"remote": "https://example.invalid/acme/flags.git",
                  "timeouts": {"connect": "2s", "total": "45s", "low_speed_limit": 10},
                  "max_flag_loss_percent": 50, "allow_flag_loss": false}},
      "environments": {"production": {"storage": "flags"}}
    }"#;
    let cfg: SyncConfig = serde_json::from_str(json).unwrap();
    let s = &cfg.storage["flags"];
    assert_eq!(s.timeouts.connect, Duration::from_secs(2));
    assert_eq!(s.timeouts.total, Duration::from_secs(45));
    assert_eq!(s.timeouts.low_speed_limit, 10);
    assert_eq!(s.timeouts.read, FetchTimeouts::default().read);
    assert_eq!(s.max_flag_loss_percent, 50);
    cfg.validate().unwrap();
    let mut bad = cfg.clone();
    bad.storage.get_mut("flags").unwrap().timeouts.total = Duration::ZERO;
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "storage \"flags\": timeouts.connect, read and total must be more than 0s"
    );
    let mut bad = cfg;
    bad.storage.get_mut("flags").unwrap().max_flag_loss_percent = 101;
    assert!(bad.validate().is_err());
    let unknown: Result<SyncConfig, _> = serde_json::from_str(
        r#"{"storage": {"s": {"remote": "x", "timeouts": {"conect": "1s"}}}}"#,
    );
    assert!(unknown.is_err());
}

#[test]
fn a_remote_gix_cannot_read_is_refused() {
    for bad in ["https://host:99999/x.git", ""] {
        let mut cfg = SyncConfig::default();
        cfg.storage.insert("s".into(), StorageConfig::remote(bad));
        cfg.environments
            .insert("e".into(), EnvironmentConfig::new("s", ""));
        let err = cfg.validate().expect_err(bad).to_string();
        assert!(
            err.starts_with("storage \"s\": invalid remote URL: expected"),
            "{bad}: {err}"
        );
    }
}
