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

impl From<demo_backend::Service> for Service {
    fn from(s: demo_backend::Service) -> Self {
        Service {
            name: s.name,
            latency: s.latency,
            jitter: s.jitter,
        }
    }
}

/// A `--model` value that cannot be read (the message names it and the expected form).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(transparent)]
pub struct ModelError(#[from] demo_backend::ParseError);

/// Parses `fast=20ms~2ms,slow=40ms`, the demo backend's `--services` syntax, with
/// the backend's own parser.
pub fn parse_services(text: &str) -> Result<Vec<Service>, ModelError> {
    Ok(demo_backend::parse_services(text)?
        .into_iter()
        .map(Service::from)
        .collect())
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
        for bad in ["fast", "=20ms", "fast=soon", ""] {
            let err = parse_services(bad).expect_err(bad).to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
            assert!(err.contains("expected NAME=LATENCY"), "{err}");
        }
    }
}
