//! HTTPS with a test CA made by `openssl`: a real rustls client over HTTP/2 and HTTP/1.1, plain
//! HTTP to the TLS port, and start-up errors for unusable certificates and keys.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use switchyard_server::{ServerConfig, TlsConfig, TlsError};

use crate::support::Running;

/// A CA, and a server certificate for 127.0.0.1 signed by it (EC P-256).
struct TestCa {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestCa {
    fn new() -> TestCa {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec![
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Switchyard test CA",
        ];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(d, &ca);
        let mut csr = vec!["req", "-nodes", "-subj", "/CN=127.0.0.1"];
        csr.extend(ec);
        csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(d, &csr);
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-out",
                "server.crt",
            ],
        );
        TestCa { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tls(&self) -> TlsConfig {
        TlsConfig {
            cert_file: self.path("server.crt"),
            key_file: self.path("server.key"),
        }
    }

    fn client(&self, http1: bool) -> reqwest::Client {
        let pem = std::fs::read(self.path("ca.crt")).expect("ca");
        let ca = reqwest::Certificate::from_pem(&pem).expect("ca pem");
        let b = reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(10));
        let b = if http1 { b.http1_only() } else { b };
        b.build().expect("client")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_h2_and_http1_to_a_client_that_trusts_the_test_ca() {
    let ca = TestCa::new();
    let server = Running::start(ServerConfig {
        tls: Some(ca.tls()),
        ..ServerConfig::default()
    })
    .await;
    let url = format!(
        "https://127.0.0.1:{}/evaluate/v1/boolean",
        server.addr.port()
    );
    let body = r#"{"flagKey":"dark","entityId":"u1"}"#;
    for (http1, version) in [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ] {
        let resp = ca
            .client(http1)
            .post(&url)
            .body(body)
            .send()
            .await
            .expect("HTTPS request");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), version, "ALPN picks {version:?}");
        let v: serde_json::Value =
            serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
        assert_eq!(v["flagKey"], "dark");
    }
    // a client without the test CA refuses the certificate
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .expect("client");
    let err = untrusting
        .get(format!("https://127.0.0.1:{}/health", server.addr.port()))
        .send()
        .await
        .expect_err("an unknown CA is refused");
    assert!(err.is_connect(), "{err:?}");
    server.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_tls_port_gets_a_prompt_400_that_names_https() {
    let ca = TestCa::new();
    let server = Running::start(ServerConfig {
        tls: Some(ca.tls()),
        ..ServerConfig::default()
    })
    .await;
    let started = Instant::now();
    let resp = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/health", server.addr.port()))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("an answer, not a hang");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(resp.status(), 400);
    let v: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json body");
    assert_eq!(v["code"], 3);
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("https://")),
        "{v}"
    );
}

#[test]
fn unusable_certificates_and_keys_are_refused_with_the_file_named() {
    let ca = TestCa::new();
    let missing = TlsConfig {
        cert_file: ca.path("nope.crt"),
        key_file: ca.path("server.key"),
    };
    let e = switchyard_server::tls::acceptor(&missing)
        .err()
        .expect("missing file");
    assert!(matches!(e, TlsError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("nope.crt"), "{e}");

    std::fs::write(ca.path("junk.pem"), "not a certificate\n").expect("write");
    let junk = TlsConfig {
        cert_file: ca.path("junk.pem"),
        key_file: ca.path("server.key"),
    };
    let e = switchyard_server::tls::acceptor(&junk)
        .err()
        .expect("no PEM");
    assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");
    assert!(e.to_string().contains("junk.pem"), "{e}");

    // the CA's key does not belong to the server certificate
    let mismatched = TlsConfig {
        cert_file: ca.path("server.crt"),
        key_file: ca.path("ca.key"),
    };
    let e = switchyard_server::tls::acceptor(&mismatched)
        .err()
        .expect("mismatch");
    assert!(matches!(e, TlsError::Mismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("does not fit"), "{e}");

    // swapped files: a certificate where the key should be
    let swapped = TlsConfig {
        cert_file: ca.path("server.crt"),
        key_file: ca.path("server.crt"),
    };
    let e = switchyard_server::tls::acceptor(&swapped)
        .err()
        .expect("swapped");
    assert!(matches!(e, TlsError::Pem { what: "key", .. }), "{e:?}");
}
