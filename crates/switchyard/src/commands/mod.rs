//! One module per subcommand.

pub mod admin;
pub mod demo;
pub mod diff;
pub mod evaluate;
pub mod health;
pub mod serve;
pub mod validate;
