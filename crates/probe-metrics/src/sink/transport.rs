//! Transports: how one batch of lines reaches its target.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::ops::Range;
use std::time::Duration;

use super::{InfluxConfig, SinkConfig, SinkError, SinkOptions, TelegrafAddr};

/// Result of one delivery attempt.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// The batch is finished with: `sent` points delivered, `dropped` lost.
    Done {
        sent: usize,
        dropped: usize,
        error: Option<String>,
    },
    /// Nothing delivered; try the whole batch again later.
    Retry(String),
}

impl Delivery {
    fn sent(n: usize) -> Self {
        Self::Done {
            sent: n,
            dropped: 0,
            error: None,
        }
    }

    fn dropped(n: usize, error: String) -> Self {
        Self::Done {
            sent: 0,
            dropped: n,
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
            payload_bytes: o.udp_payload_bytes,
            buf: Vec::with_capacity(o.udp_payload_bytes),
        }),
        SinkConfig::Telegraf(TelegrafAddr::Tcp(target)) => Box::new(Tcp {
            target,
            stream: None,
            connect_timeout: o.connect_timeout,
            write_timeout: o.write_timeout,
            buf: Vec::new(),
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

struct Udp {
    target: String,
    /// The socket and when its address was resolved.
    socket: Option<(UdpSocket, std::time::Instant)>,
    payload_bytes: usize,
    buf: Vec<u8>,
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
}

impl Transport for Udp {
    fn write(&mut self, lines: &[String]) -> Delivery {
        let (socket, resolved) = match self.socket.take() {
            Some((s, at)) if at.elapsed() < UDP_RESOLVE_EVERY => (s, at),
            _ => match self.connect() {
                Ok(s) => (s, std::time::Instant::now()),
                Err(e) => return Delivery::Retry(format!("udp://{}: {e}", self.target)),
            },
        };
        let (mut sent, mut dropped, mut error) = (0, 0, None);
        for range in pack_datagrams(lines, self.payload_bytes) {
            let n = range.len();
            join_lines(&mut self.buf, &lines[range]);
            match socket.send(&self.buf) {
                Ok(_) => sent += n,
                Err(e) => {
                    dropped += n;
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
            error,
        }
    }
}

struct Tcp {
    target: String,
    stream: Option<TcpStream>,
    connect_timeout: Duration,
    write_timeout: Duration,
    buf: Vec<u8>,
}

impl Tcp {
    fn connect(&self) -> Result<TcpStream, String> {
        let mut last = String::new();
        for addr in resolve(&self.target)? {
            match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                Ok(s) => {
                    // Best effort: latency tweaks only.
                    let _ = s.set_nodelay(true);
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

impl Transport for Tcp {
    fn write(&mut self, lines: &[String]) -> Delivery {
        let mut stream = match self.stream.take() {
            Some(s) if !peer_closed(&s) => s,
            _ => match self.connect() {
                Ok(s) => s,
                Err(e) => return Delivery::Retry(e),
            },
        };
        join_lines(&mut self.buf, lines);
        match stream.write_all(&self.buf).and_then(|()| stream.flush()) {
            Ok(()) => {
                self.stream = Some(stream);
                Delivery::sent(lines.len())
            }
            Err(e) => Delivery::Retry(format!("write to tcp://{} failed: {e}", self.target)),
        }
    }
}

/// Checks an InfluxDB base URL before the sink starts.
pub(crate) fn check_influx_url(url: &url::Url) -> Result<(), SinkError> {
    let fail = |reason| {
        Err(SinkError::InvalidInfluxUrl {
            url: url.to_string(),
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
            url: c.url.to_string(),
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
    authorization: String,
    buf: Vec<u8>,
}

/// Longest response body quoted in a log line.
const MAX_LOGGED_BODY: usize = 500;

impl Influx {
    fn new(c: InfluxConfig, o: &SinkOptions) -> Result<Self, SinkError> {
        let write_url = influx_write_url(&c)?;
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured((*c.tls).clone())
            .connect_timeout(o.connect_timeout)
            .timeout(o.write_timeout)
            // Metrics go to a known InfluxDB, never through an env proxy.
            .no_proxy()
            .build()
            .map_err(|e| SinkError::HttpClient(e.to_string()))?;
        Ok(Self {
            client,
            write_url,
            authorization: format!("Token {}", c.token),
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
            Err(e) => return Delivery::Retry(format!("POST {} failed: {e}", self.write_url)),
        };
        let status = response.status();
        if status.is_success() {
            return Delivery::sent(lines.len());
        }
        let mut body = response.text().unwrap_or_default();
        if body.len() > MAX_LOGGED_BODY {
            let mut end = MAX_LOGGED_BODY;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            body.push('…');
        }
        let why = format!("POST {} returned {status}: {}", self.write_url, body.trim());
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
    fn influx_url_must_be_http() {
        for bad in ["ftp://h", "mailto:x@y"] {
            assert!(matches!(
                influx_write_url(&influx(bad)),
                Err(SinkError::InvalidInfluxUrl { .. })
            ));
        }
    }
}
