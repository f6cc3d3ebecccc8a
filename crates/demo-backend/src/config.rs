//! Server configuration and the parsers for its textual forms.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Everything [`crate::start`] needs to know.
///
/// [`Config::default`] is meant for in-process use (tests): both listeners on
/// `127.0.0.1:0` (a free port each), the default services, no extra latency.
/// Set `cert_dir` to a temporary directory in tests.
#[derive(Debug, Clone)]
pub struct Config {
    /// Plain HTTP listener; `None` disables it. Port 0 picks a free port.
    pub http: Option<SocketAddr>,
    /// HTTPS listener; `None` disables it. Port 0 picks a free port.
    pub https: Option<SocketAddr>,
    /// Where `ca.pem`, `ca.key`, `server.pem` and `server.key` live.
    pub cert_dir: PathBuf,
    /// Extra subject alternative names for the server certificate
    /// (`localhost`, `127.0.0.1` and `::1` are always included).
    pub hostnames: Vec<String>,
    /// How long each TLS ClientHello is held before the handshake goes on.
    pub handshake_delay: Duration,
    /// Extra delay before the headers of every response.
    pub rtt: Duration,
    /// Emulated services served under `/api/{name}`.
    pub services: Vec<Service>,
    /// Share of `/flaky` requests answered with 503, in `0.0..=1.0`.
    pub fail_rate: f64,
    /// Days the server certificate stays valid, counted from start; a fresh one is
    /// issued at every start (the CA is kept). `None`: a long-lived certificate, reused
    /// across restarts.
    pub cert_valid_days: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            https: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            cert_dir: PathBuf::from("demo-certs"),
            hostnames: Vec::new(),
            handshake_delay: Duration::ZERO,
            rtt: Duration::ZERO,
            services: Service::defaults(),
            fail_rate: DEFAULT_FAIL_RATE,
            cert_valid_days: None,
        }
    }
}

/// Default share of failing `/flaky` requests.
pub const DEFAULT_FAIL_RATE: f64 = 0.2;

/// Default services, in `--services` syntax. With [`DEFAULT_HANDSHAKE_DELAY`] and
/// [`DEFAULT_RTT`] the one demo setting: the binary's defaults, `make demo` (`probe-demo`),
/// docker-compose.yml and .env.example (a stack test checks those two match).
pub const DEFAULT_SERVICES: &str = "fast=20ms~2ms,slow=60ms~5ms";

/// Default extra delay of each TLS handshake of the demo, in `--handshake-delay` syntax.
pub const DEFAULT_HANDSHAKE_DELAY: &str = "30ms";

/// Default emulated round trip of the demo, in `--rtt` syntax.
pub const DEFAULT_RTT: &str = "0ms";

/// Parses a `--services` list: `NAME=LATENCY[~JITTER]`, comma-separated (the one
/// parser of this syntax; blank entries are ignored, an empty list is an error).
pub fn parse_services(s: &str) -> Result<Vec<Service>, ParseError> {
    let services = s
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Service>, _>>()?;
    if services.is_empty() {
        return Err(ParseError::new(format!(
            "invalid service list {s:?}: expected NAME=LATENCY[~JITTER][,...], e.g. {DEFAULT_SERVICES}"
        )));
    }
    Ok(services)
}

/// A `--services` list back in its textual form, e.g. `fast=20ms~2ms,slow=60ms~5ms`.
pub fn format_services(services: &[Service]) -> String {
    services
        .iter()
        .map(Service::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// An emulated service: `/api/{name}` answers after `latency ± jitter`
/// (uniformly drawn, never below zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Path segment after `/api/`: letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// Mean latency.
    pub latency: Duration,
    /// Half-width of the uniform jitter around `latency`.
    pub jitter: Duration,
}

impl Service {
    /// The services served when none are configured ([`DEFAULT_SERVICES`]).
    pub fn defaults() -> Vec<Service> {
        parse_services(DEFAULT_SERVICES).unwrap_or_default()
    }
}

impl FromStr for Service {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ParseError::new(format!(
                "invalid service {s:?}: expected NAME=LATENCY[~JITTER], e.g. fast=20ms~2ms"
            ))
        };
        let (name, timing) = s.trim().split_once('=').ok_or_else(bad)?;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err(bad());
        }
        let (latency, jitter) = match timing.split_once('~') {
            Some((lat, jit)) => (lat, Some(jit)),
            None => (timing, None),
        };
        let latency = bounded_duration(latency).ok_or_else(bad)?;
        let jitter = match jitter {
            Some(j) => bounded_duration(j).ok_or_else(bad)?,
            None => Duration::ZERO,
        };
        Ok(Service {
            name: name.to_owned(),
            latency,
            jitter,
        })
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}",
            self.name,
            humantime::format_duration(self.latency)
        )?;
        if !self.jitter.is_zero() {
            write!(f, "~{}", humantime::format_duration(self.jitter))?;
        }
        Ok(())
    }
}

/// A listener address: `IP:PORT`, or `off` to disable the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

impl FromStr for Listen {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Listen(None));
        }
        s.parse().map(|a| Listen(Some(a))).map_err(|_| {
            ParseError::new(format!(
                "invalid listen address {s:?}: expected IP:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:0, [::1]:8443) or off"
            ))
        })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("off"),
        }
    }
}

/// Parses a duration such as `500ms`, `3s` or `0` (the workspace's shared
/// duration syntax, at most [`cli_support::args::MAX_DURATION`]).
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    cli_support::args::duration(s)
        .map_err(|expected| ParseError::new(format!("invalid duration {:?}: {expected}", s.trim())))
}

/// `s` as a duration of at most [`cli_support::args::MAX_DURATION`].
fn bounded_duration(s: &str) -> Option<Duration> {
    cli_support::args::duration(s).ok()
}

/// Parses a share in `0..=1`, such as `0.2`.
pub fn parse_fail_rate(s: &str) -> Result<f64, ParseError> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(ParseError::new(format!(
            "invalid fail rate {s:?}: expected a number from 0 to 1, e.g. 0.2"
        ))),
    }
}

/// Parses a host name or IP address for the certificate's subject alternative names.
pub fn parse_hostname(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    let valid = !s.is_empty() && rustls_pki_types::ServerName::try_from(s).is_ok();
    if valid {
        Ok(s.to_owned())
    } else {
        Err(ParseError::new(format!(
            "invalid hostname {s:?}: expected a DNS name or IP address, e.g. demo-backend"
        )))
    }
}

/// A value that could not be parsed; the message names the value and the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl ParseError {
    fn new(msg: String) -> Self {
        Self(msg)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn service_with_jitter() {
        let s: Service = "fast=20ms~2ms".parse().unwrap();
        assert_eq!(s.name, "fast");
        assert_eq!(s.latency, Duration::from_millis(20));
        assert_eq!(s.jitter, Duration::from_millis(2));
        assert_eq!(s.to_string(), "fast=20ms~2ms");
    }

    #[test]
    fn service_without_jitter() {
        let s: Service = "db=1s".parse().unwrap();
        assert_eq!(s.latency, Duration::from_secs(1));
        assert_eq!(s.jitter, Duration::ZERO);
    }

    #[test]
    fn bad_services_name_the_value() {
        for bad in ["fast=abc", "fast", "=20ms", "a b=1ms", "x=1ms~zz"] {
            let err = bad.parse::<Service>().unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
            assert!(err.contains("NAME=LATENCY[~JITTER]"), "{err}");
        }
    }

    #[test]
    fn defaults_parse() {
        let d = Service::defaults();
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].name, "slow");
        assert_eq!(format_services(&d), DEFAULT_SERVICES);
        assert!(parse_duration(DEFAULT_HANDSHAKE_DELAY).is_ok());
        assert!(parse_duration(DEFAULT_RTT).is_ok());
    }

    #[test]
    fn service_lists() {
        let list = parse_services("fast=20ms~2ms, slow=1s,").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].latency, Duration::from_secs(1));
        assert_eq!(format_services(&list), "fast=20ms~2ms,slow=1s");
        let err = parse_services(" , ").unwrap_err().to_string();
        assert!(err.contains("\" , \""), "{err}");
        let err = parse_services("fast=20ms,slow").unwrap_err().to_string();
        assert!(err.contains("\"slow\""), "{err}");
    }

    #[test]
    fn listen_off_and_addr() {
        assert_eq!("off".parse::<Listen>().unwrap(), Listen(None));
        assert_eq!(
            "127.0.0.1:0".parse::<Listen>().unwrap().0,
            Some(SocketAddr::from(([127, 0, 0, 1], 0)))
        );
        assert!("localhost:80".parse::<Listen>().is_err());
    }

    #[test]
    fn fail_rate_bounds() {
        assert_eq!(parse_fail_rate("0").unwrap(), 0.0);
        assert_eq!(parse_fail_rate("1").unwrap(), 1.0);
        assert!(parse_fail_rate("1.5").is_err());
        assert!(parse_fail_rate("NaN").is_err());
        assert!(parse_fail_rate("-0.1").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .to_string()
                .contains("\"fast\"")
        );
    }
}
