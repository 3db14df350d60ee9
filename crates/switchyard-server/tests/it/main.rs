//! The HTTP API against a real sync of a real directory of flag files, through the full router.

mod api;
mod support;
