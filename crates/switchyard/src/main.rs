//! The `switchyard` binary: command-line parsing, wiring and exit codes. It holds no domain logic.

mod cli;
mod commands;
mod config;
mod contexts;
mod files;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: per-thread heaps, so that a buffer allocated on one runtime worker and freed on
/// another does not contend on glibc's arena lock (measured under load: issue 12, BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Validate(args) => commands::validate::run(&args),
        cli::Command::Evaluate(args) => commands::evaluate::run(&args),
        cli::Command::Serve(args) => commands::serve::run(&args),
        cli::Command::Demo(args) => commands::demo::run(&args),
        cli::Command::Health(args) => commands::health::run(&args),
        cli::Command::Diff(args) => commands::diff::run(&args),
        cli::Command::Admin(args) => commands::admin::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchyard: {e:#}");
            ExitCode::from(2)
        }
    }
}
