//! `X-Switchyard-Commit`: the commit an answer was evaluated on, as a header value built once per
//! served snapshot (per swap) and shared by every response until the next one.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use switchyard_core::Environment;

/// The header's name.
pub(crate) const X_SWITCHYARD_COMMIT: HeaderName = HeaderName::from_static("x-switchyard-commit");

/// Per environment, the last commit seen and its header value.
#[derive(Default)]
pub(crate) struct CommitHeaders {
    slots: HashMap<String, RwLock<Option<(String, HeaderValue)>>>,
}

impl CommitHeaders {
    /// One slot per environment key (the keys are fixed when the server starts).
    pub(crate) fn new<'a>(keys: impl Iterator<Item = &'a str>) -> Self {
        CommitHeaders {
            slots: keys.map(|k| (k.to_string(), RwLock::new(None))).collect(),
        }
    }

    /// The header value of `env`'s revision (none for a plain directory): a read lock and a
    /// reference-count increment, except right after a swap, when it is built once.
    pub(crate) fn get(&self, key: &str, env: &Environment) -> Option<HeaderValue> {
        let revision = env.revision.as_deref()?;
        let slot = self.slots.get(key)?;
        if let Ok(cached) = slot.read()
            && let Some((rev, value)) = cached.as_ref()
            && rev == revision
        {
            return Some(value.clone());
        }
        let value = HeaderValue::from_str(revision).ok()?;
        if let Ok(mut cached) = slot.write() {
            *cached = Some((revision.to_string(), value.clone()));
        }
        Some(value)
    }

    /// Sets the header on `headers` when `env` has a revision.
    pub(crate) fn set(&self, headers: &mut HeaderMap, key: &str, env: &Environment) {
        if let Some(v) = self.get(key, env) {
            headers.insert(X_SWITCHYARD_COMMIT, v);
        }
    }

    /// `response` with the header of `env` set.
    pub(crate) fn on(&self, mut response: Response, key: &str, env: &Environment) -> Response {
        self.set(response.headers_mut(), key, env);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(revision: Option<&str>) -> Environment {
        let mut e = switchyard_core::compile_environment("default", &[], &Default::default())
            .expect("empty environment compiles");
        e.revision = revision.map(str::to_string);
        e
    }

    #[test]
    fn the_value_follows_the_revision_and_is_shared_between_swaps() {
        let h = CommitHeaders::new(["default"].into_iter());
        let a = env(Some("aaaa"));
        assert_eq!(h.get("default", &a).unwrap(), "aaaa");
        let first = h.get("default", &a).unwrap();
        let second = h.get("default", &a).unwrap();
        // the same bytes, not a copy
        assert_eq!(first.as_bytes().as_ptr(), second.as_bytes().as_ptr());
        assert_eq!(h.get("default", &env(Some("bbbb"))).unwrap(), "bbbb");
        assert_eq!(h.get("default", &env(None)), None);
        assert_eq!(h.get("other", &a), None);
    }
}
