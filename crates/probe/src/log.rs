//! The probe's log lines, as `tracing` events (the binary's subscriber writes
//! them to stderr prefixed with the probe's name). Repeated failures of the
//! same target and class are summarised instead of repeated.

use std::time::Duration;

use probe_metrics::rate_limit::KeyedRateLimit;

const REPEAT_WINDOW: Duration = Duration::from_secs(10);

/// Writes log lines for one probe.
#[derive(Debug)]
pub struct Log {
    failures: KeyedRateLimit<(String, &'static str)>,
}

impl Log {
    /// A log with the 10 s repeat window.
    pub fn new() -> Self {
        Self {
            failures: KeyedRateLimit::new(REPEAT_WINDOW),
        }
    }

    /// One line, always.
    pub fn info(&self, message: impl std::fmt::Display) {
        tracing::info!("{message}");
    }

    /// One line per target and class at most every 10 s; the lines in between
    /// are counted and the count is given with the next line.
    pub fn failure(&mut self, target: &str, class: &'static str, message: impl std::fmt::Display) {
        let window_s = self.failures.interval().as_secs();
        self.failures
            .record((target.to_owned(), class), 1, |count| match count - 1 {
                0 => format!("target {target}: {message}"),
                more => {
                    format!(
                        "target {target}: {message} ({more} more like it in the last {window_s}s)"
                    )
                }
            });
    }
}
