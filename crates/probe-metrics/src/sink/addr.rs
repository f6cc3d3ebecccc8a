//! Telegraf socket_listener addresses: `udp://HOST:PORT`, `tcp://HOST:PORT`.

use std::fmt;
use std::str::FromStr;

/// Where Telegraf's `socket_listener` input listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegrafAddr {
    /// `udp://host:port`: one datagram per batch of lines.
    Udp(String),
    /// `tcp://host:port`: a persistent connection.
    Tcp(String),
}

/// A Telegraf address that is not `udp://HOST:PORT` or `tcp://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Telegraf address {value:?}: {reason}; expected udp://HOST:PORT or tcp://HOST:PORT"
)]
pub struct ParseTelegrafAddrError {
    /// The text given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for TelegrafAddr {
    type Err = ParseTelegrafAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ParseTelegrafAddrError {
            value: s.to_owned(),
            reason,
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(|| fail("missing scheme"))?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| fail("missing port"))?;
        let bare_host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if bare_host.is_empty() {
            return Err(fail("missing host"));
        }
        if bare_host.contains(['/', '?', '#', '@', ' '])
            || (host == bare_host && host.contains(':'))
        {
            return Err(fail("bad host (write IPv6 addresses as [::1])"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(fail("port must be a number from 1 to 65535")),
        }
        match scheme {
            "udp" => Ok(Self::Udp(rest.to_owned())),
            "tcp" => Ok(Self::Tcp(rest.to_owned())),
            _ => Err(fail("scheme must be udp or tcp")),
        }
    }
}

impl fmt::Display for TelegrafAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp(a) => write!(f, "udp://{a}"),
            Self::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_addresses() {
        assert_eq!(
            "udp://127.0.0.1:8094".parse(),
            Ok(TelegrafAddr::Udp("127.0.0.1:8094".into()))
        );
        assert_eq!(
            "tcp://telegraf:8094".parse(),
            Ok(TelegrafAddr::Tcp("telegraf:8094".into()))
        );
        assert_eq!(
            "udp://[::1]:8094".parse(),
            Ok(TelegrafAddr::Udp("[::1]:8094".into()))
        );
        let a: TelegrafAddr = "tcp://h:1".parse().expect("valid");
        assert_eq!(a.to_string(), "tcp://h:1");
    }

    #[test]
    fn refuses_bad_addresses_naming_the_value() {
        for bad in [
            "127.0.0.1:8094",
            "http://h:80",
            "udp://h",
            "udp://:8094",
            "udp://h:0",
            "udp://h:99999",
            "udp://h:port",
            "udp://::1:8094",
            "tcp://h/x:1",
        ] {
            let err = bad.parse::<TelegrafAddr>().expect_err(bad);
            let msg = err.to_string();
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
            assert!(
                msg.contains("expected udp://HOST:PORT or tcp://HOST:PORT"),
                "{msg}"
            );
        }
    }
}
