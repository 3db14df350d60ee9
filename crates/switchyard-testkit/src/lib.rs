//! Dev-only tooling of Switchyard, outside the product crates so that their `cargo test` does not
//! build it. The library holds the inputs shared by core's benchmarks and the binaries:
//! `gen_corpus` (the benchmark corpus), `differential_corpus` (`tests/differential/`) and
//! `engine_input` (`benches/engine/run.sh`); `json_order`, the tests' view of JSON field order; and `unified`, applying the
//! break-glass patch and writing block-style YAML for its tests.

pub mod corpus;
pub mod json_order;
pub mod unified;
pub mod variant;
