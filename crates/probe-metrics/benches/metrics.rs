//! Benchmarks: encoding cost per point, UDP and TCP sink throughput.
//!
//! `cargo bench -p probe-metrics`. Goals: encoding a typical `http_request`
//! point (7 tags, 8 fields) ≤ 1 µs; UDP sink ≥ 200k points/s with `send`
//! never blocking (p50/p99 `send` latency reported).

use std::hint::black_box;
use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use probe_metrics::{Point, Sink, SinkConfig, SinkOptions, TelegrafAddr, now_ns};

fn http_request_point() -> Point {
    Point::new("http_request", now_ns())
        .tag("scenario", "async-reused")
        .tag("target", "demo-api")
        .tag("domain", "demo-backend.local")
        .tag("method", "GET")
        .tag("status", "200")
        .tag("reused", "true")
        .tag("dns", "cached")
        .field("total_ms", 23.456_789)
        .field("ttfb_ms", 20.125)
        .field("body_ms", 3.331_789)
        .field("dns_ms", 0.412)
        .field("connect_ms", 1.25)
        .field("tls_ms", 4.875)
        .field("status_code", 200i64)
        .field("body_bytes", 5120i64)
}

/// Median and minimum over `batches` of the mean ns per iteration of `f`.
/// The minimum shows the cost on an idle core when the machine is busy.
fn median_ns(batches: usize, per_batch: usize, mut f: impl FnMut()) -> (f64, f64) {
    // Unmeasured warm-up: caches, branch predictors, CPU frequency.
    for _ in 0..batches * per_batch / 4 {
        f();
    }
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0])
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

struct Row {
    name: &'static str,
    value: String,
    goal: &'static str,
    met: Option<bool>,
}

fn main() {
    let mut rows = Vec::new();

    // ---- encoding ----
    let p = http_request_point();
    let line_len = p.to_line().expect("encodable").len();
    let mut out = String::with_capacity(512);
    let (encode, encode_min) = median_ns(200, 2000, || {
        out.clear();
        black_box(&p).encode_into(&mut out).expect("encodable");
        black_box(&out);
    });
    rows.push(Row {
        name: "encode_into (reused buffer)",
        value: format!("median {encode:.0} ns/point, best {encode_min:.0} ({line_len} bytes)"),
        goal: "<= 1000 ns",
        met: Some(encode <= 1000.0),
    });
    let (to_line, to_line_min) = median_ns(200, 2000, || {
        black_box(black_box(&p).to_line().expect("encodable"));
    });
    rows.push(Row {
        name: "to_line (new String)",
        value: format!("median {to_line:.0} ns/point, best {to_line_min:.0}"),
        goal: "",
        met: None,
    });
    let (build, build_min) = median_ns(100, 1000, || {
        black_box(http_request_point());
    });
    rows.push(Row {
        name: "build the Point (for scale)",
        value: format!("median {build:.0} ns/point, best {build_min:.0}"),
        goal: "",
        met: None,
    });

    // ---- UDP sink ----
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let target = rx.local_addr().expect("addr").to_string();
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let drain = {
        let (received, done) = (Arc::clone(&received), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !done.load(Ordering::Relaxed) {
                if let Ok(n) = rx.recv(&mut buf) {
                    let lines = buf[..n].iter().filter(|b| **b == b'\n').count();
                    received.fetch_add(lines as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Udp(target)),
        SinkOptions::default(),
    )
    .expect("start");
    const N: usize = 1_000_000;
    let mut send_ns = Vec::with_capacity(N);
    let start = Instant::now();
    for _ in 0..N {
        let t = Instant::now();
        sink.send(black_box(&p));
        send_ns.push(t.elapsed().as_nanos() as u64);
    }
    let offered_s = start.elapsed().as_secs_f64();
    let stats = sink.shutdown(Duration::from_secs(30));
    let total_s = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    done.store(true, Ordering::Relaxed);
    drain.join().expect("drain");
    send_ns.sort_unstable();

    let sent_per_s = stats.sent as f64 / total_s;
    rows.push(Row {
        name: "UDP sink: sent",
        value: format!(
            "{:.0}k points/s ({} sent, {} dropped of {N}; drain thread saw {})",
            sent_per_s / 1e3,
            stats.sent,
            stats.dropped,
            received.load(Ordering::Relaxed)
        ),
        goal: ">= 200k/s",
        met: Some(sent_per_s >= 200_000.0),
    });
    rows.push(Row {
        name: "UDP sink: offered by caller",
        value: format!("{:.0}k points/s", N as f64 / offered_s / 1e3),
        goal: "",
        met: None,
    });
    let (p50, p99, max) = (
        percentile(&send_ns, 0.50),
        percentile(&send_ns, 0.99),
        send_ns[send_ns.len() - 1],
    );
    rows.push(Row {
        name: "send latency p50 / p99 / max",
        value: format!("{p50} / {p99} / {max} ns"),
        goal: "never blocks",
        met: None,
    });

    // ---- TCP sink ----
    // Paced like the UDP figure but counted end to end: every point the sink
    // reports as sent is read back by the receiving thread.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = listener.local_addr().expect("addr").to_string();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut buf = vec![0u8; 256 * 1024];
        let mut lines = 0u64;
        loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return lines,
                Ok(n) => lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64,
            }
        }
    });
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Tcp(target)),
        SinkOptions::default(),
    )
    .expect("start");
    let start = Instant::now();
    for _ in 0..N {
        sink.send(black_box(&p));
    }
    let stats = sink.shutdown(Duration::from_secs(60));
    let total_s = start.elapsed().as_secs_f64();
    let read_back = reader.join().expect("reader");
    let sent_per_s = stats.sent as f64 / total_s;
    rows.push(Row {
        name: "TCP sink: sent",
        value: format!(
            "{:.0}k points/s ({} sent, {} dropped of {N}; reader got {read_back})",
            sent_per_s / 1e3,
            stats.sent,
            stats.dropped
        ),
        goal: "sent = read",
        met: Some(read_back == stats.sent),
    });

    println!();
    println!(
        "load average {} on {} cores (busy machines inflate every number)",
        load_average(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "{:<30} {:<72} {:<13} result",
        "benchmark", "measured", "goal"
    );
    println!("{}", "-".repeat(125));
    for r in rows {
        let result = match r.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!("{:<30} {:<72} {:<13} {result}", r.name, r.value, r.goal);
    }
}
