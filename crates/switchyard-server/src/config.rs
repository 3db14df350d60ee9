//! Server settings: authentication tokens and scopes, CORS origins, webhook secrets, body limits,
//! TLS and connection limits.

use std::path::PathBuf;
use std::time::Duration;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Evaluate flags and read snapshots, flags, status and history.
    Evaluation,
    /// Everything, including triggering a sync.
    Admin,
}

/// A static bearer token.
#[derive(Clone)]
pub struct Token {
    /// A name for logs (never the token itself).
    pub name: String,
    /// The secret sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// What it allows.
    pub scope: Scope,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Authentication: off when there are no tokens.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// Accepted tokens; none means authentication is off.
    pub tokens: Vec<Token>,
    /// Whether evaluation, OFREP and snapshot endpoints need no token (for browser apps).
    pub public_evaluation: bool,
}

impl AuthConfig {
    /// Whether any token is configured.
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }
}

/// Secrets of inbound Git webhooks; a missing secret disables that endpoint.
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    /// GitHub: HMAC-SHA256 key for `X-Hub-Signature-256`.
    pub github: Option<String>,
    /// GitLab: the `X-Gitlab-Token` value.
    pub gitlab: Option<String>,
    /// Gitea/Forgejo: HMAC-SHA256 key for `X-Gitea-Signature`.
    pub gitea: Option<String>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecrets")
            .field("github", &self.github.is_some())
            .field("gitlab", &self.gitlab.is_some())
            .field("gitea", &self.gitea.is_some())
            .finish()
    }
}

/// Everything the HTTP layer needs besides the sync.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Tokens and public endpoints.
    pub auth: AuthConfig,
    /// Origins allowed by CORS; `*` allows any; empty turns CORS off (no CORS headers at all).
    pub cors_allowed_origins: Vec<String>,
    /// Webhook secrets.
    pub webhooks: WebhookSecrets,
    /// Largest accepted API request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted webhook body, in bytes.
    pub max_webhook_bytes: usize,
    /// HTTPS instead of plain HTTP (Flipt's `server.protocol: https`, `cert_file`, `cert_key`).
    pub tls: Option<TlsConfig>,
    /// Connection limits and timeouts.
    pub limits: ConnectionLimits,
    /// The public origin clients reach the server at (e.g. `https://flags.example.com`), used for
    /// absolute URLs in responses; without it those URLs are relative.
    pub public_url: Option<String>,
    /// What happens between SIGTERM and exit.
    pub shutdown: ShutdownConfig,
    /// Relay mode: the upstream Switchyard whose relay stream this server follows (its
    /// environments are fed by the relay client; webhooks and `POST /api/v1/sync` are forwarded).
    pub upstream: Option<UpstreamConfig>,
    /// The structured access log (JSON lines); off when `None` (the default).
    pub access_log: Option<crate::access_log::AccessLogTarget>,
    /// OpenTelemetry per request (spans, durations, observable metrics); off unless the binary
    /// started [`crate::telemetry::Telemetry`].
    pub telemetry: crate::telemetry::RequestTelemetry,
    /// The gRPC listener's connection settings (Flipt's `server.grpc_conn_*`).
    pub grpc: GrpcConfig,
    /// Change notifications (`notifications:`); none by default.
    pub notifications: crate::notify::NotifyConfig,
}

/// gRPC connection settings; the port itself is the binary's (`server.grpc_port`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcConfig {
    /// Flipt's `grpc_conn_max_age`: a connection is asked to go away (HTTP/2 GOAWAY) after
    /// this long, so clients rebalance; none by default.
    pub max_connection_age: Option<Duration>,
    /// Flipt's `grpc_conn_max_age_grace`: how long open calls may still finish after that.
    pub max_connection_age_grace: Option<Duration>,
}

/// Relay mode: where the upstream is and the token its relay stream takes.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// The upstream's base URL, `http(s)://host[:port][/prefix]`, without credentials.
    pub url: String,
    /// A static token of the upstream with the admin scope (sent as `Authorization: Bearer`).
    pub token: Option<String>,
}

impl UpstreamConfig {
    /// The URL as shown in logs, status and headers: credentials removed, written as given
    /// otherwise (no `/` added).
    pub fn shown_url(&self) -> String {
        let redacted = switchyard_sync::redact_url(&self.url);
        if self.url.ends_with('/') {
            redacted
        } else {
            redacted.trim_end_matches('/').to_string()
        }
    }
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("url", &self.url)
            .field("token", &self.token.is_some())
            .finish()
    }
}

/// Graceful shutdown: `/ready` answers 503 at once; after `delay` the listener closes; open
/// requests then have `grace_period` to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownConfig {
    /// `server.shutdown_grace_period`: how long open requests may take to finish once the
    /// listener has closed (default 10 s).
    pub grace_period: Duration,
    /// `server.shutdown_delay`: how long the server keeps accepting after the signal, answering
    /// `/ready` 503, so that load balancers take it out first (default 0).
    pub delay: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            grace_period: Duration::from_secs(10),
            delay: Duration::ZERO,
        }
    }
}

/// The certificate and key the HTTPS listener presents.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// Bounds on what connections may hold: how many, and for how long without progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most (lowered to fit the process's open-file limit).
    pub max_connections: usize,
    /// A keep-alive connection with no request in flight is closed after this long.
    pub idle_timeout: Duration,
    /// A request's head (and a new connection's TLS handshake) must arrive within this long.
    pub header_read_timeout: Duration,
    /// A request's body must arrive within this long.
    pub body_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            idle_timeout: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

/// A server setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `public_url` is not an origin.
    #[error(
        "public_url {0:?} must be an origin such as https://flags.example.com (http or https, a host and an optional port; no path, query or credentials)"
    )]
    PublicUrl(String),
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The access log's file cannot be opened for appending.
    #[error("server.access_log: cannot open {path} for appending: {error}")]
    AccessLog {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

impl ServerConfig {
    /// Checks what can be checked before listening: the public URL, the TLS files, the access
    /// log's file.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url
            && origin(url).is_none()
        {
            return Err(ConfigError::PublicUrl(url.clone()));
        }
        if let Some(tls) = &self.tls {
            crate::tls::acceptor(tls)?;
        }
        if let Some(target) = &self.access_log {
            target.open().map_err(|error| ConfigError::AccessLog {
                path: target.to_string(),
                error,
            })?;
        }
        Ok(())
    }

    /// The configured public origin (`scheme://host[:port]`), if it is one.
    pub fn public_origin(&self) -> Option<&str> {
        self.public_url.as_deref().and_then(origin)
    }
}

/// `url` without a trailing `/` when it is `http(s)://host[:port]`.
fn origin(url: &str) -> Option<&str> {
    let trimmed = url.strip_suffix('/').unwrap_or(url);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))?;
    let ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then_some(trimmed)
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            auth: AuthConfig::default(),
            cors_allowed_origins: vec!["*".to_string()],
            webhooks: WebhookSecrets::default(),
            max_body_bytes: 1024 * 1024,
            max_webhook_bytes: 5 * 1024 * 1024,
            tls: None,
            limits: ConnectionLimits::default(),
            public_url: None,
            shutdown: ShutdownConfig::default(),
            upstream: None,
            access_log: None,
            telemetry: crate::telemetry::RequestTelemetry::off(),
            grpc: GrpcConfig::default(),
            notifications: crate::notify::NotifyConfig::default(),
        }
    }
}
