//! Notification sinks against a real HTTP receiver on loopback: the signature verifies, a
//! message is retried after the receiver fails twice (same delivery id), the queue bound holds
//! while the receiver is down and pushing never waits, and no secret reaches a log line.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use switchyard_server::notify::{Event, Notification, Outbox, Retry, Sink, signature};

/// One request the receiver got: its headers and body.
type Request = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<AtomicU32>,
    seen: Arc<Mutex<Vec<Request>>>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    r.seen.lock().unwrap().push((headers, body.to_vec()));
    if r.calls.fetch_add(1, Ordering::SeqCst) < 2 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "{what} within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn webhook_is_signed_retried_bounded_and_redacted() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let receiver = Receiver::default();
    let app = axum::Router::new()
        .route("/hook/{path}", axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let fast = Retry {
        attempts: 5,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        timeout: Duration::from_secs(2),
    };
    let sink = Sink::Webhook {
        url: format!("http://hookuser:hookpass@127.0.0.1:{port}/hook/T000-SECRETPATH"),
        secret: "whsec-123".into(),
    };
    assert_eq!(sink.display(), "http://127.0.0.1/***");
    let outbox = Outbox::start(sink, 8, fast);
    let mut n = Notification::new(Event::Applied, "production", "0123456789abcdef", "alice");
    n.diff = vec!["flag checkout enabled: false -> true".into()];
    outbox.push(n);
    until("the delivery", || outbox.delivered() == 1).await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two failures, then delivered");
    let ids: Vec<&str> = seen
        .iter()
        .map(|(h, _)| h["x-switchyard-delivery"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one delivery id on every retry: {ids:?}"
    );
    for (headers, body) in &seen {
        assert_eq!(headers["idempotency-key"], "production@0123456789abcdef");
        assert_eq!(
            headers["x-switchyard-signature-256"].to_str().unwrap(),
            signature("whsec-123", body),
            "the signature verifies over the body"
        );
    }
    let body: serde_json::Value = serde_json::from_slice(&seen[2].1).unwrap();
    assert_eq!(body["event"], "applied");
    assert_eq!(body["diff"][0], "flag checkout enabled: false -> true");

    // the receiver is down: pushes never wait, the queue keeps at most its capacity
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = Outbox::start(
        Sink::Slack {
            url: format!("http://127.0.0.1:{dead_port}/services/T1/B2/SLACKSECRET"),
        },
        3,
        Retry {
            attempts: 1000,
            ..fast
        },
    );
    let started = Instant::now();
    for i in 0..10 {
        dead.push(Notification::new(
            Event::Rejected,
            "production",
            &format!("c{i}"),
            "bob",
        ));
    }
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "pushing never waits"
    );
    assert!(dead.queued() <= 3, "queued {}", dead.queued());
    assert!(dead.dropped() >= 6, "dropped {}", dead.dropped());
    until("a failed Slack attempt logged", || {
        String::from_utf8_lossy(&logs.0.lock().unwrap())
            .matches("notification not delivered")
            .count()
            >= 3
    })
    .await;
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    for secret in [
        "whsec-123",
        "SECRETPATH",
        "hookpass",
        "SLACKSECRET",
        "/services/",
    ] {
        assert!(!text.contains(secret), "{secret} in the logs:\n{text}");
    }
    assert!(text.contains("sink=http://127.0.0.1/***"), "{text}");
}
