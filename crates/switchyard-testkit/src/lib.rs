//! Dev-only tooling of Switchyard, outside the product crates so that their `cargo test` does not
//! build it. The library holds the inputs shared by core's benchmarks and the binaries:
//! `gen_corpus` (the benchmark corpus), `differential_corpus` (`tests/differential/`) and
//! `engine_input` (`benches/engine/run.sh`); and `json_order`, the tests' view of JSON field order.

pub mod corpus;
pub mod json_order;
pub mod variant;
