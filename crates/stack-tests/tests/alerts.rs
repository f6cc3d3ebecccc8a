//! The Grafana alert rules against real data: two pipelines (Telegraf with the shipped config
//! -> InfluxDB 1.8), one fed a healthy data set, one a faulted one, each by the real probes
//! against the demo backend, plus stamped points where a fault cannot be made live in a test
//! (a probe stopped minutes ago, a probe's dropped counter). The certificate 2 days from
//! expiry is real: a second demo backend issues it. Every rule is evaluated the way Grafana does (see `stack_tests::alerts`): it must
//! fire on the faulted set for the right target or scenario and only that one, and stay
//! quiet on the healthy set; a query without the series it needs is a failure. Then broken
//! variants of the rules (wrong field, wrong measurement, threshold in the wrong unit) must
//! fail the same checks.
//!
//! Needs Telegraf, influxd (`make tools`) and the workspace binaries; without the tools the
//! test prints SKIPPED, and fails under CI=true.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, ensure};
use probe_metrics::Point;
use stack_tests::alerts::{self, Labels, Rule};
use stack_tests::influxdb::{InfluxServer, series};
use stack_tests::telegraf::{self, Settings, Telegraf};
use stack_tests::tools::{Tools, require_tools, workspace_root};
use stack_tests::workspace::{SummaryFile, start_demo_backend, workspace_bin};
use test_support::procs::wait_until;

const DB: &str = "probes";
const HEALTHY_SCENARIOS: [&str; 4] = ["sync-fresh", "sync-reused", "async-fresh", "async-reused"];
/// The faulted set's probe `async-reused` stopped (stamped rounds, 10 to 5.5 min ago).
const FAULTED_SCENARIOS: [&str; 3] = ["sync-fresh", "sync-reused", "async-fresh"];
const STOPPED_SCENARIO: &str = "async-reused";
/// The scenario whose sink drops points in the faulted set (stamped probe_sink).
const DROPPING_SCENARIO: &str = "sync-reused";
/// The `location` of every point, probes' and hand-made: rules grouped by location
/// fire with it as a label.
const LOCATION: &str = "test-site";

/// uid -> the one label (key, value) each rule must fire for on the faulted set.
const EXPECTED: [(&str, &str, &str); 7] = [
    ("bct-calls-failing", "target", "failing"),
    ("bct-calls-slow", "target", "slow"),
    ("bct-cert-expiring", "target", "expiring"),
    ("bct-cert-expiring-critical", "target", "expiring"),
    ("bct-probe-silent", "scenario", STOPPED_SCENARIO),
    ("bct-telegraf-dropped", "output", "influxdb_v2"),
    ("bct-probe-sink-dropped", "scenario", DROPPING_SCENARIO),
];

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

struct Pipeline {
    telegraf: Telegraf,
    influx: InfluxServer,
    dir: tempfile::TempDir,
}

fn start_pipeline(tools: &Tools, config_dir: &Path, name: &str) -> anyhow::Result<Pipeline> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("alerts-{name}-"))
        .tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database(DB)?;
    let settings = Settings::for_test(influx.url(), influx.token.clone(), DB);
    let telegraf = Telegraf::start(
        &tools.telegraf,
        config_dir,
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    let p = Pipeline {
        telegraf,
        influx,
        dir,
    };
    // Telegraf's own internal_write reaches InfluxDB before any test data.
    wait_for(&p, "first internal_write point", |p| {
        Ok(p.influx
            .count(DB, "internal_write", "metrics_written", "")?
            > 0)
    })?;
    Ok(p)
}

fn wait_for(
    p: &Pipeline,
    what: &str,
    mut done: impl FnMut(&Pipeline) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    wait_until(what, Duration::from_secs(60), || done(p))
        .with_context(|| format!("telegraf log:\n{}", p.telegraf.proc.log_tail(20)))
}

fn send_tcp(addr: SocketAddr, lines: &[String]) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    stream.write_all(text.as_bytes())?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)?;
    Ok(())
}

/// Stamped points built with the probes' own Point type.
fn send_points(p: &Pipeline, points: &[Point]) -> anyhow::Result<()> {
    let lines = points
        .iter()
        .map(|pt| pt.to_line().map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    send_tcp(p.telegraf.tcp, &lines)
}

/// Runs probe-SCENARIO for `rounds` rounds against `targets`, points to Telegraf over TCP.
fn run_probe(
    p: &Pipeline,
    scenario: &str,
    ca: &Path,
    targets: &[String],
    rounds: u32,
) -> anyhow::Result<()> {
    let summary = SummaryFile::new()?;
    let out = Command::new(workspace_bin(&format!("probe-{scenario}"))?)
        .arg(summary.arg())
        .args(["--sink", "telegraf", "--telegraf"])
        .arg(format!("tcp://{}", p.telegraf.tcp))
        .args(["--location", LOCATION])
        .args(["--interval", "0s", "--timeout", "5s", "--rounds"])
        .arg(rounds.to_string())
        .arg("--ca-cert")
        .arg(ca)
        .args(targets)
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
    Ok(())
}

fn probe_rounds(p: &Pipeline) -> anyhow::Result<u64> {
    p.influx.count(DB, "probe_round", "total_ms", "")
}

/// Healthy: the demo backend's fast and slow services (20 and 60 ms), every scenario
/// probing, the demo backend's long-lived certificate, nothing dropped.
fn feed_healthy(p: &Pipeline) -> anyhow::Result<demo_backend::Running> {
    let backend = start_demo_backend(p.dir.path())?;
    let base = backend.https_url().context("no https listener")?;
    let ca = backend.ca_pem_path.clone();
    let targets = [
        format!("fast={base}/api/fast"),
        format!("slow={base}/api/slow"),
    ];
    for scenario in HEALTHY_SCENARIOS {
        run_probe(p, scenario, &ca, &targets, 2)?;
    }
    wait_for(p, "healthy data in InfluxDB", |p| {
        Ok(probe_rounds(p)? >= 8
            && p.influx
                .count(DB, "http_request", "cert_expires_in_days", "")?
                >= 2)
    })?;
    Ok(backend)
}

/// Faulted: a target answering 503 to every call, a 1.5 s service, a probe that stopped
/// 5.5 min ago, a probe whose sink drops, a backend whose certificate expires in 2 days
/// (probed as `expiring`), and a Telegraf
/// whose output buffer overflowed (a burst larger than its buffer, for real).
fn feed_faulted(p: &Pipeline) -> anyhow::Result<Vec<demo_backend::Running>> {
    let burst: Vec<String> = (0..3000)
        .map(|i| format!("alert_test_burst,n=x v={i}i {}", now_ns() + i))
        .collect();
    send_tcp(p.telegraf.tcp, &burst)?;
    let backend = start_demo_backend(p.dir.path())?;
    let base = backend.https_url().context("no https listener")?;
    let ca = backend.ca_pem_path.clone();
    // A second backend whose server certificate expires in 2 days (same CA).
    let expiring = demo_backend::start_in_background(demo_backend::Config {
        http: None,
        cert_dir: p.dir.path().join("demo-certs"),
        cert_valid_days: Some(2),
        ..Default::default()
    })
    .context("start the demo backend with a 2-day certificate")?;
    let expiring_base = expiring.https_url().context("no https listener")?;
    let targets = [
        format!("fast={base}/api/fast"),
        format!("failing={base}/status/503"),
        format!("slow={base}/delay/1500"),
        format!("expiring={expiring_base}/api/fast"),
    ];
    for scenario in FAULTED_SCENARIOS {
        run_probe(p, scenario, &ca, &targets, 2)?;
    }
    let now = now_ns();
    let s = 1_000_000_000_i64;
    let mut points = Vec::new();
    // The stopped probe: a round every 3 s from 10 to 5.5 minutes ago.
    let mut t = now - 600 * s;
    while t < now - 330 * s {
        points.push(
            Point::new("probe_round", t)
                .tag("scenario", STOPPED_SCENARIO)
                .tag("location", LOCATION)
                .field("total_ms", 90.0)
                .field("requests", 3_i64)
                .field("errors", 1_i64),
        );
        t += 3 * s;
    }
    for (i, dropped) in [0_i64, 2, 4, 9].into_iter().enumerate() {
        points.push(
            Point::new("probe_sink", now - (240 - 60 * i as i64) * s)
                .tag("scenario", DROPPING_SCENARIO)
                .tag("location", LOCATION)
                .tag("sink", "telegraf")
                .field("sent", 100 * (i as i64 + 1))
                .field("dropped", dropped),
        );
    }
    send_points(p, &points)?;
    wait_for(p, "faulted data in InfluxDB", |p| {
        let dropped = series(&p.influx.query(
            DB,
            "SELECT max(\"metrics_dropped\") FROM \"internal_write\" WHERE time > 0",
        )?)
        .first()
        .and_then(|s| s.values.first())
        .and_then(|r| r.get(1))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0);
        Ok(probe_rounds(p)? >= 6 + 90
            && p.influx
                .count(DB, "http_request", "cert_expires_in_days", "")?
                >= 2
            && p.influx.count(DB, "probe_sink", "dropped", "")? >= 6 + 4
            && dropped > 0.0)
    })?;
    Ok(vec![backend, expiring])
}

/// The Telegraf config with a buffer too small for a burst (the shipped one otherwise).
fn small_buffer_config() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let shipped = std::fs::read_to_string(telegraf::shipped_dir().join("telegraf.conf"))?;
    for line in ["metric_buffer_limit = 200000", "metric_batch_size = 5000"] {
        ensure!(
            shipped.contains(line),
            "shipped telegraf.conf lacks {line:?}"
        );
    }
    let conf = shipped
        .replacen(
            "metric_buffer_limit = 200000",
            "metric_buffer_limit = 500",
            1,
        )
        .replacen("metric_batch_size = 5000", "metric_batch_size = 250", 1);
    std::fs::create_dir_all(dir.path().join("telegraf.d"))?;
    std::fs::write(dir.path().join("telegraf.conf"), conf)?;
    Ok(dir)
}

fn label_text(l: &Labels) -> String {
    l.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Problems of `rules` against both data sets; empty when every rule behaves.
fn check_rules(
    rules: &[Rule],
    healthy: &Pipeline,
    faulted: &Pipeline,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let expected: BTreeMap<&str, (&str, &str)> =
        EXPECTED.iter().map(|(u, k, v)| (*u, (*k, *v))).collect();
    let uids: Vec<&str> = rules.iter().map(|r| r.uid.as_str()).collect();
    ensure!(
        uids.len() == EXPECTED.len() && uids.iter().all(|u| expected.contains_key(u)),
        "rules {uids:?}: each needs an expectation here"
    );
    let now_ms = now_ns() / 1_000_000;
    for rule in rules {
        let before = problems.len();
        let (key, value) = expected[rule.uid.as_str()];
        let faulted_eval = alerts::evaluate(rule, &faulted.influx, DB, now_ms)?;
        let healthy_eval = alerts::evaluate(rule, &healthy.influx, DB, now_ms)?;
        // A query without series where the data set has them is a failure, not a pass.
        for (set, eval) in [("faulted", &faulted_eval), ("healthy", &healthy_eval)] {
            for q in &rule.queries {
                let empty = eval.series.get(&q.ref_id).is_none_or(Vec::is_empty);
                // The healthy set has no failed call at all: no http_error series.
                let may_be_empty = set == "healthy" && q.query.contains("FROM \"http_error\"");
                if empty && !may_be_empty {
                    problems.push(format!(
                        "{} on the {set} set: query {} returned no series: {}",
                        rule.uid, q.ref_id, q.query
                    ));
                }
            }
        }
        let firing = faulted_eval.firing(rule);
        let mut want: Labels = [(key.to_owned(), value.to_owned())].into_iter().collect();
        if rule
            .queries
            .iter()
            .any(|q| q.query.contains("\"location\""))
        {
            want.insert("location".to_owned(), LOCATION.to_owned());
        }
        if firing != vec![want.clone()] {
            problems.push(format!(
                "{} on the faulted set: firing for [{}], want exactly [{}]; numbers {:?}",
                rule.uid,
                firing.iter().map(label_text).collect::<Vec<_>>().join("; "),
                label_text(&want),
                faulted_eval.numbers
            ));
        }
        let quiet = healthy_eval.firing(rule);
        if !quiet.is_empty() {
            problems.push(format!(
                "{} on the healthy set: firing for [{}]; numbers {:?}",
                rule.uid,
                quiet.iter().map(label_text).collect::<Vec<_>>().join("; "),
                healthy_eval.numbers
            ));
        }
        if problems.len() > before {
            continue;
        }
        println!(
            "{}: faulted fires for {} only; healthy quiet ({} series)",
            rule.uid,
            label_text(&want),
            healthy_eval.series.values().map(Vec::len).sum::<usize>()
        );
    }
    Ok(problems)
}

/// The rules with one edit to the rendered file (it must apply).
fn broken(env: &BTreeMap<String, String>, from: &str, to: &str) -> anyhow::Result<Vec<Rule>> {
    let path = workspace_root().join("grafana/alerting/rules.json");
    let rendered = alerts::render(&std::fs::read_to_string(path)?, env)?;
    ensure!(rendered.contains(from), "rules lack {from:?}");
    alerts::parse_rules(&rendered.replacen(from, to, 1))
}

#[test]
fn alert_rules_fire_on_faults_and_stay_quiet_when_healthy() -> anyhow::Result<()> {
    let Some(tools) = require_tools("alert rules test") else {
        return Ok(());
    };
    let root = workspace_root();
    let env_path = root.join(".env.example");
    let rules = alerts::load(&root, &env_path)?;

    let mut healthy = start_pipeline(&tools, &telegraf::shipped_dir(), "healthy")?;
    let small = small_buffer_config()?;
    let mut faulted = start_pipeline(&tools, small.path(), "faulted")?;
    let result = (|| -> anyhow::Result<()> {
        // The slower faulted set first: every probe's last rounds must still be inside the
        // silence window (about 2 min) when the rules are evaluated.
        let mut backends = feed_faulted(&faulted)?;
        backends.push(feed_healthy(&healthy)?);
        let problems = check_rules(&rules, &healthy, &faulted)?;
        ensure!(
            problems.is_empty(),
            "alert rules:\n  {}",
            problems.join("\n  ")
        );

        // Broken rules fail the same checks.
        let mut env = alerts::env_file(&env_path)?;
        let defaults = env.clone();
        let variants: Vec<(&str, Vec<Rule>)> = vec![
            (
                "wrong field",
                broken(&defaults, "cert_expires_in_days", "cert_expires_days")?,
            ),
            (
                "wrong measurement",
                broken(
                    &defaults,
                    "FROM \\\"http_error\\\"",
                    "FROM \\\"http_errors\\\"",
                )?,
            ),
            ("threshold in seconds", {
                env.insert("ALERT_P95_MS".to_owned(), "1.5".to_owned());
                alerts::load_with(&root, &env)?
            }),
        ];
        for (what, rules) in variants {
            let problems = check_rules(&rules, &healthy, &faulted)?;
            ensure!(!problems.is_empty(), "{what}: the broken rules passed");
            println!("{what} caught: {}", problems[0]);
        }
        for b in backends {
            b.shutdown();
        }
        Ok(())
    })();
    result
        .with_context(|| {
            format!(
                "logs in {} and {} (kept)",
                healthy.dir.path().display(),
                faulted.dir.path().display()
            )
        })
        .inspect_err(|_| {
            healthy.dir.disable_cleanup(true);
            faulted.dir.disable_cleanup(true);
        })
}
