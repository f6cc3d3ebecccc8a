//! End to end: `probe-demo --rounds 5` against the real demo backend and probes.
//!
//! Needs the four `probe-*` binaries, built with `cargo build --workspace --bins`;
//! found in `PROBE_BIN_DIR`, else in `target/debug`. Under `CI=true` a missing
//! binary fails the test; otherwise it is skipped ([`test_support::skip_or_fail`]).

use assert_cmd::Command;
use demo_backend::{DEFAULT_HANDSHAKE_DELAY, DEFAULT_RTT, DEFAULT_SERVICES, parse_duration};
use probe_report::model::parse_services;
use probe_report::{LatencyModel, Report, Scenario, parse_line_protocol};
use std::path::PathBuf;

/// Measured median / model prediction must lie in this range. The model counts
/// only the injected delays (service latency, handshake delay), so real TLS
/// and TCP work, debug builds and a shared CPU make rounds slower, never faster
/// (beyond the jitter of a few ms).
const RATIO_RANGE: std::ops::RangeInclusive<f64> = 0.9..=1.6;

fn bin_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PROBE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug"));
    let names: Vec<String> = Scenario::ALL
        .iter()
        .map(|s| s.binary().to_owned())
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !dir.join(n).is_file()).collect();
    if missing.is_empty() {
        return Some(dir);
    }
    let message = format!(
        "missing {missing:?} in {}; build them with `cargo build --workspace --bins` or set PROBE_BIN_DIR",
        dir.display()
    );
    test_support::skip_or_fail("probe-demo end-to-end test", &message);
    None
}

#[test]
fn demo_runs_end_to_end_and_shows_the_pattern() {
    let Some(dir) = bin_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let points = tmp.path().join("out/points.lp");
    let out = Command::cargo_bin("probe-demo")
        .expect("binary built")
        .args(["--rounds", "5", "--out"])
        .arg(&points)
        .arg("--bin-dir")
        .arg(&dir)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe-demo failed:\n{stderr}\n{stdout}"
    );
    assert!(
        stderr.contains("[4/4] async-reused round 5/5"),
        "progress:\n{stderr}"
    );
    assert!(stdout.contains("round time, 2 targets"), "{stdout}");
    // The example service's outbound calls, one line: both targets, every call answered.
    let app = stdout
        .lines()
        .find(|l| l.starts_with("example-app outbound (5 x /combined?mode=async"))
        .unwrap_or_else(|| panic!("no example-app line:\n{stdout}"));
    assert!(
        app.contains(" fast ttfb ") && app.contains("; slow ttfb "),
        "{app}"
    );
    assert_eq!(app.matches("(5 calls, ").count(), 2, "{app}");
    assert_eq!(app.matches(", 0 errors)").count(), 2, "{app}");
    assert!(
        stdout.contains(&format!("raw points: {}", points.display())),
        "{stdout}"
    );

    // Recompute the table from the raw points, as the binary does.
    let text = std::fs::read_to_string(&points).expect("points file");
    let samples = parse_line_protocol(&text).expect("valid line protocol");
    let model = LatencyModel {
        services: parse_services(DEFAULT_SERVICES).expect("valid"),
        rtt: parse_duration(DEFAULT_RTT).expect("valid"),
        handshake_delay: parse_duration(DEFAULT_HANDSHAKE_DELAY).expect("valid"),
    };
    let report = Report::new(&samples, Some(&model));
    let p50 = |s: Scenario| {
        report
            .p50_ms(s)
            .unwrap_or_else(|| panic!("no rounds for {s}"))
    };
    for scenario in Scenario::ALL {
        let cell = report.cell(scenario);
        assert_eq!(cell.round.map(|r| r.count), Some(5), "{scenario}");
        assert_eq!(report.phase_row(scenario).requests, 10, "{scenario}");
        let ratio = cell.ratio.expect("model given");
        assert!(
            RATIO_RANGE.contains(&ratio),
            "{scenario}: p50 {:.1} ms vs model {:.1} ms (ratio {ratio:.2}) outside {RATIO_RANGE:?}",
            p50(scenario),
            cell.model_ms.unwrap_or_default()
        );
    }
    use Scenario::*;
    assert!(p50(SyncFresh) > p50(SyncReused), "{stdout}");
    assert!(p50(SyncFresh) > p50(AsyncFresh), "{stdout}");
    for other in [SyncFresh, SyncReused, AsyncFresh] {
        assert!(
            p50(AsyncReused) < p50(other),
            "async-reused vs {other}:\n{stdout}"
        );
    }
    // Fresh connections never reuse; reused ones do after the first round.
    assert_eq!(report.phase_row(SyncFresh).reused_pct, Some(0.0));
    for reused in [SyncReused, AsyncReused] {
        assert!(
            report
                .phase_row(reused)
                .reused_pct
                .is_some_and(|p| p >= 50.0),
            "{reused:?} reuses its connections:\n{stdout}"
        );
    }
}

/// `--targets-file`: the probes also call the file's targets (here a second backend's
/// `fast` service, named `extra`), and the table shows no latency model.
#[test]
fn demo_probes_a_targets_file_too() {
    let Some(dir) = bin_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let extra = demo_backend::start_in_background(demo_backend::Config {
        https: None,
        cert_dir: tmp.path().join("extra-certs"),
        ..Default::default()
    })
    .expect("second backend");
    let file = tmp.path().join("targets.toml");
    std::fs::write(
        &file,
        format!(
            "[[target]]\nname = \"extra\"\nurl = \"{}/api/fast\"\n",
            extra.http_url().expect("http listener")
        ),
    )
    .expect("write the targets file");
    let points = tmp.path().join("out/points.lp");
    let out = Command::cargo_bin("probe-demo")
        .expect("binary built")
        .args(["--rounds", "2", "--out"])
        .arg(&points)
        .arg("--bin-dir")
        .arg(&dir)
        .arg("--targets-file")
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe-demo failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("model (ratio)"), "{stdout}");
    let text = std::fs::read_to_string(&points).expect("points");
    for scenario in Scenario::ALL {
        let tag = format!("scenario={}", scenario.as_str());
        assert!(
            text.lines().any(|l| l.starts_with("http_request,")
                && l.contains(&tag)
                && l.contains("target=extra")),
            "no http_request of target extra from {tag}:\n{text}"
        );
    }
}
