//! Benchmark: the HTML report from large inputs.
//!
//! `cargo bench -p probe-report --bench html`. Goal: a report from 100,000
//! points renders in under 2 s and the file stays under 2 MB. Points are
//! generated like a long run of the four probes against two targets
//! (requests, one round per two requests, some errors), as line protocol, and
//! go through the same steps as `probe-report --file F --html H`: parse for
//! the table, parse for the charts, compute the table, render the page.
//! Reports the median of 5 runs per size, side by side.

use probe_report::html::{Timeline, render_html};
use probe_report::{Report, parse_line_protocol};
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SCENARIOS: [&str; 4] = ["sync-fresh", "sync-reused", "async-fresh", "async-reused"];
const RUNS: usize = 5;

/// `points` line-protocol points: 2 requests and 1 round per step, an error every 500 steps.
fn points(points: usize) -> String {
    let mut text = String::with_capacity(points * 200);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 100.0
    };
    let t0 = 1_795_673_947_000_000_000_u64;
    let mut n = 0;
    let mut step = 0u64;
    while n < points {
        let scenario = SCENARIOS[(step % 4) as usize];
        let fresh = scenario.ends_with("fresh");
        let t = t0 + step * 250_000_000;
        let mut round = 0.0_f64;
        for (target, base) in [("fast", 20.0), ("slow", 40.0)] {
            let tls = if fresh { 35.0 + noise() } else { 0.0 };
            let total = base + tls + noise();
            round = if scenario.starts_with("sync") {
                round + total
            } else {
                round.max(total)
            };
            let _ = writeln!(
                text,
                "http_request,scenario={scenario},target={target},domain=localhost,method=GET,status=200,reused={},dns=lookup \
                 total_ms={total:.3},ttfb_ms={:.3},body_ms=0.2,dns_ms=0.3,connect_ms=0.3,tls_ms={tls:.3},status_code=200i,body_bytes=381i {t}",
                !fresh,
                total - tls - 1.0
            );
        }
        let _ = writeln!(
            text,
            "probe_round,scenario={scenario} total_ms={round:.3},requests=2i,errors=0i {t}"
        );
        n += 3;
        if step % 500 == 499 {
            let _ = writeln!(
                text,
                "http_error,scenario={scenario},target=slow,domain=localhost,error_class=timeout count=1i,elapsed_ms=10000.0 {t}"
            );
            n += 1;
        }
        step += 1;
    }
    text
}

fn report_once(text: &str) -> String {
    let samples = parse_line_protocol(text).expect("valid");
    let timeline = Timeline::from_line_protocol(text).expect("valid");
    let report = Report::new(&samples, None);
    render_html(&timeline, &report, "bench").expect("renders")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    println!(
        "| points | input (line protocol) | render, median of {RUNS} | of which render_html | HTML file |"
    );
    println!("|---|---|---|---|---|");
    for size in [1_000, 10_000, 100_000, 300_000] {
        let text = points(size);
        let mut total = Vec::new();
        let mut render_only = Vec::new();
        let mut bytes = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let html = black_box(report_once(&text));
            total.push(start.elapsed());
            bytes = html.len();
            let samples = parse_line_protocol(&text).expect("valid");
            let timeline = Timeline::from_line_protocol(&text).expect("valid");
            let report = Report::new(&samples, None);
            let start = Instant::now();
            black_box(render_html(&timeline, &report, "bench").expect("renders"));
            render_only.push(start.elapsed());
        }
        println!(
            "| {size} | {:.1} MB | {:.0} ms | {:.0} ms | {:.0} kB |",
            text.len() as f64 / 1e6,
            median(total).as_secs_f64() * 1000.0,
            median(render_only).as_secs_f64() * 1000.0,
            bytes as f64 / 1000.0
        );
    }
}
