//! `probe_round.total_ms`: the sum of the round's requests in the sync
//! probes, the slowest of them in the async probes.

mod common;

use common::{Bin, ROUNDING_MS, backend, http, stdout_rounds};

/// Bookkeeping between and around the requests of a round (recording the
/// points, starting the next request) may add this much (ms) in the best of
/// the rounds (one round may be stretched when the loaded machine deschedules
/// the probe). It is below the shorter target's 40 ms, so "≈ max" and
/// "≈ sum" cannot be confused.
const ROUND_OVERHEAD_MS: f64 = 30.0;

/// Checks gaps (round total minus its reference) of all rounds: never
/// negative, and the best within ROUND_OVERHEAD_MS.
fn assert_gaps(what: &str, gaps: &[f64]) {
    assert!(
        gaps.iter().all(|&g| g >= -ROUNDING_MS),
        "{what}: round shorter than its requests: {gaps:?}"
    );
    let best = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        best <= ROUND_OVERHEAD_MS,
        "{what}: round exceeds its reference by {gaps:?} ms"
    );
}

fn targets(b: &demo_backend::Running) -> [String; 2] {
    [
        format!("short={}/delay/40", http(b)),
        format!("long={}/delay/80", http(b)),
    ]
}

#[test]
fn sync_round_is_the_sum_of_its_requests() {
    let b = backend("rounds", |_| {});
    let [short, long] = targets(&b);
    for bin in [Bin::SyncFresh, Bin::SyncReused] {
        let run = stdout_rounds(bin, "3", "0s", &[&short, &long]);
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        let gaps: Vec<f64> = rounds
            .iter()
            .map(|round| {
                round.round_total_ms()
                    - round.requests.iter().map(|p| p.ms("total_ms")).sum::<f64>()
            })
            .collect();
        assert_gaps(&format!("{}: round - sum of requests", bin.name()), &gaps);
    }
}

#[test]
fn async_round_is_the_slowest_of_its_requests() {
    let b = backend("rounds", |_| {});
    let [short, long] = targets(&b);
    for bin in [Bin::AsyncFresh, Bin::AsyncReused] {
        let run = stdout_rounds(bin, "3", "0s", &[&short, &long]);
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        let mut gaps = Vec::new();
        for round in &rounds {
            let max = round
                .requests
                .iter()
                .map(|p| p.ms("total_ms"))
                .fold(0.0, f64::max);
            let sum: f64 = round.requests.iter().map(|p| p.ms("total_ms")).sum();
            gaps.push(round.round_total_ms() - max);
            // Both requests run at once: the round is shorter than their sum.
            assert!(
                round.round_total_ms() < sum,
                "{}: the requests did not overlap",
                bin.name()
            );
        }
        assert_gaps(&format!("{}: round - slowest request", bin.name()), &gaps);
    }
}
