//! The command line shared by the four probes (every option also from the
//! environment).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use cli_support::args::{duration, http_url, positive_duration};
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

    /// From the start of one round to the next (at once after an overrun), e.g. 500ms, 3s
    /// (0s: back to back; at most 365d)
    #[arg(long, env = "PROBE_INTERVAL", default_value = "3s", value_name = "DURATION", value_parser = duration, allow_hyphen_values = true)]
    pub interval: Duration,

    /// Rounds to run; 0 runs until stopped (SIGINT/SIGTERM)
    #[arg(long, env = "PROBE_ROUNDS", default_value_t = 0, value_name = "N", value_parser = rounds, allow_hyphen_values = true)]
    pub rounds: u64,

    /// Time limit of one request, connection setup and body included (at most 365d)
    #[arg(long, env = "PROBE_TIMEOUT", default_value = "10s", value_name = "DURATION", value_parser = positive_duration, allow_hyphen_values = true)]
    pub timeout: Duration,

    /// At exit, write the run's counts (rounds, requests, errors, points per
    /// measurement, sink sent/dropped/resent) as one JSON object to this file
    #[arg(long, env = "PROBE_SUMMARY_JSON", value_name = "PATH")]
    pub summary_json: Option<PathBuf>,

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

    /// Async probes: at most N requests in flight (1..=10000); the sync probes
    /// make one at a time
    #[arg(long, env = "PROBE_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY, value_name = "N", value_parser = concurrency, allow_hyphen_values = true)]
    pub concurrency: usize,

    /// Async probes: start the round's requests evenly over the first 90 % of
    /// --interval instead of all at once
    #[arg(long, env = "PROBE_SPREAD")]
    pub spread: bool,

    /// Where this probe runs, tagged `location` on every point
    /// [default: the host name]
    #[arg(long, env = "PROBE_LOCATION", value_name = "NAME")]
    pub location: Option<String>,
}

/// Requests in flight by default. The probe's one thread takes up each
/// finished connect in turn, so a burst of N adds queueing to `connect_ms`:
/// at 32, 1,000 fresh loopback connections per round keep the median within
/// 2 ms of a round of 10 even in a debug build on a loaded machine (64 did
/// not); BENCHMARKS.md has the figures.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Most requests in flight `--concurrency` accepts.
pub const MAX_CONCURRENCY: usize = 10_000;

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

/// The concurrency option: requests in flight, 1 to [`MAX_CONCURRENCY`].
fn concurrency(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of requests in flight from 1 to {MAX_CONCURRENCY}"
        )),
    }
}

/// The rounds option: a whole number, 0 to run until stopped.
fn rounds(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| "expected a whole number of rounds, 0 to run until stopped".to_owned())
}

fn telegraf_addr(s: &str) -> Result<TelegrafAddr, String> {
    s.parse::<TelegrafAddr>().map_err(|e| e.to_string())
}
