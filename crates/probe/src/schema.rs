//! The metric schema: every measurement, tag and field the probes write.
//! `docs/metrics.md` is generated from this table (`cargo test -p probe`
//! checks that it is current; `UPDATE_DOCS=1` rewrites it).

/// A tag or field and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key.
    pub name: &'static str,
    /// Line protocol type of a field (`float`, `integer`, `boolean`,
    /// `string`); `tag` for tags.
    pub kind: &'static str,
    /// `always` or when it is present.
    pub presence: &'static str,
    /// What it holds.
    pub about: &'static str,
}

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// The measurement name.
    pub name: &'static str,
    /// One point per what.
    pub about: &'static str,
    /// Its tags.
    pub tags: &'static [Key],
    /// Its fields.
    pub fields: &'static [Key],
}

const fn tag(name: &'static str, about: &'static str) -> Key {
    Key {
        name,
        kind: "tag",
        presence: "always",
        about,
    }
}

const fn tag_when(name: &'static str, presence: &'static str, about: &'static str) -> Key {
    Key {
        name,
        kind: "tag",
        presence,
        about,
    }
}

const fn field(
    name: &'static str,
    kind: &'static str,
    presence: &'static str,
    about: &'static str,
) -> Key {
    Key {
        name,
        kind,
        presence,
        about,
    }
}

const SCENARIO: Key = tag(
    "scenario",
    "`sync-fresh`, `sync-reused`, `async-fresh` or `async-reused`",
);
const TARGET: Key = tag(
    "target",
    "the target's name (`NAME=URL`), else the URL's host; for service calls the `CallTarget` set on the request, else the URL's host",
);
/// `scenario` on the points a service writes about its calls is absent.
const SCENARIO_OF_PROBES: Key = tag_when(
    "scenario",
    "probe points",
    "`sync-fresh`, `sync-reused`, `async-fresh` or `async-reused`",
);
const SOURCE: Key = tag_when(
    "source",
    "service calls",
    "`app`: a call a service made through the `reqwest-timing` middleware, reported by `probe_metrics::SinkReporter` (probe points have `scenario` instead)",
);
const CLIENT: Key = tag_when(
    "client",
    "service calls",
    "the calling service's name, e.g. `example-app`",
);
const DOMAIN: Key = tag("domain", "the URL's host");

/// The key of the tag every probe point carries (added by the recorder).
pub const LOCATION_TAG: &str = "location";
const LOCATION: Key = tag(
    LOCATION_TAG,
    "where the probe runs: `--location` (`PROBE_LOCATION`), by default the host name",
);
/// `location` on `http_request`/`http_error`: service calls carry none
/// (`SinkReporter` writes what the service knows, not where a probe runs).
const LOCATION_OF_PROBES: Key = tag_when(
    LOCATION_TAG,
    "probe points",
    "where the probe runs: `--location` (`PROBE_LOCATION`), by default the host name; service calls (`source=app`) carry none",
);

/// `http_request`: one point per request that got a response.
pub const HTTP_REQUEST: Measurement = Measurement {
    name: "http_request",
    about: "one point per request that got a response (4xx and 5xx included)",
    tags: &[
        SCENARIO_OF_PROBES,
        LOCATION_OF_PROBES,
        SOURCE,
        CLIENT,
        TARGET,
        DOMAIN,
        tag("method", "HTTP method, e.g. `GET`"),
        tag("status", "status code as text, e.g. `200`"),
        tag(
            "reused",
            "`false` when the request waited for a new connection, else `true`",
        ),
        tag(
            "dns",
            "`lookup` (resolver asked), `cached` (TTL cache hit) or `none` (no resolution: reused connection or IP-literal host)",
        ),
        tag(
            "http_version",
            "HTTP version of the response: `1.1` or `2` (`--http`, `http` in the targets file)",
        ),
        tag_when(
            "tls_version",
            "new HTTPS connection",
            "negotiated TLS version: `1.2` or `1.3`",
        ),
        tag_when(
            "tls_resumed",
            "new HTTPS connection",
            "`true` when the handshake resumed an earlier session (reused probes only; cheaper, no certificate sent), else `false`",
        ),
    ],
    fields: &[
        field("total_ms", "float", "always", "call to last body byte"),
        field(
            "ttfb_ms",
            "float",
            "always",
            "request handed to the connection (after any setup) to response headers",
        ),
        field(
            "body_ms",
            "float",
            "always",
            "response headers to last body byte",
        ),
        field(
            "dns_ms",
            "float",
            "new connection to a host name",
            "name resolution",
        ),
        field(
            "connect_ms",
            "float",
            "new connection",
            "TCP connect (end of DNS to start of TLS)",
        ),
        field(
            "tls_ms",
            "float",
            "new HTTPS connection",
            "TLS handshake (ClientHello to handshake end; the probe's reading of the certificate chain is taken off)",
        ),
        field(
            "cert_expires_in_days",
            "float",
            "new HTTPS connection with a full handshake",
            "days until the earliest `notAfter` of the certificate chain the server presented (negative once expired)",
        ),
        field(
            "remote_addr",
            "string",
            "new connection",
            "server address and port that DNS and connect chose, e.g. `10.0.0.7:443`",
        ),
        field(
            "redirected",
            "boolean",
            "after redirects (then `true`)",
            "the URL that answered is not the one requested: `total_ms` covers every hop, the other phases the last one",
        ),
        field("status_code", "integer", "always", "status code"),
        field("body_bytes", "integer", "always", "body bytes received"),
        field(
            "body_complete",
            "boolean",
            "service calls",
            "`false` when the service dropped the response before its body ended, or the body failed (then `body_ms` and `total_ms` stop there)",
        ),
    ],
};

/// `http_error`: one point per failed request.
pub const HTTP_ERROR: Measurement = Measurement {
    name: "http_error",
    about: "one point per failed request; a response that broke an expectation (by default a 4xx/5xx) also has its `http_request` point",
    tags: &[
        SCENARIO_OF_PROBES,
        LOCATION_OF_PROBES,
        SOURCE,
        CLIENT,
        TARGET,
        DOMAIN,
        tag(
            "error_class",
            "`dns`, `connect`, `tls`, `timeout`, `http_4xx`, `http_5xx`, `body`, `redirect`, `expect` (a 1xx–3xx status the target does not expect, or a body not matching its expected-body regex) or `other`",
        ),
    ],
    fields: &[
        field("count", "integer", "always", "always 1, for sums"),
        field("elapsed_ms", "float", "always", "call to failure"),
    ],
};

/// `probe_round`: one point per round.
pub const PROBE_ROUND: Measurement = Measurement {
    name: "probe_round",
    about: "one point per round (every target requested once)",
    tags: &[SCENARIO, LOCATION],
    fields: &[
        field(
            "total_ms",
            "float",
            "always",
            "wall time of the round: sync ≈ sum of the requests, async ≈ the slowest (more when there are more targets than `--concurrency`; with `--spread`, ≈ 0.9 × `--interval` + the last request)",
        ),
        field("requests", "integer", "always", "requests made"),
        field(
            "errors",
            "integer",
            "always",
            "requests that failed or whose response broke an expectation (by default 4xx/5xx)",
        ),
        field(
            "overrun_ms",
            "float",
            "when the round took longer than `--interval`",
            "how far the round ran past `--interval` (the next round then starts at once)",
        ),
    ],
};

/// `probe_sink`: the metric sink's counters, once per round.
pub const PROBE_SINK: Measurement = Measurement {
    name: "probe_sink",
    about: "the metric sink's cumulative counters, once per round",
    tags: &[
        SCENARIO,
        LOCATION,
        tag("sink", "`telegraf`, `influxdb`, `stdout` or `none`"),
    ],
    fields: &[
        field(
            "sent",
            "integer",
            "always",
            "points delivered so far: written to the TCP socket, accepted by the HTTP endpoint (2xx), or, over UDP, datagrams the kernel accepted while the listener was not refusing them (UDP gives no delivery guarantee)",
        ),
        field(
            "resent",
            "integer",
            "always",
            "of `sent`, points written a second time on a new TCP connection because the old one was lost part-way through their line",
        ),
        field(
            "dropped",
            "integer",
            "always",
            "points dropped so far (queue full, sink down, unencodable)",
        ),
    ],
};

/// Every measurement.
pub const ALL: [Measurement; 4] = [HTTP_REQUEST, HTTP_ERROR, PROBE_ROUND, PROBE_SINK];

/// Per measurement, a field every point has: `count(field)` counts its points
/// (the first `always` field of each measurement, in [`ALL`] order).
pub const COUNTED: [(&str, &str); 4] = [
    (ALL[0].name, first_always(&ALL[0]).name),
    (ALL[1].name, first_always(&ALL[1]).name),
    (ALL[2].name, first_always(&ALL[2]).name),
    (ALL[3].name, first_always(&ALL[3]).name),
];

const fn first_always(m: &Measurement) -> &'static Key {
    let mut i = 0;
    while i < m.fields.len() {
        if matches!(m.fields[i].presence.as_bytes(), b"always") {
            return &m.fields[i];
        }
        i += 1;
    }
    panic!("a measurement without an always-present field cannot be counted");
}

/// The schema as the Markdown of `docs/metrics.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Metric schema\n\n\
         Generated from `crates/probe/src/schema.rs` (the code is the single source; \
         `UPDATE_DOCS=1 cargo test -p probe schema` rewrites this file).\n\n\
         Every point is InfluxDB line protocol with a nanosecond timestamp: the start of the \
         request, or of the round. Times are milliseconds as floats. A phase that did not \
         happen on a request (reused connection, plain HTTP, IP-literal host) is absent, not zero. \
         Targets from a targets file may add their own tags (`tags = {...}`) to `http_request` \
         and `http_error`; they never reuse a key listed here.\n",
    );
    for m in ALL {
        out.push_str(&format!(
            "\n## `{}`\n\n{}.\n\n",
            m.name,
            capitalise(m.about)
        ));
        out.push_str("| key | kind | present | meaning |\n|---|---|---|---|\n");
        for k in m.tags.iter().chain(m.fields) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                k.name, k.kind, k.presence, k.about
            ));
        }
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_metrics_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md");
        let expected = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &expected).expect("write docs/metrics.md");
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/metrics.md is stale: run UPDATE_DOCS=1 cargo test -p probe schema"
        );
    }
}
