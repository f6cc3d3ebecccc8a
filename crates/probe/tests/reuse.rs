//! The `reused` tag round by round in the four probes, and which setup
//! phases are present with it.

mod common;

use common::{Bin, Point, backend, ca, http, https, stdout_rounds};

const NAME: &str = "reuse";
const ROUNDS: usize = 3;

/// The pool gets a connection back only after the client's runtime has seen
/// the response end; a request sent at once may open a new one instead (and
/// be reported so, rightly). A pause between rounds lets the pool catch up.
const INTERVAL: &str = "100ms";

fn assert_new_connection(bin: Bin, round: usize, p: &Point) {
    assert_eq!(
        p.tag("reused"),
        Some("false"),
        "{} round {round}: {p:?}",
        bin.name()
    );
    assert!(p.has("connect_ms"), "{} round {round}: {p:?}", bin.name());
}

fn assert_reused_connection(bin: Bin, round: usize, p: &Point) {
    assert_eq!(
        p.tag("reused"),
        Some("true"),
        "{} round {round}: {p:?}",
        bin.name()
    );
    assert_eq!(
        p.tag("dns"),
        Some("none"),
        "{} round {round}: {p:?}",
        bin.name()
    );
    for setup in ["dns_ms", "connect_ms", "tls_ms"] {
        assert!(
            !p.has(setup),
            "{} round {round}: reused request has {setup}: {p:?}",
            bin.name()
        );
    }
}

/// Two targets on two hosts (localhost over HTTPS, 127.0.0.1 over HTTP), so
/// each has a connection of its own.
fn two_hosts(b: &demo_backend::Running) -> [String; 2] {
    [
        format!("tls={}/api/fast", https(b)),
        format!("plain={}/delay/10", http(b)),
    ]
}

#[test]
fn fresh_probes_open_a_new_connection_for_every_request_of_every_round() {
    let b = backend(NAME, |_| {});
    let [tls, plain] = two_hosts(&b);
    let rounds = ROUNDS.to_string();
    for bin in [Bin::SyncFresh, Bin::AsyncFresh] {
        let run = stdout_rounds(
            bin,
            &rounds,
            INTERVAL,
            &["--ca-cert", &ca(&b), &tls, &plain],
        );
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
        let run = stdout_rounds(
            bin,
            &rounds,
            INTERVAL,
            &["--ca-cert", &ca(&b), &tls, &plain],
        );
        let rounds = run.rounds();
        assert_eq!(rounds.len(), ROUNDS, "{}", run.stdout);
        let first = rounds[0].request("tls");
        assert_new_connection(bin, 1, first);
        assert!(
            first.has("tls_ms") && first.tag("dns") == Some("lookup"),
            "{first:?}"
        );
        assert_new_connection(bin, 1, rounds[0].request("plain"));
        for (i, round) in rounds.iter().enumerate().skip(1) {
            assert_reused_connection(bin, i + 1, round.request("tls"));
            assert_reused_connection(bin, i + 1, round.request("plain"));
        }
    }
}

/// Two targets on one host: the async probe sends them at once, so round 1
/// needs two connections; later rounds ride on them.
#[test]
fn async_reused_opens_a_connection_per_concurrent_request_to_one_host() {
    // The 60 ms wait keeps the first request busy while the second connects.
    let b = backend(NAME, |_| {});
    let one = format!("one={}/delay/60", http(&b));
    let two = format!("two={}/delay/60", http(&b));
    let rounds = ROUNDS.to_string();
    let before = b.stats().http_connections;
    let run = stdout_rounds(Bin::AsyncReused, &rounds, INTERVAL, &[&one, &two]);
    let r = run.rounds();
    assert_eq!(r.len(), ROUNDS);
    assert_new_connection(Bin::AsyncReused, 1, r[0].request("one"));
    assert_new_connection(Bin::AsyncReused, 1, r[0].request("two"));
    for (i, round) in r.iter().enumerate().skip(1) {
        assert_reused_connection(Bin::AsyncReused, i + 1, round.request("one"));
        assert_reused_connection(Bin::AsyncReused, i + 1, round.request("two"));
    }
    // The unreported warm-up opens two more.
    assert_eq!(
        b.stats().http_connections - before,
        4,
        "server-side connections of async-reused"
    );
}

/// Two targets on one host in the sync probe: one after the other, so the
/// second may ride on the first one's connection. Whether it does depends on
/// the pool race above; what must hold is that every `reused=false` is a
/// connection the server really accepted, and that reuse happens.
#[test]
fn sync_reused_reports_only_real_new_connections_to_one_host() {
    let b = backend(NAME, |_| {});
    let one = format!("one={}/delay/20", http(&b));
    let two = format!("two={}/delay/20", http(&b));
    let rounds = ROUNDS.to_string();
    let before = b.stats().http_connections;
    let run = stdout_rounds(Bin::SyncReused, &rounds, INTERVAL, &[&one, &two]);
    let r = run.rounds();
    assert_eq!(r.len(), ROUNDS);
    assert_new_connection(Bin::SyncReused, 1, r[0].request("one"));
    let requests: Vec<&Point> = r.iter().flat_map(|round| &round.requests).collect();
    for (i, p) in requests.iter().enumerate() {
        if p.tag("reused") == Some("true") {
            assert_reused_connection(Bin::SyncReused, i / 2 + 1, p);
        } else {
            assert_new_connection(Bin::SyncReused, i / 2 + 1, p);
        }
    }
    let new = requests
        .iter()
        .filter(|p| p.tag("reused") == Some("false"))
        .count() as u64;
    assert!(
        new < requests.len() as u64,
        "no reuse at all:\n{}",
        run.stdout
    );
    // The warm-up opened at least one connection of its own.
    let accepted = b.stats().http_connections - before;
    assert!(
        new < accepted,
        "{new} new connections reported, {accepted} accepted (warm-up included)"
    );
}
