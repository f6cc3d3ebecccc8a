//! The command line shared by the four probes (every option also from the
//! environment).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use probe_metrics::TelegrafAddr;
use url::Url;

use crate::http_mode::HttpMode;

/// Times every phase of HTTP calls to the targets, round after round, and
/// sends the figures to a metrics sink.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, max_term_width = 100)]
pub struct Args {
    /// URL or NAME=URL to probe, e.g. api=https://example.com/health
    /// [env: PROBE_TARGETS, comma-separated, read when no TARGET is given]
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// TOML file of targets with method, headers, body, expectations and tags
    /// (see targets.example.toml); combines with TARGET arguments; SIGHUP re-reads it
    /// [env: PROBE_TARGETS_FILE, empty means none]
    #[arg(long, value_name = "PATH")]
    pub targets_file: Option<PathBuf>,

    /// Pause between rounds, e.g. 500ms, 3s (0s allowed, at most 365d)
    #[arg(long, env = "PROBE_INTERVAL", default_value = "3s", value_name = "DURATION", value_parser = duration, allow_hyphen_values = true)]
    pub interval: Duration,

    /// Rounds to run; 0 runs until stopped (SIGINT/SIGTERM)
    #[arg(long, env = "PROBE_ROUNDS", default_value_t = 0, value_name = "N", value_parser = rounds, allow_hyphen_values = true)]
    pub rounds: u64,

    /// Time limit of one request, connection setup and body included (at most 365d)
    #[arg(long, env = "PROBE_TIMEOUT", default_value = "10s", value_name = "DURATION", value_parser = positive_duration, allow_hyphen_values = true)]
    pub timeout: Duration,

    /// Extra root CA certificate (PEM) to trust, besides the system's
    #[arg(long, env = "PROBE_CA_CERT", value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// Where the points go
    #[arg(long, env = "PROBE_SINK", value_enum, default_value_t = SinkKind::Telegraf, value_name = "KIND")]
    pub sink: SinkKind,

    /// Telegraf socket listener, udp://HOST:PORT or tcp://HOST:PORT
    #[arg(long, env = "TELEGRAF_URL", default_value = "udp://127.0.0.1:8094", value_name = "URL", value_parser = telegraf_addr)]
    pub telegraf: TelegrafAddr,

    /// InfluxDB base URL (for --sink influxdb), e.g. http://127.0.0.1:8086
    #[arg(long, env = "INFLUX_URL", value_name = "URL", value_parser = http_url)]
    pub influx_url: Option<Url>,

    /// InfluxDB organisation (for --sink influxdb)
    #[arg(long, env = "INFLUX_ORG", value_name = "ORG")]
    pub influx_org: Option<String>,

    /// InfluxDB bucket (for --sink influxdb)
    #[arg(long, env = "INFLUX_BUCKET", value_name = "BUCKET")]
    pub influx_bucket: Option<String>,

    /// InfluxDB API token (for --sink influxdb)
    #[arg(
        long,
        env = "INFLUX_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub influx_token: Option<String>,

    /// HTTP version: 1.1 (default, like the seed's clients), auto (HTTP/2 when
    /// the server offers it by ALPN) or 2 (HTTP/2 only, prior knowledge on http://)
    #[arg(long, env = "PROBE_HTTP", value_enum, default_value_t = HttpMode::DEFAULT, value_name = "VERSION")]
    pub http: HttpMode,

    /// How long the reused probes cache DNS answers (at most 365d)
    #[arg(long, env = "PROBE_DNS_TTL", default_value = "30s", value_name = "DURATION", value_parser = duration, allow_hyphen_values = true)]
    pub dns_ttl: Duration,
}

/// The metric sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SinkKind {
    /// Line protocol to Telegraf's socket listener (--telegraf)
    Telegraf,
    /// InfluxDB's v2 write API (--influx-*)
    Influxdb,
    /// One point per line on stdout
    Stdout,
    /// Measure only
    None,
}

/// Longest duration any option accepts: one year. Longer values are refused
/// (exit 2) rather than overflowing the clock arithmetic they feed.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err("expected a duration of zero or more, like 500ms, 3s or 1m".to_owned());
    }
    match humantime::parse_duration(s) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        Ok(_) => Err("expected a duration of at most 1 year (365d)".to_owned()),
        // humantime reports a number too large for a Duration as its own error.
        Err(humantime::DurationError::NumberOverflow) => {
            Err("expected a duration of at most 1 year (365d)".to_owned())
        }
        Err(_) => Err("expected a duration like 500ms, 3s or 1m".to_owned()),
    }
}

fn rounds(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| "expected a whole number of rounds, 0 to run until stopped".to_owned())
}

/// A duration above zero and at most [`MAX_DURATION`] (also a targets file's `timeout`).
pub(crate) fn positive_duration(s: &str) -> Result<Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err("expected a duration above zero, like 500ms or 10s".to_owned()),
        d => Ok(d),
    }
}

fn telegraf_addr(s: &str) -> Result<TelegrafAddr, String> {
    s.parse::<TelegrafAddr>().map_err(|e| e.to_string())
}

fn http_url(s: &str) -> Result<Url, String> {
    match Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(u),
        _ => Err("expected an http:// or https:// URL, e.g. http://127.0.0.1:8086".to_owned()),
    }
}
