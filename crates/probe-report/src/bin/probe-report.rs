//! `probe-report`: the sync/async x fresh/reused table from InfluxDB or a points file.

use anyhow::{Context, Result, bail};
use clap::Parser;
use cli_support::args::{
    duration as duration_arg, http_url, positive_duration as positive_duration_arg,
};
use cli_support::parse_or_exit;
use probe_report::cli::{ServiceList, services_arg};
use probe_report::html::{Timeline, render_html, write_html};
use probe_report::influx::{InfluxSource, samples_from_response};
use probe_report::{LatencyModel, Report, parse_line_protocol, render};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Print the 2x2 table (sync/async x fresh/reused round time, with
/// percentiles), the phase medians per scenario and a one-line reading.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Time range to read from InfluxDB (e.g. 15m, 1h)
    #[arg(long, default_value = "15m", value_parser = positive_duration_arg, allow_hyphen_values = true)]
    since: Duration,
    /// InfluxDB base URL
    #[arg(long, env = "INFLUX_URL", default_value = "http://127.0.0.1:8086", value_parser = http_url)]
    influx_url: url::Url,
    /// InfluxDB token (sent as `Authorization: Token ...`)
    #[arg(long, env = "INFLUX_TOKEN", hide_env_values = true)]
    influx_token: Option<String>,
    /// InfluxDB bucket (2.x, through its DBRP mapping) or database (1.x)
    #[arg(long, env = "INFLUX_BUCKET", default_value = "probes")]
    influx_bucket: String,
    /// Read probe output (line protocol) from this file instead of InfluxDB
    #[arg(long, value_name = "POINTS.lp")]
    file: Option<PathBuf>,
    /// Backend services for the model column, e.g. fast=20ms,slow=60ms
    #[arg(long, value_name = "NAME=LATENCY,...", value_parser = services_arg)]
    model: Option<ServiceList>,
    /// Extra TLS handshake delay of the backend (with --model)
    #[arg(long, default_value = "0ms", value_parser = duration_arg, allow_hyphen_values = true)]
    handshake_delay: Duration,
    /// Emulated round trip of the backend (with --model)
    #[arg(long, default_value = "0ms", value_parser = duration_arg, allow_hyphen_values = true)]
    rtt: Duration,
    /// Print the computed table as JSON instead of text
    #[arg(long)]
    json: bool,
    /// Also write the charts and tables as one self-contained HTML file (- = stdout, instead of the table)
    #[arg(long, value_name = "FILE.html")]
    html: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    cli_support::log::init("probe-report");
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    let (samples, timeline, source) = match &cli.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let samples = parse_line_protocol(&text).with_context(|| path.display().to_string())?;
            let timeline = match cli.html {
                Some(_) => Timeline::from_line_protocol(&text)?,
                None => Timeline::default(),
            };
            (samples, timeline, path.display().to_string())
        }
        None => {
            let influx_url = cli.influx_url.as_str().trim_end_matches('/');
            let influx = InfluxSource {
                url: influx_url.to_owned(),
                bucket: cli.influx_bucket.clone(),
                token: cli.influx_token.clone(),
            };
            let since = humantime::format_duration(cli.since);
            let source = format!(
                "InfluxDB {} bucket '{}', last {since}",
                influx_url, cli.influx_bucket
            );
            let body = influx.fetch_body(cli.since)?;
            let timeline = match cli.html {
                Some(_) => Timeline::from_influx_response(&body)?,
                None => Timeline::default(),
            };
            (samples_from_response(&body)?, timeline, source)
        }
    };
    if samples.is_empty() {
        bail!("no probe data in {source}; are the probes running? (make up)");
    }
    let model = cli.model.as_ref().map(|services| LatencyModel {
        services: services.0.clone(),
        rtt: cli.rtt,
        handshake_delay: cli.handshake_delay,
    });
    let report = Report::new(&samples, model.as_ref());
    let html_to_stdout = cli.html.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = &cli.html {
        write_html(path, &render_html(&timeline, &report, &source)?)?;
    }
    if html_to_stdout {
        eprintln!("html report: standard output");
    } else if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("source: {source}\n");
        print!("{}", render(&report));
    }
    if let Some(path) = cli.html.as_ref().filter(|_| !html_to_stdout) {
        if cli.json {
            eprintln!("html report: {}", path.display());
        } else {
            println!("\nhtml report: {}", path.display());
        }
    }
    Ok(())
}
