//! Credentials for a fetch: basic auth from the URL or the configuration, tokens, and ssh (an
//! inline key or passphrase goes to a 0600 file in a private temporary directory), with ssh's
//! options for the storage's bounds.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{CredentialsConfig, FetchTimeouts, SshAuth};
use crate::error::SyncError;
use crate::remote_url::RemoteUrl;

/// What a fetch authenticates with.
pub(super) struct Auth {
    /// The URL handed to gix (an http(s) URL without the credentials written in it).
    pub(super) url: String,
    /// Basic-auth user and password.
    pub(super) basic: Option<(String, String)>,
    /// Every secret, scrubbed from error messages.
    pub(super) secrets: Vec<String>,
    /// In-memory git config: no credential helper or prompt, the ssh command, a bearer header.
    pub(super) overrides: Vec<String>,
    /// Where ssh writes its diagnostics (`-E`).
    pub(super) ssh_log: Option<PathBuf>,
    /// Private directories of key files, removed on drop.
    pub(super) temp: Vec<tempfile::TempDir>,
}

impl Auth {
    /// Prepares authentication for `url` (parsed as `parsed`) with the configured `creds`.
    pub(super) fn prepare(
        url: String,
        parsed: &RemoteUrl,
        display_url: &str,
        creds: Option<&CredentialsConfig>,
        timeouts: &FetchTimeouts,
    ) -> Result<Auth, SyncError> {
        let mut temp = Vec::new();
        let mut overrides = vec![
            "credential.interactive=never".to_string(),
            "credential.helper=".to_string(),
        ];
        let mut basic = None;
        let mut ssh_log = None;
        let mut secrets = Vec::new();
        let mut url = url;
        if let Some(pw) = parsed.password() {
            secrets.push(pw.to_string());
            if parsed.is_http() {
                // credentials written in an http(s) URL: used as basic auth (unless configured
                // credentials say otherwise), and never handed to gix inside the URL
                basic = Some((parsed.user().unwrap_or("").to_string(), pw.to_string()));
                url = display_url.to_string();
            }
        }
        match creds {
            None => {}
            Some(CredentialsConfig::Basic { basic: b }) => {
                secrets.push(b.password.clone());
                basic = Some((b.username.clone(), b.password.clone()));
            }
            Some(CredentialsConfig::AccessToken { access_token }) => {
                // Flipt v2: basic auth, username `x-token-auth`, the token as password
                secrets.push(access_token.clone());
                basic = Some(("x-token-auth".to_string(), access_token.clone()));
            }
            Some(CredentialsConfig::Bearer { bearer_token }) => {
                secrets.push(bearer_token.clone());
                overrides.push(format!(
                    "http.extraHeader=Authorization: Bearer {bearer_token}"
                ));
            }
            Some(CredentialsConfig::Ssh { ssh }) => {
                let dir = tempfile::Builder::new()
                    .prefix("switchyard-ssh-")
                    .tempdir()
                    .map_err(|e| SyncError::local("creating a temporary directory", e))?;
                let command = ssh_command(ssh, dir.path(), parsed.user().is_some(), timeouts)?;
                secrets.extend(command.secret);
                ssh_log = Some(command.log);
                overrides.push(format!("core.sshCommand={}", command.line));
                overrides.push("ssh.variant=ssh".to_string());
                temp.push(dir);
            }
        }
        if parsed.is_ssh() && !matches!(creds, Some(CredentialsConfig::Ssh { .. })) {
            // ssh without configured credentials: ssh's own keys, with the same bounds
            overrides.push(format!("core.sshCommand=ssh {}", ssh_timeouts(timeouts)));
            overrides.push("ssh.variant=ssh".to_string());
        }
        Ok(Auth {
            url,
            basic,
            secrets,
            overrides,
            ssh_log,
            temp,
        })
    }
}

/// An ssh command line for configured ssh credentials.
struct SshCommand {
    line: String,
    log: PathBuf,
    /// The key passphrase, if one is given (a secret to scrub).
    secret: Option<String>,
}

fn ssh_command(
    ssh: &SshAuth,
    dir: &Path,
    url_has_user: bool,
    timeouts: &FetchTimeouts,
) -> Result<SshCommand, SyncError> {
    let mut secret = None;
    let key_path = match (&ssh.private_key_path, &ssh.private_key_bytes) {
        (Some(p), None) => p.clone(),
        (None, Some(bytes)) => {
            let p = dir.join("id");
            write_private(&p, normalise_key(bytes).as_bytes())?;
            p
        }
        _ => {
            return Err(SyncError::Local(
                "please provide exclusively one of private_key_bytes or private_key_path".into(),
            ));
        }
    };
    let mut cmd = String::new();
    if let Some(pass) = ssh.password.as_deref().filter(|p| !p.is_empty()) {
        // ssh reads a key passphrase only from a terminal or SSH_ASKPASS: give it a
        // private askpass script that prints the passphrase from a 0600 file
        secret = Some(pass.to_string());
        let pass_file = dir.join("passphrase");
        write_private(&pass_file, pass.as_bytes())?;
        let askpass = dir.join("askpass");
        write_private(
            &askpass,
            format!("#!/bin/sh\ncat {}\n", shell_quote(&pass_file)).as_bytes(),
        )?;
        set_mode(&askpass, 0o700)?;
        cmd.push_str(&format!(
            "SSH_ASKPASS={} SSH_ASKPASS_REQUIRE=force DISPLAY=none ",
            shell_quote(&askpass)
        ));
    }
    let log = dir.join("ssh.log");
    cmd.push_str(&format!(
        "ssh -i {} -E {} -o IdentitiesOnly=yes {}",
        shell_quote(&key_path),
        shell_quote(&log),
        ssh_timeouts(timeouts)
    ));
    if ssh.password.as_deref().is_none_or(str::is_empty) {
        cmd.push_str(" -o BatchMode=yes");
    } else {
        cmd.push_str(" -o NumberOfPasswordPrompts=1 -o PreferredAuthentications=publickey");
    }
    if ssh.insecure_ignore_host_key {
        cmd.push_str(" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
    } else {
        if let Some(kh) = &ssh.known_hosts_path {
            cmd.push_str(&format!(" -o UserKnownHostsFile={}", shell_quote(kh)));
        }
        cmd.push_str(" -o StrictHostKeyChecking=yes");
    }
    if !url_has_user {
        // the URL's user wins; otherwise the configured one
        cmd.push_str(&format!(" -o User={}", shell_quote(Path::new(&ssh.user))));
    }
    Ok(SshCommand {
        line: cmd,
        log,
        secret,
    })
}

fn normalise_key(key: &str) -> String {
    let mut k = key.trim().to_string();
    k.push('\n');
    k
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| SyncError::local(&format!("writing {}", path.display()), e))?;
    f.write_all(bytes)
        .map_err(|e| SyncError::local(&format!("writing {}", path.display()), e))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), SyncError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| SyncError::local(&format!("chmod {}", path.display()), e))
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// ssh options for the storage's bounds: connect timeout, and keep-alives that end a session
/// whose server stops answering within `read`.
fn ssh_timeouts(t: &FetchTimeouts) -> String {
    let alive = (t.read.as_secs() / 3).max(1);
    format!(
        "-o ConnectTimeout={} -o ServerAliveInterval={alive} -o ServerAliveCountMax=3",
        t.connect.as_secs().max(1)
    )
}
