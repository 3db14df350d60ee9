//! Relay mode's follower side: the client that reads the upstream's relay stream and feeds each
//! state to the sync (which validates it again and swaps it in as it would a fetched commit),
//! and the forwarding of webhooks and `POST /api/v1/sync` to the upstream.
//!
//! The client keeps one stream open for every followed environment. When it breaks (refused,
//! reset, no line for three keep-alive periods) the sync is told once (`upstream_unreachable`,
//! or `authentication` when the token is refused), the environments keep serving their last
//! good state, and the client reconnects after 100 ms, doubling to at most 500 ms, each delay
//! jittered to between half and all of it: a refused connection costs the upstream little, and
//! the longest delay bounds how long after the upstream's return a relay catches up
//! (`benches/fleet/restart.py`). It says `since` for what it serves, so a reconnect
//! only transfers what changed.

pub(crate) mod wire;

use std::sync::Weak;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use switchyard_sync::{ErrorClass, SyncError, SyncHandle};
use tokio::sync::watch;

use crate::config::UpstreamConfig;
use crate::error::ApiError;
use crate::state::AppState;
use wire::Message;

/// How long a connection attempt (and a forwarded request) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// No line for this long (three keep-alive periods) and the stream counts as dead.
const READ_TIMEOUT: Duration = Duration::from_secs(45);
/// A forwarded webhook or sync request gets this long for the upstream's answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
/// The first reconnection delay.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// The longest reconnection delay: a relay catches up at most this long (plus one connection)
/// after its upstream returns.
const BACKOFF_MAX: Duration = Duration::from_millis(500);
/// The longest line accepted (an environment's files in base64, with room).
const MAX_LINE_BYTES: usize = 256 * 1024 * 1024;

/// The HTTP client for the upstream (stream and forwarded requests).
pub(crate) fn client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .inspect_err(|e| tracing::error!(error = %e, "relay: cannot build the HTTP client"))
        .ok()
}

/// Starts following the upstream for `keys`, until `stop` is set or the sync is dropped.
pub(crate) fn spawn(
    sync: Weak<SyncHandle>,
    keys: Vec<String>,
    upstream: UpstreamConfig,
    client: reqwest::Client,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let shown = upstream.shown_url();
        tracing::info!(upstream = %shown, environments = ?keys, "relay mode: following the upstream's stream");
        let mut failures: u32 = 0;
        let mut reported = false;
        loop {
            let outcome = tokio::select! {
                r = follow(&sync, &keys, &upstream, &client, &mut failures, &mut reported) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            let Err(error) = outcome else { return };
            if !reported {
                tracing::warn!(upstream = %shown, error = %error, "relay: the upstream stream is down; serving the last good state");
                let Some(sync) = sync.upgrade() else { return };
                for k in &keys {
                    sync.upstream_failed(k, error.clone());
                }
                reported = true;
            }
            failures = failures.saturating_add(1);
            let delay = backoff(failures);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}

/// The delay before reconnection attempt `failures` (1-based): 100 ms doubling to 500 ms, each
/// jittered to between half and all of it.
fn backoff(failures: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = BACKOFF_MIN
        .saturating_mul(1 << failures.saturating_sub(1).min(8))
        .min(BACKOFF_MAX);
    // a random fraction without a dependency: SipHash with the process's random keys
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(failures);
    let fraction = (h.finish() % 1000) as f64 / 1000.0;
    base.mul_f64(0.5 + fraction / 2.0)
}

fn unreachable(shown: &str, what: impl std::fmt::Display) -> SyncError {
    SyncError::Upstream {
        class: ErrorClass::UpstreamUnreachable,
        message: format!("upstream unreachable: {shown}: {what}"),
    }
}

/// The error and its sources on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        cur = s.source();
    }
    out
}

/// One connection: opens the stream and feeds its states to the sync until it ends; always an
/// error (why it ended), or `Ok` when the sync is gone.
async fn follow(
    sync: &Weak<SyncHandle>,
    keys: &[String],
    upstream: &UpstreamConfig,
    client: &reqwest::Client,
    failures: &mut u32,
    reported: &mut bool,
) -> Result<(), SyncError> {
    let shown = upstream.shown_url();
    let since: Vec<String> = {
        let Some(s) = sync.upgrade() else {
            return Ok(());
        };
        keys.iter()
            .filter_map(|k| {
                let rx = s.watch_served(k)?;
                let label = rx.borrow().as_ref().map(|st| st.label.clone())?;
                Some(format!("{k}:{label}"))
            })
            .collect()
    };
    let url = reqwest::Url::parse_with_params(
        &format!("{}/api/v1/relay/stream", upstream.url.trim_end_matches('/')),
        &[("environments", keys.join(",")), ("since", since.join(","))],
    )
    .map_err(|e| unreachable(&shown, format!("not a URL: {e}")))?;
    let mut req = client.get(url);
    if let Some(t) = &upstream.token {
        req = req.bearer_auth(t);
    }
    let mut resp = match tokio::time::timeout(CONNECT_TIMEOUT, req.send()).await {
        Err(_) => return Err(unreachable(&shown, "no answer within 10 s")),
        Ok(Err(e)) => return Err(unreachable(&shown, chain(&e))),
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    if !status.is_success() {
        let body = tokio::time::timeout(CONNECT_TIMEOUT, resp.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let detail = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or(body);
        let class = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorClass::Authentication,
            _ => ErrorClass::UpstreamUnreachable,
        };
        let message = match class {
            ErrorClass::Authentication => format!(
                "the upstream {shown} refused the relay token ({status}): {detail}; set upstream.token to one of its admin tokens"
            ),
            _ => format!("upstream unreachable: {shown} answered {status}: {detail}"),
        };
        return Err(SyncError::Upstream { class, message });
    }
    *failures = 0;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(READ_TIMEOUT, resp.chunk()).await {
            Err(_) => {
                return Err(unreachable(
                    &shown,
                    "no data for 45 s (3 keep-alive periods)",
                ));
            }
            Ok(Err(e)) => {
                return Err(unreachable(
                    &shown,
                    format!("the stream broke off: {}", chain(&e)),
                ));
            }
            Ok(Ok(None)) => return Err(unreachable(&shown, "the upstream closed the stream")),
            Ok(Ok(Some(c))) => c,
        };
        buf.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = buf[start..].iter().position(|b| *b == b'\n') {
            let line = &buf[start..start + end];
            start += end + 1;
            let Some(sync) = sync.upgrade() else {
                return Ok(());
            };
            handle(&sync, keys, line, &shown)?;
            *reported = false;
        }
        buf.drain(..start);
        if buf.len() > MAX_LINE_BYTES {
            return Err(unreachable(&shown, "a stream line is longer than 256 MiB"));
        }
    }
}

/// Feeds one line to the sync.
fn handle(sync: &SyncHandle, keys: &[String], line: &[u8], shown: &str) -> Result<(), SyncError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let message: Message = serde_json::from_slice(line).map_err(|e| SyncError::Upstream {
        class: ErrorClass::Other,
        message: format!("the upstream {shown} sent a line that is not a relay message: {e}"),
    })?;
    match message {
        Message::Hello { .. } | Message::Keepalive => {}
        Message::State(state) | Message::Current(state) => {
            let key = state.environment.clone();
            if !keys.contains(&key) {
                return Ok(());
            }
            let revision = state.into_revision().map_err(|e| SyncError::Upstream {
                class: ErrorClass::Other,
                message: format!("the upstream {shown} sent a malformed state of {key:?}: {e}"),
            })?;
            tracing::debug!(environment = %key, state = %revision.label, "relay: state received");
            sync.offer(&key, revision);
        }
    }
    Ok(())
}

/// Headers a forwarded webhook keeps (the signature and event headers of GitHub, GitLab, Gitea).
const FORWARDED_HEADERS: &[&str] = &[
    "content-type",
    "x-github-event",
    "x-github-delivery",
    "x-hub-signature-256",
    "x-gitlab-event",
    "x-gitlab-token",
    "x-gitea-event",
    "x-gitea-signature",
    "x-forgejo-event",
    "x-forgejo-signature",
    "x-request-id",
];

/// Relay mode: sends `req` (a webhook, `POST /api/v1/sync`, a break-glass action) as it came
/// (same method, path and body) to the upstream, with
/// the relay's token, and answers with the upstream's answer (`X-Switchyard-Forwarded-To` names
/// it). The upstream checks the webhook's signature; its swap then reaches every relay through
/// the stream.
pub(crate) async fn forward(state: &AppState, upstream: &UpstreamConfig, req: Request) -> Response {
    let shown = upstream.shown_url();
    let Some(client) = state.relay_client() else {
        return ApiError::internal("the relay's HTTP client could not be built").into_response();
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (parts, body) = req.into_parts();
    let body = match crate::body::read_limited(body, state, state.config().max_webhook_bytes).await
    {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut out = client
        .request(
            parts.method.clone(),
            format!("{}{path}", upstream.url.trim_end_matches('/')),
        )
        .body(body.to_vec());
    for name in FORWARDED_HEADERS {
        if let Some(v) = parts.headers.get(*name) {
            out = out.header(*name, v.as_bytes());
        }
    }
    if let Some(t) = &upstream.token {
        out = out.bearer_auth(t);
    }
    let answer = async {
        let resp = out.send().await?;
        let status = resp.status();
        let content_type = resp.headers().get("content-type").cloned();
        let bytes = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, content_type, bytes))
    };
    let forwarded = HeaderValue::from_str(&shown).ok();
    match tokio::time::timeout(FORWARD_TIMEOUT, answer).await {
        Ok(Ok((status, content_type, bytes))) => {
            tracing::info!(upstream = %shown, path = %path, status = status.as_u16(), "relay: forwarded to the upstream");
            let mut resp = (status, Body::from(bytes)).into_response();
            if let Some(ct) = content_type {
                resp.headers_mut()
                    .insert(axum::http::header::CONTENT_TYPE, ct);
            }
            if let Some(f) = forwarded {
                resp.headers_mut()
                    .insert(HeaderName::from_static("x-switchyard-forwarded-to"), f);
            }
            resp
        }
        Ok(Err(e)) => ApiError::bad_gateway(format!(
            "upstream unreachable: {shown}: {}; the request was not forwarded",
            chain(&e)
        ))
        .into_response(),
        Err(_) => ApiError::bad_gateway(format!(
            "upstream unreachable: {shown} did not answer within 10 s"
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for n in 1..20 {
            let d = backoff(n);
            assert!(d <= BACKOFF_MAX, "{n}: {d:?}");
            assert!(d >= BACKOFF_MIN / 2, "{n}: {d:?}");
        }
        assert!(backoff(1) <= BACKOFF_MIN);
        assert!(backoff(10) >= BACKOFF_MAX / 2);
    }
}
