//! Configuration files: Flipt v2's (`storage`, `environments`, `credentials`, `authentication`),
//! Flipt v1's `storage.type: git`, and the seed's `storage.type: memory` with a `remote.git`
//! block, all read into one [`Settings`]. Environment variables override any key
//! (`SWITCHYARD_STORAGE__DEFAULT__BRANCH=dev`, path segments joined by `__`), and values may
//! refer to the environment as Flipt v2 does (`${env:GITHUB_TOKEN}`).

mod flipt;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_server::ServerConfig;
use switchyard_sync::SyncConfig;

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// Storages, environments and credentials.
    pub sync: SyncConfig,
    /// Authentication, CORS, webhooks, limits.
    pub server: ServerConfig,
    /// Which of the supported shapes the file had.
    pub format: Format,
    /// Non-fatal remarks (ignored Flipt keys, undefined credentials), for the log.
    pub warnings: Vec<String>,
}

/// The shape of the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Flipt v2: `storage.<id>`, `environments.<id>`, `credentials.<id>`.
    FliptV2,
    /// Flipt v1: `storage.type: git` with `storage.git`.
    FliptV1,
    /// The seed's `flipt/flipt.yml`: `storage.type: memory|local` with `storage.remote.git`.
    Seed,
}

/// A configuration problem, located in the file where possible.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line (1 when unknown).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Files tried, in order, when `--config` is not given.
pub const DEFAULT_PATHS: &[&str] = &[
    "switchyard.yml",
    "switchyard.yaml",
    "flipt.yml",
    "flipt.yaml",
    "flipt/flipt.yml",
    "/etc/flipt/config/default.yml",
];

/// The config file to use: the given one, `SWITCHYARD_CONFIG`, or the first default that exists.
pub fn locate(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    if let Ok(p) = std::env::var("SWITCHYARD_CONFIG") {
        return Some(PathBuf::from(p));
    }
    DEFAULT_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Reads and checks a configuration file, applying overrides from `env`.
pub fn load(path: &Path, env: &[(String, String)]) -> Result<Settings, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 1,
        message: format!("cannot read the configuration: {e}"),
    })?;
    parse(&file, &text, env)
}

/// Parses configuration text (see [`load`]).
pub fn parse(file: &str, text: &str, env: &[(String, String)]) -> Result<Settings, ConfigError> {
    let mut value: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_saphyr::from_str(text).map_err(|e| syntax_error(file, &e.to_string()))?
    };
    if value.is_null() {
        value = Value::Object(Default::default());
    }
    if !value.is_object() {
        return Err(ConfigError {
            file: file.into(),
            line: 1,
            message: "the configuration must be a mapping of sections (storage, environments, …)"
                .into(),
        });
    }
    apply_env_overrides(&mut value, env);
    substitute_env_refs(&mut value, env).map_err(|m| ConfigError {
        file: file.into(),
        line: 1,
        message: m,
    })?;
    flipt::convert(&value).map_err(|e| ConfigError {
        file: file.into(),
        line: line_of(text, &e.path),
        message: e.to_string(),
    })
}

fn syntax_error(file: &str, msg: &str) -> ConfigError {
    // serde-saphyr says "line L column C: …"
    let line = msg
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let first = msg.lines().next().unwrap_or(msg);
    ConfigError {
        file: file.into(),
        line,
        message: format!("invalid YAML: {first}"),
    }
}

/// `SWITCHYARD_A__B__C=v` sets `a.b.c` (lower-cased); `true`/`false` and integers keep their type.
fn apply_env_overrides(root: &mut Value, env: &[(String, String)]) {
    for (k, v) in env {
        let Some(path) = k.strip_prefix("SWITCHYARD_") else {
            continue;
        };
        if path == "CONFIG" || path == "LISTEN" || path.is_empty() {
            continue;
        }
        let segments: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let value = match v.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(v.clone())),
        };
        let mut cur = &mut *root;
        for (i, seg) in segments.iter().enumerate() {
            if !cur.is_object() {
                *cur = Value::Object(Default::default());
            }
            let Value::Object(map) = cur else { break };
            if i + 1 == segments.len() {
                map.insert(seg.clone(), value.clone());
                break;
            }
            cur = map
                .entry(seg.clone())
                .or_insert_with(|| Value::Object(Default::default()));
        }
    }
}

/// Replaces `${env:NAME}` in string values; an unset variable is an error naming it.
fn substitute_env_refs(v: &mut Value, env: &[(String, String)]) -> Result<(), String> {
    match v {
        Value::String(s) if s.contains("${env:") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${env:") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 6..];
                let Some(end) = after.find('}') else {
                    return Err(format!("unterminated ${{env:…}} in {s:?}"));
                };
                let name = &after[..end];
                let val = env
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        format!(
                            "environment variable {name} is not set (referenced as ${{env:{name}}})"
                        )
                    })?;
                out.push_str(&val);
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            *s = out;
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|i| substitute_env_refs(i, env)),
        Value::Object(map) => map
            .values_mut()
            .try_for_each(|i| substitute_env_refs(i, env)),
        _ => Ok(()),
    }
}

/// The line where the key path (`storage.flags.branch`) is written, found by indentation.
fn line_of(text: &str, path: &[String]) -> usize {
    let mut line_no = 1;
    let mut depth_indent: Option<usize> = None;
    let mut idx = 0;
    for (n, line) in text.lines().enumerate() {
        if idx >= path.len() {
            break;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let key = trimmed
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .trim_matches('\'');
        if key == path[idx] && depth_indent.is_none_or(|d| indent > d) {
            line_no = n + 1;
            depth_indent = Some(indent);
            idx += 1;
        }
    }
    line_no
}

/// The listen address: `--listen`, else `SWITCHYARD_LISTEN`, else `server.host`/`server.http_port`.
pub fn listen_address(
    cli: Option<&str>,
    settings_default: SocketAddr,
) -> Result<SocketAddr, String> {
    let given = cli
        .map(str::to_string)
        .or_else(|| std::env::var("SWITCHYARD_LISTEN").ok());
    match given {
        Some(s) => s.parse().map_err(|e| {
            format!("invalid listen address {s:?}: {e} (expected host:port such as 127.0.0.1:8080)")
        }),
        None => Ok(settings_default),
    }
}

#[cfg(test)]
mod tests;
