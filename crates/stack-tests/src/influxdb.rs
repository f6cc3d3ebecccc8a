//! A throwaway InfluxDB 1.x server (temp dir, loopback ports) and an InfluxQL client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::http::{self, urlencode};
use crate::procs::{Proc, free_tcp_port, retry_on_port_clash, wait_until};

const TIMEOUT: Duration = Duration::from_secs(30);

/// `influxd` running on a free 127.0.0.1 port with its data in `dir`, with
/// authentication on: every request carries `Authorization: Token USER:PASSWORD`,
/// the header InfluxDB 2 wants (1.8 takes its user and password in that form).
#[derive(Debug)]
pub struct InfluxServer {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub version: String,
    /// `USER:PASSWORD` of the admin user, for `Authorization: Token …`.
    pub token: String,
}

impl InfluxServer {
    /// Writes a config with every listener but HTTP disabled, starts `influxd`, waits for
    /// `/ping`; picks other ports when one was taken meanwhile.
    pub fn start(bin: &Path, dir: &Path) -> anyhow::Result<Self> {
        retry_on_port_clash(|| Self::start_once(bin, dir))
    }

    fn start_once(bin: &Path, dir: &Path) -> anyhow::Result<Self> {
        let http_port = free_tcp_port()?;
        let rpc_port = free_tcp_port()?;
        let d = dir.display();
        let config = format!(
            r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{d}/meta"
  logging-enabled = false

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[retention]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = true
  log-enabled = false
  flux-enabled = false
  pprof-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
"#
        );
        let config_path = dir.join("influxdb.conf");
        std::fs::write(&config_path, config)?;
        let mut proc = Proc::spawn(
            "influxd",
            Command::new(bin)
                .arg("run")
                .arg("-config")
                .arg(&config_path),
            &dir.join("influxd.log"),
        )?;
        let addr: SocketAddr = ([127, 0, 0, 1], http_port).into();
        let mut version = String::new();
        wait_until("influxd /ping", Duration::from_secs(60), || {
            proc.ensure_running()?;
            let Ok(r) = http::request(addr, "GET", "/ping", None, Duration::from_secs(2)) else {
                return Ok(false);
            };
            version = r.header("x-influxdb-version").unwrap_or("?").to_owned();
            Ok(r.status == 204)
        })?;
        // The first admin user may be created without credentials.
        let token = "admin:pipeline-test-password".to_owned();
        let create = "CREATE USER admin WITH PASSWORD 'pipeline-test-password' WITH ALL PRIVILEGES";
        let path = format!("/query?q={}", urlencode(create));
        let r = http::request(addr, "POST", &path, None, TIMEOUT)?;
        if r.status != 200 {
            bail!("creating the admin user: HTTP {}: {}", r.status, r.text());
        }
        Ok(Self {
            proc,
            addr,
            version,
            token,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs InfluxQL against `db`; fails on any error in the response.
    pub fn query(&self, db: &str, q: &str) -> anyhow::Result<Value> {
        let path = format!("/query?db={}&epoch=ms&q={}", urlencode(db), urlencode(q));
        let auth = format!("Token {}", self.token);
        let headers = [("Authorization", auth.as_str())];
        let r = http::request_with(self.addr, "POST", &path, &headers, None, TIMEOUT)?;
        let v: Value = serde_json::from_slice(&r.body)
            .with_context(|| format!("query {q:?}: HTTP {} body {:?}", r.status, r.text()))?;
        if r.status != 200 {
            bail!("query {q:?}: HTTP {}: {}", r.status, r.text());
        }
        if let Some(e) = v.get("error") {
            bail!("query {q:?}: {e}");
        }
        for result in v["results"].as_array().into_iter().flatten() {
            if let Some(e) = result.get("error") {
                bail!("query {q:?}: {e}");
            }
        }
        Ok(v)
    }

    pub fn create_database(&self, db: &str) -> anyhow::Result<()> {
        self.query(db, &format!("CREATE DATABASE \"{db}\""))?;
        Ok(())
    }

    /// `SELECT count(field) FROM measurement` over all time (0 when there is no data).
    pub fn count(
        &self,
        db: &str,
        measurement: &str,
        field: &str,
        filter: &str,
    ) -> anyhow::Result<u64> {
        let q = format!("SELECT count(\"{field}\") FROM \"{measurement}\" WHERE time > 0 {filter}");
        let v = self.query(db, &q)?;
        Ok(series(&v)
            .first()
            .and_then(|s| s.values.first())
            .and_then(|row| row.get(1))
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }
}

/// One series of a query result.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Value>>,
}

impl Series {
    /// Index of a column by name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// All series of all statements of a `/query` response.
pub fn series(response: &Value) -> Vec<Series> {
    let mut out = Vec::new();
    for result in response["results"].as_array().into_iter().flatten() {
        for s in result["series"].as_array().into_iter().flatten() {
            let tags = s["tags"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let columns = s["columns"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let values = s["values"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| r.as_array().cloned().unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            out.push(Series {
                name: s["name"].as_str().unwrap_or_default().to_owned(),
                tags,
                columns,
                values,
            });
        }
    }
    out
}
