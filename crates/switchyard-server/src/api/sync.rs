//! The sync API: status (the seed's `GitSyncStatus` fields and more), history, "sync now", and an
//! SSE stream of status changes and flag changes with their plain-words diffs.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt as _};
use serde::{Deserialize, Serialize};
use switchyard_sync::ChangeEvent;
use tokio::sync::{broadcast, watch};

use super::stream::StreamGuard;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync_json::{ChangeJson, HistoryJson, StatusJson, StatusesJson};

/// `?environment=`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct EnvQuery {
    environment: Option<String>,
}

fn env_key(state: &AppState, q: &EnvQuery) -> Result<String, ApiError> {
    let key = q
        .environment
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| state.default_environment().to_string());
    if state.sync().status(&key).is_none() {
        return Err(ApiError::not_found(format!(
            "environment \"{key}\" not found"
        )));
    }
    Ok(key)
}

/// `GET /api/v1/sync/status[?environment=]`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
) -> Result<Response, ApiError> {
    let key = env_key(&state, &q)?;
    let status = state
        .sync()
        .status(&key)
        .ok_or_else(|| ApiError::not_found(format!("environment \"{key}\" not found")))?;
    Ok(Json(StatusJson::new(&key, &status)).into_response())
}

/// `GET /api/v1/sync/statuses`.
pub(crate) async fn statuses(State(state): State<AppState>) -> Response {
    let statuses = state.sync().statuses();
    Json(StatusesJson::new(&statuses)).into_response()
}

/// `GET /api/v1/sync/history[?environment=]`, newest last.
pub(crate) async fn history(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
) -> Result<Response, ApiError> {
    let key = env_key(&state, &q)?;
    let entries = state.sync().history(&key).unwrap_or_default();
    Ok(Json(HistoryJson::new(&key, &entries)).into_response())
}

/// `POST /api/v1/sync`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Triggered<'a> {
    environment: &'a str,
    triggered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_progress: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_progress_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// `POST /api/v1/sync[?environment=]`: an immediate sync (admin token when authentication is on).
pub(crate) async fn sync_now(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
    req: Request,
) -> Response {
    // relay mode: the upstream syncs, and its new state comes back through the stream
    if let Some(upstream) = state.config().upstream.clone() {
        return crate::relay::forward(&state, &upstream, req).await;
    }
    match env_key(&state, &q) {
        Ok(key) => {
            // during a running attempt the trigger only queues one more cycle after it: say so
            let running = state.sync().in_progress_since(&key);
            let triggered = state.sync().trigger(&key);
            let body = match running {
                Some(since) => Triggered {
                    environment: &key,
                    triggered: false,
                    in_progress: Some(true),
                    message: Some(format!(
                        "a sync is in progress since {since}; another one runs when it ends"
                    )),
                    in_progress_since: Some(since),
                },
                None => Triggered {
                    environment: &key,
                    triggered,
                    in_progress: None,
                    in_progress_since: None,
                    message: None,
                },
            };
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

struct EventsCursor {
    state: AppState,
    status_rx: watch::Receiver<u64>,
    changes: broadcast::Receiver<ChangeEvent>,
    stop: watch::Receiver<bool>,
    /// The status last sent of each environment, as sent.
    sent: BTreeMap<String, String>,
    queue: std::collections::VecDeque<Event>,
    _guard: StreamGuard,
}

impl EventsCursor {
    fn queue_statuses(&mut self) {
        for (k, s) in self.state.sync().statuses() {
            let Some(v) = to_json(&StatusJson::new(&k, &s)) else {
                continue;
            };
            if self.sent.get(&k) != Some(&v) {
                self.queue
                    .push_back(Event::default().event("status").data(v.as_str()));
                self.sent.insert(k, v);
            }
        }
    }
}

/// An event's data; these views always serialise, but a failure would be logged and the event
/// left out rather than sent empty.
fn to_json(v: &impl serde::Serialize) -> Option<String> {
    serde_json::to_string(v)
        .inspect_err(|e| tracing::error!(error = %e, "writing a sync event"))
        .ok()
}

/// `GET /api/v1/sync/events`: `status` events (every environment on connect, then on change)
/// and `change` events (a new snapshot served, with its diff).
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let goodbye = super::stream::goodbye(&state);
    let mut cursor = EventsCursor {
        status_rx: state.sync().watch_status(),
        changes: state.sync().subscribe(),
        stop: state.stop_signal(),
        sent: BTreeMap::new(),
        queue: Default::default(),
        _guard: StreamGuard::new(state.clone()),
        state,
    };
    cursor.queue_statuses();
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(ev) = c.queue.pop_front() {
                return Some((Ok(ev), c));
            }
            enum Next {
                Status,
                Change(ChangeEvent),
                Resync,
                End,
            }
            let next = tokio::select! {
                changed = c.status_rx.changed() => if changed.is_err() { Next::End } else { Next::Status },
                change = c.changes.recv() => match change {
                    Ok(e) => Next::Change(e),
                    Err(broadcast::error::RecvError::Lagged(_)) => Next::Resync,
                    Err(broadcast::error::RecvError::Closed) => Next::End,
                },
                _ = c.stop.wait_for(|s| *s) => Next::End,
            };
            match next {
                Next::Status | Next::Resync => c.queue_statuses(),
                Next::Change(e) => {
                    if let Some(v) = to_json(&ChangeJson::new(&e)) {
                        c.queue.push_back(Event::default().event("change").data(v));
                    }
                }
                Next::End => return None,
            }
        }
    });
    Sse::new(stream.chain(goodbye))
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
}
