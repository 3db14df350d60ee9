//! Command-line interface: the clap definitions; their doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Switchyard: GitOps feature flags in Flipt's declarative format.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check flag files; exits 0 when valid, 1 when not (or none found), 2 when they cannot be read.
    Validate(ValidateArgs),
    /// Evaluate one flag from a directory of flag files and print Flipt's JSON response.
    Evaluate(EvaluateArgs),
    /// Sync the configured Git repositories and serve flags over HTTP.
    Serve(ServeArgs),
    /// Run a self-contained demo: a local Git repository (new, with the seed's flags, or yours), served live.
    Demo(DemoArgs),
    /// Preview a change: the plain-words diff and the share of entities whose answer changes,
    /// between two commits of a Git repository or two directories; exits 0 when no entity's
    /// answer changes, 1 when some do, 2 on an error.
    Diff(DiffArgs),
    /// Check a running server once (for container health checks); exits 0 on a 2xx, else 1.
    Health(HealthArgs),
    /// Break-glass on a running server (admin token): pause, resume, pin a commit, override a
    /// flag for a while, clear an override, or show the state; exits 0 on success, 1 when the
    /// server refuses (its message is printed), 2 when it cannot be reached.
    Admin(AdminArgs),
}

/// Arguments of `admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's base URL.
    #[arg(long, env = "SWITCHYARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin token (sent as `Authorization: Bearer`).
    #[arg(long, env = "SWITCHYARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The environment.
    #[arg(long, short, default_value = "default")]
    pub environment: String,
    /// Give up after this long.
    #[arg(long, default_value = "15s")]
    pub timeout: String,
    /// What to do.
    #[command(subcommand)]
    pub action: AdminAction,
}

/// A break-glass action.
#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Stop applying new commits (they are still fetched, validated and recorded).
    Pause {
        /// Why (required; goes into the history with the token's name).
        #[arg(long)]
        reason: String,
    },
    /// Apply the branch again: ends a pause and a pin, serving the newest valid commit at once.
    Resume {
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Serve a commit the environment applied before (no Git host needed).
    Pin {
        /// The commit (at least 7 hex digits).
        commit: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Force a flag for a while: exactly one of --enabled, --variant, --rollout.
    Override {
        /// The flag's key.
        flag: String,
        /// The flag's namespace.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// Turn it on or off (a boolean flag then answers this to everyone).
        #[arg(long)]
        enabled: Option<bool>,
        /// Answer this variant to everyone (a variant flag).
        #[arg(long)]
        variant: Option<String>,
        /// Answer true to this percentage of entities (a boolean flag).
        #[arg(long)]
        rollout: Option<f32>,
        /// How long (default 1h; at most the server's break_glass.max_override).
        #[arg(long)]
        duration: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// End a flag's override now.
    Clear {
        /// The flag's key.
        flag: String,
        /// The flag's namespace.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Print the environment's break-glass state (JSON).
    Show,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file: Flipt v2's, Flipt v1's `storage.type: git`, or the seed's
    /// `flipt/flipt.yml`. Default: `$SWITCHYARD_CONFIG`, then ./switchyard.yml, ./flipt.yml,
    /// ./flipt/flipt.yml, /etc/flipt/config/default.yml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on (default: the file's server.host/http_port, else 0.0.0.0:8080).
    #[arg(long, env = "SWITCHYARD_LISTEN")]
    pub listen: Option<String>,
    /// Relay mode: follow this upstream Switchyard (`http(s)://host:port`) instead of Git, as
    /// `upstream.url` does; the token comes from `upstream.token` or SWITCHYARD_UPSTREAM__TOKEN.
    /// Without a configuration file the relay serves the upstream's `default` environment.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory of the demo's Git repository. An empty or new directory gets a repository with
    /// the seed's flags; an existing Git repository is served as it is (nothing in it is changed;
    /// the demo's commit hook is added only if it has none, and removed on exit); any other
    /// non-empty directory is refused. Default: a new directory under the system's temporary
    /// directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Branch of an existing repository to serve (default: its current branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Poll interval of the demo repository.
    #[arg(long, default_value = "1s")]
    pub poll_interval: String,
}

/// Arguments of `health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// URL to request. Default: `/health` on 127.0.0.1 at the port of `$SWITCHYARD_LISTEN`, else
    /// 8080. `/ready` checks that every environment serves a valid commit.
    #[arg(long)]
    pub url: Option<String>,
    /// Give up after this long, connecting and answering included.
    #[arg(long, default_value = "3s")]
    pub timeout: String,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base: a commit, branch or tag of `--repo` (or a directory, with `head` one too).
    pub base: Option<String>,
    /// The head: a commit, branch or tag of `--repo` (or a directory, with `base` one too).
    pub head: Option<String>,
    /// The Git repository the revisions belong to (a work tree or a bare repository; default
    /// `.`). Only local objects are read: fetch first.
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// The base as a directory of flag files (with `--dir-head`, instead of revisions).
    #[arg(long, requires = "dir_head", conflicts_with_all = ["base", "repo"])]
    pub dir_base: Option<PathBuf>,
    /// The head as a directory of flag files (with `--dir-base`).
    #[arg(long, requires = "dir_base")]
    pub dir_head: Option<PathBuf>,
    /// The environment's directory inside the repository (its `directory`; default the root).
    #[arg(long, default_value = "")]
    pub directory: String,
    /// Which rule finds the flag files.
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    /// Environment key the files are loaded as.
    #[arg(long, default_value = "default")]
    pub environment: String,
    /// Only this namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Sample contexts, JSON lines: `{"entityId": "u1", "context": {"plan": "premium"}}`,
    /// optionally scoped with `"namespace"` and `"flagKey"`; each sample is evaluated in both
    /// versions of every flag in scope and the ones whose variant or value changes are counted.
    #[arg(long, value_name = "FILE")]
    pub contexts: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// What Switchyard's checks beyond Flipt's do (as `validation.extra_checks`).
    #[arg(long, value_enum, default_value_t = ExtraChecksArg::Error)]
    pub extra_checks: ExtraChecksArg,
}

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The diff and the impact in plain words.
    Text,
    /// The JSON of `GET /api/v1/environments/{env}/diff`.
    Json,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
}

/// Output format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:column: path: message`, one per line.
    Text,
    /// `[{"message", "location": {"file", "line", "column"}, "path"}]`.
    Json,
}

/// The rule that finds flag files in a directory, as a command-line value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Rules {
    /// Flipt v1's: a `.flipt.yml` index, else `**features.yml`, `**features.yaml`,
    /// `**.features.yml`, `**.features.yaml` at any depth, the root included.
    FliptV1,
    /// Flipt v2's: `features.yaml`, `features.yml` or `features.json` in a directory below the
    /// root (never at the root); a root `flipt.yaml`/`flipt.yml` is checked, `.flipt.yml` not read.
    FliptV2,
}

/// How `validate` and `evaluate` choose the rule that finds flag files in a directory.
#[derive(Debug, Args)]
pub struct DiscoveryArgs {
    /// The rule that finds flag files in a directory. Default: the rule of `--config`'s
    /// shape, else flipt-v1.
    #[arg(long, value_enum, conflicts_with = "config")]
    pub discovery: Option<Rules>,
    /// A `serve` configuration whose shape picks the rule, as `serve` would: Flipt v2's →
    /// flipt-v2; Flipt v1's or the seed's → flipt-v1. Only its shape is read.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Flag files or directories (a directory is searched like an environment root, skipping
    /// `target/`, `node_modules/` and what Git ignores). Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Which rule finds the flag files of a directory.
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    /// Succeed when no flag file is found (by default that is an error: exit 1).
    #[arg(long)]
    pub allow_empty: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// What Switchyard's checks beyond Flipt's do: `error` refuses what they find; `warn`
    /// accepts it as Flipt v2.11 does and reports a warning (as `validation.extra_checks`).
    #[arg(long, value_enum, default_value_t = ExtraChecksArg::Error)]
    pub extra_checks: ExtraChecksArg,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// `--extra-checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtraChecksArg {
    /// Refuse what only Switchyard's extra checks find.
    Error,
    /// Accept it as Flipt does, with a warning.
    Warn,
}

impl From<ExtraChecksArg> for switchyard_core::ExtraChecks {
    fn from(a: ExtraChecksArg) -> Self {
        match a {
            ExtraChecksArg::Error => switchyard_core::ExtraChecks::Error,
            ExtraChecksArg::Warn => switchyard_core::ExtraChecks::Warn,
        }
    }
}

/// Arguments of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Directory holding the flag files (the environment root).
    #[arg(long)]
    pub dir: PathBuf,
    /// Which rule finds the flag files of the directory.
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    /// Environment key the directory is loaded as.
    #[arg(long, default_value = "default")]
    pub environment: String,
    /// Namespace of the flag.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Flag key.
    #[arg(long)]
    pub flag: String,
    /// Entity id (bucketing key).
    #[arg(long)]
    pub entity: String,
    /// Context entries, `key=value`; repeat for several.
    #[arg(long = "context", value_parser = parse_pair)]
    pub context: Vec<(String, String)>,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected key=value, got {s:?}")),
    }
}
