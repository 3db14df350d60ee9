//! Fuzz target `requests`: the server's request bodies (and request lines and headers) through
//! its real router (`switchyard_server::app`) over a real sync of a temporary directory.
//!
//! An input is `METHOD PATH`, header lines, a blank line and the body (see `corpus/requests`).
//! Checked for every input: no answer is a 5xx other than 503 and Flipt's 501 for a method a
//! route does not have (a handler panic becomes a 500), and every request gets an answer. `cargo test` runs it for 2 s; `scripts/test.sh` for 60 s.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use switchyard_core::Limits;
use switchyard_fuzz::{Dictionary, Input, fuzz, shape};
use switchyard_server::{AppState, ServerConfig, WebhookSecrets};
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig, SyncHandle};
use tower::ServiceExt;

const FLAGS: &str = r#"flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - {key: control, default: true}
      - {key: treatment, attachment: {color: blue}}
    rules:
      - segment: pro
        distributions: [{variant: treatment, rollout: 100}]
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {key: pro, value: true}
      - threshold: {percentage: 50, value: true}
segments:
  - key: pro
    name: Pro
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
      - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "18"}
"#;

/// JSON syntax, the API's field names and odd values.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\\"",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "18446744073709551616",
    "\"\"",
    "{}",
    "[]",
    "\"namespaceKey\": ",
    "\"flagKey\": ",
    "\"entityId\": ",
    "\"context\": ",
    "\"requests\": ",
    "\"reference\": ",
    "\"targetingKey\": ",
    "\"environmentKey\": ",
    "\"checkout\"",
    "\"dark\"",
    "\"default\"",
    "\"pro\"",
    "\"age\": \"18\"",
    "{\"flagKey\": \"dark\", \"entityId\": \"e\"}",
    "\ncontent-type: text/plain",
    "\ncontent-length: 3",
    "\nif-none-match: *",
    "\nif-none-match: \"",
    "\nx-gitlab-token: fuzz-token-0123456789",
    "\nauthorization: Bearer x",
    "\nx-environment: production",
    "?limit=",
    "&pageToken=",
    "%00",
    "%ff",
    "/../",
    "é",
    "\u{feff}",
];

/// A request parsed from an input, or `None` when the text is not a request line.
fn request(input: &Input) -> Option<Request<Body>> {
    let split = input
        .bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(input.bytes.len());
    let head = std::str::from_utf8(&input.bytes[..split]).ok()?;
    let body = input.bytes.get(split + 2..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut b = Request::builder().method(method).uri(path);
    for line in lines {
        let (k, v) = line.split_once(':')?;
        b = b.header(k.trim(), v.trim());
    }
    b.body(Body::from(body)).ok()
}

/// The router over a sync of a temporary directory holding [`FLAGS`].
struct Server {
    _dir: tempfile::TempDir,
    _sync: Arc<SyncHandle>,
    state: AppState,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("features.yaml"), FLAGS).expect("write flags");
        let mut storage = StorageConfig::local_directory(dir.path());
        storage.poll_interval = Duration::from_secs(3600);
        let mut sync_config = SyncConfig::default();
        sync_config.storage.insert("default".into(), storage);
        sync_config.environments.insert(
            "default".into(),
            EnvironmentConfig {
                default: true,
                ..EnvironmentConfig::new("default", "")
            },
        );
        let sync = Arc::new(
            rt.block_on(SyncHandle::start(sync_config.clone(), Limits::default()))
                .expect("sync starts"),
        );
        let config = ServerConfig {
            webhooks: WebhookSecrets {
                gitlab: Some("fuzz-token-0123456789".into()),
                ..WebhookSecrets::default()
            },
            ..ServerConfig::default()
        };
        let state = AppState::new(sync.clone(), config);
        Server {
            _dir: dir,
            _sync: sync,
            state,
            rt,
        }
    }

    /// Sends one input; returns its outcome (method, status and the shape of the answer).
    fn send(&self, input: &Input) -> Vec<String> {
        let Some(req) = request(input) else {
            return vec!["not a request".into()];
        };
        let method = req.method().to_string();
        let answer = self.rt.block_on(async {
            let res = tokio::time::timeout(
                Duration::from_secs(10),
                switchyard_server::app(self.state.clone()).oneshot(req),
            )
            .await
            .expect("an answer within 10 s")
            .expect("infallible");
            let status = res.status();
            let body = tokio::time::timeout(Duration::from_secs(10), res.into_body().collect())
                .await
                .expect("a body within 10 s")
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            (status, body)
        });
        let (status, body) = answer;
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        assert!(
            !status.is_server_error()
                || status.as_u16() == 503
                || (status.as_u16() == 501 && text.contains("Method Not Allowed")),
            "{status}: {text}"
        );
        vec![format!("{method} {} {}", status.as_u16(), shape(&text))]
    }
}

#[test]
fn fuzz_requests() {
    let server = Server::start();
    let dict = Dictionary {
        tokens: TOKENS,
        names: &[],
    };
    fuzz("requests", &dict, str::to_string, |input| {
        server.send(input)
    });
}
