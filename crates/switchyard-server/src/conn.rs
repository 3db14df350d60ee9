//! One HTTP connection: what it is doing (requests in flight, last activity, a request head being
//! read, a write the client does not take), the IO wrapper that records it, and the task that
//! serves the connection and closes it when a limit passes.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::future::RouteFuture;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::App;
use crate::config::ConnectionLimits;

/// Streams one HTTP/2 connection may open at once.
pub(crate) const MAX_STREAMS_PER_CONNECTION: u32 = 100;

/// Milliseconds on a process-wide monotonic clock.
pub(crate) fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// The limits in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis {
    pub(crate) idle: u64,
    pub(crate) header: u64,
    /// How long a closing connection may take to finish its requests at shutdown.
    pub(crate) grace: u64,
}

impl Millis {
    /// The limits and the shutdown grace period in milliseconds.
    pub(crate) fn new(l: &ConnectionLimits, grace: Duration) -> Self {
        let ms = |d: Duration| d.as_millis().max(1) as u64;
        Millis {
            idle: ms(l.idle_timeout),
            header: ms(l.header_read_timeout),
            grace: ms(grace),
        }
    }
}

/// A wake-up for the one task that waits on it: a pending flag and that task's waker (polled on
/// every wake of a connection's task, and cheaper to poll than tokio's `Notify`, which takes a
/// lock per poll). A signal raised while nobody waits is kept for the next wait.
#[derive(Debug, Default)]
struct Signal {
    pending: AtomicBool,
    waker: futures_util::task::AtomicWaker,
}

impl Signal {
    /// Wakes the waiting task, or the next one to wait.
    fn raise(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    /// Ready once raised (and lowers it).
    fn poll_raised(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.pending.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.pending.swap(false, Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Resolves once raised.
    async fn raised(&self) {
        std::future::poll_fn(|cx| self.poll_raised(cx)).await
    }
}

/// What a connection is doing, shared by its IO wrapper, its requests and the accept loop.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicU32,
    requests: AtomicU64,
    /// When the connection was accepted or its last request ended.
    last_active: AtomicU64,
    /// 1 + when the first byte of a new request head arrived; 0 while none is being read.
    head_since: AtomicU64,
    /// 1 + when a write started to wait for the client; 0 while writes go through.
    blocked_since: AtomicU64,
    /// Whether request heads are tracked (HTTP/1; HTTP/2 reads pings and settings while idle).
    track_head: AtomicBool,
    /// Asked to close when idle, to make room for new connections.
    shed: AtomicBool,
    /// The server is stopping: finish the requests in flight and close.
    stopping: AtomicBool,
    /// Accepted beyond the connection limit: one request, then closed.
    pub(crate) overflow: bool,
    /// The limits the deadlines are computed with.
    limits: Millis,
    /// When the connection task's timer fires next ([`u64::MAX`] before it is first armed). An
    /// event that moves the deadline before it wakes the task; any other waits for the timer,
    /// which recomputes the deadline: a busy keep-alive connection re-arms its timer about once
    /// per header timeout instead of twice per request.
    armed: AtomicU64,
    changed: Signal,
}

impl Activity {
    pub(crate) fn new(overflow: bool, limits: Millis) -> Activity {
        Activity {
            in_flight: AtomicU32::new(0),
            requests: AtomicU64::new(0),
            last_active: AtomicU64::new(now_ms()),
            head_since: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
            track_head: AtomicBool::new(true),
            shed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            overflow,
            limits,
            armed: AtomicU64::new(u64::MAX),
            changed: Signal::default(),
        }
    }

    /// Wakes the connection task when `deadline` is before the time its timer is armed for.
    /// (`SeqCst` pairs with the task's store of `armed` and its second look at the state: either
    /// the task sees the event's state or the event sees the new `armed`.)
    fn wake_if_before(&self, deadline: u64) {
        if deadline < self.armed.load(Ordering::SeqCst) {
            self.changed.raise();
        }
    }

    /// No request in flight.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// When the connection was accepted or its last request ended.
    pub(crate) fn last_active(&self) -> u64 {
        self.last_active.load(Ordering::Relaxed)
    }

    /// Whether shedding was already asked for.
    pub(crate) fn is_shed(&self) -> bool {
        self.shed.load(Ordering::Relaxed)
    }

    /// Asks the connection to close as soon as it is idle.
    pub(crate) fn request_shed(&self) {
        self.shed.store(true, Ordering::Relaxed);
        self.changed.raise();
    }

    /// Asks the connection to finish its requests and close: the server is stopping.
    pub(crate) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.changed.raise();
    }

    fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.head_since.store(0, Ordering::Relaxed);
        RequestGuard(self.clone())
    }

    fn on_read(&self) {
        if self.track_head.load(Ordering::Relaxed)
            && self.head_since.load(Ordering::Relaxed) == 0
            && self.is_idle()
        {
            let now = now_ms();
            self.head_since.store(now + 1, Ordering::SeqCst);
            self.wake_if_before(now + self.limits.header);
        }
    }

    fn on_write(&self, pending: bool) {
        let blocked = self.blocked_since.load(Ordering::Relaxed);
        if pending && blocked == 0 {
            let now = now_ms();
            self.blocked_since.store(now + 1, Ordering::SeqCst);
            self.wake_if_before(now + self.limits.idle);
        } else if !pending && blocked != 0 {
            self.blocked_since.store(0, Ordering::Relaxed);
        }
    }

    /// When the connection has to be closed if nothing happens before; `None` while a request
    /// runs and its writes go through.
    fn deadline(&self, l: Millis) -> Option<u64> {
        let blocked = self.blocked_since.load(Ordering::Relaxed);
        let write = (blocked != 0).then(|| blocked - 1 + l.idle);
        let read = if self.is_idle() {
            let head = self.head_since.load(Ordering::Relaxed);
            let last = self.last_active();
            let requests = self.requests.load(Ordering::Relaxed);
            Some(if self.is_shed() || (self.overflow && requests > 0) {
                last
            } else if head != 0 {
                head - 1 + l.header
            } else if requests == 0 {
                last + l.header
            } else {
                last + l.idle
            })
        } else {
            None
        };
        match (read, write) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Resolves once shedding is asked for.
    pub(crate) async fn shed_requested(&self) {
        while !self.is_shed() {
            self.changed.raised().await;
        }
    }
}

/// A request in flight; its end (the response body finished or dropped) marks activity.
#[derive(Debug)]
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let a = &self.0;
        let now = now_ms();
        a.last_active.store(now, Ordering::Relaxed);
        a.head_since.store(0, Ordering::Relaxed);
        if a.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            // idle again: a shed or overflow connection closes now, any other after `idle`
            let closes_now = a.is_shed() || a.overflow;
            a.wake_if_before(if closes_now { now } else { now + a.limits.idle });
        }
    }
}

/// A response body that holds its request's guard until it ends.
struct GuardedBody {
    inner: Body,
    _guard: Option<RequestGuard>,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The router as a hyper service for one connection.
#[derive(Clone)]
struct ConnService {
    app: App,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = hyper::Response<GuardedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        ResponseFuture {
            guard: Some(self.activity.begin()),
            inner: self.app.answer(req.map(Body::new)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The edge's answer, with the request's guard moved into the body.
    struct ResponseFuture {
        #[pin]
        inner: crate::edge::EdgeFuture<RouteFuture<Infallible>>,
        guard: Option<RequestGuard>,
    }
}

impl Future for ResponseFuture {
    type Output = Result<hyper::Response<GuardedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                let guard = this.guard.take();
                Poll::Ready(r.map(|resp| {
                    resp.map(|inner| GuardedBody {
                        inner,
                        _guard: guard,
                    })
                }))
            }
        }
    }
}

/// A stream that records reads and blocked writes, after replaying bytes already read from it,
/// and gives hyper's own HTTP/1 error answers (a malformed request, a path or headers too
/// large) a JSON body.
pub(crate) struct Tracked<S> {
    inner: S,
    prefix: Vec<u8>,
    pos: usize,
    activity: Arc<Activity>,
    /// A replacement answer being written, and how much of it is out.
    rewrite: Option<(Vec<u8>, usize)>,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, prefix: Vec<u8>, activity: Arc<Activity>) -> Self {
        Tracked {
            inner,
            prefix,
            pos: 0,
            activity,
            rewrite: None,
        }
    }
}

/// hyper's bodiless answer to a request it could not parse, as a JSON answer in Flipt's error
/// shape; `None` for anything else (every answer of the router carries `x-request-id`).
fn json_parse_error(buf: &[u8]) -> Option<Vec<u8>> {
    let status = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    if !status.starts_with(b"4") || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if head_end != buf.len() {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?.to_ascii_lowercase();
    if head.contains("\r\nx-request-id:") || !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let line = head.lines().next()?;
    let (code, message) = match line.get(9..12)? {
        "400" => (
            3,
            "malformed HTTP request: the request line or a header is invalid",
        ),
        "414" => (3, "the request path is too long"),
        "431" => (8, "the request headers are too large"),
        _ => (3, "the HTTP request was refused"),
    };
    let body = crate::error::FliptErrorBody {
        code,
        message,
        details: [],
    }
    .to_json();
    let status_line = std::str::from_utf8(buf).ok()?.lines().next()?;
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> Tracked<S> {
    /// Writes the replacement answer; `Ready(Ok(len))` reports hyper's `len` bytes as written.
    fn poll_rewrite(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<std::io::Result<usize>> {
        while let Some((bytes, done)) = &mut self.rewrite {
            if *done == bytes.len() {
                self.rewrite = None;
                return Poll::Ready(Ok(len));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(len))
    }

    /// Whether `buf` is a parse-error answer to replace (HTTP/1 only, no request running).
    fn start_rewrite(&mut self, buf: &[u8]) -> bool {
        if self.rewrite.is_some() {
            return true;
        }
        if !self.activity.track_head.load(Ordering::Relaxed) {
            return false;
        }
        match json_parse_error(buf) {
            Some(bytes) => {
                self.rewrite = Some((bytes, 0));
                true
            }
            None => false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.prefix.len() {
            let n = (this.prefix.len() - this.pos).min(buf.remaining());
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if buf.starts_with(b"HTTP/1.") && this.start_rewrite(buf) {
            return this.poll_rewrite(cx, buf.len());
        }
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.activity.on_write(r.is_pending());
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty());
        if let Some(first) = first
            && first.starts_with(b"HTTP/1.")
            && bufs.iter().filter(|b| !b.is_empty()).count() == 1
            && this.start_rewrite(first)
        {
            return this.poll_rewrite(cx, first.len());
        }
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.activity.on_write(r.is_pending());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.activity.on_write(r.is_pending());
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A hyper connection that can be asked to finish its requests and close.
trait Graceful: Future<Output = Result<(), hyper::Error>> {
    fn graceful(self: Pin<&mut Self>);
}

impl<I, S> Graceful for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S> Graceful for hyper::server::conn::http2::Connection<I, S, TokioExecutor>
where
    S: hyper::service::HttpService<Incoming>,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as http_body::Body>::Data: Send + 'static,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    fn graceful(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Serves HTTP/1.1 or HTTP/2 on `io` until the client closes, a limit passes or the server stops
/// ([`Activity::request_stop`]).
pub(crate) async fn serve<S>(io: Tracked<S>, h2: bool, app: App, limits: Millis)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = io.activity.clone();
    let service = ConnService {
        app,
        activity: activity.clone(),
    };
    if h2 {
        activity.track_head.store(false, Ordering::Relaxed);
        let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
            .serve_connection(TokioIo::new(io), service);
        drive(conn, &activity, limits).await;
    } else {
        // The header timeout is `Activity`'s (no timer of hyper's per request head).
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .keep_alive(!activity.overflow)
            .serve_connection(TokioIo::new(io), service);
        drive(conn, &activity, limits).await;
    }
}

async fn drive<C: Graceful>(conn: C, activity: &Activity, limits: Millis) {
    tokio::pin!(conn);
    // Once asked to close: the time by which it is dropped.
    let mut closing: Option<u64> = None;
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut timer_at = 0;
    loop {
        if closing.is_none() && activity.stopping.load(Ordering::SeqCst) {
            conn.as_mut().graceful();
            closing = Some(now_ms() + limits.grace);
        }
        let now = now_ms();
        let deadline = match closing {
            Some(hard) => Some(hard),
            None => activity.deadline(limits),
        };
        // With no deadline (a request running) the timer still fires after `idle`, to look
        // again: events that only move the deadline later do not wake this task.
        let wake = deadline.unwrap_or(now + limits.idle);
        activity.armed.store(wake, Ordering::SeqCst);
        let again = match closing {
            Some(hard) => Some(hard),
            None => activity.deadline(limits),
        };
        if again != deadline {
            continue;
        }
        if wake != timer_at {
            timer_at = wake;
            timer.as_mut().reset(
                tokio::time::Instant::now() + Duration::from_millis(wake.saturating_sub(now)),
            );
        }
        if deadline.is_some_and(|d| d <= now) {
            if closing.is_some() || activity.requests.load(Ordering::Relaxed) == 0 {
                // a connection that never sent a request, or did not finish closing: drop it
                tracing::debug!("closing a connection that made no progress");
                return;
            }
            conn.as_mut().graceful();
            closing = Some(now + limits.header);
            continue;
        }
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = activity.changed.raised() => {}
            _ = timer.as_mut() => {
                // fired: the next pass arms it again
                timer_at = 0;
            }
        }
    }
}
