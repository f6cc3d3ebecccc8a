//! Targets given as `URL` or `NAME=URL`.

use url::Url;

/// One URL to probe, with the name its metrics carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The `target` tag: the name given, else the URL's host.
    pub name: String,
    /// The `domain` tag: the URL's host.
    pub domain: String,
    /// What is requested.
    pub url: Url,
}

impl Target {
    /// The URL for logs: without user name and password.
    pub fn shown_url(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.to_string()
    }
}

/// Longest target URL accepted, in bytes (after normalisation): the longest
/// URI the HTTP client (hyper) can send.
pub const MAX_URL_BYTES: usize = 65_534;

/// Longest part of a bad target quoted in an error.
const MAX_QUOTED_BYTES: usize = 80;

/// `input`, cut to [`MAX_QUOTED_BYTES`] with `…` when longer.
fn quoted(input: &str) -> String {
    if input.len() <= MAX_QUOTED_BYTES {
        return input.to_owned();
    }
    let mut end = MAX_QUOTED_BYTES;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &input[..end])
}

/// A target argument that is not a usable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid target {input:?}: {reason}")]
pub struct TargetError {
    input: String,
    reason: String,
}

impl std::str::FromStr for Target {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| TargetError {
            input: quoted(input),
            reason,
        };
        let input = input.trim();
        // NAME=URL when the part before the first `=` cannot be part of a URL's
        // scheme and authority; `https://h/?a=b` stays a plain URL.
        let (name, url) = match input.split_once('=') {
            Some((name, url)) if !name.is_empty() && !name.contains([':', '/', '?', '#']) => {
                (Some(name), url)
            }
            _ => (None, input),
        };
        if url.is_empty() {
            return Err(fail(
                "expected URL or NAME=URL, e.g. api=https://example.com/health".into(),
            ));
        }
        let url = Url::parse(url).map_err(|e| {
            fail(format!(
                "{e}; expected URL or NAME=URL, e.g. api=https://example.com/health"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail(format!(
                "unsupported scheme {:?}: expected http or https",
                url.scheme()
            )));
        }
        if url.as_str().len() > MAX_URL_BYTES {
            return Err(fail(format!(
                "the URL is {} bytes long; expected at most {MAX_URL_BYTES} bytes",
                url.as_str().len()
            )));
        }
        let domain = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(fail("the URL has no host".into())),
        };
        Ok(Target {
            name: name.map_or_else(|| domain.clone(), str::to_owned),
            domain,
            url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_named() {
        let t: Target = "https://example.com/a?x=1".parse().unwrap();
        assert_eq!(
            (t.name.as_str(), t.domain.as_str()),
            ("example.com", "example.com")
        );
        assert_eq!(t.url.as_str(), "https://example.com/a?x=1");
        let t: Target = "api=http://127.0.0.1:8080/health?a=b".parse().unwrap();
        assert_eq!((t.name.as_str(), t.domain.as_str()), ("api", "127.0.0.1"));
        let t: Target = "v6=http://[::1]:80/".parse().unwrap();
        assert_eq!(t.domain, "::1");
    }

    #[test]
    fn logs_show_no_credentials() {
        let t: Target = "api=https://user:secret@example.com/x".parse().unwrap();
        assert_eq!(t.shown_url(), "https://example.com/x");
    }

    #[test]
    fn refusals_name_the_value() {
        for (input, expect) in [
            ("ftp://example.com/", "unsupported scheme \"ftp\""),
            ("not a url", "expected URL or NAME=URL"),
            ("x=", "expected URL or NAME=URL"),
            ("x=example.com", "relative URL without a base"),
        ] {
            let err = input.parse::<Target>().unwrap_err().to_string();
            assert!(
                err.contains(input) && err.contains(expect),
                "{input}: {err}"
            );
        }
    }
}
