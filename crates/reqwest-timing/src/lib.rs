//! Per-phase timing for [`reqwest`] clients, async and blocking.
//!
//! For every request you get the time spent in DNS, TCP connect, TLS handshake,
//! time to first byte and body, the total, and an exact flag saying whether the
//! request had to wait for a new connection or rode on one that was already open.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use reqwest_timing::{ConnectionPolicy, Instrumentation, TlsOptions};
//!
//! let timing = Instrumentation::new(ConnectionPolicy::reused(), &TlsOptions::default())?;
//! let client = timing.apply(reqwest::Client::builder()).build()?;
//! let timed = timing.send(client.get("https://example.com/")).await;
//! match timed {
//!     Ok(response) => println!("{:?} {:?}", response.status, response.timings),
//!     Err(error) => println!("{} after {:?}", error.class, error.elapsed),
//! }
//! # Ok(()) }
//! ```
//!
//! In a service, the `middleware` feature adds `TimingMiddleware` for
//! `reqwest_middleware::ClientWithMiddleware`: responses come back as usual,
//! and each call's [`CallRecord`] goes to a [`Reporter`] when its body is
//! done. See the crate README for both ways, features and TLS options.
//!
//! How it works: a DNS resolver, a tower layer around reqwest's connector and a
//! wrapper around the rustls session store record when each step of a *new*
//! connection starts and ends, keyed by the connection's (local, remote)
//! address pair. After the response headers arrive, the response's address
//! pair tells which connection served it. HTTP/1.1 and HTTP/2 (ALPN over TLS, prior knowledge
//! on `http://`, see [`HttpVersionPolicy`]) work alike: the first response
//! that waited for a new connection reports its setup, every other stream on
//! it is reused. On new TLS connections a wrapped certificate verifier and a
//! key-log hook tell the TLS version, whether the session was resumed and the
//! chain's earliest expiry ([`TlsFacts`]).

mod cert;
mod classify;
mod layer;
#[cfg(feature = "middleware")]
mod middleware;
mod recorder;
mod report;
mod resolver;
mod send;
mod timings;
mod tls;

pub use classify::ErrorClass;
#[cfg(feature = "middleware")]
pub use middleware::TimingMiddleware;
pub use report::{CallRecord, CallTarget, Reporter};
pub use send::{TimedError, TimedResponse};
pub use timings::{ConnectionTiming, DnsPhase, Timings, TlsFacts, TlsVersion, http_version_str};
pub use tls::{TlsError, TlsOptions, earliest_not_after, rustls_config};

use std::sync::Arc;
use std::time::Duration;

use layer::TimingLayer;
use recorder::Recorder;
use resolver::TimingResolver;

/// Which connection costs a client may amortise between requests. Start from
/// [`fresh`](Self::fresh) or [`reused`](Self::reused) and set fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionPolicy {
    /// Keep idle connections for later requests (keep-alive pool).
    pub keep_alive: bool,
    /// Allow TLS session resumption (TLS 1.3 tickets, TLS 1.2 session ids).
    pub tls_resumption: bool,
    /// Cache DNS answers for this long; `None` looks every name up again.
    pub dns_cache_ttl: Option<Duration>,
}

impl ConnectionPolicy {
    /// Nothing is reused: a DNS lookup, a TCP connection and a full TLS
    /// handshake for every request.
    pub fn fresh() -> Self {
        Self {
            keep_alive: false,
            tls_resumption: false,
            dns_cache_ttl: None,
        }
    }

    /// One long-lived client: keep-alive pool, TLS resumption, DNS answers
    /// cached for 30 s. Only new connections pay for DNS, TCP and TLS.
    pub fn reused() -> Self {
        Self {
            keep_alive: true,
            tls_resumption: true,
            dns_cache_ttl: Some(Duration::from_secs(30)),
        }
    }
}

/// Which HTTP versions a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpVersionPolicy {
    /// HTTP/2 when the server offers it by ALPN (TLS only), else HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 only (ALPN `http/1.1`).
    Http1,
    /// HTTP/2 only: ALPN `h2` over TLS, prior knowledge on `http://`.
    Http2,
}

impl HttpVersionPolicy {
    /// The ALPN protocols the client offers.
    fn alpn(self) -> Vec<Vec<u8>> {
        match self {
            Self::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Self::Http1 => vec![b"http/1.1".to_vec()],
            Self::Http2 => vec![b"h2".to_vec()],
        }
    }
}

/// Errors building an [`Instrumentation`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The hooks for one client. Build it once, [`apply`](Self::apply) it to a
/// client builder, and send requests through [`send`](Self::send) (async) or
/// [`send_blocking`](Self::send_blocking).
///
/// One `Instrumentation` belongs to one client: its records are keyed by the
/// connections that client opens.
#[derive(Clone)]
pub struct Instrumentation {
    recorder: Arc<Recorder>,
    resolver: Arc<TimingResolver>,
    tls: rustls::ClientConfig,
    policy: ConnectionPolicy,
    http: HttpVersionPolicy,
}

impl std::fmt::Debug for Instrumentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrumentation")
            .field("policy", &self.policy)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl Instrumentation {
    /// Builds the hooks and the rustls configuration (ring provider, the
    /// system's root certificates plus any extra roots in `tls`).
    pub fn new(policy: ConnectionPolicy, tls: &TlsOptions) -> Result<Self, Error> {
        let recorder = Arc::new(Recorder::default());
        let resolver = Arc::new(TimingResolver::new(policy.dns_cache_ttl));
        let tls = tls::client_config(tls, policy.tls_resumption)?;
        Ok(Self {
            recorder,
            resolver,
            tls,
            policy,
            http: HttpVersionPolicy::default(),
        })
    }

    /// Sets which HTTP versions the clients built with [`apply`](Self::apply)
    /// speak ([`HttpVersionPolicy::Auto`] by default). With HTTP/2 the
    /// requests to one host share one connection as concurrent streams; the
    /// reuse flag stays exact per request.
    pub fn with_http(mut self, http: HttpVersionPolicy) -> Self {
        self.http = http;
        self
    }

    /// The HTTP version policy.
    pub fn http(&self) -> HttpVersionPolicy {
        self.http
    }

    /// The TLS configuration with this policy's ALPN protocols.
    fn tls_config(&self) -> rustls::ClientConfig {
        let mut tls = self.tls.clone();
        tls.alpn_protocols = self.http.alpn();
        tls
    }

    /// The connection policy this instrumentation was built with.
    pub fn policy(&self) -> ConnectionPolicy {
        self.policy
    }

    /// Installs the resolver, the connector layer and the TLS configuration on
    /// an async client builder, and applies the connection policy. Proxies are
    /// turned off (phases through a proxy would time the proxy) and reqwest's
    /// automatic retries too, so that one call is one request.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let builder = builder
            .dns_resolver(self.resolver.clone())
            .connector_layer(TimingLayer::new(self.recorder.clone()))
            .tls_backend_preconfigured(self.tls_config())
            .no_proxy()
            .retry(reqwest::retry::never());
        let builder = match self.http {
            HttpVersionPolicy::Auto => builder,
            HttpVersionPolicy::Http1 => builder.http1_only(),
            HttpVersionPolicy::Http2 => builder.http2_prior_knowledge(),
        };
        if self.policy.keep_alive {
            builder
        } else {
            builder.pool_max_idle_per_host(0)
        }
    }

    #[cfg(feature = "blocking")]
    /// Same as [`apply`](Self::apply) for `reqwest::blocking`.
    pub fn apply_blocking(
        &self,
        builder: reqwest::blocking::ClientBuilder,
    ) -> reqwest::blocking::ClientBuilder {
        let builder = builder
            .dns_resolver(self.resolver.clone())
            .connector_layer(TimingLayer::new(self.recorder.clone()))
            .tls_backend_preconfigured(self.tls_config())
            .no_proxy()
            .retry(reqwest::retry::never());
        let builder = match self.http {
            HttpVersionPolicy::Auto => builder,
            HttpVersionPolicy::Http1 => builder.http1_only(),
            HttpVersionPolicy::Http2 => builder.http2_prior_knowledge(),
        };
        if self.policy.keep_alive {
            builder
        } else {
            builder.pool_max_idle_per_host(0)
        }
    }
}
