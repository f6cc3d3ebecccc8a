//! SIGINT and SIGTERM end the probe after flushing the sink.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often waits look at the flag.
const POLL: Duration = Duration::from_millis(20);

/// Set once a stop signal arrived.
#[derive(Debug, Clone)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Registers the signal handlers.
    pub fn install() -> std::io::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // A second signal ends the process at once, without flushing (exit 1);
            // registered first, so that it sees the flag before the first signal sets it.
            signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())?;
            signal_hook::flag::register(signal, flag.clone())?;
        }
        Ok(Self(flag))
    }

    /// True once a signal arrived.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sleeps `d` unless a signal arrives first; true if it did.
    pub fn sleep(&self, d: Duration) -> bool {
        // Saturates: a pause beyond the clock's range lasts until a signal.
        let end = Instant::now().checked_add(d);
        while !self.requested() {
            let left = end.map_or(POLL, |end| end.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(POLL));
        }
        true
    }

    /// Async twin of [`sleep`](Self::sleep).
    pub async fn sleep_async(&self, d: Duration) -> bool {
        let end = tokio::time::Instant::now().checked_add(d);
        while !self.requested() {
            let left = end.map_or(POLL, |end| {
                end.saturating_duration_since(tokio::time::Instant::now())
            });
            if left.is_zero() {
                return false;
            }
            tokio::time::sleep(left.min(POLL)).await;
        }
        true
    }

    /// Resolves when a signal arrives.
    pub async fn wait(&self) {
        while !self.requested() {
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_beyond_the_clock_lasts_until_the_signal() {
        let stop = Stop(Arc::new(AtomicBool::new(false)));
        let flag = stop.0.clone();
        let signal = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            flag.store(true, Ordering::Relaxed);
        });
        assert!(stop.sleep(Duration::MAX));
        signal.join().expect("signal thread");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        assert!(rt.block_on(stop.sleep_async(Duration::MAX)));
    }
}
