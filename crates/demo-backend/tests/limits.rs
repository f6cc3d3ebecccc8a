//! Limits: no duration makes `demo-backend` panic. --handshake-delay, --rtt
//! and the service latencies are fed extreme values: it serves (and stops with
//! exit 0 on SIGTERM), or exits 2 with one line naming the option.

use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;
use test_support::limits::{EXTREMES, Outcome, check, run_bounded, within_limit};

/// Long enough to start serving.
const BUDGET: Duration = Duration::from_secs(2);

const OPTIONS: [&str; 3] = ["--handshake-delay", "--rtt", "--services"];

fn backend(flag: &str, value: &str) -> Outcome {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_demo-backend"));
    for (k, _) in std::env::vars() {
        if k.starts_with("DEMO_") {
            cmd.env_remove(k);
        }
    }
    cmd.args([
        "--http",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--cert-dir",
    ])
    .arg(tmp.path().join("certs"));
    if flag == "--services" {
        cmd.arg(format!("--services=fast={value}~{value}"));
    } else {
        cmd.arg(format!("{flag}={value}"));
    }
    run_bounded(&mut cmd, BUDGET)
}

#[test]
fn demo_backend_takes_extreme_durations_without_panic() {
    for flag in OPTIONS {
        for value in EXTREMES {
            let out = backend(flag, value);
            check(
                &format!("demo-backend {flag}={value}"),
                flag,
                within_limit(value, true),
                &out,
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn demo_backend_random_durations_never_panic(
        flag in prop::sample::select(OPTIONS.to_vec()),
        value in prop_oneof![
            any::<u64>().prop_map(|n| format!("{n}s")),
            (0u64..=400).prop_map(|n| format!("{n}d")),
        ],
    ) {
        let out = backend(flag, &value);
        check(&format!("demo-backend {flag}={value}"), flag, within_limit(&value, true), &out);
    }
}
