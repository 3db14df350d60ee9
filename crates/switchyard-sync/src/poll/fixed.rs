//! A handle over environments given to it: no storage, no sync thread, nothing fetched. For
//! router tests, which then need neither a directory nor a poll, and for anything that gets its
//! snapshots from elsewhere.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use switchyard_core::{Discovered, Discovery, Environment, ExtraChecks, Limits};
use tokio::sync::{broadcast, watch};

use super::glass::{Base, Glass};
use super::{EnvSlot, Shared, SyncHandle};
use crate::fed::FedFiles;
use crate::followed::{Followed, Origin};
use crate::history::History;
use crate::status::{Served, SyncStatus};

impl SyncHandle {
    /// Serves `environments` as given, each under its own key (the only one, or the one keyed
    /// `default`, is the default). Their statuses say a valid snapshot is served; triggers
    /// are refused, as for an unknown environment.
    pub fn fixed(environments: Vec<Environment>) -> SyncHandle {
        let only = environments.len() == 1;
        let mut envs = BTreeMap::new();
        let mut followed = Vec::new();
        for env in environments {
            let mut status = SyncStatus::new(
                false,
                String::new(),
                String::new(),
                String::new(),
                Duration::ZERO,
            );
            // nothing was discovered: the environment was given, not read from files
            let discovered = Discovered {
                rules: Discovery::default(),
                root_file: None,
                files: Vec::new(),
                not_read: Vec::new(),
            };
            status.applied(SystemTime::now(), None, Served::of(&env, &discovered));
            followed.push(Followed {
                key: env.key.clone(),
                default: only || env.key == "default",
                storage: String::new(),
                origin: Origin::Given,
                directory: String::new(),
            });
            let env = Arc::new(env);
            let base = Base {
                env: env.clone(),
                info: None,
                label: "given".to_string(),
                files: Arc::new(FedFiles::default()),
                inherited: Vec::new(),
            };
            let glass = Glass {
                head: Some(base.clone()),
                base: Some(base),
                ..Glass::default()
            };
            envs.insert(
                env.key.clone(),
                EnvSlot {
                    storage: String::new(),
                    directory: String::new(),
                    // never read: nothing is discovered for a given environment
                    discovery: Default::default(),
                    status: Mutex::new(status),
                    history: Mutex::new(History::new(100)),
                    tx: watch::channel(env).0,
                    served: watch::channel(None).0,
                    glass: Mutex::new(glass),
                },
            );
        }
        SyncHandle {
            shared: Arc::new(Shared {
                envs,
                followed,
                storages: BTreeMap::new(),
                events: broadcast::channel(1).0,
                status_version: watch::channel(0).0,
                attempts: broadcast::channel(1).0,
                limits: Limits::default(),
                extra_checks: ExtraChecks::default(),
                max_override: crate::break_glass::DEFAULT_MAX_OVERRIDE,
            }),
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use switchyard_core::{Limits, SourceFile, compile_environment};

    use super::*;
    use crate::status::SyncState;

    #[tokio::test]
    async fn given_environments_are_served_and_never_synced() {
        let flags =
            "flags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n";
        let env = |key: &str| {
            compile_environment(key, &[SourceFile::new("f.yaml", flags)], &Limits::default())
                .expect("valid")
        };
        let h = SyncHandle::fixed(vec![env("default"), env("staging")]);
        let keys: Vec<&str> = h.environment_keys().collect();
        assert_eq!(keys, ["default", "staging"]);
        let defaults: Vec<bool> = h.environments().iter().map(|f| f.default).collect();
        assert_eq!(defaults, [true, false]);
        let served = h.environment("staging").expect("served");
        assert_eq!(served.flag_count(), 1);
        let s = h.status("staging").expect("status");
        assert!(s.serving_valid_snapshot && !s.enabled, "{s:?}");
        assert_eq!((s.sync_status, s.flags), (SyncState::Success, 1));
        assert!(h.not_ready().is_empty());
        assert!(!h.trigger("default"));
        assert!(!h.sync_now("default").await);
        h.shutdown().await;
    }
}
