//! The sync probes: `reqwest::blocking` on this thread, targets one after
//! another.

use std::time::Instant;

use probe_metrics::now_ns;
use reqwest_timing::Instrumentation;

use crate::config::Config;
use crate::recorder::Outcome;
use crate::run_common::{FLUSH_DEADLINE, Start, warm_up_done};

fn client(config: &Config) -> anyhow::Result<(Instrumentation, reqwest::blocking::Client)> {
    let timing = Instrumentation::new(config.policy, &config.tls)?;
    let builder = reqwest::blocking::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(crate::USER_AGENT);
    let client = timing.apply_blocking(builder).build()?;
    Ok((timing, client))
}

pub(crate) fn run(config: &Config) -> anyhow::Result<()> {
    let Start { stop, mut recorder } = Start::new(config)?;
    // One unreported round on a throwaway client of the same kind pays the
    // one-time process costs (TLS provider, runtime thread, first lookup).
    {
        let (timing, client) = client(config)?;
        for target in &config.targets {
            let _ = timing.send_blocking(client.get(target.url.clone()));
        }
    }
    warm_up_done(&recorder);
    let (timing, client) = client(config)?;
    let mut round = 0u64;
    while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let mut errors = 0u64;
        for target in &config.targets {
            let request_ns = now_ns();
            let result = timing.send_blocking(client.get(target.url.clone()));
            if recorder.request(target, request_ns, &result) == Outcome::Error {
                errors += 1;
            }
        }
        recorder.round(
            started_ns,
            started.elapsed(),
            config.targets.len() as u64,
            errors,
        );
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep(config.interval) {
            break;
        }
    }
    drop(client);
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
