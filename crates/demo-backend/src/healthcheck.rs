//! `--healthcheck`: is a backend answering on this machine? (The container
//! image has no curl.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::certs::CA_PEM;

/// Whole-check time limit (covers a configured `--rtt` of a few seconds).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Checks `GET /health` on `http` (or on `https`, trusting `<cert_dir>/ca.pem`,
/// when `http` is `None`) and that `<cert_dir>/ca.pem` exists.
/// Returns every reason the check failed.
pub async fn check(
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    cert_dir: &Path,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let ca = cert_dir.join(CA_PEM);
    if !ca.is_file() {
        problems.push(format!("{} does not exist", ca.display()));
    }
    let result = match (http, https) {
        (Some(addr), _) => probe(addr, None).await,
        (None, Some(addr)) => probe(addr, Some(&ca)).await,
        (None, None) => Err("both --http and --https are off: nothing to check".to_owned()),
    };
    if let Err(e) = result {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

async fn probe(addr: SocketAddr, ca: Option<&Path>) -> Result<(), String> {
    let addr = loopback_for(addr);
    if addr.port() == 0 {
        return Err("cannot check port 0: give the actual port".to_owned());
    }
    let scheme = if ca.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{addr}/health");
    let status = tokio::time::timeout(TIMEOUT, async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        match ca {
            None => get_health(tcp).await,
            Some(ca) => {
                let tls = tls_connect(tcp, ca).await?;
                get_health(tls).await
            }
        }
    })
    .await
    .map_err(|_| format!("GET {url}: no answer within {}s", TIMEOUT.as_secs()))?
    .map_err(|e| format!("GET {url}: {e}"))?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!("GET {url}: status {status}, expected 200"))
    }
}

/// A wildcard listen address is checked on the loopback of the same family.
fn loopback_for(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

async fn tls_connect(
    tcp: TcpStream,
    ca: &Path,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let ca =
        CertificateDer::from_pem_file(ca).map_err(|e| format!("reading {}: {e}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())
}

/// Sends a minimal HTTP/1.1 request and returns the status code.
async fn get_health<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> Result<u16, String> {
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before a status line".to_owned());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {:?}", line.lines().next().unwrap_or("")))
}
