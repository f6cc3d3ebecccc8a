//! A short run of the example service's outbound calls (`example-app`'s
//! `/combined` in async mode) against the demo backend, through the
//! reqwest-timing middleware: the line `make demo` prints under the table.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_app::{App, Mode, SERVICES};
use reqwest_timing::{CallRecord, TlsOptions};

/// Medians of one target's calls.
#[derive(Debug, Clone)]
pub struct TargetMedians {
    /// The target name (`fast`, `slow`).
    pub target: String,
    /// Calls made.
    pub calls: usize,
    /// Calls that failed or answered 4xx/5xx.
    pub errors: usize,
    /// Calls that waited for a new connection.
    pub new_connections: usize,
    /// Median time to first byte.
    pub ttfb: Duration,
    /// Median total.
    pub total: Duration,
}

/// The example service's outbound calls, per target.
#[derive(Debug, Clone)]
pub struct AppSummary {
    /// `/combined` requests made.
    pub requests: u32,
    /// Per target, in [`SERVICES`] order.
    pub targets: Vec<TargetMedians>,
}

impl std::fmt::Display for AppSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "example-app outbound ({} x /combined?mode=async, one reused client), medians:",
            self.requests
        )?;
        for (i, t) in self.targets.iter().enumerate() {
            let sep = if i == 0 { " " } else { "; " };
            write!(
                f,
                "{sep}{} ttfb {:.1} ms total {:.1} ms ({} calls, {} new connection(s), {} errors)",
                t.target,
                ms(t.ttfb),
                ms(t.total),
                t.calls,
                t.new_connections,
                t.errors
            )?;
        }
        Ok(())
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Runs `requests` `/combined` handler calls (async mode) against `https`;
/// `None` when the backend lacks the `fast` and `slow` services.
pub fn run(
    https: &str,
    ca_pem: &Path,
    services: &[demo_backend::Service],
    requests: u32,
) -> Result<Option<AppSummary>, String> {
    if !SERVICES
        .iter()
        .all(|s| services.iter().any(|b| b.name == *s))
    {
        return Ok(None);
    }
    let certs = probe::ca::read_ca_file(ca_pem).map_err(|e| e.to_string())?;
    let records: Arc<Mutex<Vec<CallRecord>>> = Arc::default();
    let sink = records.clone();
    let reporter = Arc::new(move |r: &CallRecord| {
        if let Ok(mut all) = sink.lock() {
            all.push(r.clone());
        }
    });
    let backend = https
        .parse()
        .map_err(|e| format!("backend URL {https}: {e}"))?;
    let app =
        App::new(backend, &TlsOptions::only_roots(certs), reporter).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        for _ in 0..requests {
            app.combined(Mode::Async).await;
        }
    });
    let records = records.lock().map(|r| r.clone()).unwrap_or_default();
    let targets = SERVICES
        .iter()
        .map(|name| {
            let calls: Vec<&CallRecord> = records.iter().filter(|r| &*r.target == *name).collect();
            let timed = || calls.iter().filter_map(|r| r.timings.as_ref());
            TargetMedians {
                target: (*name).to_owned(),
                calls: calls.len(),
                errors: calls.iter().filter(|r| r.error_class().is_some()).count(),
                new_connections: calls.iter().filter(|r| !r.reused()).count(),
                ttfb: median(timed().map(|t| t.ttfb).collect()),
                total: median(timed().map(|t| t.total).collect()),
            }
        })
        .collect();
    Ok(Some(AppSummary { requests, targets }))
}
