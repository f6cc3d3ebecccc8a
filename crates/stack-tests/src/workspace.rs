//! The workspace's own programs: the demo backend (in-process) and the probe binaries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

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

/// The demo backend in this process, HTTPS on a free port, certificates in `dir`;
/// stopped when dropped. Its `https_url()` and `ca_pem_path` are what the probes need.
pub fn start_demo_backend(dir: &Path) -> anyhow::Result<demo_backend::Running> {
    demo_backend::start_in_background(demo_backend::Config {
        http: None,
        cert_dir: dir.join("demo-certs"),
        ..Default::default()
    })
    .context("start the demo backend")
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
