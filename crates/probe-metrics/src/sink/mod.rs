//! Non-blocking sinks: callers encode and enqueue, one thread writes.
//!
//! [`Sink::send`] encodes the point on the caller's thread and `try_send`s
//! the line into a bounded queue; it never waits. One background thread
//! (started by [`Sink::start`]) takes lines off the queue in batches (up to
//! [`SinkOptions::max_batch_bytes`], or whatever arrived within
//! [`SinkOptions::flush_interval`] of the batch's first line) and writes them.
//! While a target is down the thread retries the batch in hand with
//! exponential backoff and leaves the queue to fill; points are dropped only
//! when the queue is full. Every drop is counted in [`Sink::stats`] and
//! logged (a `tracing` warning) at most once per [`SinkOptions::log_interval`] per
//! reason.
//!
//! What `sent` means per transport: HTTP (InfluxDB v2 write API, also Telegraf's
//! `influxdb_v2_listener`) counts the points of batches answered 2xx; a batch unanswered within
//! [`SinkOptions::response_timeout`] is sent again (at-least-once). TCP counts
//! lines written to the socket: a stalled receiver keeps its connection and the
//! write resumes at the first unwritten byte, until nothing could be written for
//! [`SinkOptions::stall_reconnect_after`]; a broken or given-up connection resumes on a
//! new one at the start of the cut line (counted in [`SinkStats::resent`]), and
//! what the old one held in kernel buffers is lost with it: our unsent send
//! buffer (about one batch) plus whatever the receiver's kernel had taken in
//! but the receiver had not read yet (its receive buffer, not bounded here). UDP
//! counts datagrams the kernel accepted while the listener was not refusing;
//! after a refusal points are dropped (and counted) until a probe datagram,
//! sent once a second, is no longer refused. UDP never confirms delivery.

mod addr;
mod transport;
mod worker;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use addr::{ParseTelegrafAddrError, TelegrafAddr};
pub use transport::url_for_logs;

use crate::point::Point;
use worker::Shared;

/// Where a [`Sink`] writes.
#[derive(Debug, Clone)]
pub enum SinkConfig {
    /// Telegraf `socket_listener` over UDP or TCP.
    Telegraf(TelegrafAddr),
    /// InfluxDB v2 write API.
    Influx(InfluxConfig),
    /// One line per point on stdout.
    Stdout,
    /// Discard everything (nothing is counted as sent or dropped).
    None,
}

/// InfluxDB v2 write API settings.
#[derive(Clone)]
pub struct InfluxConfig {
    /// Base URL, e.g. `http://localhost:8086`; `/api/v2/write` is appended.
    pub url: url::Url,
    /// Organization name or ID.
    pub org: String,
    /// Bucket name or ID.
    pub bucket: String,
    /// API token, sent as `Authorization: Token <token>`.
    pub token: String,
    /// TLS settings for `https` URLs (its crypto provider must be set).
    pub tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for InfluxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InfluxConfig")
            .field("url", &self.url.as_str())
            .field("org", &self.org)
            .field("bucket", &self.bucket)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Tuning for a [`Sink`]; start from [`SinkOptions::default`].
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Lines the queue holds before `send` drops (default 10 000). The
    /// thread also holds the batch it is writing (up to `max_batch_bytes`).
    pub queue_capacity: usize,
    /// Longest a line waits for its batch to fill before it is written
    /// (default 200 ms).
    pub flush_interval: Duration,
    /// Batch size limit: one TCP write or HTTP body (default 256 KiB).
    pub max_batch_bytes: usize,
    /// UDP datagram payload limit; lines are split into datagrams on line
    /// boundaries, a longer line goes alone (default 1400 bytes).
    pub udp_payload_bytes: usize,
    /// TCP / HTTP connect timeout (default 2 s).
    pub connect_timeout: Duration,
    /// TCP: how long one write may wait for a stalled receiver before the
    /// sink reports the stall and tries again on the same connection (default 5 s).
    pub write_timeout: Duration,
    /// TCP: after this long without a byte written, a stalled connection is
    /// given up (closed with a reset) and a new one opened after a fresh
    /// lookup: the peer may have vanished without a reset (a container
    /// re-created on a new IP, a partition), which the kernel notices only
    /// after ~15 min. Must exceed `write_timeout`; the default (45 s) lets a
    /// receiver frozen for up to half a minute keep its connection.
    pub stall_reconnect_after: Duration,
    /// HTTP: how long to wait for a batch's acknowledgement (default 60 s). A
    /// batch not acknowledged by then is sent again; if the receiver had in fact
    /// accepted it, it then arrives twice (the at-least-once window).
    pub response_timeout: Duration,
    /// First retry delay; doubles after each failure (default 100 ms).
    pub backoff_min: Duration,
    /// Retry delay cap (default 5 s).
    pub backoff_max: Duration,
    /// At most one warning per reason per this interval (default 10 s); the
    /// warnings are `tracing` events, written by the program's subscriber.
    pub log_interval: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            flush_interval: Duration::from_millis(200),
            max_batch_bytes: 256 * 1024,
            udp_payload_bytes: 1400,
            connect_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(5),
            stall_reconnect_after: Duration::from_secs(45),
            response_timeout: Duration::from_secs(60),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            log_interval: Duration::from_secs(10),
        }
    }
}

/// Cumulative counts of a [`Sink`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Points written to the socket, accepted by InfluxDB (2xx), or written
    /// to stdout.
    pub sent: u64,
    /// Of `sent`, points written a second time on a new TCP connection because
    /// the old one was lost part-way through their line.
    pub resent: u64,
    /// Points lost: queue full, unencodable, refused by the target, or still
    /// unsent when [`Sink::shutdown`]'s deadline passed.
    pub dropped: u64,
}

/// Why a [`Sink`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// An option is out of range.
    #[error("invalid sink option {name} = {value}: {expected}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// Value given.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// The InfluxDB URL cannot be used.
    #[error("invalid InfluxDB URL {url:?}: {reason}")]
    InvalidInfluxUrl {
        /// The URL given, without user name and password.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The HTTP client for InfluxDB could not be built.
    #[error("cannot build the InfluxDB HTTP client: {0}")]
    HttpClient(String),
    /// The background thread could not be started.
    #[error("cannot start the sink thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// A running sink. `Sync`: share it by reference between threads and tasks.
#[derive(Debug)]
pub struct Sink {
    kind: &'static str,
    tx: Option<SyncSender<String>>,
    shared: Arc<Shared>,
    worker: Option<Worker>,
}

#[derive(Debug)]
struct Worker {
    handle: JoinHandle<()>,
    /// Disconnects when the worker thread ends (in a Mutex so `Sink` is `Sync`).
    done: std::sync::Mutex<mpsc::Receiver<()>>,
}

/// How long a dropped-without-shutdown sink keeps flushing in the background.
const DROP_FLUSH: Duration = Duration::from_secs(2);

impl Sink {
    /// Starts the sink's background thread (none for [`SinkConfig::None`]).
    /// No async runtime is needed. Unreachable targets are not an error here:
    /// the thread keeps retrying.
    pub fn start(config: SinkConfig, options: SinkOptions) -> Result<Sink, SinkError> {
        check_options(&options)?;
        let kind = match &config {
            SinkConfig::Telegraf(_) => "telegraf",
            SinkConfig::Influx(_) => "influxdb",
            SinkConfig::Stdout => "stdout",
            SinkConfig::None => "none",
        };
        let shared = Arc::new(Shared::new(kind, &options));
        if matches!(config, SinkConfig::None) {
            return Ok(Sink {
                kind,
                tx: None,
                shared,
                worker: None,
            });
        }
        if let SinkConfig::Influx(influx) = &config {
            transport::check_influx_url(&influx.url)?;
        }
        let (tx, rx) = mpsc::sync_channel::<String>(options.queue_capacity);
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), SinkError>>(1);
        let (done_tx, done) = mpsc::sync_channel::<()>(0);
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("{kind}-sink"))
            .spawn(move || {
                let _done = done_tx;
                // The transport (e.g. the HTTP client) is built on this thread.
                match transport::build(config, &options) {
                    Ok(t) => {
                        let _ = ready_tx.send(Ok(()));
                        worker::run(&rx, t, &thread_shared, &options);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(SinkError::Spawn)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = handle.join();
                return Err(e);
            }
            Err(_) => {
                let _ = handle.join();
                return Err(SinkError::Spawn(std::io::Error::other(
                    "sink thread ended during start-up",
                )));
            }
        }
        Ok(Sink {
            kind,
            tx: Some(tx),
            shared,
            worker: Some(Worker {
                handle,
                done: std::sync::Mutex::new(done),
            }),
        })
    }

    /// `"telegraf"`, `"influxdb"`, `"stdout"` or `"none"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Encodes and enqueues a point; never blocks. An unencodable point or
    /// a full queue counts as dropped.
    pub fn send(&self, point: &Point) {
        let Some(tx) = &self.tx else { return };
        self.shared.attempted.fetch_add(1, Ordering::Relaxed);
        let mut line = String::with_capacity(point.line_len_hint());
        if let Err(e) = point.encode_into(&mut line) {
            self.shared.drop_points(1);
            self.shared.logs.unencodable.record(1, |n| {
                format!(
                    "{} sink dropped {n} unencodable point(s), latest: {e}",
                    self.kind
                )
            });
            return;
        }
        match tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.drop_points(1);
                self.shared.logs.queue_full.record(1, |n| {
                    format!(
                        "{} sink queue is full ({} points); dropped {n} point(s)",
                        self.kind, self.shared.queue_capacity
                    )
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                self.shared.drop_points(1);
                self.shared.logs.stopped.record(1, |n| {
                    format!(
                        "{} sink thread has stopped; dropped {n} point(s)",
                        self.kind
                    )
                });
            }
        }
    }

    /// Cumulative counts so far.
    pub fn stats(&self) -> SinkStats {
        SinkStats {
            sent: self.shared.sent.load(Ordering::Relaxed),
            resent: self.shared.resent.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
        }
    }

    /// Flushes what is queued, taking at most `deadline`, and stops the
    /// thread. Points still unsent then are counted as dropped.
    pub fn shutdown(mut self, deadline: Duration) -> SinkStats {
        let Some(worker) = self.worker.take() else {
            return self.stats();
        };
        let now = Instant::now();
        self.shared
            .stop_at(now.checked_add(deadline).unwrap_or(now));
        self.tx = None;
        let done = worker
            .done
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match done.recv_timeout(deadline) {
            Err(RecvTimeoutError::Timeout) => {} // leave it; it stops at the deadline
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let _ = worker.handle.join();
            }
        }
        let sent = self.shared.sent.load(Ordering::Relaxed);
        let attempted = self.shared.attempted.load(Ordering::Relaxed);
        SinkStats {
            sent,
            resent: self.shared.resent.load(Ordering::Relaxed),
            dropped: attempted.saturating_sub(sent),
        }
    }
}

impl Drop for Sink {
    /// Without [`Sink::shutdown`], the thread flushes for at most 2 s in the
    /// background; nothing waits for it.
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.shared.stop_at(Instant::now() + DROP_FLUSH);
        }
    }
}

fn check_options(o: &SinkOptions) -> Result<(), SinkError> {
    let invalid = |name, value: String, expected| {
        Err(SinkError::InvalidOption {
            name,
            value,
            expected,
        })
    };
    if o.queue_capacity == 0 {
        return invalid("queue_capacity", "0".into(), "at least 1");
    }
    if o.udp_payload_bytes == 0 {
        return invalid("udp_payload_bytes", "0".into(), "at least 1");
    }
    if o.max_batch_bytes == 0 {
        return invalid("max_batch_bytes", "0".into(), "at least 1");
    }
    if o.stall_reconnect_after <= o.write_timeout {
        return invalid(
            "stall_reconnect_after",
            format!("{:?}", o.stall_reconnect_after),
            "longer than write_timeout",
        );
    }
    if o.backoff_max < o.backoff_min {
        return invalid(
            "backoff_max",
            format!("{:?}", o.backoff_max),
            "at least backoff_min",
        );
    }
    Ok(())
}
