//! The accept loop: TLS or plain HTTP (HTTP/2 by ALPN or prior knowledge), the open-connection
//! limit fitted to the process's open-file limit, shedding of the oldest idle connections when
//! the limit is reached, and accept errors (such as running out of file descriptors) answered by
//! shedding and a short back-off instead of a spin.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::App;
use crate::config::ConfigError;
use crate::conn::{self, Activity, Millis, Tracked};
use crate::state::AppState;

/// File descriptors kept for everything but connections (git packs, sync threads, logs, …).
const RESERVED_FDS: usize = 64;
/// Connections accepted beyond the limit while idle ones close (each serves one request).
const OVERFLOW: usize = 32;
/// Idle connections closed at once when `accept` fails (e.g. out of file descriptors).
const SHED_ON_ERROR: usize = 16;
/// How long the accept loop waits for shed connections to close.
const ROOM_WAIT: Duration = Duration::from_millis(250);
const MIN_BACKOFF: Duration = Duration::from_millis(5);
/// The longest wait between failed `accept` calls: short enough that a client arriving while
/// descriptors are exhausted is accepted well within a second, long enough never to spin.
const MAX_BACKOFF: Duration = Duration::from_millis(250);
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// TCP keepalive on every connection: a peer that vanished without closing (a stream's client
/// on a dead network) is found and its connection closed within about 90 s, even when nothing is
/// written to it (a quiet snapshot stream writes nothing between changes).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;

/// Why the server cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting is unusable (the public URL, the TLS certificate or key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The gRPC server could not be built or failed.
    #[error("gRPC: {0}")]
    Grpc(String),
}

/// The open connections, for the limit and for shedding.
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
    next: AtomicU64,
    open: watch::Sender<usize>,
    /// For the connection counters of `/metrics`.
    state: AppState,
}

/// A connection's entry, removed when the connection's task ends.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.registry.conns).remove(&self.id);
        self.registry.open.send_modify(|n| *n = n.saturating_sub(1));
        let open = &self.registry.state.metrics().connections.open;
        let _ = open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    fn new(state: AppState) -> Registry {
        Registry {
            conns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            open: watch::Sender::new(0),
            state,
        }
    }

    fn open(&self) -> usize {
        *self.open.borrow()
    }

    fn register(self: &Arc<Self>, overflow: bool, limits: Millis) -> (Registered, Arc<Activity>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(overflow, limits));
        lock(&self.conns).insert(id, activity.clone());
        self.open.send_modify(|n| *n += 1);
        let open = &self.state.metrics().connections.open;
        open.fetch_add(1, Ordering::Relaxed);
        (
            Registered {
                registry: self.clone(),
                id,
            },
            activity,
        )
    }

    /// Asks every open connection to finish its requests and close (the server is stopping).
    fn stop_all(&self) {
        for a in lock(&self.conns).values() {
            a.request_stop();
        }
    }

    /// Asks the `n` connections idle the longest to close; returns how many were asked.
    fn shed_idle(&self, n: usize) -> usize {
        let mut idle: Vec<Arc<Activity>> = lock(&self.conns)
            .values()
            .filter(|a| a.is_idle() && !a.is_shed())
            .cloned()
            .collect();
        let n = n.min(idle.len());
        if n == 0 {
            return 0;
        }
        if n < idle.len() {
            idle.select_nth_unstable_by_key(n - 1, |a| a.last_active());
        }
        for a in &idle[..n] {
            a.request_shed();
        }
        let shed = &self.state.metrics().connections.shed;
        shed.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Asks up to `n` idle connections to close and waits (at most [`ROOM_WAIT`]) until they
    /// have; false when there was nothing to close.
    async fn make_room(&self, n: usize) -> bool {
        let mut open = self.open.subscribe();
        let before = *open.borrow();
        let asked = self.shed_idle(n);
        if asked == 0 {
            return false;
        }
        let target = before.saturating_sub(asked);
        let _ = tokio::time::timeout(ROOM_WAIT, open.wait_for(|n| *n <= target)).await;
        true
    }
}

/// The soft limit on open files, from `/proc/self/limits` (Linux); `None` elsewhere.
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The connection limit: the configured one, lowered to fit the open-file limit.
pub(crate) fn connection_limit(configured: usize) -> usize {
    let configured = configured.max(1);
    match open_file_limit() {
        Some(files) => {
            let fit = files.saturating_sub(RESERVED_FDS + OVERFLOW).max(1);
            if fit < configured {
                tracing::warn!(
                    max_connections = configured,
                    open_file_limit = files,
                    "max_connections lowered to {fit} to fit the open-file limit (raise it with `ulimit -n`)"
                );
            }
            fit.min(configured)
        }
        None => configured,
    }
}

/// Accept errors that concern only the connection being accepted.
pub(crate) fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

/// No delay and TCP keepalive on an accepted connection (HTTP and gRPC).
pub(crate) fn tune(stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = socket2::SockRef::from(stream).set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(KEEPALIVE_IDLE)
            .with_interval(KEEPALIVE_INTERVAL)
            .with_retries(KEEPALIVE_RETRIES),
    );
}

/// How long queued change notifications may still go out after the connections closed.
const NOTIFICATION_GRACE: Duration = Duration::from_secs(2);

/// Serves `state` on `listener` (HTTPS when TLS is configured) until `shutdown` resolves, then
/// answers `/ready` 503, keeps accepting for `server.shutdown_delay`, closes the listener, ends
/// open streams (SSE with a retry hint) and lets open requests finish (at most
/// `server.shutdown_grace_period`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    state.config().validate()?;
    let tls = crate::tls::configured(state.config())?;
    let limits = state.config().limits;
    let max = connection_limit(limits.max_connections);
    let shutdown_config = state.config().shutdown;
    let millis = Millis::new(&limits, shutdown_config.grace_period);
    let draining = state.clone();
    let shutdown = async move {
        shutdown.await;
        draining.begin_draining();
        tracing::info!(
            delay_ms = shutdown_config.delay.as_millis() as u64,
            grace_period_ms = shutdown_config.grace_period.as_millis() as u64,
            "shutting down: /ready answers 503; the listener closes after the delay"
        );
        tokio::time::sleep(shutdown_config.delay).await;
    };
    let stopping = state.stopping();
    let registry = Arc::new(Registry::new(state.clone()));
    let counters = &registry.state.metrics().connections;
    counters.limit.store(max as u64, Ordering::Relaxed);
    let app = crate::app(state);
    let mut backoff = MIN_BACKOFF;
    let mut refused_logged = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = MIN_BACKOFF;
                stream
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                counters.accept_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, open = registry.open(), "accept failed; closing idle connections");
                let made_room = tokio::select! {
                    r = registry.make_room(SHED_ON_ERROR) => r,
                    _ = &mut shutdown => break,
                };
                if made_room {
                    backoff = MIN_BACKOFF;
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = &mut shutdown => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let mut open = registry.open();
        if open >= max {
            // make room: the connections idle the longest go first, the new one is served
            let excess = open + 1 - max;
            if open >= max + OVERFLOW {
                tokio::select! {
                    _ = registry.make_room(excess) => {}
                    _ = &mut shutdown => break,
                }
                open = registry.open();
            } else {
                registry.shed_idle(1);
            }
        }
        if open >= max + OVERFLOW {
            if !refused_logged {
                tracing::warn!(
                    open,
                    max,
                    "connection limit reached and no idle connection to close: refusing connections"
                );
                refused_logged = true;
            }
            counters.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        }
        refused_logged = false;
        let overflow = open >= max;
        tune(&stream);
        let (entry, activity) = registry.register(overflow, millis);
        tokio::spawn(connection(
            stream,
            tls.clone(),
            app.clone(),
            activity,
            entry,
            millis,
        ));
    }
    drop(listener);
    stopping.send_replace(true);
    registry.stop_all();
    let mut open = registry.open.subscribe();
    let drained = tokio::time::timeout(
        shutdown_config.grace_period + Duration::from_secs(1),
        open.wait_for(|n| *n == 0),
    )
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            open = registry.open(),
            "connections still open after the shutdown grace period"
        );
    }
    registry.state.drain_notifications(NOTIFICATION_GRACE).await;
    Ok(())
}

/// TLS handshake or protocol detection (bounded by the header-read timeout), then HTTP.
async fn connection(
    mut stream: TcpStream,
    tls: Option<TlsAcceptor>,
    app: App,
    activity: Arc<Activity>,
    _entry: Registered,
    limits: Millis,
) {
    let header = Duration::from_millis(limits.header);
    let shed = activity.clone();
    match tls {
        Some(acceptor) => {
            let handshake = async {
                let mut first = [0u8; 1];
                if stream.peek(&mut first).await.ok()? != 1 {
                    return None;
                }
                if first[0] != 0x16 {
                    plain_http_on_tls_port(&mut stream).await;
                    return None;
                }
                match acceptor.accept(stream).await {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        None
                    }
                }
            };
            let tls_stream = tokio::select! {
                r = tokio::time::timeout(header, handshake) => match r {
                    Ok(Some(s)) => s,
                    _ => return,
                },
                _ = shed.shed_requested() => return,
            };
            let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let io = Tracked::new(tls_stream, Vec::new(), activity);
            conn::serve(io, h2, app, limits).await;
        }
        None => {
            let prefix = tokio::select! {
                r = tokio::time::timeout(header, sniff(&mut stream)) => match r {
                    Ok(Ok(p)) => p,
                    _ => return,
                },
                _ = shed.shed_requested() => return,
            };
            let h2 = prefix.starts_with(H2_PREFACE);
            let io = Tracked::new(stream, prefix, activity);
            conn::serve(io, h2, app, limits).await;
        }
    }
}

/// Reads until the bytes either begin HTTP/2's preface or cannot; returns what was read.
async fn sniff(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let n = buf.len().min(H2_PREFACE.len());
        if buf.len() >= H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] {
            return Ok(buf);
        }
        if buf.capacity() == buf.len() {
            buf.reserve(4096);
        }
    }
}

/// Answers a plain HTTP request sent to the HTTPS port with a 400 that says so, then closes.
async fn plain_http_on_tls_port(stream: &mut TcpStream) {
    let mut discard = [0u8; 4096];
    let _ = stream.read(&mut discard).await;
    let body = r#"{"code":3,"message":"this port speaks HTTPS: use an https:// URL","details":[]}"#;
    let resp = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}
