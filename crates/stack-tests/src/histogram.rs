//! Checks Telegraf's histogram aggregator output against the raw points in InfluxDB.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use crate::influxdb::{InfluxServer, series};

type SeriesKey = BTreeMap<String, String>;

/// The bucket bounds of the `buckets = [...]` line in a Telegraf config.
pub fn bounds_from_config(config: &str) -> anyhow::Result<Vec<f64>> {
    let line = config
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("buckets"))
        .context("no buckets line in telegraf config")?;
    let inner = line
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(inner, _)| inner)
        .context("buckets line without [...]")?;
    inner
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .with_context(|| format!("bad bucket {s:?}"))
        })
        .collect()
}

/// Index of the bucket holding `value`: buckets are (gt, le], the last is (last, +Inf].
pub fn bucket_index(bounds: &[f64], value: f64) -> usize {
    bounds
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(bounds.len())
}

fn parse_bound(s: &str) -> anyhow::Result<f64> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse().with_context(|| format!("bad bucket bound {s:?}")),
    }
}

/// What the check covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub series: usize,
    pub periods: usize,
    pub values: usize,
}

/// For histogram field `<field>_bucket` in measurement `http_request`:
/// every row has `gt` and `le` tags forming one of the configured buckets, each period of
/// each series has every bucket exactly once, and per series and bucket the counts over
/// all periods equal the number of stored raw `field` values in (gt, le]: each value
/// fell in exactly one bucket and none was lost or counted twice.
pub fn check(
    influx: &InfluxServer,
    db: &str,
    field: &str,
    bounds: &[f64],
) -> anyhow::Result<Checked> {
    let raw = influx.query(
        db,
        &format!("SELECT \"{field}\" FROM http_request WHERE time > 0 GROUP BY *"),
    )?;
    let mut expected: BTreeMap<SeriesKey, Vec<u64>> = BTreeMap::new();
    let mut values = 0;
    for s in series(&raw) {
        // GROUP BY * lists every tag key of the measurement, empty where unset.
        let key: SeriesKey = s
            .tags
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let counts = expected
            .entry(key)
            .or_insert_with(|| vec![0; bounds.len() + 1]);
        for row in &s.values {
            if let Some(v) = row.get(1).and_then(Value::as_f64) {
                counts[bucket_index(bounds, v)] += 1;
                values += 1;
            }
        }
    }
    expected.retain(|_, c| c.iter().sum::<u64>() > 0);
    ensure!(values > 0, "no raw {field} values in http_request");

    let bucket_field = format!("{field}_bucket");
    let hist = influx.query(
        db,
        &format!("SELECT \"{bucket_field}\" FROM http_request WHERE time > 0 GROUP BY *"),
    )?;
    // series key -> period time -> bucket index -> count
    let mut got: BTreeMap<SeriesKey, BTreeMap<i64, BTreeMap<usize, u64>>> = BTreeMap::new();
    for s in series(&hist) {
        let mut key: SeriesKey = s
            .tags
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let gt = key.remove("gt").with_context(|| {
            format!(
                "{bucket_field} row without gt tag (cumulative histogram?): {:?}",
                s.tags
            )
        })?;
        let le = key
            .remove("le")
            .with_context(|| format!("{bucket_field} row without le tag: {:?}", s.tags))?;
        let (gt, le) = (parse_bound(&gt)?, parse_bound(&le)?);
        let idx = bucket_index(bounds, le);
        let lower = if idx == 0 {
            f64::NEG_INFINITY
        } else {
            bounds[idx - 1]
        };
        let upper = bounds.get(idx).copied().unwrap_or(f64::INFINITY);
        ensure!(
            gt == lower && le == upper,
            "{bucket_field} bucket ({gt}, {le}] is not a configured bucket"
        );
        for row in &s.values {
            let (Some(t), Some(n)) = (row.first().and_then(Value::as_i64), row.get(1)) else {
                continue;
            };
            let Some(n) = n.as_u64() else { continue };
            let prev = got
                .entry(key.clone())
                .or_default()
                .entry(t)
                .or_default()
                .insert(idx, n);
            ensure!(
                prev.is_none(),
                "bucket {idx} twice in one period of {key:?}"
            );
        }
    }

    let expected_keys: BTreeSet<_> = expected.keys().collect();
    let got_keys: BTreeSet<_> = got.keys().collect();
    if expected_keys != got_keys {
        bail!(
            "{bucket_field}: histogram series differ from raw series\n raw only: {:?}\n histogram only: {:?}",
            expected_keys
                .difference(&got_keys)
                .take(3)
                .collect::<Vec<_>>(),
            got_keys
                .difference(&expected_keys)
                .take(3)
                .collect::<Vec<_>>()
        );
    }
    let mut periods = 0;
    for (key, by_period) in &got {
        let mut sums = vec![0u64; bounds.len() + 1];
        for (t, buckets) in by_period {
            ensure!(
                buckets.len() == bounds.len() + 1,
                "{bucket_field}: period {t} of {key:?} has {} of {} buckets",
                buckets.len(),
                bounds.len() + 1
            );
            for (idx, n) in buckets {
                sums[*idx] += n;
            }
            periods += 1;
        }
        let want = &expected[key];
        ensure!(
            &sums == want,
            "{bucket_field}: bucket counts of {key:?} are {sums:?}, raw values give {want:?}"
        );
    }
    Ok(Checked {
        series: got.len(),
        periods,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_left_open_right_closed() {
        let b = [5.0, 10.0];
        assert_eq!(bucket_index(&b, 0.1), 0);
        assert_eq!(bucket_index(&b, 5.0), 0);
        assert_eq!(bucket_index(&b, 5.01), 1);
        assert_eq!(bucket_index(&b, 10.0), 1);
        assert_eq!(bucket_index(&b, 11.0), 2);
    }

    #[test]
    fn reads_buckets_from_config() -> anyhow::Result<()> {
        let conf = "x = 1\n    buckets = [5.0, 10.0, 7.5]\n";
        assert_eq!(bounds_from_config(conf)?, vec![5.0, 10.0, 7.5]);
        Ok(())
    }
}
