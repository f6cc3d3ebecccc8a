//! Rate-limited warnings, shared by the sinks and the probes: at most one
//! `tracing` warning per interval and key; the events held back are counted
//! and the count is given with the next line.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NEVER: u64 = u64::MAX;

/// Counts events of one kind and lets at most one warning through per
/// `interval`, carrying how many events happened since the last one.
#[derive(Debug)]
pub struct RateLimit {
    start: Instant,
    interval_ms: u64,
    last_ms: AtomicU64,
    pending: AtomicU64,
}

impl RateLimit {
    /// A limit of one line per `interval` (the first event always logs).
    pub fn new(interval: Duration) -> Self {
        Self {
            start: Instant::now(),
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            last_ms: AtomicU64::new(NEVER),
            pending: AtomicU64::new(0),
        }
    }

    /// Counts `n` events; if the interval has passed, returns how many
    /// happened since the last line (these `n` included). Lock-free: losing
    /// a race just means another thread gets the line.
    pub fn due(&self, n: u64) -> Option<u64> {
        self.pending.fetch_add(n, Ordering::Relaxed);
        let now_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.last_ms.load(Ordering::Relaxed);
        if last != NEVER && now_ms < last.saturating_add(self.interval_ms) {
            return None;
        }
        self.last_ms
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
            .then(|| self.pending.swap(0, Ordering::Relaxed))
    }

    /// Counts `n` events and, when due, logs `message(count)` as a warning.
    pub fn record(&self, n: u64, message: impl FnOnce(u64) -> String) {
        if let Some(count) = self.due(n) {
            // Built before the macro: tracing skips its arguments when no
            // subscriber listens, and the caller's closure must still run.
            let line = message(count);
            tracing::warn!("{line}");
        }
    }
}

/// One [`RateLimit`] per key (e.g. target and error class), created on first use.
#[derive(Debug)]
pub struct KeyedRateLimit<K> {
    interval: Duration,
    limits: HashMap<K, RateLimit>,
}

impl<K: Hash + Eq> KeyedRateLimit<K> {
    /// A limit of one line per `interval` and key.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            limits: HashMap::new(),
        }
    }

    /// The interval, for messages that name it.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// [`RateLimit::record`] for `key`.
    pub fn record(&mut self, key: K, n: u64, message: impl FnOnce(u64) -> String) {
        let interval = self.interval;
        self.limits
            .entry(key)
            .or_insert_with(|| RateLimit::new(interval))
            .record(n, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_first_event_then_holds_back_counting() {
        let log = RateLimit::new(Duration::from_secs(3600));
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
        let log = RateLimit::new(Duration::ZERO);
        log.record(2, |_| String::from("a"));
        let mut got = 0;
        log.record(3, |n| {
            got = n;
            String::from("b")
        });
        assert_eq!(got, 3);
    }

    #[test]
    fn keys_are_limited_separately() {
        let mut logs = KeyedRateLimit::new(Duration::from_secs(3600));
        let mut printed = Vec::new();
        for key in ["a", "b", "a", "b", "a"] {
            logs.record(key, 1, |n| {
                printed.push((key, n));
                String::new()
            });
        }
        assert_eq!(printed, vec![("a", 1), ("b", 1)]);
        assert_eq!(logs.limits["a"].pending.load(Ordering::Relaxed), 2);
    }
}
