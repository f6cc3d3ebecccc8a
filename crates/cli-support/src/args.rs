//! clap value parsers shared by the binaries.

use std::time::Duration;

use url::Url;

/// Longest duration any option accepts: one year. Longer values are refused
/// (exit 2) rather than overflowing the clock arithmetic they feed.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A duration of zero or more, like `500ms`, `3s`, `1m`, at most [`MAX_DURATION`].
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err("expected a duration of zero or more, like 500ms, 3s or 1m".to_owned());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    match humantime::parse_duration(s) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        // humantime reports a number too large for a Duration as its own error.
        Ok(_) | Err(humantime::DurationError::NumberOverflow) => {
            Err("expected a duration of at most 1 year (365d)".to_owned())
        }
        Err(_) => Err("expected a duration like 500ms, 3s or 1m".to_owned()),
    }
}

/// A duration above zero, at most [`MAX_DURATION`].
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err("expected a duration above zero, like 500ms or 10s".to_owned()),
        d => Ok(d),
    }
}

/// An `http://` or `https://` URL with a host, e.g. an InfluxDB base URL.
pub fn http_url(s: &str) -> Result<Url, String> {
    match Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(u),
        _ => Err("expected an http:// or https:// URL, e.g. http://127.0.0.1:8086".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(duration(" 0 "), Ok(Duration::ZERO));
        assert_eq!(duration("365d"), Ok(MAX_DURATION));
        assert_eq!(positive_duration("10s"), Ok(Duration::from_secs(10)));
        let over_a_year = "expected a duration of at most 1 year (365d)";
        for (text, expected) in [
            ("366d", over_a_year),
            ("18446744073709551616s", over_a_year),
            (
                "-1s",
                "expected a duration of zero or more, like 500ms, 3s or 1m",
            ),
            ("soon", "expected a duration like 500ms, 3s or 1m"),
        ] {
            assert_eq!(duration(text), Err(expected.to_owned()), "{text}");
        }
        assert_eq!(
            positive_duration("0s"),
            Err("expected a duration above zero, like 500ms or 10s".to_owned())
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            http_url("http://127.0.0.1:8086").map(|u| u.to_string()),
            Ok("http://127.0.0.1:8086/".to_owned())
        );
        for bad in ["127.0.0.1:8086", "ftp://x", "http://", "unix:/tmp/s"] {
            assert!(http_url(bad).is_err(), "{bad}");
        }
    }
}
