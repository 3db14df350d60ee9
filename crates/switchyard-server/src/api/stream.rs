//! Change streams shared by the snapshot stream, OFREP's SSE and the sync events: each ends when
//! the server shuts down, so graceful shutdown is not held open by clients.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::sse::Event;
use futures_util::Stream;
use switchyard_core::Environment;
use tokio::sync::watch;

use crate::state::AppState;

/// Counts an open stream for `flipt_evaluations_streams_in_progress` while alive.
pub(crate) struct StreamGuard(AppState);

impl StreamGuard {
    pub(crate) fn new(state: AppState) -> Self {
        state.metrics().stream(1);
        StreamGuard(state)
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.metrics().stream(-1);
    }
}

struct Cursor {
    rx: watch::Receiver<Arc<Environment>>,
    stop: watch::Receiver<bool>,
    ns: String,
    last: Option<String>,
    first: bool,
    _guard: StreamGuard,
}

/// The namespace's digest now (unless `skip_current`) and after every change of it; a namespace
/// that disappears yields an empty digest once.
pub(crate) fn namespace_changes(
    state: AppState,
    rx: watch::Receiver<Arc<Environment>>,
    ns: String,
    skip_current: bool,
) -> impl Stream<Item = String> {
    let stop = state.stop_signal();
    let mut cursor = Cursor {
        rx,
        stop,
        ns,
        last: None,
        first: true,
        _guard: StreamGuard::new(state),
    };
    if skip_current {
        cursor.last = Some(digest_of(&cursor.rx.borrow(), &cursor.ns));
        cursor.first = false;
    }
    futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if !c.first {
                tokio::select! {
                    changed = c.rx.changed() => if changed.is_err() { return None },
                    _ = c.stop.wait_for(|s| *s) => return None,
                }
            }
            c.first = false;
            let digest = digest_of(&c.rx.borrow_and_update(), &c.ns);
            if c.last.as_deref() != Some(digest.as_str()) {
                c.last = Some(digest.clone());
                return Some((digest, c));
            }
        }
    })
}

/// Whether a client opening a change stream already has the namespace's current digest, so the
/// stream must not announce it: a first connection has just fetched it (the bulk response that
/// named the stream); a reconnection (`Last-Event-ID`, the first nine characters of the digest of
/// the last event it received) has it unless the digest moved while it was away.
pub(crate) fn client_has_current(
    rx: &watch::Receiver<Arc<Environment>>,
    ns: &str,
    headers: &HeaderMap,
) -> bool {
    match headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
    {
        None => true,
        Some(id) => digest_of(&rx.borrow(), ns).starts_with(id),
    }
}

fn digest_of(env: &Environment, ns: &str) -> String {
    env.namespace(ns)
        .map(|n| n.digest.clone())
        .unwrap_or_default()
}

/// How soon a client of a stream ended by shutdown is told to reconnect (SSE `retry:`).
pub(crate) const SHUTDOWN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// The last event of an SSE stream that shutdown ended: `retry: 1000` (EventSource reconnects
/// after a second, to another replica behind a balancer) and `{"type":"shutdown"}` (OFREP
/// clients ignore types they do not know); nothing when the stream ended otherwise. Chain it
/// after the stream's own events.
pub(crate) fn goodbye(
    state: &AppState,
) -> impl Stream<Item = Result<Event, std::convert::Infallible>> + use<> {
    let stop = state.stop_signal();
    futures_util::stream::iter(
        std::iter::once(())
            .filter(move |()| *stop.borrow())
            .map(|()| {
                Ok(Event::default().retry(SHUTDOWN_RETRY).data(
                    r#"{"type":"shutdown","message":"the server is shutting down; reconnect"}"#,
                ))
            }),
    )
}

/// A `refetchEvaluation` server-sent event for a namespace now at `digest` (its id the digest's
/// first nine characters).
pub(crate) fn refetch(digest: &str) -> axum::response::sse::Event {
    #[derive(serde::Serialize)]
    struct Refetch<'a> {
        r#type: &'static str,
        etag: &'a str,
    }
    let data = serde_json::to_string(&Refetch {
        r#type: "refetchEvaluation",
        etag: digest,
    })
    .unwrap_or_default();
    axum::response::sse::Event::default()
        .id(digest.chars().take(9).collect::<String>())
        .data(data)
}
