//! Sync scenarios: real commits pushed with the git CLI, fetched over HTTPS, SSH and file://.

use std::time::Duration;

use switchyard_core::Limits;
use switchyard_sync::{
    BackendConfig, BasicAuth, CredentialsConfig, EnvironmentConfig, ErrorClass, FetchPolicy,
    Outcome, SshAuth, StartError, StorageConfig, SyncConfig, SyncHandle, SyncState,
};

use crate::harness::{Harness, PASSWORD, TOKEN, USER, wait_until};

const WAIT: Duration = Duration::from_secs(15);

fn flags(enabled: bool, rollout: u32) -> String {
    format!(
        r#"
version: "1.4"
namespace: default
flags:
  - key: newHomeUI
    name: New Home UI
    type: VARIANT_FLAG_TYPE
    enabled: {enabled}
    variants: [{{key: enabled}}, {{key: disabled}}]
    rules:
      - segment: premium-users
        distributions: [{{variant: enabled, rollout: {rollout}}}, {{variant: disabled, rollout: {rest}}}]
segments:
  - key: premium-users
    name: Premium users
    match_type: ALL_MATCH_TYPE
    constraints:
      - {{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: premium}}
"#,
        rest = 100 - rollout
    )
}

const INVALID: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: newHomeUI
    name: New Home UI
    type: VARIANT_FLAG_TYPE
    enabled: true
    rules:
      - segment: no-such-segment
"#;

fn storage(remote: String) -> StorageConfig {
    StorageConfig {
        poll_interval: Duration::from_secs(1),
        ..StorageConfig::remote(remote)
    }
}

fn one_env(storage: StorageConfig, creds: Option<CredentialsConfig>) -> SyncConfig {
    let mut cfg = SyncConfig::default();
    let mut storage = storage;
    if let Some(c) = creds {
        cfg.credentials.insert("creds".into(), c);
        storage.credentials = Some("creds".into());
    }
    cfg.storage.insert("default".into(), storage);
    cfg.environments
        .insert("default".into(), EnvironmentConfig::new("default", ""));
    cfg
}

fn https_storage(h: &Harness, url: String) -> StorageConfig {
    StorageConfig {
        ca_cert_path: Some(h.ca_path()),
        ..storage(url)
    }
}

fn basic(user: &str, password: &str) -> CredentialsConfig {
    CredentialsConfig::Basic {
        basic: BasicAuth {
            username: user.into(),
            password: password.into(),
        },
    }
}

fn enabled(sync: &SyncHandle, env: &str) -> Option<bool> {
    let e = sync.environment(env)?;
    let flag = e.namespace("default")?.flag("newHomeUI")?.clone();
    Some(flag.enabled)
}

fn rollout(sync: &SyncHandle, env: &str) -> Option<f32> {
    let e = sync.environment(env)?;
    let flag = e.namespace("default")?.flag("newHomeUI")?.clone();
    flag.rules.first()?.distributions.first().map(|d| d.rollout)
}

fn serving(sync: &SyncHandle, env: &str) -> Option<String> {
    sync.status(env)?.serving_commit.map(|c| c.sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_basic_auth_push_reject_and_recover() {
    let mut h = Harness::new(&[("features.yaml", &flags(false, 25))]);
    h.start_https();
    let cfg = one_env(
        https_storage(&h, h.https_url()),
        Some(basic(USER, PASSWORD)),
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    let mut events = sync.subscribe();

    // first sync
    assert_eq!(enabled(&sync, "default"), Some(false));
    let st = settled(&sync).await;
    assert_eq!(st.sync_status, SyncState::Success);
    assert_eq!(st.repository, h.https_url());
    assert_eq!(st.poll_interval, "1s");
    assert_eq!(
        st.serving_commit.as_ref().map(|c| c.sha.clone()),
        Some(h.head())
    );
    assert_eq!(
        st.serving_commit
            .as_ref()
            .map(|c| c.message.clone())
            .as_deref(),
        Some("initial flags")
    );
    assert!(
        st.serving_commit
            .as_ref()
            .is_some_and(|c| c.author.starts_with("Tess Ter"))
    );

    // a pushed change is served within one poll, with an event and a diff
    let c2 = h.commit(&[("features.yaml", &flags(true, 50))], "roll out to half");
    wait_until(WAIT, "change served", || {
        serving(&sync, "default").as_deref() == Some(c2.as_str())
    })
    .await;
    assert_eq!(enabled(&sync, "default"), Some(true));
    assert_eq!(rollout(&sync, "default"), Some(50.0));
    let ev = tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("event")
        .expect("event");
    assert_eq!(ev.environment, "default");
    assert_ne!(ev.old_digest, ev.new_digest);
    assert_eq!(ev.commit.map(|c| c.sha), Some(c2.clone()));
    let lines = ev.diff.lines();
    assert!(
        lines.contains(&"flag newHomeUI enabled: false -> true".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(
            &"flag newHomeUI rule 1 (premium-users): variant enabled rollout 25% -> 50%"
                .to_string()
        ),
        "{lines:?}"
    );

    // an invalid commit is rejected; the previous snapshot still answers
    let bad = h.commit(&[("features.yaml", INVALID)], "break it");
    wait_until(WAIT, "rejection in status", || {
        sync.status("default")
            .is_some_and(|s| !s.validation_errors.is_empty())
    })
    .await;
    let st = settled(&sync).await;
    assert_eq!(st.sync_status, SyncState::Error);
    assert_eq!(st.error_class, Some(ErrorClass::Validation));
    assert_eq!(
        st.serving_commit.as_ref().map(|c| c.sha.clone()),
        Some(c2.clone())
    );
    assert_eq!(
        st.remote_commit.as_ref().map(|c| c.sha.clone()),
        Some(bad.clone())
    );
    let v = &st.validation_errors[0];
    assert_eq!(v.file, "features.yaml");
    assert!(v.line > 1, "{v:?}");
    assert!(
        st.error_message
            .as_deref()
            .is_some_and(|m| m.contains("features.yaml:")),
        "{:?}",
        st.error_message
    );
    assert_eq!(enabled(&sync, "default"), Some(true));
    assert_eq!(rollout(&sync, "default"), Some(50.0));
    // the rejected commit is not parsed again on later polls
    let hist_len = sync.history("default").unwrap().len();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let hist = sync.history("default").unwrap();
    assert!(
        hist.iter()
            .filter(|a| matches!(a.outcome, Outcome::Rejected { .. }))
            .count()
            == 1,
        "{hist:?}"
    );
    assert!(hist.len() <= hist_len + 1);
    assert_eq!(settled(&sync).await.sync_status, SyncState::Error);

    // a fix recovers
    let fix = h.commit(&[("features.yaml", &flags(true, 75))], "fix it");
    wait_until(WAIT, "fix served", || {
        serving(&sync, "default").as_deref() == Some(fix.as_str())
    })
    .await;
    let st = settled(&sync).await;
    assert_eq!(st.sync_status, SyncState::Success);
    assert!(st.validation_errors.is_empty());
    assert_eq!(st.consecutive_failures, 0);
    assert_eq!(rollout(&sync, "default"), Some(75.0));
    let served = st.serving_commit.as_ref().map(|c| c.sha.as_str());
    assert_eq!(served, Some(fix.as_str()));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_an_authentication_error_and_loses_nothing() {
    let mut h = Harness::new(&[("features.yaml", &flags(true, 25))]);
    h.start_https();
    // strict: startup fails with the class in the message
    let cfg = one_env(https_storage(&h, h.https_url()), Some(basic(USER, "wrong")));
    let err = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect_err("must fail");
    let StartError::InitialFetch { error, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(error.class(), ErrorClass::Authentication, "{err}");
    assert!(!err.to_string().contains("wrong"), "password leaked: {err}");

    // a served snapshot survives a password change on the server side: use lenient + local
    // backend, sync with the right password, then restart with the wrong one
    let local = h.path("cache.git");
    let mut s = https_storage(&h, h.https_url());
    s.backend = BackendConfig::local(&local);
    s.fetch_policy = FetchPolicy::Lenient;
    let sync = SyncHandle::start_and_wait(
        one_env(s.clone(), Some(basic(USER, PASSWORD))),
        Limits::default(),
    )
    .await
    .expect("start");
    assert_eq!(enabled(&sync, "default"), Some(true));
    assert!(local.join("shallow").exists(), "the first fetch is shallow");
    sync.shutdown().await;
    let sync =
        SyncHandle::start_and_wait(one_env(s, Some(basic(USER, "wrong"))), Limits::default())
            .await
            .expect("lenient start");
    assert_eq!(enabled(&sync, "default"), Some(true));
    let st = settled(&sync).await;
    assert_eq!(st.error_class, Some(ErrorClass::Authentication));
    assert_eq!(st.sync_status, SyncState::Error);
    assert!(st.consecutive_failures >= 1);
    assert!(!st.error_message.unwrap_or_default().contains("wrong"));
    sync.shutdown().await;

    // lenient with the memory backend and nothing cached: starts empty, the error in the status
    let mut memory = https_storage(&h, h.https_url());
    memory.fetch_policy = FetchPolicy::Lenient;
    let sync = SyncHandle::start_and_wait(
        one_env(memory, Some(basic(USER, "wrong"))),
        Limits::default(),
    )
    .await
    .expect("lenient memory start");
    assert_eq!(sync.environment("default").map(|e| e.flag_count()), Some(0));
    let st = settled(&sync).await;
    assert_eq!(st.error_class, Some(ErrorClass::Authentication));
    assert!(st.serving_commit.is_none());
    let config_text = std::fs::read_to_string(local.join("config")).unwrap_or_default();
    assert!(
        !config_text.contains(PASSWORD) && !config_text.contains("alice"),
        "credentials written to .git/config"
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_going_away_is_a_network_error_and_serving_continues() {
    let mut h = Harness::new(&[("features.yaml", &flags(true, 25))]);
    h.start_https();
    let local = h.path("cache.git");
    let mut s = https_storage(&h, h.https_url());
    s.backend = BackendConfig::local(&local);
    let cfg = one_env(s.clone(), Some(basic(USER, PASSWORD)));
    let sync = SyncHandle::start_and_wait(cfg.clone(), Limits::default())
        .await
        .expect("start");
    let first = h.head();
    h.stop_https();
    wait_until(WAIT, "network error", || {
        sync.status("default")
            .is_some_and(|s| s.error_class == Some(ErrorClass::Network))
    })
    .await;
    assert_eq!(enabled(&sync, "default"), Some(true));
    let st = settled(&sync).await;
    assert_eq!(st.serving_commit.map(|c| c.sha), Some(first.clone()));
    assert!(
        st.error_message
            .as_deref()
            .is_some_and(|m| m.starts_with("fetching https://127.0.0.1:")),
        "{:?}",
        st.error_message
    );
    sync.shutdown().await;

    // restart while the remote is down: strict refuses, lenient serves the cached commit at once
    let err = SyncHandle::start_and_wait(cfg.clone(), Limits::default())
        .await
        .expect_err("strict with remote down");
    assert!(
        matches!(&err, StartError::InitialFetch { error, .. } if error.class() == ErrorClass::Network),
        "{err}"
    );
    let mut lenient = cfg;
    lenient.storage.get_mut("default").unwrap().fetch_policy = FetchPolicy::Lenient;
    let sync = SyncHandle::start_and_wait(lenient, Limits::default())
        .await
        .expect("lenient");
    assert_eq!(enabled(&sync, "default"), Some(true));
    assert_eq!(serving(&sync, "default"), Some(first));
    let st = settled(&sync).await;
    assert_eq!(st.error_class, Some(ErrorClass::Network));
    // issue 10 item 6: the local backend's last good commit is a valid snapshot (ready)
    assert!(st.serving_valid_snapshot, "{st:?}");
    assert!(sync.not_ready().is_empty(), "{:?}", sync.not_ready());
    assert!(
        st.degraded_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("serving the last good commit")),
        "{st:?}"
    );

    // the server comes back: a new commit is picked up
    h.start_https();
    let c2 = h.commit(&[("features.yaml", &flags(false, 25))], "off");
    wait_until(WAIT, "recovered", || {
        serving(&sync, "default").as_deref() == Some(c2.as_str())
    })
    .await;
    assert_eq!(enabled(&sync, "default"), Some(false));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_and_bearer_header() {
    let mut h = Harness::new(&[("features.yaml", &flags(true, 25))]);
    h.start_https();
    let token = CredentialsConfig::AccessToken {
        access_token: TOKEN.into(),
    };
    let sync = SyncHandle::start_and_wait(
        one_env(https_storage(&h, h.https_url()), Some(token)),
        Limits::default(),
    )
    .await
    .expect("x-token-auth");
    assert_eq!(enabled(&sync, "default"), Some(true));
    sync.shutdown().await;
    let bearer = CredentialsConfig::Bearer {
        bearer_token: TOKEN.into(),
    };
    let sync = SyncHandle::start_and_wait(
        one_env(https_storage(&h, h.bearer_url()), Some(bearer)),
        Limits::default(),
    )
    .await
    .expect("bearer");
    assert_eq!(enabled(&sync, "default"), Some(true));
    sync.shutdown().await;
    let wrong = CredentialsConfig::Bearer {
        bearer_token: "nope".into(),
    };
    let err = SyncHandle::start_and_wait(
        one_env(https_storage(&h, h.bearer_url()), Some(wrong)),
        Limits::default(),
    )
    .await
    .expect_err("403");
    assert!(
        matches!(&err, StartError::InitialFetch { error, .. } if error.class() == ErrorClass::Authentication),
        "{err}"
    );
    // without the test CA the server is not trusted
    let err = SyncHandle::start_and_wait(
        one_env(storage(h.https_url()), Some(basic(USER, PASSWORD))),
        Limits::default(),
    )
    .await
    .expect_err("untrusted");
    assert!(matches!(err, StartError::InitialFetch { .. }), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // credentials written in the URL are used and never shown
    let with_userinfo = h
        .https_url()
        .replace("https://", &format!("https://{USER}:{PASSWORD}@"));
    let sync = SyncHandle::start_and_wait(
        one_env(https_storage(&h, with_userinfo), None),
        Limits::default(),
    )
    .await
    .expect("userinfo");
    assert_eq!(enabled(&sync, "default"), Some(true));
    assert_eq!(settled(&sync).await.repository, h.https_url());
    sync.shutdown().await;
    let wrong_userinfo = h
        .https_url()
        .replace("https://", &format!("https://{USER}:hunter2@"));
    let err = SyncHandle::start_and_wait(
        one_env(https_storage(&h, wrong_userinfo), None),
        Limits::default(),
    )
    .await
    .expect_err("wrong userinfo");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // insecure_skip_tls accepts it
    let s = StorageConfig {
        insecure_skip_tls: true,
        ..storage(h.https_url())
    };
    let sync =
        SyncHandle::start_and_wait(one_env(s, Some(basic(USER, PASSWORD))), Limits::default())
            .await
            .expect("insecure");
    assert_eq!(enabled(&sync, "default"), Some(true));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_key_auth_with_known_hosts() {
    let mut h = Harness::new(&[("features.yaml", &flags(true, 25))]);
    h.start_ssh();
    let key_file = CredentialsConfig::Ssh {
        ssh: SshAuth {
            user: "git".into(),
            password: None,
            private_key_path: Some(h.client_key()),
            private_key_bytes: None,
            known_hosts_path: Some(h.known_hosts()),
            insecure_ignore_host_key: false,
        },
    };
    let sync = SyncHandle::start_and_wait(
        one_env(storage(h.ssh_url()), Some(key_file)),
        Limits::default(),
    )
    .await
    .expect("ssh start");
    assert_eq!(enabled(&sync, "default"), Some(true));
    let c2 = h.commit(&[("features.yaml", &flags(false, 25))], "off");
    wait_until(WAIT, "ssh change", || {
        serving(&sync, "default").as_deref() == Some(c2.as_str())
    })
    .await;
    sync.shutdown().await;

    // inline key bytes; an unknown host key is refused; insecure_ignore_host_key skips the check
    let key = std::fs::read_to_string(h.client_key()).unwrap();
    let inline = |known: Option<std::path::PathBuf>, ignore: bool| CredentialsConfig::Ssh {
        ssh: SshAuth {
            user: "git".into(),
            password: None,
            private_key_path: None,
            private_key_bytes: Some(key.clone()),
            known_hosts_path: known,
            insecure_ignore_host_key: ignore,
        },
    };
    let sync = SyncHandle::start_and_wait(
        one_env(
            storage(h.ssh_url()),
            Some(inline(Some(h.known_hosts()), false)),
        ),
        Limits::default(),
    )
    .await
    .expect("inline key");
    assert_eq!(enabled(&sync, "default"), Some(false));
    sync.shutdown().await;
    let empty_kh = h.path("empty_known_hosts");
    std::fs::write(&empty_kh, "").unwrap();
    let err = SyncHandle::start_and_wait(
        one_env(
            storage(h.ssh_url()),
            Some(inline(Some(empty_kh.clone()), false)),
        ),
        Limits::default(),
    )
    .await
    .expect_err("unknown host");
    assert!(
        matches!(&err, StartError::InitialFetch { error, .. } if error.class() == ErrorClass::Authentication),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("host key"), "{err}");
    let sync = SyncHandle::start_and_wait(
        one_env(storage(h.ssh_url()), Some(inline(Some(empty_kh), true))),
        Limits::default(),
    )
    .await
    .expect("insecure host key");
    assert_eq!(enabled(&sync, "default"), Some(false));
    sync.shutdown().await;

    // an encrypted key with its passphrase works; a wrong passphrase is an authentication error
    let encrypted = h.add_ssh_key("encrypted_ed25519", "open sesame");
    let with_pass = |pass: &str| CredentialsConfig::Ssh {
        ssh: SshAuth {
            user: "git".into(),
            password: Some(pass.into()),
            private_key_path: Some(encrypted.clone()),
            private_key_bytes: None,
            known_hosts_path: Some(h.known_hosts()),
            insecure_ignore_host_key: false,
        },
    };
    let sync = SyncHandle::start_and_wait(
        one_env(storage(h.ssh_url()), Some(with_pass("open sesame"))),
        Limits::default(),
    )
    .await
    .expect("passphrase");
    assert_eq!(enabled(&sync, "default"), Some(false));
    sync.shutdown().await;
    let err = SyncHandle::start_and_wait(
        one_env(storage(h.ssh_url()), Some(with_pass("wrong pass"))),
        Limits::default(),
    )
    .await
    .expect_err("wrong passphrase");
    assert!(
        matches!(&err, StartError::InitialFetch { error, .. } if error.class() == ErrorClass::Authentication),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong pass"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_push_and_deleted_branch() {
    let h = Harness::new(&[("features.yaml", &flags(true, 25))]);
    h.commit(&[("features.yaml", &flags(true, 30))], "second");
    let sync = SyncHandle::start_and_wait(one_env(storage(h.file_url()), None), Limits::default())
        .await
        .expect("start");
    assert_eq!(rollout(&sync, "default"), Some(30.0));
    // rewrite history: reset to the first commit and force-push a different one
    h.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let rewritten = h.commit(&[("features.yaml", &flags(false, 40))], "rewritten");
    wait_until(WAIT, "force-push served", || {
        serving(&sync, "default").as_deref() == Some(rewritten.as_str())
    })
    .await;
    assert_eq!(rollout(&sync, "default"), Some(40.0));
    // delete the branch on the remote
    std::process::Command::new("git")
        .arg("-C")
        .arg(h.bare())
        .args(["update-ref", "-d", "refs/heads/main"])
        .status()
        .unwrap();
    wait_until(WAIT, "not found", || {
        sync.status("default")
            .is_some_and(|s| s.error_class == Some(ErrorClass::NotFound))
    })
    .await;
    assert_eq!(rollout(&sync, "default"), Some(40.0));
    assert!(
        sync.status("default")
            .unwrap()
            .error_message
            .unwrap_or_default()
            .contains("branch \"main\" not found")
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_and_commit_pins() {
    let h = Harness::new(&[("features.yaml", &flags(true, 10))]);
    let first = h.head();
    h.git(&["tag", "-a", "v1", "-m", "v1"]);
    h.git(&["push", "-q", "origin", "v1"]);
    h.commit(&[("features.yaml", &flags(true, 20))], "second");
    let tag = StorageConfig {
        tag: Some("v1".into()),
        ..storage(h.file_url())
    };
    let sync = SyncHandle::start_and_wait(one_env(tag, None), Limits::default())
        .await
        .expect("tag");
    assert_eq!(rollout(&sync, "default"), Some(10.0));
    assert_eq!(settled(&sync).await.branch, "tag v1");
    assert_eq!(serving(&sync, "default"), Some(first.clone()));
    sync.shutdown().await;
    let pin = StorageConfig {
        commit: Some(first.clone()),
        ..storage(h.file_url())
    };
    let sync = SyncHandle::start_and_wait(one_env(pin, None), Limits::default())
        .await
        .expect("commit pin");
    assert_eq!(rollout(&sync, "default"), Some(10.0));
    h.commit(&[("features.yaml", &flags(true, 30))], "third");
    assert!(sync.sync_now("default").await);
    assert_eq!(
        rollout(&sync, "default"),
        Some(10.0),
        "a pinned commit does not move"
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subdirectories_and_two_branches() {
    let h = Harness::new(&[
        ("production/features.yaml", &flags(true, 10)),
        ("staging/features.yaml", &flags(false, 90)),
    ]);
    h.git(&["checkout", "-q", "-b", "next"]);
    h.commit(
        &[("production/features.yaml", &flags(true, 55))],
        "next branch",
    );
    h.git(&["checkout", "-q", "main"]);
    let mut cfg = SyncConfig::default();
    cfg.storage.insert("flags".into(), storage(h.file_url()));
    cfg.storage.insert(
        "next".into(),
        StorageConfig {
            branch: "next".into(),
            ..storage(h.file_url())
        },
    );
    cfg.environments.insert(
        "production".into(),
        EnvironmentConfig::new("flags", "production"),
    );
    cfg.environments
        .insert("staging".into(), EnvironmentConfig::new("flags", "staging"));
    cfg.environments.insert(
        "preview".into(),
        EnvironmentConfig::new("next", "production"),
    );
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    assert_eq!(rollout(&sync, "production"), Some(10.0));
    assert_eq!(rollout(&sync, "staging"), Some(90.0));
    assert_eq!(enabled(&sync, "staging"), Some(false));
    assert_eq!(rollout(&sync, "preview"), Some(55.0));
    assert_eq!(sync.snapshot().environments().count(), 3);
    let statuses = sync.statuses();
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses["preview"].branch, "next");
    assert_eq!(statuses["staging"].directory, "staging");
    // a change to one directory changes that environment only
    h.commit(&[("staging/features.yaml", &flags(true, 90))], "staging on");
    wait_until(WAIT, "staging change", || {
        enabled(&sync, "staging") == Some(true)
    })
    .await;
    assert_eq!(rollout(&sync, "production"), Some(10.0));
    let hist = sync.history("production").unwrap();
    assert!(
        hist.last()
            .is_some_and(|a| a.outcome == Outcome::Applied && a.diff.is_empty()),
        "{hist:?}"
    );
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_alias_bomb_and_symlink_are_refused() {
    let h = Harness::new(&[("features.yaml", &flags(true, 10))]);
    let limits = Limits {
        max_file_bytes: 16 * 1024,
        ..Limits::default()
    };
    let sync = SyncHandle::start_and_wait(one_env(storage(h.file_url()), None), limits)
        .await
        .expect("start");
    let good = h.head();

    let big = format!("{}\n# {}\n", flags(true, 10), "x".repeat(20 * 1024));
    h.commit(&[("big/features.yaml", &big)], "oversized");
    wait_until(WAIT, "oversize refused", || {
        sync.status("default")
            .is_some_and(|s| !s.validation_errors.is_empty())
    })
    .await;
    let v = settled(&sync).await.validation_errors;
    assert_eq!(v[0].file, "big/features.yaml");
    assert_eq!(
        v[0].message,
        format!(
            "file is {} bytes, larger than the limit of 16384 bytes; not read",
            big.trim_start().len() // what `commit` writes
        ),
        "{v:?}"
    );
    assert_eq!(serving(&sync, "default"), Some(good.clone()));

    let mut bomb =
        String::from("version: \"1.4\"\nnamespace: default\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        bomb.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    bomb.push_str("flags: []\n");
    h.commit(
        &[("big/features.yaml", ""), ("bomb/features.yaml", &bomb)],
        "alias bomb",
    );
    wait_until(WAIT, "bomb refused", || {
        sync.status("default").is_some_and(|s| {
            s.validation_errors
                .iter()
                .any(|v| v.file == "bomb/features.yaml")
        })
    })
    .await;
    assert_eq!(serving(&sync, "default"), Some(good.clone()));

    std::fs::remove_dir_all(h.work().join("bomb")).unwrap();
    std::os::unix::fs::symlink("../../../../etc/passwd", h.work().join("features.yaml.tmp"))
        .unwrap();
    std::fs::create_dir_all(h.work().join("evil")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../etc/passwd",
        h.work().join("evil/features.yaml"),
    )
    .unwrap();
    std::fs::remove_file(h.work().join("features.yaml.tmp")).unwrap();
    h.commit(&[], "symlink");
    wait_until(WAIT, "symlink refused", || {
        sync.status("default").is_some_and(|s| {
            s.validation_errors
                .iter()
                .any(|v| v.file == "evil/features.yaml")
        })
    })
    .await;
    let v = settled(&sync).await.validation_errors;
    assert!(
        v[0].message.contains("points outside the repository"),
        "{v:?}"
    );
    assert_eq!(serving(&sync, "default"), Some(good));
    assert_eq!(rollout(&sync, "default"), Some(10.0));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_trigger_syncs_without_waiting() {
    let h = Harness::new(&[("features.yaml", &flags(true, 10))]);
    let slow = StorageConfig {
        poll_interval: Duration::from_secs(3600),
        ..StorageConfig::remote(h.file_url())
    };
    let sync = SyncHandle::start_and_wait(one_env(slow, None), Limits::default())
        .await
        .expect("start");
    let c2 = h.commit(&[("features.yaml", &flags(true, 60))], "now");
    let started = std::time::Instant::now();
    assert!(sync.sync_now("default").await);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(serving(&sync, "default"), Some(c2));
    assert_eq!(rollout(&sync, "default"), Some(60.0));
    // triggers while a sync runs are coalesced, not queued one by one
    for _ in 0..5 {
        assert!(sync.trigger("default"));
    }
    assert!(sync.sync_now("default").await);
    assert!(!sync.trigger("nope"));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_directory_is_reread_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("features.yaml"), flags(true, 10)).unwrap();
    let s = StorageConfig {
        poll_interval: Duration::from_secs(1),
        ..StorageConfig::local_directory(dir.path())
    };
    let sync = SyncHandle::start_and_wait(one_env(s, None), Limits::default())
        .await
        .expect("start");
    assert_eq!(rollout(&sync, "default"), Some(10.0));
    assert!(!settled(&sync).await.enabled);
    std::fs::write(dir.path().join("features.yaml"), flags(true, 35)).unwrap();
    wait_until(WAIT, "directory change", || {
        rollout(&sync, "default") == Some(35.0)
    })
    .await;
    sync.shutdown().await;
}

/// The status of `default` once no sync is running (a poll may be in flight at any moment).
async fn settled(sync: &SyncHandle) -> switchyard_sync::SyncStatus {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let s = sync.status("default").expect("status");
        if s.attempt_started_at.is_none() {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a sync did not finish"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Log lines written by every test of this binary (the subscriber is process-wide).
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<std::sync::Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let logs = LOGS.get_or_init(|| std::sync::Mutex::new(Vec::new()));
    INSTALL.call_once(|| {
        struct Writer;
        impl std::io::Write for Writer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                captured_logs()
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(|| Writer)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    logs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_name_the_outcome_and_the_error_class() {
    let logs = captured_logs();
    let h = Harness::new(&[("features.yaml", &flags(true, 10))]);
    let mut cfg = SyncConfig::default();
    cfg.storage.insert("s".into(), storage(h.file_url()));
    cfg.environments
        .insert("logged".into(), EnvironmentConfig::new("s", ""));
    let sync = SyncHandle::start_and_wait(cfg, Limits::default())
        .await
        .expect("start");
    h.commit(&[("features.yaml", INVALID)], "break");
    assert!(sync.sync_now("logged").await);
    let text =
        || String::from_utf8_lossy(&logs.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    let out = text();
    let ok = out.lines().find(|l| {
        l.contains("Git sync completed successfully") && l.contains("environment=logged")
    });
    let ok = ok.unwrap_or_else(|| panic!("no success line in:\n{out}"));
    assert!(
        ok.contains("flags=1") && ok.contains("commit=") && ok.contains("duration_ms="),
        "{ok}"
    );
    let bad = out
        .lines()
        .find(|l| l.contains("Git sync error: validation") && l.contains("environment=logged"));
    let bad = bad.unwrap_or_else(|| panic!("no validation error line in:\n{out}"));
    assert!(bad.contains("features.yaml:"), "{bad}");
    // issue 9 item 8: the first error is said once
    assert_eq!(bad.matches("features.yaml:").count(), 1, "{bad}");
    assert!(!bad.contains("first errors"), "{bad}");
    // a missing branch names its class
    std::process::Command::new("git")
        .arg("-C")
        .arg(h.bare())
        .args(["update-ref", "-d", "refs/heads/main"])
        .status()
        .unwrap();
    assert!(sync.sync_now("logged").await);
    let out = text();
    let missing = out
        .lines()
        .find(|l| l.contains("Git sync error: not_found") && l.contains("environment=logged"));
    let missing = missing.unwrap_or_else(|| panic!("no not_found line in:\n{out}"));
    // issue 9 item 12: the class is named once, not `not_found: not_found error fetching`
    assert!(!missing.contains("not_found: not_found"), "{missing}");
    assert!(missing.contains("not_found: fetching file://"), "{missing}");
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packs_are_merged_and_the_cache_survives() {
    let h = Harness::new(&[("features.yaml", &flags(true, 0))]);
    let local = h.path("cache.git");
    let s = StorageConfig {
        backend: BackendConfig::local(&local),
        poll_interval: Duration::from_secs(3600),
        ..StorageConfig::remote(h.file_url())
    };
    let sync = SyncHandle::start_and_wait(one_env(s.clone(), None), Limits::default())
        .await
        .expect("start");
    let packs = || {
        std::fs::read_dir(local.join("objects/pack"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
            .count()
    };
    // every fetch leaves a pack (gix has no gc); past the limit they are merged
    // more fetches than gix's default 32 pack slots
    let commits = 40;
    let mut most = 0;
    for i in 1..=commits {
        h.commit(
            &[("features.yaml", &flags(true, i))],
            &format!("commit {i}"),
        );
        assert!(sync.sync_now("default").await);
        most = most.max(packs());
    }
    assert!(
        most > switchyard_sync::git::PACK_LIMIT / 2,
        "fetches did not add packs: {most}"
    );
    assert!(
        packs() <= switchyard_sync::git::PACK_LIMIT,
        "packs not merged: {}",
        packs()
    );
    let last = h.head();
    assert_eq!(serving(&sync, "default"), Some(last.clone()));
    sync.shutdown().await;
    // the merged repository still serves the cached commit on restart
    std::fs::rename(h.bare(), h.path("gone.git")).unwrap();
    let lenient = StorageConfig {
        fetch_policy: FetchPolicy::Lenient,
        ..s
    };
    let sync = SyncHandle::start_and_wait(one_env(lenient, None), Limits::default())
        .await
        .expect("restart");
    assert_eq!(serving(&sync, "default"), Some(last));
    assert_eq!(rollout(&sync, "default"), Some(40.0));
    assert_eq!(settled(&sync).await.error_class, Some(ErrorClass::NotFound));
    sync.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_commit_stays_reported_across_fetch_errors() {
    let h = Harness::new(&[("features.yaml", &flags(true, 10))]);
    let sync = SyncHandle::start_and_wait(
        one_env(
            StorageConfig {
                poll_interval: Duration::from_secs(3600),
                ..StorageConfig::remote(h.file_url())
            },
            None,
        ),
        Limits::default(),
    )
    .await
    .expect("start");
    let good = h.head();
    let bad = h.commit(&[("features.yaml", INVALID)], "break");
    assert!(sync.sync_now("default").await);
    let st = settled(&sync).await;
    assert_eq!(st.error_class, Some(ErrorClass::Validation));
    // the remote disappears for a while
    std::fs::rename(h.bare(), h.path("away.git")).unwrap();
    assert!(sync.sync_now("default").await);
    let st = settled(&sync).await;
    assert_eq!(st.error_class, Some(ErrorClass::NotFound));
    assert_eq!(st.validation_errors.len(), 1, "{st:?}");
    std::fs::rename(h.path("away.git"), h.bare()).unwrap();
    assert!(sync.sync_now("default").await);
    let st = settled(&sync).await;
    assert_eq!(st.sync_status, SyncState::Error);
    assert_eq!(st.error_class, Some(ErrorClass::Validation));
    let msg = st.error_message.unwrap_or_default();
    assert!(
        msg.contains(&format!("commit {bad} rejected")) && msg.contains("features.yaml:"),
        "{msg}"
    );
    assert_eq!(st.serving_commit.map(|c| c.sha), Some(good));
    // the history shows the rejection once, the fetch failure, then unchanged polls
    let outcomes: Vec<&str> = sync
        .history("default")
        .unwrap()
        .iter()
        .map(|a| match a.outcome {
            Outcome::Unchanged => "unchanged",
            Outcome::Applied => "applied",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Failed { .. } => "failed",
            Outcome::Held { .. } => "held",
            Outcome::BreakGlass { .. } => "break_glass",
        })
        .collect();
    assert_eq!(
        outcomes,
        ["applied", "rejected", "failed", "unchanged"],
        "{outcomes:?}"
    );
    sync.shutdown().await;
}
