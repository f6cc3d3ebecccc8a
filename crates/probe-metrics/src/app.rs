//! A [`Reporter`] that turns each call a service makes into `http_request`
//! and `http_error` points (see `docs/metrics.md`, tag `source=app`) and
//! hands them to a [`Sink`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest_timing::{CallRecord, Reporter, Timings, http_version_str};

use crate::{Point, Sink};

/// The `source` tag value of a service's own calls.
pub const SOURCE_APP: &str = "app";

/// Reports a service's outbound calls to a sink. Never blocks: a full queue
/// drops the point and counts it in [`Sink::stats`].
#[derive(Debug, Clone)]
pub struct SinkReporter {
    sink: Arc<Sink>,
    client: Arc<str>,
}

impl SinkReporter {
    /// `client` names the calling service (the `client` tag).
    pub fn new(sink: Arc<Sink>, client: impl Into<Arc<str>>) -> Self {
        Self {
            sink,
            client: client.into(),
        }
    }

    /// The sink, for its counters.
    pub fn sink(&self) -> &Arc<Sink> {
        &self.sink
    }
}

impl Reporter for SinkReporter {
    fn on_call(&self, record: &CallRecord) {
        let (request, error) = call_points(&self.client, record);
        if let Some(p) = request {
            self.sink.send(&p);
        }
        if let Some(p) = error {
            self.sink.send(&p);
        }
    }
}

/// Milliseconds with microsecond resolution.
fn ms(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e3
}

fn ns(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn base(measurement: &str, client: &str, r: &CallRecord) -> Point {
    let p = Point::new(measurement, ns(r.started_at))
        .tag("source", SOURCE_APP)
        .tag("client", client)
        .tag("target", &*r.target);
    if r.domain.is_empty() {
        p
    } else {
        p.tag("domain", r.domain.as_str())
    }
}

/// The tags and fields an `http_request` point takes from a call's timings, whoever
/// made the call (a probe or a service): reuse, DNS, HTTP and TLS versions, the phases,
/// and on a new connection the certificate's days left and the remote address.
pub fn with_timings(mut p: Point, t: &Timings, version: reqwest::Version) -> Point {
    let dns = t.connection.as_ref().map_or("none", |c| c.dns.as_str());
    p = p
        .tag("reused", bool_str(t.reused()))
        .tag("dns", dns)
        .tag("http_version", http_version_str(version));
    if let Some(facts) = t.connection.as_ref().and_then(|c| c.tls_facts.as_ref()) {
        if let Some(v) = facts.version {
            p = p.tag("tls_version", v.as_str());
        }
        p = p.tag("tls_resumed", bool_str(facts.resumed));
    }
    p = p
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
        let expires = c
            .tls_facts
            .as_ref()
            .and_then(|f| f.cert_expires_in_days(SystemTime::now()));
        if let Some(days) = expires {
            p = p.field("cert_expires_in_days", days);
        }
        p = p.field("remote_addr", c.remote_addr.to_string());
    }
    p
}

/// The points of one call: `http_request` when a response arrived, and
/// `http_error` when it failed or answered 4xx/5xx.
pub fn call_points(client: &str, r: &CallRecord) -> (Option<Point>, Option<Point>) {
    let request = match (&r.timings, r.status, r.version) {
        (Some(t), Some(status), Some(version)) => {
            let mut p = with_timings(
                base("http_request", client, r)
                    .tag("method", r.method.as_str())
                    .tag("status", status.as_str()),
                t,
                version,
            );
            if r.redirected {
                p = p.field("redirected", true);
            }
            Some(
                p.field("status_code", i64::from(status.as_u16()))
                    .field(
                        "body_bytes",
                        i64::try_from(r.body_bytes).unwrap_or(i64::MAX),
                    )
                    .field("body_complete", r.body_complete),
            )
        }
        _ => None,
    };
    let error = r.error_class().map(|class| {
        base("http_error", client, r)
            .tag("error_class", class.as_str())
            .field("count", 1i64)
            .field("elapsed_ms", ms(r.elapsed))
    });
    (request, error)
}
