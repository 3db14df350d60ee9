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
    /// Check flag files; exits 0 when valid, 1 when not, 2 when they cannot be read.
    Validate(ValidateArgs),
    /// Evaluate one flag from a directory of flag files and print Flipt's JSON response.
    Evaluate(EvaluateArgs),
}

/// Output format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:column: path: message`, one per line.
    Text,
    /// `[{"message", "location": {"file", "line", "column"}, "path"}]`.
    Json,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Flag files or directories (a directory is searched like an environment root). Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Directory holding the flag files (the environment root).
    #[arg(long)]
    pub dir: PathBuf,
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
