//! The four probe scenarios: sync/async crossed with fresh/reused connections.

use serde::Serialize;
use std::fmt;

/// One cell of the 2x2 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Blocking client, new connection for every request.
    SyncFresh,
    /// Blocking client, one pooled connection per target.
    SyncReused,
    /// Async client, requests of a round in parallel, new connections.
    AsyncFresh,
    /// Async client, requests of a round in parallel, pooled connections.
    AsyncReused,
}

impl Scenario {
    /// All scenarios, in table order (and in the order the demo runs them).
    pub const ALL: [Scenario; 4] = [
        Scenario::SyncFresh,
        Scenario::SyncReused,
        Scenario::AsyncFresh,
        Scenario::AsyncReused,
    ];

    /// The `scenario` tag value, e.g. `sync-fresh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::SyncFresh => "sync-fresh",
            Scenario::SyncReused => "sync-reused",
            Scenario::AsyncFresh => "async-fresh",
            Scenario::AsyncReused => "async-reused",
        }
    }

    /// Parses a `scenario` tag value; `None` for anything else.
    pub fn from_tag(tag: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.as_str() == tag)
    }

    /// The probe binary that runs this scenario, e.g. `probe-sync-fresh`.
    pub fn binary_name(self) -> String {
        format!("probe-{}", self.as_str())
    }

    /// True for the async scenarios (requests of a round run concurrently).
    pub fn is_async(self) -> bool {
        matches!(self, Scenario::AsyncFresh | Scenario::AsyncReused)
    }

    /// True when connections are kept and reused between requests.
    pub fn is_reused(self) -> bool {
        matches!(self, Scenario::SyncReused | Scenario::AsyncReused)
    }

    /// Index into per-scenario arrays, in [`Scenario::ALL`] order.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_tag(s.as_str()), Some(s));
            assert_eq!(Scenario::ALL[s.index()], s);
        }
        assert_eq!(Scenario::from_tag("sync"), None);
        assert_eq!(Scenario::AsyncReused.binary_name(), "probe-async-reused");
    }
}
