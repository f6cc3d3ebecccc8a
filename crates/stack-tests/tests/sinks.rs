//! The probes' direct sinks against a real InfluxDB (1.8, which serves the v2 write API):
//! `--sink influxdb` writes through `/api/v2/write`, and `--sink stdout` prints points that
//! InfluxDB's own `/write` accepts. Every point a probe reports as sent is stored.
//!
//! Needs influxd (`make tools`); without it the tests print a SKIPPED line, and fail
//! under CI=true. They also need the workspace binaries (`cargo build --workspace --bins`).

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, ensure};
use stack_tests::influxdb::InfluxServer;
use stack_tests::tools::require_tools;
use stack_tests::workspace::{SummaryFile, start_demo_backend, workspace_bin};
use test_support::net::free_tcp_port;

/// (measurement, field counted), from the metric schema.
const MEASUREMENTS: [(&str, &str); 4] = probe::schema::COUNTED;

/// Runs `probe` for 3 rounds against the demo backend and a closed port;
/// its output and the counts it wrote with `--summary-json`.
fn run_probe(
    probe: &str,
    dir: &Path,
    sink_args: &[&str],
) -> anyhow::Result<(Output, probe::Summary)> {
    let summary = SummaryFile::new()?;
    let backend = start_demo_backend(dir)?;
    let https = backend.https_url().context("no https listener")?;
    let closed_port = free_tcp_port()?;
    let out = Command::new(workspace_bin(probe)?)
        .args(sink_args)
        .args([
            "--rounds",
            "3",
            "--interval",
            "0s",
            "--timeout",
            "5s",
            "--ca-cert",
        ])
        .arg(&backend.ca_pem_path)
        .arg(format!("fast={https}/api/fast"))
        .arg(format!("fail=http://127.0.0.1:{closed_port}/"))
        .arg(summary.arg())
        .env_remove("PROBE_TARGETS")
        .output()?;
    backend.shutdown();
    ensure!(
        out.status.success(),
        "{probe} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = summary.read()?;
    Ok((out, summary))
}

/// Per measurement: (points the probe handed to its sink, points stored).
fn compare(influx: &InfluxServer, db: &str, done: &probe::Summary) -> anyhow::Result<u64> {
    let mut total = 0;
    for (measurement, field) in MEASUREMENTS {
        let sent = done
            .points(measurement)
            .with_context(|| format!("{measurement}: not in the probe summary"))?;
        let stored = influx.count(db, measurement, field, "")?;
        ensure!(
            sent == stored,
            "{measurement}: probe sent {sent}, InfluxDB stored {stored}"
        );
        total += sent;
    }
    Ok(total)
}

#[test]
fn influxdb_sink_writes_every_point_through_the_v2_api() -> anyhow::Result<()> {
    let Some(tools) = require_tools("influxdb sink test") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database("probes")?;
    let url = influx.url();
    let (out, done) = run_probe(
        "probe-async-reused",
        dir.path(),
        &[
            "--sink",
            "influxdb",
            "--influx-url",
            &url,
            "--influx-org",
            "ignored-by-1.x",
            "--influx-bucket",
            "probes",
            "--influx-token",
            &influx.token,
        ],
    )?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(done.dropped == 0, "dropped points: {done:?} {stderr}");
    ensure!(done.counts.http_request == 3, "{done:?} {stderr}");
    ensure!(done.counts.http_error == 3, "{done:?} {stderr}");
    let total = compare(&influx, "probes", &done)?;
    ensure!(
        done.sent == total,
        "sent differs from the counts: {done:?} {stderr}"
    );
    eprintln!(
        "influxdb sink: {total} points sent through /api/v2/write of influxd {}, all stored",
        influx.version
    );
    Ok(())
}

#[test]
fn stdout_points_are_accepted_by_influxdb() -> anyhow::Result<()> {
    let Some(tools) = require_tools("stdout sink test") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database("stdout")?;
    let (out, done) = run_probe("probe-sync-fresh", dir.path(), &["--sink", "stdout"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = out.stdout.iter().filter(|b| **b == b'\n').count();
    ensure!(
        done.sent == lines as u64,
        "{lines} lines on stdout: {done:?} {stderr}"
    );
    let (status, body) = influx.write_v1("stdout", out.stdout.clone())?;
    ensure!(
        status == 204,
        "InfluxDB refused the points: HTTP {status} {body}"
    );
    let total = compare(&influx, "stdout", &done)?;
    ensure!(total == lines as u64, "stored {total} of {lines} points");
    Ok(())
}
