//! The sinks under a stalled, reset or absent receiver on 127.0.0.1: no half
//! line and no duplicate through a stall, bounded loss on a reset (counted in
//! `resent`), and honest UDP counters through an outage.

use std::collections::HashSet;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use probe_metrics::{Point, Sink, SinkConfig, SinkOptions, SinkStats};

const LONG: Duration = Duration::from_secs(60);
/// Points per TCP test: several MB, far more than the socket buffers hold.
const POINTS: i64 = 60_000;
/// How long the receiver stops reading: well past the sink's write timeout.
const STALL: Duration = Duration::from_millis(1500);
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);

/// A point of ~150 bytes whose `seq` field identifies it.
fn point(seq: i64) -> Point {
    Point::new("http_request", 1_700_000_000_000_000_000 + seq)
        .tag("scenario", "sync-fresh")
        .tag("target", "stalled receiver")
        .tag("domain", "127.0.0.1")
        .field("seq", seq)
        .field("total_ms", 12.5)
        .field("ttfb_ms", 0.164)
        .field("body_ms", 0.25)
}

fn tcp_options() -> SinkOptions {
    SinkOptions {
        queue_capacity: POINTS as usize,
        write_timeout: WRITE_TIMEOUT,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        ..SinkOptions::default()
    }
}

/// A listener whose connections have a small receive buffer, so a receiver
/// that stops reading stalls the sender quickly.
fn small_buffer_listener() -> TcpListener {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
    socket.bind(&addr.into()).expect("bind");
    socket.listen(8).expect("listen");
    socket.into()
}

/// The `seq` of every complete line of `data`; panics on a line that does not
/// parse. A trailing line without `\n` is returned apart.
fn parse_all(data: &[u8]) -> (Vec<i64>, Option<String>) {
    let text = std::str::from_utf8(data).expect("utf-8");
    let (complete, tail) = match text.rfind('\n') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text),
    };
    let mut seqs = Vec::new();
    for line in influxdb_line_protocol::parse_lines(complete) {
        let line = line.unwrap_or_else(|e| panic!("a line does not parse: {e}"));
        let seq = line
            .field_set
            .iter()
            .find(|(k, _)| k.as_str() == "seq")
            .map(|(_, v)| match v {
                influxdb_line_protocol::FieldValue::I64(n) => *n,
                other => panic!("seq is {other:?}"),
            })
            .expect("seq field");
        seqs.push(seq);
    }
    (seqs, (!tail.is_empty()).then(|| tail.to_owned()))
}

fn start_tcp(listener: &TcpListener) -> Sink {
    let addr = format!("tcp://{}", listener.local_addr().expect("addr"));
    let sink = Sink::start(
        SinkConfig::Telegraf(addr.parse().expect("addr")),
        tcp_options(),
    )
    .expect("start");
    for seq in 0..POINTS {
        sink.send(&point(seq));
    }
    sink
}

/// Waits until the sink has stopped making progress: its write is blocked.
fn wait_until_blocked(sink: &Sink) {
    thread::sleep(STALL);
    let before = sink.stats();
    assert!(
        before.sent < POINTS as u64,
        "the receiver never stalled the sink ({before:?}): the test needs more data"
    );
}

#[test]
fn tcp_stall_longer_than_the_write_timeout_loses_and_repeats_nothing() {
    let listener = small_buffer_listener();
    let sink = start_tcp(&listener);
    let (mut conn, _) = listener.accept().expect("accept");
    // Not reading: the sink's writes time out again and again.
    wait_until_blocked(&sink);
    let reader = thread::spawn(move || {
        let mut data = Vec::new();
        conn.read_to_end(&mut data).expect("read");
        data
    });
    let stats = sink.shutdown(LONG);
    let data = reader.join().expect("reader");
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    assert!(
        listener.accept().is_err(),
        "a stall must not open a second connection"
    );

    let (seqs, tail) = parse_all(&data);
    assert_eq!(tail, None, "no half line");
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "no line twice");
    assert_eq!(
        stats,
        SinkStats {
            sent: POINTS as u64,
            resent: 0,
            dropped: 0
        }
    );
    assert_eq!(seqs.len() as u64, stats.sent, "sent = lines received");
}

#[test]
fn tcp_reset_mid_stall_loses_at_most_one_batch_and_counts_what_it_resends() {
    let listener = small_buffer_listener();
    let sink = start_tcp(&listener);
    let (mut first, _) = listener.accept().expect("accept");
    // Read a little (most likely ending mid-line), stall, then reset.
    let mut head = vec![0u8; 100_000];
    first.read_exact(&mut head).expect("first bytes");
    wait_until_blocked(&sink);
    socket2::SockRef::from(&first)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER 0");
    drop(first); // RST: what the kernels held for this connection is gone
    let (mut second, _) = listener.accept().expect("the sink reconnects");
    let reader = thread::spawn(move || {
        let mut data = Vec::new();
        second.read_to_end(&mut data).expect("read");
        data
    });
    let stats = sink.shutdown(LONG);
    let data = reader.join().expect("reader");

    let (before, _cut) = parse_all(&head);
    // The new connection starts at a line boundary: every line parses.
    let (after, tail) = parse_all(&data);
    assert_eq!(tail, None, "the new connection ends on a whole line");
    let received: HashSet<i64> = before.iter().chain(&after).copied().collect();
    let duplicates = before.len() + after.len() - received.len();
    let lost = POINTS as usize - received.len();
    let batch_lines =
        SinkOptions::default().max_batch_bytes / point(0).to_line().expect("line").len();
    eprintln!(
        "reset: {stats:?}, lost {lost}, duplicates {duplicates}, one batch = {batch_lines} lines"
    );
    assert_eq!(stats.sent, POINTS as u64);
    assert_eq!(stats.dropped, 0);
    assert!(
        stats.resent <= 1,
        "only the cut line is written again: {stats:?}"
    );
    assert!(
        duplicates as u64 <= stats.resent,
        "{duplicates} duplicate(s) but resent = {}",
        stats.resent
    );
    assert!(
        lost <= batch_lines,
        "lost {lost} lines, more than one batch ({batch_lines})"
    );
}

/// Accepts the next connection, waiting at most `LONG`.
fn accept_within(listener: &TcpListener, what: &str) -> std::net::TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let end = Instant::now() + LONG;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).expect("blocking");
                listener.set_nonblocking(false).expect("blocking");
                return conn;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < end => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

/// Reads until EOF or an error; the bytes read and whether a reset ended it.
fn read_until_closed(mut conn: std::net::TcpStream) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return (data, false),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (data, true),
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn tcp_receiver_that_never_reads_again_is_given_up_for_a_new_connection() {
    let listener = small_buffer_listener();
    let addr = format!("tcp://{}", listener.local_addr().expect("addr"));
    let sink = Sink::start(
        SinkConfig::Telegraf(addr.parse().expect("addr")),
        SinkOptions {
            stall_reconnect_after: Duration::from_secs(1),
            ..tcp_options()
        },
    )
    .expect("start");
    for seq in 0..POINTS {
        sink.send(&point(seq));
    }
    // Like a peer that vanished without a reset: the connection stays, nothing is read.
    let (_silent, _) = listener.accept().expect("accept");
    let second = accept_within(&listener, "no reconnect after a long stall");
    let reader = thread::spawn(move || read_until_closed(second));
    let stats = sink.shutdown(LONG);
    let (data, reset) = reader.join().expect("reader");
    assert!(!reset, "the new connection ends normally");
    let (seqs, tail) = parse_all(&data);
    assert_eq!(tail, None, "the new connection carries whole lines only");
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "no line twice");
    assert_eq!(seqs.last(), Some(&(POINTS - 1)), "the rest arrives");
    assert_eq!(stats.sent, POINTS as u64, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert!(stats.resent <= 1, "only the cut line again: {stats:?}");
}

#[test]
fn tcp_stop_mid_line_resets_instead_of_sending_a_line_prefix() {
    let listener = small_buffer_listener();
    let sink = start_tcp(&listener);
    let (mut conn, _) = listener.accept().expect("accept");
    // Read a little (the sink's write then most likely stalls mid-line), stall.
    let mut data = vec![0u8; 100_000];
    conn.read_exact(&mut data).expect("first bytes");
    wait_until_blocked(&sink);
    // Stopped while a write is stalled.
    let stats = sink.shutdown(Duration::from_millis(100));
    assert!(stats.dropped > 0, "stopped before the end: {stats:?}");
    // Reading now would let the write under way finish its batch: first let
    // it time out and the stopped thread drop the transport.
    thread::sleep(WRITE_TIMEOUT * 5);
    let (rest, reset) = read_until_closed(conn);
    data.extend_from_slice(&rest);
    let (_, tail) = parse_all(&data);
    assert!(
        reset || tail.is_none(),
        "a normal close delivered a line prefix: {tail:?}"
    );
}

/// A UDP port nothing listens on (bound, then released).
fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

/// Sends one point per millisecond for `d`, starting at `seq`; the next seq.
fn send_for(sink: &Sink, mut seq: i64, d: Duration) -> i64 {
    let end = Instant::now() + d;
    while Instant::now() < end {
        sink.send(&point(seq));
        seq += 1;
        thread::sleep(Duration::from_millis(1));
    }
    seq
}

#[test]
fn udp_outage_counts_lost_points_as_dropped_not_sent() {
    let port = free_udp_port();
    let sink = Sink::start(
        SinkConfig::Telegraf(format!("udp://127.0.0.1:{port}").parse().expect("addr")),
        SinkOptions {
            flush_interval: Duration::from_millis(5),
            ..SinkOptions::default()
        },
    )
    .expect("start");
    // Nothing listens for 2 s, then a receiver does for 2 s.
    let seq = send_for(&sink, 0, Duration::from_secs(2));
    let rx = UdpSocket::bind(("127.0.0.1", port)).expect("bind the receiver");
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let reader = thread::spawn(move || {
        let mut seqs = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while let Ok(n) = rx.recv(&mut buf) {
            // Empty datagrams are the sink's probes.
            let (got, tail) = parse_all(&buf[..n]);
            assert_eq!(tail, None, "datagrams hold whole lines");
            seqs.extend(got);
        }
        seqs
    });
    let total = send_for(&sink, seq, Duration::from_secs(2));
    let stats = sink.shutdown(LONG);
    let received = reader.join().expect("reader").len() as u64;

    eprintln!("udp outage: {total} points, {stats:?}, received {received}");
    assert_eq!(
        stats.sent + stats.dropped,
        total as u64,
        "every point accounted"
    );
    assert!(
        stats.dropped > 0,
        "the outage's points are counted as dropped"
    );
    assert!(received > 0, "sending resumed once the listener was back");
    let unaccounted = stats.sent.saturating_sub(received);
    assert!(
        unaccounted * 100 <= total as u64,
        "{unaccounted} points counted as sent but never received, over 1% of {total}"
    );
}
