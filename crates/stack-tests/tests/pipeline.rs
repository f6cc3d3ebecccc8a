//! End-to-end pipeline: line protocol (hand-made and from the four probes) over UDP, TCP
//! and Telegraf's HTTP listener -> Telegraf with the shipped config -> InfluxDB 1.8 -> counts, histograms,
//! every dashboard query and probe-report.
//!
//! Needs Telegraf and influxd (`make tools`); without them the tests print a SKIPPED line,
//! and fail under CI=true. Phase 2 needs the workspace binaries (`cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use probe::{Scenario, schema};
use probe_metrics::Point;
use reqwest_timing::ErrorClass;
use serde_json::Value;
use stack_tests::client::client;
use stack_tests::dashboards::{self, QueryContext};
use stack_tests::histogram;
use stack_tests::influxdb::{InfluxServer, series};
use stack_tests::telegraf::{self, Settings, Telegraf};
use stack_tests::tools::{TELEGRAF_VERSION, Tools, in_ci, require_tools, workspace_root};
use stack_tests::workspace::{SummaryFile, start_demo_backend, workspace_bin};
use test_support::net::free_tcp_port;
use test_support::procs::wait_until;
use test_support::skip_or_fail;

const DB: &str = "probes";
use stack_tests::telegraf::HISTOGRAM_PERIOD;
/// The `scenario` tag values, from the probes' own list.
fn scenarios() -> [&'static str; 4] {
    Scenario::ALL.map(Scenario::as_str)
}
/// (measurement, field counted) for the "nothing lost" check, from the metric schema.
const COUNTED: [(&str, &str); 4] = schema::COUNTED;

/// InfluxDB and Telegraf (stopped first on drop), with their temp dir.
struct Stack {
    telegraf: Telegraf,
    influx: InfluxServer,
    dir: tempfile::TempDir,
    telegraf_version: String,
}

fn start_stack(tools: &Tools, config_dir: &Path) -> anyhow::Result<Stack> {
    let dir = tempfile::Builder::new().prefix("stack-tests-").tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database(DB)?;
    let settings = Settings::for_test(influx.url(), influx.token.clone(), DB);
    let telegraf = Telegraf::start(
        &tools.telegraf,
        config_dir,
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    // The same Telegraf as the compose image, or the test proves nothing about the stack.
    let telegraf_version = telegraf::version(&tools.telegraf)?;
    ensure!(
        telegraf_version == TELEGRAF_VERSION,
        "telegraf {telegraf_version} at {}, the stack runs {TELEGRAF_VERSION}; run `make tools`",
        tools.telegraf.display()
    );
    Ok(Stack {
        telegraf,
        influx,
        telegraf_version,
        dir,
    })
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// Counts of points per (measurement, scenario).
type Counts = BTreeMap<(String, String), u64>;

/// Hand-made points following the metric schema, with total_ms values on and around the
/// bucket bounds; distinct timestamps so InfluxDB keeps every one.
fn synthetic_points(start_ns: i64) -> Vec<Point> {
    let totals = [
        0.4, 5.0, 5.5, 10.0, 42.0, 100.0, 100.1, 750.0, 4999.9, 5000.0, 5000.1, 12000.0,
    ];
    let mut points = Vec::new();
    let mut t = start_ns;
    let mut next = || {
        t += 1_000;
        t
    };
    for scenario in scenarios() {
        for (i, total) in totals.iter().enumerate() {
            let reused = i % 2 == 1;
            let status: i64 = if i == 7 { 503 } else { 200 };
            let mut p = Point::new("http_request", next())
                .tag("scenario", scenario)
                .tag(
                    "target",
                    if i % 3 == 0 {
                        "synth-slow"
                    } else {
                        "synth-fast"
                    },
                )
                .tag("domain", "synthetic.localhost")
                .tag("method", "GET")
                .tag("status", status.to_string())
                .tag("reused", if reused { "true" } else { "false" })
                .tag(
                    "dns",
                    if reused {
                        "none"
                    } else if i % 4 == 0 {
                        "cached"
                    } else {
                        "lookup"
                    },
                )
                .tag("http_version", if i % 2 == 0 { "2" } else { "1.1" })
                .field("total_ms", *total)
                .field("ttfb_ms", total * 0.6)
                .field("body_ms", total * 0.1);
            if !reused {
                p = p
                    .field("dns_ms", 1.5)
                    .field("connect_ms", 2.5)
                    .field("tls_ms", 7.25)
                    .tag("tls_version", "1.3")
                    .tag("tls_resumed", if i % 4 == 0 { "true" } else { "false" })
                    .field("cert_expires_in_days", 42.5);
            }
            points.push(p.field("status_code", status).field("body_bytes", 381_i64));
        }
        for class in ErrorClass::ALL.map(ErrorClass::as_str) {
            points.push(
                Point::new("http_error", next())
                    .tag("scenario", scenario)
                    // 4xx/5xx and expect go with a response (the 503 above); the rest never got one.
                    .tag(
                        "target",
                        if class.starts_with("http_") || class == "expect" {
                            "synth-fast"
                        } else {
                            "synth-fail"
                        },
                    )
                    .tag("domain", "synthetic.localhost")
                    .tag("error_class", class)
                    .field("count", 1_i64)
                    .field("elapsed_ms", 3.5),
            );
        }
        for round in 0..3 {
            points.push(
                Point::new("probe_round", next())
                    .tag("scenario", scenario)
                    .field("total_ms", 120.0 + f64::from(round))
                    .field("requests", 7_i64)
                    .field("errors", 3_i64),
            );
            points.push(
                Point::new("probe_sink", next())
                    .tag("scenario", scenario)
                    .tag("sink", "telegraf")
                    .field("sent", 10 * (i64::from(round) + 1))
                    .field("dropped", 0_i64),
            );
        }
    }
    // A service's own calls (reqwest-timing middleware + SinkReporter): source=app,
    // client, no scenario; the Service calls dashboard reads them.
    for (i, total) in totals.iter().enumerate() {
        let target = if i % 2 == 0 { "fast" } else { "slow" };
        let reused = i >= 2;
        let mut p = Point::new("http_request", next())
            .tag("source", "app")
            .tag("client", "example-app")
            .tag("target", target)
            .tag("domain", "demo-backend")
            .tag("method", "GET")
            .tag("status", "200")
            .tag("reused", if reused { "true" } else { "false" })
            .tag("dns", if reused { "none" } else { "lookup" })
            .tag("http_version", "1.1")
            .field("total_ms", *total)
            .field("ttfb_ms", total * 0.8)
            .field("body_ms", total * 0.1);
        if !reused {
            p = p
                .tag("tls_version", "1.3")
                .tag("tls_resumed", "false")
                .field("dns_ms", 0.5)
                .field("connect_ms", 0.75)
                .field("tls_ms", 3.25);
        }
        points.push(
            p.field("status_code", 200_i64)
                .field("body_bytes", 381_i64)
                .field("body_complete", i != 5),
        );
    }
    for (target, class) in [("fast", "http_5xx"), ("slow", "connect")] {
        points.push(
            Point::new("http_error", next())
                .tag("source", "app")
                .tag("client", "example-app")
                .tag("target", target)
                .tag("domain", "demo-backend")
                .tag("error_class", class)
                .field("count", 1_i64)
                .field("elapsed_ms", 2.5),
        );
    }
    points
}

fn count_points(points: &[Point]) -> Counts {
    let mut counts = Counts::new();
    for p in points {
        let scenario = p
            .tags()
            .find(|(k, _)| *k == "scenario")
            .map_or_else(String::new, |(_, v)| v.to_owned());
        *counts
            .entry((p.measurement().to_owned(), scenario))
            .or_default() += 1;
    }
    counts
}

/// Line protocol of `points`, one line each without its newline.
fn encode(points: &[Point]) -> anyhow::Result<Vec<String>> {
    points
        .iter()
        .map(|p| Ok(p.to_line()?.trim_end().to_owned()))
        .collect()
}

/// Sends lines over UDP in datagrams of at most ~8 KiB.
fn send_udp(addr: SocketAddr, lines: &[String]) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let mut datagram = String::new();
    for line in lines {
        if !datagram.is_empty() && datagram.len() + line.len() > 8000 {
            socket.send_to(datagram.as_bytes(), addr)?;
            datagram.clear();
        }
        datagram.push_str(line);
        datagram.push('\n');
    }
    if !datagram.is_empty() {
        socket.send_to(datagram.as_bytes(), addr)?;
    }
    Ok(())
}

fn send_tcp(addr: SocketAddr, lines: &[String]) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    for line in lines {
        stream.write_all(line.as_bytes())?;
        stream.write_all(b"\n")?;
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)?;
    Ok(())
}

/// Stored counts per (measurement, scenario).
fn stored_counts(influx: &InfluxServer) -> anyhow::Result<Counts> {
    let mut counts = Counts::new();
    for (measurement, field) in COUNTED {
        let q = format!(
            "SELECT count(\"{field}\") FROM \"{measurement}\" WHERE time > 0 GROUP BY \"scenario\""
        );
        for s in series(&influx.query(DB, &q)?) {
            let n = s
                .values
                .first()
                .and_then(|r| r.get(1))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let scenario = s.tags.get("scenario").cloned().unwrap_or_default();
            counts.insert((measurement.to_owned(), scenario), n);
        }
    }
    Ok(counts)
}

fn total(counts: &Counts) -> u64 {
    counts.values().sum()
}

/// Waits until InfluxDB holds at least what was sent (Telegraf flushes every second).
fn wait_for_counts(
    influx: &InfluxServer,
    telegraf: &mut Telegraf,
    want: &Counts,
) -> anyhow::Result<()> {
    let mut last = Counts::new();
    let result = wait_until("points in InfluxDB", Duration::from_secs(60), || {
        telegraf.proc.ensure_running()?;
        last = stored_counts(influx)?;
        Ok(want
            .iter()
            .all(|(k, n)| last.get(k).copied().unwrap_or(0) >= *n))
    });
    result.with_context(|| format!("sent {want:?}\nstored {last:?}"))
}

/// Phase 1: hand-made points, half over UDP and half over TCP.
fn send_synthetic(stack: &Stack) -> anyhow::Result<Counts> {
    // Stamped 75 s back, as a probe's points can be after a long round: only the
    // aggregator's `grace` keeps them in the histogram.
    let points = synthetic_points(now_ns() - 75_000_000_000);
    let lines = encode(&points)?;
    let (udp, tcp) = lines.split_at(lines.len() / 2);
    send_udp(stack.telegraf.udp, udp)?;
    send_tcp(stack.telegraf.tcp, tcp)?;
    Ok(count_points(&points))
}

/// Phase 2: the four probes against the demo backend, each for a few rounds.
fn run_probes(stack: &Stack) -> anyhow::Result<Counts> {
    let backend = start_demo_backend(stack.dir.path())?;
    let https = backend.https_url().context("no https listener")?;
    let closed_port = free_tcp_port()?;
    let mut counts = Counts::new();
    for (i, scenario) in scenarios().iter().enumerate() {
        // sync-fresh over UDP, async-fresh over the stack's default (acknowledged HTTP
        // listener), the reused probes over TCP.
        let sink_args: Vec<String> = match i {
            0 => vec![
                "--sink=telegraf".into(),
                format!("--telegraf=udp://{}", stack.telegraf.udp),
            ],
            2 => vec![
                "--sink=influxdb".into(),
                format!("--influx-url=http://{}", stack.telegraf.http),
                "--influx-org=ignored".into(),
                format!("--influx-bucket={DB}"),
                format!("--influx-token={}", telegraf::LISTEN_TOKEN),
            ],
            _ => vec![
                "--sink=telegraf".into(),
                format!("--telegraf=tcp://{}", stack.telegraf.tcp),
            ],
        };
        let summary = SummaryFile::new()?;
        let out = Command::new(workspace_bin(&format!("probe-{scenario}"))?)
            .arg(summary.arg())
            .args(&sink_args)
            .args([
                "--interval",
                "0s",
                "--rounds",
                "3",
                "--timeout",
                "5s",
                "--ca-cert",
            ])
            .arg(&backend.ca_pem_path)
            .arg(format!("fast={https}/api/fast"))
            .arg(format!("slow={https}/api/slow"))
            .arg(format!("fail=http://127.0.0.1:{closed_port}/api/fast"))
            .env_remove("PROBE_TARGETS")
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.success(),
            "probe-{scenario} failed ({}):\n{stderr}",
            out.status
        );
        let done = summary.read()?;
        ensure!(
            done.dropped == 0,
            "probe-{scenario} dropped points: {done:?} {stderr}"
        );
        let mut sent = 0;
        for (measurement, _) in COUNTED {
            let n = done
                .points(measurement)
                .with_context(|| format!("no {measurement} in {done:?}"))?;
            sent += n;
            counts.insert((measurement.to_owned(), (*scenario).to_owned()), n);
        }
        ensure!(
            done.sent == sent,
            "probe-{scenario}: sink sent differs from the point counts: {done:?} {stderr}"
        );
        ensure!(
            counts[&("http_request".to_owned(), (*scenario).to_owned())] == 6,
            "probe-{scenario}: {stderr}"
        );
        ensure!(
            counts[&("http_error".to_owned(), (*scenario).to_owned())] == 3,
            "probe-{scenario}: {stderr}"
        );
    }
    backend.shutdown();
    Ok(counts)
}

fn merge(a: &Counts, b: &Counts) -> Counts {
    let mut out = a.clone();
    for (k, n) in b {
        *out.entry(k.clone()).or_default() += n;
    }
    out
}

/// Runs every dashboard query; returns the labels of the queries checked.
fn check_dashboards(influx: &InfluxServer, from_ms: i64) -> anyhow::Result<Vec<String>> {
    let dir = workspace_root().join("grafana").join("dashboards");
    let files = dashboards::dashboard_files(&dir)?;
    ensure!(!files.is_empty(), "no dashboards in {}", dir.display());
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let (variables, panels) = dashboards::load(&file)?;
        let mut ctx = QueryContext {
            from_ms,
            to_ms: now_ns() / 1_000_000 + 60_000,
            interval: "10s".to_owned(),
            interval_ms: 10_000,
            vars: BTreeMap::new(),
        };
        for var in &variables {
            let values: Vec<String> = match var.kind.as_str() {
                "query" => {
                    let q = ctx.substitute(&var.query);
                    let label = format!("{} variable ${}", file.display(), var.name);
                    let v = influx.query(DB, &q).with_context(|| label.clone())?;
                    checked.push(format!("{label}: {q}"));
                    series(&v)
                        .iter()
                        .flat_map(|s| {
                            let col =
                                s.col("value")
                                    .unwrap_or(if s.columns.len() > 1 { 1 } else { 0 });
                            s.values.iter().filter_map(move |r| {
                                r.get(col).and_then(Value::as_str).map(str::to_owned)
                            })
                        })
                        .collect()
                }
                "custom" => var.query.split(',').map(|s| s.trim().to_owned()).collect(),
                "constant" | "textbox" => vec![var.query.clone()],
                _ => continue,
            };
            // Grafana lists each value once, however many series return it.
            let mut values = values;
            values.sort();
            values.dedup();
            if values.is_empty() {
                problems.push(format!(
                    "{} variable ${} has no values",
                    file.display(),
                    var.name
                ));
                continue;
            }
            ctx.vars
                .insert(var.name.clone(), dashboards::regex_alternation(&values));
        }
        // Every query must run; every panel must show something (one empty histogram
        // bucket of a panel with sixteen is fine).
        let mut panel_has_data: BTreeMap<String, bool> = BTreeMap::new();
        for panel in &panels {
            let q = ctx.substitute(&panel.query);
            let v = influx.query(DB, &q).with_context(|| panel.label())?;
            let has_data = series(&v).iter().any(|s| !s.values.is_empty());
            *panel_has_data.entry(panel.label()).or_default() |= has_data;
            checked.push(format!("{}: {q}", panel.label()));
        }
        for (label, has_data) in panel_has_data {
            if !has_data {
                problems.push(format!("{label}: no query of the panel returned data"));
            }
        }
    }
    if !problems.is_empty() {
        bail!("dashboard queries:\n  {}", problems.join("\n  "));
    }
    Ok(checked)
}

/// `probe-report` reading this InfluxDB prints the table with every scenario.
/// `probe-report` reads the table back from InfluxDB: every scenario's cell counts every
/// round stored (`rounds` per scenario), and the text table prints.
fn check_probe_report(influx: &InfluxServer, rounds: u64) -> anyhow::Result<()> {
    let report = |json: bool| -> anyhow::Result<String> {
        let mut cmd = Command::new(workspace_bin("probe-report")?);
        cmd.args([
            "--influx-url",
            &influx.url(),
            "--influx-bucket",
            DB,
            "--since",
            "15m",
        ])
        .env("INFLUX_TOKEN", &influx.token);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output()?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        ensure!(
            out.status.success(),
            "probe-report failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(stdout)
    };
    let json: Value = serde_json::from_str(&report(true)?)?;
    for scenario in scenarios() {
        let count = json["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["scenario"] == scenario)
            .and_then(|c| c["round"]["count"].as_u64());
        ensure!(
            count == Some(rounds),
            "probe-report counts {count:?} rounds of {scenario}, InfluxDB holds {rounds}:\n{json:#}"
        );
    }
    println!("probe-report:\n{}", report(false)?);
    // The HTML report from the same InfluxDB (`--html -`: the page on stdout): every
    // panel, and the rounds it read with their timestamps.
    let out = Command::new(workspace_bin("probe-report")?)
        .args(["--influx-url", &influx.url(), "--influx-bucket", DB])
        .args(["--since", "15m", "--html", "-"])
        .env("INFLUX_TOKEN", &influx.token)
        .output()?;
    let html = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && html.starts_with("<!DOCTYPE html>"),
        "probe-report --html - ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for panel in [
        "table",
        "requests",
        "rounds",
        "heatmap",
        "histogram",
        "phases",
        "errors",
    ] {
        ensure!(
            html.contains(&format!("id=\"panel-{panel}\"")),
            "HTML report without panel {panel}"
        );
    }
    let all_rounds = rounds * scenarios().len() as u64;
    ensure!(
        html.contains(&format!(" {all_rounds} rounds, ")),
        "HTML report header does not count {all_rounds} rounds"
    );
    // A wrong token is refused, and said so in one line.
    let out = Command::new(workspace_bin("probe-report")?)
        .args([
            "--influx-url",
            &influx.url(),
            "--influx-bucket",
            DB,
            "--since",
            "15m",
        ])
        .env("INFLUX_TOKEN", "admin:wrong-password")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success() && stderr.lines().count() == 1 && stderr.contains("401"),
        "probe-report with a wrong token ({}): {stderr}",
        out.status
    );
    Ok(())
}

#[test]
fn pipeline_end_to_end() -> anyhow::Result<()> {
    let Some(tools) = require_tools("pipeline test") else {
        return Ok(());
    };
    let started = Instant::now();
    let from_ms = now_ns() / 1_000_000 - 3_600_000;
    let mut stack = start_stack(&tools, &telegraf::shipped_dir())?;
    let result = (|| -> anyhow::Result<()> {
        // Phase 1: hand-made points.
        let synthetic = send_synthetic(&stack)?;
        // Phase 2: the probes, when built.
        let probes = match run_probes(&stack) {
            Ok(counts) => counts,
            Err(e) if !in_ci() && workspace_bin("probe-sync-fresh").is_err() => {
                skip_or_fail("pipeline phase 2 (probes)", &format!("{e:#}"));
                Counts::new()
            }
            Err(e) => return Err(e),
        };
        let sent = merge(&synthetic, &probes);
        wait_for_counts(&stack.influx, &mut stack.telegraf, &sent)?;
        // The container's health check: 200 once Telegraf's own write stats show the
        // output keeping up.
        let health = format!("http://{}/", stack.telegraf.health);
        let http = client(Duration::from_secs(5))?;
        wait_until("telegraf health endpoint", Duration::from_secs(60), || {
            Ok(http
                .get(&health)
                .send()
                .is_ok_and(|r| r.status() == reqwest::StatusCode::OK))
        })?;
        // SIGTERM pushes the open histogram period and flushes the output.
        stack.telegraf.stop(HISTOGRAM_PERIOD)?;
        let stored = stored_counts(&stack.influx)?;
        ensure!(
            stored == sent,
            "nothing lost, nothing extra:\n sent   {sent:?}\n stored {stored:?}"
        );

        let bounds = histogram::bounds_from_config(&std::fs::read_to_string(
            telegraf::shipped_dir().join("telegraf.conf"),
        )?)?;
        let hist_total = histogram::check(&stack.influx, DB, "total_ms", &bounds)?;
        let hist_ttfb = histogram::check(&stack.influx, DB, "ttfb_ms", &bounds)?;
        println!("histogram total_ms: {hist_total:?}; ttfb_ms: {hist_ttfb:?}");

        let queries = check_dashboards(&stack.influx, from_ms)?;
        println!("dashboard queries checked:");
        for q in &queries {
            println!("  {q}");
        }
        if !probes.is_empty() {
            let rounds_of = |c: &Counts| {
                c.get(&("probe_round".to_owned(), scenarios()[0].to_owned()))
                    .copied()
                    .unwrap_or(0)
            };
            check_probe_report(&stack.influx, rounds_of(&sent))?;
        }
        let summary = format!(
            "pipeline: {} points sent, {} stored, {} dashboard queries ok, telegraf {}, influxdb {} ({:.1}s)",
            total(&sent),
            total(&stored),
            queries.len(),
            stack.telegraf_version,
            stack.influx.version,
            started.elapsed().as_secs_f64()
        );
        // Straight to stderr: shown even though the test harness captures print!.
        let _ = writeln!(std::io::stderr(), "{summary}");
        Ok(())
    })();
    result
        .with_context(|| {
            format!(
                "logs in {} (kept); telegraf log tail:\n{}",
                stack.dir.path().display(),
                stack.telegraf.proc.log_tail(30)
            )
        })
        .inspect_err(|_| stack.dir.disable_cleanup(true))
}

/// Runs phase 1 through Telegraf with one line of the shipped config replaced, and returns
/// the failure of the bucket checks, which there must be.
fn broken_histogram_failure(tools: &Tools, setting: &str, broken: &str) -> anyhow::Result<String> {
    let conf_dir = tempfile::tempdir()?;
    let shipped = std::fs::read_to_string(telegraf::shipped_dir().join("telegraf.conf"))?;
    ensure!(
        shipped.contains(setting),
        "shipped config lacks {setting:?}"
    );
    std::fs::create_dir_all(conf_dir.path().join("telegraf.d"))?;
    std::fs::write(
        conf_dir.path().join("telegraf.conf"),
        shipped.replacen(setting, broken, 1),
    )?;
    let mut stack = start_stack(tools, conf_dir.path())?;
    let sent = send_synthetic(&stack)?;
    wait_for_counts(&stack.influx, &mut stack.telegraf, &sent)?;
    stack.telegraf.stop(HISTOGRAM_PERIOD)?;
    let bounds = histogram::bounds_from_config(&shipped)?;
    match histogram::check(&stack.influx, DB, "total_ms", &bounds) {
        Ok(checked) => bail!("{broken:?} passed the bucket checks: {checked:?}"),
        Err(e) => Ok(format!("{e:#}")),
    }
}

/// The histogram assertions catch a broken aggregator option: with `cumulative = true`
/// buckets overlap (no `gt` tag, counts include lower buckets) and the check must fail.
#[test]
fn cumulative_histogram_is_caught() -> anyhow::Result<()> {
    let Some(tools) = require_tools("cumulative histogram test") else {
        return Ok(());
    };
    let msg = broken_histogram_failure(
        &tools,
        "\n  cumulative = false\n",
        "\n  cumulative = true\n",
    )?;
    ensure!(msg.contains("without gt tag"), "unexpected failure: {msg}");
    println!("cumulative = true caught: {msg}");
    Ok(())
}

/// Without the `grace` window Telegraf silently leaves points stamped before the current
/// period out of the histogram; phase 1 stamps its points 75 s back, so the counts differ.
#[test]
fn missing_grace_is_caught() -> anyhow::Result<()> {
    let Some(tools) = require_tools("histogram grace test") else {
        return Ok(());
    };
    let msg = broken_histogram_failure(&tools, "\n  grace = \"120s\"\n", "\n  grace = \"0s\"\n")?;
    println!("grace = 0s caught: {msg}");
    Ok(())
}

/// The health endpoint behind the container's health check turns 503 when Telegraf's
/// writes fail and its output buffer fills (here: InfluxDB is a closed port).
#[test]
fn telegraf_health_fails_when_writes_fail() -> anyhow::Result<()> {
    let Some(tools) = require_tools("telegraf health test") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let settings = Settings::for_test(
        format!("http://127.0.0.1:{}", free_tcp_port()?),
        "unused:token".to_owned(),
        DB,
    );
    let mut telegraf = Telegraf::start(
        &tools.telegraf,
        &telegraf::shipped_dir(),
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    let now = now_ns();
    let points: Vec<Point> = (0..1500)
        .map(|i| {
            Point::new("probe_round", now + i)
                .tag("scenario", Scenario::SyncFresh.as_str())
                .field("total_ms", 1.0)
        })
        .collect();
    let lines = encode(&points)?;
    send_tcp(telegraf.tcp, &lines)?;
    let health = format!("http://{}/", telegraf.health);
    let http = client(Duration::from_secs(5))?;
    let mut last = 0;
    wait_until("telegraf health 503", Duration::from_secs(60), || {
        telegraf.proc.ensure_running()?;
        last = http
            .get(&health)
            .send()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        Ok(last == 503)
    })
    .with_context(|| format!("last status {last}; log:\n{}", telegraf.proc.log_tail(20)))?;
    Ok(())
}
