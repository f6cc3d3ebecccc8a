//! Which HTTP version a probe speaks to a target.

use reqwest_timing::HttpVersionPolicy;

/// `--http` / `PROBE_HTTP`, and `http` in the targets file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Deserialize)]
pub enum HttpMode {
    /// HTTP/1.1 only, like the seed's Python clients (the default)
    #[value(name = "1.1")]
    #[serde(rename = "1.1")]
    Http1,
    /// HTTP/2 when the server offers it by ALPN (https only), else HTTP/1.1
    #[value(name = "auto")]
    #[serde(rename = "auto")]
    Auto,
    /// HTTP/2 only: ALPN h2 on https://, prior knowledge on http://
    #[value(name = "2")]
    #[serde(rename = "2")]
    Http2,
}

impl HttpMode {
    /// The probes' default. `1.1` keeps the seed's comparison (its Python
    /// clients speak HTTP/1.1); switching to `auto` is this one line.
    pub const DEFAULT: HttpMode = HttpMode::Http1;

    /// The library's policy for this mode.
    pub fn policy(self) -> HttpVersionPolicy {
        match self {
            Self::Http1 => HttpVersionPolicy::Http1,
            Self::Auto => HttpVersionPolicy::Auto,
            Self::Http2 => HttpVersionPolicy::Http2,
        }
    }

    /// Every mode, for building one client per mode in use.
    pub const ALL: [HttpMode; 3] = [Self::Http1, Self::Auto, Self::Http2];

    /// `1.1`, `auto` or `2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http1 => "1.1",
            Self::Auto => "auto",
            Self::Http2 => "2",
        }
    }
}
