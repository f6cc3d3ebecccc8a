//! A local HTTP + HTTPS backend with emulated latency, the ground truth for
//! the probes.
//!
//! # Routes
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /health` | 200 `ok` |
//! | `/api/{name}` | JSON (a few hundred bytes) after the service's `latency ± jitter` |
//! | `/delay/{ms}` | 200 after `ms` milliseconds |
//! | `/status/{code}` | that status (100..=599, else 400; a 1xx other than 101 cannot be a final response, hyper turns it into 500) |
//! | `/bytes/{n}` | `n` bytes (at most 100 MiB, else 400) |
//! | `/drip?chunks=N&interval_ms=M` | N chunks of 64 bytes, the first with the headers, then one every M ms (defaults 5 and 100) |
//! | `/flaky` | 503 with probability `fail_rate`, else 200 |
//! | `/truncated` | announces `Content-Length: 1000`, sends 100 bytes, closes: a body error |
//! | `/redirect-loop` | 302 to itself |
//! | `/hang` | never answers; released (connection closed) at shutdown |
//! | `POST /alerts` | a Grafana webhook notification: logged as one line, 200; anything else 400 (logged) |
//! | anything else | 404 |
//!
//! HTTP/1.1 with keep-alive on both listeners; HTTP/2 on HTTPS when the
//! client offers `h2` in ALPN.
//!
//! # Latency model
//!
//! Which phase of a client's timing each knob moves:
//!
//! * **TLS**: `handshake_delay` holds each ClientHello (read with
//!   [`tokio_rustls::LazyConfigAcceptor`]) before the handshake continues, so
//!   it shows up once per *fresh* HTTPS connection and never on a reused one.
//! * **Time to first byte**: `rtt` (before every response's headers, every
//!   route) plus the route's own wait (`/api/{name}` latency, `/delay/{ms}`).
//! * **Body**: `/drip` sends its first chunk with the headers, then one chunk
//!   every `interval_ms`, so the body phase is `(chunks - 1) · interval_ms`.
//! * **DNS and TCP connect: nothing.** The kernel completes the TCP handshake
//!   before the server's `accept`, and name resolution never reaches the
//!   server; kernel latency emulation (netem) is not available here.
//!
//! # In-process use
//!
//! ```no_run
//! let dir = std::env::temp_dir().join("demo-certs-example");
//! let backend = demo_backend::start_in_background(demo_backend::Config {
//!     cert_dir: dir,
//!     ..Default::default()
//! })?;
//! println!("http://{}/health", backend.http_addr.unwrap());
//! backend.shutdown();
//! # Ok::<(), demo_backend::Error>(())
//! ```

pub mod alerts;
pub mod certs;
pub mod cli;
mod config;
mod error;
pub mod healthcheck;
mod routes;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub use config::{
    Config, DEFAULT_FAIL_RATE, DEFAULT_HANDSHAKE_DELAY, DEFAULT_RTT, DEFAULT_SERVICES, Listen,
    ParseError, Service, format_services, parse_duration, parse_fail_rate, parse_hostname,
    parse_services,
};
pub use error::Error;
pub use routes::{DRIP_CHUNK_BYTES, MAX_BYTES, TRUNCATED_ANNOUNCED_BYTES, TRUNCATED_SENT_BYTES};
pub use server::Stats;

use routes::Routes;
use server::{Counters, Shared};

/// A started backend. Shuts down on [`Running::shutdown`] or on drop.
#[derive(Debug)]
pub struct Running {
    /// Bound address of the HTTP listener, if enabled.
    pub http_addr: Option<SocketAddr>,
    /// Bound address of the HTTPS listener, if enabled.
    pub https_addr: Option<SocketAddr>,
    /// Absolute path of the CA certificate clients should trust.
    pub ca_pem_path: PathBuf,
    stop: watch::Sender<bool>,
    drained: Option<mpsc::Receiver<()>>,
    counters: Arc<Counters>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, closes connections (giving in-flight requests up to
    /// one second) and, for [`start_in_background`], waits for the thread.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Stops like [`Running::shutdown`] and waits until every connection is
    /// closed (at most about one second). For use inside a runtime.
    pub async fn shutdown_and_wait(mut self) {
        self.stop.send_replace(true);
        if let Some(mut drained) = self.drained.take() {
            let limit = server::DRAIN_TIMEOUT + std::time::Duration::from_millis(500);
            let _ = tokio::time::timeout(limit, drained.recv()).await;
        }
    }

    /// Counts of connections, TLS handshakes and requests seen so far.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// `http://ADDR` of the HTTP listener, if enabled.
    pub fn http_url(&self) -> Option<String> {
        self.http_addr.map(|a| format!("http://{a}"))
    }

    /// `https://localhost:PORT` of the HTTPS listener (a name the certificate covers).
    pub fn https_url(&self) -> Option<String> {
        self.https_addr
            .map(|a| format!("https://localhost:{}", a.port()))
    }

    /// The ready line, the binary's only line on stdout (stable, for scripts):
    /// `demo-backend: listening http=ADDR https=ADDR ca=PATH` (`off` for a
    /// disabled listener). In-process users read the addresses from [`Running`].
    pub fn listening_line(&self) -> String {
        format!(
            "demo-backend: listening http={} https={} ca={}",
            Listen(self.http_addr),
            Listen(self.https_addr),
            self.ca_pem_path.display()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the backend on the current tokio runtime: prepares certificates
/// (only if HTTPS is enabled), binds the listeners and spawns the servers.
pub async fn start(config: Config) -> Result<Running, Error> {
    if !(0.0..=1.0).contains(&config.fail_rate) {
        return Err(Error::Config(format!(
            "fail rate {} is outside 0..=1",
            config.fail_rate
        )));
    }
    let http = match config.http {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let https = match config.https {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let cert_dir = config.cert_dir.clone();
    let hostnames = config.hostnames.clone();
    let valid_days = config.cert_valid_days;
    let (ca_pem_path, tls) = if https.is_some() {
        let cert =
            tokio::task::spawn_blocking(move || certs::ensure(&cert_dir, &hostnames, valid_days))
                .await
                .map_err(|e| Error::Cert(e.to_string()))??;
        (cert.ca_pem_path.clone(), Some(tls_config(cert)?))
    } else {
        let dir = std::path::absolute(&cert_dir).map_err(|source| Error::CertIo {
            path: cert_dir.clone(),
            source,
        })?;
        (dir.join(certs::CA_PEM), None)
    };

    let (stop, stop_rx) = watch::channel(false);
    let (alive, drained) = mpsc::channel(1);
    let counters = Arc::new(Counters::default());
    let shared = Shared {
        routes: Arc::new(Routes {
            rtt: config.rtt,
            services: config.services.clone(),
            fail_rate: config.fail_rate,
            stop: stop_rx.clone(),
        }),
        counters: counters.clone(),
        stop: stop_rx,
        alive,
    };
    let mut running = Running {
        http_addr: None,
        https_addr: None,
        ca_pem_path,
        stop,
        drained: Some(drained),
        counters,
        thread: None,
    };
    if let Some(listener) = http {
        running.http_addr = Some(listener.local_addr()?);
        tokio::spawn(server::accept_http(listener, shared.clone()));
    }
    if let (Some(listener), Some(tls)) = (https, tls) {
        running.https_addr = Some(listener.local_addr()?);
        tokio::spawn(server::accept_https(
            listener,
            tls,
            config.handshake_delay,
            shared,
        ));
    }
    Ok(running)
}

/// Like [`start`], on a thread of its own with a multi-thread runtime; for
/// callers without a runtime (e.g. tests of blocking clients). Dropping the
/// returned [`Running`] stops the server and joins the thread.
pub fn start_in_background(config: Config) -> Result<Running, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("demo-backend")
        .enable_all()
        .build()?;
    let (stop, mut stop_rx) = watch::channel(false);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("demo-backend".into())
        .spawn(move || {
            runtime.block_on(async move {
                let running = match start(config).await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                let view = (
                    running.http_addr,
                    running.https_addr,
                    running.ca_pem_path.clone(),
                    running.counters.clone(),
                );
                let _ = started_tx.send(Ok(view));
                let _ = stop_rx.wait_for(|s| *s).await;
                running.shutdown_and_wait().await;
            });
        })?;
    let (http_addr, https_addr, ca_pem_path, counters) = match started_rx.recv() {
        Ok(Ok(view)) => view,
        Ok(Err(e)) => {
            let _ = thread.join();
            return Err(e);
        }
        Err(_) => {
            let _ = thread.join();
            return Err(Error::Io(std::io::Error::other(
                "backend thread ended during start",
            )));
        }
    };
    Ok(Running {
        http_addr,
        https_addr,
        ca_pem_path,
        stop,
        drained: None,
        counters,
        thread: Some(thread),
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

fn tls_config(cert: certs::ServerCert) -> Result<Arc<rustls::ServerConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Cert(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .map_err(|e| Error::Cert(e.to_string()))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}
