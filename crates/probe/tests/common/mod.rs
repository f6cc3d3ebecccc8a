//! Shared helpers: demo backends on 127.0.0.1, raw fault servers, running a
//! probe binary and reading its line-protocol output.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use influxdb_line_protocol::FieldValue;

/// Slack above an injected delay (ms): the machine is loaded, so the measured
/// phase may run late, but never early.
pub const SLACK_MS: f64 = 60.0;

/// Slack above an injected TLS delay (ms): the handshake also does real crypto
/// in a debug build.
pub const TLS_SLACK_MS: f64 = 100.0;

/// Values are rounded to whole microseconds; sums of rounded values may differ
/// from the rounded total by a few of them.
pub const ROUNDING_MS: f64 = 0.01;

/// The four probe binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    SyncFresh,
    SyncReused,
    AsyncFresh,
    AsyncReused,
}

impl Bin {
    pub const ALL: [Bin; 4] = [
        Bin::SyncFresh,
        Bin::SyncReused,
        Bin::AsyncFresh,
        Bin::AsyncReused,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Bin::SyncFresh => env!("CARGO_BIN_EXE_probe-sync-fresh"),
            Bin::SyncReused => env!("CARGO_BIN_EXE_probe-sync-reused"),
            Bin::AsyncFresh => env!("CARGO_BIN_EXE_probe-async-fresh"),
            Bin::AsyncReused => env!("CARGO_BIN_EXE_probe-async-reused"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bin::SyncFresh => "probe-sync-fresh",
            Bin::SyncReused => "probe-sync-reused",
            Bin::AsyncFresh => "probe-async-fresh",
            Bin::AsyncReused => "probe-async-reused",
        }
    }

    pub fn is_reused(self) -> bool {
        matches!(self, Bin::SyncReused | Bin::AsyncReused)
    }

    pub fn is_async(self) -> bool {
        matches!(self, Bin::AsyncFresh | Bin::AsyncReused)
    }
}

/// Every environment variable the probes read, removed so that the caller's
/// environment cannot change a test.
pub const PROBE_ENV: [&str; 19] = [
    "PROBE_TARGETS",
    "PROBE_SUMMARY_JSON",
    "RUST_LOG",
    "PROBE_TARGETS_FILE",
    "PROBE_HTTP",
    "PROBE_CONCURRENCY",
    "PROBE_SPREAD",
    "PROBE_LOCATION",
    "PROBE_INTERVAL",
    "PROBE_ROUNDS",
    "PROBE_TIMEOUT",
    "PROBE_CA_CERT",
    "PROBE_SINK",
    "PROBE_DNS_TTL",
    "TELEGRAF_URL",
    "INFLUX_URL",
    "INFLUX_ORG",
    "INFLUX_BUCKET",
    "INFLUX_TOKEN",
];

/// A probe command with a clean environment (no proxies, no PROBE_* values).
pub fn command(bin: Bin) -> Command {
    let mut cmd = Command::new(bin.path());
    for var in PROBE_ENV.iter().chain(&[
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]) {
        cmd.env_remove(var);
    }
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

/// One probe at a time per test binary: timing assertions should not compete
/// with sibling probes for the two cores.
static ONE_PROBE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A finished probe run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub points: Vec<Point>,
}

impl Run {
    /// The `http_request` points, grouped by round (a round ends at its `probe_round` point).
    pub fn rounds(&self) -> Vec<Round> {
        let mut rounds = Vec::new();
        let mut current = Round::default();
        for p in &self.points {
            match p.measurement.as_str() {
                "http_request" => current.requests.push(p.clone()),
                "http_error" => current.errors.push(p.clone()),
                "probe_round" => {
                    current.round = Some(p.clone());
                    rounds.push(std::mem::take(&mut current));
                }
                _ => {}
            }
        }
        assert!(
            current.requests.is_empty() && current.errors.is_empty(),
            "points after the last round:\n{}",
            self.stdout
        );
        rounds
    }

    pub fn of(&self, measurement: &str) -> Vec<&Point> {
        self.points
            .iter()
            .filter(|p| p.measurement == measurement)
            .collect()
    }

    /// The stderr lines of the probe's own log (`probe-X: ...`).
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Asserts exit 0 and returns self, for chaining.
    pub fn success(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "probe failed\nstderr:\n{}\nstdout:\n{}",
            self.stderr,
            self.stdout
        );
        self
    }
}

/// The points of one round.
#[derive(Debug, Default, Clone)]
pub struct Round {
    pub requests: Vec<Point>,
    pub errors: Vec<Point>,
    pub round: Option<Point>,
}

impl Round {
    pub fn request(&self, target: &str) -> &Point {
        let found: Vec<_> = self
            .requests
            .iter()
            .filter(|p| p.tag("target") == Some(target))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one http_request of {target} per round: {:#?}",
            self.requests
        );
        found[0]
    }

    pub fn round_total_ms(&self) -> f64 {
        self.round
            .as_ref()
            .and_then(|r| r.float("total_ms"))
            .expect("probe_round total_ms")
    }
}

/// Runs `cmd` to the end (at most 60 s) and parses stdout as line protocol.
pub fn run(mut cmd: Command) -> Run {
    let _one = ONE_PROBE_AT_A_TIME
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = wait_with_limit(cmd.spawn().expect("spawn probe"), Duration::from_secs(60));
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "probe panicked:\n{stderr}"
    );
    let points = parse_points(&stdout);
    Run {
        code: output.status.code(),
        stdout,
        stderr,
        points,
    }
}

/// Runs `bin` with `args`.
pub fn probe(bin: Bin, args: &[&str]) -> Run {
    let mut cmd = command(bin);
    cmd.args(args);
    run(cmd)
}

fn wait_with_limit(mut child: std::process::Child, limit: Duration) -> Output {
    // Read both pipes on threads so that a chatty child never blocks.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("probe still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_thread.join().expect("stdout reader"),
        stderr: err_thread.join().expect("stderr reader"),
    }
}

/// A line-protocol point, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: BTreeMap<String, String>,
    pub fields: BTreeMap<String, Field>,
    pub timestamp: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Float(f64),
    Int(i64),
    Other(String),
}

impl Point {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    pub fn float(&self, key: &str) -> Option<f64> {
        match self.fields.get(key)? {
            Field::Float(f) => Some(*f),
            other => panic!("{key} is not a float: {other:?}"),
        }
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.fields.get(key)? {
            Field::Int(i) => Some(*i),
            other => panic!("{key} is not an integer: {other:?}"),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// A float field that must be there.
    pub fn ms(&self, key: &str) -> f64 {
        self.float(key)
            .unwrap_or_else(|| panic!("{} has no {key}: {self:?}", self.measurement))
    }
}

/// Parses every line of stdout; any unparsable line fails the test.
pub fn parse_points(stdout: &str) -> Vec<Point> {
    influxdb_line_protocol::parse_lines(stdout)
        .map(|line| {
            let line = line.unwrap_or_else(|e| panic!("bad line protocol ({e}) in:\n{stdout}"));
            Point {
                measurement: line.series.measurement.to_string(),
                tags: line
                    .series
                    .tag_set
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                fields: line
                    .field_set
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            FieldValue::F64(f) => Field::Float(*f),
                            FieldValue::I64(i) => Field::Int(*i),
                            other => Field::Other(format!("{other:?}")),
                        };
                        (k.to_string(), v)
                    })
                    .collect(),
                timestamp: line.timestamp.expect("timestamp"),
            }
        })
        .collect()
}

/// Asserts that a phase measured once per round holds an injected delay:
/// never below it in any round, and within `slack` above it in the best round
/// (a single round may be late when the loaded machine deschedules the probe;
/// a systematic error shows in every round).
#[track_caller]
pub fn assert_phase(what: &str, samples: &[f64], injected: f64, slack: f64) {
    assert!(!samples.is_empty(), "{what}: no samples");
    assert!(
        samples.iter().all(|&v| v >= injected),
        "{what} = {samples:?} ms, below the injected {injected} ms"
    );
    let best = samples.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        best <= injected + slack,
        "{what} = {samples:?} ms, none within [{injected}, {}] ms",
        injected + slack
    );
}

/// Asserts `value` lies in `[low, high]`, naming what was measured.
#[track_caller]
pub fn assert_within(what: &str, value: f64, low: f64, high: f64) {
    assert!(
        (low..=high).contains(&value),
        "{what} = {value} ms, expected within [{low}, {high}] ms"
    );
}

#[allow(unused_imports)] // not every test binary uses both
pub use test_support::net::{closed_port, silent_server};

/// Certificates live in one directory per test binary, reused across runs.
pub fn cert_dir(name: &str) -> PathBuf {
    test_support::cert_dir!(name)
}

/// A demo backend on 127.0.0.1 (HTTP and HTTPS, free ports) with `tweak` applied.
pub fn backend(name: &str, tweak: impl FnOnce(&mut demo_backend::Config)) -> demo_backend::Running {
    test_support::backend::backend(cert_dir(name), tweak)
}

/// `http://127.0.0.1:PORT` of the backend.
pub fn http(b: &demo_backend::Running) -> String {
    b.http_url().expect("http listener")
}

/// `http://localhost:PORT` of the backend (a host name that needs resolving).
pub fn http_localhost(b: &demo_backend::Running) -> String {
    format!(
        "http://localhost:{}",
        b.http_addr.expect("http listener").port()
    )
}

/// `https://localhost:PORT` of the backend.
pub fn https(b: &demo_backend::Running) -> String {
    b.https_url().expect("https listener")
}

pub fn ca(b: &demo_backend::Running) -> String {
    b.ca_pem_path.to_str().expect("utf-8 path").to_owned()
}

/// Runs `bin` for `rounds` rounds, `interval` apart, with the points on stdout, then
/// `args` (more options and the targets); asserts exit 0.
pub fn stdout_rounds(bin: Bin, rounds: &str, interval: &str, args: &[&str]) -> Run {
    let mut all = vec![
        "--sink",
        "stdout",
        "--rounds",
        rounds,
        "--interval",
        interval,
    ];
    all.extend_from_slice(args);
    probe(bin, &all).success()
}
