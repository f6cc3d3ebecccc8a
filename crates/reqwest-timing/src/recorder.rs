//! What the hooks record while a new connection is set up, and the table of
//! connections that are open but not yet claimed by a response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::timings::{ConnectionTiming, DnsPhase};

tokio::task_local! {
    /// The connection being set up by the current connector future. The
    /// resolver and the TLS session store run inside that future's poll.
    pub(crate) static CURRENT: Arc<Progress>;
}

/// Forget connections that nobody claimed within this time (a spare
/// connection that closed before any request used it).
const UNCLAIMED_TTL: Duration = Duration::from_secs(600);

/// Timestamps of one connection attempt, filled in by the hooks.
#[derive(Debug)]
pub(crate) struct Progress {
    pub(crate) started: Instant,
    steps: Mutex<Steps>,
}

#[derive(Debug, Default)]
struct Steps {
    dns: Option<DnsStep>,
    tls_started: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct DnsStep {
    cached: bool,
    ended: Instant,
    took: Duration,
}

impl Progress {
    pub(crate) fn new(started: Instant) -> Self {
        Self {
            started,
            steps: Mutex::new(Steps::default()),
        }
    }

    fn steps(&self) -> MutexGuard<'_, Steps> {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn dns_done(&self, cached: bool, took: Duration, ended: Instant) {
        self.steps().dns = Some(DnsStep {
            cached,
            ended,
            took,
        });
    }

    /// The first call wins: rustls may consult the session store more than once
    /// while it builds the ClientHello.
    pub(crate) fn tls_started(&self, at: Instant) {
        self.steps().tls_started.get_or_insert(at);
    }

    /// Splits the attempt into phases once the connector returned at `ready`.
    pub(crate) fn finish(
        &self,
        ready: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> OpenConnection {
        let steps = self.steps();
        let (dns, dns_ended) = match steps.dns {
            Some(d) if d.cached => (DnsPhase::Cached(d.took), d.ended),
            Some(d) => (DnsPhase::Lookup(d.took), d.ended),
            None => (DnsPhase::Skipped, self.started),
        };
        let tcp_ended = steps.tls_started.unwrap_or(ready).max(dns_ended);
        let tls = steps
            .tls_started
            .map(|t| ready.saturating_duration_since(t));
        OpenConnection {
            ready,
            timing: ConnectionTiming {
                dns,
                connect: tcp_ended.saturating_duration_since(dns_ended),
                tls,
                setup: ready.saturating_duration_since(self.started),
                local_addr: local,
                remote_addr: remote,
            },
        }
    }
}

/// A connection the connector opened, not yet claimed by any response.
#[derive(Debug, Clone)]
pub(crate) struct OpenConnection {
    pub(crate) ready: Instant,
    pub(crate) timing: ConnectionTiming,
}

/// New connections by local address, until the first response claims them.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    open: Mutex<HashMap<SocketAddr, OpenConnection>>,
}

impl Recorder {
    fn open(&self) -> MutexGuard<'_, HashMap<SocketAddr, OpenConnection>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn opened(&self, conn: OpenConnection) {
        let mut open = self.open();
        let now = conn.ready;
        open.retain(|_, c| now.saturating_duration_since(c.ready) < UNCLAIMED_TTL);
        open.insert(conn.timing.local_addr, conn);
    }

    /// The setup of the connection at `local` if the request that started at
    /// `request_started` had to wait for it: the connection is new and became
    /// ready after the request began. Otherwise the request rode on a
    /// connection that was already open (`None`).
    pub(crate) fn claim(
        &self,
        local: SocketAddr,
        request_started: Instant,
    ) -> Option<OpenConnection> {
        let conn = self.open().remove(&local)?;
        (conn.ready >= request_started).then_some(conn)
    }
}
