//! A `reqwest-middleware` layer: times every call of a `ClientWithMiddleware`
//! and reports it when the caller is done with the body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::Extensions;
use http_body::{Body as HttpBody, Frame, SizeHint};
use reqwest::{Request, Response, ResponseBuilderExt};
use reqwest_middleware::{Middleware, Next};

use crate::Instrumentation;
use crate::classify::ErrorClass;
use crate::recorder::Claim;
use crate::report::{CallRecord, CallTarget, Reporter};
use crate::timings::Timings;

/// Times each call made through a `reqwest_middleware::ClientWithMiddleware`
/// whose inner client was built with [`Instrumentation::apply`] on the same
/// instrumentation, and hands a [`CallRecord`] to the reporter when the call
/// is over.
///
/// The caller gets the response as soon as its headers arrive and reads the
/// body as usual; the body is wrapped, so the body phase ends when the body
/// does (or fails, or the response is dropped: then `body_complete=false`).
///
/// With `reqwest-retry`: registered *after* the retry middleware (closer to
/// the network) it reports every attempt with its own phases; registered
/// *before* it reports one record per logical call whose total and
/// first-byte time include every failed attempt and the back-off between
/// them. The first is what the phase panels mean; see the crate README.
pub struct TimingMiddleware {
    timing: Instrumentation,
    reporter: Arc<dyn Reporter>,
}

impl std::fmt::Debug for TimingMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimingMiddleware")
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl TimingMiddleware {
    /// The middleware for the client built with `timing.apply(..)`.
    pub fn new(timing: Instrumentation, reporter: impl Reporter) -> Self {
        Self::with_shared_reporter(timing, Arc::new(reporter))
    }

    /// Same, with a reporter shared with other clients.
    pub fn with_shared_reporter(timing: Instrumentation, reporter: Arc<dyn Reporter>) -> Self {
        Self { timing, reporter }
    }
}

/// What is known when the call starts.
struct Start {
    started: Instant,
    started_at: SystemTime,
    target: Arc<str>,
    domain: String,
    method: http::Method,
}

impl Start {
    fn record(self) -> CallRecord {
        CallRecord {
            started_at: self.started_at,
            target: self.target,
            domain: self.domain,
            method: self.method,
            status: None,
            version: None,
            timings: None,
            body_bytes: 0,
            body_complete: false,
            redirected: false,
            elapsed: self.started.elapsed(),
            failure: None,
        }
    }
}

#[async_trait::async_trait]
impl Middleware for TimingMiddleware {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let domain = req.url().host_str().unwrap_or_default().to_owned();
        let target = extensions
            .get::<CallTarget>()
            .map_or_else(|| Arc::from(domain.as_str()), CallTarget::arc);
        let requested = req.url().clone();
        let start = Start {
            started: Instant::now(),
            started_at: SystemTime::now(),
            target,
            domain,
            method: req.method().clone(),
        };
        match next.run(req, extensions).await {
            Ok(response) => Ok(self.wrap(start, &requested, response)),
            Err(error) => {
                let mut record = start.record();
                record.failure = Some(class_of(&error));
                self.reporter.on_call(&record);
                Err(error)
            }
        }
    }
}

impl TimingMiddleware {
    fn wrap(&self, start: Start, requested: &reqwest::Url, response: Response) -> Response {
        let headers_at = Instant::now();
        let claim = self.timing.claim(response.extensions(), start.started);
        let url = response.url().clone();
        let redirected = url != *requested;
        let response: http::Response<reqwest::Body> = response.into();
        let (mut parts, inner) = response.into_parts();
        let started = start.started;
        let mut record = start.record();
        record.status = Some(parts.status);
        record.version = Some(parts.version);
        record.redirected = redirected;
        let body = TimedBody {
            inner,
            pending: Some(Pending {
                record,
                started,
                headers_at,
                claim,
                reporter: self.reporter.clone(),
            }),
        };
        // Converting to `http::Response` drops the URL; put it back.
        if let Ok(with_url) = http::Response::builder().url(url).body(()) {
            parts.extensions.extend(with_url.into_parts().0.extensions);
        }
        Response::from(http::Response::from_parts(parts, reqwest::Body::wrap(body)))
    }
}

/// The class of an error from the rest of the chain.
fn class_of(error: &reqwest_middleware::Error) -> ErrorClass {
    match error {
        reqwest_middleware::Error::Reqwest(e) => ErrorClass::of(e),
        reqwest_middleware::Error::Middleware(e) => e
            .chain()
            .find_map(|c| c.downcast_ref::<reqwest::Error>())
            .map_or(ErrorClass::Other, ErrorClass::of),
    }
}

/// A call whose headers arrived and whose body is not over yet.
struct Pending {
    record: CallRecord,
    started: Instant,
    headers_at: Instant,
    claim: Claim,
    reporter: Arc<dyn Reporter>,
}

impl Pending {
    fn finish(mut self, complete: bool, failure: Option<ErrorClass>) {
        let done = Instant::now();
        let sent_at = self
            .claim
            .ready
            .map_or(self.started, |r| r.max(self.started));
        let record = &mut self.record;
        record.timings = Some(Timings {
            connection: self.claim.setup.take(),
            ttfb: self.headers_at.saturating_duration_since(sent_at),
            body: done.saturating_duration_since(self.headers_at),
            total: done.saturating_duration_since(self.started),
        });
        record.elapsed = done.saturating_duration_since(self.started);
        record.body_complete = complete;
        record.failure = failure;
        self.reporter.on_call(record);
    }
}

/// The response body, counted, reporting the call when it ends.
struct TimedBody {
    inner: reqwest::Body,
    pending: Option<Pending>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(p)) = (frame.data_ref(), self.pending.as_mut()) {
                    p.record.body_bytes += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(e))) => {
                let class = match ErrorClass::of(e) {
                    ErrorClass::Other => ErrorClass::Body,
                    class => class,
                };
                if let Some(p) = self.pending.take() {
                    p.finish(false, Some(class));
                }
            }
            Poll::Ready(None) => {
                if let Some(p) = self.pending.take() {
                    p.finish(true, None);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TimedBody {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            // An empty body may end without ever being polled.
            let complete = self.inner.is_end_stream();
            p.finish(complete, None);
        }
    }
}
