//! `switchyard admin`: break-glass actions on a running server through its HTTP API
//! (`/api/v1/environments/{env}/...`), with an admin token. Prints the server's answer (the
//! environment's break-glass state as JSON); exit 1 with the server's message when it refuses,
//! 2 when it cannot be reached.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::cli::{AdminAction, AdminArgs};

/// Runs `admin`.
pub fn run(args: &AdminArgs) -> Result<ExitCode> {
    let timeout = switchyard_sync::config::parse_duration(&args.timeout)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow!("invalid --timeout {:?} (e.g. 15s)", args.timeout))?;
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()?;
    let (method, path, body) = request(args)?;
    let base = args.url.trim_end_matches('/');
    let url = format!(
        "{base}/api/v1/environments/{}/{path}",
        segment(&args.environment)
    );
    let mut req = client.request(method, &url);
    if let Some(t) = &args.token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&b)?);
    }
    let resp = match req.send() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard admin: {url}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let status = resp.status();
    let text = resp.text().unwrap_or_default();
    let shown = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(text);
    if status.is_success() {
        println!("{shown}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("switchyard admin: {status}: {shown}");
        Ok(ExitCode::from(1))
    }
}

/// A path segment with `/`, `%`, `?` and `#` escaped.
fn segment(s: &str) -> String {
    s.replace('%', "%25")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('#', "%23")
}

/// The method, path below the environment, and JSON body of the action.
fn request(args: &AdminArgs) -> Result<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method;
    Ok(match &args.action {
        AdminAction::Pause { reason } => (
            Method::POST,
            "pause".into(),
            Some(json!({ "reason": reason })),
        ),
        AdminAction::Resume { reason } => (
            Method::POST,
            "resume".into(),
            Some(json!({ "reason": reason })),
        ),
        AdminAction::Pin { commit, reason } => (
            Method::POST,
            "pin".into(),
            Some(json!({ "commit": commit, "reason": reason })),
        ),
        AdminAction::Override {
            flag,
            namespace,
            enabled,
            variant,
            rollout,
            duration,
            reason,
        } => {
            let mut body = json!({ "namespace": namespace, "flag": flag, "reason": reason });
            match (enabled, variant, rollout) {
                (Some(e), None, None) => body["enabled"] = json!(e),
                (None, Some(v), None) => body["variant"] = json!(v),
                (None, None, Some(p)) => body["rollout"] = json!(p),
                _ => {
                    return Err(anyhow!(
                        "give exactly one of --enabled true|false, --variant KEY, --rollout PERCENT"
                    ));
                }
            }
            if let Some(d) = duration {
                body["duration"] = json!(d);
            }
            (Method::POST, "overrides".into(), Some(body))
        }
        AdminAction::Clear {
            flag,
            namespace,
            reason,
        } => (
            Method::DELETE,
            format!("overrides/{}/{}", segment(namespace), segment(flag)),
            Some(json!({ "reason": reason })),
        ),
        AdminAction::Show => (Method::GET, "break-glass".into(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("prod/eu"), "prod%2Feu");
        assert_eq!(segment("a%b?c#d"), "a%25b%3Fc%23d");
    }
}
