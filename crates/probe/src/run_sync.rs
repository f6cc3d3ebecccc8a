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

use crate::config::Config;
use crate::http_mode::HttpMode;
use crate::recorder::Outcome;
use crate::reload::Reload;
use crate::request::{BlockingClients, Reply};
use crate::run_common::{FLUSH_DEADLINE, Start, check_files, warm_up_done};
use crate::schedule::Schedule;
use crate::stop::Stop;
use crate::target::Target;

/// How often a wait for a request looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Work for the request thread.
enum Job {
    /// A target's request with its HTTP version and time limit.
    Request(Box<Target>, HttpMode, Duration),
    /// Build the clients for these HTTP versions (a reload's new targets).
    Cover(Vec<HttpMode>),
}

/// Blocking clients on their own thread, serving one request at a time.
struct Worker {
    jobs: mpsc::Sender<Job>,
    /// A request's reply (`Some`), or a cover's success (`None`).
    done: mpsc::Receiver<anyhow::Result<Option<Reply>>>,
}

impl Worker {
    fn start(config: &Config) -> anyhow::Result<Self> {
        let mut clients = BlockingClients::new(config);
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel();
        thread::Builder::new()
            .name("requests".into())
            .spawn(move || {
                for job in job_rx {
                    let result = match job {
                        Job::Request(target, mode, timeout) => {
                            clients.send(&target, mode, timeout).map(Some)
                        }
                        Job::Cover(modes) => clients.cover(&modes).map(|()| None),
                    };
                    if done_tx.send(result).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self { jobs, done })
    }

    /// Builds the clients `targets` need; an error leaves the current ones.
    fn cover(&self, config: &Config, targets: &[Target]) -> anyhow::Result<()> {
        let modes = targets.iter().map(|t| config.http_of(t)).collect();
        if self.jobs.send(Job::Cover(modes)).is_err() {
            bail!("the request thread ended");
        }
        match self.done.recv() {
            Ok(result) => result.map(drop),
            Err(_) => bail!("the request thread ended"),
        }
    }

    /// The outcome of `target`'s request, or `None` when a stop signal came first.
    fn request(
        &self,
        config: &Config,
        target: &Target,
        stop: &Stop,
    ) -> anyhow::Result<Option<Reply>> {
        let job = Job::Request(
            Box::new(target.clone()),
            config.http_of(target),
            config.timeout_of(target),
        );
        if self.jobs.send(job).is_err() {
            bail!("the request thread ended");
        }
        loop {
            match self.done.recv_timeout(POLL) {
                // A request job always replies `Some`.
                Ok(result) => return result,
                Err(RecvTimeoutError::Timeout) if stop.requested() => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => bail!("the request thread ended"),
            }
        }
    }
}

pub(crate) fn run(config: &Config) -> anyhow::Result<()> {
    let Start { stop, mut recorder } = Start::new(config)?;
    let reload = Reload::install()?;
    let mut targets = config.targets.clone();
    // One unreported round on a throwaway client of the same kind pays the
    // one-time process costs (TLS provider, runtime thread, first lookup).
    {
        let warm_up = Worker::start(config)?;
        for target in &targets {
            match warm_up.request(config, target, &stop)? {
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
        // A reload whose clients cannot be built (CA file missing) keeps the old targets.
        if let Some(new) = reload.poll(config, &targets, recorder.log(), |new| {
            check_files(config, new, recorder.log())?;
            worker.cover(config, new)
        }) {
            targets = new;
        }
        round += 1;
        let started = Instant::now();
        let started_ns = now_ns();
        let mut errors = 0u64;
        for target in &targets {
            let request_ns = now_ns();
            let Some(result) = worker.request(config, target, &stop)? else {
                break 'rounds;
            };
            if recorder.request(target, request_ns, &result) == Outcome::Error {
                errors += 1;
            }
        }
        let elapsed = started.elapsed();
        let after = schedule.after_round(elapsed, Instant::now());
        recorder.round(started_ns, elapsed, targets.len() as u64, errors, &after);
        if config.rounds.is_some_and(|n| round >= n) || stop.sleep(after.wait) {
            break;
        }
    }
    recorder.finish(FLUSH_DEADLINE);
    Ok(())
}
