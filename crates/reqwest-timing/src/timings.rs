//! The figures of one request.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// How the host name of a new connection was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsPhase {
    /// A lookup (getaddrinfo) that took this long.
    Lookup(Duration),
    /// Answered from the resolver's TTL cache in this time.
    Cached(Duration),
    /// No resolution: the URL's host is an IP address.
    Skipped,
}

impl DnsPhase {
    /// The time spent resolving, if a resolution happened.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            Self::Lookup(d) | Self::Cached(d) => Some(*d),
            Self::Skipped => None,
        }
    }

    /// `lookup`, `cached` or `none`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Lookup(_) => "lookup",
            Self::Cached(_) => "cached",
            Self::Skipped => "none",
        }
    }
}

/// The setup of a new connection, as the request that waited for it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionTiming {
    /// Name resolution.
    pub dns: DnsPhase,
    /// TCP connect, from the end of DNS to the start of the TLS handshake (or
    /// to the connection being ready, for plain HTTP).
    pub connect: Duration,
    /// TLS handshake, from building the ClientHello to the handshake's end;
    /// `None` for plain HTTP.
    pub tls: Option<Duration>,
    /// The whole setup, from the connector being called to the connection
    /// being ready (DNS + connect + TLS + the connector's own overhead).
    pub setup: Duration,
    /// The client's side of the connection.
    pub local_addr: SocketAddr,
    /// The server's side of the connection: the address DNS and connect chose.
    pub remote_addr: SocketAddr,
    /// What the TLS handshake negotiated; `None` for plain HTTP.
    pub tls_facts: Option<TlsFacts>,
}

/// The negotiated TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// `1.2` or `1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls12 => "1.2",
            Self::Tls13 => "1.3",
        }
    }
}

/// Facts about the TLS handshake of a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFacts {
    /// The protocol version; `None` only if rustls never revealed it.
    pub version: Option<TlsVersion>,
    /// The handshake resumed an earlier session (no certificate was sent).
    pub resumed: bool,
    /// The earliest `notAfter` of the certificate chain the server presented;
    /// `None` on a resumed handshake (no chain) or an unreadable certificate.
    pub cert_not_after: Option<SystemTime>,
}

impl ConnectionTiming {
    /// A plain-HTTP connection's setup (e.g. for testing a reporter); add a
    /// TLS phase with [`with_tls`](Self::with_tls).
    pub fn new(
        dns: DnsPhase,
        connect: Duration,
        setup: Duration,
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
    ) -> Self {
        Self {
            dns,
            connect,
            tls: None,
            setup,
            local_addr,
            remote_addr,
            tls_facts: None,
        }
    }

    /// With a TLS handshake of this length and these facts.
    pub fn with_tls(mut self, tls: Duration, facts: TlsFacts) -> Self {
        self.tls = Some(tls);
        self.tls_facts = Some(facts);
        self
    }
}

impl TlsFacts {
    /// Facts of a handshake; add the chain's expiry with
    /// [`with_cert_not_after`](Self::with_cert_not_after).
    pub fn new(version: Option<TlsVersion>, resumed: bool) -> Self {
        Self {
            version,
            resumed,
            cert_not_after: None,
        }
    }

    /// With the chain's earliest `notAfter`.
    pub fn with_cert_not_after(mut self, not_after: SystemTime) -> Self {
        self.cert_not_after = Some(not_after);
        self
    }

    /// Days from `now` until the earliest certificate of the chain expires
    /// (negative once it has expired).
    pub fn cert_expires_in_days(&self, now: SystemTime) -> Option<f64> {
        let not_after = self.cert_not_after?;
        let secs = match not_after.duration_since(now) {
            Ok(ahead) => ahead.as_secs_f64(),
            Err(behind) => -behind.duration().as_secs_f64(),
        };
        Some(secs / 86_400.0)
    }
}

/// The HTTP version of a response as a tag value: `1.0`, `1.1`, `2`, `3`.
pub fn http_version_str(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// Where the time of one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// `Some` when the request waited for a new connection; `None` when it
    /// rode on a connection that was already open (reused).
    pub connection: Option<ConnectionTiming>,
    /// From the request being handed to the connection (after any connection
    /// setup) to the response headers.
    pub ttfb: Duration,
    /// From the response headers to the last byte of the body.
    pub body: Duration,
    /// From the call to the last byte of the body.
    pub total: Duration,
}

impl Timings {
    /// The phases of a request on a reused connection; add a new
    /// connection's setup with [`with_connection`](Self::with_connection).
    pub fn new(ttfb: Duration, body: Duration, total: Duration) -> Self {
        Self {
            connection: None,
            ttfb,
            body,
            total,
        }
    }

    /// With the setup of the new connection the request waited for.
    pub fn with_connection(mut self, connection: ConnectionTiming) -> Self {
        self.connection = Some(connection);
        self
    }

    /// True when the request did not wait for a new connection.
    pub fn reused(&self) -> bool {
        self.connection.is_none()
    }
}
