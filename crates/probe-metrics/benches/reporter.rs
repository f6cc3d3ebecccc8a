//! The reporter's cost per call up to the sink queue: `SinkReporter::on_call`
//! turns a real `CallRecord` (a new HTTP connection, so every phase field is
//! there, and a reused one) into an `http_request` point, encodes it and
//! enqueues it on a Telegraf UDP sink. A listener on 127.0.0.1 drains the
//! datagrams. Goal: ≤ 2 µs per call.
//!
//! `cargo bench -p probe-metrics --bench reporter`

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use probe_metrics::{Sink, SinkConfig, SinkOptions, SinkReporter, TelegrafAddr};
use reqwest_middleware::ClientBuilder;
use reqwest_timing::{
    CallRecord, ConnectionPolicy, Instrumentation, Reporter, TimingMiddleware, TlsOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BATCHES: usize = 200;
const BATCH: usize = 1_000;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering "ok".
async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if n == 0 || stream.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

/// Two real records: the first call (new connection) and a reused one.
fn records() -> Vec<CallRecord> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = kept.clone();
    rt.block_on(async move {
        let url = server().await;
        let timing = Instrumentation::new(ConnectionPolicy::reused(), &TlsOptions::default())
            .expect("instrumentation");
        let client = ClientBuilder::new(
            timing
                .apply(reqwest::Client::builder())
                .build()
                .expect("client"),
        )
        .with(TimingMiddleware::new(timing, move |r: &CallRecord| {
            sink.lock().expect("records").push(r.clone());
        }))
        .build();
        for _ in 0..2 {
            let r = client.get(&url).send().await.expect("call");
            r.bytes().await.expect("body");
        }
    });
    kept.lock().expect("records").clone()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let records = records();
    assert_eq!(records.len(), 2);
    let listener = UdpSocket::bind("127.0.0.1:0").expect("udp");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut buf = [0u8; 65_536];
        while listener.recv(&mut buf).is_ok() {}
    });
    let options = SinkOptions {
        queue_capacity: BATCHES * BATCH * 2 + 10_000,
        ..SinkOptions::default()
    };
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Udp(addr.to_string())),
        options,
    )
    .expect("sink");
    let reporter = SinkReporter::new(Arc::new(sink), "bench-app");
    for (label, record) in [
        ("new connection", &records[0]),
        ("reused connection", &records[1]),
    ] {
        for _ in 0..10_000 {
            reporter.on_call(record);
        }
        let mut per_call_ns = Vec::with_capacity(BATCHES);
        for _ in 0..BATCHES {
            let started = Instant::now();
            for _ in 0..BATCH {
                reporter.on_call(std::hint::black_box(record));
            }
            per_call_ns.push(started.elapsed().as_secs_f64() * 1e9 / BATCH as f64);
        }
        println!(
            "SinkReporter::on_call up to the UDP sink queue, {label} ({BATCHES} batches of {BATCH})"
        );
        println!(
            "  per call             median {:>8.0} ns   goal <= 2000 ns",
            median(&mut per_call_ns)
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let stats = reporter.sink().stats();
    println!("  sink: sent {} dropped {}", stats.sent, stats.dropped);
}
