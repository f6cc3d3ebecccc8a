//! Command-line options of the `demo-backend` binary (every option also
//! from a `DEMO_*` environment variable).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use cli_support::args::duration;

use crate::config::{
    Config, DEFAULT_HANDSHAKE_DELAY, DEFAULT_RTT, Listen, Service, parse_fail_rate, parse_hostname,
};

/// A local HTTP + HTTPS backend with emulated latency.
///
/// Latency model: --handshake-delay moves the client's TLS phase (once per
/// fresh HTTPS connection); --rtt and the service latency move time to first
/// byte; /drip moves the body phase. Nothing here can delay DNS or the TCP
/// handshake (the kernel completes it before accept).
///
/// Exit codes: 0 after SIGTERM/SIGINT, 1 on runtime errors (port in use,
/// unwritable certificate directory, failed health check), 2 on bad options.
#[derive(Debug, Clone, Parser)]
#[command(name = "demo-backend", version)]
pub struct Args {
    /// HTTP listen address, or "off"; port 0 picks a free port
    #[arg(
        long,
        env = "DEMO_HTTP",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub http: Listen,

    /// HTTPS listen address, or "off"; port 0 picks a free port
    #[arg(
        long,
        env = "DEMO_HTTPS",
        value_name = "ADDR",
        default_value = "127.0.0.1:8443"
    )]
    pub https: Listen,

    /// Directory of ca.pem (trust it in clients), ca.key, server.pem, server.key; created on first start
    #[arg(
        long,
        env = "DEMO_CERT_DIR",
        value_name = "DIR",
        default_value = "./demo-certs"
    )]
    pub cert_dir: PathBuf,

    /// Extra host name for the server certificate (besides localhost, 127.0.0.1, ::1); repeatable or comma-separated
    #[arg(long, env = "DEMO_HOSTNAME", value_name = "NAME", value_delimiter = ',', value_parser = parse_hostname)]
    pub hostname: Vec<String>,

    /// Hold each TLS ClientHello this long (e.g. 50ms)
    #[arg(long, env = "DEMO_HANDSHAKE_DELAY", value_name = "DUR", default_value = DEFAULT_HANDSHAKE_DELAY, value_parser = duration, allow_hyphen_values = true)]
    pub handshake_delay: Duration,

    /// Extra delay before every response's headers (e.g. 10ms)
    #[arg(long, env = "DEMO_RTT", value_name = "DUR", default_value = DEFAULT_RTT, value_parser = duration, allow_hyphen_values = true)]
    pub rtt: Duration,

    /// Services NAME=LATENCY[~JITTER] served at /api/NAME; comma-separated or repeatable
    /// [default: fast=20ms~2ms,slow=60ms~5ms]
    #[arg(
        long,
        env = "DEMO_SERVICES",
        value_name = "LIST",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub services: Vec<Service>,

    /// Share of /flaky requests answered 503, from 0 to 1
    #[arg(long, env = "DEMO_FAIL_RATE", value_name = "F", default_value = "0.2", value_parser = parse_fail_rate)]
    pub fail_rate: f64,

    /// Issue a fresh server certificate valid for this many days (up to 3650) at every
    /// start, e.g. 2 to try the certificate alerts; 0 keeps a long-lived one
    #[arg(long, env = "DEMO_CERT_DAYS", value_name = "DAYS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub cert_days: u32,

    /// Instead of serving: check GET /health on the --http port (or HTTPS
    /// with the CA when HTTP is off) and that `<cert-dir>/ca.pem` exists; exit 0 or 1
    #[arg(long)]
    pub healthcheck: bool,
}

impl Args {
    /// Parses the process arguments; on bad input prints one line to stderr
    /// and exits 2 (help and version print as usual and exit 0).
    pub fn parse_or_exit() -> Args {
        cli_support::parse_or_exit()
    }

    /// The server configuration these options describe.
    pub fn to_config(&self) -> Config {
        let services = if self.services.is_empty() {
            Service::defaults()
        } else {
            self.services.clone()
        };
        Config {
            http: self.http.0,
            https: self.https.0,
            cert_dir: self.cert_dir.clone(),
            hostnames: self.hostname.clone(),
            handshake_delay: self.handshake_delay,
            rtt: self.rtt,
            services,
            fail_rate: self.fail_rate,
            cert_valid_days: (self.cert_days > 0).then_some(self.cert_days),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let args = Args::try_parse_from(["demo-backend"]).unwrap();
        let cfg = args.to_config();
        assert_eq!(cfg.http, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(cfg.https, Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(cfg.services, Service::defaults());
        assert_eq!(cfg.fail_rate, 0.2);
    }

    #[test]
    fn lists_split_on_commas_and_repeat() {
        let args = Args::try_parse_from([
            "demo-backend",
            "--services",
            "a=1ms,b=2ms~1ms",
            "--services",
            "c=3ms",
            "--hostname",
            "x,y",
            "--hostname",
            "z",
            "--https",
            "off",
        ])
        .unwrap();
        let names: Vec<_> = args.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(args.hostname, ["x", "y", "z"]);
        assert_eq!(args.to_config().https, None);
    }

    #[test]
    fn bad_service_message() {
        let err = Args::try_parse_from(["demo-backend", "--services", "fast=abc"]).unwrap_err();
        assert!(
            err.to_string().contains(
                r#"invalid service "fast=abc": expected NAME=LATENCY[~JITTER], e.g. fast=20ms~2ms"#
            ),
            "{err}"
        );
    }
}
