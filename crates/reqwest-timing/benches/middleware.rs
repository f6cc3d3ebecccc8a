//! Middleware overhead per call: the same `reqwest_middleware::ClientWithMiddleware`
//! with and without `TimingMiddleware` (async, reused connection, a local
//! hyper server on 127.0.0.1, HTTP/1.1 and HTTP/2 prior knowledge). The
//! reporter is a counter, so this is the middleware's own cost: the record,
//! the body wrapper, the claim lookup. The reporter's own cost up to a sink
//! queue is measured by `cargo bench -p probe-metrics --bench reporter`.
//!
//! `cargo bench -p reqwest-timing --features middleware --bench middleware`

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest_middleware::ClientBuilder;
use reqwest_timing::{
    CallRecord, ConnectionPolicy, HttpVersionPolicy, Instrumentation, TimingMiddleware, TlsOptions,
};

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
        "middleware overhead, async reused, {label} on 127.0.0.1 ({n} calls each, batches of {BATCH})"
    );
    println!(
        "  without ours         median {:>8.1} µs",
        median(&mut plain_all)
    );
    println!(
        "  with TimingMiddleware median {:>8.1} µs",
        median(&mut timed_all)
    );
    println!(
        "  overhead (paired)    median {:>8.1} µs   goal <= 5 µs",
        median(&mut diffs)
    );
}

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
        label,
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
