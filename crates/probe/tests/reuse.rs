//! The `reused` tag round by round in the four probes, and which setup
//! phases are present with it.

mod common;

use common::{Bin, Point, backend, ca, http, https, probe};

const NAME: &str = "reuse";
const ROUNDS: usize = 3;

fn assert_new_connection(bin: Bin, round: usize, p: &Point) {
    assert_eq!(p.tag("reused"), Some("false"), "{} round {round}: {p:?}", bin.name());
    assert!(p.has("connect_ms"), "{} round {round}: {p:?}", bin.name());
}

fn assert_reused_connection(bin: Bin, round: usize, p: &Point) {
    assert_eq!(p.tag("reused"), Some("true"), "{} round {round}: {p:?}", bin.name());
    assert_eq!(p.tag("dns"), Some("none"), "{} round {round}: {p:?}", bin.name());
    for setup in ["dns_ms", "connect_ms", "tls_ms"] {
        assert!(!p.has(setup), "{} round {round}: reused request has {setup}: {p:?}", bin.name());
    }
}

/// Two targets on two hosts (localhost over HTTPS, 127.0.0.1 over HTTP), so
/// each has a connection of its own.
fn two_hosts(b: &demo_backend::Running) -> [String; 2] {
    [format!("tls={}/api/fast", https(b)), format!("plain={}/delay/10", http(b))]
}

#[test]
fn fresh_probes_open_a_new_connection_for_every_request_of_every_round() {
    let b = backend(NAME, |_| {});
    let [tls, plain] = two_hosts(&b);
    let rounds = ROUNDS.to_string();
    for bin in [Bin::SyncFresh, Bin::AsyncFresh] {
        let run = probe(bin, &["--sink", "stdout", "--rounds", &rounds, "--interval", "0s", "--ca-cert", &ca(&b), &tls, &plain])
            .success();
        let rounds = run.rounds();
        assert_eq!(rounds.len(), ROUNDS, "{}", run.stdout);
        for (i, round) in rounds.iter().enumerate() {
            let p = round.request("tls");
            assert_new_connection(bin, i + 1, p);
            assert!(p.has("tls_ms") && p.tag("dns") == Some("lookup"), "{p:?}");
            let p = round.request("plain");
            assert_new_connection(bin, i + 1, p);
            assert_eq!(p.tag("dns"), Some("none"), "{p:?}");
        }
    }
}

#[test]
fn reused_probes_open_one_connection_per_host_then_ride_on_it() {
    let b = backend(NAME, |_| {});
    let [tls, plain] = two_hosts(&b);
    let rounds = ROUNDS.to_string();
    for bin in [Bin::SyncReused, Bin::AsyncReused] {
        let run = probe(bin, &["--sink", "stdout", "--rounds", &rounds, "--interval", "0s", "--ca-cert", &ca(&b), &tls, &plain])
            .success();
        let rounds = run.rounds();
        assert_eq!(rounds.len(), ROUNDS, "{}", run.stdout);
        let first = rounds[0].request("tls");
        assert_new_connection(bin, 1, first);
        assert!(first.has("tls_ms") && first.tag("dns") == Some("lookup"), "{first:?}");
        assert_new_connection(bin, 1, rounds[0].request("plain"));
        for (i, round) in rounds.iter().enumerate().skip(1) {
            assert_reused_connection(bin, i + 1, round.request("tls"));
            assert_reused_connection(bin, i + 1, round.request("plain"));
        }
    }
}

/// Two targets on one host: the sync probe sends them one after another over
/// one connection; the async probe sends them at once, so round 1 needs two.
#[test]
fn same_host_targets_share_a_connection_in_sync_but_not_in_async() {
    // The 60 ms wait keeps the first request busy while the second connects.
    let b = backend(NAME, |_| {});
    let one = format!("one={}/delay/60", http(&b));
    let two = format!("two={}/delay/60", http(&b));
    let rounds = ROUNDS.to_string();

    let before = b.stats().http_connections;
    let run = probe(Bin::SyncReused, &["--sink", "stdout", "--rounds", &rounds, "--interval", "0s", &one, &two]).success();
    let r = run.rounds();
    assert_new_connection(Bin::SyncReused, 1, r[0].request("one"));
    assert_reused_connection(Bin::SyncReused, 1, r[0].request("two"));
    for (i, round) in r.iter().enumerate().skip(1) {
        assert_reused_connection(Bin::SyncReused, i + 1, round.request("one"));
        assert_reused_connection(Bin::SyncReused, i + 1, round.request("two"));
    }
    // The unreported warm-up round opens one more.
    assert_eq!(b.stats().http_connections - before, 2, "server-side connections of sync-reused");

    let before = b.stats().http_connections;
    let run = probe(Bin::AsyncReused, &["--sink", "stdout", "--rounds", &rounds, "--interval", "0s", &one, &two]).success();
    let r = run.rounds();
    assert_new_connection(Bin::AsyncReused, 1, r[0].request("one"));
    assert_new_connection(Bin::AsyncReused, 1, r[0].request("two"));
    for (i, round) in r.iter().enumerate().skip(1) {
        assert_reused_connection(Bin::AsyncReused, i + 1, round.request("one"));
        assert_reused_connection(Bin::AsyncReused, i + 1, round.request("two"));
    }
    // Warm-up two, round 1 two, then none.
    assert_eq!(b.stats().http_connections - before, 4, "server-side connections of async-reused");
}
