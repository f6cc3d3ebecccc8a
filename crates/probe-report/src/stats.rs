//! Percentiles with an HDR histogram (microsecond resolution, 3 significant digits).

use hdrhistogram::Histogram;
use serde::Serialize;

/// Count, mean and percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values recorded.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// Summarizes durations given in ms; `None` when there is no usable value.
///
/// Negative and non-finite values are ignored. Values are recorded in whole
/// microseconds; a percentile is the high end of its histogram bucket (HDR
/// convention: never below the true value), exact to 3 significant digits.
pub fn summarize(values_ms: &[f64]) -> Option<Summary> {
    let mut hist = Histogram::<u64>::new(3).ok()?;
    for &ms in values_ms {
        if ms.is_finite() && ms >= 0.0 {
            // Auto-resizing histogram: recording cannot fail for a u64 value.
            hist.record((ms * 1000.0).round() as u64).ok()?;
        }
    }
    if hist.is_empty() {
        return None;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Some(Summary {
        count: hist.len(),
        mean_ms: hist.mean() / 1000.0,
        p50_ms: ms(hist.value_at_quantile(0.50)),
        p95_ms: ms(hist.value_at_quantile(0.95)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
    })
}

/// Median of durations in ms, via the same histogram.
pub fn median_ms(values_ms: &[f64]) -> Option<f64> {
    summarize(values_ms).map(|s| s.p50_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[f64::NAN, -1.0]), None);
    }

    #[test]
    fn percentiles_of_one_to_hundred() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = summarize(&values).expect("values");
        assert_eq!(s.count, 100);
        assert!((s.mean_ms - 50.5).abs() < 0.05, "{s:?}");
        assert!((s.p50_ms - 50.0).abs() < 0.05, "{s:?}");
        assert!((s.p95_ms - 95.0).abs() < 0.1, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn keeps_three_significant_digits() {
        let s = summarize(&[131.234]).expect("value");
        assert!((s.p50_ms - 131.234).abs() / 131.234 < 1e-3, "{s:?}");
        assert_eq!(median_ms(&[0.0004]), Some(0.0));
    }
}
