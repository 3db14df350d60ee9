//! Inbound Git webhooks (GitHub, GitLab, Gitea): a verified push to a followed repository and
//! branch triggers an immediate sync of the environments that follow it.
//!
//! GitHub and Gitea sign the raw body with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`,
//! `X-Gitea-Signature: <hex>`); GitLab sends a shared token (`X-Gitlab-Token`). Every comparison
//! is constant-time. A missing or wrong signature is 401; a body over the limit is 413.
//!
//! On a relay (relay mode) every webhook is forwarded as it came, signature headers and body
//! untouched, to the upstream, which checks it with its own secrets and syncs; the new state
//! then reaches every relay through its stream. A relay needs no webhook secret.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use switchyard_sync::Push;

use crate::error::ApiError;
use crate::state::AppState;

/// The headers and the body, read within the webhook size limit.
async fn read(req: Request, state: &AppState) -> Result<(HeaderMap, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let body = crate::body::read_limited(body, state, state.config().max_webhook_bytes).await?;
    Ok((parts.headers, body))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `signature_hex` is the HMAC-SHA256 of `body` under `secret`.
pub(crate) fn verify_hmac(secret: &str, body: &[u8], signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    expected.as_slice().ct_eq(&given).into()
}

/// Environments following the pushed repository and ref; triggers their sync.
fn trigger_matching(
    state: &AppState,
    urls: &[&str],
    full_name: Option<&str>,
    git_ref: &str,
) -> Vec<String> {
    state.sync().trigger_push(&Push {
        repository_urls: urls,
        full_name,
        git_ref,
    })
}

/// A webhook's answer: the environments it triggered.
#[derive(Serialize)]
struct WebhookAnswer<'a> {
    event: &'a str,
    triggered: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pong: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<bool>,
}

fn accepted(event: &str, triggered: Vec<String>) -> Response {
    tracing::info!(event, environments = ?triggered, "webhook received");
    (
        StatusCode::ACCEPTED,
        Json(WebhookAnswer {
            event,
            triggered,
            pong: None,
            ignored: None,
        }),
    )
        .into_response()
}

fn parse(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("invalid JSON payload: {e}")))
}

fn s<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

/// `POST /api/v1/webhooks/github`.
pub(crate) async fn github(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(upstream) = state.config().upstream.clone() {
        return Ok(crate::relay::forward(&state, &upstream, req).await);
    }
    let Some(secret) = state.config().webhooks.github.clone() else {
        return Err(ApiError::not_found(
            "the github webhook is not configured (no secret)",
        ));
    };
    let (headers, body) = read(req, &state).await?;
    let sig = header(&headers, "x-hub-signature-256").and_then(|v| v.strip_prefix("sha256="));
    if !sig.is_some_and(|sig| verify_hmac(&secret, &body, sig)) {
        return Err(ApiError::unauthenticated(
            "missing or invalid X-Hub-Signature-256",
        ));
    }
    match header(&headers, "x-github-event").unwrap_or("") {
        "ping" => {
            let pong = WebhookAnswer {
                event: "ping",
                triggered: Vec::new(),
                pong: Some(true),
                ignored: None,
            };
            Ok((StatusCode::OK, Json(pong)).into_response())
        }
        "push" => {
            let p = parse(&body)?;
            let urls = [
                s(&p, &["repository", "clone_url"]),
                s(&p, &["repository", "ssh_url"]),
                s(&p, &["repository", "html_url"]),
                s(&p, &["repository", "git_url"]),
            ];
            let triggered = trigger_matching(
                &state,
                &urls,
                Some(s(&p, &["repository", "full_name"])).filter(|n| !n.is_empty()),
                s(&p, &["ref"]),
            );
            Ok(accepted("push", triggered))
        }
        other => Ok((
            StatusCode::ACCEPTED,
            Json(WebhookAnswer {
                event: other,
                triggered: Vec::new(),
                pong: None,
                ignored: Some(true),
            }),
        )
            .into_response()),
    }
}

/// `POST /api/v1/webhooks/gitlab`.
pub(crate) async fn gitlab(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(upstream) = state.config().upstream.clone() {
        return Ok(crate::relay::forward(&state, &upstream, req).await);
    }
    let Some(secret) = state.config().webhooks.gitlab.clone() else {
        return Err(ApiError::not_found(
            "the gitlab webhook is not configured (no token)",
        ));
    };
    let (headers, body) = read(req, &state).await?;
    let ok = header(&headers, "x-gitlab-token")
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(secret.as_bytes())));
    if !ok {
        return Err(ApiError::unauthenticated(
            "missing or invalid X-Gitlab-Token",
        ));
    }
    let p = parse(&body)?;
    let urls = [
        s(&p, &["project", "git_http_url"]),
        s(&p, &["project", "git_ssh_url"]),
        s(&p, &["project", "web_url"]),
        s(&p, &["repository", "git_http_url"]),
    ];
    let name = Some(s(&p, &["project", "path_with_namespace"])).filter(|n| !n.is_empty());
    Ok(accepted(
        "push",
        trigger_matching(&state, &urls, name, s(&p, &["ref"])),
    ))
}

/// `POST /api/v1/webhooks/gitea` (also Forgejo).
pub(crate) async fn gitea(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(upstream) = state.config().upstream.clone() {
        return Ok(crate::relay::forward(&state, &upstream, req).await);
    }
    let Some(secret) = state.config().webhooks.gitea.clone() else {
        return Err(ApiError::not_found(
            "the gitea webhook is not configured (no secret)",
        ));
    };
    let (headers, body) = read(req, &state).await?;
    let sig =
        header(&headers, "x-gitea-signature").or_else(|| header(&headers, "x-forgejo-signature"));
    if !sig.is_some_and(|sig| verify_hmac(&secret, &body, sig)) {
        return Err(ApiError::unauthenticated(
            "missing or invalid X-Gitea-Signature",
        ));
    }
    let p = parse(&body)?;
    let urls = [
        s(&p, &["repository", "clone_url"]),
        s(&p, &["repository", "ssh_url"]),
        s(&p, &["repository", "html_url"]),
    ];
    let name = Some(s(&p, &["repository", "full_name"])).filter(|n| !n.is_empty());
    Ok(accepted(
        "push",
        trigger_matching(&state, &urls, name, s(&p, &["ref"])),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_documented_test_vector() {
        // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody".
        assert!(verify_hmac(
            "It's a Secret to Everybody",
            b"Hello, World!",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(!verify_hmac(
            "It's a Secret to Everybody",
            b"Hello, World?",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(!verify_hmac("x", b"y", "not hex"));
    }
}
