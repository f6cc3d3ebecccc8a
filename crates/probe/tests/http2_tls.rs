//! The probes against a real hyper HTTP/2 + rustls server: `http_version`,
//! one multiplexed connection per round in the reused probes, phases, and the
//! TLS facts (version, resumption, certificate expiry, remote address).

mod common;

#[path = "../../reqwest-timing/tests/common/h2.rs"]
mod h2;

use std::time::Duration;

// `h2` finds its certificate directory here.
use common::cert_dir;
use common::{Bin, Field, Point, Run, SLACK_MS, assert_phase, probe};
use h2::Setup;

const DAY: Duration = Duration::from_secs(86_400);

fn run_probe(bin: Bin, server: &h2::Server, http: &str, rounds: &str, paths: &[&str]) -> Run {
    let ca = server.ca_pem.to_str().expect("utf-8").to_owned();
    let targets: Vec<String> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| format!("t{i}={}", server.url(p)))
        .collect();
    let mut args = vec![
        "--rounds",
        rounds,
        "--interval",
        "0s",
        "--sink",
        "stdout",
        "--http",
        http,
        "--ca-cert",
        &ca,
    ];
    args.extend(targets.iter().map(String::as_str));
    probe(bin, &args).success()
}

fn new_ones(points: &[Point]) -> Vec<&Point> {
    points
        .iter()
        .filter(|p| p.tag("reused") == Some("false"))
        .collect()
}

#[test]
fn reused_probes_multiplex_each_round_over_one_h2_connection() {
    for (bin, http) in [
        (Bin::AsyncReused, "auto"),
        (Bin::AsyncReused, "2"),
        (Bin::SyncReused, "2"),
    ] {
        let server = h2::start(&format!("probe-{}-{http}", bin.name()), Setup::default());
        let run = run_probe(
            bin,
            &server,
            http,
            "3",
            &["/delay/5", "/delay/10", "/delay/15"],
        );
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        for (i, round) in rounds.iter().enumerate() {
            assert_eq!(round.requests.len(), 3);
            assert!(round.errors.is_empty(), "{:?}", round.errors);
            assert!(
                round
                    .requests
                    .iter()
                    .all(|p| p.tag("http_version") == Some("2")),
                "{}: {:?}",
                bin.name(),
                round.requests
            );
            let new = new_ones(&round.requests);
            assert_eq!(
                new.len(),
                usize::from(i == 0),
                "{}: round {i}: {new:?}",
                bin.name()
            );
        }
        let first = new_ones(&rounds[0].requests)[0];
        assert_eq!(first.tag("tls_version"), Some("1.3"));
        assert_eq!(first.tag("tls_resumed"), Some("false"));
        assert!(first.has("cert_expires_in_days"));
        assert!(first.has("remote_addr"));
        // HTTP/2 only: one connection for the warm-up's client and one for the
        // rounds'. With `auto` each concurrent request of a first round may
        // open its own before ALPN says h2 (hyper-util), and only one is kept.
        if http == "2" {
            assert_eq!(server.connections(), 2, "{}", bin.name());
        }
        assert!(
            rounds[1..]
                .iter()
                .flat_map(|r| &r.requests)
                .all(|p| p.tag("tls_version").is_none() && !p.has("remote_addr"))
        );
    }
}

/// The injected delays land in the right phase over HTTP/2 too.
#[test]
fn h2_phases_hold_the_injected_delays() {
    let server = h2::start("probe-phases", Setup::default());
    let run = run_probe(
        Bin::AsyncReused,
        &server,
        "2",
        "3",
        &["/delay/100", "/body-delay/100"],
    );
    let rounds = run.rounds();
    let ttfb: Vec<f64> = rounds
        .iter()
        .map(|r| r.request("t0").ms("ttfb_ms"))
        .collect();
    // Rounds after the first: in the first, t1's headers arrive while the runtime is still
    // busy with the new connection, so its header time (and with it body_ms) can read a
    // few ms late on a loaded machine; from then on the connection is idle between rounds.
    let body: Vec<f64> = rounds
        .iter()
        .skip(1)
        .map(|r| r.request("t1").ms("body_ms"))
        .collect();
    assert_phase("ttfb_ms", &ttfb, 100.0, SLACK_MS);
    assert_phase("body_ms", &body, 100.0, SLACK_MS);
}

/// Each request opens a new connection (the server closes them): the reused
/// probes resume TLS from the second one on, the fresh ones never do.
#[test]
fn tls_resumes_only_in_reused_probes_and_facts_come_with_new_connections() {
    let server = h2::start(
        "probe-resume",
        Setup {
            close_after_response: true,
            leaf_valid_for: 10 * DAY,
            ..Setup::default()
        },
    );
    for bin in Bin::ALL {
        let run = run_probe(bin, &server, "1.1", "4", &["/delay/0"]);
        let rounds = run.rounds();
        let requests: Vec<&Point> = rounds.iter().map(|r| r.request("t0")).collect();
        assert!(requests.iter().all(|p| p.tag("reused") == Some("false")));
        assert!(requests.iter().all(|p| p.tag("tls_version") == Some("1.3")));
        let resumed: Vec<bool> = requests
            .iter()
            .map(|p| p.tag("tls_resumed") == Some("true"))
            .collect();
        if bin.is_reused() {
            // The warm-up's client is another one: the first round does a full handshake.
            assert_eq!(resumed, [false, true, true, true], "{}", bin.name());
        } else {
            assert_eq!(resumed, [false; 4], "{}", bin.name());
        }
        for p in &requests {
            let full = p.tag("tls_resumed") == Some("false");
            assert_eq!(p.has("cert_expires_in_days"), full, "{}", bin.name());
            if full {
                let days = p.float("cert_expires_in_days").expect("days");
                assert!((days - 10.0).abs() < 0.01, "{days}");
            }
            let remote = match p.fields.get("remote_addr") {
                Some(Field::Other(text)) => text.clone(),
                other => panic!("remote_addr: {other:?}"),
            };
            assert!(remote.contains(&server.addr.to_string()), "{remote}");
        }
    }
}

#[test]
fn tls_version_follows_the_server() {
    let server = h2::start(
        "probe-tls12",
        Setup {
            tls12_only: true,
            ..Setup::default()
        },
    );
    let run = run_probe(Bin::SyncFresh, &server, "auto", "2", &["/delay/0"]);
    for round in run.rounds() {
        let p = round.request("t0");
        assert_eq!(p.tag("tls_version"), Some("1.2"));
        assert_eq!(p.tag("http_version"), Some("2"));
    }
}
