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

use std::time::Instant;

use reqwest_timing::{ConnectionPolicy, HttpVersionPolicy, Instrumentation, TlsOptions};

mod common;
use common::{median, paired, serve};

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
        "instrumentation overhead",
        label,
        ["plain reqwest", "instrumented"],
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
