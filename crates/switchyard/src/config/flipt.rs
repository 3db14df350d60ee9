//! Conversion of the three supported file shapes into settings, every problem located.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use switchyard_core::ExtraChecks;
use switchyard_server::notify::{NotifyConfig, Sink};
use switchyard_server::{
    AccessLogTarget, AuthConfig, Scope, ServerConfig, TlsConfig, Token, UpstreamConfig,
    WebhookSecrets,
};
use switchyard_sync::config::ConfigError as SyncConfigError;
use switchyard_sync::{
    BackendConfig, BackendKind, CredentialsConfig, EnvironmentConfig, FetchPolicy, StorageConfig,
    SyncConfig,
};

use super::Format;
use super::de::from_node;
use super::keys;
use super::node::{Entry, Node, Origin, Problem, Val, join};

/// The shortest static token accepted, in bytes.
const MIN_TOKEN_BYTES: usize = 16;

/// What a file converts to.
pub(super) struct Converted {
    pub(super) listen: SocketAddr,
    pub(super) grpc_listen: Option<super::GrpcListen>,
    pub(super) sync: SyncConfig,
    pub(super) server: ServerConfig,
    pub(super) format: Format,
    pub(super) warnings: Vec<Problem>,
}

/// Where the storages, environments and credentials were written, for the sync's own checks.
#[derive(Default)]
struct Written {
    storage: BTreeMap<String, (Node, String)>,
    environments: BTreeMap<String, (Node, String)>,
    credentials: BTreeMap<String, (Node, String)>,
}

/// Converts a parsed configuration file.
pub(super) fn convert(root: &Node, mut warnings: Vec<Problem>) -> Result<Converted, Problem> {
    keys::check(root, &mut warnings)?;
    if let Some(up) = root.get("upstream") {
        let (mut sync, upstream) = relay(root, up)?;
        sync.extra_checks = extra_checks(root)?;
        if let Some(max) = max_override(root)? {
            sync.max_override = max;
        }
        let mut server = server(root, &mut warnings)?;
        server.upstream = Some(upstream);
        let listen = listen(root, server.tls.is_some())?;
        return Ok(Converted {
            grpc_listen: grpc_listen(root, listen)?,
            listen,
            sync,
            server,
            format: Format::FliptV2,
            warnings,
        });
    }
    let mut written = Written::default();
    let format = format(root)?;
    let storage = root.get("storage").unwrap_or(root);
    let mut sync = match format {
        Format::FliptV1 => v1(storage, &mut written)?,
        Format::Seed => seed(root, storage, &mut warnings, &mut written)?,
        Format::FliptV2 => v2(root, &mut warnings, &mut written)?,
    };
    for e in sync.environments.values_mut() {
        e.discovery = format.discovery();
    }
    sync.validate()
        .map_err(|e| locate_sync_error(&e, &written, root))?;
    sync.extra_checks = extra_checks(root)?;
    if let Some(e) = root.get("sync").and_then(|s| s.entry("poll_jitter_seed")) {
        sync.poll_jitter_seed = Some(from_node(&e.value, "sync.poll_jitter_seed")?);
    }
    if let Some(max) = max_override(root)? {
        sync.max_override = max;
    }
    let server = server(root, &mut warnings)?;
    let listen = listen(root, server.tls.is_some())?;
    Ok(Converted {
        grpc_listen: grpc_listen(root, listen)?,
        listen,
        sync,
        server,
        format,
        warnings,
    })
}

/// Relay mode's `upstream` section: `url` (required), `token`, `environments` (a list, or
/// comma-separated; default `[default]`) and `backend` (`memory`, or `local` with a `path` where
/// the last good states are kept). Each environment gets its own fed storage.
fn relay(root: &Node, up: &Node) -> Result<(SyncConfig, UpstreamConfig), Problem> {
    up.mapping("upstream")?;
    keys::known(up, "upstream", &["url", "token", "environments", "backend"])?;
    for section in ["storage", "environments", "credentials"] {
        if let Some(e) = root.entry(section) {
            return Err(Problem::new(
                &e.origin,
                section,
                format!(
                    "a relay (`upstream`) follows another Switchyard, not Git: remove `{section}` (list the environments under `upstream.environments`), or remove `upstream` to sync from Git"
                ),
            ));
        }
    }
    let url_entry = up.entry("url").ok_or_else(|| {
        Problem::new(
            &up.origin,
            "upstream.url",
            "the upstream Switchyard's URL is required, e.g. `url: http://switchyard-upstream:8080` (or `--upstream URL`)",
        )
    })?;
    let url = url_entry.value.as_str().unwrap_or("").trim().to_string();
    let bad_url = |why: &str| {
        Problem::new(
            &url_entry.value.origin,
            "upstream.url",
            format!("{why}, found {url:?}"),
        )
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| bad_url("must be an http:// or https:// URL of the upstream Switchyard, e.g. http://switchyard-upstream:8080"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(bad_url(
            "must name the upstream's host, e.g. http://switchyard-upstream:8080",
        ));
    }
    if host.contains('@') {
        return Err(bad_url(
            "must not hold credentials: put the upstream's admin token in `upstream.token` (or SWITCHYARD_UPSTREAM__TOKEN)",
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(bad_url("must have no query or fragment"));
    }
    let token = match up.entry("token") {
        None => None,
        Some(e) => match e.value.as_str() {
            Some(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => {
                return Err(Problem::new(
                    &e.value.origin,
                    "upstream.token",
                    "must be one of the upstream's static tokens with the admin scope (a non-empty string); remove the key when the upstream has no authentication",
                ));
            }
        },
    };
    let environments: Vec<String> = match up.entry("environments") {
        None => vec!["default".to_string()],
        Some(e) => {
            let list: Vec<String> = match e.value.as_str() {
                Some(s) => s.split(',').map(|k| k.trim().to_string()).collect(),
                None => from_node(&e.value, "upstream.environments")?,
            };
            if list.is_empty() || list.iter().any(String::is_empty) {
                return Err(Problem::new(
                    &e.value.origin,
                    "upstream.environments",
                    "list the upstream's environment keys this relay serves, e.g. `environments: [production, staging]`; none may be empty",
                ));
            }
            list
        }
    };
    let backend: BackendConfig = match up.get("backend") {
        Some(b) => from_node(b, "upstream.backend")?,
        None => BackendConfig::default(),
    };
    if backend.kind == BackendKind::Local
        && backend
            .path
            .as_deref()
            .is_none_or(|p| p.as_os_str().is_empty())
    {
        let at = up.get("backend").map_or(&up.origin, |b| &b.origin);
        return Err(Problem::new(
            at,
            "upstream.backend.path",
            "the local backend needs `path`: the directory where the relay keeps its last good states (served at once after a restart)",
        ));
    }
    let upstream = UpstreamConfig { url, token };
    let shown = upstream.shown_url();
    let default = if environments.iter().any(|k| k == "default") {
        "default".to_string()
    } else {
        environments[0].clone()
    };
    let mut sync = SyncConfig::default();
    for key in &environments {
        let id = format!("upstream:{key}");
        sync.storage.insert(
            id.clone(),
            StorageConfig {
                upstream: Some(shown.clone()),
                backend: backend.clone(),
                fetch_policy: FetchPolicy::Lenient,
                ..StorageConfig::default()
            },
        );
        sync.environments.insert(
            key.clone(),
            EnvironmentConfig {
                default: *key == default,
                ..EnvironmentConfig::new(id, "")
            },
        );
    }
    sync.validate()
        .map_err(|e| Problem::new(&up.origin, "upstream", e.to_string()))?;
    Ok((sync, upstream))
}

/// Which of the three shapes `root` has: `storage.type: git` with `storage.git` is Flipt v1's,
/// another `storage.type` with `storage.remote` the seed's, no `storage.type` Flipt v2's.
pub(super) fn format(root: &Node) -> Result<Format, Problem> {
    let storage = root.get("storage");
    match storage.and_then(|s| s.get("type")) {
        Some(t) if t.as_str() == Some("git") && storage.and_then(|s| s.get("git")).is_some() => {
            Ok(Format::FliptV1)
        }
        Some(_) if storage.and_then(|s| s.get("remote")).is_some() => Ok(Format::Seed),
        Some(t) => {
            let shown = t.as_str().unwrap_or(t.kind());
            Err(Problem::new(
                &t.origin,
                "storage.type",
                format!(
                    "storage type {shown:?} has no git repository to follow: Flipt v1 uses `storage.type: git` with `storage.git.repository`; Flipt v2 uses `storage.<id>.remote`"
                ),
            ))
        }
        None => Ok(Format::FliptV2),
    }
}

/// The sync's own check failed: point at the key it is about.
fn locate_sync_error(e: &SyncConfigError, w: &Written, root: &Node) -> Problem {
    let msg = e.to_string();
    let at = |m: &BTreeMap<String, (Node, String)>, id: &str, keys: &[&str]| -> Problem {
        let Some((node, path)) = m.get(id) else {
            return Problem::new(&root.origin, "", msg.clone());
        };
        for k in keys {
            if let Some(e) = node.entry(k) {
                return Problem::new(&e.origin, &join(path, &e.written), msg.clone());
            }
        }
        Problem::new(&node.origin, path, msg.clone())
    };
    match e {
        SyncConfigError::NoEnvironments => Problem::new(&root.origin, "environments", msg),
        SyncConfigError::Source(id) => at(&w.storage, id, &["local_path", "remote"]),
        SyncConfigError::PollInterval(id) => at(&w.storage, id, &["poll_interval"]),
        SyncConfigError::Timeouts(id, _) => at(&w.storage, id, &["timeouts"]),
        SyncConfigError::FlagLoss(id) => at(&w.storage, id, &["max_flag_loss_percent"]),
        SyncConfigError::CaCert(id) => at(&w.storage, id, &["ca_cert_bytes"]),
        SyncConfigError::Reference(id, _) => at(&w.storage, id, &["commit", "tag"]),
        SyncConfigError::Remote(id, _) => at(&w.storage, id, &["remote"]),
        SyncConfigError::BackendPath(id) => at(&w.storage, id, &["backend"]),
        SyncConfigError::MissingCredentials(name) => {
            let id = w
                .storage
                .iter()
                .find(|(_, (n, _))| n.get("credentials").and_then(Node::as_str) == Some(name))
                .map(|(id, _)| id.clone())
                .unwrap_or_default();
            at(&w.storage, &id, &["credentials"])
        }
        SyncConfigError::SshKey(name) => at(&w.credentials, name, &["ssh"]),
        SyncConfigError::MissingStorage { environment, .. } => {
            at(&w.environments, environment, &["storage"])
        }
        SyncConfigError::SharedDirectory(_, second, ..) => {
            at(&w.environments, second, &["directory", "storage"])
        }
        SyncConfigError::SeveralDefaults => {
            let second = w
                .environments
                .iter()
                .filter(|(_, (n, _))| n.get("default").and_then(Node::as_bool) == Some(true))
                .nth(1)
                .map(|(id, _)| id.clone())
                .unwrap_or_default();
            at(&w.environments, &second, &["default"])
        }
    }
}

fn credentials(
    root: &Node,
    written: &mut Written,
) -> Result<BTreeMap<String, CredentialsConfig>, Problem> {
    let mut out = BTreeMap::new();
    let Some(node) = root.get("credentials") else {
        return Ok(out);
    };
    for e in node.mapping("credentials")? {
        let path = join("credentials", &e.written);
        if let Some(t) = e.value.entry("type")
            && t.value.as_str() == Some("github_app")
        {
            return Err(Problem::new(
                &t.value.origin,
                &join(&path, "type"),
                "github_app credentials are not supported yet; use type: access_token with an installation or personal token",
            ));
        }
        out.insert(e.key.clone(), from_node(&e.value, &path)?);
        written
            .credentials
            .insert(e.key.clone(), (e.value.clone(), path));
    }
    Ok(out)
}

/// A copy of `m` without Flipt's write-back keys, each one found reported as ignored.
fn strip(m: &Node, ignored: &[&str], path: &str, warnings: &mut Vec<Problem>) -> Node {
    for k in ignored {
        if let Some(e) = m.entry(k) {
            warnings.push(Problem::new(
                &e.origin,
                &join(path, &e.written),
                "a Flipt write-back setting; ignored (Switchyard only reads)",
            ));
        }
    }
    m.without(ignored)
}

fn v2(
    root: &Node,
    warnings: &mut Vec<Problem>,
    written: &mut Written,
) -> Result<SyncConfig, Problem> {
    let mut sync = SyncConfig {
        credentials: credentials(root, written)?,
        ..SyncConfig::default()
    };
    let storage = root.get("storage");
    let entries = match storage {
        Some(s) => s.mapping("storage")?,
        None => &[],
    };
    if entries.is_empty() {
        let origin = storage.map_or(&root.origin, |s| &s.origin);
        return Err(Problem::new(
            origin,
            "storage",
            "no storage configured: add `storage: { default: { remote: <git URL>, branch: main } }`",
        ));
    }
    for e in entries {
        let path = join("storage", &e.written);
        if !matches!(e.value.value, Val::Map(_)) {
            return Err(Problem::new(
                &e.value.origin,
                &path,
                format!(
                    "expected a mapping with `remote`, `branch`, …, found {}",
                    e.value.kind()
                ),
            ));
        }
        let cleaned = strip(&e.value, &["name", "signature"], &path, warnings);
        sync.storage
            .insert(e.key.clone(), from_node(&cleaned, &path)?);
        written.storage.insert(e.key.clone(), (cleaned, path));
    }
    let envs = match root.get("environments") {
        Some(n) => n.mapping("environments")?,
        None => &[],
    };
    if envs.is_empty() {
        let storage_id = if sync.storage.contains_key("default") {
            "default".to_string()
        } else if sync.storage.len() == 1 {
            sync.storage.keys().next().cloned().unwrap_or_default()
        } else {
            let origin = root.get("environments").map_or(&root.origin, |n| &n.origin);
            return Err(Problem::new(
                origin,
                "environments",
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
    // Flipt's environment key is `name` (its default the map key): the key clients send in
    // `X-Flipt-Environment`, `environmentKey` and the snapshot and stream URLs.
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for e in envs {
        let path = join("environments", &e.written);
        e.value.mapping(&path)?;
        let key = match e.value.entry("name") {
            None => e.key.clone(),
            Some(n) => match n.value.as_str() {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => {
                    return Err(Problem::new(
                        &n.value.origin,
                        &join(&path, &n.written),
                        format!(
                            "expected the environment's key (a non-empty string), found {}; leave `name` out to use {:?}",
                            n.value.kind(),
                            e.written
                        ),
                    ));
                }
            },
        };
        if let Some(first) = named.insert(key.clone(), e.written.clone()) {
            let origin = e.value.entry("name").map_or(&e.origin, |n| &n.value.origin);
            return Err(Problem::new(
                origin,
                &path,
                format!(
                    "environments {first:?} and {:?} both have the key {key:?} (`name`, or the entry's own key without one): give each a different `name`",
                    e.written
                ),
            ));
        }
        let cleaned = strip(&e.value, &["scm"], &path, warnings).without(&["name"]);
        sync.environments
            .insert(key.clone(), from_node(&cleaned, &path)?);
        written.environments.insert(key, (cleaned, path));
    }
    Ok(sync)
}

/// An entry built by the conversion: read as `key`, shown as the key the user wrote.
fn renamed(e: &Entry, key: &str) -> Entry {
    Entry {
        key: key.to_string(),
        ..e.clone()
    }
}

/// An entry the conversion adds (a credential's `type`), placed at `origin`.
fn added(key: &str, value: &str, origin: &Origin) -> Entry {
    Entry {
        key: key.to_string(),
        written: key.to_string(),
        origin: origin.clone(),
        value: Node {
            value: Val::Str(value.to_string()),
            origin: origin.clone(),
        },
    }
}

fn v1(storage: &Node, written: &mut Written) -> Result<SyncConfig, Problem> {
    const PATH: &str = "storage.git";
    let git = storage.get("git").unwrap_or(storage);
    let entries = git.mapping(PATH)?;
    keys::known(
        git,
        PATH,
        &[
            "repository",
            "ref",
            "ref_type",
            "directory",
            "poll_interval",
            "authentication",
            "backend",
            "ca_cert_path",
            "ca_cert_bytes",
            "insecure_skip_tls",
            "timeouts",
            "allow_flag_loss",
            "max_flag_loss_percent",
        ],
    )?;
    let mut s: Vec<Entry> = Vec::new();
    match git.entry("repository") {
        Some(e) if e.value.as_str().is_some_and(|r| !r.is_empty()) => {
            s.push(renamed(e, "remote"));
        }
        other => {
            let origin = other.map_or(&git.origin, |e| &e.origin);
            return Err(Problem::new(
                origin,
                &join(PATH, "repository"),
                "git repository must be specified",
            ));
        }
    }
    if let Some(e) = git.entry("ref") {
        let r = e.value.as_str().unwrap_or_default();
        let commit = r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit());
        s.push(renamed(e, if commit { "commit" } else { "branch" }));
    }
    if let Some(e) = git.entry("ref_type") {
        let path = join(PATH, "ref_type");
        match e.value.as_str() {
            Some("static") => {}
            Some("semver") => {
                return Err(Problem::new(
                    &e.value.origin,
                    &path,
                    "ref_type semver is not supported yet; pin a tag or a commit, or follow a branch",
                ));
            }
            _ => {
                return Err(Problem::new(
                    &e.value.origin,
                    &path,
                    "invalid git storage reference type (static or semver)",
                ));
            }
        }
    }
    for e in entries {
        if matches!(
            e.key.as_str(),
            "poll_interval"
                | "backend"
                | "ca_cert_path"
                | "ca_cert_bytes"
                | "insecure_skip_tls"
                | "timeouts"
                | "allow_flag_loss"
                | "max_flag_loss_percent"
        ) {
            s.push(e.clone());
        }
    }
    let mut sync = SyncConfig::default();
    if let Some(auth) = git.entry("authentication") {
        let apath = join(PATH, "authentication");
        auth.value.mapping(&apath)?;
        keys::known(&auth.value, &apath, &["basic", "token", "ssh"])?;
        // v1 applies one method, in the order basic, token, ssh.
        let cred = if let Some(b) = auth.value.entry("basic") {
            Some((
                vec![added("type", "basic", &b.origin), b.clone()],
                join(&apath, "basic"),
            ))
        } else if let Some(t) = auth.value.entry("token") {
            let tpath = join(&apath, "token");
            keys::known(&t.value, &tpath, &["access_token"])?;
            let mut v = vec![added("type", "bearer", &t.origin)];
            if let Some(a) = t.value.entry("access_token") {
                v.push(renamed(a, "bearer_token"));
            }
            Some((v, tpath))
        } else {
            auth.value.entry("ssh").map(|ssh| {
                (
                    vec![added("type", "ssh", &ssh.origin), ssh.clone()],
                    join(&apath, "ssh"),
                )
            })
        };
        if let Some((entries, path)) = cred {
            let node = Node::map(entries, auth.origin.clone());
            sync.credentials
                .insert("git".into(), from_node(&node, &path)?);
            written.credentials.insert("git".into(), (node, path));
            s.push(added("credentials", "git", &auth.origin));
        }
    }
    let node = Node::map(s, git.origin.clone());
    sync.storage
        .insert("default".into(), from_node(&node, PATH)?);
    written
        .storage
        .insert("default".into(), (node, PATH.to_string()));
    let directory = git
        .get("directory")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
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
    root: &Node,
    storage: &Node,
    warnings: &mut Vec<Problem>,
    written: &mut Written,
) -> Result<SyncConfig, Problem> {
    const PATH: &str = "storage.remote.git";
    let remote = storage.get("remote").unwrap_or(storage);
    remote.mapping("storage.remote")?;
    keys::known(remote, "storage.remote", &["type", "git"])?;
    if let Some(t) = remote.get("type")
        && t.as_str() != Some("git")
    {
        return Err(Problem::new(
            &t.origin,
            "storage.remote.type",
            "this remote type is not supported; only git",
        ));
    }
    let Some(git) = remote.get("git") else {
        return Err(Problem::new(
            &remote.origin,
            PATH,
            "git repository must be specified (storage.remote.git.repository)",
        ));
    };
    let mut s: Vec<Entry> = Vec::new();
    for e in git.mapping(PATH)? {
        if e.key == "repository" {
            s.push(renamed(e, "remote"));
        } else {
            s.push(e.clone());
        }
    }
    if !s.iter().any(|e| e.key == "remote") {
        return Err(Problem::new(
            &git.origin,
            &join(PATH, "repository"),
            "git repository must be specified",
        ));
    }
    let mut sync = SyncConfig {
        credentials: credentials(root, written)?,
        ..SyncConfig::default()
    };
    if let Some(i) = s.iter().position(|e| e.key == "credentials")
        && let Some(name) = s[i].value.as_str()
        && !sync.credentials.contains_key(name)
    {
        warnings.push(Problem::new(
            &s[i].value.origin,
            &join(PATH, "credentials"),
            format!(
                "credentials {name:?} are not defined in `credentials:`; fetching without credentials (define credentials.{name} with type access_token, basic or ssh, e.g. access_token: ${{env:GITHUB_TOKEN}})"
            ),
        ));
        s.remove(i);
    }
    let node = Node::map(s, git.origin.clone());
    sync.storage
        .insert("default".into(), from_node(&node, PATH)?);
    written
        .storage
        .insert("default".into(), (node, PATH.to_string()));
    sync.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", "")
        },
    );
    Ok(sync)
}

fn server(root: &Node, warnings: &mut Vec<Problem>) -> Result<ServerConfig, Problem> {
    let mut cfg = ServerConfig::default();
    if let Some(cors) = root.get("cors") {
        cors.mapping("cors")?;
        if cors.get("enabled").and_then(Node::as_bool) == Some(false) {
            cfg.cors_allowed_origins = Vec::new();
        } else if let Some(o) = cors.get("allowed_origins") {
            cfg.cors_allowed_origins = match o.as_str() {
                Some(one) => vec![one.to_string()],
                None => from_node(o, "cors.allowed_origins")?,
            };
        }
    }
    if let Some(auth) = root.get("authentication") {
        cfg.auth = authentication(auth)?;
    }
    if let Some(w) = root.get("webhooks") {
        cfg.webhooks = webhooks(w)?;
    }
    if let Some(n) = root.get("notifications") {
        cfg.notifications = notifications(n)?;
    }
    cfg.tls = tls(root, warnings)?;
    connection_limits(root, &mut cfg)?;
    Ok(cfg)
}

/// `server.public_url`, `server.max_connections`, `server.idle_timeout`,
/// `server.read_header_timeout`, `server.body_read_timeout`, the shutdown durations and
/// `server.access_log` (`true`/`stdout`, `stderr`, a file path, or `false`).
fn connection_limits(root: &Node, cfg: &mut ServerConfig) -> Result<(), Problem> {
    let Some(server) = root.get("server") else {
        return Ok(());
    };
    if let Some(e) = server.entry("public_url") {
        cfg.public_url = Some(from_node(&e.value, "server.public_url")?);
    }
    if let Some(e) = server.entry("max_connections") {
        let n: usize = from_node(&e.value, "server.max_connections")?;
        if n == 0 {
            return Err(Problem::new(
                &e.value.origin,
                "server.max_connections",
                "must be at least 1",
            ));
        }
        cfg.limits.max_connections = n;
    }
    let limits = &mut cfg.limits;
    for (key, slot) in [
        ("idle_timeout", &mut limits.idle_timeout),
        ("read_header_timeout", &mut limits.header_read_timeout),
        ("body_read_timeout", &mut limits.body_read_timeout),
    ] {
        if let Some(d) = duration(server, key, false)? {
            *slot = d;
        }
    }
    if let Some(d) = duration(server, "shutdown_grace_period", true)? {
        cfg.shutdown.grace_period = d;
    }
    if let Some(d) = duration(server, "shutdown_delay", true)? {
        cfg.shutdown.delay = d;
    }
    if let Some(e) = server.entry("access_log") {
        let text: String = from_node(&e.value, "server.access_log")?;
        cfg.access_log = match text.trim() {
            "false" | "off" | "" => None,
            "true" | "stdout" => Some(AccessLogTarget::Stdout),
            "stderr" => Some(AccessLogTarget::Stderr),
            path => Some(AccessLogTarget::File(path.into())),
        };
    }
    cfg.grpc.max_connection_age = duration(server, "grpc_conn_max_age", false)?;
    cfg.grpc.max_connection_age_grace = duration(server, "grpc_conn_max_age_grace", true)?;
    Ok(())
}

/// `break_glass.max_override`: the longest lifetime of a break-glass override, if written.
fn max_override(root: &Node) -> Result<Option<std::time::Duration>, Problem> {
    let Some(e) = root
        .get("break_glass")
        .and_then(|b| b.entry("max_override"))
    else {
        return Ok(None);
    };
    let path = "break_glass.max_override";
    let text: String = from_node(&e.value, path)?;
    switchyard_sync::config::parse_duration(&text)
        .filter(|d| !d.is_zero())
        .map(Some)
        .ok_or_else(|| {
            Problem::new(
                &e.value.origin,
                path,
                format!("invalid duration {text:?}: the longest an override may last, e.g. \"4h\" (default 24h)"),
            )
        })
}

/// The duration at `server.<key>`, if written; zero only where `zero_ok`.
fn duration(
    server: &Node,
    key: &str,
    zero_ok: bool,
) -> Result<Option<std::time::Duration>, Problem> {
    let Some(e) = server.entry(key) else {
        return Ok(None);
    };
    let path = join("server", key);
    let text: String = from_node(&e.value, &path)?;
    switchyard_sync::config::parse_duration(&text)
        .filter(|d| zero_ok || !d.is_zero())
        .map(Some)
        .ok_or_else(|| {
            Problem::new(
                &e.value.origin,
                &path,
                format!("invalid duration {text:?} (e.g. \"10s\", \"1m\")"),
            )
        })
}

fn authentication(auth: &Node) -> Result<AuthConfig, Problem> {
    const PATH: &str = "authentication";
    auth.mapping(PATH)?;
    let mut a = AuthConfig::default();
    if let Some(exclude) = auth.get("exclude") {
        let flag = |k: &str| exclude.get(k).and_then(Node::as_bool).unwrap_or(false);
        a.public_evaluation = flag("evaluation") || flag("ofrep");
    }
    let tokens = auth
        .get("methods")
        .and_then(|m| m.get("token"))
        .filter(|t| t.get("enabled").and_then(Node::as_bool) != Some(false));
    let tokens_path = "authentication.methods.token.storage.tokens";
    if let Some(list) = tokens
        .and_then(|t| t.get("storage"))
        .and_then(|s| s.get("tokens"))
    {
        // Flipt's documents show a mapping of names; its schema a list with `name`.
        let items: Vec<(String, String, &Node)> = match &list.value {
            Val::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let name = n.get("name").and_then(Node::as_str).unwrap_or_default();
                    (name.to_string(), format!("{tokens_path}[{i}]"), n)
                })
                .collect(),
            _ => list
                .mapping(tokens_path)?
                .iter()
                .map(|e| (e.key.clone(), join(tokens_path, &e.written), &e.value))
                .collect(),
        };
        for (name, path, t) in items {
            a.tokens.push(token(name, &path, t)?);
        }
    }
    if let Some(r) = auth.entry("required")
        && r.value.as_bool() == Some(true)
        && a.tokens.is_empty()
    {
        return Err(Problem::new(
            &r.value.origin,
            &join(PATH, "required"),
            "authentication is required but no token is configured under authentication.methods.token.storage.tokens",
        ));
    }
    Ok(a)
}

fn token(name: String, path: &str, t: &Node) -> Result<Token, Problem> {
    t.mapping(path)?;
    keys::known(t, path, &["name", "credential", "metadata"])?;
    let Some(c) = t.entry("credential") else {
        return Err(Problem::new(
            &t.origin,
            path,
            "a token needs a non-empty `credential`",
        ));
    };
    let cpath = join(path, "credential");
    let credential = c.value.as_str().unwrap_or_default();
    if credential.trim().len() < MIN_TOKEN_BYTES {
        return Err(Problem::new(
            &c.value.origin,
            &cpath,
            format!(
                "a static token must be at least {MIN_TOKEN_BYTES} bytes (this one has {}); generate one with `openssl rand -hex 32`",
                credential.trim().len()
            ),
        ));
    }
    let scope_node = t.get("metadata").and_then(|m| m.get("scope"));
    let scope = match scope_node.map(|s| (s, s.as_str())) {
        None | Some((_, Some("admin"))) => Scope::Admin,
        Some((_, Some("evaluation" | "read"))) => Scope::Evaluation,
        Some((s, _)) => {
            return Err(Problem::new(
                &s.origin,
                &join(path, "metadata.scope"),
                "unknown token scope: use admin or evaluation",
            ));
        }
    };
    Ok(Token {
        name,
        token: credential.to_string(),
        scope,
    })
}

fn webhooks(w: &Node) -> Result<WebhookSecrets, Problem> {
    w.mapping("webhooks")?;
    keys::known(w, "webhooks", &["github", "gitlab", "gitea"])?;
    let secret = |provider: &str, key: &str| -> Result<Option<String>, Problem> {
        let Some(p) = w.get(provider) else {
            return Ok(None);
        };
        let ppath = join("webhooks", provider);
        p.mapping(&ppath)?;
        keys::known(p, &ppath, &[key])?;
        let Some(e) = p.entry(key) else {
            return Ok(None);
        };
        let path = join(&ppath, key);
        match e.value.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(Some(s.to_string())),
            _ => Err(Problem::new(
                &e.value.origin,
                &path,
                "an empty webhook secret would accept any request: set a long random value (e.g. `openssl rand -hex 32`), or remove the key to turn this endpoint off",
            )),
        }
    };
    Ok(WebhookSecrets {
        github: secret("github", "secret")?,
        gitlab: secret("gitlab", "token")?,
        gitea: secret("gitea", "secret")?,
    })
}

/// Switchyard's `notifications:` section: `sinks` (each `type: webhook|slack|teams|log`, `url`,
/// and a webhook's `secret`), `queue_size`, `attempts`, `backoff`.
fn notifications(n: &Node) -> Result<NotifyConfig, Problem> {
    const PATH: &str = "notifications";
    n.mapping(PATH)?;
    keys::known(n, PATH, &["sinks", "queue_size", "attempts", "backoff"])?;
    let mut cfg = NotifyConfig::default();
    let positive = |key: &str| -> Result<Option<u32>, Problem> {
        let Some(e) = n.entry(key) else {
            return Ok(None);
        };
        let v: u32 = from_node(&e.value, &join(PATH, key))?;
        if v == 0 {
            return Err(Problem::new(
                &e.value.origin,
                &join(PATH, key),
                "must be at least 1",
            ));
        }
        Ok(Some(v))
    };
    if let Some(q) = positive("queue_size")? {
        cfg.queue_size = q as usize;
    }
    if let Some(a) = positive("attempts")? {
        cfg.retry.attempts = a;
    }
    if let Some(e) = n.entry("backoff") {
        let path = join(PATH, "backoff");
        let text: String = from_node(&e.value, &path)?;
        cfg.retry.backoff = switchyard_sync::config::parse_duration(&text)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Problem::new(
                    &e.value.origin,
                    &path,
                    format!("expected a positive duration such as 500ms or 2s, found {text:?}"),
                )
            })?;
    }
    let Some(sinks) = n.get("sinks") else {
        return Ok(cfg);
    };
    let spath = join(PATH, "sinks");
    let Val::Seq(items) = &sinks.value else {
        return Err(Problem::new(
            &sinks.origin,
            &spath,
            format!("expected a list of sinks, found {}", sinks.kind()),
        ));
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{spath}[{i}]");
        item.mapping(&path)?;
        keys::known(item, &path, &["type", "url", "secret"])?;
        let text = |key: &str| -> Result<Option<String>, Problem> {
            let Some(e) = item.entry(key) else {
                return Ok(None);
            };
            match e.value.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                _ => Err(Problem::new(
                    &e.value.origin,
                    &join(&path, key),
                    "must be a non-empty string",
                )),
            }
        };
        let url = |what: &str| -> Result<String, Problem> {
            let Some(u) = text("url")? else {
                return Err(Problem::new(
                    &item.origin,
                    &join(&path, "url"),
                    format!(
                        "a {what} sink needs `url`, e.g. url: https://hooks.example.com/switchyard"
                    ),
                ));
            };
            match reqwest::Url::parse(&u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") && p.host_str().is_some() => Ok(u),
                _ => {
                    let origin = item.entry("url").map_or(&item.origin, |e| &e.value.origin);
                    Err(Problem::new(
                        origin,
                        &join(&path, "url"),
                        "must be an http:// or https:// URL with a host",
                    ))
                }
            }
        };
        let kind = text("type")?.ok_or_else(|| {
            Problem::new(
                &item.origin,
                &join(&path, "type"),
                "each sink needs `type`: webhook, slack, teams or log",
            )
        })?;
        let sink = match kind.as_str() {
            "webhook" => {
                let url = url("webhook")?;
                let secret = text("secret")?.ok_or_else(|| {
                    Problem::new(&item.origin, &join(&path, "secret"), "a webhook sink needs `secret` (the HMAC-SHA256 key receivers verify X-Switchyard-Signature-256 with), e.g. secret: ${env:NOTIFY_SECRET}")
                })?;
                Sink::Webhook { url, secret }
            }
            "slack" => Sink::Slack { url: url("slack")? },
            "teams" => Sink::Teams { url: url("teams")? },
            "log" => Sink::Log,
            other => {
                let origin = item.entry("type").map_or(&item.origin, |e| &e.value.origin);
                return Err(Problem::new(
                    origin,
                    &join(&path, "type"),
                    format!("unknown sink type {other:?}: use webhook, slack, teams or log"),
                ));
            }
        };
        if !matches!(sink, Sink::Webhook { .. }) && item.entry("secret").is_some() {
            let origin = item
                .entry("secret")
                .map_or(&item.origin, |e| &e.value.origin);
            return Err(Problem::new(
                origin,
                &join(&path, "secret"),
                "only webhook sinks are signed: remove `secret` (a Slack or Teams hook's secret is its URL)",
            ));
        }
        cfg.sinks.push(sink);
    }
    Ok(cfg)
}

/// Switchyard's `validation.extra_checks`: `error` (the default) or `warn`.
fn extra_checks(root: &Node) -> Result<ExtraChecks, Problem> {
    let Some(e) = root.get("validation").and_then(|v| v.entry("extra_checks")) else {
        return Ok(ExtraChecks::default());
    };
    e.value
        .as_str()
        .and_then(ExtraChecks::parse)
        .ok_or_else(|| {
            let shown = e.value.as_str().map_or_else(|| e.value.kind().to_string(), |s| format!("{s:?}"));
            Problem::new(
                &e.value.origin,
                "validation.extra_checks",
                format!(
                    "must be `error` (refuse what only Switchyard's extra checks find) or `warn` (serve it as Flipt does, with warnings), found {shown}"
                ),
            )
        })
}

/// Flipt's `server.protocol: https` with `cert_file` and `cert_key`.
fn tls(root: &Node, warnings: &mut Vec<Problem>) -> Result<Option<TlsConfig>, Problem> {
    let Some(server) = root.get("server") else {
        return Ok(None);
    };
    let protocol = server.entry("protocol");
    let https = match protocol {
        None => false,
        Some(p) => match p.value.as_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(Problem::new(
                    &p.value.origin,
                    "server.protocol",
                    "expected `http` or `https`",
                ));
            }
        },
    };
    let file = |key: &str| -> Result<Option<PathBuf>, Problem> {
        let Some(e) = server.entry(key) else {
            return Ok(None);
        };
        let path = join("server", key);
        let Some(s) = e.value.as_str().filter(|s| !s.trim().is_empty()) else {
            return Err(Problem::new(
                &e.value.origin,
                &path,
                "expected the path of a PEM file",
            ));
        };
        if https && let Err(err) = std::fs::metadata(s) {
            return Err(Problem::new(
                &e.value.origin,
                &path,
                format!("cannot read {s}: {err}"),
            ));
        }
        Ok(Some(PathBuf::from(s)))
    };
    let cert = file("cert_file")?;
    let key = file("cert_key")?;
    match (https, cert, key) {
        (true, Some(cert_file), Some(key_file)) => Ok(Some(TlsConfig {
            cert_file,
            key_file,
        })),
        (true, cert, _) => {
            let missing = if cert.is_none() {
                "server.cert_file"
            } else {
                "server.cert_key"
            };
            let origin = protocol.map_or(&server.origin, |p| &p.value.origin);
            Err(Problem::new(
                origin,
                "server.protocol",
                format!(
                    "https needs both server.cert_file and server.cert_key (PEM files); {missing} is not set"
                ),
            ))
        }
        (false, cert, key) => {
            if cert.is_some() || key.is_some() {
                let e = server
                    .entry("cert_file")
                    .or_else(|| server.entry("cert_key"));
                if let Some(e) = e {
                    warnings.push(Problem::new(
                        &e.origin,
                        &join("server", &e.written),
                        "ignored: server.protocol is http, so the server listens without TLS (set `protocol: https` to use the certificate)",
                    ));
                }
            }
            Ok(None)
        }
    }
}

fn port(server: &Node, key: &str, default: u16) -> Result<u16, Problem> {
    let Some(e) = server.entry(key) else {
        return Ok(default);
    };
    let p = match &e.value.value {
        Val::Int(i) => u16::try_from(*i).ok(),
        Val::Str(s) => s.parse().ok(),
        _ => None,
    };
    p.ok_or_else(|| {
        Problem::new(
            &e.value.origin,
            &join("server", key),
            "expected a port number (0 to 65535)",
        )
    })
}

/// The gRPC listener: `server.grpc_port` on the HTTP listener's host (Flipt's default 9000
/// when absent, then a port in use is a warning, not an error); `0` turns gRPC off.
fn grpc_listen(root: &Node, http: SocketAddr) -> Result<Option<super::GrpcListen>, Problem> {
    let empty = Node::empty_map(root.origin.clone());
    let server = root.get("server").unwrap_or(&empty);
    let explicit = server.entry("grpc_port").is_some();
    let port = port(server, "grpc_port", 9000)?;
    Ok((port != 0).then(|| super::GrpcListen {
        address: SocketAddr::new(http.ip(), port),
        explicit,
    }))
}

fn listen(root: &Node, https: bool) -> Result<SocketAddr, Problem> {
    let empty = Node::empty_map(root.origin.clone());
    let server = root.get("server").unwrap_or(&empty);
    let host_entry = server.entry("host");
    let host = host_entry
        .and_then(|e| e.value.as_str())
        .unwrap_or("0.0.0.0");
    let port = if https {
        port(server, "https_port", 443)?
    } else {
        port(server, "http_port", 8080)?
    };
    format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .map_err(|e| {
            let origin = host_entry.map_or(&server.origin, |h| &h.value.origin);
            Problem::new(
                origin,
                "server.host",
                format!("invalid listen address {host}:{port}: {e}"),
            )
        })
}
