//! Helpers for the end-to-end pipeline tests: locate Telegraf and InfluxDB, run them as
//! child processes, send line protocol, query InfluxDB, check histograms and dashboards.

pub mod alerts;
pub mod dashboards;
pub mod histogram;
pub mod http;
pub mod influxdb;
pub mod lineproto;
pub mod procs;
pub mod telegraf;
pub mod tools;
pub mod workspace;
