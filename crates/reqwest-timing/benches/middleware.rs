//! Middleware overhead per call: the same `reqwest_middleware::ClientWithMiddleware`
//! with and without `TimingMiddleware` (async, reused connection, a local
//! hyper server on 127.0.0.1, HTTP/1.1 and HTTP/2 prior knowledge). The
//! reporter is a counter, so this is the middleware's own cost: the record,
//! the body wrapper, the claim lookup. The reporter's own cost up to a sink
//! queue is measured by `cargo bench -p probe-metrics --bench reporter`.
//!
//! `cargo bench -p reqwest-timing --features middleware --bench middleware`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use reqwest_middleware::ClientBuilder;
use reqwest_timing::{
    CallRecord, ConnectionPolicy, HttpVersionPolicy, Instrumentation, TimingMiddleware, TlsOptions,
};

mod common;
use common::{paired, serve};

async fn compare(url: &str, http: HttpVersionPolicy, label: &str) {
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &TlsOptions::default())
        .expect("instrumentation")
        .with_http(http);
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let timed = ClientBuilder::new(
        timing
            .apply(reqwest::Client::builder())
            .build()
            .expect("client"),
    )
    .with(TimingMiddleware::new(timing, move |_: &CallRecord| {
        counter.fetch_add(1, Ordering::Relaxed);
    }))
    .build();
    // The same client settings as `apply`, without the hooks, and no middleware.
    let tls = reqwest_timing::rustls_config(&TlsOptions::default()).expect("tls");
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .retry(reqwest::retry::never());
    let builder = match http {
        HttpVersionPolicy::Http2 => builder.http2_prior_knowledge(),
        _ => builder.http1_only(),
    };
    let plain = ClientBuilder::new(builder.build().expect("client")).build();
    paired(
        "middleware overhead",
        label,
        ["without ours", "with TimingMiddleware"],
        || async {
            let started = Instant::now();
            let response = plain.get(url).send().await.expect("plain call");
            let _ = response.bytes().await.expect("plain body");
            started.elapsed()
        },
        || async {
            let started = Instant::now();
            let response = timed.get(url).send().await.expect("timed call");
            let _ = response.bytes().await.expect("timed body");
            started.elapsed()
        },
    )
    .await;
    println!("  records reported     {}", calls.load(Ordering::Relaxed));
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
}
