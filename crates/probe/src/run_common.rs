//! What both kinds of probe do before and after their rounds.

use std::time::Duration;

use probe_metrics::{Sink, SinkOptions};

use crate::config::Config;
use crate::log::Log;
use crate::recorder::Recorder;
use crate::stop::Stop;
use crate::target::Target;

/// At most this long to flush the sink at exit.
pub(crate) const FLUSH_DEADLINE: Duration = Duration::from_secs(2);

pub(crate) struct Start {
    pub(crate) stop: Stop,
    pub(crate) recorder: Recorder,
}

impl Start {
    pub(crate) fn new(config: &Config) -> anyhow::Result<Self> {
        let stop = Stop::install()?;
        let sink = Sink::start(config.sink.clone(), SinkOptions::default())?;
        let mut recorder = Recorder::new(config.scenario, config.location.clone(), sink);
        recorder.summary_to(config.summary_json.clone());
        let rounds = config
            .rounds
            .map_or_else(|| "until stopped".to_owned(), |n| plural(n, "round"));
        recorder.log().info(format_args!(
            "{}, {rounds}, interval {}, timeout {}, sink {}, location {}{}",
            plural(config.targets.len() as u64, "target"),
            humantime::format_duration(config.interval),
            humantime::format_duration(config.timeout),
            config.sink_label,
            config.location,
            if config.scenario.is_async() {
                format!(
                    ", concurrency {}{}",
                    config.concurrency,
                    if config.spread { ", spread" } else { "" }
                )
            } else {
                String::new()
            },
        ));
        Ok(Self { stop, recorder })
    }
}

pub(crate) fn warm_up_done(recorder: &Recorder) {
    recorder.log().info("warm-up done (not reported)");
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Before a reload takes `targets`: the open-file limit must cover them too
/// (raised to the hard limit if needed, and said so).
pub(crate) fn check_files(config: &Config, targets: &[Target], log: &Log) -> anyhow::Result<()> {
    let need = config.files_needed_for(targets);
    if let Some((old, new)) = crate::fdlimit::ensure(need)? {
        log.info(format_args!(
            "raised the open-file limit (ulimit -n) from {old} to its hard limit {new}: {} requests in flight need about {} open files",
            need.in_flight,
            need.files()
        ));
    }
    Ok(())
}
