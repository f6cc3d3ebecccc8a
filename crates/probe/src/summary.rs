//! The machine-readable end of a run (`--summary-json PATH`): one JSON
//! object with the counts of the human `done:` log line, for scripts and
//! tests that must not parse log text.

use std::path::Path;

use probe_metrics::SinkStats;
use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

/// What one probe run did, written at exit.
///
/// ```json
/// {"probe":"probe-sync-fresh","rounds":3,"requests":6,"errors":0,
///  "http_request":6,"http_error":0,"probe_round":3,"probe_sink":3,
///  "sink":"stdout","sent":12,"dropped":0,"resent":0}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The probe binary, e.g. `probe-sync-fresh`.
    pub probe: String,
    /// Rounds, requests, errors and points made.
    #[serde(flatten)]
    pub counts: Counts,
    /// The sink kind: `telegraf-udp`, `telegraf-tcp`, `influxdb`, `stdout`, `none`.
    pub sink: String,
    /// Points the sink delivered (see `probe_metrics::SinkStats::sent`).
    pub sent: u64,
    /// Points the sink lost.
    pub dropped: u64,
    /// Points the sink wrote a second time after a lost connection.
    pub resent: u64,
}

/// Rounds, requests and the points handed to the sink, per measurement.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Rounds completed.
    pub rounds: u64,
    /// Requests made.
    pub requests: u64,
    /// Requests that failed or whose response was not as expected.
    pub errors: u64,
    /// `http_request` points.
    pub http_request: u64,
    /// `http_error` points.
    pub http_error: u64,
    /// `probe_round` points.
    pub probe_round: u64,
    /// `probe_sink` points.
    pub probe_sink: u64,
}

/// The summary file cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// Reading or writing the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a summary.
    #[error("{path}: not a probe summary: {source}")]
    Json {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl Summary {
    pub(crate) fn new(scenario: Scenario, c: Counts, sink: &str, stats: SinkStats) -> Self {
        Self {
            probe: scenario.binary().to_owned(),
            counts: c,
            sink: sink.to_owned(),
            sent: stats.sent,
            dropped: stats.dropped,
            resent: stats.resent,
        }
    }

    /// Points made of `measurement`, or `None` for a name the probes do not write.
    pub fn points(&self, measurement: &str) -> Option<u64> {
        let c = &self.counts;
        match measurement {
            "http_request" => Some(c.http_request),
            "http_error" => Some(c.http_error),
            "probe_round" => Some(c.probe_round),
            "probe_sink" => Some(c.probe_sink),
            _ => None,
        }
    }

    /// Writes the summary as one line of JSON.
    pub fn write(&self, path: &Path) -> Result<(), SummaryError> {
        let io = |source| SummaryError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut text = serde_json::to_string(self).map_err(|source| SummaryError::Json {
            path: path.display().to_string(),
            source,
        })?;
        text.push('\n');
        std::fs::write(path, text).map_err(io)
    }

    /// Reads a summary written by [`Summary::write`].
    pub fn read(path: &Path) -> Result<Self, SummaryError> {
        let text = std::fs::read_to_string(path).map_err(|source| SummaryError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| SummaryError::Json {
            path: path.display().to_string(),
            source,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_the_documented_flat_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let counts = Counts {
            rounds: 3,
            requests: 6,
            errors: 0,
            http_request: 6,
            http_error: 0,
            probe_round: 3,
            probe_sink: 3,
        };
        let stats = SinkStats {
            sent: 12,
            ..SinkStats::default()
        };
        let summary = Summary::new(Scenario::SyncFresh, counts, "stdout", stats);
        summary.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"probe":"probe-sync-fresh","rounds":3,"requests":6,"errors":0,"#,
                r#""http_request":6,"http_error":0,"probe_round":3,"probe_sink":3,"#,
                r#""sink":"stdout","sent":12,"dropped":0,"resent":0}"#,
                "\n"
            )
        );
        assert_eq!(Summary::read(&path).unwrap(), summary);
        assert_eq!(summary.points("probe_round"), Some(3));
        assert_eq!(summary.points("nope"), None);
    }
}
