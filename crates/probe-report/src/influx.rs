//! Samples from InfluxDB, through the InfluxQL `/query` endpoint.
//!
//! Works on InfluxDB 1.x and on 2.x through the bucket's DBRP mapping. Raw
//! values are fetched (no aggregation in the database) so the percentiles come
//! from the same histogram code as for probe output.

use crate::samples::{Phase, RequestSample, Samples};
use crate::scenario::Scenario;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// What can go wrong while asking InfluxDB.
#[derive(Debug, thiserror::Error)]
pub enum InfluxError {
    /// The URL cannot be parsed.
    #[error("invalid InfluxDB URL '{0}': expected http://HOST:PORT or https://HOST:PORT")]
    Url(String),
    /// No connection (refused, unresolvable, timed out).
    #[error("cannot reach InfluxDB at {url}: {cause}; is it running? (make up)")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The underlying error.
        cause: String,
    },
    /// HTTP 401.
    #[error(
        "InfluxDB at {url} rejected the request as unauthorized (HTTP 401: {message}); check --influx-token / INFLUX_TOKEN"
    )]
    Unauthorized {
        /// The base URL.
        url: String,
        /// InfluxDB's message.
        message: String,
    },
    /// Another non-success HTTP status.
    #[error("InfluxDB at {url} answered HTTP {status}: {message}")]
    Http {
        /// The base URL.
        url: String,
        /// The status code.
        status: u16,
        /// InfluxDB's message.
        message: String,
    },
    /// The query itself failed (`{"error": ...}` in the response).
    #[error("InfluxDB query failed: {0}")]
    Query(String),
    /// The response is not the expected JSON.
    #[error("unexpected InfluxDB response: {0}")]
    Response(String),
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Where to read the probe data.
#[derive(Debug, Clone)]
pub struct InfluxSource {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    pub url: String,
    /// Bucket (2.x) or database (1.x).
    pub bucket: String,
    /// API token, sent as `Authorization: Token <token>`.
    pub token: Option<String>,
}

/// The InfluxQL statements for the last `since`, separated by `;`.
///
/// Statement 0: round times; 1: request phases (rows with only histogram
/// bucket fields have none of these fields and are skipped by InfluxDB);
/// 2: error counts.
pub fn queries(since: Duration) -> String {
    let range = format!("time > now() - {}ms", since.as_millis().max(1));
    let phases: Vec<String> = Phase::ALL
        .iter()
        .map(|p| format!("\"{}\"", p.field()))
        .collect();
    [
        format!(r#"SELECT "total_ms" FROM "probe_round" WHERE {range} GROUP BY "scenario""#),
        format!(
            r#"SELECT {} FROM "http_request" WHERE {range} GROUP BY "scenario","reused","target""#,
            phases.join(",")
        ),
        format!(
            r#"SELECT "count" FROM "http_error" WHERE {range} GROUP BY "scenario","error_class""#
        ),
    ]
    .join("; ")
}

impl InfluxSource {
    /// Fetches the samples of the last `since`.
    pub fn fetch(&self, since: Duration) -> Result<Samples, InfluxError> {
        samples_from_response(&self.fetch_body(since)?)
    }

    /// Runs [`queries`] for the last `since` and returns InfluxDB's JSON answer.
    pub fn fetch_body(&self, since: Duration) -> Result<String, InfluxError> {
        let base = self.url.trim_end_matches('/');
        let mut url = url::Url::parse(&format!("{base}/query"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| InfluxError::Url(self.url.clone()))?;
        url.query_pairs_mut()
            .append_pair("db", &self.bucket)
            .append_pair("q", &queries(since))
            .append_pair("epoch", "ms");
        let mut request = client()?.get(url);
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            request = request.header("Authorization", format!("Token {token}"));
        }
        let unreachable = |e: reqwest::Error| InfluxError::Unreachable {
            url: self.url.clone(),
            cause: error_chain(&e.without_url()),
        };
        let response = request.send().map_err(unreachable)?;
        let status = response.status();
        let body = response.text().map_err(unreachable)?;
        if status.as_u16() == 401 {
            let message = error_message(&body);
            return Err(InfluxError::Unauthorized {
                url: self.url.clone(),
                message,
            });
        }
        if !status.is_success() {
            let message = error_message(&body);
            return Err(InfluxError::Http {
                url: self.url.clone(),
                status: status.as_u16(),
                message,
            });
        }
        Ok(body)
    }
}

/// A blocking client with rustls (ring provider, native roots).
fn client() -> Result<reqwest::blocking::Client, InfluxError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| InfluxError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| InfluxError::Client(error_chain(&e)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The message of an InfluxDB error body (`{"error":..}` or `{"message":..}`), else the text.
fn error_message(body: &str) -> String {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    field("error")
        .or_else(|| field("message"))
        .unwrap_or_else(|| body.trim().chars().take(200).collect())
}

/// Reads the JSON answer to [`queries`] into samples.
pub fn samples_from_response(body: &str) -> Result<Samples, InfluxError> {
    let mut samples = Samples::default();
    for_each_series(body, |statement, series| {
        add_series(&mut samples, statement, series)
    })?;
    Ok(samples)
}

/// Calls `f` with the statement number and each series of the JSON answer to [`queries`].
pub(crate) fn for_each_series(
    body: &str,
    mut f: impl FnMut(u64, &Series<'_>),
) -> Result<(), InfluxError> {
    let json: Value =
        serde_json::from_str(body).map_err(|e| InfluxError::Response(format!("not JSON: {e}")))?;
    if let Some(error) = json.get("error").and_then(Value::as_str) {
        return Err(InfluxError::Query(error.to_string()));
    }
    let results = json
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| InfluxError::Response("no \"results\" array".into()))?;
    for (i, result) in results.iter().enumerate() {
        if let Some(error) = result.get("error").and_then(Value::as_str) {
            return Err(InfluxError::Query(error.to_string()));
        }
        let statement = result
            .get("statement_id")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        for series in result
            .get("series")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            f(statement, &Series::new(series)?);
        }
    }
    Ok(())
}

/// One series of a result: its tags, column names and rows.
pub(crate) struct Series<'a> {
    tags: Option<&'a serde_json::Map<String, Value>>,
    columns: Vec<&'a str>,
    pub(crate) rows: Vec<&'a Vec<Value>>,
}

impl<'a> Series<'a> {
    fn new(series: &'a Value) -> Result<Series<'a>, InfluxError> {
        let bad = |what: &str| InfluxError::Response(format!("series without {what}"));
        let columns = series
            .get("columns")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("columns"))?
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect();
        let rows = series
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_array).collect())
            .unwrap_or_default();
        Ok(Series {
            tags: series.get("tags").and_then(Value::as_object),
            columns,
            rows,
        })
    }

    pub(crate) fn tag(&self, key: &str) -> Option<&'a str> {
        self.tags?.get(key)?.as_str().filter(|v| !v.is_empty())
    }

    pub(crate) fn number(&self, row: &[Value], column: &str) -> Option<f64> {
        let i = self.columns.iter().position(|c| *c == column)?;
        row.get(i)?.as_f64()
    }

    /// The row's `time` column, in ms since the epoch (queried with `epoch=ms`).
    pub(crate) fn time_ms(&self, row: &[Value]) -> Option<i64> {
        let i = self.columns.iter().position(|c| *c == "time")?;
        row.get(i)?.as_i64()
    }
}

fn add_series(samples: &mut Samples, statement: u64, series: &Series<'_>) {
    let Some(scenario) = series.tag("scenario").and_then(Scenario::from_tag) else {
        return;
    };
    for row in &series.rows {
        match statement {
            0 => {
                if let Some(total_ms) = series.number(row, "total_ms") {
                    samples.add_round(scenario, total_ms);
                }
            }
            1 => {
                if series.number(row, "total_ms").is_none() {
                    continue;
                }
                let mut request = RequestSample {
                    target: series.tag("target").map(str::to_string),
                    reused: series.tag("reused").and_then(|r| r.parse().ok()),
                    ..Default::default()
                };
                for phase in Phase::ALL {
                    request.phases_ms[phase as usize] = series.number(row, phase.field());
                }
                samples.add_request(scenario, &request);
            }
            2 => {
                let count = series.number(row, "count").unwrap_or(1.0).max(0.0) as u64;
                samples.add_errors(
                    scenario,
                    series.tag("error_class").unwrap_or("other"),
                    count,
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_select_raw_values_in_range() {
        let q = queries(Duration::from_secs(900));
        assert!(q.contains(r#"SELECT "total_ms" FROM "probe_round" WHERE time > now() - 900000ms GROUP BY "scenario""#), "{q}");
        assert!(q.contains(r#""tls_ms","ttfb_ms""#), "{q}");
        assert_eq!(q.matches("SELECT").count(), 3);
    }

    #[test]
    fn reads_results() {
        let body = r#"{"results":[
          {"statement_id":0,"series":[{"name":"probe_round","tags":{"scenario":"sync-fresh"},"columns":["time","total_ms"],"values":[[1,130.0],[2,132.0]]}]},
          {"statement_id":1,"series":[{"name":"http_request","tags":{"reused":"true","scenario":"async-reused","target":"fast"},"columns":["time","dns_ms","connect_ms","tls_ms","ttfb_ms","body_ms","total_ms"],"values":[[1,null,null,null,20.5,0.1,20.7]]}]},
          {"statement_id":2,"series":[{"name":"http_error","tags":{"error_class":"timeout","scenario":"sync-fresh"},"columns":["time","count"],"values":[[1,1],[2,1]]}]}
        ]}"#;
        let samples = samples_from_response(body).expect("valid");
        let fresh = samples.scenario(Scenario::SyncFresh);
        assert_eq!(fresh.round_total_ms, vec![130.0, 132.0]);
        assert_eq!(fresh.errors.get("timeout"), Some(&2));
        let reused = samples.scenario(Scenario::AsyncReused);
        assert_eq!((reused.requests, reused.reused_requests), (1, 1));
        assert_eq!(reused.phase(Phase::Ttfb), &[20.5]);
        assert!(reused.phase(Phase::Tls).is_empty());
    }

    #[test]
    fn empty_results_give_empty_samples() {
        let samples =
            samples_from_response(r#"{"results":[{"statement_id":0},{"statement_id":1}]}"#)
                .expect("valid");
        assert!(samples.is_empty());
    }

    #[test]
    fn errors_in_body_are_reported() {
        let err = samples_from_response(
            r#"{"results":[{"statement_id":0,"error":"database not found: probes"}]}"#,
        )
        .expect_err("statement error");
        assert_eq!(
            err.to_string(),
            "InfluxDB query failed: database not found: probes"
        );
        let err =
            samples_from_response(r#"{"error":"error parsing query"}"#).expect_err("top error");
        assert_eq!(
            err.to_string(),
            "InfluxDB query failed: error parsing query"
        );
        assert!(matches!(
            samples_from_response("<html>"),
            Err(InfluxError::Response(_))
        ));
        assert_eq!(
            error_message(r#"{"code":"unauthorized","message":"unauthorized access"}"#),
            "unauthorized access"
        );
    }
}
