//! Limits: no duration makes `probe-report` panic. Every duration option (and
//! the model's service latencies) is fed extreme values: exit 0, or exit 2 with
//! one line naming the option. (`probe-demo`: `demo_limits.rs`.)

use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;

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
#[allow(dead_code)]
fn check(what: &str, flag: &str, accepted: bool, out: &Outcome) {
    check_with(what, flag, accepted, true, out);
}

/// [`check`]; a binary without a SIGTERM handler (`graceful` false) may end
/// by the signal once it ran past its budget.
#[allow(dead_code)]
fn check_with(what: &str, flag: &str, accepted: bool, graceful: bool, out: &Outcome) {
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack backtrace"),
        "{what}: panic:\n{}",
        out.stderr
    );
    if accepted && out.terminated && !graceful {
        assert!(matches!(out.code, None | Some(0)), "{what}: {out:?}");
    } else if accepted {
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
