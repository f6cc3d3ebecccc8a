//! Sending a request through an instrumented client and reading its body.

use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::HttpInfo;
use reqwest::StatusCode;

use crate::Instrumentation;
use crate::classify::{ErrorClass, describe};
use crate::recorder::{Claim, ConnKey};
use crate::timings::Timings;

/// A response whose body was read to the end.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TimedResponse {
    /// The status code; a 4xx or 5xx is still a response, see
    /// [`ErrorClass::from_status`].
    pub status: StatusCode,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The URL that answered: the requested one, or where redirects led. After
    /// redirects, [`Timings::total`] covers every hop and the other phases the
    /// last one.
    pub url: reqwest::Url,
    /// The HTTP version that carried the response (see
    /// [`http_version_str`](crate::http_version_str) for its tag value).
    pub version: http::Version,
    /// Bytes of body received (after any content decoding).
    pub body_bytes: u64,
    /// Where the time went.
    pub timings: Timings,
}

impl TimedResponse {
    /// A response (e.g. for testing code that consumes one), without headers
    /// or body bytes until set with [`with_headers`](Self::with_headers) and
    /// [`with_body_bytes`](Self::with_body_bytes).
    pub fn new(
        status: StatusCode,
        url: reqwest::Url,
        version: http::Version,
        timings: Timings,
    ) -> Self {
        Self {
            status,
            headers: http::HeaderMap::new(),
            url,
            version,
            body_bytes: 0,
            timings,
        }
    }

    /// With these headers.
    pub fn with_headers(mut self, headers: http::HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// With this many body bytes.
    pub fn with_body_bytes(mut self, body_bytes: u64) -> Self {
        self.body_bytes = body_bytes;
        self
    }
}

/// A request that got no complete response. [`source`](std::error::Error::source)
/// is the underlying error (a `reqwest::Error` without its URL, or the
/// `std::io::Error` of a blocking body read).
#[derive(Debug)]
#[non_exhaustive]
pub struct TimedError {
    /// Why it failed.
    pub class: ErrorClass,
    /// From the call to the failure.
    pub elapsed: Duration,
    /// The error and its causes, in one line.
    pub message: String,
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl std::fmt::Display for TimedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} error after {:.1} ms: {}",
            self.class,
            self.elapsed.as_secs_f64() * 1e3,
            self.message
        )
    }
}

impl std::error::Error for TimedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

impl TimedError {
    fn new<E: std::error::Error + Send + Sync + 'static>(
        class: ErrorClass,
        started: Instant,
        error: E,
    ) -> Self {
        Self {
            class,
            elapsed: started.elapsed(),
            message: describe(&error),
            cause: Box::new(error),
        }
    }
}

/// The serving connection's (local, remote) address.
fn conn_key(extensions: &http::Extensions) -> Option<ConnKey> {
    extensions
        .get::<HttpInfo>()
        .map(|info| (info.local_addr(), info.remote_addr()))
}

/// Where the body goes while it is read: counted only, or also kept up to a
/// number of bytes.
type Keep<'a> = Option<(&'a mut Vec<u8>, usize)>;

fn keep(keep: &mut Keep<'_>, chunk: &[u8]) {
    if let Some((body, max_bytes)) = keep {
        let room = max_bytes.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// What the response carried besides its body, and what it learned about
/// its connection when its headers arrived.
struct Head {
    status: StatusCode,
    headers: http::HeaderMap,
    url: reqwest::Url,
    version: http::Version,
    claim: Claim,
}

impl Instrumentation {
    /// Sends the request, reads the whole body (counting it, not keeping it),
    /// and times each phase. The client must have been built with
    /// [`apply`](Self::apply) on this instrumentation.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<TimedResponse, TimedError> {
        self.send_async(request, None).await
    }

    /// Like [`send`](Self::send), and also returns the body.
    pub async fn send_with_body(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(TimedResponse, Vec<u8>), TimedError> {
        self.send_with_body_prefix(request, usize::MAX).await
    }

    /// Like [`send`](Self::send), and also returns the first `max_bytes` of
    /// the body. The whole body is still read and timed.
    pub async fn send_with_body_prefix(
        &self,
        request: reqwest::RequestBuilder,
        max_bytes: usize,
    ) -> Result<(TimedResponse, Vec<u8>), TimedError> {
        let mut body = Vec::new();
        let response = self
            .send_async(request, Some((&mut body, max_bytes)))
            .await?;
        Ok((response, body))
    }

    async fn send_async(
        &self,
        request: reqwest::RequestBuilder,
        mut kept: Keep<'_>,
    ) -> Result<TimedResponse, TimedError> {
        let started = Instant::now();
        let fail = |e: reqwest::Error| {
            // The URL may carry a secret (a token in the query): keep it out of the message.
            let e = e.without_url();
            TimedError::new(ErrorClass::of(&e), started, e)
        };
        let mut response = request.send().await.map_err(fail)?;
        let headers_at = Instant::now();
        let head = Head {
            status: response.status(),
            headers: std::mem::take(response.headers_mut()),
            url: response.url().clone(),
            version: response.version(),
            claim: self.claim(response.extensions(), started),
        };
        let mut body_bytes = 0u64;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    body_bytes += chunk.len() as u64;
                    keep(&mut kept, &chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(self.finish(started, headers_at, head, body_bytes))
    }

    #[cfg(feature = "blocking")]
    /// Blocking twin of [`send`](Self::send); the client must have been built
    /// with [`apply_blocking`](Self::apply_blocking). Set the time limit on the
    /// request (`RequestBuilder::timeout`): it bounds the whole call, body
    /// included, while the blocking client's own timeout bounds each read.
    pub fn send_blocking(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<TimedResponse, TimedError> {
        self.send_blocking_inner(request, None)
    }

    #[cfg(feature = "blocking")]
    /// Like [`send_blocking`](Self::send_blocking), and also returns the body.
    pub fn send_blocking_with_body(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<(TimedResponse, Vec<u8>), TimedError> {
        self.send_blocking_with_body_prefix(request, usize::MAX)
    }

    #[cfg(feature = "blocking")]
    /// Like [`send_blocking`](Self::send_blocking), and also returns the first
    /// `max_bytes` of the body. The whole body is still read and timed.
    pub fn send_blocking_with_body_prefix(
        &self,
        request: reqwest::blocking::RequestBuilder,
        max_bytes: usize,
    ) -> Result<(TimedResponse, Vec<u8>), TimedError> {
        let mut body = Vec::new();
        let response = self.send_blocking_inner(request, Some((&mut body, max_bytes)))?;
        Ok((response, body))
    }

    #[cfg(feature = "blocking")]
    fn send_blocking_inner(
        &self,
        request: reqwest::blocking::RequestBuilder,
        mut kept: Keep<'_>,
    ) -> Result<TimedResponse, TimedError> {
        let started = Instant::now();
        let mut response = request.send().map_err(|e| {
            let e = e.without_url();
            TimedError::new(ErrorClass::of(&e), started, e)
        })?;
        let headers_at = Instant::now();
        let head = Head {
            status: response.status(),
            headers: std::mem::take(response.headers_mut()),
            url: response.url().clone(),
            version: response.version(),
            claim: self.claim(response.extensions(), started),
        };
        let mut body_bytes = 0u64;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match std::io::Read::read(&mut response, &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    body_bytes += n as u64;
                    keep(&mut kept, &buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(TimedError::new(ErrorClass::of_body_read(&e), started, e));
                }
            }
        }
        Ok(self.finish(started, headers_at, head, body_bytes))
    }

    /// Claims the serving connection's setup when the headers arrive: with
    /// HTTP/2 the streams that waited for a new connection race, and the one
    /// whose response headers arrive first reports it.
    pub(crate) fn claim(&self, extensions: &http::Extensions, started: Instant) -> Claim {
        conn_key(extensions).map_or_else(Claim::default, |k| self.recorder.claim(k, started))
    }

    fn finish(
        &self,
        started: Instant,
        headers_at: Instant,
        head: Head,
        body_bytes: u64,
    ) -> TimedResponse {
        let done = Instant::now();
        let sent_at = head.claim.ready.map_or(started, |r| r.max(started));
        TimedResponse {
            status: head.status,
            headers: head.headers,
            url: head.url,
            version: head.version,
            body_bytes,
            timings: Timings {
                connection: head.claim.setup,
                ttfb: headers_at.saturating_duration_since(sent_at),
                body: done.saturating_duration_since(headers_at),
                total: done.saturating_duration_since(started),
            },
        }
    }
}
