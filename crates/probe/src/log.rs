//! Log lines on stderr, prefixed with the probe's name. Repeated failures of
//! the same target and class are summarised instead of repeated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

const REPEAT_WINDOW: Duration = Duration::from_secs(10);

/// Writes log lines for one probe.
#[derive(Debug)]
pub struct Log {
    name: &'static str,
    last: HashMap<(String, &'static str), (Instant, u64)>,
}

impl Log {
    /// A log for the probe called `name`.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            last: HashMap::new(),
        }
    }

    /// One line, always.
    pub fn info(&self, message: impl std::fmt::Display) {
        eprintln!("{}: {message}", self.name);
    }

    /// One line per target and class at most every 10 s; the lines in between
    /// are counted and the count is given with the next line.
    pub fn failure(&mut self, target: &str, class: &'static str, message: impl std::fmt::Display) {
        let now = Instant::now();
        let key = (target.to_owned(), class);
        match self.last.get_mut(&key) {
            Some((at, suppressed)) if now.duration_since(*at) < REPEAT_WINDOW => *suppressed += 1,
            Some((at, suppressed)) => {
                let more = std::mem::take(suppressed);
                *at = now;
                eprintln!(
                    "{}: target {target}: {message} ({more} more like it in the last {}s)",
                    self.name,
                    REPEAT_WINDOW.as_secs()
                );
            }
            None => {
                self.last.insert(key, (now, 0));
                eprintln!("{}: target {target}: {message}", self.name);
            }
        }
    }
}
