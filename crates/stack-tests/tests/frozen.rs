//! Telegraf frozen (SIGSTOP) for longer than the probes' TCP write timeout, then thawed
//! (SIGCONT), while a probe sends to it over TCP and over the acknowledged HTTP listener
//! (`inputs.influxdb_v2_listener`): no half line (no parse error in Telegraf's log), every
//! point the probe sent is stored once, and the histogram's bucket counts equal the stored
//! `http_request` rows (nothing counted twice).
//!
//! Needs Telegraf and influxd (`make tools`) and the workspace binaries (`cargo build
//! --workspace --bins`); without them the tests print a SKIPPED line, and fail under CI=true.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, ensure};
use stack_tests::histogram;
use stack_tests::influxdb::InfluxServer;
use stack_tests::telegraf::{self, LISTEN_TOKEN, Settings, Telegraf};
use stack_tests::tools::{in_ci, require_tools};
use stack_tests::workspace::{SummaryFile, start_demo_backend, workspace_bin};
use test_support::procs::{Proc, wait_until};

const DB: &str = "probes";
use stack_tests::telegraf::HISTOGRAM_PERIOD;
/// The probes' sink write timeout (probe-metrics' default) is 5 s. The socket buffers
/// fill in a few seconds; then a blocked write returns what it wrote at the timeout and
/// the next one times out with nothing written: 16 s leaves room for both.
const FREEZE: Duration = Duration::from_secs(16);
const COUNTED: [(&str, &str); 4] = [
    ("http_request", "total_ms"),
    ("http_error", "count"),
    ("probe_round", "total_ms"),
    ("probe_sink", "sent"),
];

/// Sleeps until 0.5 s after the next wall-clock multiple of `period` (Telegraf aligns its
/// aggregation periods to the clock).
fn wait_for_period_start(period: Duration) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let into = Duration::from_nanos((now.as_nanos() % period.as_nanos()) as u64);
    std::thread::sleep(period - into + Duration::from_millis(500));
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Tcp,
    Http,
}

fn sink_args(t: Transport, telegraf: &Telegraf) -> Vec<String> {
    match t {
        Transport::Tcp => vec![
            "--sink=telegraf".into(),
            format!("--telegraf=tcp://{}", telegraf.tcp),
        ],
        Transport::Http => vec![
            "--sink=influxdb".into(),
            format!("--influx-url=http://{}", telegraf.http),
            "--influx-org=ignored".into(),
            format!("--influx-bucket={DB}"),
            format!("--influx-token={LISTEN_TOKEN}"),
        ],
    }
}

/// The shipped config with one addition: the TCP listener's socket receive buffer fixed
/// at 64 KiB. Linux would otherwise grow it up to net.ipv4.tcp_rmem's maximum (32 MiB
/// here), which a frozen Telegraf would take minutes of probe traffic to fill.
fn small_tcp_buffer_config(dir: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let shipped = std::fs::read_to_string(telegraf::shipped_dir().join("telegraf.conf"))?;
    let anchor = "  max_connections = 64\n";
    ensure!(shipped.contains(anchor), "telegraf.conf lacks {anchor:?}");
    let config_dir = dir.join("telegraf");
    std::fs::create_dir_all(config_dir.join("telegraf.d"))?;
    std::fs::write(
        config_dir.join("telegraf.conf"),
        shipped.replacen(
            anchor,
            &format!("{anchor}  read_buffer_size = \"64KiB\"\n"),
            1,
        ),
    )?;
    Ok(config_dir)
}

fn frozen_telegraf(t: Transport) -> anyhow::Result<()> {
    let Some(tools) = require_tools("frozen telegraf test") else {
        return Ok(());
    };
    let probe_bin = match workspace_bin("probe-async-reused") {
        Ok(bin) => bin,
        Err(e) if !in_ci() => {
            eprintln!("SKIPPED frozen telegraf test: {e:#}");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let dir = tempfile::Builder::new().prefix("stack-frozen-").tempdir()?;
    let influx = InfluxServer::start(&tools.influxd, dir.path())?;
    influx.create_database(DB)?;
    let settings = Settings::for_test(influx.url(), influx.token.clone(), DB);
    let config_dir = small_tcp_buffer_config(dir.path())?;
    let mut telegraf = Telegraf::start(
        &tools.telegraf,
        &config_dir,
        &settings,
        &dir.path().join("telegraf.log"),
    )?;
    let result = (|| -> anyhow::Result<()> {
        let backend = start_demo_backend(dir.path())?;
        let https = backend.https_url().context("no https listener")?;
        // Four fast targets every 10 ms: ~400 points (~100 kB) a second, enough to fill the
        // socket buffers of a frozen Telegraf early in the freeze, and few enough for the
        // sink's queue (10,000 points) to hold the rest of the freeze.
        let summary = SummaryFile::new()?;
        // Probe, freeze and thaw inside one histogram period: Telegraf's aggregator only
        // moves to the next period on its own tick, so points stamped after a period's end
        // that arrive while it is still frozen in that period are discarded ("outside
        // aggregation window"), an undercount that is Telegraf's, not the sink's.
        wait_for_period_start(HISTOGRAM_PERIOD);
        let mut cmd = Command::new(&probe_bin);
        cmd.arg(summary.arg())
            .args(sink_args(t, &telegraf))
            .args(["--interval=10ms", "--timeout=5s", "--ca-cert"])
            .arg(&backend.ca_pem_path)
            .args((0..4).map(|i| format!("h{i}={https}/health")))
            .env_remove("PROBE_TARGETS");
        let mut probe = Proc::spawn("probe", &mut cmd, &dir.path().join("probe.log"))?;
        std::thread::sleep(Duration::from_secs(3));
        probe.ensure_running()?;
        telegraf.proc.signal("STOP")?;
        std::thread::sleep(FREEZE);
        telegraf.proc.signal("CONT")?;
        std::thread::sleep(Duration::from_secs(4));
        let status = probe.terminate(Duration::from_secs(30))?;
        let log = probe.log_text();
        ensure!(status.success(), "probe exited with {status}:\n{log}");
        drop(backend);

        let done = summary.read()?;
        if let Transport::Tcp = t {
            // Else the test proved nothing about a stalled connection.
            ensure!(
                log.contains("receiver stalled"),
                "the sink's writes never stalled; freeze longer or send more:\n{log}"
            );
        }
        ensure!(done.dropped == 0, "points dropped: {done:?}\n{log}");
        ensure!(done.resent == 0, "points re-sent: {done:?}\n{log}");
        let mut sent = BTreeMap::new();
        for (measurement, _) in COUNTED {
            let n = done
                .points(measurement)
                .with_context(|| format!("no {measurement} in {done:?}"))?;
            sent.insert(measurement, n);
        }
        ensure!(
            done.sent == sent.values().sum::<u64>(),
            "the sink's sent differs from the points made: {done:?}"
        );

        let stored = |influx: &InfluxServer| -> anyhow::Result<BTreeMap<&str, u64>> {
            COUNTED
                .iter()
                .map(|(m, f)| Ok((*m, influx.count(DB, m, f, "")?)))
                .collect()
        };
        let mut last = BTreeMap::new();
        wait_until("points in InfluxDB", Duration::from_secs(60), || {
            telegraf.proc.ensure_running()?;
            last = stored(&influx)?;
            Ok(last == sent)
        })
        .with_context(|| format!("sent {sent:?}, stored {last:?}"))?;
        telegraf.stop(HISTOGRAM_PERIOD)?;
        let telegraf_log = telegraf.proc.log_text();
        ensure!(
            !telegraf_log.contains("parse error"),
            "Telegraf could not parse what it got:\n{}",
            telegraf_log
                .lines()
                .filter(|l| l.contains("parse error"))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
        let bounds = histogram::bounds_from_config(&std::fs::read_to_string(
            telegraf::shipped_dir().join("telegraf.conf"),
        )?)?;
        let checked = histogram::check(&influx, DB, "total_ms", &bounds)?;
        let _ = writeln!(
            std::io::stderr(),
            "frozen telegraf ({t:?}): {} points sent and stored once, histogram {checked:?}",
            done.sent
        );
        Ok(())
    })();
    result
        .with_context(|| format!("logs in {} (kept)", dir.path().display()))
        .inspect_err(|_| {
            let _ = dir.keep();
        })
}

#[test]
fn frozen_telegraf_over_tcp_gets_no_half_line_and_no_duplicate() -> anyhow::Result<()> {
    frozen_telegraf(Transport::Tcp)
}

#[test]
fn frozen_telegraf_over_http_gets_every_batch_once() -> anyhow::Result<()> {
    frozen_telegraf(Transport::Http)
}
