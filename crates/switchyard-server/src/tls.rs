//! HTTPS: the rustls acceptor built from the configured PEM certificate chain and key, with
//! HTTP/2 and HTTP/1.1 offered through ALPN.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Why the TLS certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read the TLS {what} {}: {error}", path.display())]
    Read {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The reason.
        error: std::io::Error,
    },
    /// A file holds no PEM item of the expected kind, or a broken one.
    #[error("the TLS {what} {} is not a PEM {expected}: {error}", path.display())]
    Pem {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What was expected.
        expected: &'static str,
        /// The parser's message.
        error: String,
    },
    /// rustls refused the pair (e.g. the key does not belong to the certificate).
    #[error(
        "the TLS key {} does not fit the certificate {}: {error}",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's message.
        error: rustls::Error,
    },
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        what,
        path: path.to_path_buf(),
        error,
    })
}

/// The acceptor of the configured TLS settings, if any (the HTTP and gRPC listeners').
pub(crate) fn configured(
    config: &crate::config::ServerConfig,
) -> Result<Option<TlsAcceptor>, crate::config::ConfigError> {
    Ok(config.tls.as_ref().map(acceptor).transpose()?)
}

/// Reads and checks the certificate chain and key, and builds the acceptor (h2, then HTTP/1.1).
pub fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = read("certificate", &config.cert_file)?;
    let key_pem = read("key", &config.key_file)?;
    let pem_error = |what, path: &Path, expected, error: String| TlsError::Pem {
        what,
        path: path.to_path_buf(),
        expected,
        error,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            pem_error(
                "certificate",
                &config.cert_file,
                "certificate chain",
                e.to_string(),
            )
        })?;
    if certs.is_empty() {
        return Err(pem_error(
            "certificate",
            &config.cert_file,
            "certificate chain",
            "no CERTIFICATE section found".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        pem_error(
            "key",
            &config.key_file,
            "private key (PKCS#8, PKCS#1 or SEC1)",
            e.to_string(),
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mismatch = |error| TlsError::Mismatch {
        cert: config.cert_file.clone(),
        key: config.key_file.clone(),
        error,
    };
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(mismatch)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(mismatch)?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}
