//! One fetch: the ref advertisement, then the pack if the tip moved, on its own thread under
//! the storage's `timeouts` watchdog (total, low speed), with the processes it started ended
//! when it is given up.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gix::ObjectId;
use gix::credentials::helper::Action;
use gix::credentials::protocol::Outcome;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::Direction;
use gix::remote::fetch::Shallow;
use gix::sec::identity::Account;

use super::proxy::{env_proxy, no_proxy_all};
use super::{Conn, Fetched, GitSource, Reference, child_processes, panic_message};
use crate::config::format_duration;
use crate::error::{ErrorClass, SyncError, chain, classify};
use crate::redact::scrub;

impl GitSource {
    /// Fetches the reference. Returns at the ref advertisement when the tip has not moved.
    ///
    /// The fetch runs on its own thread, watched against the storage's `timeouts`: past the
    /// total deadline, or when fewer than `low_speed_limit` bytes a second arrive over
    /// `low_speed_time`, it is interrupted, the processes it started (`git-upload-pack`, `ssh`)
    /// are ended, and this returns a `timeout` error at once. A fetch blocked on a socket ends
    /// by itself within `read`; until it has, later fetches report it instead of starting
    /// another one.
    pub fn fetch(&mut self) -> Result<Fetched, SyncError> {
        let repo = self.repo();
        if let Reference::Commit(id) = &self.conn.reference
            && repo.has_object(id)
        {
            // a pinned commit never changes: once here, no network is needed
            return Ok(Fetched {
                commit: *id,
                transferred: false,
            });
        }
        if let Some(old) = self.abandoned.take() {
            if !old.handle.is_finished() {
                let message = format!(
                    "the fetch given up {} s ago has not ended yet (its connection is still open)",
                    old.since.elapsed().as_secs()
                );
                self.abandoned = Some(old);
                return Err(self.conn.timeout(message));
            }
            if let Ok(Ok(Done::Received(tip))) = old.handle.join() {
                self.last_tip = Some(tip);
            }
        }
        let started = Instant::now();
        let interrupt = Arc::new(AtomicBool::new(false));
        // 0 until the fetch thread has told its id
        let fetch_tid = Arc::new(AtomicU32::new(0));
        let counter = Activity::default();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job = {
            let repo = self.repo.clone();
            let conn = self.conn.clone();
            let last_tip = self.last_tip;
            let interrupt = interrupt.clone();
            let counter = counter.clone();
            let fetch_tid = fetch_tid.clone();
            move || {
                if let Some(tid) = child_processes::current_thread_id() {
                    fetch_tid.store(tid, Ordering::Relaxed);
                }
                let result = conn.fetch(&repo.to_thread_local(), last_tip, &interrupt, counter);
                let _ = tx.send(());
                result
            }
        };
        let handle = std::thread::Builder::new()
            .name("git-fetch".into())
            .spawn(job)
            .map_err(|e| SyncError::local("starting the fetch thread", e))?;
        let t = self.conn.timeouts;
        let mut samples: std::collections::VecDeque<(Instant, u64)> =
            std::collections::VecDeque::new();
        let verdict = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if now - started >= t.total {
                break Some(format!(
                    "no complete answer within {} (timeouts.total)",
                    format_duration(t.total)
                ));
            }
            if t.low_speed_limit == 0 {
                continue;
            }
            let bytes = counter.total();
            samples.push_back((now, bytes));
            while samples
                .get(1)
                .is_some_and(|(at, _)| now - *at >= t.low_speed_time)
            {
                samples.pop_front();
            }
            if let Some((at, then)) = samples.front()
                && now - *at >= t.low_speed_time
            {
                let got = bytes.saturating_sub(*then);
                let need = t.low_speed_limit as f64 * (now - *at).as_secs_f64();
                if (got as f64) < need {
                    break Some(format!(
                        "{got} bytes in the last {} s, below {} bytes/s (timeouts.low_speed_limit over timeouts.low_speed_time)",
                        (now - *at).as_secs(),
                        t.low_speed_limit
                    ));
                }
            }
        };
        if let Some(reason) = verdict {
            interrupt.store(true, Ordering::Relaxed);
            // a fetch that reads gets the interrupt at its next read; one blocked on the pipe of
            // a process it started (`git-upload-pack` of a stalled `file://` remote, `ssh`)
            // returns once that process is ended; one blocked on a socket is left behind and
            // ends within `timeouts.read`
            let tid = fetch_tid.load(Ordering::Relaxed);
            if tid != 0 {
                let ended = child_processes::kill_children_of(tid);
                if ended > 0 {
                    tracing::debug!(ended, "ended the processes of a fetch given up");
                }
            }
            if rx.recv_timeout(Duration::from_millis(500)).is_err() {
                self.abandoned = Some(Abandoned {
                    handle,
                    since: Instant::now(),
                });
                return Err(self.conn.timeout(reason));
            }
            let _ = handle.join();
            return Err(self.conn.timeout(reason));
        }
        let done = handle.join().map_err(|p| {
            SyncError::Internal(format!("the fetch panicked: {}", panic_message(&p)))
        })??;
        match done {
            Done::Unchanged(tip) => Ok(Fetched {
                commit: self.peel(tip)?,
                transferred: false,
            }),
            Done::Received(tip) => {
                let commit = self.peel(tip)?;
                self.last_tip = Some(tip);
                self.compact_packs();
                Ok(Fetched {
                    commit,
                    transferred: true,
                })
            }
        }
    }
}

/// A fetch thread left behind at its deadline (interrupted, but blocked in a read).
pub(super) struct Abandoned {
    handle: std::thread::JoinHandle<Result<Done, SyncError>>,
    since: Instant,
}

/// How a fetch thread ended.
enum Done {
    /// The advertised tip was the one fetched last time.
    Unchanged(ObjectId),
    /// A pack was received; the tip.
    Received(ObjectId),
}

impl Conn {
    fn fetch_error(&self, e: &(dyn std::error::Error + 'static)) -> SyncError {
        let mut message = chain(e);
        if let Some(log) = &self.ssh_log {
            // gix only sees ssh's stdout; its own diagnostics went to the log
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
                .collect();
            if !lines.is_empty() {
                message = format!(
                    "{}: {message}",
                    lines[lines.len().saturating_sub(3)..].join("; ")
                );
            }
        }
        let mut message = scrub(&message, &self.secrets).replace(&self.url, &self.display_url);
        let class = classify(&message);
        if matches!(class, ErrorClass::Network | ErrorClass::Timeout)
            && let Some(proxy) = env_proxy(&self.url)
        {
            // reqwest's errors name the remote, never the proxy the request went through
            message.push_str(&format!(" (through the proxy {proxy})"));
        }
        SyncError::Fetch {
            class,
            remote: self.display_url.clone(),
            message,
        }
    }

    fn timeout(&self, message: String) -> SyncError {
        SyncError::Fetch {
            class: ErrorClass::Timeout,
            remote: self.display_url.clone(),
            message,
        }
    }

    fn missing(&self) -> SyncError {
        SyncError::Fetch {
            class: ErrorClass::NotFound,
            remote: self.display_url.clone(),
            message: match &self.reference {
                Reference::Branch(b) => format!("branch {b:?} not found on the remote"),
                Reference::Tag(t) => format!("tag {t:?} not found on the remote"),
                Reference::Commit(c) => format!("commit {c} not found on the remote"),
            },
        }
    }

    /// One fetch on the calling thread: the ref advertisement, then the pack if the tip moved.
    fn fetch(
        &self,
        repo: &gix::Repository,
        last_tip: Option<ObjectId>,
        interrupt: &AtomicBool,
        progress: Activity,
    ) -> Result<Done, SyncError> {
        if let Some(log) = &self.ssh_log {
            let _ = std::fs::write(log, b"");
        }
        let spec = self.reference.refspec();
        let remote = repo
            .remote_at(self.url.as_str())
            .map_err(|e| self.fetch_error(&e))?
            .with_refspecs([spec.as_str()], Direction::Fetch)
            .map_err(|e| self.fetch_error(&e))?;
        let mut con = remote
            .connect(Direction::Fetch)
            .map_err(|e| self.fetch_error(&e))?;
        if self.url.starts_with("https://") || self.url.starts_with("http://") {
            let mut opts = repo
                .transport_options(self.url.as_str(), None)
                .ok()
                .flatten()
                .and_then(|b| b.downcast::<http::Options>().ok())
                .map(|b| *b)
                .unwrap_or_default();
            let pem = self.ca_pem.clone();
            let insecure = self.insecure_skip_tls;
            let t = self.timeouts;
            let hook: Box<http::reqwest::ConfigureClientFn> =
                Box::new(move |b: reqwest::blocking::ClientBuilder| {
                    // reqwest's blocking `timeout` bounds the wait for the answer and for every
                    // read of its body: the first byte and any stall
                    let mut b = b.connect_timeout(t.connect).timeout(t.read);
                    if let Some(pem) = &pem {
                        let certs = reqwest::Certificate::from_pem_bundle(pem)
                            .map_err(gix::Error::from_error)?;
                        b = b.tls_certs_only(certs);
                    }
                    if insecure {
                        b = b.tls_danger_accept_invalid_certs(true);
                    }
                    if no_proxy_all() {
                        // reqwest reads HTTP(S)_PROXY / NO_PROXY itself, but its `*` entry
                        // skips IP-address hosts; `*` means every host, as with curl and git
                        b = b.no_proxy();
                    }
                    Ok(b)
                });
            opts.backend = Some(Arc::new(Mutex::new(http::reqwest::Options {
                configure_client: Some(hook),
                configure_request: None,
            })));
            con = con.with_transport_options(Box::new(opts));
        }
        let basic = self.basic.clone();
        let prepare = con
            .with_credentials(move |action| match (action, &basic) {
                (Action::Get(ctx), Some((u, p))) => Ok(Some(Outcome {
                    identity: Account {
                        username: u.clone(),
                        password: p.clone(),
                        oauth_refresh_token: None,
                    },
                    next: ctx.into(),
                })),
                // nothing configured: fail instead of prompting; store and erase are no-ops
                _ => Ok(None),
            })
            .prepare_fetch(progress.clone(), Default::default())
            .map_err(|e| self.fetch_error(&e))?;
        let advertised = prepare
            .ref_map()
            .mappings
            .iter()
            .find_map(|m| m.remote.as_id().map(|id| id.to_owned()));
        let Some(tip) = advertised else {
            return Err(self.missing());
        };
        if last_tip == Some(tip) && repo.has_object(tip) {
            drop(prepare);
            return Ok(Done::Unchanged(tip));
        }
        // depth 1 the first time this reference is fetched, incremental after
        let shallow = if last_tip.is_none() {
            NonZeroU32::new(1).map_or(Shallow::NoChange, Shallow::DepthAtRemote)
        } else {
            Shallow::NoChange
        };
        prepare
            .with_shallow(shallow)
            .receive(progress, interrupt)
            .map_err(|e| self.fetch_error(&e))?;
        Ok(Done::Received(tip))
    }
}

/// A progress sink that only counts: the sum of every step of every child, read by the fetch's
/// watchdog for its low-speed check (bytes of the pack dominate the sum).
#[derive(Clone, Default)]
struct Activity {
    steps: Arc<Mutex<Vec<gix::progress::StepShared>>>,
    mine: gix::progress::StepShared,
}

impl Activity {
    fn total(&self) -> u64 {
        let steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let children: usize = steps.iter().map(|s| s.load(Ordering::Relaxed)).sum();
        (children + self.mine.load(Ordering::Relaxed)) as u64
    }
}

impl gix::progress::Count for Activity {
    fn set(&self, step: gix::progress::Step) {
        self.mine.store(step, Ordering::Relaxed);
    }
    fn step(&self) -> gix::progress::Step {
        self.mine.load(Ordering::Relaxed)
    }
    fn inc_by(&self, step: gix::progress::Step) {
        self.mine.fetch_add(step, Ordering::Relaxed);
    }
    fn counter(&self) -> gix::progress::StepShared {
        self.mine.clone()
    }
}

impl gix::progress::Progress for Activity {
    fn init(&mut self, _max: Option<gix::progress::Step>, _unit: Option<gix::progress::Unit>) {}
    fn set_name(&mut self, _name: String) {}
    fn name(&self) -> Option<String> {
        None
    }
    fn id(&self) -> gix::progress::Id {
        gix::progress::UNKNOWN
    }
    fn message(&self, _level: gix::progress::MessageLevel, _message: String) {}
}

impl gix::progress::NestedProgress for Activity {
    type SubProgress = Activity;
    fn add_child(&mut self, _name: impl Into<String>) -> Activity {
        let child: gix::progress::StepShared = Arc::new(AtomicUsize::new(0));
        self.steps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(child.clone());
        Activity {
            steps: self.steps.clone(),
            mine: child,
        }
    }
    fn add_child_with_id(&mut self, name: impl Into<String>, _id: gix::progress::Id) -> Activity {
        self.add_child(name)
    }
}
