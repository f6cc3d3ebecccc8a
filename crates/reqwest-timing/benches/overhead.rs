//! Instrumentation overhead per request: instrumented vs plain reqwest, async,
//! reused connection, against a local HTTP/1.1 server on 127.0.0.1.
//!
//! `cargo bench -p reqwest-timing --bench overhead`
//!
//! The two clients alternate in short batches so that both see the same
//! machine noise; the figure is the median over batch pairs of the difference
//! of the batch medians.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest_timing::{ConnectionPolicy, Instrumentation, TlsOptions};

const BATCHES: usize = 200;
const BATCH: usize = 100;

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
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"ok",
                        ))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
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

fn main() {
    let addr = serve();
    let url = format!("http://{addr}/");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let policy = ConnectionPolicy::reused();
        let timing = Instrumentation::new(policy, &TlsOptions::default()).expect("instrumentation");
        let instrumented = timing.apply(reqwest::Client::builder()).build().expect("client");
        // The same settings as `apply`, without the hooks.
        let tls = reqwest_timing::rustls_config(&TlsOptions::default()).expect("tls");
        let plain = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .retry(reqwest::retry::never())
            .http1_only()
            .build()
            .expect("client");

        let plain_once = || async {
            let started = Instant::now();
            let response = plain.get(&url).send().await.expect("plain request");
            let _ = response.bytes().await.expect("plain body");
            started.elapsed()
        };
        let timed_once = || async {
            let started = Instant::now();
            let response = timing.send(instrumented.get(&url)).await.expect("timed request");
            assert!(response.body_bytes == 2);
            started.elapsed()
        };
        for _ in 0..2000 {
            plain_once().await;
            timed_once().await;
        }

        let (mut plain_all, mut timed_all, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..BATCHES {
            let mut p = Vec::with_capacity(BATCH);
            let mut t = Vec::with_capacity(BATCH);
            for _ in 0..BATCH {
                p.push(plain_once().await.as_secs_f64() * 1e6);
            }
            for _ in 0..BATCH {
                t.push(timed_once().await.as_secs_f64() * 1e6);
            }
            diffs.push(median(&mut t.clone()) - median(&mut p.clone()));
            plain_all.extend(p);
            timed_all.extend(t);
        }
        let n = plain_all.len();
        println!("instrumentation overhead, async reused, HTTP/1.1 on 127.0.0.1 ({n} requests each, batches of {BATCH})");
        println!("  plain reqwest        median {:>8.1} µs", median(&mut plain_all));
        println!("  instrumented         median {:>8.1} µs", median(&mut timed_all));
        println!("  overhead (paired)    median {:>8.1} µs   goal <= 5 µs", median(&mut diffs));
    });
}
