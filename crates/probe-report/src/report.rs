//! The computed table, in a machine-readable form (also printed as JSON).

use crate::model::LatencyModel;
use crate::samples::{Phase, Samples};
use crate::scenario::Scenario;
use crate::stats::{Summary, median_ms, summarize};
use serde::Serialize;
use std::collections::BTreeMap;

/// One cell of the 2x2 table: the round time of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// Which cell.
    pub scenario: Scenario,
    /// Round time statistics; `None` when the scenario has no rounds.
    pub round: Option<Summary>,
    /// Predicted median round time, when a model is given.
    pub model_ms: Option<f64>,
    /// Measured median / predicted median.
    pub ratio: Option<f64>,
}

/// Per-scenario breakdown of the requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseRow {
    /// Which scenario.
    pub scenario: Scenario,
    /// Median of each phase in ms (`None` when the step never happened), keyed by phase label.
    pub median_ms: BTreeMap<&'static str, Option<f64>>,
    /// Number of requests.
    pub requests: u64,
    /// Share of requests on a reused connection, in percent.
    pub reused_pct: Option<f64>,
    /// Error counts by class.
    pub errors: BTreeMap<String, u64>,
}

/// Everything the tables show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Number of targets per round.
    pub targets: usize,
    /// The four cells, in [`Scenario::ALL`] order.
    pub cells: Vec<Cell>,
    /// The four phase rows, in [`Scenario::ALL`] order.
    pub phases: Vec<PhaseRow>,
    /// The model used for predictions, if any.
    pub model: Option<LatencyModel>,
}

impl Report {
    /// Computes the report from samples and an optional latency model.
    pub fn new(samples: &Samples, model: Option<&LatencyModel>) -> Report {
        let cells = Scenario::ALL
            .into_iter()
            .map(|scenario| {
                let round = summarize(&samples.scenario(scenario).round_total_ms);
                let model_ms = model.map(|m| m.round_ms(scenario));
                let ratio = match (round, model_ms) {
                    (Some(r), Some(m)) if m > 0.0 => Some(r.p50_ms / m),
                    _ => None,
                };
                Cell {
                    scenario,
                    round,
                    model_ms,
                    ratio,
                }
            })
            .collect();
        let phases = Scenario::ALL
            .into_iter()
            .map(|scenario| {
                let s = samples.scenario(scenario);
                PhaseRow {
                    scenario,
                    median_ms: Phase::ALL
                        .into_iter()
                        .map(|p| (p.label(), median_ms(s.phase(p))))
                        .collect(),
                    requests: s.requests,
                    reused_pct: (s.requests > 0)
                        .then(|| 100.0 * s.reused_requests as f64 / s.requests as f64),
                    errors: s.errors.clone(),
                }
            })
            .collect();
        Report {
            targets: samples.target_count(),
            cells,
            phases,
            model: model.cloned(),
        }
    }

    /// The cell of one scenario.
    pub fn cell(&self, scenario: Scenario) -> &Cell {
        &self.cells[scenario.index()]
    }

    /// The median round time of one scenario, if measured.
    pub fn p50_ms(&self, scenario: Scenario) -> Option<f64> {
        self.cell(scenario).round.map(|r| r.p50_ms)
    }

    /// The phase row of one scenario.
    pub fn phase_row(&self, scenario: Scenario) -> &PhaseRow {
        &self.phases[scenario.index()]
    }
}
