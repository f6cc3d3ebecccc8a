//! Metric points, exact InfluxDB line protocol, and non-blocking sinks.
//!
//! Build a [`Point`], then either encode it yourself ([`Point::to_line`],
//! [`Point::encode_into`]) or hand it to a [`Sink`], which encodes it on the
//! caller's thread and queues the line for one background thread that writes
//! to Telegraf (UDP or TCP), the InfluxDB v2 write API, or stdout.
//! [`Sink::send`] never blocks: when the queue is full the point is dropped
//! and counted in [`Sink::stats`].
//!
//! ```
//! use probe_metrics::Point;
//! let line = Point::new("http_request", 1_700_000_000_000_000_000)
//!     .tag("scenario", "sync-fresh")
//!     .field("total_ms", 12.5)
//!     .field("status_code", 200i64)
//!     .to_line()
//!     .unwrap();
//! assert_eq!(line, "http_request,scenario=sync-fresh total_ms=12.5,status_code=200i 1700000000000000000\n");
//! ```

mod app;
mod encode;
mod point;
pub mod rate_limit;
mod sink;

pub use app::{SOURCE_APP, SinkReporter, call_points, with_timings};
pub use encode::{EncodeError, Part};
pub use point::{FieldValue, Point, now_ns};
pub use sink::{
    InfluxConfig, ParseTelegrafAddrError, Sink, SinkConfig, SinkError, SinkOptions, SinkStats,
    TelegrafAddr, url_for_logs,
};
