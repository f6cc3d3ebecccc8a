//! Rate-limited stderr logging: at most one line per interval per reason.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NEVER: u64 = u64::MAX;

/// Counts events of one kind and prints at most one stderr line per
/// `interval`, carrying how many events happened since the last line.
#[derive(Debug)]
pub(crate) struct RateLimitedLog {
    prefix: String,
    start: Instant,
    interval_ms: u64,
    last_ms: AtomicU64,
    pending: AtomicU64,
}

impl RateLimitedLog {
    pub(crate) fn new(prefix: &str, interval: Duration) -> Self {
        Self {
            prefix: prefix.to_owned(),
            start: Instant::now(),
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            last_ms: AtomicU64::new(NEVER),
            pending: AtomicU64::new(0),
        }
    }

    /// Records `n` events; logs `message(count)` if the interval has passed.
    /// Lock-free: losing a race just means another thread logs.
    pub(crate) fn record(&self, n: u64, message: impl FnOnce(u64) -> String) {
        self.pending.fetch_add(n, Ordering::Relaxed);
        let now_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.last_ms.load(Ordering::Relaxed);
        if last != NEVER && now_ms < last.saturating_add(self.interval_ms) {
            return;
        }
        if self
            .last_ms
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let count = self.pending.swap(0, Ordering::Relaxed);
            eprintln!("{}: {}", self.prefix, message(count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_first_event_then_holds_back_counting() {
        let log = RateLimitedLog::new("test", Duration::from_secs(3600));
        let mut printed = Vec::new();
        log.record(1, |n| {
            printed.push(n);
            String::from("first")
        });
        log.record(5, |_| unreachable!("within the interval"));
        assert_eq!(printed, vec![1]);
        assert_eq!(log.pending.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn logs_again_after_interval_with_accumulated_count() {
        let log = RateLimitedLog::new("test", Duration::ZERO);
        log.record(2, |_| String::from("a"));
        let mut got = 0;
        log.record(3, |n| {
            got = n;
            String::from("b")
        });
        assert_eq!(got, 3);
    }
}
