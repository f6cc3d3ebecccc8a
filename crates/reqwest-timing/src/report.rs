//! What one call through the middleware measured, and the callback that
//! receives it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::classify::ErrorClass;
use crate::timings::Timings;

/// One outbound call, complete: its body ended, failed or was dropped.
///
/// Handed to a [`Reporter`] once per call. New fields may be added, so it
/// cannot be built outside this crate; read its fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallRecord {
    /// Wall-clock time of the call's start (a metric point's timestamp).
    pub started_at: SystemTime,
    /// A bounded name for the called service: the [`CallTarget`] set on the
    /// request, else the URL's host. Never the full URL.
    pub target: Arc<str>,
    /// The URL's host.
    pub domain: String,
    /// The request method.
    pub method: http::Method,
    /// The response status; `None` when no response arrived.
    pub status: Option<StatusCode>,
    /// The HTTP version of the response; `None` when no response arrived.
    pub version: Option<http::Version>,
    /// The phases; `None` when no response arrived. When the body was not
    /// read to its end, `body` and `total` stop where reading stopped.
    pub timings: Option<Timings>,
    /// Bytes of body the caller read.
    pub body_bytes: u64,
    /// The body was read to its end. `false` when the response was dropped
    /// unread (or half read), or its body failed.
    pub body_complete: bool,
    /// The URL that answered differs from the requested one (redirects).
    pub redirected: bool,
    /// From the call to its end (last body byte, failure or drop).
    pub elapsed: Duration,
    /// Why the call failed: no response, or its body broke off. A 4xx/5xx
    /// response is not a failure here, see [`error_class`](Self::error_class).
    pub failure: Option<ErrorClass>,
}

impl CallRecord {
    /// The call's error class: its failure, else the class of a 4xx/5xx
    /// status, else `None`.
    pub fn error_class(&self) -> Option<ErrorClass> {
        self.failure
            .or_else(|| self.status.and_then(ErrorClass::from_status))
    }

    /// True when the call did not wait for a new connection (or got no
    /// response at all).
    pub fn reused(&self) -> bool {
        self.timings.as_ref().is_none_or(Timings::reused)
    }
}

/// Receives every finished call. Called on the task that finished the call
/// (the one reading the body, or dropping the response): keep it short and
/// never block; hand the record to a queue.
pub trait Reporter: Send + Sync + 'static {
    /// One finished call.
    fn on_call(&self, record: &CallRecord);
}

impl<F> Reporter for F
where
    F: Fn(&CallRecord) + Send + Sync + 'static,
{
    fn on_call(&self, record: &CallRecord) {
        self(record)
    }
}

/// The name a call is reported under, set per request as an extension
/// (`RequestBuilder::with_extension(CallTarget::new("users"))` with
/// `reqwest-middleware`). Without it the URL's host is used. Keep the set of
/// names small: each is a tag value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTarget(Arc<str>);

impl CallTarget {
    /// A target name.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self(name.into())
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.0
    }

    #[cfg(feature = "middleware")]
    pub(crate) fn arc(&self) -> Arc<str> {
        self.0.clone()
    }
}
