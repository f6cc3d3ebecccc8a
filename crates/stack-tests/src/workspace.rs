//! The workspace's own programs: the demo backend (in-process) and the probe binaries.

use std::ffi::OsString;
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

/// Where a probe writes its counts at exit (`--summary-json`): a temporary
/// file, removed when dropped. Tests read the counts here, not from log text.
pub struct SummaryFile(tempfile::TempPath);

impl SummaryFile {
    /// A new, empty temporary file.
    pub fn new() -> anyhow::Result<Self> {
        let file = tempfile::NamedTempFile::new().context("create a summary file")?;
        Ok(Self(file.into_temp_path()))
    }

    /// The probe argument `--summary-json=PATH`.
    pub fn arg(&self) -> OsString {
        let mut arg = OsString::from("--summary-json=");
        arg.push(self.0.as_os_str());
        arg
    }

    /// The counts the probe wrote.
    pub fn read(&self) -> anyhow::Result<probe::Summary> {
        Ok(probe::Summary::read(&self.0)?)
    }
}
