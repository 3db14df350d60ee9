//! Serialised client snapshots, built once per (environment, namespace, digest) on a blocking
//! thread and shared by every request and stream of that namespace until it changes; the gzip
//! form of a body is compressed once too, the first time a client accepts it.

use std::collections::HashMap;
use std::io::Write as _;
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
    gzip: Arc<OnceCell<Bytes>>,
}

/// The cache of client-snapshot bodies.
#[derive(Default)]
pub(crate) struct SnapshotBodies {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn not_found(ns: &str) -> ApiError {
    ApiError::not_found(format!(
        "evaluation snapshot for namespace \"{ns}\" not found"
    ))
}

impl SnapshotBodies {
    /// The cache entry of namespace `ns` of `env` at its current digest (a new, empty one when
    /// the digest moved).
    fn entry(&self, env_key: &str, env: &Environment, ns: &str) -> Result<Entry, ApiError> {
        let digest = env
            .namespace(ns)
            .ok_or_else(|| not_found(ns))?
            .digest
            .as_str();
        let mut entries = lock(&self.entries);
        if let Some(e) = entries.get(&(env_key.to_string(), ns.to_string()))
            && e.digest == digest
        {
            return Ok(e.clone());
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let e = Entry {
            digest: digest.to_string(),
            body: Arc::new(OnceCell::new()),
            gzip: Arc::new(OnceCell::new()),
        };
        entries.insert((env_key.to_string(), ns.to_string()), e.clone());
        Ok(e)
    }

    /// The client-snapshot JSON of namespace `ns` of `env` (served as environment `env_key`).
    pub(crate) async fn client_snapshot(
        &self,
        env_key: &str,
        env: &Arc<Environment>,
        ns: &str,
    ) -> Result<Bytes, ApiError> {
        let entry = self.entry(env_key, env, ns)?;
        build_body(&entry, env, ns).await
    }

    /// The same body gzip-compressed (RFC 1952), for clients that send `Accept-Encoding: gzip`.
    pub(crate) async fn client_snapshot_gzip(
        &self,
        env_key: &str,
        env: &Arc<Environment>,
        ns: &str,
    ) -> Result<Bytes, ApiError> {
        let entry = self.entry(env_key, env, ns)?;
        let body = build_body(&entry, env, ns).await?;
        entry
            .gzip
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || gzip(&body))
                    .await
                    .map_err(|e| ApiError::internal(format!("compressing the snapshot: {e}")))?
            })
            .await
            .cloned()
    }
}

/// The entry's JSON body, built on a blocking thread by the first request that needs it.
async fn build_body(entry: &Entry, env: &Arc<Environment>, ns: &str) -> Result<Bytes, ApiError> {
    let env = env.clone();
    let ns = ns.to_string();
    entry
        .body
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || {
                let namespace = env.namespace(&ns).ok_or_else(|| not_found(&ns))?;
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

/// `body` compressed with gzip at the default level (once per digest, so ratio over speed).
fn gzip(body: &[u8]) -> Result<Bytes, ApiError> {
    let mut out = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::default(),
    );
    out.write_all(body)
        .and_then(|()| out.finish())
        .map(|mut v| {
            v.shrink_to_fit();
            Bytes::from(v)
        })
        .map_err(|e| ApiError::internal(format!("compressing the snapshot: {e}")))
}

/// Whether `Accept-Encoding` values accept gzip (`gzip`, `x-gzip` or `*` with a non-zero `q`).
pub(crate) fn accepts_gzip<'a>(values: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut star = None;
    for value in values {
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let allowed = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next_back()
                .is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                return allowed;
            }
            if coding == "*" {
                star = Some(allowed);
            }
        }
    }
    star.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    fn accepts(v: &str) -> bool {
        accepts_gzip(std::iter::once(v.as_bytes()))
    }

    #[test]
    fn accept_encoding_is_read_as_rfc_9110_says() {
        assert!(accepts("gzip"));
        assert!(accepts("br, gzip;q=0.8, deflate"));
        assert!(accepts("GZIP"));
        assert!(accepts("x-gzip"));
        assert!(accepts("*"));
        assert!(accepts("br;q=1, *;q=0.1"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("gzip;q=0.000"));
        assert!(!accepts("*;q=0.5, gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("identity"));
        assert!(!accepts(""));
        assert!(!accepts("gzip;q=nonsense"));
        assert!(!accepts_gzip(std::iter::empty()));
    }
}
