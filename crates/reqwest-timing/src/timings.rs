//! The figures of one request.

use std::net::SocketAddr;
use std::time::Duration;

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
    /// The server's side of the connection.
    pub remote_addr: SocketAddr,
}

/// Where the time of one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// True when the request did not wait for a new connection.
    pub fn reused(&self) -> bool {
        self.connection.is_none()
    }
}
