//! Heap allocations per request through the whole router (`app(state).oneshot`), counted by
//! divan's counting allocator: an OFREP single-flag evaluation, the same through Flipt's
//! `/evaluate/v1/variant`, `/health` as the floor of the stack itself, and the core evaluation
//! alone. Run with `cargo bench -p switchyard-server --bench allocations`; read the `alloc`
//! rows (count per iteration).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use divan::{AllocProfiler, Bencher};
use http_body_util::BodyExt;
use switchyard_core::Limits;
use switchyard_server::{AppState, ServerConfig, app};
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig, SyncHandle};
use tower::ServiceExt;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

const FLAGS: &str = r#"version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - {key: control, default: true}
      - {key: treatment, attachment: {color: blue}}
    rules:
      - segment: pro-eu
        distributions: [{variant: control, rollout: 50}, {variant: treatment, rollout: 50}]
segments:
  - key: pro-eu
    name: Pro EU
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
      - {type: STRING_COMPARISON_TYPE, property: region, operator: prefix, value: eu-}
"#;

/// A served Git repository (a `file://` remote), the sync of it, the router state and a runtime to drive requests.
struct Served {
    _dir: tempfile::TempDir,
    state: AppState,
    rt: tokio::runtime::Runtime,
}

fn served() -> Served {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("features.yaml"), FLAGS).expect("write");
    // a Git repository, so that answers carry `X-Switchyard-Commit` (a directory has no commit)
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-q",
            "-m",
            "flags",
        ],
    ] {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "git {args:?}");
    }
    let mut storage = StorageConfig::remote(format!("file://{}", dir.path().display()));
    storage.poll_interval = Duration::from_secs(3600);
    let mut config = SyncConfig::default();
    config.storage.insert("default".into(), storage);
    config.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", "")
        },
    );
    let sync = rt
        .block_on(SyncHandle::start_and_wait(
            config.clone(),
            Limits::default(),
        ))
        .expect("sync starts");
    let state = AppState::new(Arc::new(sync), ServerConfig::default());
    Served {
        _dir: dir,
        state,
        rt,
    }
}

/// Sends one request (built outside the measured closure) and reads the whole body.
fn run(b: Bencher, uri: &'static str, body: &'static str) {
    let s = served();
    let request = || {
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request")
    };
    // the answer is checked once, outside the measurement
    let check = s.rt.block_on(async {
        let r = app(s.state.clone())
            .oneshot(request())
            .await
            .expect("infallible");
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        (status, bytes)
    });
    assert!(check.0.is_success(), "{uri}: {check:?}");
    let commit = s.rt.block_on(async {
        let r = app(s.state.clone())
            .oneshot(request())
            .await
            .expect("infallible");
        r.headers().contains_key("x-switchyard-commit")
    });
    assert!(commit, "{uri}: no X-Switchyard-Commit");
    let service = app(s.state.clone());
    b.with_inputs(request).bench_local_values(|req| {
        s.rt.block_on(async {
            let r = service.clone().oneshot(req).await.expect("infallible");
            r.into_body().collect().await.expect("body").to_bytes()
        })
    });
}

/// `POST /ofrep/v1/evaluate/flags/checkout`: a segment match and a 50/50 split.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn ofrep_single(b: Bencher) {
    run(
        b,
        "/ofrep/v1/evaluate/flags/checkout",
        r#"{"context":{"targetingKey":"user-1234","plan":"pro","region":"eu-west-1"}}"#,
    );
}

/// `POST /evaluate/v1/variant`: the same evaluation through Flipt's API.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn flipt_variant(b: Bencher) {
    run(
        b,
        "/evaluate/v1/variant",
        r#"{"flagKey":"checkout","entityId":"user-1234","context":{"plan":"pro","region":"eu-west-1"}}"#,
    );
}

/// `GET /health` through the same router: what the stack itself allocates per request.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn health_floor(b: Bencher) {
    let s = served();
    let service = app(s.state.clone());
    b.with_inputs(|| {
        Request::get("/health")
            .body(Body::empty())
            .expect("request")
    })
    .bench_local_values(|req| {
        s.rt.block_on(async {
            let r = service.clone().oneshot(req).await.expect("infallible");
            r.into_body().collect().await.expect("body").to_bytes()
        })
    });
}

/// The core evaluation alone, on a parsed context.
#[divan::bench(sample_count = 100, sample_size = 1000)]
fn core_evaluation(b: Bencher) {
    let s = served();
    let env = s.state.sync().environment("default").expect("served");
    let flag = env.find_flag("default", "checkout").expect("flag");
    let ctx: HashMap<String, String> = [
        ("plan".to_string(), "pro".to_string()),
        ("region".to_string(), "eu-west-1".to_string()),
    ]
    .into();
    b.bench_local(|| {
        switchyard_core::evaluate(divan::black_box(flag), divan::black_box("user-1234"), &ctx)
            .clone()
    });
}
