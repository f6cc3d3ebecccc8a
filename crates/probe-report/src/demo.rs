//! The offline demo: a local demo backend, the four probes one after another,
//! their points in one file, and the table computed from it.

mod backend;
mod probes;

use crate::model::{LatencyModel, Service};
use crate::report::Report;
use crate::{LineProtocolError, parse_line_protocol};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use backend::{Backend, ReadyLine, parse_ready_line};

/// Default backend services: a sync-fresh round costs the most, async-reused the least.
pub const DEFAULT_SERVICES: &str = "fast=20ms~2ms,slow=40ms~3ms";
/// Default extra TLS handshake delay of the backend.
pub const DEFAULT_HANDSHAKE_DELAY: &str = "35ms";
/// Default emulated round trip of the backend.
pub const DEFAULT_RTT: &str = "0ms";

/// What can make the demo fail.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A binary is not in the binary directory.
    #[error("{0} not found; build the binaries first: cargo build --workspace --bins")]
    MissingBinary(PathBuf),
    /// A process could not be started.
    #[error("cannot start {bin}: {source}")]
    Spawn {
        /// The binary.
        bin: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The backend exited or stayed silent instead of printing its ready line.
    #[error("demo-backend did not report ready within {timeout:?}; its stderr:\n{stderr}")]
    BackendNotReady {
        /// How long we waited.
        timeout: Duration,
        /// What it printed.
        stderr: String,
    },
    /// A probe exited with an error.
    #[error("{probe} failed ({status}); its stderr:\n{stderr}")]
    ProbeFailed {
        /// The probe binary name.
        probe: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The points file cannot be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The probes wrote something that is not line protocol.
    #[error("{path}: {source}")]
    Points {
        /// The file.
        path: PathBuf,
        /// Why.
        source: LineProtocolError,
    },
}

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Rounds per probe.
    pub rounds: u32,
    /// Where the points of all four probes go (truncated first).
    pub out: PathBuf,
    /// Where `demo-backend` and the `probe-*` binaries are.
    pub bin_dir: PathBuf,
    /// The backend's services (one probe target each).
    pub services: Vec<Service>,
    /// The backend's extra TLS handshake delay.
    pub handshake_delay: Duration,
    /// The backend's emulated round trip.
    pub rtt: Duration,
    /// Pause between rounds of a probe.
    pub interval: Duration,
}

impl DemoConfig {
    /// The latency model matching this backend configuration.
    pub fn model(&self) -> LatencyModel {
        LatencyModel {
            services: self.services.clone(),
            rtt: self.rtt,
            handshake_delay: self.handshake_delay,
        }
    }
}

/// Runs the demo and computes the report from the points file.
///
/// Progress goes to `progress` (stderr in the binary).
pub fn run_demo(config: &DemoConfig, progress: &mut dyn Write) -> Result<Report, DemoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    let out_dir = match config.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;
    std::fs::File::create(&config.out).map_err(io(&config.out))?;
    for scenario in crate::Scenario::ALL {
        existing(&config.bin_dir.join(scenario.binary()))?;
    }

    let backend = Backend::start(config, &out_dir.join("certs"))?;
    let _ = writeln!(
        progress,
        "demo-backend: https on port {}, services {}, handshake delay {}, rtt {}",
        backend.ready.https_port,
        backend::services_flag(&config.services),
        humantime::format_duration(config.handshake_delay),
        humantime::format_duration(config.rtt),
    );
    probes::run_all(config, &backend.ready, progress)?;
    drop(backend);

    let text = std::fs::read_to_string(&config.out).map_err(io(&config.out))?;
    let samples = parse_line_protocol(&text).map_err(|source| DemoError::Points {
        path: config.out.clone(),
        source,
    })?;
    Ok(Report::new(&samples, Some(&config.model())))
}

fn existing(bin: &Path) -> Result<(), DemoError> {
    if bin.is_file() {
        Ok(())
    } else {
        Err(DemoError::MissingBinary(bin.to_path_buf()))
    }
}
