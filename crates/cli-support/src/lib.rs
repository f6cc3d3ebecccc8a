//! What every binary of the workspace shares, so that they speak one
//! argument vocabulary and log one way:
//!
//! - [`args`]: clap value parsers for durations (at most [`args::MAX_DURATION`])
//!   and `http(s)://` URLs, with the same wording everywhere;
//! - [`usage`]: bad command lines end in one stderr line
//!   `NAME: error: WHAT (see --help)` and exit code 2;
//! - [`log`]: the compact stderr `tracing` subscriber (`NAME: message`,
//!   `RUST_LOG` sets the level).

pub mod args;
pub mod log;
pub mod usage;

pub use usage::{USAGE_EXIT, parse_or_exit};
