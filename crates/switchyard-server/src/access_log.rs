//! The structured access log: one JSON line per request (`server.access_log`), written by a
//! thread of its own from a bounded queue, so a slow disk never holds a request; lines that do
//! not fit in the queue are dropped and counted.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};

use serde::Serialize;

/// Lines waiting for the writer at most.
const QUEUE_LINES: usize = 16_384;

/// Where access-log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogTarget {
    /// Standard output (`server.access_log: stdout`, or `true`).
    Stdout,
    /// Standard error (`server.access_log: stderr`).
    Stderr,
    /// A file, appended to (created if missing).
    File(PathBuf),
}

impl AccessLogTarget {
    /// Opens the target for appending.
    pub(crate) fn open(&self) -> io::Result<Box<dyn Write + Send>> {
        Ok(match self {
            AccessLogTarget::Stdout => Box::new(io::stdout()),
            AccessLogTarget::Stderr => Box::new(io::stderr()),
            AccessLogTarget::File(p) => {
                Box::new(OpenOptions::new().create(true).append(true).open(p)?)
            }
        })
    }
}

impl std::fmt::Display for AccessLogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccessLogTarget::Stdout => f.write_str("stdout"),
            AccessLogTarget::Stderr => f.write_str("stderr"),
            AccessLogTarget::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One request as logged.
#[derive(Serialize)]
pub(crate) struct Entry<'a> {
    /// When the response head was ready, RFC 3339 UTC (the project's one formatter).
    pub(crate) time: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// The route template matched (`/ofrep/v1/evaluate/flags/{key}`), if any.
    pub(crate) route: Option<&'a str>,
    pub(crate) status: u16,
    /// Milliseconds from the request's head to its response's head.
    pub(crate) duration_ms: f64,
    /// The response body's length, when known before it is sent (not for streams).
    pub(crate) bytes: Option<u64>,
    pub(crate) request_id: Option<&'a str>,
    /// `X-Switchyard-Commit` of the answer, when it was read from a snapshot.
    pub(crate) commit: Option<&'a str>,
}

/// The log's sending side.
pub(crate) struct AccessLog {
    tx: SyncSender<Vec<u8>>,
    dropped: AtomicU64,
}

impl AccessLog {
    /// Opens `target` and starts its writer thread.
    pub(crate) fn start(target: &AccessLogTarget) -> io::Result<AccessLog> {
        let out = target.open()?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_LINES);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(rx, out))?;
        Ok(AccessLog {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues one line (dropped, and counted, when the queue is full).
    pub(crate) fn record(&self, entry: &Entry<'_>) {
        let mut line = Vec::with_capacity(256);
        if serde_json::to_writer(&mut line, entry).is_err() {
            return;
        }
        line.push(b'\n');
        if self.tx.try_send(line).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "access log: the writer is behind; {n} lines dropped so far"
                );
            }
        }
    }
}

/// The writer: buffered, flushed whenever the queue is empty; ends when the sender is dropped.
fn write_lines(rx: Receiver<Vec<u8>>, out: Box<dyn Write + Send>) {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let mut failed = false;
    while let Ok(line) = rx.recv() {
        let mut result = out.write_all(&line);
        loop {
            match rx.try_recv() {
                Ok(line) => result = result.and_then(|()| out.write_all(&line)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    let _ = out.flush();
                    return;
                }
            }
        }
        result = result.and_then(|()| out.flush());
        match result {
            Err(e) if !failed => {
                failed = true;
                tracing::error!(error = %e, "access log: writing failed; lines are lost until it works again");
            }
            Ok(()) => failed = false,
            Err(_) => {}
        }
    }
}
