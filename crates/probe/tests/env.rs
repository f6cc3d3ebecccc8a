//! Targets and options from the environment work like the flags.

mod common;

use common::{Bin, Run, backend, command, http, probe, run};

/// What a run did, without the timings: (measurement, target, status) per point.
fn shape(run: &Run) -> Vec<(String, Option<String>, Option<String>)> {
    run.points
        .iter()
        .filter(|p| p.measurement != "probe_sink")
        .map(|p| {
            (
                p.measurement.clone(),
                p.tag("target").map(str::to_owned),
                p.tag("status").map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn probe_targets_interval_rounds_and_sink_from_the_environment() {
    let b = backend("env", |_| {});
    let targets = [
        format!("a={}/delay/0", http(&b)),
        format!("b={}/status/204", http(&b)),
    ];
    for bin in [Bin::SyncFresh, Bin::AsyncReused] {
        let mut cmd = command(bin);
        cmd.env("PROBE_TARGETS", targets.join(","))
            .env("PROBE_INTERVAL", "150ms")
            .env("PROBE_ROUNDS", "2")
            .env("PROBE_SINK", "stdout");
        let from_env = run(cmd).success();
        assert!(
            from_env.stderr.contains(&format!(
                "{}: 2 targets, 2 rounds, interval 150ms",
                bin.name()
            )),
            "{}",
            from_env.stderr
        );
        let rounds = from_env.of("probe_round");
        assert_eq!(rounds.len(), 2, "{}", from_env.stdout);
        // The second round starts at least one interval after the first.
        assert!(
            rounds[1].timestamp - rounds[0].timestamp >= 150_000_000,
            "{rounds:?}"
        );

        let from_flags = probe(
            bin,
            &[
                "--interval",
                "150ms",
                "--rounds",
                "2",
                "--sink",
                "stdout",
                &targets[0],
                &targets[1],
            ],
        )
        .success();
        assert_eq!(shape(&from_env), shape(&from_flags), "{}", bin.name());
        assert_eq!(
            shape(&from_env)
                .iter()
                .filter(|(m, ..)| m == "http_request")
                .count(),
            4,
            "two targets, two rounds: {}",
            from_env.stdout
        );
    }
}

#[test]
fn flags_take_precedence_over_the_environment() {
    let b = backend("env", |_| {});
    let mut cmd = command(Bin::SyncReused);
    cmd.env("PROBE_TARGETS", "ignored=http://127.0.0.1:9/")
        .env("PROBE_ROUNDS", "5")
        .env("PROBE_SINK", "none")
        .args([
            "--rounds",
            "1",
            "--sink",
            "stdout",
            "--interval",
            "0s",
            &format!("flag={}/delay/0", http(&b)),
        ]);
    let run = run(cmd).success();
    let requests = run.of("http_request");
    assert_eq!(requests.len(), 1, "{}", run.stdout);
    assert_eq!(requests[0].tag("target"), Some("flag"));
    assert_eq!(run.of("probe_round").len(), 1);
}
