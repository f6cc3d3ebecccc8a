//! Sizing: each probe against the demo backend on loopback with 10 … 10,000
//! targets (distinct names, one host), through the real Telegraf (shipped
//! config) into the real InfluxDB of the pipeline test. Per run it records CPU
//! per request, peak RSS, round time, points per second, points sent vs stored
//! and the most open file descriptors; it prints a Markdown table.
//!
//! ```text
//! cargo build --release -p probe
//! cargo bench -p stack-tests --bench sizing      # probes from target/release (or PROBE_BIN_DIR)
//! ```
//! Settings (environment): `SIZING_TARGETS` (default `10,100,1000,10000`),
//! `SIZING_ROUNDS` (at least 2; more for small sizes, up to 10,000 requests a run), `SIZING_PROBES` (the four), `SIZING_TRANSPORTS` (`tcp,udp`:
//! UDP runs only the largest size of each async probe), `SIZING_CONCURRENCY` (probe default), `SIZING_INTERVAL` (`0s`),
//! `SIZING_TELEGRAF_DIR` (the shipped `telegraf/`).

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use stack_tests::influxdb::InfluxServer;
use stack_tests::telegraf::{self, Settings, Telegraf};
use stack_tests::tools::require_tools;
use stack_tests::workspace::SummaryFile;

const DB: &str = "probes";
/// A run that takes longer is stopped and reported as such.
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// Rounds are added until a run makes this many requests.
const REQUESTS_PER_RUN: u64 = 10_000;

/// The probe binaries: `PROBE_BIN_DIR`, else the release directory this bench runs from.
fn bin_dir() -> PathBuf {
    match std::env::var_os("PROBE_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.to_owned()))
            .unwrap_or_else(|| PathBuf::from("target/release")),
    }
}

/// `SIZING_INTERVAL`: `0s` (rounds back to back, the most load) unless set.
fn interval() -> String {
    std::env::var("SIZING_INTERVAL").unwrap_or_else(|_| "0s".to_owned())
}

fn env_list(key: &str, default: &str) -> Vec<String> {
    std::env::var(key)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What one run measured.
struct Measured {
    probe: String,
    transport: String,
    targets: usize,
    requests: u64,
    cpu_s: f64,
    wall_s: f64,
    peak_rss_kb: u64,
    max_fds: usize,
    round_ms_median: f64,
    sent: u64,
    stored: u64,
    /// Series in InfluxDB after the run (raw points and Telegraf's histogram).
    series: u64,
}

/// utime + stime in seconds from /proc/PID/stat (also readable from a zombie).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // Clock ticks: 100 per second on Linux.
    Some((utime + stime) / 100.0)
}

fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn open_fds(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn run_probe(
    telegraf: &Telegraf,
    base: &str,
    probe: &str,
    transport: &str,
    n: usize,
    rounds: u64,
    concurrency: Option<&str>,
) -> anyhow::Result<Measured> {
    let location = format!("sizing-{probe}-{transport}-{n}");
    let sink_url = match transport {
        "tcp" => format!("tcp://{}", telegraf.tcp),
        "udp" => format!("udp://{}", telegraf.udp),
        other => bail!("unknown transport {other}"),
    };
    let targets: Vec<String> = (0..n).map(|i| format!("t{i}={base}/health")).collect();
    // At least REQUESTS_PER_RUN requests, so small sizes are measurable (10 ms CPU
    // ticks); with a set interval exactly SIZING_ROUNDS.
    let rounds = if interval() == "0s" {
        rounds.max(REQUESTS_PER_RUN.div_ceil(n.max(1) as u64))
    } else {
        rounds
    }
    .to_string();
    let rounds = rounds.as_str();
    let summary = SummaryFile::new()?;
    let mut cmd = Command::new(bin_dir().join(probe));
    cmd.arg(summary.arg())
        .args(["--sink", "telegraf", "--telegraf", &sink_url])
        .args([
            "--rounds",
            rounds,
            "--interval",
            &interval(),
            "--timeout",
            "30s",
        ])
        .args(["--location", &location])
        // Arguments, not PROBE_TARGETS: one environment string is limited to 128 KiB.
        .args(&targets)
        .env_remove("PROBE_TARGETS")
        .env_remove("PROBE_CONCURRENCY")
        .env_remove("PROBE_TARGETS_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(c) = concurrency {
        cmd.args(["--concurrency", c]);
    }
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let mut stderr = child.stderr.take().context("stderr")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let (mut peak_rss_kb, mut max_fds) = (0, 0);
    // Sample until the child is a zombie: its CPU times are still readable then.
    let cpu_s = loop {
        match state(pid) {
            Some('Z') | None => break cpu_seconds(pid).unwrap_or(f64::NAN),
            _ => {}
        }
        peak_rss_kb = peak_rss_kb.max(vm_hwm_kb(pid).unwrap_or(0));
        max_fds = max_fds.max(open_fds(pid));
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            bail!("{probe} with {n} targets still running after {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall_s = started.elapsed().as_secs_f64();
    let status = child.wait()?;
    let stderr = reader.join().unwrap_or_default();
    ensure!(status.success(), "{probe} {n}: {status}: {stderr}");
    let done = summary.read()?;
    let c = done.counts;
    let sent = c.http_request + c.http_error + c.probe_round + c.probe_sink;
    Ok(Measured {
        probe: probe.to_owned(),
        transport: transport.to_owned(),
        targets: n,
        requests: c.requests,
        cpu_s,
        wall_s,
        peak_rss_kb,
        max_fds,
        round_ms_median: 0.0,
        sent,
        stored: 0,
        series: 0,
    })
}

/// Waits until InfluxDB holds `sent` points of the run (Telegraf flushes every
/// second), or until their count stops growing for 30 s: then the shortfall is lost.
/// (Telegraf's histogram of 10,000 new series arrives as one burst of 160,000 points
/// at its period's end; InfluxDB takes a while over it.)
fn wait_stored(influx: &InfluxServer, location: &str, sent: u64) -> anyhow::Result<(u64, f64)> {
    let (mut last, mut still_since) = (u64::MAX, Instant::now());
    loop {
        let (n, median) = stored(influx, location)?;
        if n >= sent || still_since.elapsed() > Duration::from_secs(30) {
            return Ok((n, median));
        }
        if n != last {
            (last, still_since) = (n, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn series_count(influx: &InfluxServer) -> anyhow::Result<u64> {
    let v = influx.query(DB, "SHOW SERIES EXACT CARDINALITY")?;
    Ok(stack_tests::influxdb::series(&v)
        .iter()
        .filter_map(|s| s.values.first()?.first()?.as_u64())
        .sum())
}

fn stored(influx: &InfluxServer, location: &str) -> anyhow::Result<(u64, f64)> {
    let filter = format!("AND \"location\" = '{location}'");
    let mut total = 0;
    for (m, f) in probe::schema::COUNTED {
        total += influx.count(DB, m, f, &filter)?;
    }
    let q = format!(
        "SELECT median(\"total_ms\") FROM \"probe_round\" WHERE time > 0 AND \"location\" = '{location}'"
    );
    let v = influx.query(DB, &q)?;
    let median = stack_tests::influxdb::series(&v)
        .first()
        .and_then(|s| s.values.first())
        .and_then(|r| r.get(1))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NAN);
    Ok((total, median))
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let Some(tools) = require_tools("sizing bench") else {
        return Ok(());
    };
    let probes = env_list(
        "SIZING_PROBES",
        "probe-sync-fresh,probe-sync-reused,probe-async-fresh,probe-async-reused",
    );
    let missing: Vec<&String> = probes
        .iter()
        .filter(|p| !bin_dir().join(p).is_file())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "sizing bench: not run, {missing:?} not in {} (cargo build --release -p probe, or set PROBE_BIN_DIR)",
            bin_dir().display()
        );
        return Ok(());
    }
    let sizes: Vec<usize> = env_list("SIZING_TARGETS", "10,100,1000,10000")
        .iter()
        .map(|s| s.parse())
        .collect::<Result<_, _>>()
        .context("SIZING_TARGETS: comma-separated whole numbers")?;
    let rounds: u64 = std::env::var("SIZING_ROUNDS")
        .unwrap_or_else(|_| "2".to_owned())
        .parse()
        .context("SIZING_ROUNDS: a whole number")?;
    let transports = env_list("SIZING_TRANSPORTS", "tcp,udp");
    let concurrency = std::env::var("SIZING_CONCURRENCY").ok();

    let dir = tempfile::Builder::new().prefix("sizing-").tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database(DB)?;
    let settings = Settings::for_test(influx.url(), influx.token.clone(), DB);
    let telegraf = Telegraf::start(
        &tools.telegraf,
        // SIZING_TELEGRAF_DIR: another config (telegraf.conf and telegraf.d/) to compare.
        &std::env::var_os("SIZING_TELEGRAF_DIR").map_or_else(telegraf::shipped_dir, PathBuf::from),
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    let backend = demo_backend::start_in_background(demo_backend::Config {
        http: Some(([127, 0, 0, 1], 0).into()),
        https: None,
        cert_dir: dir.path().join("certs"),
        ..Default::default()
    })?;
    let base = backend.http_url().context("http listener")?;
    let base = base.trim_end_matches('/').to_owned();

    let largest = sizes.iter().copied().max().unwrap_or(0);
    let mut runs = Vec::new();
    for probe in &probes {
        for &n in &sizes {
            for transport in &transports {
                // UDP for comparison: the largest size of the async probes only.
                if transport == "udp" && (n != largest || !probe.contains("async")) {
                    continue;
                }
                eprintln!("sizing: {probe} {n} targets over {transport}");
                match run_probe(
                    &telegraf,
                    &base,
                    probe,
                    transport,
                    n,
                    rounds,
                    concurrency.as_deref(),
                ) {
                    Ok(mut m) => {
                        let location = format!("sizing-{probe}-{transport}-{n}");
                        (m.stored, m.round_ms_median) = wait_stored(&influx, &location, m.sent)?;
                        // Each run stands alone: its series are counted, then dropped,
                        // so one run's cardinality does not limit the next.
                        m.series = series_count(&influx)?;
                        influx.query(DB, "DROP SERIES WHERE \"location\" =~ /^sizing-/")?;
                        runs.push(m);
                    }
                    Err(e) => eprintln!("sizing: {probe} {n} {transport}: {e:#}"),
                }
            }
        }
    }
    backend.shutdown();
    for line in telegraf
        .proc
        .log_text()
        .lines()
        .filter(|l| l.contains(" E! ") || l.contains(" W! ") && !l.contains("inputs.internal"))
        .take(10)
    {
        eprintln!("sizing: telegraf: {line}");
    }
    drop(telegraf);
    println!(
        "| probe | targets | via | requests | CPU µs/request | peak RSS MB | round ms (median) | points/s | sent | stored | series | max fds |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in &runs {
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {} | {} | {} | {} |",
            m.probe,
            m.targets,
            m.transport,
            m.requests,
            // The warm-up round's requests cost CPU too.
            m.cpu_s * 1e6 / (m.requests + m.targets as u64).max(1) as f64,
            m.peak_rss_kb as f64 / 1024.0,
            m.round_ms_median,
            m.sent as f64 / m.wall_s,
            m.sent,
            m.stored,
            m.series,
            m.max_fds,
        );
    }
    Ok(())
}
