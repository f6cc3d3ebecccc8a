//! The four probes: `probe-sync-fresh`, `probe-sync-reused`,
//! `probe-async-fresh` and `probe-async-reused`. Each requests every target
//! once per round (sync: one after another; async: concurrently), times every
//! phase with [`reqwest_timing`], and sends the points to a sink.

pub mod ca;
mod cli;
mod concurrency;
mod config;
pub mod expect;
pub mod fdlimit;
pub mod http_mode;
mod log;
pub mod points;
mod recorder;
mod reload;
mod request;
mod run_async;
mod run_common;
mod run_sync;
mod scenario;
mod schedule;
pub mod schema;
mod stop;
mod summary;
mod target;
pub mod targets_file;

pub use cli::{Args, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, SinkKind};
pub use config::{Config, ConfigError};
pub use scenario::Scenario;
pub use summary::{Counts, Summary, SummaryError};
pub use target::{RequestSpec, Target, TargetError};

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// The user agent of every probe request.
pub const USER_AGENT: &str = concat!("backend-call-timing/", env!("CARGO_PKG_VERSION"));

/// Runs a probe binary: parses the command line and the environment, probes
/// until the rounds are done or a signal arrives, and returns the exit code.
pub fn main(scenario: Scenario) -> ExitCode {
    let name = scenario.binary();
    let command = Args::command()
        .name(name)
        .bin_name(name)
        .about(scenario.about());
    let matches = cli_support::usage::matches_or_exit(command.clone());
    let args = Args::from_arg_matches(&matches)
        .unwrap_or_else(|e| cli_support::usage::exit(name, &command, &e));
    cli_support::log::init(name);
    let config = match Config::from_args(scenario, args) {
        Ok(c) => c,
        Err(e) => return cli_support::usage::bad_input(name, e),
    };
    let need = config.files_needed();
    match fdlimit::ensure(need) {
        Ok(None) => {}
        Ok(Some((old, new))) => tracing::info!(
            "raised the open-file limit (ulimit -n) from {old} to its hard limit {new}: {} requests in flight need about {} open files",
            need.in_flight,
            need.files()
        ),
        Err(e) => return cli_support::usage::bad_input(name, e),
    }
    let result = if scenario.is_async() {
        run_async::run(&config)
    } else {
        run_sync::run(&config)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
