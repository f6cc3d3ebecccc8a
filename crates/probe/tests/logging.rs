//! The probes' stderr is a `tracing` log (`RUST_LOG` sets the level; repeats
//! of one failure are summarised), and the counts scripts read come from
//! `--summary-json`, not from the log.

mod common;

use common::{Bin, closed_port, command, run};

/// Three rounds against a closed port, no sink, the summary in `dir`.
fn refused_three_times(
    dir: &std::path::Path,
    rust_log: Option<&str>,
) -> (common::Run, probe::Summary) {
    let summary = dir.join("summary.json");
    let mut cmd = command(Bin::SyncFresh);
    cmd.args(["--sink", "none", "--rounds", "3", "--interval", "0s"])
        .arg("--summary-json")
        .arg(&summary)
        .arg(format!("refused=http://127.0.0.1:{}/", closed_port()));
    if let Some(level) = rust_log {
        cmd.env("RUST_LOG", level);
    }
    let run = run(cmd);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let summary = probe::Summary::read(&summary).expect("summary written");
    (run, summary)
}

#[test]
fn summary_json_has_the_counts_of_the_done_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, summary) = refused_three_times(dir.path(), None);
    let c = summary.counts;
    assert_eq!(summary.probe, "probe-sync-fresh");
    assert_eq!((c.rounds, c.requests, c.errors), (3, 3, 3));
    assert_eq!((c.http_request, c.http_error), (0, 3));
    assert_eq!((c.probe_round, c.probe_sink), (3, 3));
    assert_eq!((summary.sink.as_str(), summary.dropped), ("none", 0));
    let done = format!(
        "probe-sync-fresh: done: rounds=3 requests=3 errors=3 points http_request=0 http_error=3 probe_round=3 probe_sink=3 sink=none sent={} dropped=0 resent=0",
        summary.sent
    );
    assert!(
        run.stderr.lines().any(|l| l == done),
        "no {done:?} in\n{}",
        run.stderr
    );
    // Three failures within 10 s: one line, the other two only counted.
    let failures: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("probe-sync-fresh: target refused ("))
        .collect();
    assert_eq!(failures.len(), 1, "{}", run.stderr);
}

#[test]
fn rust_log_warn_keeps_only_the_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, summary) = refused_three_times(dir.path(), Some("warn"));
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("probe-sync-fresh: target refused (") && lines[0].contains("connect"),
        "{}",
        run.stderr
    );
    assert_eq!(summary.counts.errors, 3);
}

#[test]
fn rust_log_off_silences_the_log_but_not_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, summary) = refused_three_times(dir.path(), Some("off"));
    assert_eq!(run.stderr, "");
    assert_eq!(summary.counts.errors, 3, "the counts still arrive");
    let out = command(Bin::SyncFresh)
        .env("RUST_LOG", "off")
        .args(["--interval", "soon", "http://127.0.0.1:1/"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("probe-sync-fresh: error: invalid value 'soon'"),
        "{stderr}"
    );
}
