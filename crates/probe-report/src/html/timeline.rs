//! Timestamped points for the charts, from line protocol or from InfluxDB.
//!
//! The text report needs only values ([`crate::Samples`]); the charts also need
//! when each point happened and which target it hit.

use crate::influx::{InfluxError, for_each_series};
use crate::lineproto::{LineProtocolError, number, tag};
use crate::samples::Phase;
use crate::scenario::Scenario;
use influxdb_line_protocol::{ParsedLine, parse_lines};

/// One `http_request` point.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPoint {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Which probe.
    pub scenario: Scenario,
    /// The `target` tag (empty when absent).
    pub target: String,
    /// The whole request.
    pub total_ms: f64,
}

/// One `probe_round` point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundPoint {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Which probe.
    pub scenario: Scenario,
    /// The whole round.
    pub total_ms: f64,
}

/// One `http_error` point.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorPoint {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Which probe.
    pub scenario: Scenario,
    /// The `error_class` tag (`other` when absent).
    pub class: String,
    /// The `count` field (1 when absent).
    pub count: u64,
}

/// Everything the time-based panels draw.
///
/// Points without a timestamp (line protocol allows it; the probes always
/// stamp theirs) are placed at time 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// Requests, in input order.
    pub requests: Vec<RequestPoint>,
    /// Rounds, in input order.
    pub rounds: Vec<RoundPoint>,
    /// Errors, in input order.
    pub errors: Vec<ErrorPoint>,
}

impl Timeline {
    /// Reads probe output (same rules as [`crate::parse_line_protocol`]).
    pub fn from_line_protocol(input: &str) -> Result<Timeline, LineProtocolError> {
        let mut timeline = Timeline::default();
        for (i, text) in input.lines().enumerate() {
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            for parsed in parse_lines(trimmed) {
                let point = parsed.map_err(|e| LineProtocolError {
                    line: i + 1,
                    message: e.to_string(),
                    text: trimmed.chars().take(120).collect(),
                })?;
                timeline.add_line(&point);
            }
        }
        Ok(timeline)
    }

    /// Reads InfluxDB's JSON answer to [`crate::influx::queries`].
    pub fn from_influx_response(body: &str) -> Result<Timeline, InfluxError> {
        let mut timeline = Timeline::default();
        for_each_series(body, |statement, series| {
            let Some(scenario) = series.tag("scenario").and_then(Scenario::from_tag) else {
                return;
            };
            for row in &series.rows {
                let time_ms = series.time_ms(row).unwrap_or(0);
                let total_ms = series.number(row, "total_ms");
                match (statement, total_ms) {
                    (0, Some(total_ms)) => timeline.add_round(time_ms, scenario, total_ms),
                    (1, Some(total_ms)) => timeline.add_request(
                        time_ms,
                        scenario,
                        series.tag("target").unwrap_or_default(),
                        total_ms,
                    ),
                    (2, _) => timeline.errors.push(ErrorPoint {
                        time_ms,
                        scenario,
                        class: series.tag("error_class").unwrap_or("other").to_string(),
                        count: series.number(row, "count").unwrap_or(1.0).max(0.0) as u64,
                    }),
                    _ => {}
                }
            }
        })?;
        Ok(timeline)
    }

    /// True when there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.rounds.is_empty() && self.errors.is_empty()
    }

    /// The distinct targets of the requests, sorted.
    pub fn targets(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.requests.iter().map(|r| r.target.as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// First and last timestamp over all points (ms since the epoch).
    pub fn time_range_ms(&self) -> Option<(i64, i64)> {
        let times = self
            .requests
            .iter()
            .map(|r| r.time_ms)
            .chain(self.rounds.iter().map(|r| r.time_ms))
            .chain(self.errors.iter().map(|e| e.time_ms));
        times.fold(None, |range, t| match range {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })
    }

    fn add_round(&mut self, time_ms: i64, scenario: Scenario, total_ms: f64) {
        if total_ms.is_finite() {
            self.rounds.push(RoundPoint {
                time_ms,
                scenario,
                total_ms,
            });
        }
    }

    fn add_request(&mut self, time_ms: i64, scenario: Scenario, target: &str, total_ms: f64) {
        if total_ms.is_finite() {
            self.requests.push(RequestPoint {
                time_ms,
                scenario,
                target: target.to_string(),
                total_ms,
            });
        }
    }

    fn add_line(&mut self, point: &ParsedLine<'_>) {
        let Some(scenario) = tag(point, "scenario").and_then(Scenario::from_tag) else {
            return;
        };
        let time_ms = point.timestamp.map_or(0, |ns| ns.div_euclid(1_000_000));
        let total_ms = number(point, Phase::Total.field());
        match (point.series.measurement.as_str(), total_ms) {
            ("probe_round", Some(total_ms)) => self.add_round(time_ms, scenario, total_ms),
            // Telegraf's histogram rows have no total_ms and are skipped.
            ("http_request", Some(total_ms)) => self.add_request(
                time_ms,
                scenario,
                tag(point, "target").unwrap_or_default(),
                total_ms,
            ),
            ("http_error", _) => self.errors.push(ErrorPoint {
                time_ms,
                scenario,
                class: tag(point, "error_class").unwrap_or("other").to_string(),
                count: number(point, "count").unwrap_or(1.0).max(0.0) as u64,
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_targets_and_errors() {
        let text = "\
http_request,scenario=sync-fresh,target=fast total_ms=57.5 1700000000123000000
http_request,scenario=sync-fresh,gt=10,le=20 total_ms_bucket=3i 1700000000000000000
http_error,scenario=async-fresh,target=slow,error_class=timeout count=2i 1700000001000000000
probe_round,scenario=sync-fresh total_ms=130.5 1700000002000000000
probe_round,scenario=unknown total_ms=1.0 1700000002000000000
";
        let t = Timeline::from_line_protocol(text).expect("valid");
        assert_eq!(t.requests.len(), 1);
        assert_eq!(t.requests[0].time_ms, 1_700_000_000_123);
        assert_eq!(t.requests[0].target, "fast");
        assert_eq!(t.errors[0].count, 2);
        assert_eq!(t.rounds.len(), 1);
        assert_eq!(t.targets(), vec!["fast".to_string()]);
        assert_eq!(
            t.time_range_ms(),
            Some((1_700_000_000_123, 1_700_000_002_000))
        );
    }

    #[test]
    fn reads_influx_rows_with_their_time() {
        let body = r#"{"results":[
          {"statement_id":0,"series":[{"name":"probe_round","tags":{"scenario":"sync-fresh"},"columns":["time","total_ms"],"values":[[1000,130.0],[2000,132.0]]}]},
          {"statement_id":1,"series":[{"name":"http_request","tags":{"reused":"true","scenario":"async-reused","target":"fast"},"columns":["time","dns_ms","connect_ms","tls_ms","ttfb_ms","body_ms","total_ms"],"values":[[1500,null,null,null,20.5,0.1,20.7]]}]},
          {"statement_id":2,"series":[{"name":"http_error","tags":{"error_class":"timeout","scenario":"sync-fresh"},"columns":["time","count"],"values":[[1700,1]]}]}
        ]}"#;
        let t = Timeline::from_influx_response(body).expect("valid");
        assert_eq!(t.rounds.len(), 2);
        assert_eq!(t.rounds[1].time_ms, 2000);
        assert_eq!(t.requests[0].time_ms, 1500);
        assert_eq!(t.requests[0].scenario, Scenario::AsyncReused);
        assert_eq!(t.errors[0].class, "timeout");
        assert_eq!(t.time_range_ms(), Some((1000, 2000)));
    }
}
