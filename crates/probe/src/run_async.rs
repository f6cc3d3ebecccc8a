//! The async probes: tokio's current-thread runtime, targets concurrently
//! (at most `--concurrency` in flight).

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use probe_metrics::now_ns;
use reqwest_timing::Instrumentation;

use crate::concurrency::{SPREAD_SHARE, bounded};
use crate::config::Config;
use crate::recorder::Outcome;
use crate::run_common::{FLUSH_DEADLINE, Start, warm_up_done};
use crate::schedule::Schedule;

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
        // Bounded like the rounds: a burst of every target at once is what
        // `--concurrency` exists to avoid.
        let mut warm_up = bounded(&config.targets, config.concurrency, Duration::ZERO, |t| {
            let send = timing.send(client.get(t.url.clone()).timeout(timeout));
            async move { (t, send.await) }
        });
        let log = recorder.log();
        let warm_up = async {
            while let Some((target, result)) = warm_up.next().await {
                if let Err(e) = result {
                    log.info(format_args!("warm-up: target {}: {e}", target.name));
                }
            }
        };
        // A signal during the warm-up ends the probe without waiting for it.
        tokio::select! {
            () = warm_up => {}
            () = stop.wait() => {}
        }
    }
    if !stop.requested() {
        warm_up_done(&recorder);
    }
    let (timing, client) = client(config)?;
    let mut round = 0u64;
    let mut schedule = Schedule::new(config.interval);
    let stopped = stop.wait();
    tokio::pin!(stopped);
    'rounds: while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let spread_over = if config.spread {
            config.interval.mul_f64(SPREAD_SHARE)
        } else {
            Duration::ZERO
        };
        let mut requests = bounded(&config.targets, config.concurrency, spread_over, |target| {
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
        // Recorded as they finish: a round of 10,000 keeps no pile of responses.
        let mut errors = 0u64;
        loop {
            tokio::select! {
                next = requests.next() => match next {
                    Some((target, request_ns, result)) => {
                        if recorder.request(target, request_ns, &result) == Outcome::Error {
                            errors += 1;
                        }
                    }
                    None => break,
                },
                () = &mut stopped => break 'rounds,
            }
        }
        drop(requests);
        let elapsed = started.elapsed();
        let after = schedule.after_round(elapsed, Instant::now());
        if let Some(line) = &after.say {
            recorder.log().info(line);
        }
        recorder.round(
            started_ns,
            elapsed,
            config.targets.len() as u64,
            errors,
            after.overrun,
        );
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep_async(after.wait).await {
            break;
        }
    }
    drop(client);
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
