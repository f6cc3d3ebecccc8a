//! The async probes: tokio's current-thread runtime, targets concurrently.

use std::time::Instant;

use futures_util::future::join_all;
use probe_metrics::now_ns;

use crate::config::Config;
use crate::recorder::Outcome;
use crate::reload::Reload;
use crate::request::AsyncClients;
use crate::run_common::{FLUSH_DEADLINE, Start, warm_up_done};

pub(crate) fn run(config: &Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(probe(config))
}

async fn probe(config: &Config) -> anyhow::Result<()> {
    let Start { stop, mut recorder } = Start::new(config)?;
    let reload = Reload::install()?;
    let mut targets = config.targets.clone();
    {
        let clients = AsyncClients::new(config, &targets)?;
        let warm_up = join_all(targets.iter().map(|t| clients.send(config, t)));
        // A signal during the warm-up ends the probe without waiting for it.
        tokio::select! {
            results = warm_up => {
                for (target, result) in targets.iter().zip(results) {
                    if let Err(e) = result {
                        recorder.log().info(format_args!("warm-up: target {}: {e}", target.name));
                    }
                }
            }
            () = stop.wait() => {}
        }
    }
    if !stop.requested() {
        warm_up_done(&recorder);
    }
    let mut clients = AsyncClients::new(config, &targets)?;
    let mut round = 0u64;
    while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        // A reload whose clients cannot be built (CA file missing) keeps the old targets.
        if let Some(new) = reload.poll(config, &targets, recorder.log(), |new| {
            clients.cover(config, new)
        }) {
            targets = new;
        }
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let requests = targets.iter().map(|target| {
            let clients = &clients;
            async move {
                let request_ns = now_ns();
                let result = clients.send(config, target).await;
                (target, request_ns, result)
            }
        });
        let results = tokio::select! {
            results = join_all(requests) => results,
            () = stop.wait() => break,
        };
        let elapsed = started.elapsed();
        let mut errors = 0u64;
        for (target, request_ns, result) in &results {
            if recorder.request(target, *request_ns, result) == Outcome::Error {
                errors += 1;
            }
        }
        recorder.round(started_ns, elapsed, targets.len() as u64, errors);
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep_async(config.interval).await {
            break;
        }
    }
    drop(clients);
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
