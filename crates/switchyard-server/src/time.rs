//! Timestamps in responses.

use std::time::SystemTime;

/// Now, RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    switchyard_sync::status::rfc3339(SystemTime::now())
}
