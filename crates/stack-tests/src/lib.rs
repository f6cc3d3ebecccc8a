//! Helpers for the end-to-end pipeline tests: locate Telegraf and InfluxDB, run them as
//! child processes, send line protocol, query InfluxDB, check histograms and dashboards.
//! Points, scenarios and error classes come from the workspace crates (`probe_metrics`,
//! `probe::schema`, `reqwest_timing`); shared test helpers from `test_support`.

pub mod alerts;
pub mod client;
pub mod dashboards;
pub mod histogram;
pub mod influxdb;
pub mod schema_check;
pub mod telegraf;
pub mod tools;
pub mod workspace;
