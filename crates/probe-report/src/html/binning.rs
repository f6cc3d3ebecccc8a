//! Binning for the charts: histogram buckets, heatmap cells, line downsampling.

/// Upper bounds (`le`) of the latency histogram buckets, in ms, without the
/// final `+Inf`. The same list as `buckets` in `telegraf/telegraf.conf` and
/// `histogramBucketsMs` in `tools/validate/dashboards.go`; a test checks both.
pub const BUCKET_EDGES_MS: [f64; 15] = [
    5.0, 10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2000.0,
    5000.0,
];

/// Number of buckets: one per edge plus the `+Inf` one.
pub const BUCKETS: usize = BUCKET_EDGES_MS.len() + 1;

/// The bucket of a value, as Telegraf counts it: bucket `i` holds
/// `edge[i-1] < v <= edge[i]`; the last one everything above the last edge.
pub fn bucket_index(value_ms: f64) -> usize {
    BUCKET_EDGES_MS.partition_point(|&edge| edge < value_ms)
}

/// The label of bucket boundary `i` (0 = below the first bucket, `BUCKETS` = +Inf).
pub fn boundary_label(i: usize) -> String {
    match i {
        0 => "0".into(),
        i if i >= BUCKETS => "+Inf".into(),
        i => format!("{}", BUCKET_EDGES_MS[i - 1]),
    }
}

/// Number of values in each bucket (non-finite values are skipped).
pub fn bucket_counts(values_ms: impl IntoIterator<Item = f64>) -> [u64; BUCKETS] {
    let mut counts = [0; BUCKETS];
    for v in values_ms.into_iter().filter(|v| v.is_finite()) {
        counts[bucket_index(v)] += 1;
    }
    counts
}

/// Time columns over `[start_ms, end_ms]`: which column a timestamp falls in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBins {
    /// First timestamp, ms.
    pub start_ms: i64,
    /// Last timestamp, ms (inclusive).
    pub end_ms: i64,
    /// Number of columns (at least 1).
    pub columns: usize,
}

impl TimeBins {
    /// `columns` equal columns over the range (an empty range gets one column).
    pub fn new(start_ms: i64, end_ms: i64, columns: usize) -> TimeBins {
        TimeBins {
            start_ms,
            end_ms: end_ms.max(start_ms),
            columns: columns.max(1),
        }
    }

    /// Width of one column in ms (at least 1).
    pub fn width_ms(&self) -> f64 {
        ((self.end_ms - self.start_ms) as f64 / self.columns as f64).max(1.0)
    }

    /// The column of a timestamp, clamped to the range; the end falls in the last column.
    pub fn column(&self, time_ms: i64) -> usize {
        let offset = (time_ms - self.start_ms).max(0) as f64;
        ((offset / self.width_ms()) as usize).min(self.columns - 1)
    }
}

/// Heatmap counts: `cells[column][bucket]` = values in that time column and latency bucket.
pub fn heatmap_cells(
    points: impl IntoIterator<Item = (i64, f64)>,
    bins: TimeBins,
) -> Vec<[u64; BUCKETS]> {
    let mut cells = vec![[0; BUCKETS]; bins.columns];
    for (time_ms, value) in points.into_iter().filter(|(_, v)| v.is_finite()) {
        cells[bins.column(time_ms)][bucket_index(value)] += 1;
    }
    cells
}

/// Reduces a line to at most four points per pixel column (first, min, max,
/// last of the column, in time order), so its drawn shape, spikes included,
/// is unchanged while the SVG stays small. `points` must be sorted by x.
pub fn downsample(points: &[(f64, f64)], x_range: (f64, f64), pixels: usize) -> Vec<(f64, f64)> {
    let pixels = pixels.max(1);
    if points.len() <= 4 * pixels {
        return points.to_vec();
    }
    let width = ((x_range.1 - x_range.0) / pixels as f64).max(f64::MIN_POSITIVE);
    let column = |x: f64| (((x - x_range.0) / width).max(0.0) as usize).min(pixels - 1);
    let mut out = Vec::with_capacity(4 * pixels);
    let mut start = 0;
    while start < points.len() {
        let col = column(points[start].0);
        let mut end = start + 1;
        while end < points.len() && column(points[end].0) == col {
            end += 1;
        }
        let group = &points[start..end];
        let by_y = |a: &(usize, &(f64, f64)), b: &(usize, &(f64, f64))| a.1.1.total_cmp(&b.1.1);
        let min_i = group.iter().enumerate().min_by(by_y).map_or(0, |(i, _)| i);
        let max_i = group.iter().enumerate().max_by(by_y).map_or(0, |(i, _)| i);
        let mut keep = vec![0, min_i, max_i, group.len() - 1];
        keep.sort_unstable();
        keep.dedup();
        out.extend(keep.into_iter().map(|i| group[i]));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_left_open_right_closed() {
        assert_eq!(bucket_index(0.0), 0);
        assert_eq!(bucket_index(5.0), 0);
        assert_eq!(bucket_index(5.000_1), 1);
        assert_eq!(bucket_index(20.0), 2);
        assert_eq!(bucket_index(5000.0), 14);
        assert_eq!(bucket_index(5000.1), 15);
        assert_eq!(bucket_index(1e9), BUCKETS - 1);
        assert_eq!(boundary_label(0), "0");
        assert_eq!(boundary_label(1), "5");
        assert_eq!(boundary_label(BUCKETS), "+Inf");
    }

    #[test]
    fn histogram_counts_equal_the_points_in_each_bucket() {
        let values = [
            1.0,
            5.0,
            7.0,
            10.0,
            10.5,
            25.0,
            25.0,
            99.0,
            6000.0,
            f64::NAN,
        ];
        let counts = bucket_counts(values);
        let mut expected = [0u64; BUCKETS];
        expected[0] = 2; // 1, 5
        expected[1] = 2; // 7, 10
        expected[2] = 1; // 10.5
        expected[3] = 2; // 25, 25
        expected[6] = 1; // 99 in (75, 100]
        expected[15] = 1; // above 5000
        assert_eq!(counts, expected);
        assert_eq!(counts.iter().sum::<u64>(), 9, "NaN is skipped");
    }

    #[test]
    fn heatmap_cells_count_by_time_and_bucket() {
        // 0..=100 ms in 4 columns of 25 ms.
        let bins = TimeBins::new(0, 100, 4);
        assert_eq!(bins.column(0), 0);
        assert_eq!(bins.column(24), 0);
        assert_eq!(bins.column(25), 1);
        assert_eq!(bins.column(100), 3, "the end is in the last column");
        assert_eq!(bins.column(-5), 0);
        let cells = heatmap_cells(
            [(0, 3.0), (10, 4.0), (30, 22.0), (99, 22.0), (100, 7000.0)],
            bins,
        );
        assert_eq!(cells.len(), 4);
        assert_eq!(cells[0][0], 2);
        assert_eq!(cells[1][3], 1);
        assert_eq!(cells[2].iter().sum::<u64>(), 0);
        assert_eq!(cells[3][3], 1);
        assert_eq!(cells[3][BUCKETS - 1], 1);
        let total: u64 = cells.iter().flatten().sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn one_time_column_for_a_single_instant() {
        let bins = TimeBins::new(50, 50, 10);
        assert_eq!(bins.column(50), 0);
        assert_eq!(heatmap_cells([(50, 1.0)], bins)[0][0], 1);
    }

    #[test]
    fn downsampling_keeps_extremes_and_order() {
        let points: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (f64::from(i), if i == 5_123 { 900.0 } else { 10.0 }))
            .collect();
        let small = downsample(&points, (0.0, 9_999.0), 100);
        assert!(small.len() <= 400, "{}", small.len());
        assert!(small.contains(&(5_123.0, 900.0)), "the spike survives");
        assert_eq!(small.first(), points.first());
        assert_eq!(small.last(), points.last());
        assert!(small.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
        let few = [(0.0, 1.0), (1.0, 2.0)];
        assert_eq!(downsample(&few, (0.0, 1.0), 100), few.to_vec());
    }
}
