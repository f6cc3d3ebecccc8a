//! HTTP/2 against a real hyper server (ALPN `h2` over rustls, prior knowledge
//! on plain TCP): the version is reported, the round's concurrent requests
//! share one connection, exactly one of them reports its setup, and the phases
//! hold the injected delays.

mod common;

use std::collections::HashSet;

use futures_util::future::join_all;
use reqwest_timing::{ConnectionPolicy, HttpVersionPolicy, Instrumentation, TimedResponse};

use common::h2::{self, Setup};
use common::{SLACK_MS, async_client, blocking_client, trusting};

const ROUNDS: usize = 4;
const TARGETS: usize = 5;

fn timing(
    server: &h2::Server,
    policy: ConnectionPolicy,
    http: HttpVersionPolicy,
) -> Instrumentation {
    let tls = if server.ca_pem.as_os_str().is_empty() {
        reqwest_timing::TlsOptions::default()
    } else {
        trusting(&server.ca_pem)
    };
    Instrumentation::new(policy, &tls)
        .expect("instrumentation")
        .with_http(http)
}

fn peer(r: &TimedResponse) -> String {
    r.headers["x-peer"].to_str().expect("ascii").to_owned()
}

/// ROUNDS rounds of TARGETS concurrent requests to `path`.
async fn rounds(
    server: &h2::Server,
    http: HttpVersionPolicy,
    path: &str,
) -> Vec<Vec<TimedResponse>> {
    let timing = timing(server, ConnectionPolicy::reused(), http);
    let client = async_client(&timing);
    let url = server.url(path);
    let mut out = Vec::new();
    for _ in 0..ROUNDS {
        let round = join_all((0..TARGETS).map(|_| timing.send(client.get(&url)))).await;
        out.push(round.into_iter().map(|r| r.expect("response")).collect());
    }
    out
}

/// Every response is HTTP/2, one connection serves every round, and only one
/// response (in the first round) reports a new connection.
fn one_multiplexed_connection(results: &[Vec<TimedResponse>]) {
    let all: Vec<&TimedResponse> = results.iter().flatten().collect();
    assert!(all.iter().all(|r| r.version == reqwest::Version::HTTP_2));
    assert!(all.iter().all(|r| r.headers["x-version"] == "HTTP/2.0"));
    let peers: HashSet<String> = all.iter().map(|r| peer(r)).collect();
    assert_eq!(
        peers.len(),
        1,
        "one connection serves every round: {peers:?}"
    );
    let new_in_first = results[0].iter().filter(|r| !r.timings.reused()).count();
    assert_eq!(new_in_first, 1, "exactly one reused=false in round 1");
    for round in &results[1..] {
        assert!(round.iter().all(|r| r.timings.reused()));
    }
    let new = results[0]
        .iter()
        .find(|r| !r.timings.reused())
        .expect("new");
    let c = new.timings.connection.as_ref().expect("setup");
    assert_eq!(c.local_addr.to_string(), peer(new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_negotiates_h2_by_alpn_and_multiplexes_the_round() {
    let server = h2::start("alpn", Setup::default());
    let results = rounds(&server, HttpVersionPolicy::Auto, "/delay/30").await;
    one_multiplexed_connection(&results);
    let c = results[0]
        .iter()
        .find_map(|r| r.timings.connection.as_ref())
        .expect("setup");
    assert!(c.tls.is_some(), "an HTTPS connection has a TLS phase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_only_opens_one_connection_for_the_round() {
    let server = h2::start("h2-only", Setup::default());
    let results = rounds(&server, HttpVersionPolicy::Http2, "/delay/30").await;
    one_multiplexed_connection(&results);
    assert_eq!(server.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_on_plain_http() {
    let server = h2::start(
        "plain",
        Setup {
            tls: false,
            ..Setup::default()
        },
    );
    let results = rounds(&server, HttpVersionPolicy::Http2, "/delay/30").await;
    one_multiplexed_connection(&results);
    assert_eq!(server.connections(), 1);
    let c = results[0]
        .iter()
        .find_map(|r| r.timings.connection.as_ref())
        .expect("setup");
    assert_eq!(c.tls, None);
    assert_eq!(c.tls_facts, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_policy_stays_on_http1_against_an_h2_server() {
    let server = h2::start("h1-policy", Setup::default());
    let timing = timing(
        &server,
        ConnectionPolicy::reused(),
        HttpVersionPolicy::Http1,
    );
    let client = async_client(&timing);
    let r = timing
        .send(client.get(server.url("/delay/0")))
        .await
        .expect("response");
    assert_eq!(r.version, reqwest::Version::HTTP_11);
    assert_eq!(reqwest_timing::http_version_str(r.version), "1.1");
}

/// The delays injected before the headers and inside the body land in
/// `ttfb` and `body`, on the new connection and on reused streams alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_phases_hold_the_injected_delays() {
    let server = h2::start("phases", Setup::default());
    let timing = timing(&server, ConnectionPolicy::reused(), HttpVersionPolicy::Auto);
    let client = async_client(&timing);
    for i in 0..3 {
        let r = timing
            .send(client.get(server.url("/delay/120")))
            .await
            .expect("response");
        assert_eq!(r.version, reqwest::Version::HTTP_2);
        assert_eq!(r.timings.reused(), i > 0);
        let ttfb = r.timings.ttfb.as_millis();
        assert!((120..120 + SLACK_MS).contains(&ttfb), "ttfb {ttfb} ms");
        let r = timing
            .send(client.get(server.url("/body-delay/120")))
            .await
            .expect("response");
        assert!(r.timings.reused());
        let body = r.timings.body.as_millis();
        assert!((120..120 + SLACK_MS).contains(&body), "body {body} ms");
        assert!(r.timings.ttfb.as_millis() < SLACK_MS);
        assert_eq!(r.body_bytes, 11);
    }
}

#[test]
fn blocking_client_speaks_h2_and_claims_once() {
    let server = h2::start("blocking", Setup::default());
    let timing = timing(&server, ConnectionPolicy::reused(), HttpVersionPolicy::Auto);
    let client = blocking_client(&timing);
    let results: Vec<_> = (0..5)
        .map(|_| {
            timing
                .send_blocking(client.get(server.url("/delay/0")))
                .expect("response")
        })
        .collect();
    assert!(
        results
            .iter()
            .all(|r| r.version == reqwest::Version::HTTP_2)
    );
    assert!(!results[0].timings.reused());
    assert!(results[1..].iter().all(|r| r.timings.reused()));
    assert_eq!(server.connections(), 1);
}

/// A body prefix keeps at most the bytes asked for, and the whole body is
/// still read and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_prefix_is_bounded_and_the_body_still_counted() {
    let server = h2::start("prefix", Setup::default());
    let timing = timing(&server, ConnectionPolicy::reused(), HttpVersionPolicy::Auto);
    let client = async_client(&timing);
    let (r, body) = timing
        .send_with_body_prefix(client.get(server.url("/body-delay/50")), 3)
        .await
        .expect("response");
    assert_eq!(body, b"fir");
    assert_eq!(r.body_bytes, 11);
    assert!(r.timings.body.as_millis() >= 50);
}

#[test]
fn blocking_body_prefix_is_bounded_and_the_body_still_counted() {
    let server = h2::start("prefix-blocking", Setup::default());
    let timing = timing(&server, ConnectionPolicy::reused(), HttpVersionPolicy::Auto);
    let blocking = blocking_client(&timing);
    let (r, body) = timing
        .send_blocking_with_body_prefix(blocking.get(server.url("/body-delay/0")), 8)
        .expect("response");
    assert_eq!(body, b"first\nla");
    assert_eq!(r.body_bytes, 11);
}

/// Fresh stays fresh over HTTP/2: no pool, so no stream rides on another
/// request's connection, even within a concurrent round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_policy_over_h2_opens_a_connection_per_request() {
    let server = h2::start("fresh-h2", Setup::default());
    let timing = timing(&server, ConnectionPolicy::fresh(), HttpVersionPolicy::Http2);
    let client = async_client(&timing);
    let url = server.url("/delay/30");
    for round in 1..=3 {
        let results = join_all((0..TARGETS).map(|_| timing.send(client.get(&url)))).await;
        for r in results {
            let r = r.expect("response");
            assert_eq!(r.version, reqwest::Version::HTTP_2);
            assert!(!r.timings.reused());
        }
        assert_eq!(server.connections(), (round * TARGETS) as u64);
    }
}
