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
// ---- shared by the extreme-value tests (copied per crate: each tests its own binaries) ----

/// How a bounded run ended.
#[derive(Debug)]
struct Outcome {
    /// Exit code (after our SIGTERM when `terminated`).
    code: Option<i32>,
    stderr: String,
    /// Still running after the budget: SIGTERM was sent to its process group.
    terminated: bool,
}

/// Runs `cmd` in its own process group for at most `budget`, then SIGTERMs the
/// group (a valid but huge duration may mean "wait a year") and waits for it.
fn run_bounded(cmd: &mut std::process::Command, budget: std::time::Duration) -> Outcome {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    cmd.process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env("RUST_BACKTRACE", "1");
    let mut child = cmd.spawn().expect("spawn");
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let wait = |child: &mut std::process::Child, limit: std::time::Duration| {
        let end = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            if std::time::Instant::now() >= end {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let mut terminated = false;
    let status = match wait(&mut child, budget) {
        Some(status) => status,
        None => {
            terminated = true;
            let group = format!("-{}", child.id());
            let signal = |sig: &str| {
                std::process::Command::new("kill")
                    .args([sig, "--", &group])
                    .status()
                    .expect("kill")
            };
            signal("-TERM");
            match wait(&mut child, std::time::Duration::from_secs(10)) {
                Some(status) => status,
                None => {
                    signal("-KILL");
                    panic!("{cmd:?} ignored SIGTERM for 10 s");
                }
            }
        }
    };
    Outcome {
        code: status.code(),
        stderr: reader.join().expect("stderr reader"),
        terminated,
    }
}

/// Exit 0 (or 0 after SIGTERM) when `accepted`, else exit 2 with one stderr
/// line naming `flag`; never a panic.
fn check(what: &str, flag: &str, accepted: bool, out: &Outcome) {
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack backtrace"),
        "{what}: panic:\n{}",
        out.stderr
    );
    if accepted {
        assert_eq!(out.code, Some(0), "{what}: {out:?}");
    } else {
        assert_eq!(out.code, Some(2), "{what}: {out:?}");
        assert!(!out.terminated, "{what}: refused at start");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{what}: one line: {}", out.stderr);
        assert!(
            lines[0].contains(flag),
            "{what}: names {flag}: {}",
            lines[0]
        );
    }
}

/// The duration values every option is fed, besides random ones.
const EXTREMES: [&str; 8] = [
    "0s",
    "1ns",
    "365d",
    "366d",
    "18446744073709551615s",
    "18446744073709551616s",
    "-1s",
    "99999999999999999999999999ns",
];

/// Whether a binary must accept `value` (a duration of at most one year).
fn within_limit(value: &str, zero_ok: bool) -> bool {
    match humantime::parse_duration(value) {
        Ok(d) => d <= std::time::Duration::from_secs(365 * 24 * 3600) && (zero_ok || !d.is_zero()),
        Err(_) => false,
    }
}
