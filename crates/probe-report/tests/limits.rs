//! Limits: no duration makes `probe-report` panic. Every duration option (and
//! the model's service latencies) is fed extreme values: exit 0, or exit 2 with
//! one line naming the option. (`probe-demo`: `demo_limits.rs`.)

use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;
use test_support::limits::{EXTREMES, Outcome, check, run_bounded, within_limit};

const BUDGET: Duration = Duration::from_secs(2);

fn probe_report(flag: &str, value: &str) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe-report"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("INFLUX_URL")
        .args(["--file", "tests/fixtures/points.lp"]);
    if flag == "--model" {
        cmd.arg(format!("--model=fast={value}~{value}"));
    } else {
        cmd.args(["--model", "fast=20ms~2ms"])
            .arg(format!("{flag}={value}"));
    }
    run_bounded(&mut cmd, BUDGET)
}

/// probe-report's duration options and whether 0 is allowed.
const REPORT_OPTIONS: [(&str, bool); 4] = [
    ("--since", false),
    ("--handshake-delay", true),
    ("--rtt", true),
    ("--model", true),
];

#[test]
fn probe_report_takes_extreme_durations_without_panic() {
    for (flag, zero_ok) in REPORT_OPTIONS {
        for value in EXTREMES {
            let out = probe_report(flag, value);
            check(
                &format!("probe-report {flag}={value}"),
                flag,
                within_limit(value, zero_ok),
                &out,
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn probe_report_random_durations_never_panic(
        option in prop::sample::select(REPORT_OPTIONS.to_vec()),
        value in prop_oneof![
            any::<u64>().prop_map(|n| format!("{n}s")),
            any::<u64>().prop_map(|n| format!("{n}ns")),
            (0u64..=400).prop_map(|n| format!("{n}d")),
        ],
    ) {
        let out = probe_report(option.0, &value);
        check(&format!("probe-report {}={value}", option.0), option.0, within_limit(&value, option.1), &out);
    }
}
