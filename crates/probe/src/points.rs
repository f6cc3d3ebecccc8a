//! Points of the schema in [`crate::schema`], built from measurements.

use probe_metrics::{Point, SinkStats};
use reqwest_timing::{ErrorClass, TimedError, TimedResponse};

use crate::scenario::Scenario;
use crate::schema::{HTTP_ERROR, HTTP_REQUEST, PROBE_ROUND, PROBE_SINK};
use crate::target::Target;

/// Milliseconds with microsecond resolution (short, exact decimals in the line).
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1e3
}

/// `http_request` for a response.
pub fn request(scenario: Scenario, target: &Target, started_ns: i64, r: &TimedResponse) -> Point {
    let t = &r.timings;
    let p = Point::new(HTTP_REQUEST.name, started_ns)
        .tag("scenario", scenario.as_str())
        .tag("target", target.name.as_str())
        .tag("domain", target.domain.as_str())
        .tag("method", target.request.method.as_str())
        .tag("status", r.status.as_str());
    let mut p = extra_tags(probe_metrics::with_timings(p, t, r.version), target);
    if r.url != target.url {
        p = p.field("redirected", true);
    }
    p.field("status_code", i64::from(r.status.as_u16()))
        .field("body_bytes", r.body_bytes as i64)
}

/// The target's extra tags (from the targets file).
fn extra_tags(mut p: Point, target: &Target) -> Point {
    for (k, v) in &target.request.tags {
        p = p.tag(k.as_str(), v.as_str());
    }
    p
}

/// `http_error` for a failure (or a 4xx/5xx response).
pub fn error(
    scenario: Scenario,
    target: &Target,
    started_ns: i64,
    class: ErrorClass,
    elapsed_ms: f64,
) -> Point {
    let p = Point::new(HTTP_ERROR.name, started_ns)
        .tag("scenario", scenario.as_str())
        .tag("target", target.name.as_str())
        .tag("domain", target.domain.as_str())
        .tag("error_class", class.as_str());
    extra_tags(p, target)
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
        .field("resent", stats.resent as i64)
        .field("dropped", stats.dropped as i64)
}

#[cfg(test)]
mod tests {

    use probe_metrics::{FieldValue, Point, SinkStats};
    use std::time::{Duration, SystemTime};

    use reqwest_timing::{
        ConnectionTiming, DnsPhase, ErrorClass, TimedResponse, Timings, TlsFacts, TlsVersion,
    };

    use super::*;
    use crate::schema::{self, Measurement};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Every key of the point is in the schema with its kind, and every key the
    /// schema marks `always` is there.
    fn conforms(point: &Point, m: &Measurement) {
        // The recorder adds the location to every point.
        let point = &point.clone().tag(schema::LOCATION_TAG, "here");
        assert_eq!(point.measurement(), m.name);
        let tags: Vec<&str> = point.tags().map(|(k, _)| k).collect();
        for (key, value) in point.fields() {
            let declared = m.fields.iter().find(|k| k.name == key);
            let declared =
                declared.unwrap_or_else(|| panic!("{key} not in the schema of {}", m.name));
            let kind = match value {
                FieldValue::Float(_) => "float",
                FieldValue::Integer(_) => "integer",
                FieldValue::Boolean(_) => "boolean",
                FieldValue::String(_) => "string",
                other => panic!("{key}: unexpected {other:?}"),
            };
            assert_eq!(kind, declared.kind, "{}.{key}", m.name);
        }
        for tag in &tags {
            assert!(
                m.tags.iter().any(|k| k.name == *tag),
                "tag {tag} not in the schema of {}",
                m.name
            );
        }
        for k in m
            .tags
            .iter()
            .chain(m.fields)
            .filter(|k| k.presence == "always")
        {
            let present = tags.contains(&k.name) || point.fields().any(|(f, _)| f == k.name);
            assert!(present, "{}.{} is always present", m.name, k.name);
        }
        point.to_line().expect("encodable");
    }

    fn response(connection: Option<ConnectionTiming>, url: &str) -> TimedResponse {
        let timings = Timings::new(ms(20), ms(1), ms(60));
        let timings = match connection {
            Some(c) => timings.with_connection(c),
            None => timings,
        };
        TimedResponse::new(
            reqwest::StatusCode::OK,
            url.parse().unwrap(),
            reqwest::Version::HTTP_11,
            timings,
        )
        .with_body_bytes(381)
    }

    #[test]
    fn points_follow_the_schema() {
        let target: Target = "api=https://example.com/x".parse().unwrap();
        let new_connection = ConnectionTiming::new(
            DnsPhase::Lookup(ms(1)),
            ms(2),
            ms(34),
            ([127, 0, 0, 1], 40000).into(),
            ([127, 0, 0, 1], 443).into(),
        )
        .with_tls(
            ms(30),
            TlsFacts::new(Some(TlsVersion::Tls13), false)
                .with_cert_not_after(SystemTime::now() + Duration::from_secs(20 * 86_400)),
        );
        let s = Scenario::SyncFresh;
        let fresh = request(
            s,
            &target,
            1,
            &response(Some(new_connection), "https://example.com/x"),
        );
        conforms(&fresh, &schema::HTTP_REQUEST);
        assert_eq!(
            fresh.fields().count(),
            10,
            "every phase and fact of a new HTTPS connection"
        );
        let tag = |p: &Point, k: &str| p.tags().find(|(t, _)| *t == k).map(|(_, v)| v.to_owned());
        assert_eq!(tag(&fresh, "tls_version").as_deref(), Some("1.3"));
        assert_eq!(tag(&fresh, "tls_resumed").as_deref(), Some("false"));
        assert_eq!(tag(&fresh, "http_version").as_deref(), Some("1.1"));
        let days = fresh.fields().find(|(k, _)| *k == "cert_expires_in_days");
        assert!(matches!(days, Some((_, FieldValue::Float(d))) if (d - 20.0).abs() < 0.01));
        let reused = request(s, &target, 1, &response(None, "https://example.com/x"));
        conforms(&reused, &schema::HTTP_REQUEST);
        assert!(reused.fields().all(|(k, _)| {
            ![
                "dns_ms",
                "connect_ms",
                "tls_ms",
                "redirected",
                "remote_addr",
                "cert_expires_in_days",
            ]
            .contains(&k)
        }));
        assert!(reused.tags().all(|(k, _)| !k.starts_with("tls_")));
        let redirected = request(s, &target, 1, &response(None, "https://example.com/y"));
        conforms(&redirected, &schema::HTTP_REQUEST);
        assert!(redirected.fields().any(|(k, _)| k == "redirected"));
        conforms(
            &error(s, &target, 1, ErrorClass::Tls, 3.0),
            &schema::HTTP_ERROR,
        );
        conforms(&round(s, 1, ms(80), 2, 0), &schema::PROBE_ROUND);
        conforms(
            &sink(
                s,
                1,
                "udp",
                SinkStats {
                    sent: 3,
                    resent: 0,
                    dropped: 0,
                },
            ),
            &schema::PROBE_SINK,
        );
    }
}
