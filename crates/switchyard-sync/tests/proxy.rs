//! Proxies from the environment (issue 3): `HTTPS_PROXY` / `https_proxy`, `NO_PROXY` /
//! `no_proxy`, checked against a real HTTP CONNECT proxy and the real lighttpd +
//! `git http-backend` HTTPS server of the `it` harness.
//!
//! Proxy variables are process-wide, so this is its own test binary with a single test: nothing
//! else runs in this process while it changes them.
//!
//! What the reqwest backend (reqwest 0.13.5 / hyper-util 0.1.21) does, and this test pins:
//! - the environment is read each time a fetch builds its HTTP client, so a change applies to
//!   the next fetch without a restart;
//! - `HTTPS_PROXY` wins over `https_proxy` (`ALL_PROXY`/`all_proxy` is the fallback); https
//!   remotes are tunnelled with `CONNECT host:port`, TLS stays end to end; credentials in the
//!   proxy URL become `Proxy-Authorization: Basic …`;
//! - there is no built-in loopback exception: `127.0.0.1` goes through the proxy unless
//!   `NO_PROXY` says otherwise;
//! - `NO_PROXY` entries are matched against the URL's host as written, without resolving it:
//!   an IP or CIDR (`127.0.0.1`, `127.0.0.0/8`) matches only an IP host, a name (`localhost`)
//!   only that name and its subdomains; ports are not supported. hyper-util's `*` matches names
//!   only, so `GitSource` turns the proxy off itself when `NO_PROXY` has a `*` entry;
//! - a proxy that refuses the connection, or answers the CONNECT with an error, fails the fetch
//!   as a `network` error, which `GitSource` completes with the proxy and its variable.
//!
//! Not covered: plain `http://` remotes (sent to `HTTP_PROXY` in absolute form), since the
//! harness serves git over https only and gix refuses basic auth over plain http.

#[path = "it/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_core::Limits;
use switchyard_sync::{
    BasicAuth, CredentialsConfig, EnvironmentConfig, ErrorClass, StartError, StorageConfig,
    SyncConfig, SyncHandle,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use harness::{Harness, PASSWORD, USER};

const FLAGS: &str = r#"
version: "1.4"
namespace: default
flags:
  - key: newHomeUI
    name: New Home UI
    type: BOOLEAN_FLAG_TYPE
    enabled: true
"#;

/// Every proxy variable reqwest (hyper-util) reads, plus `REQUEST_METHOD`, whose presence (a CGI
/// environment) makes it ignore `HTTP_PROXY` and friends altogether.
const PROXY_VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Sets exactly `vars` among [`PROXY_VARS`] and removes the others.
fn proxy_env(vars: &[(&str, &str)]) {
    for name in PROXY_VARS {
        match vars.iter().find(|(n, _)| n == name) {
            // SAFETY: this binary has one test, and no sync is running while the environment
            // changes (each phase shuts its sync down first), so nothing reads it concurrently
            Some((_, value)) => unsafe { std::env::set_var(name, value) },
            None => unsafe { std::env::remove_var(name) },
        }
    }
}

/// A minimal HTTP forward proxy: `CONNECT host:port` tunnels only, no authentication required.
/// Records the target of every tunnel it opened, every other request line it refused, and the
/// `Proxy-Authorization` headers it was sent.
struct ConnectProxy {
    port: u16,
    tunnels: Arc<Mutex<Vec<String>>>,
    refused: Arc<Mutex<Vec<String>>>,
    auth: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectProxy {
    async fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let auth = Arc::new(Mutex::new(Vec::new()));
        let (t, r, a) = (tunnels.clone(), refused.clone(), auth.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (t, r, a) = (t.clone(), r.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = serve(client, t, r, a).await;
                });
            }
        });
        ConnectProxy {
            port,
            tunnels,
            refused,
            auth,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }

    fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }

    fn auth(&self) -> Vec<String> {
        self.auth.lock().unwrap().clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One proxy connection: read the request head, open the tunnel, copy both ways.
async fn serve(
    mut client: TcpStream,
    tunnels: Arc<Mutex<Vec<String>>>,
    refused: Arc<Mutex<Vec<String>>>,
    auth: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16 * 1024 {
            client
                .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
                .await?;
            return Ok(());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let line = text.lines().next().unwrap_or("").to_string();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    for header in text.lines().skip(1) {
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("proxy-authorization")
        {
            auth.lock().unwrap().push(value.trim().to_string());
        }
    }
    if method != "CONNECT" {
        refused.lock().unwrap().push(line.clone());
        client
            .write_all(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut upstream = match TcpStream::connect(target).await {
        Ok(s) => s,
        Err(_) => {
            refused.lock().unwrap().push(line.clone());
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await?;
            return Ok(());
        }
    };
    tunnels.lock().unwrap().push(target.to_string());
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    // whatever the client sent after the head belongs to the tunnel
    upstream.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

fn config(h: &Harness, url: String) -> SyncConfig {
    let mut cfg = SyncConfig::default();
    cfg.credentials.insert(
        "creds".into(),
        CredentialsConfig::Basic {
            basic: BasicAuth {
                username: USER.into(),
                password: PASSWORD.into(),
            },
        },
    );
    cfg.storage.insert(
        "default".into(),
        StorageConfig {
            ca_cert_path: Some(h.ca_path()),
            credentials: Some("creds".into()),
            // only the initial fetch of each phase: no poll may open a tunnel behind our back
            poll_interval: Duration::from_secs(3600),
            ..StorageConfig::remote(url)
        },
    );
    cfg.environments
        .insert("default".into(), EnvironmentConfig::new("default", ""));
    cfg
}

/// One strict start (initial fetch from `url`, memory backend, so always a full fetch); returns
/// the commit it serves.
async fn sync_once(h: &Harness, url: String) -> Result<String, StartError> {
    let sync = SyncHandle::start_and_wait(config(h, url), Limits::default()).await?;
    let sha = sync
        .status("default")
        .and_then(|s| s.serving_commit)
        .map(|c| c.sha)
        .expect("a commit is served");
    assert_eq!(
        sync.environment("default")
            .and_then(|e| e.namespace("default")?.flag("newHomeUI").map(|f| f.enabled)),
        Some(true)
    );
    sync.shutdown().await;
    Ok(sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_through_the_proxy_from_the_environment() {
    let started = Instant::now();
    let mut h = Harness::new(&[("features.yaml", FLAGS)]);
    h.start_https();
    let head = h.head();
    let ip_url = h.https_url();
    let ip_target = format!("127.0.0.1:{}", h.https_port);
    let name_url = ip_url.replace("127.0.0.1", "localhost");
    let name_target = format!("localhost:{}", h.https_port);
    let proxy = ConnectProxy::start().await;

    // 1. HTTPS_PROXY: the fetch is tunnelled, even to a loopback address
    proxy_env(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "")]);
    assert_eq!(
        sync_once(&h, ip_url.clone())
            .await
            .expect("via HTTPS_PROXY"),
        head
    );
    assert_eq!(
        proxy.tunnels(),
        std::slice::from_ref(&ip_target),
        "one CONNECT to the git server"
    );

    // 2. the lower-case forms work the same
    proxy_env(&[("https_proxy", &proxy.url()), ("no_proxy", "")]);
    assert_eq!(
        sync_once(&h, ip_url.clone())
            .await
            .expect("via https_proxy"),
        head
    );
    assert_eq!(proxy.tunnels().len(), 2, "{:?}", proxy.tunnels());
    assert!(proxy.auth().is_empty(), "{:?}", proxy.auth());

    // credentials in the proxy URL (percent-encoded) are sent as Proxy-Authorization
    let with_auth = format!("http://bob:px%20s3cret@127.0.0.1:{}", proxy.port);
    proxy_env(&[("HTTPS_PROXY", &with_auth)]);
    assert_eq!(
        sync_once(&h, ip_url.clone())
            .await
            .expect("authenticated proxy"),
        head
    );
    assert_eq!(proxy.tunnels().len(), 3, "{:?}", proxy.tunnels());
    assert_eq!(
        proxy.auth(),
        ["Basic Ym9iOnB4IHMzY3JldA=="],
        "bob:px s3cret"
    );

    // 3. NO_PROXY is matched against the URL's host as written: `localhost` does not cover
    //    127.0.0.1, and a host name is sent to the proxy unresolved
    proxy_env(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "localhost")]);
    assert_eq!(
        sync_once(&h, ip_url.clone()).await.expect("not excluded"),
        head
    );
    proxy_env(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "127.0.0.1")]);
    assert_eq!(
        sync_once(&h, name_url.clone()).await.expect("by name"),
        head
    );
    assert_eq!(
        proxy.tunnels()[3..],
        [ip_target.clone(), name_target.clone()],
        "NO_PROXY must not match across names and addresses"
    );

    // 4. NO_PROXY bypasses: both forms, an IP, a CIDR, a name and `*`; no new tunnel
    let before = proxy.tunnels().len();
    for (var, value, url) in [
        ("NO_PROXY", "127.0.0.1,localhost", &ip_url),
        ("NO_PROXY", "127.0.0.1,localhost", &name_url),
        ("no_proxy", "example.com, 127.0.0.0/8", &ip_url),
        ("NO_PROXY", "*", &ip_url),
    ] {
        proxy_env(&[("HTTPS_PROXY", &proxy.url()), (var, value)]);
        assert_eq!(
            sync_once(&h, url.clone())
                .await
                .unwrap_or_else(|e| panic!("{var}={value} {url}: {e}")),
            head
        );
        assert_eq!(
            proxy.tunnels().len(),
            before,
            "{var}={value} {url} was proxied"
        );
    }

    // 5. a proxy that refuses connections: a network error that names the proxy
    let dead = harness::free_port();
    let dead_url = format!("http://127.0.0.1:{dead}");
    proxy_env(&[
        (
            "HTTPS_PROXY",
            &format!("http://bob:pxs3cret@127.0.0.1:{dead}"),
        ),
        ("NO_PROXY", ""),
    ]);
    let err = sync_once(&h, ip_url.clone())
        .await
        .expect_err("the proxy is down");
    let StartError::InitialFetch { error, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(error.class(), ErrorClass::Network, "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("(through the proxy {dead_url} from HTTPS_PROXY)")),
        "the message should name the proxy: {message}"
    );
    assert!(
        !message.contains(PASSWORD) && !message.contains("pxs3cret"),
        "password leaked: {message}"
    );
    eprintln!("refused proxy: {message}");

    // 6. a proxy that cannot reach the remote: answered 502, also a network error
    proxy_env(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "")]);
    h.stop_https();
    let err = sync_once(&h, ip_url.clone())
        .await
        .expect_err("the remote is down");
    let StartError::InitialFetch { error, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(error.class(), ErrorClass::Network, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "(through the proxy {} from HTTPS_PROXY)",
            proxy.url()
        )),
        "{err}"
    );
    eprintln!("proxy 502: {err}");
    assert_eq!(proxy.refused(), [format!("CONNECT {ip_target} HTTP/1.1")]);

    proxy_env(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
