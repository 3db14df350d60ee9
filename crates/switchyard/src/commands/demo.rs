//! `switchyard demo`: serve a local Git repository live, with a post-commit hook that asks the
//! server to sync at once. An empty or new directory gets a repository with the seed's flags; an
//! existing repository is served as it is (its current branch, or `--branch`) and never written
//! to, except for the demo's own hook, installed only when the repository has none and removed
//! on exit. Any other non-empty directory is refused. Needs `git`; needs no network.

use std::fmt::Write as _;
use std::io::Write as _;
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

/// The line that marks a hook as the demo's own (only such a hook is ever removed).
const HOOK_MARKER: &str = "# Installed by `switchyard demo`";

/// Runs `git -C dir args…` and returns its trimmed standard output.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "commit.gpgsign=false"])
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
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// What the demo found in its directory.
enum Repo {
    /// A repository the demo just created with the seed's flags, on `main`.
    Created,
    /// The user's repository, served as it is on this branch.
    Existing(String),
}

/// Creates the seed repository in an empty or new `dir`, or accepts an existing repository.
fn prepare(dir: &Path, branch: Option<&str>) -> Result<Repo> {
    if dir.join(".git").exists() {
        let branch = match branch {
            Some(b) => b.to_string(),
            None => git(dir, &["symbolic-ref", "--short", "HEAD"]).map_err(|_| {
                anyhow!(
                    "{} has a detached HEAD: pass --branch NAME to choose the branch to serve",
                    dir.display()
                )
            })?,
        };
        let rev = format!("refs/heads/{branch}");
        if git(dir, &["rev-parse", "--verify", "--quiet", &rev]).is_err() {
            bail!(
                "{} has no commit on branch {branch:?}: commit your flag files first, or pass --branch NAME",
                dir.display()
            );
        }
        let dirty = git(dir, &["status", "--porcelain"]).is_ok_and(|s| !s.is_empty());
        if dirty {
            tracing::warn!(
                "{} has uncommitted changes; only committed flag files are served (commit to publish them)",
                dir.display()
            );
        }
        return Ok(Repo::Existing(branch));
    }
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty and is not a Git repository; nothing was changed. The demo creates its repository only in an empty or new directory (--dir), or serves an existing Git repository as it is",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    git(dir, &["init", "-q", "-b", "main"])?;
    // The demo's own repository gets an identity, so the printed `git commit` works anywhere.
    git(dir, &["config", "user.name", "Switchyard Demo"])?;
    git(dir, &["config", "user.email", "demo@switchyard.invalid"])?;
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
    Ok(Repo::Created)
}

/// The demo's post-commit hook: present only while the demo runs, and only where none existed.
struct Hook {
    path: PathBuf,
    installed: bool,
}

impl Hook {
    /// Where git looks for the repository's post-commit hook (honours `core.hooksPath`).
    fn locate(dir: &Path) -> Result<Hook> {
        let p = PathBuf::from(git(dir, &["rev-parse", "--git-path", "hooks/post-commit"])?);
        let path = if p.is_absolute() { p } else { dir.join(p) };
        Ok(Hook {
            path,
            installed: false,
        })
    }

    /// Writes a hook that POSTs /api/v1/sync with bash's /dev/tcp (no curl needed), unless the
    /// repository already has one; returns whether it was installed.
    fn install(&mut self, addr: SocketAddr) -> Result<bool> {
        if std::fs::symlink_metadata(&self.path).is_ok() {
            return Ok(false);
        }
        let host = display_host(addr);
        let hook = format!(
            "#!/usr/bin/env bash\n{HOOK_MARKER}; removed when it stops: ask the server to sync this commit now (webhook-style).\n\
             exec 3<>/dev/tcp/{host}/{port} 2>/dev/null || exit 0\n\
             printf 'POST /api/v1/sync HTTP/1.1\\r\\nHost: {host}\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n' >&3\n\
             timeout 2 cat <&3 >/dev/null 2>&1 || true\nexit 0\n",
            port = addr.port()
        );
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&self.path, hook)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.installed = true;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(true)
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path).is_ok_and(|t| t.contains(HOOK_MARKER));
        if self.installed && ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Runs `demo`.
pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    serve::init_tracing();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id())),
    };
    let dir = absolute(&dir)?;
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
    let repo = prepare(&dir, args.branch.as_deref())?;
    let mut storage = StorageConfig::remote(format!("file://{}", dir.display()));
    storage.poll_interval = poll;
    storage.branch = match &repo {
        Repo::Created => "main".into(),
        Repo::Existing(b) => b.clone(),
    };
    let mut sync = SyncConfig::default();
    sync.storage.insert("default".into(), storage);
    sync.environments.insert(
        "default".into(),
        EnvironmentConfig {
            default: true,
            // the seed's shape: `flipt/features.yml`, found by Flipt v1's rule
            discovery: switchyard_core::Discovery::FliptV1,
            ..EnvironmentConfig::new("default", "")
        },
    );
    let mut hook = Hook::locate(&dir)?;
    serve::runtime()?.block_on(serve::serve(
        sync,
        ServerConfig::default(),
        listen,
        None,
        "--listen",
        |addr| {
            let hooked = match hook.install(addr) {
                Ok(true) => true,
                Ok(false) => {
                    tracing::warn!(
                        "{} already exists and was left as it is; commits arrive with the {} poll",
                        hook.path.display(),
                        args.poll_interval
                    );
                    false
                }
                Err(e) => {
                    tracing::warn!(
                        "could not install the commit hook ({e:#}); commits arrive with the poll"
                    );
                    false
                }
            };
            print_banner(&dir, addr, &repo, hooked);
        },
    ))?;
    drop(hook);
    Ok(ExitCode::SUCCESS)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir()?.join(p))
}

fn display_host(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    }
}

fn print_banner(dir: &Path, addr: SocketAddr, repo: &Repo, hooked: bool) {
    let url = format!("http://{}:{}", display_host(addr), addr.port());
    let d = dir.display();
    let created = matches!(repo, Repo::Created);
    let mut out = format!("switchyard: listening on {url}\n");
    // Writing to a String cannot fail.
    let _ = match repo {
        Repo::Created => writeln!(
            out,
            "switchyard: flags repository {d} (created with the seed's flags)"
        ),
        Repo::Existing(b) => writeln!(out, "switchyard: flags repository {d}, branch {b}"),
    };
    let _ = writeln!(out, "\n  Dashboard        {url}/");
    let _ = writeln!(out, "  Sync status      {url}/api/v1/sync/status");
    if created {
        let _ = writeln!(
            out,
            "  Evaluate         curl -s {url}/evaluate/v1/variant -d '{{\"flagKey\":\"newHomeUI\",\"entityId\":\"u1\",\"context\":{{\"plan\":\"premium\"}}}}'"
        );
    }
    let _ = writeln!(
        out,
        "  OFREP            curl -s {url}/ofrep/v1/evaluate/flags -d '{{\"context\":{{\"targetingKey\":\"u1\",\"plan\":\"enterprise\"}}}}'"
    );
    let how = if hooked {
        "the commit hook syncs at once; the poll catches the rest"
    } else {
        "the poll picks it up"
    };
    let _ = writeln!(out, "\n  Change a flag with Git ({how}):\n    cd {d}");
    if created {
        out.push_str("    sed -i.bak 's/rollout: 25/rollout: 50/; s/rollout: 75/rollout: 50/' flipt/features.yml && rm flipt/features.yml.bak\n");
        out.push_str("    git commit -am 'Roll newPaymentFlow out to 50%'\n");
    } else {
        out.push_str("    (edit a flag file)  git commit -am 'Change a flag'\n");
    }
    out.push_str("\n  Press Ctrl-C to stop.\n");
    // A closed stdout (the reader went away) must not stop the server.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
