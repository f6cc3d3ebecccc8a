//! One round of the async probes: every target once, at most `--concurrency`
//! requests in flight, started at once or spread evenly over the interval.

use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt as _};

/// Share of the interval over which `--spread` starts the requests, leaving
/// the rest for the last ones to finish before the next round.
pub(crate) const SPREAD_SHARE: f64 = 0.9;

/// When request `i` of `n` starts, counted from the start of the round.
pub(crate) fn start_offset(i: usize, n: usize, spread_over: Duration) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    let ns = spread_over.as_nanos() * i as u128 / n as u128;
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// Runs `request` for every item, at most `limit` at once. With `spread_over`
/// non-zero, item `i` of `n` starts no earlier than `i / n` of it into the
/// round (later when all `limit` slots are busy). Results come as they finish.
pub(crate) fn bounded<'a, T, F, Fut>(
    items: &'a [T],
    limit: usize,
    spread_over: Duration,
    request: F,
) -> impl Stream<Item = Fut::Output> + Unpin + 'a
where
    F: FnMut(&'a T) -> Fut + 'a,
    Fut: Future + 'a,
{
    let start = tokio::time::Instant::now();
    let n = items.len();
    stream::iter(items.iter().enumerate())
        .then(move |(i, item)| async move {
            if !spread_over.is_zero() {
                tokio::time::sleep_until(start + start_offset(i, n, spread_over)).await;
            }
            item
        })
        .map(request)
        .buffer_unordered(limit.max(1))
        .boxed_local()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    #[test]
    fn offsets_are_even_and_start_at_zero() {
        let s = Duration::from_secs(1);
        assert_eq!(start_offset(0, 4, s), Duration::ZERO);
        assert_eq!(start_offset(1, 4, s), Duration::from_millis(250));
        assert_eq!(start_offset(3, 4, s), Duration::from_millis(750));
        assert_eq!(start_offset(5, 0, s), Duration::ZERO);
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn never_more_than_the_limit_in_flight_and_every_item_once() {
        let items: Vec<u32> = (0..50).collect();
        let now = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let done = runtime().block_on(async {
            bounded(&items, 7, Duration::ZERO, |&i| {
                let (now, peak) = (now.clone(), peak.clone());
                async move {
                    now.set(now.get() + 1);
                    peak.set(peak.get().max(now.get()));
                    tokio::time::sleep(Duration::from_millis(u64::from(i % 3))).await;
                    now.set(now.get() - 1);
                    i
                }
            })
            .collect::<Vec<_>>()
            .await
        });
        let mut done = done;
        done.sort_unstable();
        assert_eq!(done, items);
        assert_eq!(peak.get(), 7);
    }

    #[test]
    fn spread_starts_are_not_early() {
        let items: Vec<u32> = (0..5).collect();
        let starts = runtime().block_on(async {
            let t0 = tokio::time::Instant::now();
            bounded(&items, 5, Duration::from_millis(100), |&i| async move {
                (i, t0.elapsed())
            })
            .collect::<Vec<_>>()
            .await
        });
        for (i, at) in starts {
            assert!(
                at >= Duration::from_millis(20 * u64::from(i)),
                "item {i} started at {at:?}"
            );
        }
    }
}
