//! Integration tests of switchyard-core through its public API.

mod discover;
mod export;
mod properties;
mod support;
mod validate;
