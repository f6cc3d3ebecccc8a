//! Turns each result into points, logs failures and keeps the counts.

use std::path::PathBuf;
use std::time::Duration;

use probe_metrics::{Point, Sink, now_ns};
use reqwest_timing::ErrorClass;

use crate::log::Log;
use crate::points;
use crate::request::Reply;
use crate::scenario::Scenario;
use crate::schema::LOCATION_TAG;
use crate::summary::{Counts, Summary};
use crate::target::Target;

/// Records the results of one probe.
pub struct Recorder {
    scenario: Scenario,
    location: String,
    sink: Sink,
    log: Log,
    counts: Counts,
    summary_json: Option<PathBuf>,
}

/// The outcome of one request, for the round's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response as expected (by default 2xx or 3xx).
    Ok,
    /// A failure or a response not as expected.
    Error,
}

impl Recorder {
    /// A recorder that sends to `sink`.
    pub fn new(scenario: Scenario, location: String, sink: Sink) -> Self {
        Self {
            scenario,
            location,
            sink,
            log: Log::new(),
            summary_json: None,
            counts: Counts::default(),
        }
    }

    /// Writes the [`Summary`] to `path` at [`Recorder::finish`].
    pub fn summary_to(&mut self, path: Option<PathBuf>) {
        self.summary_json = path;
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Sends `point` with the `location` tag every point carries.
    fn send(&self, point: Point) {
        self.sink
            .send(&point.tag(LOCATION_TAG, self.location.as_str()));
    }

    /// Records one request that started at `started_ns`.
    pub fn request(&mut self, target: &Target, started_ns: i64, result: &Reply) -> Outcome {
        self.counts.requests += 1;
        let outcome = match result {
            Ok(answer) => {
                let response = &answer.response;
                let expect = &target.request.expect;
                self.send(points::request(self.scenario, target, started_ns, response));
                self.counts.http_request += 1;
                match expect.check(response.status, answer.body.as_deref()) {
                    None => Outcome::Ok,
                    Some(class) => {
                        let total_ms = response.timings.total.as_secs_f64() * 1e3;
                        self.send(points::error(
                            self.scenario,
                            target,
                            started_ns,
                            class,
                            total_ms,
                        ));
                        self.counts.http_error += 1;
                        let why = match class {
                            ErrorClass::Expect if expect.status_ok(response.status) => {
                                " (body does not match expect_body)"
                            }
                            ErrorClass::Expect => " (not in expect_status)",
                            _ => "",
                        };
                        let message =
                            format!("{class}: {}{why} after {total_ms:.1} ms", response.status);
                        self.log.failure(&label(target), class.as_str(), message);
                        Outcome::Error
                    }
                }
            }
            Err(error) => {
                self.send(points::failure(self.scenario, target, started_ns, error));
                self.counts.http_error += 1;
                self.log
                    .failure(&label(target), error.class.as_str(), error.to_string());
                Outcome::Error
            }
        };
        if outcome == Outcome::Error {
            self.counts.errors += 1;
        }
        outcome
    }

    /// Records a finished round and the sink's counters, and logs the schedule's
    /// line when one is due (an overrun).
    pub(crate) fn round(
        &mut self,
        started_ns: i64,
        total: Duration,
        requests: u64,
        errors: u64,
        after: &crate::schedule::AfterRound,
    ) {
        if let Some(line) = &after.say {
            self.log().info(line);
        }
        let mut round = points::round(self.scenario, started_ns, total, requests, errors);
        if let Some(overrun) = after.overrun {
            round = round.field("overrun_ms", points::ms(overrun));
        }
        self.send(round);
        self.counts.probe_round += 1;
        self.counts.rounds += 1;
        self.send(points::sink(
            self.scenario,
            now_ns(),
            self.sink.kind(),
            self.sink.stats(),
        ));
        self.counts.probe_sink += 1;
    }

    /// Flushes the sink (at most `deadline`), logs the `done:` line and
    /// writes the summary file if one was asked for.
    pub fn finish(self, deadline: Duration) -> Counts {
        let kind = self.sink.kind();
        let stats = self.sink.shutdown(deadline);
        let c = self.counts;
        self.log.info(format_args!(
            "done: rounds={} requests={} errors={} points http_request={} http_error={} probe_round={} probe_sink={} sink={kind} sent={} dropped={} resent={}",
            c.rounds, c.requests, c.errors, c.http_request, c.http_error, c.probe_round, c.probe_sink, stats.sent, stats.dropped, stats.resent
        ));
        if let Some(path) = &self.summary_json {
            let summary = Summary::new(self.scenario, c, kind, stats);
            if let Err(e) = summary.write(path) {
                tracing::error!("summary not written: {e}");
            }
        }
        c
    }
}

/// How a target appears in log lines: its name and its URL (without credentials).
fn label(target: &Target) -> String {
    format!("{} ({})", target.name, target.shown_url())
}
