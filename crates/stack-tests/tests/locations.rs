//! Many hosts, one store: two probes with two `--location`s write through one
//! real Telegraf (the shipped config, TCP listener) into one real InfluxDB; each
//! measurement then holds one series per location with exactly that probe's
//! points, and no point without a location.
//!
//! Needs telegraf and influxd (`make tools`) and the workspace binaries.

use std::process::Command;

use anyhow::{Context, ensure};
use stack_tests::influxdb::{InfluxServer, series};
use stack_tests::telegraf::{self, Settings, Telegraf};
use stack_tests::tools::require_tools;
use stack_tests::workspace::{SummaryFile, start_demo_backend, workspace_bin};
use test_support::net::free_tcp_port;

const DB: &str = "probes";
use stack_tests::telegraf::HISTOGRAM_PERIOD;
const LOCATIONS: [&str; 2] = ["eu-west", "us-east"];

#[test]
fn two_locations_into_one_store_stay_apart() -> anyhow::Result<()> {
    let Some(tools) = require_tools("two locations test") else {
        return Ok(());
    };
    let dir = tempfile::Builder::new()
        .prefix("stack-locations-")
        .tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database(DB)?;
    let settings = Settings::for_test(influx.url(), influx.token.clone(), DB);
    let mut telegraf = Telegraf::start(
        &tools.telegraf,
        &telegraf::shipped_dir(),
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    let backend = start_demo_backend(dir.path())?;
    let https = backend.https_url().context("no https listener")?;
    let closed_port = free_tcp_port()?;
    let mut sent = Vec::new();
    for location in LOCATIONS {
        let summary = SummaryFile::new()?;
        let out = Command::new(workspace_bin("probe-async-reused")?)
            .arg(summary.arg())
            .args(["--sink", "telegraf", "--telegraf"])
            .arg(format!("tcp://{}", telegraf.tcp))
            .args(["--location", location, "--rounds", "3", "--interval", "0s"])
            .arg("--ca-cert")
            .arg(&backend.ca_pem_path)
            .arg(format!("fast={https}/api/fast"))
            // A refused target: http_error points too.
            .arg(format!("fail=http://127.0.0.1:{closed_port}/"))
            .env_remove("PROBE_TARGETS")
            .env_remove("PROBE_LOCATION")
            .env_remove("PROBE_TARGETS_FILE")
            .env_remove("PROBE_SUMMARY_JSON")
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(out.status.success(), "{location}: {stderr}");
        let done = summary.read()?;
        ensure!(done.dropped == 0, "{location}: dropped points: {stderr}");
        sent.push(done);
    }
    backend.shutdown();
    telegraf.stop(HISTOGRAM_PERIOD)?;

    for (measurement, field) in probe::schema::COUNTED {
        // Per location: the count of stored points, from one series each.
        let q = format!(
            "SELECT count(\"{field}\") FROM \"{measurement}\" WHERE time > 0 GROUP BY \"location\""
        );
        let v = influx.query(DB, &q)?;
        let groups: Vec<(String, u64)> = series(&v)
            .iter()
            .map(|s| {
                let location = s.tags.get("location").cloned().unwrap_or_default();
                let n = s
                    .values
                    .first()
                    .and_then(|r| r.get(1))
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                (location, n)
            })
            .collect();
        let expected: Vec<(String, u64)> = LOCATIONS
            .iter()
            .zip(&sent)
            .map(|(l, done)| {
                let n = done.points(measurement).unwrap_or(u64::MAX);
                ((*l).to_owned(), n)
            })
            .collect();
        ensure!(
            groups == expected,
            "{measurement}: stored per location {groups:?}, probes sent {expected:?}"
        );
        // Raw points of one probe: one series per location (and scenario, target, ...).
        let q = format!("SHOW SERIES FROM \"{measurement}\" WHERE \"le\" = ''");
        let v = influx.query(DB, &q)?;
        let keys: Vec<String> = series(&v)
            .iter()
            .flat_map(|s| s.values.iter())
            .filter_map(|r| {
                r.first()
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        for location in LOCATIONS {
            let n = keys
                .iter()
                .filter(|k| {
                    k.contains(&format!(",location={location},"))
                        || k.ends_with(&format!(",location={location}"))
                })
                .count();
            ensure!(n >= 1, "{measurement}: no series of {location}: {keys:?}");
        }
        ensure!(
            keys.iter().all(|k| k.contains(",location=")),
            "{measurement}: a series without location: {keys:?}"
        );
    }
    eprintln!(
        "two locations: every measurement stored one group per location, counts equal to what each probe sent"
    );
    Ok(())
}
