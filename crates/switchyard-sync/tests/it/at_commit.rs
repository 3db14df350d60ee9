//! Compiling an environment at another commit from the local objects: `resolve`, `compile_at`
//! on a work tree's repository, and `SyncHandle::compile_recorded` bounded by the history.

use std::time::Duration;

use switchyard_core::{Discovery, ExtraChecks, Limits};
use switchyard_sync::at_commit::{AtError, ReadRules, compile_at, resolve};
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig, SyncHandle};

use crate::harness::Harness;

fn flags(rollout: u32) -> String {
    format!(
        "version: \"1.4\"\nflags:\n  - key: darkMode\n    name: Dark mode\n    type: BOOLEAN_FLAG_TYPE\n    enabled: false\n    rollouts:\n      - threshold: {{percentage: {rollout}, value: true}}\n"
    )
}

fn percentage(env: &switchyard_core::Environment) -> f32 {
    let f = env.find_flag("default", "darkMode").expect("flag");
    match f.rollouts[0].kind {
        switchyard_core::RolloutKind::Threshold { percentage, .. } => percentage,
        _ => panic!("a threshold rollout"),
    }
}

fn rules<'a>(limits: &'a Limits) -> ReadRules<'a> {
    ReadRules {
        key: "default",
        directory: "",
        discovery: Discovery::FliptV1,
        limits,
        extra_checks: ExtraChecks::Error,
    }
}

#[test]
fn revisions_resolve_to_commits_and_compile_from_the_objects() {
    let h = Harness::new(&[("features.yaml", &flags(30))]);
    let first = h.head();
    h.git(&["tag", "-a", "v1", "-m", "v1"]);
    let second = h.commit(&[("features.yaml", &flags(50))], "fifty");
    h.commit(&[("features.yaml", "flags: [")], "broken");
    let repo = gix::open(h.work()).expect("open the work tree's repository");
    let limits = Limits::default();
    let id = |spec: &str| resolve(&repo, spec).map(|id| id.to_string());
    assert_eq!(id(&first).unwrap(), first);
    assert_eq!(id(&first[..8]).unwrap(), first);
    assert_eq!(
        id("v1").unwrap(),
        first,
        "an annotated tag peels to its commit"
    );
    assert!(id("HEAD~0").is_err(), "no revision syntax beyond names");
    assert_eq!(id("origin/main").unwrap(), h.head());
    assert_eq!(id("main").unwrap(), h.head());
    let missing = id("no-such-branch").unwrap_err().to_string();
    assert!(
        missing.contains("\"no-such-branch\" is not a commit"),
        "{missing}"
    );
    let at = |spec: &str| compile_at(&repo, resolve(&repo, spec).unwrap(), rules(&limits));
    assert_eq!(percentage(&at(&first).unwrap()), 30.0);
    let env = at(&second).unwrap();
    assert_eq!(percentage(&env), 50.0);
    assert_eq!(env.revision.as_deref(), Some(second.as_str()));
    match at("main") {
        Err(AtError::Invalid { first, .. }) => assert!(first.contains("features.yaml"), "{first}"),
        other => panic!("the broken head is invalid: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_commits_compile_and_others_are_refused() {
    let h = Harness::new(&[("features.yaml", &flags(30))]);
    let first = h.head();
    let mut cfg = SyncConfig::default();
    cfg.storage.insert(
        "default".into(),
        StorageConfig {
            poll_interval: Duration::from_secs(3600),
            ..StorageConfig::remote(h.file_url())
        },
    );
    cfg.environments
        .insert("default".into(), EnvironmentConfig::new("default", ""));
    let sync = std::sync::Arc::new(
        SyncHandle::start_and_wait(cfg, Limits::default())
            .await
            .expect("start"),
    );
    let second = h.commit(&[("features.yaml", &flags(50))], "fifty");
    assert!(sync.sync_now("default").await);
    let unseen = h.commit(&[("features.yaml", &flags(70))], "not synced yet");
    let s = sync.clone();
    let (a, b, short, later, unknown) = tokio::task::spawn_blocking(move || {
        (
            s.compile_recorded("default", &first[..7]),
            s.compile_recorded("default", &second),
            s.compile_recorded("default", &second[..6]),
            s.compile_recorded("default", &unseen),
            s.compile_recorded("nope", &second),
        )
    })
    .await
    .unwrap();
    assert_eq!(percentage(&a.unwrap()), 30.0);
    assert_eq!(percentage(&b.unwrap()), 50.0);
    assert!(
        matches!(short, Err(AtError::NotInHistory { .. })),
        "{short:?}"
    );
    let later = later.unwrap_err().to_string();
    assert!(
        later.contains("is not in the history of environment \"default\""),
        "{later}"
    );
    assert!(matches!(unknown, Err(AtError::UnknownEnvironment(_))));
}
