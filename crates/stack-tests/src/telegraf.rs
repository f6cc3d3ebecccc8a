//! Telegraf started with the shipped config; only ports, output target and periods come
//! from environment variables the config reads.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use crate::tools::workspace_root;
use test_support::net::{free_tcp_port, free_udp_port};
use test_support::procs::{Proc, retry_on_port_clash, wait_until};

/// The shipped config directory (`telegraf/`, mounted at /etc/telegraf by the stack).
pub fn shipped_dir() -> PathBuf {
    workspace_root().join("telegraf")
}

/// `telegraf --version`, e.g. `1.39.3`.
pub fn version(bin: &Path) -> anyhow::Result<String> {
    let out = Command::new(bin).arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "Telegraf 1.39.3 (git: ...)"
    text.split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .with_context(|| format!("unexpected telegraf --version output {text:?}"))
}

/// The token Telegraf's HTTP listener requires in tests.
pub const LISTEN_TOKEN: &str = "probe-writer-token";

/// The shipped histogram period (`TELEGRAF_HISTOGRAM_PERIOD`'s default), used by the tests.
pub const HISTOGRAM_PERIOD: Duration = Duration::from_secs(30);

/// Where Telegraf sends its output and how fast it aggregates and flushes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub influx_url: String,
    /// `INFLUX_TOKEN`.
    pub token: String,
    pub bucket: String,
    pub histogram_period: String,
    pub flush_interval: String,
    pub interval: String,
}

impl Settings {
    /// The tests' settings: Telegraf writes to `influx_url` / `bucket` with `token`, the
    /// shipped 30 s histogram period, outputs flushed and internal stats gathered every
    /// second (SIGTERM pushes the open histogram period).
    pub fn for_test(influx_url: String, token: String, bucket: &str) -> Self {
        Self {
            influx_url,
            token,
            bucket: bucket.to_owned(),
            histogram_period: format!("{}s", HISTOGRAM_PERIOD.as_secs()),
            flush_interval: "1s".to_owned(),
            interval: "1s".to_owned(),
        }
    }

    /// Environment for the config; `udp`/`tcp`/`http` are the listener addresses (`http`:
    /// the acknowledged InfluxDB v2 write API), `health` the health endpoint's.
    pub fn env(
        &self,
        udp: SocketAddr,
        tcp: SocketAddr,
        http: SocketAddr,
        health: SocketAddr,
    ) -> Vec<(String, String)> {
        [
            ("INFLUX_URL", self.influx_url.clone()),
            ("INFLUX_TOKEN", self.token.clone()),
            ("INFLUX_ORG", "test-org".to_owned()),
            ("INFLUX_BUCKET", self.bucket.clone()),
            ("TELEGRAF_LISTEN_UDP", format!("udp://{udp}")),
            ("TELEGRAF_LISTEN_TCP", format!("tcp://{tcp}")),
            ("TELEGRAF_LISTEN_HTTP", http.to_string()),
            ("TELEGRAF_LISTEN_TOKEN", LISTEN_TOKEN.to_owned()),
            ("TELEGRAF_HISTOGRAM_PERIOD", self.histogram_period.clone()),
            ("TELEGRAF_FLUSH_INTERVAL", self.flush_interval.clone()),
            ("TELEGRAF_INTERVAL", self.interval.clone()),
            ("TELEGRAF_HEALTH_ADDRESS", format!("http://{health}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// A running Telegraf with its listener addresses.
#[derive(Debug)]
pub struct Telegraf {
    pub proc: Proc,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    /// The `inputs.influxdb_v2_listener` address (needs [`LISTEN_TOKEN`]).
    pub http: SocketAddr,
    /// The `outputs.health` endpoint.
    pub health: SocketAddr,
}

impl Telegraf {
    /// Starts `telegraf --config <config_dir>/telegraf.conf --config-directory <config_dir>/telegraf.d`
    /// and waits until both listeners are up.
    pub fn start(
        bin: &Path,
        config_dir: &Path,
        settings: &Settings,
        log: &Path,
    ) -> anyhow::Result<Self> {
        retry_on_port_clash(|| Self::start_once(bin, config_dir, settings, log))
    }

    fn start_once(
        bin: &Path,
        config_dir: &Path,
        settings: &Settings,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let udp: SocketAddr = ([127, 0, 0, 1], free_udp_port()?).into();
        let tcp: SocketAddr = ([127, 0, 0, 1], free_tcp_port()?).into();
        let http: SocketAddr = ([127, 0, 0, 1], free_tcp_port()?).into();
        let health: SocketAddr = ([127, 0, 0, 1], free_tcp_port()?).into();
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(config_dir.join("telegraf.conf"))
            .arg("--config-directory")
            .arg(config_dir.join("telegraf.d"))
            .arg("--debug")
            .envs(settings.env(udp, tcp, http, health));
        let mut proc = Proc::spawn("telegraf", &mut cmd, log)?;
        let udp_ready = format!("Listening on udp://{udp}");
        wait_until("telegraf listeners", Duration::from_secs(60), || {
            proc.ensure_running()?;
            Ok(proc.log_text().contains(&udp_ready)
                && TcpStream::connect(tcp).is_ok()
                && TcpStream::connect(http).is_ok())
        })?;
        Ok(Self {
            proc,
            udp,
            tcp,
            http,
            health,
        })
    }

    /// Stops Telegraf with SIGTERM, which pushes the open aggregation period and
    /// flushes the outputs; fails if it did not exit cleanly.
    ///
    /// Histogram rows are stamped with the push time at one-second precision, so the
    /// shutdown push must not fall in the same second as the regular push at a period
    /// boundary (periods are aligned to the wall clock), or InfluxDB would overwrite one
    /// with the other. `period` is the histogram period in use.
    pub fn stop(&mut self, period: Duration) -> anyhow::Result<()> {
        let period_ms = period.as_millis().max(1);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let into_period = now_ms % period_ms;
        if into_period < 2_000 || period_ms - into_period < 1_000 {
            let wait = (period_ms + 2_000 - into_period) % period_ms;
            std::thread::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(2_000)));
        }
        let status = self.proc.terminate(Duration::from_secs(60))?;
        if !status.success() {
            bail!(
                "telegraf exited with {status}; log:\n{}",
                self.proc.log_tail(40)
            );
        }
        Ok(())
    }
}

/// Runs `telegraf config check` style validation: `--test` with the given config,
/// returning combined output; fails when Telegraf rejects the config.
pub fn check_config(bin: &Path, config_dir: &Path, settings: &Settings) -> anyhow::Result<String> {
    let udp: SocketAddr = ([127, 0, 0, 1], free_udp_port()?).into();
    let tcp: SocketAddr = ([127, 0, 0, 1], free_tcp_port()?).into();
    let out = Command::new(bin)
        .arg("--config")
        .arg(config_dir.join("telegraf.conf"))
        .arg("--config-directory")
        .arg(config_dir.join("telegraf.d"))
        .arg("--test")
        .envs(settings.env(
            udp,
            tcp,
            ([127, 0, 0, 1], free_tcp_port()?).into(),
            ([127, 0, 0, 1], 9).into(),
        ))
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("telegraf --test rejected {}: {text}", config_dir.display());
    }
    Ok(text)
}
