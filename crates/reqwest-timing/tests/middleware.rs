//! The `reqwest-middleware` layer against real servers on 127.0.0.1: phases
//! hold injected delays (HTTP/1.1 and HTTP/2, before the headers, inside the
//! body, in the TLS handshake), a response dropped unread, a body streamed
//! chunk by chunk, exact reuse flags under concurrency, error classes.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_timing::{
    CallRecord, CallTarget, ConnectionPolicy, ErrorClass, HttpVersionPolicy, Instrumentation,
    TimingMiddleware,
};

use common::h2::{self, Setup};
use common::{SLACK_MS, closed_port, silent_server, trusting, unrelated_ca};

/// Records every finished call.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<CallRecord>>>);

impl Collect {
    fn take(&self) -> Vec<CallRecord> {
        std::mem::take(&mut *self.0.lock().expect("records"))
    }

    fn one(&self) -> CallRecord {
        let mut all = self.take();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }
}

fn client_with(
    timing: Instrumentation,
    builder: reqwest::ClientBuilder,
) -> (ClientWithMiddleware, Collect) {
    let collect = Collect::default();
    let sink = collect.clone();
    let inner = timing.apply(builder).build().expect("client");
    let client = ClientBuilder::new(inner)
        .with(TimingMiddleware::new(timing, move |r: &CallRecord| {
            sink.0.lock().expect("records").push(r.clone());
        }))
        .build();
    (client, collect)
}

fn client(ca: &std::path::Path, http: HttpVersionPolicy) -> (ClientWithMiddleware, Collect) {
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &trusting(ca))
        .expect("instrumentation")
        .with_http(http);
    client_with(
        timing,
        reqwest::Client::builder().timeout(Duration::from_secs(5)),
    )
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// A pause inside the body starts on the server as the headers leave; a
/// client that notices the headers late (a loaded machine) moves that
/// lateness from the body phase to the first byte. Allow that much early.
const BODY_EARLY_MS: u128 = 3;

fn assert_body_near(got: &reqwest_timing::Timings, want_ms: u128) {
    let body = ms(got.body);
    assert!(
        (want_ms - BODY_EARLY_MS..want_ms + SLACK_MS).contains(&body),
        "body: {body} ms, expected {want_ms} ms (-{BODY_EARLY_MS}, +{SLACK_MS})"
    );
    assert!(
        ms(got.total) >= want_ms,
        "total {:?} under the pause",
        got.total
    );
}

fn assert_near(what: &str, got: Duration, want_ms: u128) {
    let got = ms(got);
    assert!(
        (want_ms..want_ms + SLACK_MS).contains(&got),
        "{what}: {got} ms, expected {want_ms} ms (+{SLACK_MS})"
    );
}

/// Delays before the headers and inside the body land in `ttfb` and `body`,
/// on the new connection and on reused ones, for both HTTP versions.
async fn phases_hold_the_injected_delays(alpn: Vec<&'static [u8]>, version: reqwest::Version) {
    let name = if version == reqwest::Version::HTTP_2 {
        "mw-h2"
    } else {
        "mw-h1"
    };
    let server = h2::start(
        name,
        Setup {
            alpn,
            ..Setup::default()
        },
    );
    let (client, calls) = client(&server.ca_pem, HttpVersionPolicy::Auto);
    for i in 0..3 {
        let response = client
            .get(server.url("/delay/120"))
            .send()
            .await
            .expect("response");
        assert_eq!(response.version(), version);
        assert_eq!(response.content_length(), Some(3));
        assert_eq!(response.text().await.expect("body"), "ok\n");
        let r = calls.one();
        assert_eq!(r.version, Some(version));
        assert_eq!(r.reused(), i > 0, "{r:?}");
        assert!(r.body_complete);
        assert_eq!(r.body_bytes, 3);
        let t = r.timings.as_ref().expect("timings");
        assert_near("ttfb", t.ttfb, 120);
        if i == 0 {
            let c = t.connection.as_ref().expect("new connection");
            assert!(c.tls.is_some(), "{c:?}");
        }

        let response = client
            .get(server.url("/body-delay/120"))
            .send()
            .await
            .expect("response");
        let body = response.bytes().await.expect("body");
        assert_eq!(&body[..], b"first\nlast\n");
        let r = calls.one();
        let t = r.timings.as_ref().expect("timings");
        assert!(r.reused());
        assert_body_near(t, 120);
        assert!(ms(t.ttfb) < SLACK_MS, "{t:?}");
        assert_eq!(r.body_bytes, 11);
        assert!(t.total >= t.ttfb + t.body);
        assert_eq!(r.elapsed, t.total);
        assert_eq!(r.failure, None);
        assert_eq!(r.error_class(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_phases_hold_the_injected_delays() {
    phases_hold_the_injected_delays(vec![b"http/1.1"], reqwest::Version::HTTP_11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_phases_hold_the_injected_delays() {
    phases_hold_the_injected_delays(vec![b"h2", b"http/1.1"], reqwest::Version::HTTP_2).await;
}

/// The demo backend holds each ClientHello: the hold is the TLS phase of the
/// new connection, not its connect or first byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_hold_lands_in_the_tls_phase() {
    let b = test_support::backend::backend(common::cert_dir("mw-hold"), |c| {
        c.handshake_delay = Duration::from_millis(150);
    });
    let (client, calls) = client(&b.ca_pem_path, HttpVersionPolicy::Auto);
    let url = format!("{}/delay/0", b.https_url().expect("https"));
    client
        .get(&url)
        .send()
        .await
        .expect("response")
        .bytes()
        .await
        .expect("body");
    let r = calls.one();
    let c = r
        .timings
        .as_ref()
        .and_then(|t| t.connection.clone())
        .expect("new connection");
    assert_near("tls", c.tls.expect("tls phase"), 150);
    assert!(ms(c.connect) < SLACK_MS, "{c:?}");
    // Without a `CallTarget`, the target is the URL's host.
    assert_eq!(r.target.as_ref(), "localhost");
    assert_eq!(r.domain, "localhost");
}

/// The response comes back at its headers; dropping it unread completes the
/// record with `body_complete=false`, at the drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_dropped_unread_is_reported_incomplete() {
    let server = h2::start("mw-drop", Setup::default());
    let (client, calls) = client(&server.ca_pem, HttpVersionPolicy::Auto);
    let called = Instant::now();
    let response = client
        .get(server.url("/body-delay/300"))
        .send()
        .await
        .expect("response");
    assert!(ms(called.elapsed()) < 300, "send waited for the body");
    assert!(calls.take().is_empty(), "reported before the body ended");
    drop(response);
    let r = calls.one();
    assert!(!r.body_complete);
    assert_eq!(r.failure, None);
    assert_eq!(r.status.map(|s| s.as_u16()), Some(200));
    let t = r.timings.expect("timings");
    assert!(ms(t.body) < SLACK_MS, "{t:?}");
    assert!(ms(t.total) < 300, "{t:?}");
}

/// A body read chunk by chunk: every chunk is counted, the body phase spans
/// the pauses between them, and the record arrives at the last chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_timed_chunk_by_chunk() {
    let b = common::backend();
    let (client, calls) = client(&b.ca_pem_path, HttpVersionPolicy::Auto);
    let url = format!(
        "{}/drip?chunks=5&interval_ms=40",
        b.http_url().expect("http")
    );
    let mut response = client.get(&url).send().await.expect("response");
    let mut bytes = 0usize;
    let mut chunks = 0;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len();
        chunks += 1;
        if bytes < 5 * demo_backend::DRIP_CHUNK_BYTES {
            assert!(calls.take().is_empty(), "reported after {bytes} bytes");
        }
    }
    assert!(chunks >= 5, "{chunks} chunks");
    drop(response);
    let r = calls.one();
    assert!(r.body_complete);
    assert_eq!(r.body_bytes as usize, 5 * demo_backend::DRIP_CHUNK_BYTES);
    assert_body_near(&r.timings.expect("timings"), 160);
}

/// Concurrent calls on one client: no connection is reported new twice, and
/// no more connections are reported new than the server accepted (a spare
/// connection from hyper's pool race may serve later calls, as reused).
async fn concurrent_calls(
    alpn: Vec<&'static [u8]>,
    http: HttpVersionPolicy,
    name: &str,
) -> (Vec<CallRecord>, u64) {
    let server = h2::start(
        name,
        Setup {
            alpn,
            ..Setup::default()
        },
    );
    let (client, calls) = client(&server.ca_pem, http);
    for _ in 0..3 {
        let round = (0..8).map(|_| async {
            let r = client
                .get(server.url("/delay/30"))
                .send()
                .await
                .expect("response");
            r.bytes().await.expect("body")
        });
        futures_util::future::join_all(round).await;
    }
    let records = calls.take();
    assert_eq!(records.len(), 24);
    assert!(records.iter().all(|r| r.body_complete));
    let new: Vec<_> = records
        .iter()
        .filter_map(|r| r.timings.as_ref()?.connection.as_ref())
        .map(|c| c.local_addr)
        .collect();
    let distinct: std::collections::HashSet<_> = new.iter().collect();
    assert_eq!(
        distinct.len(),
        new.len(),
        "a connection reported new twice: {new:?}"
    );
    assert!(!new.is_empty() && new.len() as u64 <= server.connections());
    (records, server.connections())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_http2_calls_report_the_one_connection_once() {
    let (records, accepted) =
        concurrent_calls(vec![b"h2"], HttpVersionPolicy::Http2, "mw-conc-h2").await;
    assert_eq!(accepted, 1);
    assert_eq!(records.iter().filter(|r| !r.reused()).count(), 1);
    assert!(
        records
            .iter()
            .all(|r| r.version == Some(reqwest::Version::HTTP_2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_http1_calls_report_each_connection_once() {
    let (records, _) =
        concurrent_calls(vec![b"http/1.1"], HttpVersionPolicy::Auto, "mw-conc-h1").await;
    // Eight calls at once on HTTP/1.1 need eight connections.
    assert!(records[..8].iter().filter(|r| !r.reused()).count() >= 1);
    assert!(
        records
            .iter()
            .all(|r| r.version == Some(reqwest::Version::HTTP_11))
    );
}

/// Faults without a response come back as the caller's error and are
/// reported with their class; 4xx/5xx are responses with an error class.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_keep_their_class_through_the_middleware() {
    let b = common::backend();
    let http = b.http_url().expect("http");
    let https = b.https_url().expect("https");
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &trusting(&b.ca_pem_path))
        .expect("instrumentation");
    let (client, calls) = client_with(
        timing,
        reqwest::Client::builder().timeout(Duration::from_millis(300)),
    );
    let no_response = [
        (
            format!("http://127.0.0.1:{}/", closed_port()),
            ErrorClass::Connect,
        ),
        ("http://nothing.invalid/".to_owned(), ErrorClass::Dns),
        (format!("http://{}/", silent_server()), ErrorClass::Timeout),
        (format!("{http}/redirect-loop"), ErrorClass::Redirect),
    ];
    for (url, class) in no_response {
        let error = client.get(&url).send().await.expect_err(&url);
        assert!(
            matches!(error, reqwest_middleware::Error::Reqwest(_)),
            "{error}"
        );
        let r = calls.one();
        assert_eq!(r.failure, Some(class), "{url}");
        assert_eq!(r.error_class(), Some(class));
        assert!(r.timings.is_none() && r.status.is_none());
    }
    let broken = client
        .get(format!("{http}/truncated"))
        .send()
        .await
        .expect("headers");
    assert!(broken.bytes().await.is_err());
    let r = calls.one();
    assert_eq!(r.failure, Some(ErrorClass::Body));
    assert!(!r.body_complete);
    for (code, class) in [(404, ErrorClass::Http4xx), (503, ErrorClass::Http5xx)] {
        let response = client
            .get(format!("{http}/status/{code}"))
            .with_extension(CallTarget::new("status-service"))
            .send()
            .await
            .expect("response");
        response.bytes().await.expect("body");
        let r = calls.one();
        assert_eq!(r.status.map(|s| s.as_u16()), Some(code));
        assert_eq!((r.failure, r.error_class()), (None, Some(class)));
        assert_eq!(r.target.as_ref(), "status-service");
    }
    // A certificate the client does not trust.
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &trusting(&unrelated_ca()))
        .expect("instrumentation");
    let (client, calls) = client_with(timing, reqwest::Client::builder());
    client
        .get(format!("{https}/delay/0"))
        .send()
        .await
        .expect_err("untrusted");
    assert_eq!(calls.one().failure, Some(ErrorClass::Tls));
}

/// The response keeps its URL, status, headers and content length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_is_unchanged_for_the_caller() {
    let b = common::backend();
    let (client, calls) = client(&b.ca_pem_path, HttpVersionPolicy::Auto);
    let url = format!("{}/bytes/1000", b.https_url().expect("https"));
    let response = client.get(&url).send().await.expect("response");
    assert_eq!(response.url().as_str(), url);
    assert!(response.remote_addr().is_some());
    assert_eq!(response.bytes().await.expect("body").len(), 1000);
    assert_eq!(calls.one().body_bytes, 1000);
}
