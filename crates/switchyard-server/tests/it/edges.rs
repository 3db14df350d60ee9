//! HTTP edges: CORS off means no CORS headers, the OFREP stream URL never echoes the Host
//! header, and hyper's own 400/414/431 answers carry a JSON body.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use switchyard_server::{ConfigError, ServerConfig};

use crate::support::{Fixture, Running};

#[tokio::test]
async fn cors_off_sends_no_cors_headers_and_on_still_does() {
    let off = Fixture::new(ServerConfig {
        cors_allowed_origins: Vec::new(),
        ..ServerConfig::default()
    })
    .await;
    let on = Fixture::new(ServerConfig::default()).await;
    for (f, expect) in [(&off, false), (&on, true)] {
        let simple = Request::get("/health")
            .header("origin", "https://evil.example")
            .body(Body::empty())
            .unwrap();
        let preflight = Request::options("/evaluate/v1/boolean")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap();
        for req in [simple, preflight] {
            let (_, h, _) = f.call(req).await;
            let cors: Vec<&str> = h
                .keys()
                .map(|k| k.as_str())
                .filter(|k| k.starts_with("access-control-") || *k == "vary")
                .collect();
            assert_eq!(!cors.is_empty(), expect, "{cors:?}");
        }
    }
}

#[tokio::test]
async fn the_ofrep_stream_url_never_echoes_the_host_header() {
    let bulk = |host: &str| {
        Request::post("/ofrep/v1/evaluate/flags")
            .header("host", host)
            .header("x-forwarded-proto", "https")
            .body(Body::from("{}"))
            .unwrap()
    };
    let f = Fixture::new(ServerConfig::default()).await;
    let (s, _, v) = f.call(bulk("evil.example")).await;
    assert_eq!(s, StatusCode::OK);
    let endpoint = &v["eventStreams"][0]["endpoint"];
    assert_eq!(
        endpoint["requestUri"],
        "/ofrep/v1/_stream/default/default/events"
    );
    assert!(
        endpoint.get("origin").is_none(),
        "relative without a public URL: {v}"
    );

    let f = Fixture::new(ServerConfig {
        public_url: Some("https://flags.example.com/".into()),
        ..ServerConfig::default()
    })
    .await;
    let (_, _, v) = f.call(bulk("evil.example")).await;
    assert_eq!(
        v["eventStreams"][0]["endpoint"]["origin"],
        "https://flags.example.com"
    );
}

#[test]
fn a_public_url_that_is_not_an_origin_is_refused() {
    for bad in [
        "flags.example.com",
        "https://",
        "https://x/path",
        "ftp://x",
        "https://u:p@x",
    ] {
        let c = ServerConfig {
            public_url: Some(bad.into()),
            ..ServerConfig::default()
        };
        assert!(
            matches!(c.validate(), Err(ConfigError::PublicUrl(_))),
            "{bad}"
        );
    }
    let ok = ServerConfig {
        public_url: Some("http://127.0.0.1:8080".into()),
        ..ServerConfig::default()
    };
    assert!(ok.validate().is_ok());
}

fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_errors_of_the_http_layer_have_json_bodies() {
    let server = Running::start(ServerConfig::default()).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let long = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000));
        let junk = b"GET /client/v2/environments/default/namespaces/default/snapshot HTTP/1.1\r\nHost: t\r\nIf-None-Match: \x01\x02junk\r\n\r\n";
        let huge = format!(
            "GET /health HTTP/1.1\r\nHost: t\r\n{}\r\n",
            (0..200).map(|i| format!("x-h{i}: v\r\n")).collect::<String>()
        );
        for (req, status) in [
            (long.into_bytes(), "414"),
            (junk.to_vec(), "400"),
            (huge.into_bytes(), "431"),
        ] {
            let resp = raw(addr, &req);
            assert!(resp.starts_with(&format!("HTTP/1.1 {status}")), "{resp}");
            assert!(resp.contains("content-type: application/json"), "{resp}");
            let body = resp.split("\r\n\r\n").nth(1).unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
            assert!(v["code"].is_number() && v["message"].is_string(), "{v}");
        }
        // an ordinary 404 of the router is untouched
        let resp = raw(addr, b"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
        assert!(resp.contains("x-request-id"), "{resp}");
    })
    .await
    .expect("client");
    server.stop().await.expect("stop");
}
