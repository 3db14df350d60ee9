//! `switchyard validate`: every problem in the given flag files, as text or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::json;
use switchyard_core::{
    Diagnostic, ExtraChecks, Limits, Severity, SourceFile, compile_environment_with,
};

use crate::cli::{Format, ValidateArgs};
use crate::files::{Loaded, display_path, load_dir};

/// Runs `validate`; exit code 0 when valid (warnings included unless `--strict`), 1 when not or
/// when no flag file is found.
pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let limits = Limits::default();
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
            match load_dir(p, &limits)? {
                Loaded::Invalid(d) => diagnostics.extend(relocate(d, p)),
                Loaded::Files(files) => {
                    files_checked += files.len();
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
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "switchyard: no flag files found in {}: Flipt reads files named features.yml, features.yaml or features.json (also *.features.yml), or those a .flipt.yml index includes; target/, node_modules/ and Git-ignored paths are skipped. Pass --allow-empty to accept none",
            shown.join(", ")
        );
        if args.format == Format::Json {
            println!("[]");
        }
        return Ok(ExitCode::from(1));
    }
    match args.format {
        Format::Text => {
            for d in diagnostics.iter().chain(&warnings) {
                println!("{d}");
            }
            if diagnostics.is_empty() {
                if warnings.is_empty() {
                    eprintln!("{files_checked} flag file(s) valid");
                } else {
                    eprintln!(
                        "{files_checked} flag file(s) valid, {} warning(s)",
                        warnings.len()
                    );
                }
            } else {
                eprintln!("{} problem(s) found", diagnostics.len());
                let extra = diagnostics.iter().filter(|d| d.extra).count();
                if extra > 0 {
                    eprintln!("{}", extra_checks_hint(extra, diagnostics.len()));
                }
            }
        }
        Format::Json => {
            // Flipt's shape for errors; a warning says so in `severity`
            let out: Vec<_> = diagnostics
                .iter()
                .chain(&warnings)
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
    Ok(
        if diagnostics.is_empty() && (warnings.is_empty() || !args.strict) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
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
