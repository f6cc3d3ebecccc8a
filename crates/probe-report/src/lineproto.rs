//! Samples from probe output (InfluxDB line protocol, one point per line).

use crate::samples::{Phase, RequestSample, Samples};
use crate::scenario::Scenario;
use influxdb_line_protocol::{FieldValue, ParsedLine, parse_lines};

/// A line that is not valid line protocol.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: not valid line protocol ({message}): {text}")]
pub struct LineProtocolError {
    /// 1-based line number.
    pub line: usize,
    /// What the parser said.
    pub message: String,
    /// The offending line, shortened.
    pub text: String,
}

/// Parses probe output into samples.
///
/// Blank lines and `#` comments are skipped; measurements other than
/// `probe_round`, `http_request` and `http_error`, and points whose `scenario`
/// tag is not one of the four scenarios, are ignored. `http_request` points
/// without a `total_ms` field (Telegraf histogram buckets) are ignored too.
pub fn parse_line_protocol(input: &str) -> Result<Samples, LineProtocolError> {
    let mut samples = Samples::default();
    for (i, text) in input.lines().enumerate() {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        for parsed in parse_lines(trimmed) {
            let point = parsed.map_err(|e| LineProtocolError {
                line: i + 1,
                message: e.to_string(),
                text: trimmed.chars().take(120).collect(),
            })?;
            add_point(&mut samples, &point);
        }
    }
    Ok(samples)
}

fn add_point(samples: &mut Samples, point: &ParsedLine<'_>) {
    let Some(scenario) = tag(point, "scenario").and_then(Scenario::from_tag) else {
        return;
    };
    match point.series.measurement.as_str() {
        "probe_round" => {
            if let Some(total_ms) = number(point, "total_ms") {
                samples.add_round(scenario, total_ms);
            }
        }
        "http_request" => {
            if number(point, "total_ms").is_none() {
                return;
            }
            let mut request = RequestSample {
                target: tag(point, "target").map(str::to_string),
                reused: tag(point, "reused").and_then(|r| r.parse().ok()),
                ..Default::default()
            };
            for phase in Phase::ALL {
                request.phases_ms[phase as usize] = number(point, phase.field());
            }
            samples.add_request(scenario, &request);
        }
        "http_error" => {
            let class = tag(point, "error_class").unwrap_or("other");
            let count = number(point, "count").unwrap_or(1.0).max(0.0) as u64;
            samples.add_errors(scenario, class, count);
        }
        _ => {}
    }
}

/// A tag's value.
pub(crate) fn tag<'a>(point: &'a ParsedLine<'_>, key: &str) -> Option<&'a str> {
    point.tag_value(key).map(|v| v.as_str())
}

/// A numeric field's value as `f64` (strings and booleans are not numbers).
pub(crate) fn number(point: &ParsedLine<'_>, key: &str) -> Option<f64> {
    match point.field_value(key)? {
        FieldValue::F64(v) => Some(*v),
        FieldValue::I64(v) => Some(*v as f64),
        FieldValue::U64(v) => Some(*v as f64),
        FieldValue::String(_) | FieldValue::Boolean(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINTS: &str = "\
http_request,scenario=sync-fresh,target=fast,domain=localhost,method=GET,status=200,reused=false,dns=lookup total_ms=57.5,ttfb_ms=21.0,body_ms=0.2,dns_ms=0.3,connect_ms=0.2,tls_ms=36.0,status_code=200i,body_bytes=17i 1700000000000000000
http_request,scenario=sync-reused,target=fast,domain=localhost,method=GET,status=200,reused=true,dns=none total_ms=21.5,ttfb_ms=21.0,body_ms=0.1,status_code=200i,body_bytes=17i 1700000000000000000

# a comment
http_request,scenario=sync-fresh,gt=10,le=20 total_ms_bucket=3i 1700000000000000000
http_error,scenario=async-fresh,target=slow,domain=localhost,error_class=timeout count=1i,elapsed_ms=10000.0 1700000000000000000
probe_round,scenario=sync-fresh total_ms=130.5,requests=2i,errors=0i 1700000000000000000
probe_round,scenario=unknown total_ms=1.0,requests=2i,errors=0i 1700000000000000000
probe_sink,scenario=sync-fresh,sink=stdout sent=5i,dropped=0i 1700000000000000000
";

    #[test]
    fn parses_the_probe_schema() {
        let samples = parse_line_protocol(POINTS).expect("valid");
        let fresh = samples.scenario(Scenario::SyncFresh);
        assert_eq!(fresh.round_total_ms, vec![130.5]);
        assert_eq!(fresh.requests, 1, "histogram bucket rows are skipped");
        assert_eq!(fresh.reused_requests, 0);
        assert_eq!(fresh.phase(Phase::Tls), &[36.0]);
        let reused = samples.scenario(Scenario::SyncReused);
        assert_eq!(reused.reused_requests, 1);
        assert!(reused.phase(Phase::Dns).is_empty());
        let errors = samples.scenario(Scenario::AsyncFresh);
        assert_eq!(errors.errors.get("timeout"), Some(&1));
        assert!(samples.scenario(Scenario::AsyncReused).is_empty());
    }

    #[test]
    fn bad_line_names_its_number() {
        let err =
            parse_line_protocol("probe_round,scenario=sync-fresh total_ms=1\nnot line protocol\n")
                .expect_err("second line is bad");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("line 2: "), "{err}");
    }
}
