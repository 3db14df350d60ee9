//! The gRPC listener's connections: accepted under the connection limit, TLS handshakes on their
//! own tasks within the header-read timeout (a slow client never holds up the others), TCP
//! keepalive and no delay as on the HTTP port.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::config::ConnectionLimits;

/// Connections handed over but not yet taken by the server.
const QUEUED: usize = 64;
const MIN_BACKOFF: Duration = Duration::from_millis(5);
/// The longest wait between failed `accept` calls (never a spin).
const MAX_BACKOFF: Duration = Duration::from_millis(250);

/// A plain or TLS connection.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// An accepted connection; it holds its place under the connection limit until dropped.
pub(super) struct Conn {
    io: Io,
    info: TcpConnectInfo,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The connections of `listener` until `stop` is raised (the listener is closed then).
pub(super) fn connections(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    stop: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Conn, io::Error>> {
    let (tx, rx) = mpsc::channel(QUEUED);
    tokio::spawn(accept_loop(listener, tls, limits, tx, stop));
    futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|c| (Ok(c), rx)) },
    )
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    tx: mpsc::Sender<Conn>,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut backoff = MIN_BACKOFF;
    let mut refused_logged = false;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff = MIN_BACKOFF;
                a
            }
            Err(e) if crate::listener::is_connection_error(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "gRPC accept failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if !refused_logged {
                tracing::warn!(
                    max = limits.max_connections,
                    "gRPC connection limit reached: refusing connections"
                );
                refused_logged = true;
            }
            continue;
        };
        refused_logged = false;
        crate::listener::tune(&stream);
        let info = TcpConnectInfo {
            local_addr: stream.local_addr().ok(),
            remote_addr: Some(peer),
        };
        match &tls {
            None => {
                let conn = Conn {
                    io: Io::Plain(stream),
                    info,
                    _permit: permit,
                };
                tokio::select! {
                    r = tx.send(conn) => if r.is_err() { return },
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
            Some(acceptor) => {
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                let within = limits.header_read_timeout;
                tokio::spawn(async move {
                    match tokio::time::timeout(within, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let conn = Conn {
                                io: Io::Tls(Box::new(s)),
                                info,
                                _permit: permit,
                            };
                            let _ = tokio::time::timeout(within, tx.send(conn)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "gRPC TLS handshake failed"),
                        Err(_) => tracing::debug!("gRPC TLS handshake timed out"),
                    }
                });
            }
        }
    }
}
