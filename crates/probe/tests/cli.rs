//! Bad input: exit code 2 and exactly one stderr line that names the bad
//! value and what is expected (snapshots under `tests/snapshots/`).

mod common;

use std::path::Path;

use common::{Bin, command, run};

const TARGET: &str = "http://127.0.0.1:9/";

/// Runs `bin` in `dir` and returns its one stderr line, after checking the
/// exit code, the line count and that nothing was probed.
fn refusal_in(bin: Bin, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = command(bin);
    cmd.current_dir(dir).args(args).envs(env.iter().copied());
    let run = run(cmd);
    assert_eq!(
        run.code,
        Some(2),
        "{args:?} {env:?}: stderr:\n{}",
        run.stderr
    );
    let lines = run.stderr_lines();
    assert_eq!(
        lines.len(),
        1,
        "{args:?} {env:?}: one line expected:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "{args:?}: nothing on stdout: {}",
        run.stdout
    );
    let line = lines[0].to_owned();
    assert!(
        line.starts_with(&format!("{}: error: ", bin.name())),
        "{line}"
    );
    line
}

fn refusal(args: &[&str], env: &[(&str, &str)]) -> String {
    refusal_in(
        Bin::SyncFresh,
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        args,
        env,
    )
}

#[test]
fn unparsable_url() {
    insta::assert_snapshot!(refusal(&["not a url"], &[]));
}

#[test]
fn named_target_without_scheme() {
    insta::assert_snapshot!(refusal(&["api=example.com/health"], &[]));
}

#[test]
fn unsupported_scheme() {
    insta::assert_snapshot!(refusal(&["ftp://example.com/"], &[]));
}

#[test]
fn no_targets() {
    insta::assert_snapshot!(refusal(&["--rounds", "1"], &[]));
}

#[test]
fn empty_probe_targets() {
    insta::assert_snapshot!(refusal(&[], &[("PROBE_TARGETS", "")]));
}

#[test]
fn duplicate_target_names() {
    insta::assert_snapshot!(refusal(
        &["a=http://127.0.0.1:9/", "a=http://127.0.0.1:10/"],
        &[]
    ));
}

#[test]
fn bad_interval() {
    insta::assert_snapshot!(refusal(&["--interval", "3x", TARGET], &[]));
}

#[test]
fn bad_interval_from_the_environment() {
    insta::assert_snapshot!(refusal(&[TARGET], &[("PROBE_INTERVAL", "3x")]));
}

#[test]
fn bad_rounds() {
    insta::assert_snapshot!(refusal(&["--rounds", "many", TARGET], &[]));
}

#[test]
fn zero_timeout() {
    insta::assert_snapshot!(refusal(&["--timeout", "0s", TARGET], &[]));
}

#[test]
fn bad_sink_kind() {
    insta::assert_snapshot!(refusal(&["--sink", "kafka", TARGET], &[]));
}

#[test]
fn bad_telegraf_url() {
    insta::assert_snapshot!(refusal(&["--telegraf", "http://x", TARGET], &[]));
}

#[test]
fn bad_influx_url() {
    insta::assert_snapshot!(refusal(
        &["--sink", "influxdb", "--influx-url", "ftp://x", TARGET],
        &[]
    ));
}

#[test]
fn unreadable_ca_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    insta::assert_snapshot!(refusal_in(
        Bin::SyncFresh,
        dir.path(),
        &["--ca-cert", "missing-ca.pem", TARGET],
        &[]
    ));
}

#[test]
fn ca_file_that_is_not_pem() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("not-a-cert.pem"),
        "this is not a certificate\n",
    )
    .expect("write");
    insta::assert_snapshot!(refusal_in(
        Bin::SyncFresh,
        dir.path(),
        &["--ca-cert", "not-a-cert.pem", TARGET],
        &[]
    ));
}

#[test]
fn influxdb_sink_without_url() {
    insta::assert_snapshot!(refusal(&["--sink", "influxdb", TARGET], &[]));
}

#[test]
fn influxdb_sink_without_token() {
    let args = [
        "--sink",
        "influxdb",
        "--influx-url",
        "http://127.0.0.1:8086",
        "--influx-org",
        "o",
        "--influx-bucket",
        "b",
        TARGET,
    ];
    insta::assert_snapshot!(refusal(&args, &[]));
}

#[test]
fn influxdb_sink_from_the_environment_without_bucket() {
    let env = [
        ("PROBE_SINK", "influxdb"),
        ("INFLUX_URL", "http://127.0.0.1:8086"),
        ("INFLUX_ORG", "o"),
        ("INFLUX_TOKEN", "t"),
    ];
    insta::assert_snapshot!(refusal(&[TARGET], &env));
}

#[test]
fn every_probe_refuses_the_same_way_under_its_own_name() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let expected = refusal(&["--interval", "3x", TARGET], &[]);
    for bin in Bin::ALL {
        let line = refusal_in(bin, dir, &["--interval", "3x", TARGET], &[]);
        assert_eq!(
            line.replacen(bin.name(), Bin::SyncFresh.name(), 1),
            expected,
            "{}",
            bin.name()
        );
    }
}

#[test]
fn help_and_version_exit_zero_on_stdout() {
    for flag in ["--help", "--version"] {
        let mut cmd = command(Bin::AsyncReused);
        cmd.arg(flag);
        let out = cmd.output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(
            out.stderr.is_empty(),
            "{flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("probe-async-reused"),
            "{flag}"
        );
    }
}
