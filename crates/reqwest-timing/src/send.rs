//! Sending a request through an instrumented client and reading its body.

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::HttpInfo;
use reqwest::StatusCode;

use crate::Instrumentation;
use crate::classify::{ErrorClass, describe};
use crate::timings::Timings;

/// A response whose body was read to the end.
#[derive(Debug, Clone)]
pub struct TimedResponse {
    /// The status code; a 4xx or 5xx is still a response, see
    /// [`ErrorClass::from_status`].
    pub status: StatusCode,
    /// Bytes of body received (after any content decoding).
    pub body_bytes: u64,
    /// Where the time went.
    pub timings: Timings,
}

/// A request that got no complete response.
#[derive(Debug)]
pub struct TimedError {
    /// Why it failed.
    pub class: ErrorClass,
    /// From the call to the failure.
    pub elapsed: Duration,
    /// The error and its causes, in one line.
    pub message: String,
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

impl std::error::Error for TimedError {}

impl TimedError {
    fn new(class: ErrorClass, started: Instant, error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            class,
            elapsed: started.elapsed(),
            message: describe(error),
        }
    }
}

fn local_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    extensions.get::<HttpInfo>().map(HttpInfo::local_addr)
}

impl Instrumentation {
    /// Sends the request, reads the whole body, and times each phase. The
    /// client must have been built with [`apply`](Self::apply) on this
    /// instrumentation.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<TimedResponse, TimedError> {
        let started = Instant::now();
        let fail = |e: reqwest::Error| TimedError::new(ErrorClass::of(&e), started, &e);
        let mut response = request.send().await.map_err(fail)?;
        let headers_at = Instant::now();
        let local = local_addr(response.extensions());
        let status = response.status();
        let mut body_bytes = 0u64;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => body_bytes += chunk.len() as u64,
                Ok(None) => break,
                Err(e) => {
                    self.forget(local, started);
                    return Err(fail(e));
                }
            }
        }
        Ok(self.finish(started, headers_at, local, status, body_bytes))
    }

    /// Blocking twin of [`send`](Self::send); the client must have been built
    /// with [`apply_blocking`](Self::apply_blocking).
    pub fn send_blocking(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<TimedResponse, TimedError> {
        let started = Instant::now();
        let mut response = request
            .send()
            .map_err(|e| TimedError::new(ErrorClass::of(&e), started, &e))?;
        let headers_at = Instant::now();
        let local = local_addr(response.extensions());
        let status = response.status();
        let mut body_bytes = 0u64;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body_bytes += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.forget(local, started);
                    return Err(TimedError::new(ErrorClass::of_body_read(&e), started, &e));
                }
            }
        }
        Ok(self.finish(started, headers_at, local, status, body_bytes))
    }

    fn forget(&self, local: Option<SocketAddr>, started: Instant) {
        if let Some(local) = local {
            let _ = self.recorder.claim(local, started);
        }
    }

    fn finish(
        &self,
        started: Instant,
        headers_at: Instant,
        local: Option<SocketAddr>,
        status: StatusCode,
        body_bytes: u64,
    ) -> TimedResponse {
        let done = Instant::now();
        let opened = local.and_then(|l| self.recorder.claim(l, started));
        let sent_at = opened.as_ref().map_or(started, |c| c.ready.max(started));
        TimedResponse {
            status,
            body_bytes,
            timings: Timings {
                connection: opened.map(|c| c.timing),
                ttfb: headers_at.saturating_duration_since(sent_at),
                body: done.saturating_duration_since(headers_at),
                total: done.saturating_duration_since(started),
            },
        }
    }
}
