//! Running the four probes one after another, points appended to one file.

use crate::{DemoConfig, DemoError};
use probe_report::Scenario;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs each probe to completion (never two at once) against the backend at
/// `https` (`https://localhost:PORT`), trusting `ca`.
pub fn run_all(
    config: &DemoConfig,
    https: &str,
    ca: &Path,
    progress: &mut dyn Write,
) -> Result<(), DemoError> {
    for (i, scenario) in Scenario::ALL.into_iter().enumerate() {
        run_one(config, (https, ca), scenario, i + 1, progress)?;
    }
    Ok(())
}

fn run_one(
    config: &DemoConfig,
    (https, ca): (&str, &Path),
    scenario: Scenario,
    step: usize,
    progress: &mut dyn Write,
) -> Result<(), DemoError> {
    let bin = config.bin_dir.join(scenario.binary());
    let targets = config
        .services
        .iter()
        .map(|s| format!("{0}={https}/api/{0}", s.name));
    let mut command = Command::new(&bin);
    if let Some(file) = &config.targets_file {
        command.arg("--targets-file").arg(file);
    }
    let mut child = command
        .args(["--sink", "stdout", "--rounds", &config.rounds.to_string()])
        .args([
            "--interval",
            &humantime::format_duration(config.interval).to_string(),
        ])
        .arg("--ca-cert")
        .arg(ca)
        .args(targets)
        .env_remove("PROBE_TARGETS")
        // Only an explicit --targets-file of probe-demo's: the demo's table compares its
        // own services with the latency model.
        .env_remove("PROBE_TARGETS_FILE")
        .env_remove("PROBE_HTTP")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| DemoError::Spawn {
            bin: bin.clone(),
            source,
        })?;

    let stderr_thread = child.stderr.take().map(|mut stderr| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        })
    });
    let io = |source| DemoError::Io {
        path: config.out.clone(),
        source,
    };
    let mut out = OpenOptions::new()
        .append(true)
        .open(&config.out)
        .map_err(io)?;
    let live = std::io::stderr().is_terminal();
    let label = format!("[{step}/4] {:<13}", scenario.as_str());
    let mut rounds = 0;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(io)?;
            writeln!(out, "{line}").map_err(io)?;
            if line.starts_with("probe_round,") {
                rounds += 1;
                if live {
                    let _ = write!(progress, "\r{label}round {rounds}/{}", config.rounds);
                    let _ = progress.flush();
                }
            }
        }
    }
    let status = child.wait().map_err(io)?;
    let stderr = stderr_thread
        .and_then(|t| t.join().ok())
        .unwrap_or_default();
    let end = if live { "\r" } else { "" };
    let _ = writeln!(
        progress,
        "{end}{label}round {rounds}/{} done",
        config.rounds
    );
    if !status.success() {
        return Err(DemoError::ProbeFailed {
            probe: scenario.binary().to_owned(),
            status: status.to_string(),
            stderr: stderr.trim_end().to_string(),
        });
    }
    Ok(())
}
