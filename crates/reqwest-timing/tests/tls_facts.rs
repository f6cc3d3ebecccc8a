//! TLS facts of new connections: version, resumption and the chain's earliest
//! expiry, against real rustls servers on 127.0.0.1.

mod common;

use std::time::{Duration, SystemTime};

use reqwest_timing::{
    ConnectionPolicy, ConnectionTiming, HttpVersionPolicy, Instrumentation, TlsFacts, TlsVersion,
};

use common::h2::{self, Setup};
use common::{async_client, blocking_client, trusting};

const DAY: Duration = Duration::from_secs(86_400);

fn timing(server: &h2::Server, policy: ConnectionPolicy) -> Instrumentation {
    Instrumentation::new(policy, &trusting(&server.ca_pem))
        .expect("instrumentation")
        .with_http(HttpVersionPolicy::Http1)
}

/// The setups of `n` sequential requests; the server closes every connection,
/// so each request opens a new one.
fn new_connections(
    server: &h2::Server,
    policy: ConnectionPolicy,
    n: usize,
) -> Vec<ConnectionTiming> {
    let timing = timing(server, policy);
    let client = blocking_client(&timing);
    (0..n)
        .map(|_| {
            let r = timing
                .send_blocking(client.get(server.url("/delay/0")))
                .expect("response");
            r.timings.connection.expect("a new connection every time")
        })
        .collect()
}

fn facts(c: &ConnectionTiming) -> &TlsFacts {
    c.tls_facts
        .as_ref()
        .expect("TLS facts on a new HTTPS connection")
}

fn closing(tls12_only: bool) -> Setup {
    Setup {
        tls12_only,
        close_after_response: true,
        ..Setup::default()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn version_is_reported_for_tls12_and_tls13_servers() {
    for (tls12_only, expected) in [(true, TlsVersion::Tls12), (false, TlsVersion::Tls13)] {
        let server = h2::start(&format!("version-{tls12_only}"), closing(tls12_only));
        for c in new_connections(&server, ConnectionPolicy::fresh(), 3) {
            assert_eq!(facts(&c).version, Some(expected));
            assert_eq!(expected.as_str(), if tls12_only { "1.2" } else { "1.3" });
        }
    }
}

#[test]
fn reused_client_resumes_later_connections_and_fresh_never_does() {
    for tls12_only in [false, true] {
        let server = h2::start(&format!("resume-{tls12_only}"), closing(tls12_only));
        // The process's first handshake pays one-time costs: keep it out.
        new_connections(&server, ConnectionPolicy::fresh(), 2);
        let full = new_connections(&server, ConnectionPolicy::fresh(), 9);
        assert!(
            full.iter().all(|c| !facts(c).resumed),
            "fresh never resumes"
        );
        assert!(full.iter().all(|c| facts(c).cert_not_after.is_some()));
        let reused = new_connections(&server, ConnectionPolicy::reused(), 10);
        assert!(!facts(&reused[0]).resumed, "nothing to resume yet");
        assert!(
            reused[1..].iter().all(|c| facts(c).resumed),
            "TLS 1.2 only: {tls12_only}: {reused:#?}"
        );
        // No chain is presented on resumption.
        assert!(
            reused[1..]
                .iter()
                .all(|c| facts(c).cert_not_after.is_none())
        );
        let full_ms = median(full.iter().filter_map(|c| c.tls).collect());
        let resumed_ms = median(reused[1..].iter().filter_map(|c| c.tls).collect());
        assert!(
            resumed_ms < full_ms,
            "resumed handshake {resumed_ms:?} not below full {full_ms:?}"
        );
    }
}

fn expires_in_days(server: &h2::Server) -> f64 {
    let c = &new_connections(server, ConnectionPolicy::fresh(), 1)[0];
    facts(c)
        .cert_expires_in_days(SystemTime::now())
        .expect("expiry")
}

#[test]
fn certificate_expiry_is_the_earliest_of_the_presented_chain() {
    let leaf_only = h2::start(
        "expiry-leaf",
        Setup {
            leaf_valid_for: 10 * DAY,
            ..closing(false)
        },
    );
    let days = expires_in_days(&leaf_only);
    assert!((days - 10.0).abs() < 0.01, "{days} days");
    let ca_first = h2::start(
        "expiry-chain",
        Setup {
            leaf_valid_for: 10 * DAY,
            chain_ca_valid_for: Some(5 * DAY),
            ..closing(false)
        },
    );
    let days = expires_in_days(&ca_first);
    assert!((days - 5.0).abs() < 0.01, "{days} days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_connections_carry_tls_facts_and_reused_streams_none() {
    let server = h2::start("facts-h2", Setup::default());
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &trusting(&server.ca_pem))
        .expect("instrumentation");
    let client = async_client(&timing);
    let first = timing
        .send(client.get(server.url("/delay/0")))
        .await
        .expect("response");
    let c = first.timings.connection.as_ref().expect("new");
    assert_eq!(facts(c).version, Some(TlsVersion::Tls13));
    assert_eq!(c.remote_addr, server.addr);
    let second = timing
        .send(client.get(server.url("/delay/0")))
        .await
        .expect("response");
    assert!(second.timings.connection.is_none());
}
