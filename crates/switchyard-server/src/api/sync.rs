//! The sync API: status (the seed's `GitSyncStatus` fields and more), history, "sync now", and an
//! SSE stream of status changes and flag changes with their plain-words diffs.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_sync::{ChangeEvent, SyncStatus};
use tokio::sync::{broadcast, watch};

use super::stream::StreamGuard;
use crate::auth::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;

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

/// A status as JSON, with its environment key first.
pub(crate) fn status_json(key: &str, status: &SyncStatus) -> Value {
    let mut v = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        let mut out = serde_json::Map::new();
        out.insert("environment".into(), json!(key));
        out.extend(std::mem::take(m));
        return Value::Object(out);
    }
    v
}

/// `GET /api/v1/sync/status[?environment=]`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = env_key(&state, &q)?;
    let status = state
        .sync()
        .status(&key)
        .ok_or_else(|| ApiError::not_found(format!("environment \"{key}\" not found")))?;
    Ok(Json(status_json(&key, &status)))
}

/// `GET /api/v1/sync/statuses`.
pub(crate) async fn statuses(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .sync()
        .statuses()
        .iter()
        .map(|(k, s)| status_json(k, s))
        .collect();
    Json(json!({"statuses": list}))
}

/// `GET /api/v1/sync/history[?environment=]`, newest last.
pub(crate) async fn history(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = env_key(&state, &q)?;
    let entries = state.sync().history(&key).unwrap_or_default();
    Ok(Json(json!({"environment": key, "entries": entries})))
}

/// `POST /api/v1/sync[?environment=]`: an immediate sync (admin token when authentication is on).
pub(crate) async fn sync_now(
    State(state): State<AppState>,
    Query(q): Query<EnvQuery>,
    req: Request,
) -> Response {
    if let Err(e) = auth::check(&state, &req, Need::Admin) {
        return e.into_response();
    }
    match env_key(&state, &q) {
        Ok(key) => {
            // during a running attempt the trigger only queues one more cycle after it: say so
            let running = state.sync().in_progress_since(&key);
            let triggered = state.sync().trigger(&key);
            let body = match running {
                Some(since) => json!({
                    "environment": key,
                    "triggered": false,
                    "inProgress": true,
                    "inProgressSince": since,
                    "message": format!("a sync is in progress since {since}; another one runs when it ends"),
                }),
                None => json!({"environment": key, "triggered": triggered}),
            };
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn change_json(e: &ChangeEvent) -> Value {
    json!({"environment": e.environment, "oldDigest": e.old_digest, "newDigest": e.new_digest, "commit": e.commit, "diff": e.diff.lines()})
}

struct EventsCursor {
    state: AppState,
    status_rx: watch::Receiver<u64>,
    changes: broadcast::Receiver<ChangeEvent>,
    stop: watch::Receiver<bool>,
    sent: BTreeMap<String, Value>,
    queue: std::collections::VecDeque<Event>,
    _guard: StreamGuard,
}

impl EventsCursor {
    fn queue_statuses(&mut self) {
        for (k, s) in self.state.sync().statuses() {
            let v = status_json(&k, &s);
            if self.sent.get(&k) != Some(&v) {
                self.queue
                    .push_back(Event::default().event("status").data(v.to_string()));
                self.sent.insert(k, v);
            }
        }
    }
}

/// `GET /api/v1/sync/events`: `status` events (every environment on connect, then on change)
/// and `change` events (a new snapshot served, with its diff).
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
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
                Next::Change(e) => c.queue.push_back(
                    Event::default()
                        .event("change")
                        .data(change_json(&e).to_string()),
                ),
                Next::End => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
}
