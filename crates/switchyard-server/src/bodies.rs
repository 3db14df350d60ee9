//! Serialised client snapshots, built once per (environment, namespace, digest) on a blocking
//! thread and shared by every request and stream of that namespace until it changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use switchyard_core::{Environment, export};
use tokio::sync::OnceCell;

use crate::error::ApiError;

/// Namespaces whose bodies are kept at most (all are dropped past it and rebuilt on demand).
const MAX_ENTRIES: usize = 256;

/// One namespace's body at one digest; concurrent requests wait for the same build.
#[derive(Clone)]
struct Entry {
    digest: String,
    body: Arc<OnceCell<Bytes>>,
}

/// The cache of client-snapshot bodies.
#[derive(Default)]
pub(crate) struct SnapshotBodies {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SnapshotBodies {
    /// The client-snapshot JSON of namespace `ns` of `env` (served as environment `env_key`).
    pub(crate) async fn client_snapshot(
        &self,
        env_key: &str,
        env: &Arc<Environment>,
        ns: &str,
    ) -> Result<Bytes, ApiError> {
        let digest = env.namespace(ns).map(|n| n.digest.clone()).ok_or_else(|| {
            ApiError::not_found(format!(
                "evaluation snapshot for namespace \"{ns}\" not found"
            ))
        })?;
        let cell = {
            let mut entries = lock(&self.entries);
            let key = (env_key.to_string(), ns.to_string());
            match entries.get(&key) {
                Some(e) if e.digest == digest => e.body.clone(),
                _ => {
                    if entries.len() >= MAX_ENTRIES {
                        entries.clear();
                    }
                    let e = Entry {
                        digest,
                        body: Arc::new(OnceCell::new()),
                    };
                    let body = e.body.clone();
                    entries.insert(key, e);
                    body
                }
            }
        };
        let env = env.clone();
        let ns = ns.to_string();
        cell.get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || {
                let namespace = env
                    .namespace(&ns)
                    .ok_or_else(|| ApiError::not_found(format!("namespace \"{ns}\" not found")))?;
                let mut body = Vec::new();
                export::write_client_snapshot(&mut body, namespace, &crate::time::now_rfc3339())
                    .map_err(|e| ApiError::internal(format!("serialising the snapshot: {e}")))?;
                // The cached body keeps no spare capacity from the buffer's doubling.
                body.shrink_to_fit();
                Ok(Bytes::from(body))
            })
            .await
            .map_err(|e| ApiError::internal(format!("building the snapshot: {e}")))?
        })
        .await
        .cloned()
    }
}
