//! Integration tests of switchyard-core through its public API.

mod diagnostics;
mod discover;
mod export;
mod properties;
mod support;
mod validate;
