//! Starting, reading and stopping the `demo-backend` process.

use super::{DemoConfig, DemoError, existing};
use crate::model::Service;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const KEPT_STDERR_LINES: usize = 40;

/// What the backend announces once it listens.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyLine {
    /// The HTTPS listening port.
    pub https_port: u16,
    /// The CA certificate the probes must trust.
    pub ca: PathBuf,
}

/// Parses `demo-backend: listening http=ADDR https=ADDR ca=PATH`.
pub fn parse_ready_line(line: &str) -> Option<ReadyLine> {
    let rest = line.trim().strip_prefix("demo-backend: listening ")?;
    let (addrs, ca) = rest.split_once(" ca=")?;
    let https = addrs
        .split_whitespace()
        .find_map(|t| t.strip_prefix("https="))?;
    let https_port = https.rsplit_once(':')?.1.parse().ok()?;
    Some(ReadyLine {
        https_port,
        ca: PathBuf::from(ca.trim()),
    })
}

/// The backend's `--services` value, e.g. `fast=20ms~2ms,slow=40ms`.
pub fn services_flag(services: &[Service]) -> String {
    let entries: Vec<String> = services
        .iter()
        .map(|s| {
            let latency = humantime::format_duration(s.latency);
            if s.jitter.is_zero() {
                format!("{}={latency}", s.name)
            } else {
                format!(
                    "{}={latency}~{}",
                    s.name,
                    humantime::format_duration(s.jitter)
                )
            }
        })
        .collect();
    entries.join(",")
}

/// A running backend; stopped (SIGTERM, then kill) when dropped.
pub struct Backend {
    child: Child,
    /// Its ready line.
    pub ready: ReadyLine,
}

impl Backend {
    /// Starts the backend and waits for its ready line; its stderr keeps being drained.
    pub fn start(config: &DemoConfig, cert_dir: &Path) -> Result<Backend, DemoError> {
        let bin = config.bin_dir.join("demo-backend");
        existing(&bin)?;
        let mut child = Command::new(&bin)
            .args(["--http", "off", "--https", "127.0.0.1:0", "--cert-dir"])
            .arg(cert_dir)
            .args(["--services", &services_flag(&config.services)])
            .args([
                "--handshake-delay",
                &humantime::format_duration(config.handshake_delay).to_string(),
            ])
            .args(["--rtt", &humantime::format_duration(config.rtt).to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| DemoError::Spawn {
                bin: bin.clone(),
                source,
            })?;
        let stderr = child.stderr.take().map(BufReader::new);
        let kept = Arc::new(Mutex::new(Vec::<String>::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(stderr) = stderr {
            let kept = Arc::clone(&kept);
            std::thread::spawn(move || {
                for line in stderr.lines().map_while(Result::ok) {
                    if let Some(ready) = parse_ready_line(&line) {
                        let _ = tx.send(ready);
                    }
                    if let Ok(mut kept) = kept.lock() {
                        if kept.len() == KEPT_STDERR_LINES {
                            kept.remove(0);
                        }
                        kept.push(line);
                    }
                }
            });
        }
        let mut backend = Backend {
            child,
            ready: ReadyLine {
                https_port: 0,
                ca: PathBuf::new(),
            },
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ready) => {
                    backend.ready = ready;
                    return Ok(backend);
                }
                Err(mpsc::RecvTimeoutError::Timeout)
                    if Instant::now() < deadline
                        && matches!(backend.child.try_wait(), Ok(None)) => {}
                Err(_) => {
                    backend.stop();
                    // Let the reader thread collect the last lines.
                    std::thread::sleep(Duration::from_millis(100));
                    let stderr = kept.lock().map(|k| k.join("\n")).unwrap_or_default();
                    return Err(DemoError::BackendNotReady {
                        timeout: READY_TIMEOUT,
                        stderr,
                    });
                }
            }
        }
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if terminated {
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_services;

    #[test]
    fn reads_the_ready_line() {
        let ready = parse_ready_line(
            "demo-backend: listening http=off https=127.0.0.1:40123 ca=/tmp/x y/ca.pem",
        );
        assert_eq!(
            ready,
            Some(ReadyLine {
                https_port: 40123,
                ca: PathBuf::from("/tmp/x y/ca.pem")
            })
        );
        assert_eq!(parse_ready_line("demo-backend: starting"), None);
        assert_eq!(
            parse_ready_line("demo-backend: listening http=off https=off ca=/c"),
            None
        );
    }

    #[test]
    fn formats_services_for_the_backend() {
        let services = parse_services("fast=20ms~2ms,slow=40ms").expect("valid");
        assert_eq!(services_flag(&services), "fast=20ms~2ms,slow=40ms");
    }
}
