//! Where does the time of a round go? The sync/async x fresh/reused table,
//! with percentiles, computed from probe output (line protocol) or InfluxDB,
//! and compared with a latency model of the demo backend.
//!
//! Pipeline: [`Samples`] (from [`parse_line_protocol`] or [`influx`]) →
//! [`Report`] (HDR histogram statistics, optional [`LatencyModel`]) →
//! [`render`] (plain text) or JSON; [`html`] draws the dashboards' panels
//! into one self-contained HTML file.

pub mod cli;
pub mod html;
pub mod influx;
pub mod lineproto;
pub mod model;
pub mod render;
pub mod report;
pub mod samples;
pub mod scenario;
pub mod stats;

pub use lineproto::{LineProtocolError, parse_line_protocol};
pub use model::{LatencyModel, Service};
pub use render::render;
pub use report::Report;
pub use samples::{Phase, Samples};
pub use scenario::Scenario;
