//! Expectations on a response: its status and its body.

use reqwest::StatusCode;
use reqwest_timing::ErrorClass;

/// At most this much of a body is kept to match `expect_body` (the whole body
/// is still read and timed).
pub const BODY_MATCH_LIMIT_BYTES: usize = 1024 * 1024;

/// One entry of `expect_status`: a code (`404`) or a class (`"2xx"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    /// Exactly this code.
    Code(u16),
    /// Any code of this hundred (1 to 5).
    Class(u16),
}

impl StatusPattern {
    fn matches(self, status: StatusCode) -> bool {
        match self {
            Self::Code(c) => status.as_u16() == c,
            Self::Class(h) => status.as_u16() / 100 == h,
        }
    }

    /// Parses `"2xx"` or `"404"`.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(h) = t.strip_suffix("xx") {
            return match h {
                "1" | "2" | "3" | "4" | "5" => h.parse().ok().map(Self::Class),
                _ => None,
            };
        }
        Self::code(t.parse().ok()?)
    }

    /// A code from 100 to 599.
    pub fn code(code: i64) -> Option<Self> {
        u16::try_from(code)
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(Self::Code)
    }
}

/// What a response must look like to count as a success.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Accepted statuses; empty means 2xx and 3xx.
    pub status: Vec<StatusPattern>,
    /// A regex the body (its first [`BODY_MATCH_LIMIT_BYTES`]) must match.
    pub body: Option<regex::bytes::Regex>,
}

impl Expect {
    /// The error class of a response, `None` when it meets the expectations.
    /// An unexpected 4xx/5xx keeps its `http_4xx`/`http_5xx` class; any other
    /// unexpected status, or a body that does not match, is `expect`.
    pub fn check(&self, status: StatusCode, body: Option<&[u8]>) -> Option<ErrorClass> {
        if !self.status_ok(status) {
            return Some(ErrorClass::from_status(status).unwrap_or(ErrorClass::Expect));
        }
        match (&self.body, body) {
            (Some(re), Some(body)) if !re.is_match(body) => Some(ErrorClass::Expect),
            _ => None,
        }
    }

    /// True when `status` is expected.
    pub fn status_ok(&self, status: StatusCode) -> bool {
        if self.status.is_empty() {
            status.is_success() || status.is_redirection()
        } else {
            self.status.iter().any(|p| p.matches(status))
        }
    }

    /// True when the body must be kept to check it.
    pub fn needs_body(&self) -> bool {
        self.body.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn patterns_parse() {
        assert_eq!(StatusPattern::parse("2xx"), Some(StatusPattern::Class(2)));
        assert_eq!(StatusPattern::parse("5XX"), Some(StatusPattern::Class(5)));
        assert_eq!(StatusPattern::parse("404"), Some(StatusPattern::Code(404)));
        for bad in ["6xx", "0xx", "xx", "20x", "99", "600", "abc", "02xx"] {
            assert_eq!(StatusPattern::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn default_accepts_2xx_and_3xx_only() {
        let e = Expect::default();
        assert_eq!(e.check(s(200), None), None);
        assert_eq!(e.check(s(302), None), None);
        assert_eq!(e.check(s(101), None), Some(ErrorClass::Expect));
        assert_eq!(e.check(s(404), None), Some(ErrorClass::Http4xx));
        assert_eq!(e.check(s(503), None), Some(ErrorClass::Http5xx));
    }

    #[test]
    fn listed_statuses_and_body() {
        let e = Expect {
            status: vec![StatusPattern::Class(2), StatusPattern::Code(404)],
            body: Some(regex::bytes::Regex::new(r#""status":\s*"ok""#).unwrap()),
        };
        assert_eq!(e.check(s(404), Some(br#"{"status": "ok"}"#)), None);
        assert_eq!(e.check(s(200), Some(b"nope")), Some(ErrorClass::Expect));
        assert_eq!(e.check(s(301), Some(b"")), Some(ErrorClass::Expect));
        assert_eq!(e.check(s(500), Some(b"")), Some(ErrorClass::Http5xx));
    }
}
