//! The four probes: `probe-sync-fresh`, `probe-sync-reused`,
//! `probe-async-fresh` and `probe-async-reused`. Each requests every target
//! once per round (sync: one after another; async: concurrently), times every
//! phase with [`reqwest_timing`], and sends the points to a sink.

pub mod ca;
mod cli;
mod config;
pub mod expect;
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
pub mod schema;
mod stop;
mod target;
pub mod targets_file;

pub use cli::{Args, SinkKind};
pub use config::{Config, ConfigError};
pub use scenario::Scenario;
pub use target::{RequestSpec, Target, TargetError};

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// The user agent of every probe request.
pub const USER_AGENT: &str = concat!("backend-call-timing/", env!("CARGO_PKG_VERSION"));

/// Exit code for bad input.
const USAGE: u8 = 2;

/// Runs a probe binary: parses the command line and the environment, probes
/// until the rounds are done or a signal arrives, and returns the exit code.
pub fn main(scenario: Scenario) -> ExitCode {
    let name = scenario.binary();
    let matches = match Args::command()
        .name(name)
        .bin_name(name)
        .about(scenario.about())
        .try_get_matches()
    {
        Ok(m) => m,
        Err(e) => return clap_exit(name, e),
    };
    let args = match Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => return clap_exit(name, e),
    };
    let config = match Config::from_args(scenario, args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: error: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let result = if scenario.is_async() {
        run_async::run(&config)
    } else {
        run_sync::run(&config)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout with exit 0; errors give their first line
/// only (it names the bad value and what is expected) and exit 2.
fn clap_exit(name: &str, error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::InvalidUtf8 if non_utf8_env().is_some() => {
            if let Some((var, flag)) = non_utf8_env() {
                eprintln!("{name}: error: {var} (sets --{flag}) is not valid UTF-8 (see --help)");
            }
            ExitCode::from(USAGE)
        }
        _ => {
            let text = error.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            // clap lists the accepted values of an enum on a later line; keep them.
            let expected = match error.get(clap::error::ContextKind::ValidValue) {
                Some(clap::error::ContextValue::Strings(valid)) if !valid.is_empty() => {
                    format!(": expected one of {}", valid.join(", "))
                }
                _ => String::new(),
            };
            eprintln!("{name}: error: {first}{expected} (see --help)");
            ExitCode::from(USAGE)
        }
    }
}

/// The first option's environment variable whose value is not UTF-8, with its flag.
fn non_utf8_env() -> Option<(String, String)> {
    Args::command().get_arguments().find_map(|arg| {
        let var = arg.get_env()?;
        let flag = arg.get_long()?;
        let bad = std::env::var_os(var).is_some_and(|v| v.to_str().is_none());
        bad.then(|| (var.to_string_lossy().into_owned(), flag.to_owned()))
    })
}
