//! Flipt keys Switchyard does not implement: refused when ignoring them would weaken security
//! (an authentication method, authorization policies), reported as ignored otherwise; and
//! unknown keys, refused with a "did you mean".

use switchyard_core::closest_name;

use super::node::{Node, Problem, join};

/// Top-level keys of Flipt v1 and v2 configuration files, and Switchyard's `webhooks`,
/// `validation`, `sync`, `upstream`, `notifications` and `break_glass`.
pub(super) const TOP: &[&str] = &[
    "validation",
    "break_glass",
    "notifications",
    "sync",
    "upstream",
    "version",
    "storage",
    "environments",
    "credentials",
    "authentication",
    "authorization",
    "server",
    "cors",
    "webhooks",
    "log",
    "meta",
    "ui",
    "diagnostics",
    "metrics",
    "tracing",
    "analytics",
    "audit",
    "cache",
    "db",
    "cloud",
    "experimental",
    "templates",
    "secrets",
    "license",
];

/// Flipt features Switchyard does not have, with what to say when a file sets them.
const IGNORED: &[(&str, &str)] = &[
    (
        "log",
        "ignored: Switchyard logs to stderr; set the level with RUST_LOG (e.g. RUST_LOG=debug)",
    ),
    (
        "meta",
        "ignored: Switchyard sends no telemetry and checks for no updates",
    ),
    (
        "ui",
        "ignored: the dashboard has no themes or top bar settings",
    ),
    (
        "diagnostics",
        "ignored: Switchyard has no profiling endpoints",
    ),
    (
        "metrics",
        "ignored: Switchyard always serves Prometheus metrics at /metrics (no OTLP exporter)",
    ),
    (
        "tracing",
        "ignored: Switchyard exports no traces (no OpenTelemetry)",
    ),
    (
        "analytics",
        "ignored: Switchyard records no evaluation analytics (no ClickHouse or Prometheus analytics storage)",
    ),
    (
        "audit",
        "ignored: Switchyard has no audit sinks (it never writes flags; Git history is the audit log)",
    ),
    ("cache", "ignored: snapshots are always held in memory"),
    (
        "db",
        "ignored: Switchyard has no database; flags come from Git",
    ),
    ("cloud", "ignored: Flipt Cloud is not supported"),
    ("experimental", "ignored: no experimental features"),
    (
        "templates",
        "ignored: Switchyard never commits, so commit and proposal templates are unused",
    ),
    (
        "secrets",
        "ignored: secret providers are not supported; use ${env:NAME} references",
    ),
    ("license", "ignored: Switchyard needs no license"),
];

/// Authentication methods Flipt has and Switchyard does not.
const METHODS: &[&str] = &["oidc", "github", "kubernetes", "jwt", "cloud"];

/// Refuses keys of `node` (at `path`) that are not in `known`, suggesting the closest.
pub(super) fn known(node: &Node, path: &str, known: &[&str]) -> Result<(), Problem> {
    for e in node.entries() {
        if !known.contains(&e.key.as_str()) {
            let hint = match closest_name(&e.key, known) {
                Some(k) => format!("; did you mean `{k}`?"),
                None => format!(
                    " (expected one of {})",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(Problem::new(
                &e.origin,
                &join(path, &e.written),
                format!("unknown key `{}`{hint}", e.written),
            ));
        }
    }
    Ok(())
}

fn warn_at(node: &Node, path: &str, key: &str, message: &str, warnings: &mut Vec<Problem>) {
    if let Some(e) = node.entry(key) {
        warnings.push(Problem::new(&e.origin, &join(path, key), message));
    }
}

/// Checks the keys of the whole file; the storage shapes are checked where they are read.
pub(super) fn check(root: &Node, warnings: &mut Vec<Problem>) -> Result<(), Problem> {
    root.mapping("")?;
    known(root, "", TOP)?;
    for (key, message) in IGNORED {
        warn_at(root, "", key, message, warnings);
    }
    if let Some(server) = root.get("server") {
        server.mapping("server")?;
        known(
            server,
            "server",
            &[
                "protocol",
                "host",
                "http_port",
                "https_port",
                "grpc_port",
                "cert_file",
                "cert_key",
                "grpc_conn_max_idle_time",
                "grpc_conn_max_age",
                "grpc_conn_max_age_grace",
                "public_url",
                "max_connections",
                "idle_timeout",
                "read_header_timeout",
                "body_read_timeout",
                "shutdown_grace_period",
                "shutdown_delay",
                "access_log",
            ],
        )?;
        if let Some(e) = server.entry("grpc_conn_max_idle_time") {
            warnings.push(Problem::new(
                &e.origin,
                &join("server", &e.written),
                "ignored: Switchyard's gRPC connections close when HTTP/2 keepalive pings go unanswered or after server.grpc_conn_max_age, not when idle",
            ));
        }
    }
    if let Some(v) = root.get("validation") {
        v.mapping("validation")?;
        known(v, "validation", &["extra_checks"])?;
    }
    if let Some(s) = root.get("sync") {
        s.mapping("sync")?;
        known(s, "sync", &["poll_jitter_seed"])?;
    }
    if let Some(b) = root.get("break_glass") {
        b.mapping("break_glass")?;
        known(b, "break_glass", &["max_override"])?;
    }
    if let Some(cors) = root.get("cors") {
        cors.mapping("cors")?;
        known(
            cors,
            "cors",
            &["enabled", "allowed_origins", "allowed_headers"],
        )?;
        warn_at(
            cors,
            "cors",
            "allowed_headers",
            "ignored: Switchyard allows the headers its clients send (Authorization, Content-Type, If-None-Match, X-Flipt-*)",
            warnings,
        );
    }
    if let Some(auth) = root.get("authentication") {
        authentication(auth, warnings)?;
    }
    if let Some(authz) = root.get("authorization") {
        authz.mapping("authorization")?;
        if let Some(r) = authz.entry("required")
            && r.value.as_bool() == Some(true)
        {
            return Err(Problem::new(
                &r.value.origin,
                "authorization.required",
                "authorization policies are not available in Switchyard, so they would not be enforced: remove `authorization` (or set required: false) and limit tokens with `metadata.scope: evaluation` instead",
            ));
        }
        warn_at(
            root,
            "",
            "authorization",
            "ignored: authorization policies are not available; tokens are limited with `metadata.scope`",
            warnings,
        );
    }
    Ok(())
}

fn authentication(auth: &Node, warnings: &mut Vec<Problem>) -> Result<(), Problem> {
    const PATH: &str = "authentication";
    auth.mapping(PATH)?;
    known(auth, PATH, &["required", "exclude", "session", "methods"])?;
    warn_at(
        auth,
        PATH,
        "session",
        "ignored: sessions belong to login methods (OIDC, GitHub) that Switchyard does not have",
        warnings,
    );
    if let Some(ex) = auth.get("exclude") {
        let path = join(PATH, "exclude");
        ex.mapping(&path)?;
        known(
            ex,
            &path,
            &["management", "metadata", "evaluation", "ofrep"],
        )?;
        for k in ["management", "metadata"] {
            if ex.get(k).and_then(Node::as_bool) == Some(true) {
                warn_at(
                    ex,
                    &path,
                    k,
                    "ignored: Switchyard's sync and flag listing endpoints always need a token when authentication is on",
                    warnings,
                );
            }
        }
    }
    let Some(methods) = auth.get("methods") else {
        return Ok(());
    };
    let mpath = join(PATH, "methods");
    methods.mapping(&mpath)?;
    let mut all = vec!["token"];
    all.extend_from_slice(METHODS);
    known(methods, &mpath, &all)?;
    for m in METHODS {
        let Some(e) = methods.entry(m) else { continue };
        if e.value.get("enabled").and_then(Node::as_bool) == Some(false) {
            continue;
        }
        return Err(Problem::new(
            &e.origin,
            &join(&mpath, m),
            format!(
                "authentication method `{m}` is not available in Switchyard, which would serve without it: only static tokens (authentication.methods.token) are; remove it or set `enabled: false`"
            ),
        ));
    }
    if let Some(token) = methods.get("token") {
        let tpath = join(&mpath, "token");
        token.mapping(&tpath)?;
        known(
            token,
            &tpath,
            &["enabled", "storage", "cleanup", "bootstrap"],
        )?;
        for k in ["cleanup", "bootstrap"] {
            warn_at(
                token,
                &tpath,
                k,
                "ignored: Switchyard's tokens are the static ones under storage.tokens",
                warnings,
            );
        }
        if let Some(storage) = token.get("storage") {
            let spath = join(&tpath, "storage");
            storage.mapping(&spath)?;
            known(storage, &spath, &["type", "tokens"])?;
            if let Some(t) = storage.get("type")
                && t.as_str() != Some("static")
            {
                return Err(Problem::new(
                    &t.origin,
                    &join(&spath, "type"),
                    "only `static` token storage is available",
                ));
            }
        }
    }
    Ok(())
}
