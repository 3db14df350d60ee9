//! The upstream's side of relay mode: `GET /api/v1/relay/stream`, one long-lived NDJSON stream
//! per relay carrying each served state of the environments it follows (see
//! [`crate::relay::wire`] for the messages).
//!
//! Each stream pulls from the sync's `watch` of each environment's served state, so a slow
//! relay holds no backlog: it gets the newest state when it reads again (coalesced). The
//! `state` line of a swap is serialised once and shared by every stream (`Bytes`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchyard_sync::FedRevision;
use tokio::sync::watch;

use super::stream::StreamGuard;
use crate::error::ApiError;
use crate::relay::wire::{self, Message};
use crate::state::AppState;

/// How often a keep-alive line is sent.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(15);

/// The `state` line of each environment's current served state, built once per swap.
#[derive(Default)]
pub(crate) struct StateLines {
    lines: Mutex<HashMap<String, (Arc<FedRevision>, Bytes)>>,
}

impl StateLines {
    /// The `state` line of `served` (built now if it is a new state).
    fn get(&self, key: &str, served: &Arc<FedRevision>) -> Bytes {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, line)) = lines.get(key)
            && Arc::ptr_eq(s, served)
        {
            return line.clone();
        }
        let line = wire::line(&Message::State(wire::State::of(key, served, true)));
        lines.insert(key.to_string(), (served.clone(), line.clone()));
        line
    }
}

struct Follower {
    state: AppState,
    envs: Vec<(String, watch::Receiver<Option<Arc<FedRevision>>>)>,
    /// The label each environment's relay has (sent, or named in `since`).
    has: Vec<Option<String>>,
    queue: VecDeque<Bytes>,
    stop: watch::Receiver<bool>,
    keepalive: tokio::time::Interval,
    _guard: StreamGuard,
}

impl Follower {
    /// Queues what environment `i` serves now, unless its relay has it.
    fn queue_current(&mut self, i: usize, first: bool) {
        let (key, rx) = &mut self.envs[i];
        let Some(served) = rx.borrow_and_update().clone() else {
            return;
        };
        if self.has[i].as_deref() == Some(served.label.as_str()) {
            if first {
                let state = wire::State::of(key, &served, false);
                self.queue.push_back(wire::line(&Message::Current(state)));
            }
            return;
        }
        self.queue
            .push_back(self.state.relay_lines().get(key, &served));
        self.has[i] = Some(served.label.clone());
    }
}

/// `since=env:label,env:label` → label by environment.
fn since(query: &HashMap<String, String>) -> BTreeMap<String, String> {
    query
        .get("since")
        .map(|s| {
            s.split(',')
                .filter_map(|pair| pair.rsplit_once(':'))
                .filter(|(k, l)| !k.is_empty() && !l.is_empty())
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /api/v1/relay/stream[?environments=a,b][&since=a:label,b:label]` (admin token when
/// authentication is on): a `hello` line, then per environment its served state (or `current`
/// when `since` names it), then a `state` line on every swap and a `keepalive` every 15 s.
pub(crate) async fn stream(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let keys: Vec<String> = match query.get("environments").filter(|s| !s.is_empty()) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => state
            .sync()
            .environment_keys()
            .map(str::to_string)
            .collect(),
    };
    if keys.is_empty() {
        return Err(ApiError::invalid("no environment to follow"));
    }
    let since = since(&query);
    let mut envs = Vec::with_capacity(keys.len());
    for key in &keys {
        let rx = state
            .sync()
            .watch_served(key)
            .ok_or_else(|| ApiError::not_found(format!("environment \"{key}\" not found")))?;
        envs.push((key.clone(), rx));
    }
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut follower = Follower {
        has: keys.iter().map(|k| since.get(k).cloned()).collect(),
        envs,
        queue: VecDeque::new(),
        stop: state.stop_signal(),
        keepalive,
        _guard: StreamGuard::new(state.clone()),
        state,
    };
    follower
        .queue
        .push_back(wire::line(&Message::Hello { environments: keys }));
    for i in 0..follower.envs.len() {
        follower.queue_current(i, true);
    }
    let lines = futures_util::stream::unfold(follower, |mut f| async move {
        loop {
            if let Some(line) = f.queue.pop_front() {
                return Some((Ok::<_, std::convert::Infallible>(line), f));
            }
            enum Next {
                Changed(usize),
                Keepalive,
                End,
            }
            let next = {
                let changes = f.envs.iter_mut().map(|(_, rx)| Box::pin(rx.changed()));
                let any = futures_util::future::select_all(changes);
                tokio::select! {
                    (changed, i, _) = any => if changed.is_ok() { Next::Changed(i) } else { Next::End },
                    _ = f.keepalive.tick() => Next::Keepalive,
                    _ = f.stop.wait_for(|s| *s) => Next::End,
                }
            };
            match next {
                Next::Changed(i) => f.queue_current(i, false),
                Next::Keepalive => f.queue.push_back(wire::line(&Message::Keepalive)),
                Next::End => return None,
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(lines),
    )
        .into_response())
}
