//! Latency model of the demo backend: what each cell of the table should cost.

use crate::scenario::Scenario;
use serde::Serialize;
use std::time::Duration;

/// A backend service with its emulated latency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Target name, e.g. `fast`.
    pub name: String,
    /// Mean service latency.
    pub latency: Duration,
    /// Jitter around the latency (not used by the prediction, which is for the median).
    pub jitter: Duration,
}

/// A `--model`/`--services` value that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    /// An entry is not `NAME=LATENCY[~JITTER]`.
    #[error(
        "invalid service '{0}': expected NAME=LATENCY[~JITTER], e.g. fast=20ms or fast=20ms~2ms"
    )]
    Entry(String),
    /// A duration cannot be read.
    #[error("invalid duration '{0}': expected e.g. 20ms, 1.5s, at most 365d")]
    Duration(String),
    /// The list has no entry.
    #[error("empty service list: expected NAME=LATENCY[,NAME=LATENCY...]")]
    Empty,
}

/// Parses a duration like `20ms` or `1s`.
pub fn parse_duration(text: &str) -> Result<Duration, ModelError> {
    humantime::parse_duration(text.trim())
        .ok()
        .filter(|d| *d <= crate::cli::MAX_DURATION)
        .ok_or_else(|| ModelError::Duration(text.to_string()))
}

/// Parses `fast=20ms~2ms,slow=40ms` (the demo backend's `--services` syntax).
pub fn parse_services(text: &str) -> Result<Vec<Service>, ModelError> {
    let services = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|entry| {
            let (name, timing) = entry
                .split_once('=')
                .filter(|(n, _)| !n.trim().is_empty())
                .ok_or_else(|| ModelError::Entry(entry.to_string()))?;
            let (latency, jitter) = timing.split_once('~').unwrap_or((timing, "0ms"));
            Ok(Service {
                name: name.trim().to_string(),
                latency: parse_duration(latency)?,
                jitter: parse_duration(jitter)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if services.is_empty() {
        return Err(ModelError::Empty);
    }
    Ok(services)
}

/// The backend's configuration, from which each cell is predicted.
///
/// A request costs `rtt + service latency`, plus `handshake_delay` when the
/// connection is fresh (a new TLS handshake on every request). Reused
/// connections pay the handshake only in the first round, so their median has
/// none. A sync round is the sum over targets, an async round the maximum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyModel {
    /// The targets of a round.
    pub services: Vec<Service>,
    /// Emulated network round trip, paid once per request.
    pub rtt: Duration,
    /// Extra delay of a TLS handshake.
    pub handshake_delay: Duration,
}

impl LatencyModel {
    /// Predicted cost of one request to `service`, in ms.
    pub fn request_ms(&self, service: &Service, fresh: bool) -> f64 {
        let handshake = if fresh {
            self.handshake_delay
        } else {
            Duration::ZERO
        };
        (self.rtt + service.latency + handshake).as_secs_f64() * 1000.0
    }

    /// Predicted median round time of a scenario, in ms.
    pub fn round_ms(&self, scenario: Scenario) -> f64 {
        let fresh = !scenario.is_reused();
        let costs = self.services.iter().map(|s| self.request_ms(s, fresh));
        if scenario.is_async() {
            costs.fold(0.0, f64::max)
        } else {
            costs.sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> LatencyModel {
        LatencyModel {
            services: parse_services("fast=20ms~2ms,slow=40ms").expect("valid"),
            rtt: Duration::from_millis(5),
            handshake_delay: Duration::from_millis(35),
        }
    }

    #[test]
    fn predicts_each_cell() {
        let m = demo();
        assert_eq!(m.round_ms(Scenario::SyncFresh), 60.0 + 80.0);
        assert_eq!(m.round_ms(Scenario::SyncReused), 25.0 + 45.0);
        assert_eq!(m.round_ms(Scenario::AsyncFresh), 80.0);
        assert_eq!(m.round_ms(Scenario::AsyncReused), 45.0);
    }

    #[test]
    fn parses_services() {
        let s = parse_services("fast=20ms~2ms, slow=1s").expect("valid");
        assert_eq!(s[0].jitter, Duration::from_millis(2));
        assert_eq!(s[1].name, "slow");
        assert_eq!(s[1].latency, Duration::from_secs(1));
    }

    #[test]
    fn rejects_bad_services() {
        assert_eq!(
            parse_services("fast"),
            Err(ModelError::Entry("fast".into()))
        );
        assert_eq!(
            parse_services("=20ms"),
            Err(ModelError::Entry("=20ms".into()))
        );
        assert_eq!(
            parse_services("fast=soon"),
            Err(ModelError::Duration("soon".into()))
        );
        assert_eq!(parse_services(""), Err(ModelError::Empty));
    }
}
