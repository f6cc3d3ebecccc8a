//! Snapshot tests of the rendered tables on fixed inputs.

use probe_report::model::parse_services;
use probe_report::samples::RequestSample;
use probe_report::{LatencyModel, Phase, Report, Samples, Scenario, render};
use std::time::Duration;

/// Deterministic samples: round times `base + i` for i in 0..10, two targets,
/// fresh requests with a TLS step, reused ones without (but the first round).
fn samples() -> Samples {
    let mut samples = Samples::default();
    let bases = [
        (Scenario::SyncFresh, 130.0),
        (Scenario::SyncReused, 60.0),
        (Scenario::AsyncFresh, 75.0),
        (Scenario::AsyncReused, 40.0),
    ];
    for (scenario, base) in bases {
        for i in 0..10 {
            samples.add_round(scenario, base + f64::from(i));
            for (target, service_ms) in [("fast", 20.0), ("slow", 40.0)] {
                let handshake = !scenario.is_reused() || i == 0;
                let mut request = RequestSample {
                    target: Some(target.into()),
                    reused: Some(!handshake),
                    ..Default::default()
                };
                let tls_ms = handshake.then_some(35.5);
                request.phases_ms[Phase::Dns as usize] = handshake.then_some(0.25);
                request.phases_ms[Phase::Connect as usize] = handshake.then_some(0.4);
                request.phases_ms[Phase::Tls as usize] = tls_ms;
                request.phases_ms[Phase::Ttfb as usize] = Some(service_ms + 0.5);
                request.phases_ms[Phase::Body as usize] = Some(0.1);
                request.phases_ms[Phase::Total as usize] =
                    Some(service_ms + 1.0 + tls_ms.unwrap_or(0.0));
                samples.add_request(scenario, &request);
            }
        }
    }
    samples.add_errors(Scenario::AsyncFresh, "timeout", 2);
    samples.add_errors(Scenario::AsyncFresh, "http_5xx", 1);
    samples
}

fn model() -> LatencyModel {
    LatencyModel {
        services: parse_services("fast=20ms~2ms,slow=40ms~3ms").expect("valid"),
        rtt: Duration::ZERO,
        handshake_delay: Duration::from_millis(35),
    }
}

#[test]
fn table_with_model() {
    let text = render(&Report::new(&samples(), Some(&model())));
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "over 80 columns:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn table_without_model() {
    let text = render(&Report::new(&samples(), None));
    assert!(!text.contains("model"));
    insta::assert_snapshot!(text);
}

#[test]
fn table_with_missing_scenarios() {
    let mut samples = Samples::default();
    samples.add_round(Scenario::SyncFresh, 150.0);
    samples.add_errors(Scenario::AsyncReused, "connect", 4);
    insta::assert_snapshot!(render(&Report::new(&samples, Some(&model()))));
}

#[test]
fn report_serializes_to_json() {
    let report = Report::new(&samples(), Some(&model()));
    let json = serde_json::to_value(&report).expect("serializable");
    assert_eq!(json["cells"][0]["scenario"], "sync-fresh");
    assert_eq!(json["cells"][3]["model_ms"], 40.0);
    assert_eq!(json["phases"][1]["reused_pct"], 90.0);
    assert_eq!(json["phases"][2]["errors"]["timeout"], 2);
    assert_eq!(json["targets"], 2);
}
