//! What the hooks record while a new connection is set up, and the table of
//! connections that are open but not yet claimed by a response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::timings::{ConnectionTiming, DnsPhase, TlsFacts, TlsVersion};

tokio::task_local! {
    /// The connection being set up by the current connector future. The
    /// resolver and the TLS session store run inside that future's poll.
    pub(crate) static CURRENT: Arc<Progress>;
}

// Both TTLs must exceed the longest request timeout: a response whose headers
// arrive later than this after its connection was ready finds no entry and is
// reported as reused (without the setup, or without the wait for it).

/// Forget connections that nobody claimed within this time (a spare
/// connection that closed before any request used it).
const UNCLAIMED_TTL: Duration = Duration::from_secs(600);

/// Keep a claimed connection this long: requests that waited for it alongside
/// its claimant (HTTP/2) still need its ready time.
const CLAIMED_TTL: Duration = Duration::from_secs(120);

/// Most connections kept in the table: past it the oldest is dropped, so many
/// new connections within a TTL (fresh mode at a high rate) cannot grow it
/// without bound.
const MAX_OPEN: usize = 16_384;

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
    tls_version: Option<TlsVersion>,
    /// The certificate chain was verified (a full handshake).
    cert_verified: bool,
    cert_not_after: Option<SystemTime>,
    /// Time our hooks spent reading the chain, taken off the TLS phase.
    hook_time: Duration,
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

    pub(crate) fn tls_version(&self, version: TlsVersion) {
        self.steps().tls_version = Some(version);
    }

    /// The server's chain was verified; `not_after` is its earliest expiry and
    /// `took` the time spent reading it (not part of the handshake).
    pub(crate) fn cert_verified(&self, not_after: Option<SystemTime>, took: Duration) {
        let mut steps = self.steps();
        steps.cert_verified = true;
        steps.cert_not_after = not_after;
        steps.hook_time += took;
    }

    /// Splits the attempt into phases once the connector returned at `ready`.
    pub(crate) fn finish(
        &self,
        ready: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> ConnectionTiming {
        let steps = self.steps();
        let (dns, dns_ended) = match steps.dns {
            Some(d) if d.cached => (DnsPhase::Cached(d.took), d.ended),
            Some(d) => (DnsPhase::Lookup(d.took), d.ended),
            None => (DnsPhase::Skipped, self.started),
        };
        let tcp_ended = steps.tls_started.unwrap_or(ready).max(dns_ended);
        let tls = steps.tls_started.map(|t| {
            ready
                .saturating_duration_since(t)
                .saturating_sub(steps.hook_time)
        });
        let tls_facts = steps.tls_started.map(|_| TlsFacts {
            version: steps.tls_version,
            resumed: !steps.cert_verified,
            cert_not_after: steps.cert_not_after,
        });
        ConnectionTiming {
            dns,
            connect: tcp_ended.saturating_duration_since(dns_ended),
            tls,
            setup: ready.saturating_duration_since(self.started),
            local_addr: local,
            remote_addr: remote,
            tls_facts,
        }
    }
}

/// A connection the connector opened, and whether a response claimed its setup.
#[derive(Debug, Clone)]
pub(crate) struct OpenConnection {
    pub(crate) ready: Instant,
    pub(crate) timing: ConnectionTiming,
    claimed: bool,
}

impl OpenConnection {
    pub(crate) fn new(ready: Instant, timing: ConnectionTiming) -> Self {
        Self {
            ready,
            timing,
            claimed: false,
        }
    }
}

/// What a response learns about the connection that served it.
#[derive(Debug, Default)]
pub(crate) struct Claim {
    /// The connection's setup, for the one response that reports it.
    pub(crate) setup: Option<ConnectionTiming>,
    /// When the connection became ready, if the request had to wait for it.
    pub(crate) ready: Option<Instant>,
}

/// A connection's identity: (local, remote) address. Many HTTP/2 streams
/// share one; Linux may reuse a local port for connections to different
/// remotes, so the local address alone is not enough.
pub(crate) type ConnKey = (SocketAddr, SocketAddr);

/// New connections by [`ConnKey`], until they are old.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    open: Mutex<HashMap<ConnKey, OpenConnection>>,
}

impl Recorder {
    fn open(&self) -> MutexGuard<'_, HashMap<ConnKey, OpenConnection>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn opened(&self, conn: OpenConnection) {
        let mut open = self.open();
        let now = conn.ready;
        open.retain(|_, c| {
            let ttl = if c.claimed {
                CLAIMED_TTL
            } else {
                UNCLAIMED_TTL
            };
            now.saturating_duration_since(c.ready) < ttl
        });
        if open.len() >= MAX_OPEN
            && let Some(oldest) = open.iter().min_by_key(|(_, c)| c.ready).map(|(k, _)| *k)
        {
            open.remove(&oldest);
        }
        open.insert((conn.timing.local_addr, conn.timing.remote_addr), conn);
    }

    /// For the response served by the connection `key` to a request that
    /// started at `request_started`. A request that started before the
    /// connection was ready waited for it; the first such response to arrive
    /// reports the setup (`reused=false`), any other (HTTP/2 streams that
    /// waited for the same connection) only learns when it became ready. A
    /// request that started later rode on an open connection.
    pub(crate) fn claim(&self, key: ConnKey, request_started: Instant) -> Claim {
        let mut open = self.open();
        let Some(conn) = open.get_mut(&key) else {
            return Claim::default();
        };
        if conn.ready < request_started {
            return Claim::default();
        }
        let setup = (!conn.claimed).then(|| conn.timing.clone());
        conn.claimed = true;
        Claim {
            setup,
            ready: Some(conn.ready),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timings::DnsPhase;

    fn conn(ready: Instant, local: SocketAddr, remote: SocketAddr) -> OpenConnection {
        OpenConnection::new(
            ready,
            ConnectionTiming {
                dns: DnsPhase::Skipped,
                connect: Duration::from_millis(1),
                tls: None,
                setup: Duration::from_millis(1),
                local_addr: local,
                remote_addr: remote,
                tls_facts: None,
            },
        )
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_local_port_to_two_remotes_is_two_connections() {
        let recorder = Recorder::default();
        let started = Instant::now();
        let local = addr("127.0.0.1:40000");
        let (r1, r2) = (addr("127.0.0.1:8001"), addr("127.0.0.2:8002"));
        recorder.opened(conn(started, local, r1));
        recorder.opened(conn(started, local, r2));
        let c1 = recorder.claim((local, r1), started).setup.unwrap();
        assert_eq!(c1.remote_addr, r1, "C1's response claims C1's setup");
        let c2 = recorder.claim((local, r2), started).setup.unwrap();
        assert_eq!(c2.remote_addr, r2, "C2's setup is still there for C2");
    }

    #[test]
    fn the_table_is_capped_dropping_the_oldest() {
        let recorder = Recorder::default();
        let t0 = Instant::now();
        let remote = addr("127.0.0.1:8000");
        let local = |i: usize| SocketAddr::from(([127, 0, 0, 1], 10_000 + i as u16));
        let extra = 5;
        for i in 0..MAX_OPEN + extra {
            let ready = t0 + Duration::from_micros(i as u64);
            recorder.opened(conn(ready, local(i), remote));
        }
        assert_eq!(recorder.open().len(), MAX_OPEN);
        for i in 0..extra {
            assert!(
                recorder.claim((local(i), remote), t0).setup.is_none(),
                "{i} dropped"
            );
        }
        let newest = local(MAX_OPEN + extra - 1);
        assert!(recorder.claim((newest, remote), t0).setup.is_some());
    }
}
