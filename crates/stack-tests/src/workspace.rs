//! The workspace's own binaries: the demo backend and the probes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::procs::{Proc, wait_until};
use crate::tools::probe_bin_dir;

/// The workspace binary `name`, or an error saying how to build it.
pub fn workspace_bin(name: &str) -> anyhow::Result<PathBuf> {
    let path = probe_bin_dir().join(name);
    ensure!(
        path.is_file(),
        "{} not found; run `cargo build --workspace --bins` (or set PROBE_BIN_DIR)",
        path.display()
    );
    Ok(path)
}

/// The demo backend on free ports: (process, https port, CA path).
pub fn start_demo_backend(dir: &Path) -> anyhow::Result<(Proc, u16, PathBuf)> {
    let bin = workspace_bin("demo-backend")?;
    let cert_dir = dir.join("demo-certs");
    let mut proc = Proc::spawn(
        "demo-backend",
        Command::new(bin)
            .args([
                "--http",
                "127.0.0.1:0",
                "--https",
                "127.0.0.1:0",
                "--cert-dir",
            ])
            .arg(&cert_dir),
        &dir.join("demo-backend.log"),
    )?;
    let mut ready = None;
    wait_until("demo-backend listening", Duration::from_secs(60), || {
        proc.ensure_running()?;
        ready = proc
            .log_text()
            .lines()
            .find(|l| l.starts_with("demo-backend: listening"))
            .map(str::to_owned);
        Ok(ready.is_some())
    })?;
    let line = ready.unwrap_or_default();
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_owned)
            .with_context(|| format!("no {key} in {line:?}"))
    };
    let https: SocketAddr = field("https=")?.parse()?;
    let ca = PathBuf::from(field("ca=")?);
    Ok((proc, https.port(), ca))
}

/// Parses the probe's closing stderr line
/// `...: done: ... points http_request=N http_error=N probe_round=N probe_sink=N sink=S sent=N dropped=N`.
pub fn parse_done_line(stderr: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains(": done:"))
        .with_context(|| format!("no done line in probe stderr:\n{stderr}"))?;
    Ok(line
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}
