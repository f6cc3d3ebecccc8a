//! The sync probes: `reqwest::blocking`, targets one after another.
//!
//! The requests run on one worker thread while this thread waits for each
//! outcome and watches for a stop signal, so that SIGTERM is answered at once
//! even in the middle of a slow request (which is then abandoned).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::bail;
use probe_metrics::now_ns;
use reqwest_timing::{Instrumentation, TimedError, TimedResponse};
use url::Url;

use crate::config::Config;
use crate::recorder::Outcome;
use crate::run_common::{FLUSH_DEADLINE, Start, warm_up_done};
use crate::schedule::Schedule;
use crate::stop::Stop;

/// How often a wait for a request looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

type Result_ = Result<TimedResponse, TimedError>;

/// One blocking client on its own thread, serving one request at a time.
struct Worker {
    jobs: mpsc::Sender<Url>,
    done: mpsc::Receiver<Result_>,
}

impl Worker {
    fn start(config: &Config) -> anyhow::Result<Self> {
        let timing = Instrumentation::new(config.policy, &config.tls)?;
        let builder = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(crate::USER_AGENT);
        let client = timing.apply_blocking(builder).build()?;
        let timeout = config.timeout;
        let (jobs, job_rx) = mpsc::channel::<Url>();
        let (done_tx, done) = mpsc::channel();
        thread::Builder::new()
            .name("requests".into())
            .spawn(move || {
                for url in job_rx {
                    // A per-request timeout bounds body and all (the client's bounds each read).
                    let result = timing.send_blocking(client.get(url).timeout(timeout));
                    if done_tx.send(result).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self { jobs, done })
    }

    /// The outcome of a request to `url`, or `None` when a stop signal came first.
    fn request(&self, url: &Url, stop: &Stop) -> anyhow::Result<Option<Result_>> {
        if self.jobs.send(url.clone()).is_err() {
            bail!("the request thread ended");
        }
        loop {
            match self.done.recv_timeout(POLL) {
                Ok(result) => return Ok(Some(result)),
                Err(RecvTimeoutError::Timeout) if stop.requested() => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => bail!("the request thread ended"),
            }
        }
    }
}

pub(crate) fn run(config: &Config) -> anyhow::Result<()> {
    let Start { stop, mut recorder } = Start::new(config)?;
    // One unreported round on a throwaway client of the same kind pays the
    // one-time process costs (TLS provider, runtime thread, first lookup).
    {
        let warm_up = Worker::start(config)?;
        for target in &config.targets {
            match warm_up.request(&target.url, &stop)? {
                None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => recorder
                    .log()
                    .info(format_args!("warm-up: target {}: {e}", target.name)),
            }
        }
    }
    if !stop.requested() {
        warm_up_done(&recorder);
    }
    let worker = Worker::start(config)?;
    let mut round = 0u64;
    let mut schedule = Schedule::new(config.interval);
    'rounds: while !stop.requested() && config.rounds.is_none_or(|n| round < n) {
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let mut errors = 0u64;
        for target in &config.targets {
            let request_ns = now_ns();
            let Some(result) = worker.request(&target.url, &stop)? else {
                break 'rounds;
            };
            if recorder.request(target, request_ns, &result) == Outcome::Error {
                errors += 1;
            }
        }
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
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep(after.wait) {
            break;
        }
    }
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
