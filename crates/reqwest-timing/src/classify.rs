//! One error class per failed request, from a fixed set.

use std::error::Error as StdError;
use std::fmt;

use reqwest::StatusCode;

use crate::resolver::DnsLookupError;

/// Why a request failed. The names are stable: they are metric tag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection failed (refused, unreachable, reset during connect).
    Connect,
    /// The TLS handshake failed (untrusted certificate, protocol error).
    Tls,
    /// The request timed out (connect, handshake, headers or body).
    Timeout,
    /// The server answered 4xx.
    Http4xx,
    /// The server answered 5xx.
    Http5xx,
    /// The response body broke off or could not be decoded.
    Body,
    /// Too many redirects, or a redirect loop.
    Redirect,
    /// The response broke an expectation of the caller: an unexpected
    /// 1xx/2xx/3xx status, or a body that does not match.
    Expect,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// Every class, in tag order.
    pub const ALL: [ErrorClass; 10] = [
        Self::Dns,
        Self::Connect,
        Self::Tls,
        Self::Timeout,
        Self::Http4xx,
        Self::Http5xx,
        Self::Body,
        Self::Redirect,
        Self::Expect,
        Self::Other,
    ];

    /// The tag value: `dns`, `connect`, `tls`, `timeout`, `http_4xx`,
    /// `http_5xx`, `body`, `redirect`, `expect` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Http4xx => "http_4xx",
            Self::Http5xx => "http_5xx",
            Self::Body => "body",
            Self::Redirect => "redirect",
            Self::Expect => "expect",
            Self::Other => "other",
        }
    }

    /// The class of an error status, `None` for a success status.
    pub fn from_status(status: StatusCode) -> Option<Self> {
        if status.is_client_error() {
            Some(Self::Http4xx)
        } else if status.is_server_error() {
            Some(Self::Http5xx)
        } else {
            None
        }
    }

    /// Classifies a reqwest error.
    pub fn of(error: &reqwest::Error) -> Self {
        if error.is_dns() || chain_has::<DnsLookupError>(error) {
            Self::Dns
        } else if error.is_timeout() {
            Self::Timeout
        } else if chain_has::<rustls::Error>(error) {
            Self::Tls
        } else if error.is_connect() {
            Self::Connect
        } else if error.is_redirect() {
            Self::Redirect
        } else if error.is_body() || error.is_decode() {
            Self::Body
        } else if let Some(class) = error.status().and_then(Self::from_status) {
            class
        } else {
            Self::Other
        }
    }

    #[cfg(feature = "blocking")]
    /// Classifies an error raised while reading a blocking response body.
    pub(crate) fn of_body_read(error: &std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::TimedOut {
            return Self::Timeout;
        }
        match find::<reqwest::Error>(error).map(Self::of) {
            Some(Self::Other) | None => Self::Body,
            Some(class) => class,
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Finds an error of type `T` in the source chain. `io::Error::source()` skips
/// the error it wraps, so descend into it with `get_ref()`.
fn find<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
    }
    None
}

fn chain_has<T: StdError + 'static>(error: &reqwest::Error) -> bool {
    find::<T>(error).is_some()
}

/// The messages of an error and its sources, joined by `: `, without repeats.
/// Wrappers that only say where the error passed (reqwest's "error sending
/// request for url (…)", hyper's "client error (Connect)") are left out when a
/// cause follows them.
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(err) = current {
        let next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
        let text = err.to_string();
        let wrapper = err.is::<reqwest::Error>() || text.starts_with("client error (");
        if (!wrapper || next.is_none()) && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = next;
    }
    parts.join(": ")
}
