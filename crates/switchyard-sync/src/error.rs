//! Sync errors and their classes (`authentication`, `network`, `timeout`, `not_found`,
//! `validation`, `internal`, `other`), as named in logs, status and history.
//!
//! gix reports transport failures as a chain of opaque errors (HTTP status codes inside
//! messages, ssh's stderr, io errors), so the class is worked out from the whole chain's text.

use std::fmt;

use switchyard_core::Diagnostics;

/// What kind of failure a sync ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Credentials refused (HTTP 401/403, ssh permission denied, host key rejected).
    Authentication,
    /// The remote could not be reached (refused, DNS, reset).
    Network,
    /// The remote did not answer, or answered too slowly, within the storage's `timeouts`.
    Timeout,
    /// The repository, branch, tag or commit does not exist.
    NotFound,
    /// The commit was fetched but its flag files are invalid.
    Validation,
    /// A sync cycle panicked (a bug): the message says where.
    Internal,
    /// A relay's upstream Switchyard could not be reached, or its stream broke off.
    UpstreamUnreachable,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// The class as written in logs: `authentication`, `network`, `timeout`, `not_found`,
    /// `validation`, `internal`, `upstream_unreachable`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Authentication => "authentication",
            ErrorClass::Network => "network",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Internal => "internal",
            ErrorClass::UpstreamUnreachable => "upstream_unreachable",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Validation => "validation",
            ErrorClass::Other => "other",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed sync step. Messages never contain credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    /// Fetching from the remote failed.
    #[error("fetching {remote}: {message}")]
    Fetch {
        /// Failure class.
        class: ErrorClass,
        /// Remote URL without credentials.
        remote: String,
        /// The error chain, with credentials removed.
        message: String,
    },
    /// The local repository or directory could not be opened, read or written.
    #[error("{0}")]
    Local(String),
    /// The commit's flag files are invalid.
    #[error("invalid flag files:\n{0}")]
    Invalid(Diagnostics),
    /// A relay's upstream failed: unreachable, refused the token, or broke the stream off.
    #[error("{message}")]
    Upstream {
        /// Failure class (`upstream_unreachable`, `authentication`).
        class: ErrorClass,
        /// What happened, naming the upstream without credentials.
        message: String,
    },
    /// A sync cycle panicked; the panic message.
    #[error("sync cycle panicked: {0}")]
    Internal(String),
}

impl SyncError {
    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            SyncError::Fetch { class, .. } => *class,
            SyncError::Local(_) => ErrorClass::Other,
            SyncError::Invalid(_) => ErrorClass::Validation,
            SyncError::Internal(_) => ErrorClass::Internal,
            SyncError::Upstream { class, .. } => *class,
        }
    }

    /// The diagnostics of an invalid commit.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            SyncError::Invalid(d) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn local(context: &str, err: impl fmt::Display) -> Self {
        SyncError::Local(format!("{context}: {err}"))
    }
}

/// Joins an error and all its sources into one line: `outer: inner: innermost`.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// Classifies a transport error from the text of its whole chain.
pub fn classify(message: &str) -> ErrorClass {
    let m = message.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if any(&[
        "http status 401",
        "http status 403",
        "status code 401",
        "status code 403",
        "permission denied",
        "authentication",
        "host key verification failed",
        "credentials",
        "could not read username",
        "invalid credentials",
    ]) {
        ErrorClass::Authentication
    } else if any(&["certificate", "tls handshake", "unknownissuer"]) {
        // a TLS trust problem is not a transient network failure
        ErrorClass::Other
    } else if any(&[
        "http status 404",
        "status code 404",
        "not found",
        "does not appear to be a git repository",
        "no such file or directory",
        "couldn't find remote ref",
        "could not find remote ref",
        "not our ref",
        "no such remote ref",
        "repository not exported",
        "did not match any",
        "does not exist",
    ]) {
        ErrorClass::NotFound
    } else if any(&["timed out", "timeout", "operation was interrupted"]) {
        ErrorClass::Timeout
    } else if any(&[
        "connection refused",
        "dns",
        "failed to lookup",
        "name or service not known",
        "could not resolve",
        "temporary failure in name resolution",
        "network is unreachable",
        "no route to host",
        "connection reset",
        "broken pipe",
        "error sending request",
        "connection closed",
        "unexpected eof",
        "connect error",
        "tcp connect",
        "could not connect",
        "connection to",
    ]) {
        ErrorClass::Network
    } else {
        ErrorClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_transport_messages() {
        assert_eq!(
            classify("Received HTTP status 401"),
            ErrorClass::Authentication
        );
        assert_eq!(
            classify("root@127.0.0.1: Permission denied (publickey)."),
            ErrorClass::Authentication
        );
        assert_eq!(
            classify(
                "error sending request for url (https://127.0.0.1:1/x): Connection refused (os error 111)"
            ),
            ErrorClass::Network
        );
        assert_eq!(classify("Received HTTP status 404"), ErrorClass::NotFound);
        assert_eq!(classify("something odd"), ErrorClass::Other);
        assert_eq!(
            classify("error sending request for url (https://x/info/refs): operation timed out"),
            ErrorClass::Timeout
        );
        assert_eq!(
            classify(
                "error sending request for url (https://x): client error (Connect): invalid peer certificate: UnknownIssuer"
            ),
            ErrorClass::Other
        );
    }
}
