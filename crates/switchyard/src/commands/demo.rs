//! `switchyard demo`: a local Git repository holding the seed's flags (newHomeUI, newDashboard,
//! newPaymentFlow, checkoutExperiment and their segments), served with a 1s poll and a commit hook
//! that asks the server to sync at once. Needs `git`; needs no network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, anyhow, bail};
use switchyard_server::ServerConfig;
use switchyard_sync::{EnvironmentConfig, StorageConfig, SyncConfig};

use crate::cli::DemoArgs;
use crate::commands::serve;

/// The seed's flags, corrected so they are valid (also in examples/seed/flipt/features.yml).
const SEED_FLAGS: &str = include_str!("../../../../examples/seed/flipt/features.yml");

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Switchyard Demo",
            "-c",
            "user.email=demo@switchyard.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .with_context(|| "running git (the demo needs git installed)".to_string())?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Creates the repository with the seed's flags unless `dir` already holds one.
fn prepare(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if dir.join(".git").exists() {
        return Ok(());
    }
    git(dir, &["init", "-q", "-b", "main"])?;
    std::fs::create_dir_all(dir.join("flipt"))?;
    std::fs::write(dir.join("flipt/features.yml"), SEED_FLAGS)?;
    git(dir, &["add", "flipt/features.yml"])?;
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "Seed flags: newHomeUI, newDashboard, newPaymentFlow, checkoutExperiment",
        ],
    )?;
    Ok(())
}

/// A post-commit hook that POSTs /api/v1/sync, with bash's /dev/tcp (no curl needed).
fn install_hook(dir: &Path, addr: SocketAddr) -> Result<()> {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let hook = format!(
        "#!/usr/bin/env bash\n# Installed by `switchyard demo`: ask the server to sync this commit now (webhook-style).\n\
         exec 3<>/dev/tcp/{host}/{port} 2>/dev/null || exit 0\n\
         printf 'POST /api/v1/sync HTTP/1.1\\r\\nHost: {host}\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n' >&3\n\
         timeout 2 cat <&3 >/dev/null 2>&1 || true\nexit 0\n",
        port = addr.port()
    );
    let path = dir.join(".git/hooks/post-commit");
    std::fs::write(&path, hook).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Runs `demo`.
pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    serve::init_tracing();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id())),
    };
    let dir = absolute(&dir)?;
    prepare(&dir)?;
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| anyhow!("invalid --listen {:?}: {e}", args.listen))?;
    let poll = switchyard_sync::config::parse_duration(&args.poll_interval).ok_or_else(|| {
        anyhow!(
            "invalid --poll-interval {:?} (e.g. 1s, 500ms)",
            args.poll_interval
        )
    })?;
    let mut storage = StorageConfig::remote(format!("file://{}", dir.display()));
    storage.poll_interval = poll;
    let mut sync = SyncConfig::default();
    sync.storage.insert("default".into(), storage);
    sync.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            ..EnvironmentConfig::new("default", "")
        },
    );
    let hook_dir = dir.clone();
    serve::runtime()?.block_on(serve::serve(
        sync,
        ServerConfig::default(),
        listen,
        move |addr| {
            if let Err(e) = install_hook(&hook_dir, addr) {
                tracing::warn!(
                    "could not install the commit hook ({e:#}); changes still arrive with the poll"
                );
            }
            print_banner(&hook_dir, addr);
        },
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir()?.join(p))
}

fn print_banner(dir: &Path, addr: SocketAddr) {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let url = format!("http://{host}:{}", addr.port());
    let d = dir.display();
    println!("switchyard: listening on {url}");
    println!("switchyard: flags repository {d}");
    println!();
    println!("  Dashboard        {url}/");
    println!("  Sync status      {url}/api/v1/sync/status");
    println!(
        "  Evaluate         curl -s {url}/evaluate/v1/variant -d '{{\"flagKey\":\"newHomeUI\",\"entityId\":\"u1\",\"context\":{{\"plan\":\"premium\"}}}}'"
    );
    println!(
        "  OFREP            curl -s {url}/ofrep/v1/evaluate/flags -d '{{\"context\":{{\"targetingKey\":\"u1\",\"plan\":\"enterprise\"}}}}'"
    );
    println!();
    println!(
        "  Change a flag with Git (the commit hook syncs at once; a 1s poll catches the rest):"
    );
    println!("    cd {d}");
    println!(
        "    sed -i 's/rollout: 25/rollout: 50/; s/rollout: 75/rollout: 50/' flipt/features.yml"
    );
    println!("    git commit -am 'Roll newPaymentFlow out to 50%'");
    println!();
    println!("  Press Ctrl-C to stop.");
}
