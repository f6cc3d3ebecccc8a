//! Instrumentation overhead per request: instrumented vs plain reqwest, async,
//! reused connection, against a local hyper server on 127.0.0.1, over
//! HTTP/1.1 and over HTTP/2 (prior knowledge). Also the cost of reading a
//! certificate chain's earliest expiry, which the TLS hook does once per full
//! handshake.
//!
//! `cargo bench -p reqwest-timing --bench overhead`
//!
//! The two clients alternate in short batches so that both see the same
//! machine noise; the figure is the median over batch pairs of the difference
//! of the batch medians.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest_timing::{ConnectionPolicy, HttpVersionPolicy, Instrumentation, TlsOptions};

const BATCHES: usize = 200;
const BATCH: usize = 100;

/// A hyper server speaking HTTP/1.1 and HTTP/2 (by its preface).
fn serve() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"ok",
                        ))))
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates batches of `plain` and `timed` requests; prints the medians
/// and the paired overhead.
async fn paired<P, PF, T, TF>(label: &str, plain: P, timed: T)
where
    P: Fn() -> PF,
    PF: Future<Output = Duration>,
    T: Fn() -> TF,
    TF: Future<Output = Duration>,
{
    for _ in 0..2000 {
        plain().await;
        timed().await;
    }
    let (mut plain_all, mut timed_all, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..BATCHES {
        let mut p = Vec::with_capacity(BATCH);
        let mut t = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            p.push(plain().await.as_secs_f64() * 1e6);
        }
        for _ in 0..BATCH {
            t.push(timed().await.as_secs_f64() * 1e6);
        }
        diffs.push(median(&mut t.clone()) - median(&mut p.clone()));
        plain_all.extend(p);
        timed_all.extend(t);
    }
    let n = plain_all.len();
    println!(
        "instrumentation overhead, async reused, {label} on 127.0.0.1 ({n} requests each, batches of {BATCH})"
    );
    println!(
        "  plain reqwest        median {:>8.1} µs",
        median(&mut plain_all)
    );
    println!(
        "  instrumented         median {:>8.1} µs",
        median(&mut timed_all)
    );
    println!(
        "  overhead (paired)    median {:>8.1} µs   goal <= 5 µs",
        median(&mut diffs)
    );
}

async fn compare(url: &str, http: HttpVersionPolicy, label: &str) {
    let policy = ConnectionPolicy::reused();
    let timing = Instrumentation::new(policy, &TlsOptions::default())
        .expect("instrumentation")
        .with_http(http);
    let instrumented = timing
        .apply(reqwest::Client::builder())
        .build()
        .expect("client");
    // The same settings as `apply`, without the hooks.
    let tls = reqwest_timing::rustls_config(&TlsOptions::default()).expect("tls");
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .retry(reqwest::retry::never());
    let builder = match http {
        HttpVersionPolicy::Http2 => builder.http2_prior_knowledge(),
        _ => builder.http1_only(),
    };
    let plain = builder.build().expect("client");
    let version = match http {
        HttpVersionPolicy::Http2 => reqwest::Version::HTTP_2,
        _ => reqwest::Version::HTTP_11,
    };
    paired(
        label,
        || async {
            let started = Instant::now();
            let response = plain.get(url).send().await.expect("plain request");
            assert_eq!(response.version(), version);
            let _ = response.bytes().await.expect("plain body");
            started.elapsed()
        },
        || async {
            let started = Instant::now();
            let response = timing
                .send(instrumented.get(url))
                .await
                .expect("timed request");
            assert!(response.body_bytes == 2 && response.version == version);
            started.elapsed()
        },
    )
    .await;
}

/// The time to read the earliest expiry of a three-certificate chain (leaf,
/// intermediate, root), as the TLS hook does once per full handshake.
fn chain_reading() {
    let mut chain = Vec::new();
    let mut issuer: Option<rcgen::Issuer<'static, rcgen::KeyPair>> = None;
    for i in 0..3 {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec![format!("c{i}.test")]).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = match &issuer {
            Some(issuer) => params.clone().signed_by(&key, issuer),
            None => params.clone().self_signed(&key),
        }
        .expect("cert");
        chain.push(cert.der().clone());
        issuer = Some(rcgen::Issuer::new(params, key));
    }
    chain.reverse();
    const N: usize = 100_000;
    let mut per_batch = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        for _ in 0..N / 50 {
            std::hint::black_box(reqwest_timing::earliest_not_after(
                std::hint::black_box(&chain[0]),
                std::hint::black_box(&chain[1..]),
            ));
        }
        per_batch.push(started.elapsed().as_secs_f64() * 1e9 / (N / 50) as f64);
    }
    let bytes: usize = chain.iter().map(|c| c.len()).sum();
    println!("reading the earliest notAfter of a 3-certificate chain ({bytes} bytes DER)");
    println!(
        "  per chain            median {:>8.0} ns   (subtracted from tls_ms)",
        median(&mut per_batch)
    );
}

fn main() {
    let addr = serve();
    let url = format!("http://{addr}/");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        compare(&url, HttpVersionPolicy::Http1, "HTTP/1.1").await;
        compare(&url, HttpVersionPolicy::Http2, "HTTP/2 (prior knowledge)").await;
    });
    chain_reading();
}
