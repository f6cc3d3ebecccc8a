//! `demo-backend`: serve until SIGTERM/SIGINT, or run `--healthcheck`.

use std::process::ExitCode;

use anyhow::Context;
use demo_backend::cli::Args;

fn main() -> ExitCode {
    let args = Args::parse_or_exit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo-backend: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.healthcheck {
        runtime.block_on(healthcheck(&args))
    } else {
        runtime.block_on(serve(&args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-backend: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args) -> anyhow::Result<()> {
    if args.http.0.is_none() && args.https.0.is_none() {
        eprintln!(
            "demo-backend: --http and --https are both off: expected at least one listen address"
        );
        std::process::exit(2);
    }
    let running = demo_backend::start(args.to_config())
        .await
        .context("cannot start")?;
    eprintln!("{}", running.listening_line());
    wait_for_signal().await?;
    eprintln!("demo-backend: shutting down");
    running.shutdown_and_wait().await;
    Ok(())
}

async fn healthcheck(args: &Args) -> anyhow::Result<()> {
    match demo_backend::healthcheck::check(args.http.0, args.https.0, &args.cert_dir).await {
        Ok(()) => Ok(()),
        Err(problems) => anyhow::bail!("unhealthy: {}", problems.join("; ")),
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
