//! Command-line helpers shared by the binaries.

use crate::model::{Service, parse_services};
use clap::Parser;
use std::time::Duration;

/// Exit code for bad user input.
pub const USAGE_EXIT: i32 = 2;

/// Parses the command line; on bad input prints one line naming the bad
/// value and what is expected, and exits with code 2 (help/version exit 0).
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("{line}");
            std::process::exit(USAGE_EXIT);
        }
    }
}

/// Longest duration any option accepts: one year (longer values are refused
/// rather than overflowing the arithmetic they feed).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A clap value parser for durations like `15m`, `100ms`, at most [`MAX_DURATION`].
pub fn duration_arg(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        Ok(_) | Err(humantime::DurationError::NumberOverflow) => {
            Err("expected a duration of at most 1 year (365d)".to_string())
        }
        Err(_) => Err("expected a duration like 100ms, 30s, 15m or 1h".to_string()),
    }
}

/// A clap value parser for a strictly positive duration.
pub fn positive_duration_arg(text: &str) -> Result<Duration, String> {
    match duration_arg(text)? {
        d if d.is_zero() => Err("expected a duration greater than zero, like 15m".into()),
        d => Ok(d),
    }
}

/// A clap value parser for an `http://` or `https://` base URL.
pub fn http_url_arg(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(text.to_string()),
        _ => Err("expected an http:// or https:// URL, like http://127.0.0.1:8086".into()),
    }
}

/// A list of services given as one `NAME=LATENCY[~JITTER],...` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceList(pub Vec<Service>);

/// A clap value parser for `NAME=LATENCY[~JITTER],...`.
pub fn services_arg(text: &str) -> Result<ServiceList, String> {
    parse_services(text)
        .map(ServiceList)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_arg("15m"), Ok(Duration::from_secs(900)));
        assert!(duration_arg("soon").is_err());
        assert!(positive_duration_arg("0s").is_err());
        assert!(services_arg("fast=20ms").is_ok());
        assert!(http_url_arg("http://127.0.0.1:8086").is_ok());
        assert!(http_url_arg("127.0.0.1:8086").is_err());
    }
}
