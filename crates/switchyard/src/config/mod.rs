//! Configuration files: Flipt v2's (`storage`, `environments`, `credentials`, `authentication`),
//! Flipt v1's `storage.type: git`, and the seed's `storage.type: memory` with a `remote.git`
//! block, all read into one [`Settings`]. Environment variables override any key
//! (`SWITCHYARD_STORAGE__DEFAULT__BRANCH=dev`, path segments joined by `__`), and values may
//! refer to the environment as Flipt v2 does (`${env:GITHUB_TOKEN}`). The file is read with the
//! core's positioned YAML reader, so every error and warning says
//! `file:line:column: path.to.key: message`.

mod de;
mod flipt;
mod keys;
mod node;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use switchyard_core::{Discovery, Limits, parse_tree};
use switchyard_server::ServerConfig;
use switchyard_sync::SyncConfig;

use node::{Node, Origin, Problem};

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// Where the gRPC server listens (`server.grpc_port`; none when it is 0).
    pub grpc_listen: Option<GrpcListen>,
    /// Storages, environments and credentials.
    pub sync: SyncConfig,
    /// Authentication, CORS, webhooks, TLS, limits.
    pub server: ServerConfig,
    /// Which of the supported shapes the file had.
    pub format: Format,
    /// Non-fatal remarks (ignored Flipt keys, undefined credentials), each located.
    pub warnings: Vec<ConfigError>,
}

/// The gRPC listener's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrpcListen {
    /// The HTTP listener's host and `server.grpc_port` (Flipt's 9000 by default).
    pub address: SocketAddr,
    /// Whether `server.grpc_port` was written: a written port that cannot be bound stops the
    /// start; the default one only warns and serves HTTP alone.
    pub explicit: bool,
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

impl Format {
    /// The rule that finds flag files for this shape: Flipt v2's for a v2 file, Flipt v1's
    /// (`.flipt.yml`, `**features.yml` at any depth) for a v1 file and the seed's.
    pub fn discovery(self) -> Discovery {
        match self {
            Format::FliptV2 => Discovery::FliptV2,
            Format::FliptV1 | Format::Seed => Discovery::FliptV1,
        }
    }
}

/// A configuration problem (or warning) at a key of the file or an overriding variable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line; 0 when the value came from an environment variable.
    pub line: u32,
    /// 1-based column; 0 when the value came from an environment variable.
    pub column: u32,
    /// The `SWITCHYARD_…` variable that set the value, if one did.
    pub variable: Option<String>,
    /// The key path, e.g. `storage.default.poll_interval` (empty for the whole file).
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variable {
            Some(v) => write!(f, "{} (overriding {})", v, self.file)?,
            None => write!(f, "{}:{}:{}", self.file, self.line, self.column)?,
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ConfigError {
    fn new(file: &str, p: Problem) -> ConfigError {
        let (line, column, variable) = match p.origin {
            Origin::File(pos) => (pos.line, pos.column, None),
            Origin::Env(v) => (0, 0, Some(v)),
        };
        ConfigError {
            file: file.to_string(),
            line,
            column,
            variable,
            path: p.path,
            message: p.message,
        }
    }
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
    let text = read(path)?;
    parse(&path.display().to_string(), &text, env)
}

/// Parses configuration text (see [`load`]).
pub fn parse(file: &str, text: &str, env: &[(String, String)]) -> Result<Settings, ConfigError> {
    let fail = |p: Problem| ConfigError::new(file, p);
    let mut root = root(file, text)?;
    let mut warnings = Vec::new();
    node::apply_env_overrides(&mut root, env, keys::TOP, &mut warnings);
    node::substitute_env_refs(&mut root, "", env).map_err(fail)?;
    let c = flipt::convert(&root, warnings).map_err(fail)?;
    Ok(Settings {
        listen: c.listen,
        grpc_listen: c.grpc_listen,
        sync: c.sync,
        server: c.server,
        format: c.format,
        warnings: c.warnings.into_iter().map(fail).collect(),
    })
}

/// The shape of a configuration file (overrides from `env` applied), read without checking the
/// rest of it, so no `${env:…}` it refers to needs to be set: what `validate --config` takes
/// the discovery rule from.
pub fn format_of(path: &Path, env: &[(String, String)]) -> Result<Format, ConfigError> {
    let file = path.display().to_string();
    let text = read(path)?;
    let mut root = root(&file, &text)?;
    node::apply_env_overrides(&mut root, env, keys::TOP, &mut Vec::new());
    flipt::format(&root).map_err(|p| ConfigError::new(&file, p))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: 1,
        column: 1,
        variable: None,
        path: String::new(),
        message: format!("cannot read the configuration: {e}"),
    })
}

/// The file's one document as a mapping of sections.
fn root(file: &str, text: &str) -> Result<Node, ConfigError> {
    let fail = |p: Problem| ConfigError::new(file, p);
    let start = Origin::File(switchyard_core::Pos::new(1, 1));
    let mut docs = parse_tree(text, &Limits::default())
        .map_err(|e| fail(Problem::new(&Origin::File(e.pos), "", e.message)))?;
    if docs.len() > 1 {
        return Err(fail(Problem::new(
            &Origin::File(docs[1].pos),
            "",
            "the configuration must be one YAML document (found a second one here)",
        )));
    }
    let mut root = match docs.pop() {
        Some(t) => Node::from_tree(t),
        None => Node::empty_map(start.clone()),
    };
    if matches!(root.value, node::Val::Null) {
        root = Node::empty_map(start);
    }
    if !matches!(root.value, node::Val::Map(_)) {
        return Err(fail(Problem::new(
            &root.origin,
            "",
            format!(
                "the configuration must be a mapping of sections (storage, environments, …), found {}",
                root.kind()
            ),
        )));
    }
    Ok(root)
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
