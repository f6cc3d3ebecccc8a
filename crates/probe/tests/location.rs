//! `--location`: a `location` tag on every point of every measurement, the
//! host name by default, and a refusal for a name points cannot carry.

mod common;

use common::{Bin, backend, closed_port, command, http, probe, run};

#[test]
fn every_point_of_every_measurement_carries_the_location() {
    let b = backend("location", |_| {});
    // One answering target and one refused: http_request and http_error points.
    let ok = format!("ok={}/health", http(&b));
    let refused = format!("refused=http://127.0.0.1:{}/", closed_port());
    for bin in Bin::ALL {
        let run = probe(
            bin,
            &[
                "--sink",
                "stdout",
                "--rounds",
                "2",
                "--interval",
                "0s",
                "--location",
                "eu-west-1",
                &ok,
                &refused,
            ],
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        for m in ["http_request", "http_error", "probe_round", "probe_sink"] {
            assert!(!run.of(m).is_empty(), "{}: no {m} points", bin.name());
        }
        for p in &run.points {
            assert_eq!(
                p.tag("location"),
                Some("eu-west-1"),
                "{}: {p:?}",
                bin.name()
            );
        }
    }
}

#[test]
fn the_location_defaults_to_the_host_name_and_comes_from_the_environment() {
    let b = backend("location", |_| {});
    let ok = format!("ok={}/health", http(&b));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("host name")
        .trim()
        .to_owned();
    let run_default = probe(
        Bin::AsyncReused,
        &["--sink", "stdout", "--rounds", "1", &ok],
    )
    .success();
    assert!(!run_default.points.is_empty());
    assert!(
        run_default
            .points
            .iter()
            .all(|p| p.tag("location") == Some(host.as_str())),
        "{}",
        run_default.stdout
    );
    let mut cmd = command(Bin::SyncFresh);
    cmd.env("PROBE_LOCATION", "lab")
        .args(["--sink", "stdout", "--rounds", "1", &ok]);
    let from_env = run(cmd).success();
    assert!(
        from_env
            .points
            .iter()
            .all(|p| p.tag("location") == Some("lab"))
    );
}

#[test]
fn an_empty_location_is_refused() {
    let out = command(Bin::AsyncFresh)
        .args(["--location", " ", "--sink", "none", "http://127.0.0.1:9/"])
        .output()
        .expect("run probe");
    test_support::assert_usage_error(&out, "--location", "expected a name");
}
