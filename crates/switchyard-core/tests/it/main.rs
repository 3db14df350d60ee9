//! Integration tests of switchyard-core through its public API.

mod diagnostics;
mod discover;
mod export;
mod extra_checks;
mod properties;
mod support;
mod validate;
