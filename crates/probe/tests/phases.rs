//! Each phase of `http_request` moves with the delay injected into it, and
//! only the phases that happened are present.

mod common;

use std::time::Duration;

use common::{
    Bin, Point, ROUNDING_MS, SLACK_MS, TLS_SLACK_MS, assert_phase, assert_within, backend, ca,
    http, http_localhost, https, probe, stdout_rounds,
};

const NAME: &str = "phases";

/// Connection setup outside the timed steps (connector overhead, pool
/// checkout) may make the total exceed the sum of the phases by this much (ms).
const SETUP_GAP_MS: f64 = 50.0;

/// A phase with nothing injected stays below this (ms) in the best round.
const NEAR_ZERO_MS: f64 = 30.0;

/// How much earlier than injected a body may seem to end (ms), see below.
const BODY_EARLY_MS: f64 = 15.0;

/// Rounds per run: enough for one round undisturbed by the loaded machine.
const ROUNDS: &str = "3";

fn samples(points: &[&Point], field: &str) -> Vec<f64> {
    points.iter().map(|p| p.ms(field)).collect()
}

#[test]
fn tls_ms_covers_the_handshake_delay_on_every_new_https_connection() {
    let b = backend(NAME, |c| c.handshake_delay = Duration::from_millis(60));
    let target = format!("a={}/delay/0", https(&b));
    for bin in [Bin::SyncFresh, Bin::AsyncFresh] {
        let run = stdout_rounds(bin, ROUNDS, "0s", &["--ca-cert", &ca(&b), &target]);
        let requests = run.of("http_request");
        assert_eq!(requests.len(), 3, "{}", run.stdout);
        assert!(
            requests.iter().all(|p| p.tag("reused") == Some("false")),
            "{}",
            run.stdout
        );
        // Injected 60 ms: never below it, the best round within [60, 60 + TLS_SLACK_MS].
        assert_phase("tls_ms", &samples(&requests, "tls_ms"), 60.0, TLS_SLACK_MS);
        // The handshake delay belongs to TLS, not to the first byte.
        assert_phase("ttfb_ms", &samples(&requests, "ttfb_ms"), 0.0, NEAR_ZERO_MS);
    }
}

#[test]
fn ttfb_ms_covers_rtt_and_the_route_wait() {
    let b = backend(NAME, |c| {
        c.rtt = Duration::from_millis(30);
        c.services = vec!["svc=50ms".parse().expect("service")];
    });
    let delay = format!("delay={}/delay/40", http(&b));
    let service = format!("svc={}/api/svc", http(&b));
    let run = stdout_rounds(Bin::SyncReused, ROUNDS, "0s", &[&delay, &service]);
    let of = |target: &str| -> Vec<f64> {
        run.rounds()
            .iter()
            .map(|r| r.request(target).ms("ttfb_ms"))
            .collect()
    };
    // rtt 30 ms + route 40 ms: never below it, the best round within [70, 70 + SLACK_MS].
    assert_phase("ttfb_ms of /delay/40", &of("delay"), 70.0, SLACK_MS);
    // rtt 30 ms + service 50 ms (no jitter): never below it, the best round within [80, 80 + SLACK_MS].
    assert_phase("ttfb_ms of /api/svc", &of("svc"), 80.0, SLACK_MS);
    assert_phase(
        "body_ms",
        &samples(&run.of("http_request"), "body_ms"),
        0.0,
        NEAR_ZERO_MS,
    );
}

#[test]
fn body_ms_covers_the_pauses_between_body_chunks() {
    let b = backend(NAME, |_| {});
    // Four chunks, the first with the headers, then three 30 ms pauses.
    let drip = format!("drip={}/drip?chunks=4&interval_ms=30", http(&b));
    for bin in [Bin::SyncReused, Bin::AsyncReused] {
        let run = stdout_rounds(bin, ROUNDS, "0s", &[&drip]);
        let requests = run.of("http_request");
        assert_eq!(requests.len(), 3, "{}", run.stdout);
        // Injected 90 ms. The body phase starts when the client sees the
        // headers, which a descheduled client sees late, so it may fall short
        // by BODY_EARLY_MS: never below 90 - BODY_EARLY_MS, the best round
        // within [90 - BODY_EARLY_MS, 90 + SLACK_MS].
        assert_phase(
            "body_ms",
            &samples(&requests, "body_ms"),
            90.0 - BODY_EARLY_MS,
            SLACK_MS + BODY_EARLY_MS,
        );
        assert_phase("ttfb_ms", &samples(&requests, "ttfb_ms"), 0.0, NEAR_ZERO_MS);
        for p in requests {
            assert_eq!(
                p.int("body_bytes"),
                Some(4 * demo_backend::DRIP_CHUNK_BYTES as i64)
            );
        }
    }
}

#[test]
fn total_ms_is_the_sum_of_the_phases() {
    let b = backend(NAME, |c| c.handshake_delay = Duration::from_millis(30));
    let targets = [
        format!("tls={}/delay/30", https(&b)),
        format!("drip={}/drip?chunks=2&interval_ms=30", http(&b)),
    ];
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
                "--ca-cert",
                &ca(&b),
                &targets[0],
                &targets[1],
            ],
        )
        .success();
        let requests = run.of("http_request");
        assert_eq!(requests.len(), 4, "{}", run.stdout);
        for p in requests {
            let phases = ["dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "body_ms"];
            let sum: f64 = phases.iter().filter_map(|k| p.float(k)).sum();
            let total = p.ms("total_ms");
            if p.tag("reused") == Some("true") {
                // No setup: first byte and body are the whole request.
                assert_within(
                    &format!("{} total_ms - sum of phases", bin.name()),
                    total - sum,
                    -ROUNDING_MS,
                    ROUNDING_MS,
                );
            } else {
                // The phases never overlap; only untimed setup overhead is missing.
                assert_within(
                    &format!("{} total_ms - sum of phases", bin.name()),
                    total - sum,
                    -ROUNDING_MS,
                    SETUP_GAP_MS,
                );
            }
        }
    }
}

#[test]
fn plain_http_has_no_tls_ms_and_an_ip_literal_has_no_dns() {
    let b = backend(NAME, |_| {});
    let tls = format!("tls={}/delay/0", https(&b));
    let ip = format!("ip={}/delay/0", http(&b));
    let name = format!("name={}/delay/0", http_localhost(&b));
    for bin in [Bin::SyncFresh, Bin::AsyncFresh] {
        let run = stdout_rounds(bin, "2", "0s", &["--ca-cert", &ca(&b), &tls, &ip, &name]);
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 2);
        for round in rounds {
            let p = round.request("tls");
            assert!(p.has("tls_ms") && p.has("connect_ms"), "{p:?}");
            assert_eq!(
                (p.tag("dns"), p.has("dns_ms")),
                (Some("lookup"), true),
                "{p:?}"
            );

            let p = round.request("ip");
            assert!(!p.has("tls_ms") && p.has("connect_ms"), "{p:?}");
            assert_eq!(
                (p.tag("dns"), p.has("dns_ms")),
                (Some("none"), false),
                "{p:?}"
            );

            // Fresh mode looks the name up again for every connection.
            let p = round.request("name");
            assert!(!p.has("tls_ms") && p.has("connect_ms"), "{p:?}");
            assert_eq!(
                (p.tag("dns"), p.has("dns_ms")),
                (Some("lookup"), true),
                "{p:?}"
            );
        }
    }
}

#[test]
fn reused_mode_answers_a_new_connection_to_a_resolved_host_from_the_dns_cache() {
    let b = backend(NAME, |_| {});
    // Same host, two ports: two connections, one lookup.
    let first = format!("first={}/delay/0", https(&b));
    let second = format!("second={}/delay/0", http_localhost(&b));
    let run = probe(
        Bin::SyncReused,
        // 100 ms between rounds: the connections are back in the pool (see reuse.rs).
        &[
            "--sink",
            "stdout",
            "--rounds",
            "2",
            "--interval",
            "100ms",
            "--ca-cert",
            &ca(&b),
            &first,
            &second,
        ],
    )
    .success();
    let rounds = run.rounds();
    assert_eq!(rounds.len(), 2);
    let p = rounds[0].request("first");
    assert_eq!(
        (p.tag("reused"), p.tag("dns"), p.has("dns_ms")),
        (Some("false"), Some("lookup"), true),
        "{p:?}"
    );
    let p = rounds[0].request("second");
    assert_eq!(
        (p.tag("reused"), p.tag("dns"), p.has("dns_ms")),
        (Some("false"), Some("cached"), true),
        "{p:?}"
    );
    assert!(p.has("connect_ms"), "{p:?}");
    for name in ["first", "second"] {
        let p = rounds[1].request(name);
        assert_eq!(
            (p.tag("reused"), p.tag("dns"), p.has("dns_ms")),
            (Some("true"), Some("none"), false),
            "{p:?}"
        );
    }
}
