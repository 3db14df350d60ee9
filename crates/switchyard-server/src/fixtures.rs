//! A served state for unit tests: one environment, `default`, with the namespaces `default`
//! (`checkout`: variants `control` and `treatment`, `treatment` for `plan=pro`; the boolean
//! flags `dark`, disabled, and `beta`; `off`, disabled; `bare`, no variants) and `payments`
//! (the boolean `fast`), over a fixed sync (no Git, no thread).

use std::sync::Arc;

use switchyard_core::{Limits, SourceFile, compile_environment};

use crate::config::ServerConfig;
use crate::state::AppState;

const FLAGS: &str = r#"version: "1.4"
namespace: default
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - {key: control, default: true}
      - {key: treatment, attachment: {color: blue, n: [1, 2.5]}}
    rules:
      - segment: pro
        distributions: [{variant: treatment, rollout: 100}]
  - key: dark
    name: Dark
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: pro, value: true}
  - key: beta
    name: Beta
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {key: pro, value: true}
  - key: off
    name: Off
    enabled: false
    variants: [{key: a}]
  - key: bare
    name: Bare
    enabled: true
segments:
  - key: pro
    name: Pro
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
"#;

const OTHER: &str = r#"version: "1.4"
namespace: payments
flags:
  - key: fast
    name: Fast
    type: BOOLEAN_FLAG_TYPE
    enabled: true
"#;

/// The state over the fixture's environment, with the default configuration.
pub(crate) fn state() -> AppState {
    let env = compile_environment(
        "default",
        &[
            SourceFile::new("features.yaml", FLAGS),
            SourceFile::new("payments/features.yaml", OTHER),
        ],
        &Limits::default(),
    );
    let env = match env {
        Ok(e) => e,
        Err(d) => panic!("fixture does not compile: {d:?}"),
    };
    let sync = Arc::new(switchyard_sync::SyncHandle::fixed(vec![env]));
    AppState::new(sync, ServerConfig::default())
}
