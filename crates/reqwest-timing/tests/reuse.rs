//! The reuse flag is exact, also under concurrency: a response carries
//! connection timings (`Some`) exactly when it was the first to use a
//! connection opened for it, so every `Some` names a local address never seen
//! before.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::join_all;
use reqwest_timing::{ConnectionPolicy, ConnectionTiming, TimedResponse};

use common::{async_client, backend, blocking_client, instrumentation};

const BATCHES: usize = 5;
const BATCH: usize = 10;

/// Checks the `Some`s of `responses` (in arrival order) against `seen`, the
/// local addresses of earlier `Some`s, and returns how many there were.
fn claim_new_addrs(
    responses: &[TimedResponse],
    seen: &mut HashSet<SocketAddr>,
    server: SocketAddr,
) -> usize {
    let mut new = 0;
    for r in responses {
        assert_eq!(r.status, 200);
        if let Some(c) = &r.timings.connection {
            assert!(
                seen.insert(c.local_addr),
                "local address {} claimed twice",
                c.local_addr
            );
            assert_eq!(c.remote_addr, server);
            new += 1;
        }
    }
    new
}

fn opened(c: &ConnectionTiming) -> bool {
    c.setup >= c.connect && c.local_addr.ip().is_loopback()
}

/// Fires BATCHES batches of BATCH concurrent requests at `url`.
async fn batches(
    policy: ConnectionPolicy,
    ca: &std::path::Path,
    url: &str,
) -> Vec<Vec<TimedResponse>> {
    let timing = instrumentation(policy, ca);
    let client = async_client(&timing);
    let mut out = Vec::new();
    for _ in 0..BATCHES {
        let batch = join_all((0..BATCH).map(|_| timing.send(client.get(url)))).await;
        out.push(batch.into_iter().map(|r| r.expect("response")).collect());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_async_every_new_connection_is_claimed_once_under_concurrency() {
    let b = backend();
    for (url, server) in [
        (
            format!("{}/delay/20", b.http_url().expect("http")),
            b.http_addr.expect("http"),
        ),
        (
            format!("{}/delay/20", b.https_url().expect("https")),
            b.https_addr.expect("https"),
        ),
    ] {
        let before = b.stats();
        let results = batches(ConnectionPolicy::reused(), &b.ca_pem_path, &url).await;
        let after = b.stats();
        let mut seen = HashSet::new();
        let mut somes = 0;
        for batch in &results {
            somes += claim_new_addrs(batch, &mut seen, server);
        }
        let all: Vec<_> = results.iter().flatten().collect();
        // The number of `Some`s is the number of distinct connections they name.
        assert_eq!(somes, seen.len());
        assert!(
            all.iter()
                .filter_map(|r| r.timings.connection.as_ref())
                .all(opened)
        );
        // The first batch finds no open connection, so at least one request waits for one.
        assert!(
            results[0].iter().any(|r| r.timings.connection.is_some()),
            "{url}: no new connection in batch 1"
        );
        // Only the server's new connections can be claimed (spares opened for
        // a request that got another connection are never claimed).
        let server_new = if url.starts_with("https") {
            after.tls_handshakes - before.tls_handshakes
        } else {
            after.http_connections - before.http_connections
        };
        assert!(
            somes as u64 <= server_new,
            "{url}: {somes} claimed of {server_new} opened"
        );
        // Keep-alive: later batches ride on the first batch's connections.
        assert!(
            somes < BATCHES * BATCH,
            "{url}: no request reused a connection"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_async_every_response_has_its_own_new_connection() {
    let b = backend();
    let before = b.stats().http_connections;
    let url = format!("{}/delay/20", b.http_url().expect("http"));
    let results = batches(ConnectionPolicy::fresh(), &b.ca_pem_path, &url).await;
    let mut seen = HashSet::new();
    for batch in &results {
        for r in batch {
            assert!(
                r.timings.connection.is_some(),
                "fresh response without a new connection: {r:?}"
            );
        }
        claim_new_addrs(batch, &mut seen, b.http_addr.expect("http"));
    }
    assert_eq!(seen.len(), BATCHES * BATCH);
    assert_eq!(
        b.stats().http_connections - before,
        (BATCHES * BATCH) as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_async_sequential_requests_report_each_new_connection_once() {
    let b = backend();
    let timing = instrumentation(ConnectionPolicy::reused(), &b.ca_pem_path);
    let client = async_client(&timing);
    let before = b.stats().tls_handshakes;
    let url = format!("{}/delay/0", b.https_url().expect("https"));
    let mut responses = Vec::new();
    for _ in 0..10 {
        responses.push(timing.send(client.get(&url)).await.expect("response"));
    }
    assert!(
        !responses[0].timings.reused(),
        "the first request opens the connection"
    );
    // A connection goes back to the pool only once the client's runtime has
    // seen its response end, so a request sent at once may open another one;
    // then it must say so, and the server must have seen that connection.
    let mut seen = HashSet::new();
    let new = claim_new_addrs(&responses, &mut seen, b.https_addr.expect("https"));
    assert!(
        new < responses.len(),
        "no request rode on an open connection"
    );
    assert!(new as u64 <= b.stats().tls_handshakes - before);
}

#[test]
fn reused_blocking_client_shared_by_threads_claims_each_connection_once() {
    let b = backend();
    let timing = Arc::new(instrumentation(ConnectionPolicy::reused(), &b.ca_pem_path));
    let client = blocking_client(&timing);
    let url = format!("{}/delay/20", b.http_url().expect("http"));
    let before = b.stats().http_connections;
    let threads: Vec<_> = (0..BATCH)
        .map(|_| {
            let (timing, client, url) = (timing.clone(), client.clone(), url.clone());
            std::thread::spawn(move || {
                (0..BATCHES)
                    .map(|_| timing.send_blocking(client.get(&url)).expect("response"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<TimedResponse> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    let mut seen = HashSet::new();
    let somes = claim_new_addrs(&results, &mut seen, b.http_addr.expect("http"));
    assert_eq!(somes, seen.len());
    assert!(
        somes >= 1 && somes < results.len(),
        "{somes} new connections for {} requests",
        results.len()
    );
    assert!(somes as u64 <= b.stats().http_connections - before);
}

#[test]
fn fresh_blocking_every_response_has_its_own_new_connection() {
    let b = backend();
    let timing = instrumentation(ConnectionPolicy::fresh(), &b.ca_pem_path);
    let client = blocking_client(&timing);
    let url = format!("{}/delay/0", b.https_url().expect("https"));
    let before = b.stats().tls_handshakes;
    let results: Vec<_> = (0..10)
        .map(|_| timing.send_blocking(client.get(&url)).expect("response"))
        .collect();
    let mut seen = HashSet::new();
    assert_eq!(
        claim_new_addrs(&results, &mut seen, b.https_addr.expect("https")),
        10
    );
    // Fresh mode does no TLS resumption: a full handshake, timed, every time.
    assert!(results.iter().all(|r| {
        r.timings
            .connection
            .as_ref()
            .is_some_and(|c| c.tls.is_some())
    }));
    assert_eq!(b.stats().tls_handshakes - before, 10);
}
