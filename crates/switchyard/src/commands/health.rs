//! `switchyard health`: one bounded HTTP check of a running server, for container health checks
//! in images without curl. Exit 0 on a 2xx answer, 1 on anything else (Docker's HEALTHCHECK
//! reserves 2, so every failure, including a bad argument value, is 1).

use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};

use crate::cli::HealthArgs;

/// The port `serve` listens on when nothing else is configured.
const DEFAULT_PORT: u16 = 8080;
/// How much of a failing answer's body goes into the message.
const BODY_EXCERPT: u64 = 512;

/// Runs `health`.
pub fn run(args: &HealthArgs) -> Result<ExitCode> {
    let listen = std::env::var("SWITCHYARD_LISTEN").ok();
    match check(args, listen.as_deref()) {
        Ok(line) => {
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("switchyard health: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The URL to check: `--url`, else `/health` on the port of `SWITCHYARD_LISTEN`, else 8080.
fn target_url(args: &HealthArgs, listen: Option<&str>) -> Result<String> {
    if let Some(url) = &args.url {
        return Ok(url.clone());
    }
    let port = match listen {
        None => DEFAULT_PORT,
        Some(l) => l
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .ok_or_else(|| {
                anyhow!("SWITCHYARD_LISTEN={l:?} has no port; pass --url http://HOST:PORT/health")
            })?,
    };
    Ok(format!("http://127.0.0.1:{port}/health"))
}

/// One request with a total deadline; the success line, or why it failed.
fn check(args: &HealthArgs, listen: Option<&str>) -> Result<String> {
    let timeout = switchyard_sync::config::parse_duration(&args.timeout)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow!("invalid --timeout {:?} (e.g. 3s, 500ms)", args.timeout))?;
    let url = target_url(args, listen)?;
    let client = client(timeout)?;
    let mut response = client
        .get(&url)
        .send()
        .map_err(|e| anyhow!("{url}: {}", describe(&e, timeout)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(format!("{url}: {status}"));
    }
    let mut body = String::new();
    // the answer is already known to be a failure: a body that cannot be read adds nothing
    let _ = (&mut response).take(BODY_EXCERPT).read_to_string(&mut body);
    let body = body.trim();
    if body.is_empty() {
        Err(anyhow!("{url}: {status}"))
    } else {
        Err(anyhow!("{url}: {status}: {body}"))
    }
}

/// A client for loopback checks: no proxy from the environment, no redirects, one deadline.
fn client(timeout: Duration) -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .context("building the HTTP client")
}

/// A request error in a few words: timeouts and refused connections say so.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {timeout:?}")
    } else if e.is_connect() {
        // the innermost cause says why ("Connection refused", a DNS failure)
        let mut cause: &dyn std::error::Error = e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        format!("cannot connect: {cause}")
    } else if e.is_builder() {
        format!("invalid URL: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: Option<&str>) -> HealthArgs {
        HealthArgs {
            url: url.map(str::to_string),
            timeout: "1s".into(),
        }
    }

    #[test]
    fn url_defaults_to_the_listen_port() {
        assert_eq!(
            target_url(&args(None), None).ok().as_deref(),
            Some("http://127.0.0.1:8080/health")
        );
        assert_eq!(
            target_url(&args(None), Some("0.0.0.0:9000"))
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:9000/health")
        );
        assert_eq!(
            target_url(&args(Some("http://h:1/ready")), Some("0.0.0.0:9000"))
                .ok()
                .as_deref(),
            Some("http://h:1/ready")
        );
        assert!(target_url(&args(None), Some("nope")).is_err());
    }
}
