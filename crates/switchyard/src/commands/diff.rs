//! `switchyard diff`: the plain-words diff and the impact preview of a change, between two
//! revisions of a Git repository or two directories, as text, JSON or Markdown. Exit code 0: no
//! entity's answer changes; 1: some do; 2: an error (including invalid flag files on a side).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use switchyard_core::{Diff, Environment, Impact, Limits, compile_environment_with, diff, impact};
use switchyard_server::impact_json::ImpactJson;
use switchyard_sync::at_commit::{ReadRules, compile_at, open, resolve};

use crate::cli::{DiffArgs, DiffFormat};
use crate::files::{Loaded, discovery, display_path, load_dir};

mod markdown;

/// One side of the comparison, compiled, with the label it is shown under.
struct Side {
    label: String,
    env: Environment,
}

/// Runs `diff`.
pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    let limits = Limits::default();
    let (base, head) = sides(args, &limits)?;
    let mut d = diff(&base.env, &head.env);
    let samples = match &args.contexts {
        Some(p) => crate::contexts::read(p)?,
        None => Vec::new(),
    };
    let mut i = impact(&base.env, &head.env, &d, &samples);
    if let Some(ns) = &args.namespace {
        d.changes.retain(|c| &c.namespace == ns);
        i.flags.retain(|f| &f.namespace == ns);
    }
    let out = match args.format {
        DiffFormat::Text => text(&args.environment, (&base.label, &head.label), &d, &i),
        DiffFormat::Json => {
            let json = ImpactJson::new(&args.environment, (&base.label, &head.label), &d, &i);
            format!("{}\n", serde_json::to_string_pretty(&json)?)
        }
        DiffFormat::Markdown => {
            markdown::render(&args.environment, (&base.label, &head.label), &d, &i)
        }
    };
    print!("{out}");
    Ok(if i.changes_entities() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The two sides: directories (`--dir-base`/`--dir-head`, or two existing directories without
/// `--repo`), else revisions of `--repo`.
fn sides(args: &DiffArgs, limits: &Limits) -> Result<(Side, Side)> {
    let rules = discovery(&args.discovery)?;
    let extra = args.extra_checks.into();
    let dirs = match (&args.dir_base, &args.dir_head, &args.base, &args.head) {
        (Some(a), Some(b), _, _) => Some((a.clone(), b.clone())),
        (None, None, Some(a), Some(b))
            if args.repo.is_none() && Path::new(a).is_dir() && Path::new(b).is_dir() =>
        {
            Some((a.into(), b.into()))
        }
        _ => None,
    };
    if let Some((a, b)) = dirs {
        let load = |dir: &Path| -> Result<Side> {
            if !dir.is_dir() {
                bail!("{} is not a directory", dir.display());
            }
            let files = match load_dir(dir, rules, limits)? {
                Loaded::Files(read) => read.files,
                Loaded::Invalid(d) => return Err(invalid(dir, d)),
            };
            let env = compile_environment_with(&args.environment, &files, limits, extra)
                .map_err(|d| invalid(dir, d))?;
            Ok(Side {
                label: dir.display().to_string(),
                env,
            })
        };
        return Ok((load(&a)?, load(&b)?));
    }
    let (Some(base), Some(head)) = (&args.base, &args.head) else {
        bail!("give two revisions (switchyard diff <base> <head>), or --dir-base and --dir-head");
    };
    let repo = open(args.repo.as_deref().unwrap_or(Path::new(".")))?;
    let read = |spec: &str| -> Result<Side> {
        let id = resolve(&repo, spec)?;
        let env = compile_at(
            &repo,
            id,
            ReadRules {
                key: &args.environment,
                directory: &args.directory,
                discovery: rules,
                limits,
                extra_checks: extra,
            },
        )?;
        let short = id.to_string()[..7].to_string();
        let label = if spec.starts_with(&short) {
            short
        } else {
            format!("{spec} ({short})")
        };
        Ok(Side { label, env })
    };
    Ok((read(base)?, read(head)?))
}

fn invalid(root: &Path, d: switchyard_core::Diagnostics) -> anyhow::Error {
    let lines: Vec<String> = d
        .into_iter()
        .map(|mut x| {
            x.location.file = display_path(root, &x.location.file);
            x.to_string()
        })
        .collect();
    anyhow!(
        "the flag files of {} are invalid:\n{}",
        root.display(),
        lines.join("\n")
    )
}

fn text(environment: &str, (base, head): (&str, &str), d: &Diff, i: &Impact) -> String {
    let mut out = format!("environment {environment}: {base} -> {head}\n");
    if d.is_empty() && i.flags.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    for line in d.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str("impact:\n");
    for line in i.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(if i.changes_entities() {
        "some entities get a different answer\n"
    } else {
        "no entity gets a different answer\n"
    });
    out
}
