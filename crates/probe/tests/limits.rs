//! Limits: no value makes a probe panic. Every duration option is fed extreme
//! values (0, 1 ns, a year, just over, u64::MAX seconds, overflowing numbers,
//! negative, random ones): exit 0, or exit 2 with one line naming the option.
//! Plus the wording of the refusals those limits produce (snapshots).

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::time::Duration;

use common::{Bin, closed_port, command};
use proptest::prelude::*;
use test_support::limits::{EXTREMES, check, run_bounded, within_limit};

/// Long enough to start and install the signal handlers.
const BUDGET: Duration = Duration::from_secs(2);

/// The probe's arguments to exercise `flag = value` (one round, or two with
/// a pause between) against a port where nothing listens.
fn probe_args(flag: &str, value: &str, port: u16) -> Vec<String> {
    let mut args = vec![
        format!("{flag}={value}"),
        "--sink=none".to_owned(),
        // A host name, so the reused probes' DNS cache (--dns-ttl) is used.
        format!("http://localhost:{port}/"),
    ];
    args.push(
        if flag == "--interval" {
            "--rounds=2"
        } else {
            "--rounds=1"
        }
        .to_owned(),
    );
    args
}

/// The duration options of the probes and whether 0 is allowed.
const OPTIONS: [(&str, bool); 3] = [
    ("--interval", true),
    ("--timeout", false),
    ("--dns-ttl", true),
];

fn check_probe(bin: Bin, flag: &str, zero_ok: bool, value: &str) {
    let port = closed_port();
    let mut cmd = command(bin);
    cmd.args(probe_args(flag, value, port));
    let out = run_bounded(&mut cmd, BUDGET);
    let what = format!("{} {flag}={value}", bin.name());
    check(&what, flag, within_limit(value, zero_ok), &out);
}

#[test]
fn every_probe_takes_extreme_durations_without_panic() {
    for bin in Bin::ALL {
        for (flag, zero_ok) in OPTIONS {
            for value in EXTREMES {
                check_probe(bin, flag, zero_ok, value);
            }
        }
    }
}

#[test]
fn extreme_durations_from_the_environment() {
    for (var, flag) in [
        ("PROBE_INTERVAL", "--interval"),
        ("PROBE_DNS_TTL", "--dns-ttl"),
    ] {
        let mut cmd = command(Bin::AsyncReused);
        cmd.env(var, "18446744073709551615s").args([
            "--sink=none",
            "--rounds=1",
            "http://localhost:9/",
        ]);
        check(var, flag, false, &run_bounded(&mut cmd, BUDGET));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_durations_never_panic(
        bin in prop::sample::select(Bin::ALL.to_vec()),
        option in prop::sample::select(OPTIONS.to_vec()),
        value in prop_oneof![
            any::<u64>().prop_map(|n| format!("{n}s")),
            any::<u64>().prop_map(|n| format!("{n}ns")),
            (0u64..=400).prop_map(|n| format!("{n}d")),
            any::<u64>().prop_map(|n| format!("{}ms", n % 100_000)),
        ],
    ) {
        check_probe(bin, option.0, option.1, &value);
    }
}

// ---- wording ----

/// The one stderr line of a refusal (exit 2).
fn refusal(args: &[&str], env: &[(&str, &OsStr)]) -> String {
    let mut cmd = command(Bin::SyncFresh);
    cmd.current_dir(Path::new(env!("CARGO_TARGET_TMPDIR")))
        .args(args)
        .envs(env.iter().copied());
    let out = run_bounded(&mut cmd, Duration::from_secs(30));
    assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line:\n{}", out.stderr);
    lines[0].to_owned()
}

#[test]
fn negative_interval() {
    insta::assert_snapshot!(refusal(&["--interval", "-1s", "http://127.0.0.1:9/"], &[]));
}

#[test]
fn interval_over_a_year() {
    insta::assert_snapshot!(refusal(
        &["--interval", "18446744073709551615s", "http://127.0.0.1:9/"],
        &[]
    ));
}

#[test]
fn dns_ttl_over_a_year_from_the_environment() {
    insta::assert_snapshot!(refusal(
        &["http://127.0.0.1:9/"],
        &[("PROBE_DNS_TTL", OsStr::new("366d"))]
    ));
}

#[test]
fn non_utf8_probe_targets() {
    insta::assert_snapshot!(refusal(
        &[],
        &[("PROBE_TARGETS", OsStr::from_bytes(b"http://h/\xff"))]
    ));
}

#[test]
fn non_utf8_probe_interval() {
    insta::assert_snapshot!(refusal(
        &["http://127.0.0.1:9/"],
        &[("PROBE_INTERVAL", OsStr::from_bytes(b"3\xffs"))]
    ));
}

#[test]
fn url_of_100_kb() {
    let url = format!("http://127.0.0.1:9/{}", "a".repeat(100_000));
    insta::assert_snapshot!(refusal(&[&url], &[]));
}

#[test]
fn url_at_the_limit_is_accepted() {
    // 65,534 bytes in all: the longest URL hyper sends.
    let prefix = format!("http://127.0.0.1:{}/", closed_port());
    let url = format!("{prefix}{}", "a".repeat(65_534 - prefix.len()));
    let mut cmd = command(Bin::SyncFresh);
    cmd.args(["--sink=none", "--rounds=1", &url]);
    let out = run_bounded(&mut cmd, Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("connect error"),
        "requested (refused), not rejected as an invalid URI: {}",
        out.stderr
    );
}
