//! When rounds start: one `--interval` after the start of the previous round,
//! or at once when that round took longer (an overrun, logged at most once a
//! minute and reported in `probe_round.overrun_ms`).

use std::time::{Duration, Instant};

/// At most one overrun log line this often.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// What to do after a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AfterRound {
    /// How far the round ran past the interval, if it did.
    pub(crate) overrun: Option<Duration>,
    /// How long to wait before the next round.
    pub(crate) wait: Duration,
    /// A log line to print, when one is due.
    pub(crate) say: Option<String>,
}

/// Tracks the rounds' schedule and the overrun log's rate limit.
#[derive(Debug)]
pub(crate) struct Schedule {
    interval: Duration,
    last_said: Option<Instant>,
    unsaid: u64,
}

impl Schedule {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_said: None,
            unsaid: 0,
        }
    }

    /// After a round that took `elapsed`, at `now`. With a zero interval
    /// rounds run back to back and never overrun.
    pub(crate) fn after_round(&mut self, elapsed: Duration, now: Instant) -> AfterRound {
        if self.interval.is_zero() || elapsed <= self.interval {
            return AfterRound {
                overrun: None,
                wait: self.interval.saturating_sub(elapsed),
                say: None,
            };
        }
        let overrun = elapsed - self.interval;
        let due = self
            .last_said
            .is_none_or(|at| now.duration_since(at) >= LOG_EVERY);
        let say = if due {
            let more = std::mem::take(&mut self.unsaid);
            self.last_said = Some(now);
            let mut line = format!(
                "round took {:.1} ms, {:.1} ms longer than the interval {}: the next round starts at once",
                elapsed.as_secs_f64() * 1e3,
                overrun.as_secs_f64() * 1e3,
                humantime::format_duration(self.interval),
            );
            if more > 0 {
                line.push_str(&format!(
                    " ({more} more overruns in the last {}s)",
                    LOG_EVERY.as_secs()
                ));
            }
            Some(line)
        } else {
            self.unsaid += 1;
            None
        };
        AfterRound {
            overrun: Some(overrun),
            wait: Duration::ZERO,
            say,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_round_within_the_interval_waits_for_the_rest_of_it() {
        let mut s = Schedule::new(ms(3000));
        let after = s.after_round(ms(1200), Instant::now());
        assert_eq!(after.overrun, None);
        assert_eq!(after.wait, ms(1800));
        assert_eq!(after.say, None);
    }

    #[test]
    fn zero_interval_runs_back_to_back_without_overruns() {
        let mut s = Schedule::new(Duration::ZERO);
        let after = s.after_round(ms(50), Instant::now());
        assert_eq!((after.overrun, after.wait), (None, Duration::ZERO));
    }

    #[test]
    fn overruns_start_at_once_and_are_said_once_a_minute() {
        let mut s = Schedule::new(ms(100));
        let t0 = Instant::now();
        let first = s.after_round(ms(250), t0);
        assert_eq!(first.overrun, Some(ms(150)));
        assert_eq!(first.wait, Duration::ZERO);
        let line = first.say.expect("the first overrun is said");
        assert!(
            line.contains("250.0 ms") && line.contains("100ms"),
            "{line}"
        );
        for i in 1..=3 {
            let again = s.after_round(ms(120), t0 + Duration::from_secs(i));
            assert_eq!(again.overrun, Some(ms(20)));
            assert_eq!(again.say, None, "rate-limited");
        }
        let later = s.after_round(ms(300), t0 + Duration::from_secs(61));
        let line = later.say.expect("said again after a minute");
        assert!(line.contains("3 more overruns"), "{line}");
    }
}
