//! `example-app`: the example service of the stack (see the crate docs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use example_app::App;
use probe_metrics::{Sink, SinkConfig, SinkOptions, SinkReporter, TelegrafAddr};
use reqwest_timing::TlsOptions;

/// A small service whose outbound calls are timed by the reqwest-timing
/// middleware and reported to Telegraf.
#[derive(Debug, Parser)]
#[command(name = "example-app", version)]
struct Cli {
    /// Address to listen on.
    #[arg(
        long,
        env = "EXAMPLE_LISTEN",
        default_value = "127.0.0.1:8090",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
    /// Base URL of the demo backend (`/api/fast` and `/api/slow` are called).
    #[arg(
        long,
        env = "EXAMPLE_BACKEND",
        default_value = "https://127.0.0.1:8443",
        value_name = "URL"
    )]
    backend: url::Url,
    /// Extra PEM root certificates to trust (the demo backend's CA).
    #[arg(long, env = "EXAMPLE_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Where the points go: Telegraf's socket listener (`udp://` or `tcp://`).
    #[arg(long, env = "TELEGRAF_URL", default_value = "udp://127.0.0.1:8094", value_name = "URL", value_parser = telegraf_addr)]
    telegraf: TelegrafAddr,
    /// Write the points to stdout instead of Telegraf.
    #[arg(long)]
    stdout: bool,
    /// The `client` tag of the points: this service's name.
    #[arg(
        long,
        env = "EXAMPLE_CLIENT_NAME",
        default_value = "example-app",
        value_name = "NAME"
    )]
    client_name: String,
}

fn telegraf_addr(s: &str) -> Result<TelegrafAddr, String> {
    s.parse()
        .map_err(|e: probe_metrics::ParseTelegrafAddrError| e.to_string())
}

/// Ctrl-C or SIGTERM (`docker compose stop`).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

fn main() -> ExitCode {
    let cli: Cli = cli_support::parse_or_exit();
    cli_support::log::init("example-app");
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut tls = TlsOptions::system_roots();
    if let Some(path) = &cli.ca_cert {
        tls = tls.with_extra_roots(probe::ca::read_ca_file(path)?);
    }
    let config = if cli.stdout {
        SinkConfig::Stdout
    } else {
        SinkConfig::Telegraf(cli.telegraf.clone())
    };
    let sink = Arc::new(Sink::start(config, SinkOptions::default())?);
    let reporter = Arc::new(SinkReporter::new(sink.clone(), cli.client_name.as_str()));
    let app = App::new(cli.backend.clone(), &tls, reporter)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cli.listen))?;
        tracing::info!("listening on {}, backend {}", cli.listen, cli.backend);
        axum::serve(listener, example_app::router(app))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")
    })?;
    drop(runtime);
    if let Ok(sink) = Arc::try_unwrap(sink) {
        let stats = sink.shutdown(Duration::from_secs(2));
        tracing::info!("points sent {}, dropped {}", stats.sent, stats.dropped);
    }
    Ok(())
}
