//! The `probe-demo` command line: bad input, missing binaries.

use assert_cmd::Command;
use predicates::prelude::*;

fn assert_usage_error(mut cmd: Command, args: &[&str], bad_value: &str, expected: &str) {
    let out = cmd.args(args).output().expect("runs");
    test_support::assert_usage_error(&out, bad_value, expected);
}

#[test]
fn bad_demo_flags_exit_2() {
    let demo = || {
        let mut cmd = Command::cargo_bin("probe-demo").expect("binary built");
        cmd.env_remove("DEMO_ROUNDS");
        cmd
    };
    assert_usage_error(demo(), &["--rounds", "0"], "'0'", "not in 1..");
    assert_usage_error(demo(), &["--rounds", "many"], "'many'", "invalid digit");
    assert_usage_error(
        demo(),
        &["--services", "fast=20"],
        "\"fast=20\"",
        "expected NAME=LATENCY",
    );
    assert_usage_error(
        demo(),
        &["--handshake-delay", "x"],
        "'x'",
        "expected a duration",
    );
}

#[test]
fn demo_without_binaries_names_the_missing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("probe-demo")
        .expect("binary built")
        .arg("--bin-dir")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("out/points.lp"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "probe-sync-fresh not found; build the binaries first",
        ));
}
