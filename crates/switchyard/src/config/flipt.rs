//! Conversion of the three supported file shapes into [`Settings`](super::Settings).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use switchyard_server::{AuthConfig, Scope, ServerConfig, Token, WebhookSecrets};
use switchyard_sync::{CredentialsConfig, EnvironmentConfig, SyncConfig};

use super::{Format, Settings};

/// A problem at a key path.
#[derive(Debug)]
pub(super) struct PathError {
    pub(super) path: Vec<String>,
    message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path.join("."), self.message)
        }
    }
}

fn err(path: &[&str], message: impl Into<String>) -> PathError {
    PathError {
        path: path.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

fn typed<T: DeserializeOwned>(v: &Value, path: &[&str]) -> Result<T, PathError> {
    serde_json::from_value(v.clone()).map_err(|e| err(path, e.to_string()))
}

fn obj<'v>(v: &'v Value, path: &[&str]) -> Result<Option<&'v Map<String, Value>>, PathError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(err(path, format!("expected a mapping, found {other}"))),
    }
}

/// Converts a parsed configuration file.
pub(super) fn convert(root: &Value) -> Result<Settings, PathError> {
    let mut warnings = Vec::new();
    let storage = root.get("storage").cloned().unwrap_or(Value::Null);
    let storage_type = storage.get("type").and_then(Value::as_str);
    let (format, sync) = match storage_type {
        Some("git") if storage.get("git").is_some() => (Format::FliptV1, v1(&storage)?),
        Some(_) if storage.get("remote").is_some() => {
            (Format::Seed, seed(root, &storage, &mut warnings)?)
        }
        Some(t) => {
            return Err(err(
                &["storage", "type"],
                format!(
                    "storage type {t:?} has no git repository to follow: Flipt v1 uses `storage.type: git` with `storage.git.repository`; Flipt v2 uses `storage.<id>.remote`"
                ),
            ));
        }
        None => (Format::FliptV2, v2(root, &mut warnings)?),
    };
    sync.validate()
        .map_err(|e| err(&["storage"], e.to_string()))?;
    let server = server(root)?;
    let listen = listen(root)?;
    Ok(Settings {
        listen,
        sync,
        server,
        format,
        warnings,
    })
}

fn credentials(
    root: &Value,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, CredentialsConfig>, PathError> {
    let mut out = BTreeMap::new();
    if let Some(map) = obj(
        root.get("credentials").unwrap_or(&Value::Null),
        &["credentials"],
    )? {
        for (id, c) in map {
            if c.get("type").and_then(Value::as_str) == Some("github_app") {
                warnings.push(format!("credentials.{id}: github_app credentials are not supported; use an access_token"));
                return Err(err(
                    &["credentials", id, "type"],
                    "github_app credentials are not supported yet; use type: access_token with an installation or personal token",
                ));
            }
            out.insert(id.clone(), typed(c, &["credentials", id])?);
        }
    }
    Ok(out)
}

fn strip(
    m: &Map<String, Value>,
    ignored: &[&str],
    prefix: &str,
    warnings: &mut Vec<String>,
) -> Value {
    let mut m = m.clone();
    for k in ignored {
        if m.remove(*k).is_some() {
            warnings.push(format!(
                "{prefix}.{k} is a Flipt write-back setting and is ignored (Switchyard only reads)"
            ));
        }
    }
    Value::Object(m)
}

fn v2(root: &Value, warnings: &mut Vec<String>) -> Result<SyncConfig, PathError> {
    let mut sync = SyncConfig {
        credentials: credentials(root, warnings)?,
        ..SyncConfig::default()
    };
    let storage = obj(root.get("storage").unwrap_or(&Value::Null), &["storage"])?;
    let Some(storage) = storage.filter(|m| !m.is_empty()) else {
        return Err(err(
            &["storage"],
            "no storage configured: add `storage: { default: { remote: <git URL>, branch: main } }`",
        ));
    };
    for (id, s) in storage {
        let Some(m) = obj(s, &["storage", id])? else {
            return Err(err(
                &["storage", id],
                "expected a mapping with `remote`, `branch`, …",
            ));
        };
        let cleaned = strip(
            m,
            &["name", "signature"],
            &format!("storage.{id}"),
            warnings,
        );
        sync.storage
            .insert(id.clone(), typed(&cleaned, &["storage", id])?);
    }
    match obj(
        root.get("environments").unwrap_or(&Value::Null),
        &["environments"],
    )? {
        Some(envs) if !envs.is_empty() => {
            for (id, e) in envs {
                let m = obj(e, &["environments", id])?.cloned().unwrap_or_default();
                let cleaned = strip(
                    &m,
                    &["name", "scm"],
                    &format!("environments.{id}"),
                    warnings,
                );
                sync.environments
                    .insert(id.clone(), typed(&cleaned, &["environments", id])?);
            }
        }
        _ => {
            let storage_id = if sync.storage.contains_key("default") {
                "default".to_string()
            } else if sync.storage.len() == 1 {
                sync.storage.keys().next().cloned().unwrap_or_default()
            } else {
                return Err(err(
                    &["environments"],
                    "several storages but no environments: add `environments: { <name>: { storage: <id> } }`",
                ));
            };
            sync.environments.insert(
                "default".into(),
                EnvironmentConfig {
                    default: true,
                    ..EnvironmentConfig::new(storage_id, "")
                },
            );
        }
    }
    Ok(sync)
}

fn v1(storage: &Value) -> Result<SyncConfig, PathError> {
    let git = obj(&storage["git"], &["storage", "git"])?
        .cloned()
        .unwrap_or_default();
    let get = |k: &str| git.get(k).cloned().unwrap_or(Value::Null);
    let repository = get("repository")
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                &["storage", "git", "repository"],
                "git repository must be specified",
            )
        })?;
    let reference = get("ref").as_str().unwrap_or("main").to_string();
    match get("ref_type").as_str().unwrap_or("static") {
        "static" => {}
        "semver" => {
            return Err(err(
                &["storage", "git", "ref_type"],
                "ref_type semver is not supported yet; pin a tag or a commit, or follow a branch",
            ));
        }
        other => {
            return Err(err(
                &["storage", "git", "ref_type"],
                format!("invalid git storage reference type {other:?} (static or semver)"),
            ));
        }
    }
    let mut s = json!({"remote": repository});
    if reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit()) {
        s["commit"] = json!(reference);
    } else {
        s["branch"] = json!(reference);
    }
    for k in [
        "poll_interval",
        "backend",
        "ca_cert_path",
        "ca_cert_bytes",
        "insecure_skip_tls",
        "timeouts",
        "allow_flag_loss",
        "max_flag_loss_percent",
    ] {
        if !get(k).is_null() {
            s[k] = get(k);
        }
    }
    let mut sync = SyncConfig::default();
    let auth = get("authentication");
    if let Some(a) = obj(&auth, &["storage", "git", "authentication"])? {
        // v1 applies one method, in the order basic, token, ssh.
        let cred = if let Some(b) = a.get("basic") {
            json!({"type": "basic", "basic": b})
        } else if let Some(t) = a.get("token") {
            let token = t.get("access_token").cloned().unwrap_or(Value::Null);
            json!({"type": "bearer", "bearer_token": token})
        } else if let Some(ssh) = a.get("ssh") {
            json!({"type": "ssh", "ssh": ssh})
        } else {
            Value::Null
        };
        if !cred.is_null() {
            sync.credentials.insert(
                "git".into(),
                typed(&cred, &["storage", "git", "authentication"])?,
            );
            s["credentials"] = json!("git");
        }
    }
    sync.storage
        .insert("default".into(), typed(&s, &["storage", "git"])?);
    let directory = get("directory").as_str().unwrap_or("").to_string();
    sync.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", directory)
        },
    );
    Ok(sync)
}

fn seed(
    root: &Value,
    storage: &Value,
    warnings: &mut Vec<String>,
) -> Result<SyncConfig, PathError> {
    let remote = &storage["remote"];
    match remote.get("type").and_then(Value::as_str) {
        Some("git") | None => {}
        Some(other) => {
            return Err(err(
                &["storage", "remote", "type"],
                format!("remote type {other:?} is not supported; only git"),
            ));
        }
    }
    let git = obj(&remote["git"], &["storage", "remote", "git"])?
        .cloned()
        .unwrap_or_default();
    let mut s = Map::new();
    for (k, v) in &git {
        match k.as_str() {
            "repository" => {
                s.insert("remote".into(), v.clone());
            }
            _ => {
                s.insert(k.clone(), v.clone());
            }
        }
    }
    if !s.contains_key("remote") {
        return Err(err(
            &["storage", "remote", "git", "repository"],
            "git repository must be specified",
        ));
    }
    let mut sync = SyncConfig {
        credentials: credentials(root, warnings)?,
        ..SyncConfig::default()
    };
    if let Some(name) = s
        .get("credentials")
        .and_then(Value::as_str)
        .map(str::to_string)
        && !sync.credentials.contains_key(&name)
    {
        warnings.push(format!(
                "credentials {name:?} are not defined in `credentials:`; fetching without credentials (define credentials.{name} with type access_token, basic or ssh, e.g. access_token: ${{env:GITHUB_TOKEN}})"
            ));
        s.remove("credentials");
    }
    sync.storage.insert(
        "default".into(),
        typed(&Value::Object(s), &["storage", "remote", "git"])?,
    );
    sync.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", "")
        },
    );
    Ok(sync)
}

fn server(root: &Value) -> Result<ServerConfig, PathError> {
    let mut cfg = ServerConfig::default();
    if let Some(origins) = root.pointer("/cors/allowed_origins") {
        cfg.cors_allowed_origins = typed(origins, &["cors", "allowed_origins"])?;
    }
    if let Some(auth) = obj(
        root.get("authentication").unwrap_or(&Value::Null),
        &["authentication"],
    )? {
        let mut a = AuthConfig::default();
        let exclude = auth.get("exclude").cloned().unwrap_or(Value::Null);
        a.public_evaluation = exclude
            .get("evaluation")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || exclude
                .get("ofrep")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let tokens = auth
            .get("methods")
            .and_then(|m| m.get("token"))
            .cloned()
            .unwrap_or(Value::Null);
        let enabled = tokens
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if enabled
            && let Some(map) = obj(
                tokens.pointer("/storage/tokens").unwrap_or(&Value::Null),
                &["authentication", "methods", "token", "storage", "tokens"],
            )?
        {
            for (name, t) in map {
                let path = [
                    "authentication",
                    "methods",
                    "token",
                    "storage",
                    "tokens",
                    name.as_str(),
                ];
                let Some(credential) = t
                    .get("credential")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                else {
                    return Err(err(&path, "a token needs a non-empty `credential`"));
                };
                let scope = match t
                    .pointer("/metadata/scope")
                    .and_then(Value::as_str)
                    .unwrap_or("admin")
                {
                    "admin" => Scope::Admin,
                    "evaluation" | "read" => Scope::Evaluation,
                    other => {
                        return Err(err(
                            &path,
                            format!("unknown token scope {other:?}: use admin or evaluation"),
                        ));
                    }
                };
                a.tokens.push(Token {
                    name: name.clone(),
                    token: credential.to_string(),
                    scope,
                });
            }
        }
        if auth.get("required").and_then(Value::as_bool) == Some(true) && a.tokens.is_empty() {
            return Err(err(
                &["authentication", "required"],
                "authentication is required but no token is configured under authentication.methods.token.storage.tokens",
            ));
        }
        cfg.auth = a;
    }
    if let Some(w) = obj(root.get("webhooks").unwrap_or(&Value::Null), &["webhooks"])? {
        let secret = |provider: &str, key: &str| {
            w.get(provider)
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        cfg.webhooks = WebhookSecrets {
            github: secret("github", "secret"),
            gitlab: secret("gitlab", "token"),
            gitea: secret("gitea", "secret"),
        };
    }
    Ok(cfg)
}

fn listen(root: &Value) -> Result<SocketAddr, PathError> {
    let host = root
        .pointer("/server/host")
        .and_then(Value::as_str)
        .unwrap_or("0.0.0.0");
    let port = match root.pointer("/server/http_port") {
        None => 8080,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|p| *p <= 65535)
            .ok_or_else(|| err(&["server", "http_port"], format!("invalid port {v}")))?,
    };
    format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .map_err(|e| {
            err(
                &["server", "host"],
                format!("invalid listen address {host}:{port}: {e}"),
            )
        })
}
