//! The async probes: tokio's current-thread runtime, targets concurrently
//! (at most `--concurrency` in flight).

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use probe_metrics::now_ns;

use crate::concurrency::{SPREAD_SHARE, bounded};
use crate::config::Config;
use crate::recorder::Outcome;
use crate::reload::Reload;
use crate::request::AsyncClients;
use crate::run_common::{FLUSH_DEADLINE, Start, check_files, warm_up_done};
use crate::schedule::Schedule;

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
        // Bounded like the rounds: a burst of every target at once is what
        // `--concurrency` exists to avoid.
        let mut warm_up = bounded(&targets, config.concurrency, Duration::ZERO, |t| {
            let send = clients.send(config, t);
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
    let mut clients = AsyncClients::new(config, &targets)?;
    let mut round = 0u64;
    let mut schedule = Schedule::new(config.interval);
    let stopped = stop.wait();
    tokio::pin!(stopped);
    'rounds: while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        // A reload whose clients cannot be built (CA file missing) keeps the old targets.
        if let Some(new) = reload.poll(config, &targets, recorder.log(), |new| {
            check_files(config, new, recorder.log())?;
            clients.cover(config, new)
        }) {
            targets = new;
        }
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let spread_over = if config.spread {
            config.interval.mul_f64(SPREAD_SHARE)
        } else {
            Duration::ZERO
        };
        let mut requests = bounded(&targets, config.concurrency, spread_over, |target| {
            let clients = &clients;
            async move {
                let request_ns = now_ns();
                let result = clients.send(config, target).await;
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
        recorder.round(started_ns, elapsed, targets.len() as u64, errors, &after);
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep_async(after.wait).await {
            break;
        }
    }
    drop(clients);
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
