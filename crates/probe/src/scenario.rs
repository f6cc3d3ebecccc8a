//! The four probes: sync or async, fresh or reused connections.

use reqwest_timing::ConnectionPolicy;

/// One of the four ways of making the same calls. Serialised as its tag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `reqwest::blocking`, targets one after another, nothing reused.
    SyncFresh,
    /// `reqwest::blocking`, targets one after another, one long-lived client.
    SyncReused,
    /// tokio + reqwest, targets concurrently, nothing reused.
    AsyncFresh,
    /// tokio + reqwest, targets concurrently, one long-lived client.
    AsyncReused,
}

impl Scenario {
    /// All four, in table order.
    pub const ALL: [Scenario; 4] = [
        Self::SyncFresh,
        Self::SyncReused,
        Self::AsyncFresh,
        Self::AsyncReused,
    ];

    /// The `scenario` tag value: `sync-fresh`, `sync-reused`, `async-fresh`, `async-reused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SyncFresh => "sync-fresh",
            Self::SyncReused => "sync-reused",
            Self::AsyncFresh => "async-fresh",
            Self::AsyncReused => "async-reused",
        }
    }

    /// Parses a `scenario` tag value; `None` for anything else.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == tag)
    }

    /// Index into per-scenario arrays, in [`Scenario::ALL`] order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The binary's name: `probe-` and the scenario.
    pub fn binary(self) -> &'static str {
        match self {
            Self::SyncFresh => "probe-sync-fresh",
            Self::SyncReused => "probe-sync-reused",
            Self::AsyncFresh => "probe-async-fresh",
            Self::AsyncReused => "probe-async-reused",
        }
    }

    /// One line for `--help`.
    pub fn about(self) -> &'static str {
        match self {
            Self::SyncFresh => {
                "Times every phase of HTTP calls: blocking client, targets one after another, a new connection (DNS, TCP, TLS) for every request"
            }
            Self::SyncReused => {
                "Times every phase of HTTP calls: blocking client, targets one after another, one long-lived client (keep-alive, TLS resumption, DNS cache)"
            }
            Self::AsyncFresh => {
                "Times every phase of HTTP calls: async client, targets concurrently, a new connection (DNS, TCP, TLS) for every request"
            }
            Self::AsyncReused => {
                "Times every phase of HTTP calls: async client, targets concurrently, one long-lived client (keep-alive, TLS resumption, DNS cache)"
            }
        }
    }

    /// True for the tokio probes.
    pub fn is_async(self) -> bool {
        matches!(self, Self::AsyncFresh | Self::AsyncReused)
    }

    /// True for the probes that keep one long-lived client.
    pub fn is_reused(self) -> bool {
        matches!(self, Self::SyncReused | Self::AsyncReused)
    }

    /// What the client may reuse between requests.
    pub fn policy(self) -> ConnectionPolicy {
        match self {
            Self::SyncFresh | Self::AsyncFresh => ConnectionPolicy::fresh(),
            Self::SyncReused | Self::AsyncReused => ConnectionPolicy::reused(),
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_index_follows_all() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_tag(s.as_str()), Some(s));
            assert_eq!(Scenario::ALL[s.index()], s);
            assert_eq!(s.binary(), format!("probe-{s}"));
        }
        assert_eq!(Scenario::from_tag("sync"), None);
    }
}
