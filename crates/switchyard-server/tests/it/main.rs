//! The HTTP API against a real sync of a real directory of flag files, through the full router,
//! and the listener (TLS, connection limits, timeouts) over real loopback sockets.

mod api;
mod commit;
mod diff;
mod edges;
mod environments;
mod limits;
mod notify;
mod parity;
mod readiness;
mod stream;
mod support;
mod sync_now;
mod tls;
