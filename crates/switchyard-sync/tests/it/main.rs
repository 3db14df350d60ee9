//! Integration tests of switchyard-sync against real git servers on 127.0.0.1 (see `harness`).

mod at_commit;
mod hardening;
mod harness;
mod relay;
mod scenarios;
