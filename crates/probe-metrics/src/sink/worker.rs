//! The sink thread: batch lines off the queue, deliver with retry/backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::SinkOptions;
use super::transport::{Delivery, Transport};
use crate::rate_limit::RateLimit;

/// State shared by the callers and the sink thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) kind: &'static str,
    pub(crate) queue_capacity: usize,
    /// `send` calls (not counting a `none` sink).
    pub(crate) attempted: AtomicU64,
    pub(crate) sent: AtomicU64,
    /// Points written a second time after a lost connection.
    pub(crate) resent: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) logs: Logs,
    /// When set, the thread gives up at this instant.
    stop: Mutex<Option<Instant>>,
    wake: Condvar,
}

/// One rate-limited log per drop or retry reason.
#[derive(Debug)]
pub(crate) struct Logs {
    pub(crate) queue_full: RateLimit,
    pub(crate) unencodable: RateLimit,
    pub(crate) stopped: RateLimit,
    pub(crate) refused: RateLimit,
    pub(crate) retry: RateLimit,
    pub(crate) stalled: RateLimit,
}

impl Shared {
    pub(crate) fn new(kind: &'static str, o: &SinkOptions) -> Self {
        let log = || RateLimit::new(o.log_interval);
        Self {
            kind,
            queue_capacity: o.queue_capacity,
            attempted: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            logs: Logs {
                queue_full: log(),
                unencodable: log(),
                stopped: log(),
                refused: log(),
                retry: log(),
                stalled: log(),
            },
            stop: Mutex::new(None),
            wake: Condvar::new(),
        }
    }

    pub(crate) fn drop_points(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets (or moves earlier) the instant at which the thread gives up.
    pub(crate) fn stop_at(&self, at: Instant) {
        let mut stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        *stop = Some(stop.map_or(at, |s| s.min(at)));
        self.wake.notify_all();
    }

    fn stopped(&self) -> bool {
        let stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        stop.is_some_and(|s| Instant::now() >= s)
    }

    /// Sleeps for `d`, cut short by the stop instant; false if stopped.
    fn sleep(&self, d: Duration) -> bool {
        // A wake instant beyond the clock's range is never reached.
        let wake_at = Instant::now().checked_add(d);
        let mut stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            if stop.is_some_and(|s| now >= s) {
                return false;
            }
            if wake_at.is_some_and(|w| now >= w) {
                return true;
            }
            stop = match [*stop, wake_at].into_iter().flatten().min() {
                Some(until) => {
                    self.wake
                        .wait_timeout(stop, until - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.wake.wait(stop).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// Exponential backoff from `min` to `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        // Saturates: a huge `max` must not overflow the doubling.
        self.next = d.saturating_mul(2).min(self.max);
        d
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Runs until the queue is closed and drained, or the stop instant passes.
pub(crate) fn run(
    rx: &Receiver<String>,
    mut transport: Box<dyn Transport>,
    shared: &Shared,
    o: &SinkOptions,
) {
    let mut batch: Vec<String> = Vec::new();
    let mut backoff = Backoff::new(o.backoff_min, o.backoff_max);
    loop {
        let closed = collect(rx, &mut batch, o);
        if !batch.is_empty() && !deliver(transport.as_mut(), &batch, shared, &mut backoff) {
            return; // stopped with the batch undelivered
        }
        batch.clear();
        if closed || shared.stopped() {
            return;
        }
    }
}

/// Fills `batch`: waits for a first line, then takes more until the batch
/// is full or `flush_interval` has passed. True once the queue is closed.
fn collect(rx: &Receiver<String>, batch: &mut Vec<String>, o: &SinkOptions) -> bool {
    match rx.recv() {
        Ok(line) => batch.push(line),
        Err(_) => return true,
    }
    let flush_at = Instant::now().checked_add(o.flush_interval);
    let mut bytes = batch[0].len();
    while bytes < o.max_batch_bytes {
        // Take what is already queued without touching the clock.
        let line = match rx.try_recv() {
            Ok(line) => line,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return true,
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                let got = match flush_at {
                    Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match got {
                    Ok(line) => line,
                    Err(RecvTimeoutError::Timeout) => return false,
                    Err(RecvTimeoutError::Disconnected) => return true,
                }
            }
        };
        bytes += line.len();
        batch.push(line);
    }
    false
}

/// Delivers one batch, retrying with backoff. False if stopped first.
fn deliver(
    t: &mut dyn Transport,
    batch: &[String],
    shared: &Shared,
    backoff: &mut Backoff,
) -> bool {
    loop {
        if shared.stopped() {
            return false;
        }
        match t.write(batch) {
            Delivery::Done {
                sent,
                dropped,
                resent,
                error,
            } => {
                shared.sent.fetch_add(sent as u64, Ordering::Relaxed);
                shared.resent.fetch_add(resent as u64, Ordering::Relaxed);
                if dropped > 0 {
                    shared.drop_points(dropped as u64);
                    let why = error.as_deref().unwrap_or("refused by the target");
                    shared.logs.refused.record(dropped as u64, |n| {
                        format!("{} sink dropped {n} point(s): {why}", shared.kind)
                    });
                }
                backoff.reset();
                return true;
            }
            Delivery::Stalled(why) => {
                // The write itself waited the write timeout: no backoff needed.
                shared.logs.stalled.record(1, |n| {
                    format!(
                        "{} sink: {why} ({n} stalled write(s)); points wait in the queue",
                        shared.kind
                    )
                });
            }
            Delivery::Retry(why) => {
                let delay = backoff.next_delay();
                shared.logs.retry.record(1, |n| {
                    format!(
                        "{} sink: {why}; retrying in {delay:?} ({n} failed attempt(s)); queued points wait, dropped only when the queue is full",
                        shared.kind
                    )
                });
                if !shared.sleep(delay) {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let got: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn backoff_with_a_huge_cap_saturates() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::MAX);
        let last = (0..80).map(|_| b.next_delay()).last();
        assert_eq!(last, Some(Duration::MAX));
    }

    #[test]
    fn sleep_is_cut_short_by_stop() {
        let shared = Shared::new("test", &SinkOptions::default());
        assert!(shared.sleep(Duration::from_millis(1)));
        shared.stop_at(Instant::now());
        assert!(!shared.sleep(Duration::from_secs(3600)));
        assert!(shared.stopped());
    }
}
