//! `probe-demo`: the offline demo (no Docker) behind `make demo`.

use anyhow::{Context, Result};
use clap::Parser;
use cli_support::args::duration as duration_arg;
use cli_support::parse_or_exit;
use demo::{DemoConfig, run_demo_with_app};
use demo_backend::{DEFAULT_HANDSHAKE_DELAY, DEFAULT_RTT, DEFAULT_SERVICES, Service};
use probe_report::render;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Start a local demo backend in this process, run the four probes one after
/// another against it, and print the sync/async x fresh/reused table next to
/// the latency model.
#[derive(Debug, Parser)]
#[command(name = "probe-demo", version)]
struct Cli {
    /// Rounds per probe
    #[arg(long, env = "DEMO_ROUNDS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// File for the raw points of all four probes (line protocol); report.html goes beside it
    #[arg(long, default_value = "demo-out/points.lp")]
    out: PathBuf,
    /// Directory of the probe binaries [default: this executable's directory]
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The backend's services NAME=LATENCY[~JITTER], comma-separated, one probe target each
    #[arg(long, default_value = DEFAULT_SERVICES, value_delimiter = ',')]
    services: Vec<Service>,
    /// Extra delay the backend adds to every TLS handshake
    #[arg(long, default_value = DEFAULT_HANDSHAKE_DELAY, value_parser = duration_arg, allow_hyphen_values = true)]
    handshake_delay: Duration,
    /// Emulated network round trip, per request
    #[arg(long, default_value = DEFAULT_RTT, value_parser = duration_arg, allow_hyphen_values = true)]
    rtt: Duration,
    /// Time from the start of one round of a probe to the start of the next
    #[arg(long, default_value = "100ms", value_parser = duration_arg, allow_hyphen_values = true)]
    interval: Duration,
    /// Also probe the targets of this targets file (see targets.example.toml); the
    /// table then shows no latency model
    #[arg(long, value_name = "PATH")]
    targets_file: Option<PathBuf>,
    /// Print the computed table as JSON instead of text
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    cli_support::log::init("probe-demo");
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let bin_dir = match cli.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .context("cannot locate this executable")?
            .parent()
            .context("this executable has no parent directory")?
            .to_path_buf(),
    };
    let config = DemoConfig {
        rounds: cli.rounds,
        out: cli.out,
        bin_dir,
        services: cli.services,
        handshake_delay: cli.handshake_delay,
        rtt: cli.rtt,
        interval: cli.interval,
        targets_file: cli
            .targets_file
            .map(|f| std::path::absolute(&f).with_context(|| format!("{}", f.display())))
            .transpose()?,
    };
    let (report, app) = run_demo_with_app(&config, &mut std::io::stderr())?;
    let html = config.out.with_file_name("report.html");
    probe_report::html::write_from_points_file(&config.out, &report, &html)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        eprintln!("html report: {}", html.display());
    } else {
        println!();
        print!("{}", render(&report));
        if let Some(app) = &app {
            println!("\n{app}");
        }
        println!("\nraw points: {}", config.out.display());
        println!("html report: {} (open it in a browser)", html.display());
    }
    Ok(())
}
