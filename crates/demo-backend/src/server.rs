//! Listeners, TLS (with the ClientHello hold) and per-connection serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::LazyConfigAcceptor;

use crate::routes::Routes;

/// How long open connections get to finish after shutdown starts.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Upper bound on a TLS handshake (on top of the configured hold).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Counters of what the server saw; ground truth for connection reuse.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) http_connections: AtomicU64,
    pub(crate) tls_handshakes: AtomicU64,
    pub(crate) requests: AtomicU64,
}

/// A snapshot of the server's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// TCP connections accepted on the plain HTTP listener.
    pub http_connections: u64,
    /// TLS handshakes completed on the HTTPS listener (one per fresh connection).
    pub tls_handshakes: u64,
    /// Requests received on either listener.
    pub requests: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            http_connections: self.http_connections.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

/// What every accept loop and connection task shares.
#[derive(Clone)]
pub struct Shared {
    pub routes: Arc<Routes>,
    pub counters: Arc<Counters>,
    pub stop: watch::Receiver<bool>,
    /// Held by every task; the server is drained when all clones are gone.
    pub alive: mpsc::Sender<()>,
}

/// Accepts plain HTTP connections until shutdown.
pub async fn accept_http(listener: TcpListener, shared: Shared) {
    let mut stop = shared.stop.clone();
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => r,
            _ = stopped(&mut stop) => return,
        };
        match tcp {
            Ok((tcp, _peer)) => {
                let _ = tcp.set_nodelay(true);
                shared
                    .counters
                    .http_connections
                    .fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(tcp, shared.clone()));
            }
            Err(e) => accept_error(&e).await,
        }
    }
}

/// Accepts HTTPS connections until shutdown; each ClientHello is held `handshake_delay`.
pub async fn accept_https(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    handshake_delay: Duration,
    shared: Shared,
) {
    let mut stop = shared.stop.clone();
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => r,
            _ = stopped(&mut stop) => return,
        };
        match tcp {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let (tls, shared) = (tls.clone(), shared.clone());
                tokio::spawn(async move {
                    let mut stop = shared.stop.clone();
                    let handshake = async {
                        let start =
                            LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp)
                                .await?;
                        if !handshake_delay.is_zero() {
                            tokio::time::sleep(handshake_delay).await;
                        }
                        start.into_stream(tls).await
                    };
                    let limit = HANDSHAKE_TIMEOUT.saturating_add(handshake_delay);
                    let stream = tokio::select! {
                        r = tokio::time::timeout(limit, handshake) => r,
                        _ = stopped(&mut stop) => return,
                    };
                    match stream {
                        Ok(Ok(stream)) => {
                            shared
                                .counters
                                .tls_handshakes
                                .fetch_add(1, Ordering::Relaxed);
                            serve(stream, shared).await;
                        }
                        Ok(Err(e)) => tracing::warn!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::warn!("TLS handshake with {peer} timed out"),
                    }
                });
            }
            Err(e) => accept_error(&e).await,
        }
    }
}

/// Serves HTTP/1.1 (and HTTP/2 when negotiated) on one connection until it
/// closes or shutdown drains it.
async fn serve<I>(io: I, shared: Shared)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Shared {
        routes,
        counters,
        mut stop,
        alive,
    } = shared;
    let service = service_fn(move |req| {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        routes.clone().handle(req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn).await;
        }
    }
    drop(alive);
}

/// Accept errors (e.g. too many open files) are logged; back off briefly.
async fn accept_error(e: &std::io::Error) {
    tracing::warn!("accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Resolves once shutdown has begun (or the server is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
