//! Transports: how one batch of lines reaches its target.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::ops::Range;
use std::time::{Duration, Instant};

use super::{InfluxConfig, SinkConfig, SinkError, SinkOptions, TelegrafAddr};

/// Result of one delivery attempt.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// The batch is finished with: `sent` points delivered (`resent` of them
    /// written a second time), `dropped` lost.
    Done {
        sent: usize,
        dropped: usize,
        resent: usize,
        error: Option<String>,
    },
    /// Not delivered yet; try again after a backoff (a transport that keeps
    /// state continues where it stopped, others send the whole batch again).
    Retry(String),
    /// The receiver is slow, the connection is kept: try again at once.
    Stalled(String),
}

impl Delivery {
    fn sent(n: usize) -> Self {
        Self::Done {
            sent: n,
            dropped: 0,
            resent: 0,
            error: None,
        }
    }

    fn dropped(n: usize, error: String) -> Self {
        Self::Done {
            sent: 0,
            dropped: n,
            resent: 0,
            error: Some(error),
        }
    }
}

/// Writes batches of encoded lines (each ending in `\n`).
pub(crate) trait Transport: Send {
    fn write(&mut self, lines: &[String]) -> Delivery;
}

/// Builds the transport for `config` (never `SinkConfig::None`).
pub(crate) fn build(config: SinkConfig, o: &SinkOptions) -> Result<Box<dyn Transport>, SinkError> {
    Ok(match config {
        SinkConfig::Telegraf(TelegrafAddr::Udp(target)) => Box::new(Udp {
            target,
            socket: None,
            down: None,
            payload_bytes: o.udp_payload_bytes,
            buf: Vec::with_capacity(o.udp_payload_bytes),
        }),
        SinkConfig::Telegraf(TelegrafAddr::Tcp(target)) => Box::new(Tcp {
            target,
            stream: None,
            connect_timeout: o.connect_timeout,
            write_timeout: o.write_timeout,
            stall_reconnect_after: o.stall_reconnect_after,
            last_write: Instant::now(),
            send_buffer_bytes: o.max_batch_bytes,
            buf: Vec::new(),
            progress: None,
        }),
        SinkConfig::Influx(c) => Box::new(Influx::new(c, o)?),
        SinkConfig::Stdout | SinkConfig::None => Box::new(Stdout { buf: Vec::new() }),
    })
}

fn join_lines(buf: &mut Vec<u8>, lines: &[String]) {
    buf.clear();
    for line in lines {
        buf.extend_from_slice(line.as_bytes());
    }
}

fn resolve(target: &str) -> Result<Vec<SocketAddr>, String> {
    match target.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            if addrs.is_empty() {
                Err(format!("{target} resolves to no address"))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(format!("cannot resolve {target}: {e}")),
    }
}

/// Groups consecutive lines into datagrams of at most `max_bytes`, split on
/// line boundaries; a line longer than that goes alone.
pub(crate) fn pack_datagrams(lines: &[String], max_bytes: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, line) in lines.iter().enumerate() {
        if i > start && bytes + line.len() > max_bytes {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += line.len();
    }
    if start < lines.len() {
        out.push(start..lines.len());
    }
    out
}

/// A connected UDP socket is re-resolved this often: a datagram to an address that
/// moved (a recreated Telegraf container) fails silently, so time is the only signal.
const UDP_RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// While the UDP listener is down, one probe datagram is sent this often.
const UDP_PROBE_EVERY: Duration = Duration::from_secs(1);

/// How long a probe datagram waits for the ICMP "port unreachable" that
/// refuses it (one round trip; on loopback it is immediate).
const UDP_PROBE_WAIT: Duration = Duration::from_millis(50);

/// UDP: fire and forget. `sent` counts datagrams the kernel accepted; the
/// kernel or the receiver may still drop one silently. A refused datagram
/// (`ECONNREFUSED`, reported on the next send) marks the listener down: points
/// are then dropped and counted, and one empty probe datagram per second
/// looks for the listener's return.
struct Udp {
    target: String,
    /// The socket and when its address was resolved.
    socket: Option<(UdpSocket, Instant)>,
    /// Set while the listener refuses datagrams: when the last probe was sent.
    down: Option<Instant>,
    payload_bytes: usize,
    buf: Vec<u8>,
}

fn is_refused(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::ConnectionRefused
}

impl Udp {
    fn connect(&self) -> Result<UdpSocket, String> {
        let addr = resolve(&self.target)?[0];
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket =
            UdpSocket::bind(local).map_err(|e| format!("cannot open a UDP socket: {e}"))?;
        socket
            .connect(addr)
            .map_err(|e| format!("cannot connect UDP socket to {addr}: {e}"))?;
        Ok(socket)
    }

    /// Sends one empty datagram on a fresh socket (re-resolved) and waits for
    /// its refusal; the socket if nothing refused it.
    fn probe(&self) -> Result<UdpSocket, String> {
        let socket = self.connect()?;
        let refused = || format!("udp://{} refuses datagrams (nothing listens)", self.target);
        match socket.send(&[]) {
            Err(e) if is_refused(&e) => return Err(refused()),
            Err(e) => return Err(format!("probe to udp://{} failed: {e}", self.target)),
            Ok(_) => {}
        }
        socket
            .set_read_timeout(Some(UDP_PROBE_WAIT))
            .map_err(|e| format!("cannot set a UDP read timeout: {e}"))?;
        // Nobody answers a probe: a refusal is the only thing recv can see.
        match socket.recv(&mut [0u8; 1]) {
            Err(e) if is_refused(&e) => Err(refused()),
            _ => Ok(socket),
        }
    }

    /// The socket to send on, or what becomes of the batch: dropped while the
    /// listener is down, retried while the address does not resolve.
    fn socket(&mut self, lines: usize) -> Result<(UdpSocket, Instant), Delivery> {
        if let Some(probed) = self.down {
            if probed.elapsed() < UDP_PROBE_EVERY {
                return Err(Delivery::dropped(
                    lines,
                    format!(
                        "udp://{} is down (refused); probing once per second",
                        self.target
                    ),
                ));
            }
            self.down = Some(Instant::now());
            let socket = self.probe().map_err(|e| Delivery::dropped(lines, e))?;
            self.down = None;
            return Ok((socket, Instant::now()));
        }
        match self.socket.take() {
            Some((s, at)) if at.elapsed() < UDP_RESOLVE_EVERY => Ok((s, at)),
            _ => match self.connect() {
                Ok(s) => Ok((s, Instant::now())),
                Err(e) => Err(Delivery::Retry(format!("udp://{}: {e}", self.target))),
            },
        }
    }
}

impl Transport for Udp {
    fn write(&mut self, lines: &[String]) -> Delivery {
        let (socket, resolved) = match self.socket(lines.len()) {
            Ok(s) => s,
            Err(delivery) => return delivery,
        };
        // A refusal of the previous batch's last datagram is pending here.
        if let Ok(Some(e)) = socket.take_error()
            && is_refused(&e)
        {
            self.down = Some(Instant::now());
            return Delivery::dropped(
                lines.len(),
                format!(
                    "udp://{} refused a datagram: {e}; listener down",
                    self.target
                ),
            );
        }
        let (mut sent, mut dropped, mut error) = (0, 0, None);
        for range in pack_datagrams(lines, self.payload_bytes) {
            let n = range.len();
            if self.down.is_some() {
                dropped += n;
                continue;
            }
            join_lines(&mut self.buf, &lines[range]);
            match socket.send(&self.buf) {
                Ok(_) => sent += n,
                Err(e) => {
                    dropped += n;
                    if is_refused(&e) {
                        self.down = Some(Instant::now());
                    }
                    error.get_or_insert_with(|| {
                        format!("send to udp://{} failed: {e}", self.target)
                    });
                }
            }
        }
        // Keep the socket unless it failed (re-resolve next time).
        if error.is_none() {
            self.socket = Some((socket, resolved));
        }
        Delivery::Done {
            sent,
            dropped,
            resent: 0,
            error,
        }
    }
}

/// TCP: a batch is written in order on one connection. A write that times out
/// (a stalled receiver) keeps the connection and the next attempt continues at
/// the first unwritten byte, until no byte could be written for
/// `stall_reconnect_after`: then, as after a connection error, the connection
/// is dropped and a new one opened (after a fresh lookup); the new
/// connection starts at the beginning of the line the old one cut, which is
/// then counted as re-sent. A connection given up (or the transport dropped)
/// mid-line is closed with a reset, so the peer never gets a line's prefix.
/// Lines the kernel had accepted on the old connection are not re-sent (they
/// may be lost with it: our send buffer, plus what the receiver's kernel
/// received but the receiver never read).
struct Tcp {
    target: String,
    stream: Option<TcpStream>,
    connect_timeout: Duration,
    write_timeout: Duration,
    stall_reconnect_after: Duration,
    /// When the batch in hand last made progress: a byte written, the batch
    /// started or its connection opened.
    last_write: Instant,
    /// Kernel send buffer: the most a lost connection can take with it.
    send_buffer_bytes: usize,
    buf: Vec<u8>,
    /// The batch in hand: bytes of `buf` already written, lines re-sent.
    progress: Option<(usize, usize)>,
}

impl Tcp {
    fn connect(&self) -> Result<TcpStream, String> {
        let mut last = String::new();
        for addr in resolve(&self.target)? {
            match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                Ok(s) => {
                    // Best effort: latency tweaks only.
                    let _ = s.set_nodelay(true);
                    // What the kernel holds unsent is lost with a broken connection:
                    // keep it to about one batch (Linux doubles the value set).
                    let _ =
                        socket2::SockRef::from(&s).set_send_buffer_size(self.send_buffer_bytes / 2);
                    s.set_write_timeout(Some(self.write_timeout))
                        .map_err(|e| format!("cannot set write timeout: {e}"))?;
                    return Ok(s);
                }
                Err(e) => last = format!("cannot connect to tcp://{}: {e}", self.target),
            }
        }
        Err(last)
    }
}

impl Tcp {
    /// A stalled write: keep `stream`, or give it up once nothing was written
    /// for `stall_reconnect_after`.
    fn stalled(&mut self, stream: TcpStream) -> Delivery {
        let (written, _) = self.progress.unwrap_or_default();
        let idle = self.last_write.elapsed();
        if idle >= self.stall_reconnect_after {
            close_mid_line(&stream, &self.buf, written);
            return Delivery::Retry(format!(
                "tcp://{} took nothing for {idle:?} (receiver gone?); reconnecting after a fresh lookup",
                self.target
            ));
        }
        self.stream = Some(stream);
        Delivery::Stalled(format!(
            "tcp://{} took nothing for {:?} (receiver stalled); keeping the connection, {} byte(s) of the batch left",
            self.target,
            self.write_timeout,
            self.buf.len() - written
        ))
    }
}

/// Prepares `stream` to be closed with a reset if byte `written` of `buf` is
/// not at a line boundary: a normal close would let the kernel still deliver
/// the cut line's prefix, which the receiver would parse as a broken line.
fn close_mid_line(stream: &TcpStream, buf: &[u8], written: usize) {
    if line_start(buf, written) != written {
        // Best effort: without it the close is a normal one.
        let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
    }
}

impl Drop for Tcp {
    fn drop(&mut self) {
        if let (Some(stream), Some((written, _))) = (&self.stream, self.progress) {
            close_mid_line(stream, &self.buf, written);
        }
    }
}

/// True if the peer has closed (or reset) the connection. Checked before
/// writing so a batch is not written into a connection that is already gone.
fn peer_closed(s: &TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let r = s.peek(&mut [0u8; 1]);
    let unblocked = s.set_nonblocking(false).is_ok();
    match r {
        Ok(0) => true,
        Ok(_) => !unblocked,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock || !unblocked,
    }
}

/// The start of the line holding byte `at` of `buf` (lines end in `\n`).
pub(crate) fn line_start(buf: &[u8], at: usize) -> usize {
    buf[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

impl Transport for Tcp {
    fn write(&mut self, lines: &[String]) -> Delivery {
        let (mut written, mut resent) = match self.progress {
            Some(p) => p,
            None => {
                join_lines(&mut self.buf, lines);
                self.last_write = Instant::now();
                (0, 0)
            }
        };
        let mut stream = match self.stream.take() {
            Some(s) if !peer_closed(&s) => s,
            _ => {
                // A new connection starts at a line boundary.
                let start = line_start(&self.buf, written);
                if start < written {
                    resent += 1;
                }
                written = start;
                self.progress = Some((written, resent));
                match self.connect() {
                    Ok(s) => {
                        self.last_write = Instant::now();
                        s
                    }
                    Err(e) => return Delivery::Retry(e),
                }
            }
        };
        while written < self.buf.len() {
            let started = Instant::now();
            match stream.write(&self.buf[written..]) {
                Ok(0) => {
                    self.progress = Some((written, resent));
                    return Delivery::Retry(format!(
                        "write to tcp://{} failed: connection closed; reconnecting",
                        self.target
                    ));
                }
                // A write that waited out the timeout returns what it got rid of.
                Ok(n)
                    if started.elapsed() >= self.write_timeout && written + n < self.buf.len() =>
                {
                    written += n;
                    self.last_write = Instant::now();
                    self.progress = Some((written, resent));
                    return self.stalled(stream);
                }
                Ok(n) => {
                    written += n;
                    self.last_write = Instant::now();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // SO_SNDTIMEO expired (EAGAIN). The kernel's own ETIMEDOUT
                // (TimedOut: retransmissions gave up) is a broken connection.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // Not a failure: the receiver is slow. Keep the connection.
                    self.progress = Some((written, resent));
                    return self.stalled(stream);
                }
                Err(e) => {
                    // The stream is dropped: the next attempt reconnects.
                    self.progress = Some((written, resent));
                    return Delivery::Retry(format!(
                        "write to tcp://{} failed: {e}; reconnecting",
                        self.target
                    ));
                }
            }
        }
        self.progress = None;
        self.stream = Some(stream);
        Delivery::Done {
            sent: lines.len(),
            dropped: 0,
            resent,
            error: None,
        }
    }
}

/// `url` as it may appear in logs: without user name and password.
pub fn url_for_logs(url: &url::Url) -> String {
    let mut shown = url.clone();
    // Fails only for URLs that cannot have credentials: nothing to strip.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Checks an InfluxDB base URL before the sink starts.
pub(crate) fn check_influx_url(url: &url::Url) -> Result<(), SinkError> {
    let fail = |reason| {
        Err(SinkError::InvalidInfluxUrl {
            url: url_for_logs(url),
            reason,
        })
    };
    if !matches!(url.scheme(), "http" | "https") {
        return fail("scheme must be http or https");
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return fail("expected http(s)://HOST[:PORT][/PATH]");
    }
    Ok(())
}

/// `{base}/api/v2/write?org=..&bucket=..&precision=ns`.
pub(crate) fn influx_write_url(c: &InfluxConfig) -> Result<url::Url, SinkError> {
    check_influx_url(&c.url)?;
    let mut url = c.url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| SinkError::InvalidInfluxUrl {
            url: url_for_logs(&c.url),
            reason: "cannot be a base URL",
        })?
        .pop_if_empty()
        .extend(["api", "v2", "write"]);
    url.query_pairs_mut()
        .append_pair("org", &c.org)
        .append_pair("bucket", &c.bucket)
        .append_pair("precision", "ns");
    Ok(url)
}

struct Influx {
    client: reqwest::blocking::Client,
    write_url: url::Url,
    /// `write_url` without credentials, for logs.
    shown_url: String,
    authorization: String,
    connect_timeout: Duration,
    timeout: Duration,
    buf: Vec<u8>,
}

/// Longest response body quoted in a log line.
const MAX_LOGGED_BODY: usize = 200;

/// Why a request got no response, naming the cause: connection refused, connect
/// or response timed out (with the limit that applied), TLS, or the innermost
/// error's message.
pub(crate) fn request_failure(
    e: &reqwest::Error,
    connect_timeout: Duration,
    timeout: Duration,
) -> String {
    use std::error::Error as _;
    let mut innermost = e.to_string();
    let mut io_kind = None;
    let mut tls = false;
    let mut source = e.source();
    while let Some(s) = source {
        innermost = s.to_string();
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        // rustls' errors arrive wrapped in io::Errors, which `source` skips.
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(s);
        while let Some(e) = inner {
            tls |= e.is::<rustls::Error>();
            inner = e
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|e| e as &(dyn std::error::Error + 'static));
        }
        source = s.source();
    }
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        // A connect timeout is also `is_timeout`: name the limit that applied.
        if e.is_connect() {
            return format!("connect timed out (limit {connect_timeout:?})");
        }
        return format!("timed out (limit {timeout:?})");
    }
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return format!("connection refused ({innermost})");
    }
    if tls {
        return format!("TLS: {innermost}");
    }
    if e.is_connect() {
        return format!("cannot connect: {innermost}");
    }
    innermost
}

/// `body` on one line, cut to [`MAX_LOGGED_BODY`] bytes.
fn log_body(body: &str) -> String {
    let mut one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.len() > MAX_LOGGED_BODY {
        let mut end = MAX_LOGGED_BODY;
        while !one_line.is_char_boundary(end) {
            end -= 1;
        }
        one_line.truncate(end);
        one_line.push('…');
    }
    one_line
}

impl Influx {
    fn new(c: InfluxConfig, o: &SinkOptions) -> Result<Self, SinkError> {
        let write_url = influx_write_url(&c)?;
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured((*c.tls).clone())
            .connect_timeout(o.connect_timeout)
            .timeout(o.response_timeout)
            // Metrics go to a known InfluxDB, never through an env proxy.
            .no_proxy()
            .build()
            .map_err(|e| SinkError::HttpClient(e.to_string()))?;
        Ok(Self {
            client,
            shown_url: url_for_logs(&write_url),
            write_url,
            authorization: format!("Token {}", c.token),
            connect_timeout: o.connect_timeout,
            timeout: o.response_timeout,
            buf: Vec::new(),
        })
    }
}

impl Transport for Influx {
    fn write(&mut self, lines: &[String]) -> Delivery {
        join_lines(&mut self.buf, lines);
        let response = self
            .client
            .post(self.write_url.clone())
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(self.buf.clone())
            .send();
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                let why = request_failure(&e, self.connect_timeout, self.timeout);
                return Delivery::Retry(format!("POST {} failed: {why}", self.shown_url));
            }
        };
        let status = response.status();
        if status.is_success() {
            return Delivery::sent(lines.len());
        }
        let body = log_body(&response.text().unwrap_or_default());
        let why = format!("POST {} returned HTTP {status}: {body}", self.shown_url);
        // 5xx and 429 (InfluxDB Cloud's rate limit) are worth another try; other 4xx are not.
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Delivery::Retry(why)
        } else {
            Delivery::dropped(lines.len(), why)
        }
    }
}

struct Stdout {
    buf: Vec<u8>,
}

impl Transport for Stdout {
    fn write(&mut self, lines: &[String]) -> Delivery {
        join_lines(&mut self.buf, lines);
        let mut out = std::io::stdout().lock();
        match out.write_all(&self.buf).and_then(|()| out.flush()) {
            Ok(()) => Delivery::sent(lines.len()),
            Err(e) => Delivery::dropped(lines.len(), format!("write to stdout failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lens: &[usize]) -> Vec<String> {
        lens.iter()
            .map(|n| format!("{}\n", "x".repeat(n - 1)))
            .collect()
    }

    #[test]
    fn packs_on_line_boundaries() {
        assert_eq!(
            pack_datagrams(&lines(&[600, 600, 600]), 1400),
            vec![0..2, 2..3]
        );
        assert_eq!(pack_datagrams(&lines(&[700, 700]), 1400), vec![0..2]);
        assert_eq!(pack_datagrams(&lines(&[700, 701]), 1400), vec![0..1, 1..2]);
        assert_eq!(
            pack_datagrams(&lines(&[10, 2000, 10]), 1400),
            vec![0..1, 1..2, 2..3]
        );
        assert_eq!(pack_datagrams(&lines(&[2000]), 1400), vec![0..1]);
        assert!(pack_datagrams(&[], 1400).is_empty());
    }

    #[test]
    fn a_new_connection_starts_at_the_cut_lines_start() {
        let buf = b"a=1\nbb=2\nccc=3\n";
        assert_eq!(line_start(buf, 0), 0);
        assert_eq!(line_start(buf, 2), 0);
        assert_eq!(line_start(buf, 4), 4, "a boundary stays");
        assert_eq!(line_start(buf, 7), 4);
        assert_eq!(line_start(buf, buf.len()), buf.len());
    }

    fn influx(url: &str) -> InfluxConfig {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the defaults")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        InfluxConfig {
            url: url.parse().expect("url"),
            org: "my org".into(),
            bucket: "b&x".into(),
            token: "t".into(),
            tls: std::sync::Arc::new(tls),
        }
    }

    fn client(timeout: Duration) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured((*influx("http://h").tls).clone())
            .timeout(timeout)
            .no_proxy()
            .build()
            .expect("client")
    }

    #[test]
    fn request_failures_name_refused_and_timed_out() {
        let timeout = Duration::from_millis(200);
        let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = dead.local_addr().expect("addr").port();
        drop(dead);
        let e = client(timeout)
            .post(format!("http://127.0.0.1:{port}/api/v2/write"))
            .send()
            .expect_err("nothing listens");
        let why = request_failure(&e, timeout, timeout);
        assert!(why.starts_with("connection refused"), "{why}");

        // Accepts, never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/api/v2/write", silent.local_addr().expect("addr"));
        let e = client(timeout).post(url).send().expect_err("no answer");
        assert_eq!(
            request_failure(&e, Duration::from_secs(7), timeout),
            "timed out (limit 200ms)"
        );
    }

    #[test]
    fn request_failures_name_the_connect_limit() {
        // A listener with a full accept queue (backlog 0, one connection
        // pending): Linux drops further SYNs, so the next connect hangs.
        let listener = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .expect("socket");
        let bound: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        listener.bind(&bound.into()).expect("bind");
        listener.listen(0).expect("listen");
        let addr = listener
            .local_addr()
            .expect("addr")
            .as_socket()
            .expect("inet");
        let fill: Vec<_> = (0..3)
            .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok())
            .collect();
        assert!(!fill.is_empty(), "the accept queue took a connection");
        let connect_timeout = Duration::from_millis(200);
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured((*influx("http://h").tls).clone())
            .connect_timeout(connect_timeout)
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .expect("client");
        let e = client
            .post(format!("http://{addr}/api/v2/write"))
            .send()
            .expect_err("the SYN is dropped");
        assert_eq!(
            request_failure(&e, connect_timeout, Duration::from_secs(30)),
            "connect timed out (limit 200ms)"
        );
    }

    #[test]
    fn request_failures_name_tls() {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("self-signed certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let server = std::sync::Arc::new(
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server config"),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "https://{}/api/v2/write",
            listener.local_addr().expect("addr")
        );
        let handshake = std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().expect("accept");
            let mut conn = rustls::ServerConnection::new(server).expect("connection");
            // Fails once the client rejects the certificate.
            let _ = conn.complete_io(&mut tcp);
        });
        // `client` trusts no root: the self-signed certificate is refused.
        let timeout = Duration::from_secs(10);
        let e = client(timeout).post(url).send().expect_err("untrusted");
        let why = request_failure(&e, timeout, timeout);
        assert!(why.starts_with("TLS: "), "{why}");
        assert!(why.contains("UnknownIssuer"), "{why}");
        handshake.join().expect("server thread");
    }

    #[test]
    fn logged_bodies_are_one_line_of_at_most_200_bytes() {
        assert_eq!(
            log_body("{\"code\": \"invalid\",\n \"message\": \"x\"}\n"),
            "{\"code\": \"invalid\", \"message\": \"x\"}"
        );
        let long = log_body(&"é".repeat(300));
        assert!(long.len() <= MAX_LOGGED_BODY + '…'.len_utf8());
        assert!(long.ends_with('…'));
    }

    #[test]
    fn influx_write_url_keeps_base_path_and_encodes_params() {
        let u = influx_write_url(&influx("http://h:8086")).expect("valid");
        assert_eq!(
            u.as_str(),
            "http://h:8086/api/v2/write?org=my+org&bucket=b%26x&precision=ns"
        );
        let u = influx_write_url(&influx("https://h/influx/")).expect("valid");
        assert_eq!(
            u.as_str(),
            "https://h/influx/api/v2/write?org=my+org&bucket=b%26x&precision=ns"
        );
    }

    #[test]
    fn urls_in_logs_carry_no_credentials() {
        let url = "https://user:s3cret@h:8086/x?org=o".parse().expect("url");
        assert_eq!(url_for_logs(&url), "https://h:8086/x?org=o");
        let url = "http://token@h/".parse().expect("url");
        assert_eq!(url_for_logs(&url), "http://h/");
        let e = influx_write_url(&influx("ftp://user:s3cret@h")).expect_err("ftp");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn influx_url_must_be_http() {
        for bad in ["ftp://h", "mailto:x@y"] {
            assert!(matches!(
                influx_write_url(&influx(bad)),
                Err(SinkError::InvalidInfluxUrl { .. })
            ));
        }
    }
}
