//! A validated probe configuration.

use std::path::{Path, PathBuf};
use std::time::Duration;

use probe_metrics::{InfluxConfig, SinkConfig};
use reqwest_timing::{ConnectionPolicy, TlsOptions};

use crate::cli::{Args, SinkKind};
use crate::http_mode::HttpMode;
use crate::scenario::Scenario;
use crate::target::Target;
use crate::targets_file::{self, FileError};

/// Everything a probe needs to run.
#[derive(Debug)]
pub struct Config {
    /// Which probe.
    pub scenario: Scenario,
    /// What to request each round.
    pub targets: Vec<Target>,
    /// From the start of one round to the next.
    pub interval: Duration,
    /// Rounds to run, `None` until stopped.
    pub rounds: Option<u64>,
    /// Time limit of one request.
    pub timeout: Duration,
    /// Roots to trust.
    pub tls: TlsOptions,
    /// What the client may reuse.
    pub policy: ConnectionPolicy,
    /// Where the points go.
    pub sink: SinkConfig,
    /// How the sink is shown in logs.
    pub sink_label: String,
    /// Async probes: requests in flight at most (sync probes: 1).
    pub concurrency: usize,
    /// Async probes: requests started evenly over the interval.
    pub spread: bool,
    /// The `location` tag of every point.
    pub location: String,
    /// The HTTP version of targets that do not set their own.
    pub http: HttpMode,
    /// The targets file, re-read on SIGHUP.
    pub targets_file: Option<PathBuf>,
    /// The targets given as arguments or in `PROBE_TARGETS`, kept for reloads.
    pub given_targets: Vec<Target>,
    /// Where the counts go at exit (`--summary-json`).
    pub summary_json: Option<PathBuf>,
}

impl Config {
    /// Open files the probe needs: a socket per request in flight, and for the
    /// reused probes an idle connection per distinct host and port.
    pub fn files_needed(&self) -> crate::fdlimit::Need {
        self.files_needed_for(&self.targets)
    }

    /// [`Config::files_needed`] for `targets` (e.g. a reloaded targets file).
    pub fn files_needed_for(&self, targets: &[Target]) -> crate::fdlimit::Need {
        let in_flight = self.concurrency.min(targets.len()) as u64;
        let idle = if self.scenario.is_reused() {
            let mut origins = std::collections::HashSet::new();
            for t in targets {
                origins.insert((
                    t.url.scheme(),
                    t.url.host_str(),
                    t.url.port_or_known_default(),
                ));
            }
            origins.len() as u64
        } else {
            0
        };
        crate::fdlimit::Need { in_flight, idle }
    }
}

/// Input that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A target is not a usable URL.
    #[error(transparent)]
    Target(#[from] crate::target::TargetError),
    /// A target name that metrics cannot carry.
    #[error("invalid target name {0:?}: {1}")]
    UnusableName(String, String),
    /// A location the line protocol cannot carry.
    #[error("invalid --location {0:?} (PROBE_LOCATION): {1}")]
    BadLocation(String, String),
    /// No target given.
    #[error(
        "no targets: pass URL or NAME=URL arguments, set PROBE_TARGETS (comma-separated), or give --targets-file"
    )]
    NoTargets,
    /// An environment variable that is not valid UTF-8.
    #[error("{0} is not valid UTF-8: expected comma-separated URL or NAME=URL entries")]
    NotUnicode(&'static str),
    /// The targets file is unusable.
    #[error(transparent)]
    TargetsFile(#[from] FileError),
    /// Two targets share a name.
    #[error("duplicate target name {0:?}: give each target its own NAME=URL")]
    DuplicateTarget(String),
    /// An option that the chosen sink needs is missing or empty.
    #[error("--sink influxdb needs a non-empty {0}")]
    MissingInflux(&'static str),
    /// The CA file is unusable.
    #[error("--ca-cert: {0}")]
    CaCert(crate::ca::CaFileError),
    /// The TLS configuration for the InfluxDB sink failed.
    #[error("TLS for the InfluxDB sink: {0}")]
    SinkTls(reqwest_timing::TlsError),
}

impl Config {
    /// Validates the command line.
    pub fn from_args(scenario: Scenario, args: Args) -> Result<Self, ConfigError> {
        // Arguments are taken whole (a URL may hold commas); PROBE_TARGETS is a list.
        // Empty entries (`PROBE_TARGETS=`, a trailing comma) are no targets, not bad ones.
        let from_env;
        let given: Vec<&str> = if args.targets.is_empty() {
            from_env = match std::env::var("PROBE_TARGETS") {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => String::new(),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(ConfigError::NotUnicode("PROBE_TARGETS"));
                }
            };
            from_env.split([',', '\n']).collect()
        } else {
            args.targets.iter().map(String::as_str).collect()
        };
        let given_targets = given
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.parse::<Target>())
            .collect::<Result<Vec<_>, _>>()?;
        // Read by hand (like PROBE_TARGETS) so that an empty value means no file.
        let targets_file = args.targets_file.clone().or_else(|| {
            std::env::var_os("PROBE_TARGETS_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let targets = load_targets(&given_targets, targets_file.as_deref())?;
        let location = match args.location {
            Some(given) => given.trim().to_owned(),
            None => host_name(),
        };
        if location.is_empty() {
            return Err(ConfigError::BadLocation(
                location,
                "empty; expected a name such as eu-west-1".to_owned(),
            ));
        }
        probe_metrics::Point::new("probe_round", 0)
            .tag("location", location.as_str())
            .field("total_ms", 0.0)
            .to_line()
            .map_err(|e| ConfigError::BadLocation(location.clone(), e.to_string()))?;
        let mut tls = TlsOptions::system_roots();
        if let Some(path) = &args.ca_cert {
            tls = tls.with_extra_roots(crate::ca::read_ca_file(path).map_err(ConfigError::CaCert)?);
        }
        let mut policy = scenario.policy();
        if policy.dns_cache_ttl.is_some() {
            policy.dns_cache_ttl = Some(args.dns_ttl);
        }
        let (sink, sink_label) = match args.sink {
            SinkKind::Telegraf => {
                let label = format!("telegraf ({})", args.telegraf);
                (SinkConfig::Telegraf(args.telegraf), label)
            }
            SinkKind::Stdout => (SinkConfig::Stdout, "stdout".to_owned()),
            SinkKind::None => (SinkConfig::None, "none".to_owned()),
            SinkKind::Influxdb => {
                let url = args
                    .influx_url
                    .ok_or(ConfigError::MissingInflux("--influx-url (INFLUX_URL)"))?;
                let org = args
                    .influx_org
                    .filter(|v| !v.trim().is_empty())
                    .ok_or(ConfigError::MissingInflux("--influx-org (INFLUX_ORG)"))?;
                let bucket = args.influx_bucket.filter(|v| !v.trim().is_empty()).ok_or(
                    ConfigError::MissingInflux("--influx-bucket (INFLUX_BUCKET)"),
                )?;
                let token = args
                    .influx_token
                    .filter(|v| !v.trim().is_empty())
                    .ok_or(ConfigError::MissingInflux("--influx-token (INFLUX_TOKEN)"))?;
                let tls = reqwest_timing::rustls_config(&tls).map_err(ConfigError::SinkTls)?;
                let label = format!(
                    "influxdb ({}, bucket {bucket})",
                    probe_metrics::url_for_logs(&url)
                );
                (
                    SinkConfig::Influx(InfluxConfig {
                        url,
                        org,
                        bucket,
                        token,
                        tls: std::sync::Arc::new(tls),
                    }),
                    label,
                )
            }
        };
        Ok(Self {
            scenario,
            targets,
            interval: args.interval,
            rounds: (args.rounds > 0).then_some(args.rounds),
            timeout: args.timeout,
            tls,
            policy,
            sink,
            sink_label,
            concurrency: if scenario.is_async() {
                args.concurrency
            } else {
                1
            },
            spread: args.spread && scenario.is_async(),
            location,
            http: args.http,
            targets_file,
            given_targets,
            summary_json: args.summary_json.filter(|p| !p.as_os_str().is_empty()),
        })
    }

    /// The HTTP version a target is requested with.
    pub fn http_of(&self, target: &Target) -> HttpMode {
        target.request.http.unwrap_or(self.http)
    }

    /// The time limit of a target's requests.
    pub fn timeout_of(&self, target: &Target) -> Duration {
        target.request.timeout.unwrap_or(self.timeout)
    }
}

/// The given targets followed by the file's, checked: at least one, names
/// unique and encodable.
pub(crate) fn load_targets(
    given: &[Target],
    file: Option<&Path>,
) -> Result<Vec<Target>, ConfigError> {
    let mut targets = given.to_vec();
    if let Some(path) = file {
        targets.extend(targets_file::read(path, &|name| std::env::var(name).ok())?);
    }
    match (targets.is_empty(), file) {
        (true, Some(path)) => return Err(FileError::no_targets(path).into()),
        (true, None) => return Err(ConfigError::NoTargets),
        _ => {}
    }
    // A name the line protocol cannot carry would lose every point of its target.
    for target in &targets {
        probe_metrics::Point::new("http_request", 0)
            .tag("target", target.name.as_str())
            .tag("domain", target.domain.as_str())
            .field("total_ms", 0.0)
            .to_line()
            .map_err(|e| ConfigError::UnusableName(target.name.clone(), e.to_string()))?;
    }
    let mut names = std::collections::HashSet::new();
    if let Some(dup) = targets.iter().find(|t| !names.insert(t.name.as_str())) {
        return Err(ConfigError::DuplicateTarget(dup.name.clone()));
    }
    Ok(targets)
}

/// The host name (the default location), `unknown` when it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
