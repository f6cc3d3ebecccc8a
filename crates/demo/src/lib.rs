//! The offline demo behind `make demo` (`probe-demo`): the demo backend in this
//! process (through `demo_backend`'s library), the four probe binaries one after
//! another against it, their points in one file, and the table computed from it
//! next to the latency model of the same backend settings.

pub mod app;
mod probes;

use probe_report::model::{LatencyModel, Service};
use probe_report::report::Report;
use probe_report::{LineProtocolError, Scenario, parse_line_protocol};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The in-process demo backend could not start.
    #[error("demo backend: {0}")]
    Backend(#[from] demo_backend::Error),
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
    /// The example service's short run could not be set up.
    #[error("example-app: {0}")]
    ExampleApp(String),
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
    /// Where the `probe-*` binaries are.
    pub bin_dir: PathBuf,
    /// The backend's services (one probe target each).
    pub services: Vec<demo_backend::Service>,
    /// The backend's extra TLS handshake delay.
    pub handshake_delay: Duration,
    /// The backend's emulated round trip.
    pub rtt: Duration,
    /// Time from the start of one round of a probe to the start of the next.
    pub interval: Duration,
    /// A targets file the probes read besides the backend's services; the latency
    /// model then is not shown (it knows only the demo's services).
    pub targets_file: Option<PathBuf>,
}

impl DemoConfig {
    /// The backend these settings describe: HTTPS only, on a free port of 127.0.0.1.
    pub fn backend(&self, cert_dir: &Path) -> demo_backend::Config {
        demo_backend::Config {
            http: None,
            https: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            cert_dir: cert_dir.to_path_buf(),
            handshake_delay: self.handshake_delay,
            rtt: self.rtt,
            services: self.services.clone(),
            ..Default::default()
        }
    }

    /// The latency model of the same settings.
    pub fn model(&self) -> LatencyModel {
        LatencyModel {
            services: self.services.iter().cloned().map(Service::from).collect(),
            rtt: self.rtt,
            handshake_delay: self.handshake_delay,
        }
    }
}

/// Runs the demo and computes the report from the points file.
///
/// Progress goes to `progress` (stderr in the binary).
pub fn run_demo(config: &DemoConfig, progress: &mut dyn Write) -> Result<Report, DemoError> {
    run_demo_with_app(config, progress).map(|(report, _)| report)
}

/// [`run_demo`], then a short run of the example service's outbound calls
/// against the same backend (`None` when its services are not configured).
pub fn run_demo_with_app(
    config: &DemoConfig,
    progress: &mut dyn Write,
) -> Result<(Report, Option<app::AppSummary>), DemoError> {
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
    for scenario in Scenario::ALL {
        let bin = config.bin_dir.join(scenario.binary());
        if !bin.is_file() {
            return Err(DemoError::MissingBinary(bin));
        }
    }

    let backend = demo_backend::start_in_background(config.backend(&out_dir.join("certs")))?;
    let https = backend.https_url().ok_or_else(|| {
        demo_backend::Error::Config("the demo backend has no HTTPS listener".into())
    })?;
    let _ = writeln!(
        progress,
        "demo-backend: {https}, services {}, handshake delay {}, rtt {}",
        demo_backend::format_services(&config.services),
        humantime::format_duration(config.handshake_delay),
        humantime::format_duration(config.rtt),
    );
    probes::run_all(config, &https, &backend.ca_pem_path, progress)?;
    let _ = writeln!(progress, "example-app: {} /combined calls", config.rounds);
    let app = app::run(
        &https,
        &backend.ca_pem_path,
        &config.services,
        config.rounds,
    )
    .map_err(DemoError::ExampleApp)?;
    backend.shutdown();

    let text = std::fs::read_to_string(&config.out).map_err(io(&config.out))?;
    let samples = parse_line_protocol(&text).map_err(|source| DemoError::Points {
        path: config.out.clone(),
        source,
    })?;
    let model = config.targets_file.is_none().then(|| config.model());
    Ok((Report::new(&samples, model.as_ref()), app))
}
