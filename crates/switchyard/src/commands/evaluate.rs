//! `switchyard evaluate`: one flag, one entity, printed as Flipt's evaluation response JSON.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{Result, bail};
use switchyard_core::{Limits, compile_environment, evaluate};
use switchyard_server::responses::EvaluationResponse;

use crate::cli::EvaluateArgs;
use crate::files::{Loaded, discovery, display_path, load_dir};
use switchyard_sync::status::rfc3339;

/// Runs `evaluate`; exit code 0 on an evaluation, 1 when the files are invalid or the flag is unknown.
pub fn run(args: &EvaluateArgs) -> Result<ExitCode> {
    let limits = Limits::default();
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let files = match load_dir(&args.dir, discovery(&args.discovery)?, &limits)? {
        Loaded::Files(read) => read.files,
        Loaded::Invalid(d) => return Ok(report(d, &args.dir)),
    };
    let env = match compile_environment(&args.environment, &files, &limits) {
        Ok(e) => e,
        Err(d) => return Ok(report(d, &args.dir)),
    };
    let ctx: HashMap<String, String> = args.context.iter().cloned().collect();
    let started = Instant::now();
    let flag = match env.find_flag(&args.namespace, &args.flag) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let result = evaluate(flag, &args.entity, &ctx);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let now = rfc3339(SystemTime::now());
    let request_id = switchyard_server::request_id().to_string();
    let json = EvaluationResponse::new(&flag.key, &result, &request_id, ms, &now);
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}

fn report(d: switchyard_core::Diagnostics, root: &std::path::Path) -> ExitCode {
    for mut x in d {
        x.location.file = display_path(root, &x.location.file);
        eprintln!("{x}");
    }
    ExitCode::from(1)
}
