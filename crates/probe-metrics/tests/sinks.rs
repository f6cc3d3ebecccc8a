//! Sink tests against local sockets and a tiny HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use probe_metrics::{
    InfluxConfig, Point, Sink, SinkConfig, SinkError, SinkOptions, SinkStats, TelegrafAddr,
};

const LONG: Duration = Duration::from_secs(10);

fn point(i: i64) -> Point {
    Point::new("http_request", 1_700_000_000_000_000_000 + i)
        .tag("scenario", "sync-fresh")
        .tag("target", "demo api")
        .tag("domain", "127.0.0.1")
        .field("total_ms", 12.5 + i as f64)
        .field("status_code", 200i64)
}

fn expected(points: &[Point]) -> String {
    points
        .iter()
        .map(|p| p.to_line().expect("encodable"))
        .collect()
}

fn fast_retry() -> SinkOptions {
    SinkOptions {
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        connect_timeout: Duration::from_millis(500),
        ..SinkOptions::default()
    }
}

/// A port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + LONG;
    while !ok() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sink_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let sink = Sink::start(SinkConfig::None, SinkOptions::default()).expect("start");
    assert_send_sync(&sink);
    thread::scope(|s| {
        for i in 0..2 {
            let sink = &sink;
            s.spawn(move || sink.send(&point(i)));
        }
    });
    assert_eq!(sink.shutdown(LONG), SinkStats::default());
}

#[test]
fn udp_sink_delivers_exactly_what_was_sent_in_small_datagrams() {
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_read_timeout(Some(LONG)).expect("timeout");
    let addr = format!("udp://{}", rx.local_addr().expect("addr"));
    let sink = Sink::start(
        SinkConfig::Telegraf(addr.parse().expect("addr")),
        SinkOptions::default(),
    )
    .expect("start");
    assert_eq!(sink.kind(), "telegraf");
    let mut points: Vec<Point> = (0..60).map(point).collect();
    // One line longer than a datagram: it must travel alone.
    points.insert(30, point(99).field("blob", "x".repeat(2000)));
    for p in &points {
        sink.send(p);
    }
    let stats = sink.shutdown(LONG);
    assert_eq!(
        stats,
        SinkStats {
            sent: 61,
            resent: 0,
            dropped: 0
        }
    );

    let want = expected(&points);
    let mut got = String::new();
    let mut buf = vec![0u8; 65_536];
    while got.len() < want.len() {
        let n = rx.recv(&mut buf).expect("datagram");
        let datagram = std::str::from_utf8(&buf[..n]).expect("utf-8");
        assert!(datagram.ends_with('\n'), "split on line boundaries");
        assert!(
            n <= 1400 || datagram.lines().count() == 1,
            "{n}-byte datagram with several lines"
        );
        got.push_str(datagram);
    }
    assert_eq!(got, want);
}

#[test]
fn tcp_sink_delivers_to_a_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = format!("tcp://{}", listener.local_addr().expect("addr"));
    let reader = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut data = String::new();
        conn.read_to_string(&mut data).expect("read");
        data
    });
    let sink = Sink::start(
        SinkConfig::Telegraf(addr.parse().expect("addr")),
        SinkOptions::default(),
    )
    .expect("start");
    let points: Vec<Point> = (0..200).map(point).collect();
    for p in &points {
        sink.send(p);
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 200,
            resent: 0,
            dropped: 0
        }
    );
    // The sink's thread has ended, closing the connection.
    assert_eq!(reader.join().expect("reader"), expected(&points));
}

#[test]
fn tcp_sink_started_before_its_listener_reconnects_and_delivers() {
    let port = dead_port();
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Tcp(format!("127.0.0.1:{port}"))),
        fast_retry(),
    )
    .expect("start without a listener");
    let points: Vec<Point> = (0..5).map(point).collect();
    for p in &points {
        sink.send(p);
    }
    thread::sleep(Duration::from_millis(300));
    assert_eq!(
        sink.stats(),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 0
        },
        "queued while down"
    );

    let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the port");
    let (conn, _) = listener.accept().expect("sink reconnects");
    let mut lines = BufReader::new(conn);
    let mut got = String::new();
    for _ in &points {
        lines.read_line(&mut got).expect("line");
    }
    assert_eq!(got, expected(&points));
    wait_until("sent count", || sink.stats().sent == 5);
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 5,
            resent: 0,
            dropped: 0
        }
    );
}

#[test]
fn dead_tcp_target_with_tiny_queue_counts_drops_and_send_returns() {
    let options = SinkOptions {
        queue_capacity: 4,
        // One line per batch: at most 4 queued + 1 in hand wait for the target.
        max_batch_bytes: 1,
        ..fast_retry()
    };
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Tcp(format!("127.0.0.1:{}", dead_port()))),
        options,
    )
    .expect("start");
    for i in 0..1000 {
        sink.send(&point(i));
    }
    let stats = sink.stats();
    assert_eq!(stats.sent, 0);
    assert!(stats.dropped >= 995, "{stats:?}");
    assert_eq!(
        sink.shutdown(Duration::from_millis(100)),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 1000
        }
    );
}

#[test]
fn shutdown_flushes_without_waiting_for_the_flush_interval() {
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_read_timeout(Some(LONG)).expect("timeout");
    let options = SinkOptions {
        flush_interval: Duration::from_secs(3600),
        ..SinkOptions::default()
    };
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Udp(
            rx.local_addr().expect("addr").to_string(),
        )),
        options,
    )
    .expect("start");
    let points: Vec<Point> = (0..3).map(point).collect();
    for p in &points {
        sink.send(p);
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 3,
            resent: 0,
            dropped: 0
        }
    );
    let mut buf = vec![0u8; 2048];
    let n = rx.recv(&mut buf).expect("datagram");
    assert_eq!(
        std::str::from_utf8(&buf[..n]).expect("utf-8"),
        expected(&points)
    );
}

#[test]
fn unencodable_points_are_dropped_and_none_counts_nothing() {
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let sink = Sink::start(
        SinkConfig::Telegraf(TelegrafAddr::Udp(
            rx.local_addr().expect("addr").to_string(),
        )),
        SinkOptions::default(),
    )
    .expect("start");
    sink.send(&Point::new("m", 1)); // no fields
    sink.send(&point(1).field("nan", f64::NAN));
    assert_eq!(
        sink.stats(),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 2
        }
    );
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 2
        }
    );

    let none = Sink::start(SinkConfig::None, SinkOptions::default()).expect("start");
    assert_eq!(none.kind(), "none");
    none.send(&point(1));
    none.send(&Point::new("", 1));
    assert_eq!(none.shutdown(LONG), SinkStats::default());
}

#[test]
fn bad_options_and_urls_are_refused_at_start() {
    let zero = SinkOptions {
        queue_capacity: 0,
        ..SinkOptions::default()
    };
    let err = Sink::start(SinkConfig::Stdout, zero).expect_err("zero capacity");
    assert!(matches!(
        err,
        SinkError::InvalidOption {
            name: "queue_capacity",
            ..
        }
    ));
    assert!(err.to_string().contains("queue_capacity = 0"), "{err}");

    let mut config = influx_config("ftp://127.0.0.1:1".parse().expect("url"));
    config.token = "secret".into();
    assert!(
        !format!("{config:?}").contains("secret"),
        "token is redacted"
    );
    let err = Sink::start(SinkConfig::Influx(config), SinkOptions::default()).expect_err("ftp");
    assert!(err.to_string().contains("ftp://127.0.0.1:1"), "{err}");
}

// ---- InfluxDB v2 write API ----

#[derive(Debug, Clone)]
struct Request {
    target: String,
    authorization: Option<String>,
    body: String,
}

/// Serves HTTP/1.1 on 127.0.0.1, answering each request with the next
/// scripted (status, body) (the last one repeats) and recording it.
fn http_server(script: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut writer = conn;
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                continue;
            }
            let mut authorization = None;
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').expect("name: value");
                match name.to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(value.trim().to_owned()),
                    "content-length" => length = value.trim().parse().expect("length"),
                    _ => {}
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).expect("body");
            let target = request_line
                .split_whitespace()
                .nth(1)
                .expect("target")
                .to_owned();
            let n = {
                let mut seen = log.lock().expect("lock");
                seen.push(Request {
                    target,
                    authorization,
                    body: String::from_utf8(body).expect("utf-8"),
                });
                seen.len()
            };
            let (status, text) = script[(n - 1).min(script.len() - 1)];
            let _ = write!(
                writer,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, seen)
}

fn influx_config(url: url::Url) -> InfluxConfig {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the defaults")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    InfluxConfig {
        url,
        org: "my-org".into(),
        bucket: "probes".into(),
        token: "s3cret".into(),
        tls: Arc::new(tls),
    }
}

fn influx_sink(url: &str) -> Sink {
    Sink::start(
        SinkConfig::Influx(influx_config(url.parse().expect("url"))),
        fast_retry(),
    )
    .expect("start")
}

#[test]
fn influx_sink_posts_line_protocol_with_token() {
    let (url, seen) = http_server(vec![(204, "")]);
    let sink = influx_sink(&url);
    assert_eq!(sink.kind(), "influxdb");
    let points: Vec<Point> = (0..20).map(point).collect();
    for p in &points {
        sink.send(p);
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 20,
            resent: 0,
            dropped: 0
        }
    );

    let seen = seen.lock().expect("lock").clone();
    assert!(!seen.is_empty());
    let mut body = String::new();
    for r in &seen {
        let (path, query) = r.target.split_once('?').expect("query");
        assert_eq!(path, "/api/v2/write");
        let mut params: Vec<&str> = query.split('&').collect();
        params.sort_unstable();
        assert_eq!(params, ["bucket=probes", "org=my-org", "precision=ns"]);
        assert_eq!(r.authorization.as_deref(), Some("Token s3cret"));
        for line in influxdb_line_protocol::parse_lines(&r.body) {
            let line = line.expect("body parses as line protocol");
            assert_eq!(line.series.measurement.as_str(), "http_request");
        }
        body.push_str(&r.body);
    }
    assert_eq!(body, expected(&points));
}

#[test]
fn influx_4xx_drops_the_batch() {
    let (url, seen) = http_server(vec![(400, r#"{"code":"invalid","message":"bad line"}"#)]);
    let sink = influx_sink(&url);
    for i in 0..3 {
        sink.send(&point(i));
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 3
        }
    );
    assert_eq!(seen.lock().expect("lock").len(), 1, "a 4xx is not retried");
}

#[test]
fn influx_5xx_is_retried() {
    let (url, seen) = http_server(vec![(503, "busy"), (204, "")]);
    let sink = influx_sink(&url);
    for i in 0..3 {
        sink.send(&point(i));
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 3,
            resent: 0,
            dropped: 0
        }
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body, "the same batch is sent again");
}

#[test]
fn influx_down_then_up_delivers_after_retry() {
    let port = dead_port();
    let sink = influx_sink(&format!("http://127.0.0.1:{port}"));
    sink.send(&point(1));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(
        sink.stats(),
        SinkStats {
            sent: 0,
            resent: 0,
            dropped: 0
        }
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind");
    let (mut conn, _) = listener.accept().expect("retry connects");
    let mut head = [0u8; 4];
    conn.read_exact(&mut head).expect("request");
    assert_eq!(&head, b"POST");
    conn.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        .expect("respond");
    drop(conn);
    wait_until("sent count", || sink.stats().sent == 1);
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 1,
            resent: 0,
            dropped: 0
        }
    );
}

// ---- stdout, checked in a child process ----

const CHILD_ENV: &str = "PROBE_METRICS_STDOUT_CHILD";

#[test]
#[ignore = "child process of stdout_sink_writes_one_line_per_point"]
fn stdout_sink_child() {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "run by its parent test"
    );
    let sink = Sink::start(SinkConfig::Stdout, SinkOptions::default()).expect("start");
    assert_eq!(sink.kind(), "stdout");
    for i in 0..3 {
        sink.send(&point(i));
    }
    assert_eq!(
        sink.shutdown(LONG),
        SinkStats {
            sent: 3,
            resent: 0,
            dropped: 0
        }
    );
}

#[test]
fn stdout_sink_writes_one_line_per_point() {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "stdout_sink_child", "--ignored", "--nocapture"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let ours: String = stdout
        .lines()
        .filter(|l| l.starts_with("http_request,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(ours, expected(&(0..3).map(point).collect::<Vec<_>>()));
}
