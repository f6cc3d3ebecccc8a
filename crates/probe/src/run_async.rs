//! The async probes: tokio's current-thread runtime, targets concurrently.

use std::time::Instant;

use futures_util::future::join_all;
use probe_metrics::now_ns;
use reqwest_timing::Instrumentation;

use crate::config::Config;
use crate::recorder::Outcome;
use crate::run_common::{FLUSH_DEADLINE, Start, warm_up_done};

fn client(config: &Config) -> anyhow::Result<(Instrumentation, reqwest::Client)> {
    let timing = Instrumentation::new(config.policy, &config.tls)?;
    let builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(crate::USER_AGENT);
    let client = timing.apply(builder).build()?;
    Ok((timing, client))
}

pub(crate) fn run(config: &Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(probe(config))
}

async fn probe(config: &Config) -> anyhow::Result<()> {
    let Start { stop, mut recorder } = Start::new(config)?;
    {
        let (timing, client) = client(config)?;
        let timeout = config.timeout;
        let warm_up = join_all(
            config
                .targets
                .iter()
                .map(|t| timing.send(client.get(t.url.clone()).timeout(timeout))),
        );
        // A signal during the warm-up ends the probe without waiting for it.
        tokio::select! {
            results = warm_up => {
                for (target, result) in config.targets.iter().zip(results) {
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
    let (timing, client) = client(config)?;
    let mut round = 0u64;
    while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let requests = config.targets.iter().map(|target| {
            let timing = &timing;
            let client = &client;
            async move {
                let request_ns = now_ns();
                // Same per-request bound as the sync probes: setup, headers and body.
                let result = timing
                    .send(client.get(target.url.clone()).timeout(config.timeout))
                    .await;
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
        recorder.round(started_ns, elapsed, config.targets.len() as u64, errors);
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep_async(config.interval).await {
            break;
        }
    }
    drop(client);
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
