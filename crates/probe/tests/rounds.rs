//! `probe_round.total_ms`: the sum of the round's requests in the sync
//! probes, the slowest of them in the async probes.

mod common;

use common::{Bin, ROUNDING_MS, backend, http, probe};

/// Bookkeeping between and around the requests of a round (recording the
/// points, starting the next request) may add this much (ms). It is below the
/// shorter target's 40 ms, so "≈ max" and "≈ sum" cannot be confused.
const ROUND_OVERHEAD_MS: f64 = 30.0;

fn targets(b: &demo_backend::Running) -> [String; 2] {
    [format!("short={}/delay/40", http(b)), format!("long={}/delay/80", http(b))]
}

#[test]
fn sync_round_is_the_sum_of_its_requests() {
    let b = backend("rounds", |_| {});
    let [short, long] = targets(&b);
    for bin in [Bin::SyncFresh, Bin::SyncReused] {
        let run = probe(bin, &["--sink", "stdout", "--rounds", "3", "--interval", "0s", &short, &long]).success();
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        for round in rounds {
            let sum: f64 = round.requests.iter().map(|p| p.ms("total_ms")).sum();
            let gap = round.round_total_ms() - sum;
            assert!(
                (-ROUNDING_MS..=ROUND_OVERHEAD_MS).contains(&gap),
                "{}: round {} ms vs sum of requests {sum} ms",
                bin.name(),
                round.round_total_ms()
            );
        }
    }
}

#[test]
fn async_round_is_the_slowest_of_its_requests() {
    let b = backend("rounds", |_| {});
    let [short, long] = targets(&b);
    for bin in [Bin::AsyncFresh, Bin::AsyncReused] {
        let run = probe(bin, &["--sink", "stdout", "--rounds", "3", "--interval", "0s", &short, &long]).success();
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        for round in rounds {
            let max = round.requests.iter().map(|p| p.ms("total_ms")).fold(0.0, f64::max);
            let sum: f64 = round.requests.iter().map(|p| p.ms("total_ms")).sum();
            let gap = round.round_total_ms() - max;
            assert!(
                (-ROUNDING_MS..=ROUND_OVERHEAD_MS).contains(&gap),
                "{}: round {} ms vs slowest request {max} ms (sum {sum} ms)",
                bin.name(),
                round.round_total_ms()
            );
            assert!(round.round_total_ms() < sum, "{}: the requests did not overlap", bin.name());
        }
    }
}
