//! Change notifications (issue 15 item 3, first part): sinks that receive one message per
//! applied commit, rejected commit or recovery, through a bounded queue per sink (the oldest
//! message dropped and counted when it is full) drained by its own task with retries and
//! backoff, so a slow or dead receiver never blocks the caller. `crate::notifier` feeds them
//! from the sync's attempts; the configuration's `notifications:` section names them.
//!
//! Every message carries `<environment>@<commit>` as its idempotency key, so a receiver can
//! drop the copies a fleet of replicas sends. The generic webhook signs the body with
//! HMAC-SHA256 (`X-Switchyard-Signature-256: sha256=<hex>`) and names the delivery
//! (`X-Switchyard-Delivery`, one id per message, the same on every retry). Sink URLs are shown
//! only with their secrets (userinfo, the path of Slack and Teams hooks) scrubbed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::Notify;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Event {
    /// A new commit is served.
    Applied,
    /// A new commit was refused.
    Rejected,
    /// A valid commit is served again after failures or a rejection.
    Recovered,
    /// A break-glass action: pause, resume, pin, override, clear or an override's expiry.
    BreakGlass,
}

/// The facts of a break-glass action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakGlassNote {
    /// `pause`, `resume`, `pin`, `override`, `clear` or `expire`.
    pub action: String,
    /// The token's name (`server` for an expiry).
    pub actor: String,
    /// Why, in the actor's words.
    pub reason: String,
    /// What it touched, in plain words.
    pub detail: String,
}

/// One message.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// `<environment>@<commit>`.
    pub idempotency_key: String,
    /// What happened.
    pub event: Event,
    /// Environment key.
    pub environment: String,
    /// Commit SHA.
    pub commit: String,
    /// Commit author.
    pub author: String,
    /// The plain-words diff.
    pub diff: Vec<String>,
    /// The impact in plain words.
    pub impact: Vec<String>,
    /// For a rejected commit, its validation errors as `file:line:column: path: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// For a break-glass action, what was done, by whom and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassNote>,
}

impl Notification {
    /// A message for `commit` of `environment`.
    pub fn new(event: Event, environment: &str, commit: &str, author: &str) -> Self {
        Notification {
            idempotency_key: format!("{environment}@{commit}"),
            event,
            environment: environment.to_string(),
            commit: commit.to_string(),
            author: author.to_string(),
            diff: Vec::new(),
            impact: Vec::new(),
            errors: Vec::new(),
            break_glass: None,
        }
    }

    /// A message for a break-glass action on `environment` while `commit` is served, taken at
    /// `time` (RFC 3339): the key `<environment>@<commit>#break-glass/<action>/<time>` is the
    /// same on every replica that reports the same action.
    pub fn break_glass(environment: &str, commit: &str, time: &str, note: BreakGlassNote) -> Self {
        let mut n = Notification::new(Event::BreakGlass, environment, commit, &note.actor);
        n.idempotency_key = format!("{environment}@{commit}#break-glass/{}/{time}", note.action);
        n.diff = vec![format!("{}: {}", note.action, note.detail)];
        n.impact = vec![format!("reason: {}", note.reason)];
        n.break_glass = Some(note);
        n
    }

    fn text(&self) -> String {
        let what = match self.event {
            Event::Applied => "applied",
            Event::Rejected => "rejected",
            Event::Recovered => "recovered",
            Event::BreakGlass => "break-glass",
        };
        if let Some(b) = &self.break_glass {
            return format!(
                "Switchyard {}: break-glass {} by {}: {} (reason: {})",
                self.environment, b.action, b.actor, b.detail, b.reason
            );
        }
        let mut t = format!(
            "Switchyard {}: commit {} by {} {what}",
            self.environment,
            self.commit.get(..7).unwrap_or(&self.commit),
            self.author
        );
        for l in self.diff.iter().chain(&self.impact).chain(&self.errors) {
            t.push_str("\n- ");
            t.push_str(l);
        }
        t
    }
}

/// The `notifications:` section: where messages go and how they are queued and retried.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The sinks, each with its own queue and delivery task.
    pub sinks: Vec<Sink>,
    /// Messages queued per sink before the oldest is dropped.
    pub queue_size: usize,
    /// Attempts and backoff per message.
    pub retry: Retry,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            sinks: Vec::new(),
            queue_size: 1000,
            retry: Retry::default(),
        }
    }
}

/// Where messages go.
#[derive(Clone)]
pub enum Sink {
    /// A generic webhook: the message's JSON, signed.
    Webhook {
        /// Receiver URL.
        url: String,
        /// HMAC-SHA256 key.
        secret: String,
    },
    /// A Slack incoming webhook (`{"text"}`).
    Slack {
        /// The hook URL (its path is the secret).
        url: String,
    },
    /// A Microsoft Teams incoming webhook (`{"text"}`).
    Teams {
        /// The hook URL (its path is the secret).
        url: String,
    },
    /// The server's log, at `info`.
    Log,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.kind(), self.display())
    }
}

impl Sink {
    /// The sink's kind: `webhook`, `slack`, `teams` or `log`.
    pub fn kind(&self) -> &'static str {
        match self {
            Sink::Webhook { .. } => "webhook",
            Sink::Slack { .. } => "slack",
            Sink::Teams { .. } => "teams",
            Sink::Log => "log",
        }
    }

    /// The URL as it may be shown: scheme and host only, the secret path and userinfo out.
    pub fn display(&self) -> String {
        match self {
            Sink::Webhook { url, .. } | Sink::Slack { url } | Sink::Teams { url } => {
                let secrets = self.secrets();
                let shown = match reqwest::Url::parse(url) {
                    Ok(u) => format!("{}://{}/***", u.scheme(), u.host_str().unwrap_or("")),
                    Err(_) => "(an invalid URL)".to_string(),
                };
                switchyard_sync::redact::scrub(&shown, &secrets)
            }
            Sink::Log => "log".to_string(),
        }
    }

    fn secrets(&self) -> Vec<String> {
        match self {
            Sink::Webhook { url, secret } => vec![secret.clone(), url.clone()],
            Sink::Slack { url } | Sink::Teams { url } => vec![url.clone()],
            Sink::Log => Vec::new(),
        }
    }
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts per message, the first included.
    pub attempts: u32,
    /// The wait after the first failure; doubled after each next one.
    pub backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Bound of one request.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

struct Queue {
    items: Mutex<VecDeque<Notification>>,
    wake: Notify,
    capacity: usize,
    dropped: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// 1 while a message is being delivered (taken from the queue, not yet counted).
    busy: AtomicU64,
}

/// One sink's queue and its delivery task.
pub struct Outbox {
    queue: Arc<Queue>,
    task: tokio::task::JoinHandle<()>,
    name: String,
}

impl Outbox {
    /// Starts the delivery task of `sink` with a queue of `capacity` messages.
    pub fn start(sink: Sink, capacity: usize, retry: Retry) -> Outbox {
        let queue = Arc::new(Queue {
            items: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        });
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .build()
            .ok();
        let name = format!("{}:{}", sink.kind(), sink.display());
        let task = tokio::spawn(deliver_all(sink, queue.clone(), client, retry));
        Outbox { queue, task, name }
    }

    /// The sink as metrics and logs name it: `<kind>:<redacted URL>` (`log:log` for the log).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether nothing waits and nothing is being delivered.
    pub fn idle(&self) -> bool {
        self.queued() == 0 && self.queue.busy.load(Ordering::Acquire) == 0
    }

    /// Queues a message at once (never waits); the oldest is dropped when the queue is full.
    pub fn push(&self, n: Notification) {
        {
            let mut items = self.queue.items.lock().unwrap_or_else(|p| p.into_inner());
            if items.len() == self.queue.capacity {
                items.pop_front();
                self.queue.dropped.fetch_add(1, Ordering::Relaxed);
            }
            items.push_back(n);
        }
        self.queue.wake.notify_one();
    }

    /// Messages waiting.
    pub fn queued(&self) -> usize {
        self.queue
            .items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Messages delivered.
    pub fn delivered(&self) -> u64 {
        self.queue.delivered.load(Ordering::Relaxed)
    }

    /// Messages given up after every attempt failed.
    pub fn failed(&self) -> u64 {
        self.queue.failed.load(Ordering::Relaxed)
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `body`).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliver_all(sink: Sink, queue: Arc<Queue>, client: Option<reqwest::Client>, retry: Retry) {
    loop {
        let next = {
            let mut items = queue.items.lock().unwrap_or_else(|p| p.into_inner());
            let n = items.pop_front();
            if n.is_some() {
                queue.busy.store(1, Ordering::Release);
            }
            n
        };
        let Some(n) = next else {
            queue.wake.notified().await;
            continue;
        };
        let delivery = crate::request_id().to_string();
        let mut wait = retry.backoff;
        let mut ok = false;
        for attempt in 1..=retry.attempts.max(1) {
            match deliver(&sink, client.as_ref(), &n, &delivery).await {
                Ok(()) => {
                    ok = true;
                    break;
                }
                Err(e) => {
                    let e = switchyard_sync::redact::scrub(&e, &sink.secrets());
                    tracing::warn!(sink = %sink.display(), key = %n.idempotency_key, attempt, error = %e, "notification not delivered");
                    if attempt < retry.attempts {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(retry.max_backoff);
                    }
                }
            }
        }
        let counter = if ok { &queue.delivered } else { &queue.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        queue.busy.store(0, Ordering::Release);
    }
}

async fn deliver(
    sink: &Sink,
    client: Option<&reqwest::Client>,
    n: &Notification,
    delivery: &str,
) -> Result<(), String> {
    let (url, body, secret) = match sink {
        Sink::Log => {
            tracing::info!(key = %n.idempotency_key, "{}", n.text());
            return Ok(());
        }
        Sink::Webhook { url, secret } => (url, serde_json::to_vec(n), Some(secret)),
        Sink::Slack { url } | Sink::Teams { url } => (
            url,
            serde_json::to_vec(&serde_json::json!({"text": n.text()})),
            None,
        ),
    };
    let body = body.map_err(|e| e.to_string())?;
    let client = client.ok_or("no HTTP client")?;
    let mut req = client
        .post(url.as_str())
        .header("content-type", "application/json")
        .header("idempotency-key", &n.idempotency_key)
        .header("x-switchyard-delivery", delivery);
    if let Some(secret) = secret {
        req = req.header("x-switchyard-signature-256", signature(secret, &body));
    }
    let res = req
        .body(body)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", res.status()))
    }
}
