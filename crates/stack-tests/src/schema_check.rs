//! Names in InfluxQL queries (dashboards, probe-report) checked against the metric
//! schema, `probe::schema`: a renamed field or tag fails a test instead of an empty panel.

use probe::schema::{self, Measurement};

/// Tags Telegraf's histogram aggregator adds to the bucket points (`le`, `gt`).
const HISTOGRAM_TAGS: [&str; 2] = ["le", "gt"];
/// Suffix of the bucket count fields the histogram aggregator writes (`total_ms_bucket`).
const BUCKET_SUFFIX: &str = "_bucket";
/// Measurements of Telegraf's own `inputs.internal` plugin (not the probes').
const TELEGRAF_INTERNAL_PREFIX: &str = "internal_";

/// The problems with one query's names; empty when every measurement, tag and field
/// it names is in the schema. Aliases (`AS "x"`) and Grafana variables are not names.
pub fn check_query(query: &str) -> Vec<String> {
    let quoted = quoted_names(query);
    let mut measurements = Vec::new();
    let mut keys = Vec::new();
    let mut in_from = false;
    for (before, name) in &quoted {
        let before = before.trim().to_ascii_uppercase();
        if before.ends_with("FROM") || (in_from && before == ",") {
            in_from = true;
            measurements.push(name.clone());
        } else if before.ends_with(" AS") {
            in_from = false;
        } else {
            in_from = false;
            keys.push(name.clone());
        }
    }
    let mut problems = Vec::new();
    let known: Vec<&Measurement> = measurements
        .iter()
        .filter(|m| !m.starts_with(TELEGRAF_INTERNAL_PREFIX))
        .filter_map(|m| {
            let found = schema::ALL.iter().find(|s| s.name == m.as_str());
            if found.is_none() {
                problems.push(format!("measurement {m:?} is not in probe::schema"));
            }
            found
        })
        .collect();
    if known.is_empty() {
        return problems;
    }
    for key in keys {
        let in_schema = known.iter().any(|m| {
            m.tags.iter().chain(m.fields).any(|k| k.name == key)
                || HISTOGRAM_TAGS.contains(&key.as_str())
                || key.strip_suffix(BUCKET_SUFFIX).is_some_and(|field| {
                    m.fields
                        .iter()
                        .any(|k| k.name == field && k.kind == "float")
                })
        });
        if !in_schema {
            let names: Vec<&str> = known.iter().map(|m| m.name).collect();
            problems.push(format!(
                "{key:?} is no tag or field of {names:?} in probe::schema"
            ));
        }
    }
    problems
}

/// Every double-quoted name with the text before it (back to the previous name).
fn quoted_names(query: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = query;
    while let Some(open) = rest.find('"') {
        let before = rest[..open].to_owned();
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else { break };
        out.push((before, after[..close].to_owned()));
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_schema_names_histogram_buckets_and_aliases() {
        let q = r#"SELECT mean("total_ms") AS "mean", sum("total_ms_bucket") FROM "http_request" WHERE "scenario" =~ /^$scenario$/ AND "le" = '5' GROUP BY "target", "dns""#;
        assert_eq!(check_query(q), Vec::<String>::new());
        let q = r#"SHOW TAG VALUES FROM "http_request", "http_error" WITH KEY = "error_class""#;
        assert_eq!(check_query(q), Vec::<String>::new());
        let q = r#"SELECT max("buffer_size") FROM "internal_write" GROUP BY time(1m), "output""#;
        assert_eq!(check_query(q), Vec::<String>::new());
        let q = r#"SELECT "count" FROM "http_error" GROUP BY time(1m), "nope""#;
        assert_eq!(
            check_query(q).len(),
            1,
            "a key after GROUP BY is no measurement"
        );
    }

    #[test]
    fn names_what_is_not_in_the_schema() {
        let q = r#"SELECT mean("totl_ms") FROM "http_request" GROUP BY "scenario""#;
        assert_eq!(check_query(q).len(), 1, "{:?}", check_query(q));
        assert!(check_query(q)[0].contains("totl_ms"));
        let q = r#"SELECT "count" FROM "http_errors""#;
        assert!(check_query(q)[0].contains("http_errors"));
        // A bucket of an integer field does not exist.
        let q = r#"SELECT sum("status_code_bucket") FROM "http_request""#;
        assert_eq!(check_query(q).len(), 1);
    }
}
