//! `switchyard validate`: every problem in the given flag files, as text or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::json;
use switchyard_core::{
    Diagnostic, Discovery, ExtraChecks, Limits, Severity, SourceFile, compile_environment_with,
};

use crate::cli::{Format, ValidateArgs};
use crate::files::{Loaded, discovery, display_path, load_dir};

/// Runs `validate`; exit code 0 when valid (warnings included unless `--strict`), 1 when not or
/// when no flag file is found.
pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let limits = Limits::default();
    let rules = discovery(&args.discovery)?;
    let extra = ExtraChecks::from(args.extra_checks);
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let mut loose: Vec<SourceFile> = Vec::new();
    let mut files_checked = 0usize;
    for p in &paths {
        if p.is_dir() {
            match load_dir(p, rules, &limits)? {
                Loaded::Invalid(d) => diagnostics.extend(relocate(d, p)),
                Loaded::Files(read) => {
                    let files = read.files;
                    files_checked += files.len();
                    warnings.extend(relocate_all(&read.discovered.warnings(), p));
                    match compile_environment_with("default", &files, &limits, extra) {
                        Ok(env) => warnings.extend(relocate_all(env.warnings(), p)),
                        Err(d) => diagnostics.extend(relocate(d, p)),
                    }
                }
            }
        } else {
            let contents = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            loose.push(SourceFile::new(p.to_string_lossy().into_owned(), contents));
        }
    }
    if !loose.is_empty() {
        files_checked += loose.len();
        match compile_environment_with("default", &loose, &limits, extra) {
            Ok(env) => warnings.extend(env.warnings().into_iter().cloned()),
            Err(d) => diagnostics.extend(d),
        }
    }
    let none = files_checked == 0 && diagnostics.is_empty();
    if none && !args.allow_empty {
        // the warnings say why a look-alike was not read
        list(args.format, &diagnostics, &warnings);
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "switchyard: no flag files found in {} by {} ({}); target/, node_modules/ and Git-ignored paths are skipped. {}Pass --allow-empty to accept none",
            shown.join(", "),
            rules,
            rules.rule(),
            other_rule_hint(rules),
        );
        return Ok(ExitCode::from(1));
    }
    list(args.format, &diagnostics, &warnings);
    if args.format == Format::Text {
        if diagnostics.is_empty() {
            let warned = match warnings.len() {
                0 => String::new(),
                n => format!(", {n} warning(s)"),
            };
            let by = if paths.iter().any(|p| p.is_dir()) {
                format!(" (discovery: {rules})")
            } else {
                String::new()
            };
            eprintln!("{files_checked} flag file(s) valid{warned}{by}");
        } else {
            eprintln!("{} problem(s) found", diagnostics.len());
            let extra = diagnostics.iter().filter(|d| d.extra).count();
            if extra > 0 {
                eprintln!("{}", extra_checks_hint(extra, diagnostics.len()));
            }
        }
    }
    Ok(
        if diagnostics.is_empty() && (warnings.is_empty() || !args.strict) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// Prints the errors, then the warnings: one per line, or Flipt's JSON shape (a warning says so
/// in `severity`).
fn list(format: Format, diagnostics: &[Diagnostic], warnings: &[Diagnostic]) {
    match format {
        Format::Text => {
            for d in diagnostics.iter().chain(warnings) {
                println!("{d}");
            }
        }
        Format::Json => {
            let out: Vec<_> = diagnostics
                .iter()
                .chain(warnings)
                .map(|d| {
                    let mut o = json!({
                        "message": d.message,
                        "location": { "file": d.location.file, "line": d.location.line, "column": d.location.column },
                        "path": d.path,
                    });
                    if d.severity == Severity::Warning {
                        o["severity"] = json!("warning");
                    }
                    if d.extra {
                        o["extra"] = json!(true);
                    }
                    o
                })
                .collect();
            println!("{}", serde_json::Value::Array(out));
        }
    }
}

/// How to ask for the other generation's rule.
fn other_rule_hint(rules: Discovery) -> &'static str {
    match rules {
        Discovery::FliptV1 => {
            "For a Flipt v2 repository pass --discovery flipt-v2 (or --config with its configuration). "
        }
        Discovery::FliptV2 => {
            "For a Flipt v1 repository (or the seed's) pass --discovery flipt-v1. "
        }
    }
}

/// What to say when `extra` of `total` problems come from Switchyard's extra checks.
fn extra_checks_hint(extra: usize, total: usize) -> String {
    let which = if extra == total {
        "all of them".to_string()
    } else {
        format!("{extra} of them")
    };
    format!(
        "{which} come from Switchyard's checks beyond Flipt's (Flipt v2.11 serves these files): `--extra-checks warn` reports them as warnings, as `validation: {{extra_checks: warn}}` does for `serve`"
    )
}

fn relocate(d: switchyard_core::Diagnostics, root: &Path) -> Vec<Diagnostic> {
    relocate_all(d.iter(), root)
}

fn relocate_all<'a>(d: impl IntoIterator<Item = &'a Diagnostic>, root: &Path) -> Vec<Diagnostic> {
    d.into_iter()
        .cloned()
        .map(|mut x| {
            x.location.file = display_path(root, &x.location.file);
            x
        })
        .collect()
}
