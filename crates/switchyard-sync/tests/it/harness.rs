//! Real git servers on 127.0.0.1 for the integration tests, in a temporary directory:
//! lighttpd + `git http-backend` (CGI) over HTTPS with basic auth and a fresh test CA,
//! sshd with key auth, and plain `file://`. Every server is killed when the harness drops.
//!
//! Needs `lighttpd`, `sshd`, `ssh`, `ssh-keygen`, `openssl` and `git`; when one is missing the
//! harness panics with the command that installs them: `scripts/install-sync-test-deps.sh`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret";
pub const TOKEN: &str = "tok-123";

/// A temporary git world: a bare repository, a work clone to commit from, and servers.
pub struct Harness {
    pub root: tempfile::TempDir,
    pub https_port: u16,
    pub ssh_port: u16,
    lighttpd: Option<Child>,
    sshd: Option<Child>,
}

fn require(bin: &str) {
    let found = if bin.starts_with('/') {
        Path::new(bin).exists()
    } else {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {bin}"))
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    assert!(
        found,
        "`{bin}` is missing: the switchyard-sync integration tests start real lighttpd and sshd servers; \
         run scripts/install-sync-test-deps.sh (apt-get install lighttpd lighttpd-mod-openssl openssh-server openssh-client) first"
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Harness {
    /// A bare repository `flags.git` with one commit on `main` (the given files), and a work clone.
    pub fn new(files: &[(&str, &str)]) -> Harness {
        for b in [
            "git",
            "openssl",
            "lighttpd",
            "/usr/lib/lighttpd/mod_openssl.so",
            "/usr/sbin/sshd",
            "ssh",
            "ssh-keygen",
        ] {
            require(b);
        }
        let root = tempfile::Builder::new()
            .prefix("switchyard-it-")
            .tempdir()
            .expect("tempdir");
        let h = Harness {
            root,
            https_port: 0,
            ssh_port: 0,
            lighttpd: None,
            sshd: None,
        };
        std::fs::create_dir_all(h.path("repos")).unwrap();
        run(Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(h.bare()));
        run(Command::new("git").args(["-C"]).arg(h.bare()).args([
            "config",
            "http.receivepack",
            "true",
        ]));
        run(Command::new("git")
            .args(["init", "-q", "-b", "main"])
            .arg(h.work()));
        run(Command::new("git")
            .arg("-C")
            .arg(h.work())
            .args(["remote", "add", "origin"])
            .arg(h.bare()));
        h.commit(files, "initial flags");
        h
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn bare(&self) -> PathBuf {
        self.path("repos/flags.git")
    }

    pub fn work(&self) -> PathBuf {
        self.path("work")
    }

    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare().display())
    }

    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/git/flags.git", self.https_port)
    }

    pub fn bearer_url(&self) -> String {
        format!("https://127.0.0.1:{}/bearer/flags.git", self.https_port)
    }

    pub fn ssh_url(&self) -> String {
        format!(
            "ssh://root@127.0.0.1:{}{}",
            self.ssh_port,
            self.bare().display()
        )
    }

    pub fn ca_path(&self) -> PathBuf {
        self.path("tls/ca.crt")
    }

    pub fn client_key(&self) -> PathBuf {
        self.path("ssh/client_ed25519")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.path("ssh/known_hosts")
    }

    pub fn git(&self, args: &[&str]) -> String {
        run(Command::new("git")
            .arg("-C")
            .arg(self.work())
            .args([
                "-c",
                "user.name=Tess Ter",
                "-c",
                "user.email=tess@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args))
    }

    /// Writes `files` (an empty content deletes), commits on the current branch and pushes it.
    /// Returns the new commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let full = self.work().join(path);
            if content.is_empty() {
                let _ = std::fs::remove_file(&full);
                continue;
            }
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(&full, content.trim_start()).unwrap();
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        let branch = self.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
        self.git(&["push", "-q", "-f", "origin", branch.trim()]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Starts lighttpd with `git http-backend` on HTTPS (test CA), basic auth on `/git`
    /// (alice/s3cret and x-token-auth/tok-123) and a bearer-token gate on `/bearer`.
    pub fn start_https(&mut self) {
        let tls = self.path("tls");
        std::fs::create_dir_all(&tls).unwrap();
        let d = |f: &str| tls.join(f).display().to_string();
        if !tls.join("server.crt").exists() {
            run(Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "30",
                ])
                .args([
                    "-subj",
                    "/CN=switchyard-test-ca",
                    "-keyout",
                    &d("ca.key"),
                    "-out",
                    &d("ca.crt"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ]));
            run(Command::new("openssl")
                .args([
                    "req",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-subj",
                    "/CN=127.0.0.1",
                ])
                .args(["-keyout", &d("server.key"), "-out", &d("server.csr")]));
            std::fs::write(tls.join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
            run(Command::new("openssl")
                .args([
                    "x509",
                    "-req",
                    "-in",
                    &d("server.csr"),
                    "-CA",
                    &d("ca.crt"),
                    "-CAkey",
                    &d("ca.key"),
                    "-CAcreateserial",
                    "-days",
                    "30",
                ])
                .args(["-extfile", &d("ext.cnf"), "-out", &d("server.crt")]));
            let alice = run(Command::new("openssl").args(["passwd", "-apr1", PASSWORD]));
            let token = run(Command::new("openssl").args(["passwd", "-apr1", TOKEN]));
            std::fs::write(
                self.path("htpasswd"),
                format!("{USER}:{}\nx-token-auth:{}\n", alice.trim(), token.trim()),
            )
            .unwrap();
            std::fs::create_dir_all(self.path("www")).unwrap();
        }
        if self.https_port == 0 {
            self.https_port = free_port();
        }
        let backend = format!(
            "{}/git-http-backend",
            run(Command::new("git").arg("--exec-path")).trim()
        );
        let root = self.root.path().display();
        let conf = format!(
            r#"server.modules = ("mod_openssl", "mod_access", "mod_auth", "mod_authn_file", "mod_alias", "mod_setenv", "mod_cgi")
server.bind = "127.0.0.1"
server.port = {port}
server.document-root = "{root}/www"
server.errorlog = "{root}/lighttpd-error.log"
ssl.engine = "enable"
ssl.pemfile = "{root}/tls/server.crt"
ssl.privkey = "{root}/tls/server.key"
alias.url += ("/git" => "{backend}")
$HTTP["url"] =~ "^/git" {{
  cgi.assign = ("" => "")
  setenv.set-environment = ("GIT_PROJECT_ROOT" => "{root}/repos", "GIT_HTTP_EXPORT_ALL" => "1")
  auth.backend = "htpasswd"
  auth.backend.htpasswd.userfile = "{root}/htpasswd"
  auth.require = ("/git" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}}
alias.url += ("/bearer" => "{backend}")
$HTTP["url"] =~ "^/bearer" {{
  cgi.assign = ("" => "")
  setenv.set-environment = ("GIT_PROJECT_ROOT" => "{root}/repos", "GIT_HTTP_EXPORT_ALL" => "1")
  $REQUEST_HEADER["Authorization"] != "Bearer {TOKEN}" {{ url.access-deny = ("") }}
}}
"#,
            port = self.https_port
        );
        let conf_path = self.path("lighttpd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        run(Command::new("lighttpd")
            .arg("-tt")
            .arg("-f")
            .arg(&conf_path));
        let child = Command::new("lighttpd")
            .arg("-D")
            .arg("-f")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("lighttpd");
        self.lighttpd = Some(child);
        wait_for_port(self.https_port);
    }

    /// Stops lighttpd (the remote "goes away").
    pub fn stop_https(&mut self) {
        if let Some(mut c) = self.lighttpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Generates another client key (optionally encrypted with `passphrase`) and authorizes it.
    pub fn add_ssh_key(&self, name: &str, passphrase: &str) -> PathBuf {
        let dir = self.path("ssh");
        let key = dir.join(name);
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"])
            .arg(&key));
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let mut auth = std::fs::read_to_string(dir.join("authorized_keys")).unwrap();
        auth.push_str(&public);
        std::fs::write(dir.join("authorized_keys"), auth).unwrap();
        key
    }

    /// Starts sshd (foreground child, own host key and authorized_keys) with key auth only,
    /// and writes a known_hosts file for it.
    pub fn start_ssh(&mut self) {
        let dir = self.path("ssh");
        std::fs::create_dir_all(&dir).unwrap();
        for key in ["host_ed25519", "client_ed25519"] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"])
                .arg(dir.join(key)));
        }
        std::fs::copy(dir.join("client_ed25519.pub"), dir.join("authorized_keys")).unwrap();
        self.ssh_port = free_port();
        let host_pub = std::fs::read_to_string(dir.join("host_ed25519.pub")).unwrap();
        let mut parts = host_pub.split_whitespace();
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{} {kind} {key}\n", self.ssh_port),
        )
        .unwrap();
        let d = dir.display();
        let conf = format!(
            "ListenAddress 127.0.0.1\nPort {}\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n\
             StrictModes no\nUsePAM no\n",
            self.ssh_port
        );
        std::fs::write(dir.join("sshd_config"), conf).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-f"])
            .arg(dir.join("sshd_config"))
            .arg("-E")
            .arg(dir.join("sshd.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd");
        self.sshd = Some(child);
        wait_for_port(self.ssh_port);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for c in [self.lighttpd.take(), self.sshd.take()]
            .into_iter()
            .flatten()
        {
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub async fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
