//! Raw samples per scenario, filled from line protocol or from InfluxDB.

use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A timed phase of one HTTP request (a float field of `http_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// DNS lookup.
    Dns,
    /// TCP connect.
    Connect,
    /// TLS handshake.
    Tls,
    /// Time to first byte.
    Ttfb,
    /// Body transfer.
    Body,
    /// Whole request.
    Total,
}

impl Phase {
    /// All phases, in table order.
    pub const ALL: [Phase; 6] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Ttfb,
        Phase::Body,
        Phase::Total,
    ];

    /// The `http_request` field name, e.g. `ttfb_ms`.
    pub fn field(self) -> &'static str {
        match self {
            Phase::Dns => "dns_ms",
            Phase::Connect => "connect_ms",
            Phase::Tls => "tls_ms",
            Phase::Ttfb => "ttfb_ms",
            Phase::Body => "body_ms",
            Phase::Total => "total_ms",
        }
    }

    /// Short column name, e.g. `ttfb`.
    pub fn label(self) -> &'static str {
        self.field().trim_end_matches("_ms")
    }
}

/// One `http_request` point, reduced to what the report uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestSample {
    /// The `target` tag.
    pub target: Option<String>,
    /// The `reused` tag (`None` when absent or not a boolean).
    pub reused: Option<bool>,
    /// Phase durations in ms, in [`Phase::ALL`] order; `None` when the step did not happen.
    pub phases_ms: [Option<f64>; 6],
}

/// Everything collected for one scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioSamples {
    /// `probe_round.total_ms`, one per round.
    pub round_total_ms: Vec<f64>,
    /// Per phase, in [`Phase::ALL`] order: the values of that field over all requests.
    pub phase_ms: [Vec<f64>; 6],
    /// Number of `http_request` points.
    pub requests: u64,
    /// Number of `http_request` points tagged `reused=true`.
    pub reused_requests: u64,
    /// `http_error` counts by `error_class`.
    pub errors: BTreeMap<String, u64>,
    /// Distinct `target` tags seen.
    pub targets: BTreeSet<String>,
}

impl ScenarioSamples {
    /// Values recorded for one phase.
    pub fn phase(&self, phase: Phase) -> &[f64] {
        &self.phase_ms[phase as usize]
    }

    /// Total error count over all classes.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// True when nothing at all was recorded.
    pub fn is_empty(&self) -> bool {
        self.round_total_ms.is_empty() && self.requests == 0 && self.errors.is_empty()
    }
}

/// Samples for all four scenarios.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    scenarios: [ScenarioSamples; 4],
}

impl Samples {
    /// The samples of one scenario.
    pub fn scenario(&self, scenario: Scenario) -> &ScenarioSamples {
        &self.scenarios[scenario.index()]
    }

    /// True when no scenario has any data.
    pub fn is_empty(&self) -> bool {
        self.scenarios.iter().all(ScenarioSamples::is_empty)
    }

    /// Records one `probe_round.total_ms`.
    pub fn add_round(&mut self, scenario: Scenario, total_ms: f64) {
        if total_ms.is_finite() {
            self.scenarios[scenario.index()]
                .round_total_ms
                .push(total_ms);
        }
    }

    /// Records one `http_request` point.
    pub fn add_request(&mut self, scenario: Scenario, request: &RequestSample) {
        let s = &mut self.scenarios[scenario.index()];
        s.requests += 1;
        if request.reused == Some(true) {
            s.reused_requests += 1;
        }
        if let Some(target) = &request.target {
            s.targets.insert(target.clone());
        }
        for (values, value) in s.phase_ms.iter_mut().zip(request.phases_ms) {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                values.push(v);
            }
        }
    }

    /// Records `count` errors of one class.
    pub fn add_errors(&mut self, scenario: Scenario, error_class: &str, count: u64) {
        *self.scenarios[scenario.index()]
            .errors
            .entry(error_class.to_string())
            .or_default() += count;
    }

    /// Number of distinct targets, the largest over scenarios.
    pub fn target_count(&self) -> usize {
        self.scenarios
            .iter()
            .map(|s| s.targets.len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_fills_phases_and_reuse() {
        let mut samples = Samples::default();
        assert!(samples.is_empty());
        let mut req = RequestSample {
            target: Some("fast".into()),
            reused: Some(true),
            ..Default::default()
        };
        req.phases_ms[Phase::Ttfb as usize] = Some(21.5);
        req.phases_ms[Phase::Total as usize] = Some(22.0);
        samples.add_request(Scenario::SyncReused, &req);
        samples.add_errors(Scenario::SyncReused, "timeout", 2);
        let s = samples.scenario(Scenario::SyncReused);
        assert_eq!(s.requests, 1);
        assert_eq!(s.reused_requests, 1);
        assert_eq!(s.phase(Phase::Ttfb), &[21.5]);
        assert!(s.phase(Phase::Tls).is_empty());
        assert_eq!(s.error_count(), 2);
        assert_eq!(samples.target_count(), 1);
        assert!(!samples.is_empty());
        assert_eq!(Phase::Ttfb.label(), "ttfb");
    }
}
