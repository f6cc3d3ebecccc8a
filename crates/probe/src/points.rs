//! Points of the schema in [`crate::schema`], built from measurements.

use probe_metrics::{Point, SinkStats};
use reqwest_timing::{ErrorClass, TimedError, TimedResponse};

use crate::scenario::Scenario;
use crate::schema::{HTTP_ERROR, HTTP_REQUEST, PROBE_ROUND, PROBE_SINK};
use crate::target::Target;

/// Milliseconds with microsecond resolution (short, exact decimals in the line).
fn ms(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1e3
}

/// `http_request` for a response.
pub fn request(scenario: Scenario, target: &Target, started_ns: i64, r: &TimedResponse) -> Point {
    let t = &r.timings;
    let dns = t.connection.as_ref().map_or("none", |c| c.dns.as_str());
    let mut p = Point::new(HTTP_REQUEST.name, started_ns)
        .tag("scenario", scenario.as_str())
        .tag("target", target.name.as_str())
        .tag("domain", target.domain.as_str())
        .tag("method", "GET")
        .tag("status", r.status.as_str())
        .tag("reused", if t.reused() { "true" } else { "false" })
        .tag("dns", dns)
        .field("total_ms", ms(t.total))
        .field("ttfb_ms", ms(t.ttfb))
        .field("body_ms", ms(t.body));
    if let Some(c) = &t.connection {
        if let Some(d) = c.dns.duration() {
            p = p.field("dns_ms", ms(d));
        }
        p = p.field("connect_ms", ms(c.connect));
        if let Some(tls) = c.tls {
            p = p.field("tls_ms", ms(tls));
        }
    }
    p.field("status_code", i64::from(r.status.as_u16()))
        .field("body_bytes", r.body_bytes as i64)
}

/// `http_error` for a failure (or a 4xx/5xx response).
pub fn error(
    scenario: Scenario,
    target: &Target,
    started_ns: i64,
    class: ErrorClass,
    elapsed_ms: f64,
) -> Point {
    Point::new(HTTP_ERROR.name, started_ns)
        .tag("scenario", scenario.as_str())
        .tag("target", target.name.as_str())
        .tag("domain", target.domain.as_str())
        .tag("error_class", class.as_str())
        .field("count", 1i64)
        .field("elapsed_ms", elapsed_ms)
}

/// `http_error` for a request that got no response.
pub fn failure(scenario: Scenario, target: &Target, started_ns: i64, e: &TimedError) -> Point {
    error(scenario, target, started_ns, e.class, ms(e.elapsed))
}

/// `probe_round`.
pub fn round(
    scenario: Scenario,
    started_ns: i64,
    total: std::time::Duration,
    requests: u64,
    errors: u64,
) -> Point {
    Point::new(PROBE_ROUND.name, started_ns)
        .tag("scenario", scenario.as_str())
        .field("total_ms", ms(total))
        .field("requests", requests as i64)
        .field("errors", errors as i64)
}

/// `probe_sink`.
pub fn sink(scenario: Scenario, at_ns: i64, kind: &str, stats: SinkStats) -> Point {
    Point::new(PROBE_SINK.name, at_ns)
        .tag("scenario", scenario.as_str())
        .tag("sink", kind)
        .field("sent", stats.sent as i64)
        .field("dropped", stats.dropped as i64)
}
