//! `demo-backend`: serve until SIGTERM/SIGINT, or run `--healthcheck`.

use std::process::ExitCode;

use anyhow::Context;
use demo_backend::cli::Args;

fn main() -> ExitCode {
    let args = Args::parse_or_exit();
    if !args.healthcheck && args.http.0.is_none() && args.https.0.is_none() {
        let line = "--http and --https are both off: expected at least one listen address";
        return cli_support::usage::bad_input("demo-backend", line);
    }
    cli_support::log::init("demo-backend");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
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
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args) -> anyhow::Result<()> {
    // Handlers first: a signal right after the start-up line must not kill us.
    let signals = Signals::install()?;
    let running = demo_backend::start(args.to_config())
        .await
        .context("cannot start")?;
    // The ready line goes to stdout (machine-readable); logs go to stderr.
    println!("{}", running.listening_line());
    signals.wait().await;
    tracing::info!("shutting down");
    running.shutdown_and_wait().await;
    Ok(())
}

async fn healthcheck(args: &Args) -> anyhow::Result<()> {
    match demo_backend::healthcheck::check(args.http.0, args.https.0, &args.cert_dir).await {
        Ok(()) => Ok(()),
        Err(problems) => anyhow::bail!("unhealthy: {}", problems.join("; ")),
    }
}

/// SIGTERM and SIGINT, caught from installation on.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
