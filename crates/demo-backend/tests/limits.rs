//! Limits: no duration makes `demo-backend` panic. --handshake-delay, --rtt
//! and the service latencies are fed extreme values: it serves (and stops with
//! exit 0 on SIGTERM), or exits 2 with one line naming the option.

use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;

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
