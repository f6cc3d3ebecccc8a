//! A throwaway InfluxDB 1.x server (temp dir, loopback ports) and an InfluxQL client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use test_support::net::free_tcp_port;
use test_support::procs::{Proc, retry_on_port_clash, wait_until};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The InfluxDB the tests run (built by `scripts/install-tools.sh`): the newest 1.x, which
/// serves InfluxQL and the v2 write API. The compose stack runs 2.9.1 (see README).
pub const INFLUXDB_VERSION: &str = "1.8.10";

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
    client: reqwest::blocking::Client,
}

impl InfluxServer {
    /// Writes a config with every listener but HTTP disabled, starts `influxd`, waits for
    /// `/ping`; picks other ports when one was taken meanwhile. Fails unless it is
    /// InfluxDB [`INFLUXDB_VERSION`].
    pub fn start(bin: &Path, dir: &Path) -> anyhow::Result<Self> {
        let server = retry_on_port_clash(|| Self::start_once(bin, dir))?;
        server.ensure_version(bin)?;
        Ok(server)
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
        let client = crate::client::client(TIMEOUT)?;
        let ping = crate::client::client(Duration::from_secs(2))?;
        let mut version = String::new();
        wait_until("influxd /ping", Duration::from_secs(60), || {
            proc.ensure_running()?;
            let Ok(r) = ping.get(format!("http://{addr}/ping")).send() else {
                return Ok(false);
            };
            version = r
                .headers()
                .get("x-influxdb-version")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            Ok(r.status() == reqwest::StatusCode::NO_CONTENT)
        })?;
        // The first admin user may be created without credentials.
        let token = "admin:pipeline-test-password".to_owned();
        let create = "CREATE USER admin WITH PASSWORD 'pipeline-test-password' WITH ALL PRIVILEGES";
        let r = client
            .post(endpoint(addr, "/query", &[("q", create)])?)
            .send()?;
        let status = r.status();
        if status != reqwest::StatusCode::OK {
            bail!("creating the admin user: HTTP {status}: {}", r.text()?);
        }
        Ok(Self {
            proc,
            addr,
            version,
            token,
            client,
        })
    }

    /// Fails unless the server is the InfluxDB the tests are meant to run
    /// ([`INFLUXDB_VERSION`]), as the Telegraf under test must be the compose image's.
    pub fn ensure_version(&self, bin: &Path) -> anyhow::Result<()> {
        let version = self.version.trim_start_matches('v');
        if version != INFLUXDB_VERSION {
            bail!(
                "influxd {version} at {}, the tests run {INFLUXDB_VERSION}; run `make tools` or set INFLUXD_BIN",
                bin.display()
            );
        }
        Ok(())
    }

    /// `Authorization: Token USER:PASSWORD`.
    pub fn auth_header(&self) -> String {
        format!("Token {}", self.token)
    }

    /// Writes line protocol through the 1.x `/write` endpoint; returns the HTTP status and body.
    pub fn write_v1(&self, db: &str, body: Vec<u8>) -> anyhow::Result<(u16, String)> {
        let r = self
            .client
            .post(endpoint(
                self.addr,
                "/write",
                &[("db", db), ("precision", "ns")],
            )?)
            .header("Authorization", self.auth_header())
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body)
            .send()?;
        Ok((r.status().as_u16(), r.text()?))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs InfluxQL against `db`; fails on any error in the response.
    pub fn query(&self, db: &str, q: &str) -> anyhow::Result<Value> {
        let r = self
            .client
            .post(endpoint(
                self.addr,
                "/query",
                &[("db", db), ("epoch", "ms"), ("q", q)],
            )?)
            .header("Authorization", self.auth_header())
            .send()?;
        let status = r.status();
        let body = r.text()?;
        let v: Value = serde_json::from_str(&body)
            .with_context(|| format!("query {q:?}: HTTP {status} body {body:?}"))?;
        if status != reqwest::StatusCode::OK {
            bail!("query {q:?}: HTTP {status}: {body}");
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

/// `http://ADDR/PATH?params`, the parameters URL-encoded.
fn endpoint(addr: SocketAddr, path: &str, params: &[(&str, &str)]) -> anyhow::Result<url::Url> {
    Ok(url::Url::parse_with_params(
        &format!("http://{addr}{path}"),
        params,
    )?)
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
