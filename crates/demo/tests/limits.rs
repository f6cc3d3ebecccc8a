//! Limits: no duration makes `probe-demo` panic. --interval, --rtt,
//! --handshake-delay and the service latencies are fed extreme values: it runs
//! (stopped with its process group once past its budget), or exits 2 with one
//! line naming the option.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use test_support::limits::{EXTREMES, check_with, run_bounded, within_limit};

const BUDGET: Duration = Duration::from_secs(2);

/// The demo backend and the probes next to this crate's binaries; None
/// (loudly) outside CI when they are not built.
fn bin_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PROBE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug"));
    let names = [
        "demo-backend",
        "probe-sync-fresh",
        "probe-sync-reused",
        "probe-async-fresh",
        "probe-async-reused",
    ];
    let missing: Vec<&str> = names
        .into_iter()
        .filter(|n| !dir.join(n).is_file())
        .collect();
    if missing.is_empty() {
        return Some(dir);
    }
    let message = format!(
        "missing {missing:?} in {}; build them with `cargo build --workspace --bins` or set PROBE_BIN_DIR",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("\n*** SKIP probe-demo extreme-value test: {message} ***\n");
    None
}

#[test]
fn probe_demo_takes_extreme_durations_without_panic() {
    let Some(dir) = bin_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    // (flag, zero allowed); --services carries the latencies.
    let options = [
        ("--interval", true),
        ("--rtt", true),
        ("--handshake-delay", true),
        ("--services", true),
    ];
    for (flag, zero_ok) in options {
        for value in EXTREMES {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe-demo"));
            cmd.current_dir(tmp.path())
                .env_remove("DEMO_ROUNDS")
                .args(["--rounds", "1", "--bin-dir"])
                .arg(&dir);
            if flag == "--services" {
                cmd.arg(format!("--services=fast={value}"));
            } else {
                cmd.arg(format!("{flag}={value}"));
            }
            let out = run_bounded(&mut cmd, BUDGET);
            let what = format!("probe-demo {flag}={value}");
            check_with(&what, flag, within_limit(value, zero_ok), false, &out);
        }
    }
}
