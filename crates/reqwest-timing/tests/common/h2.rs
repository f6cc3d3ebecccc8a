//! A test server on 127.0.0.1 speaking HTTP/1.1 and HTTP/2 (hyper's auto
//! builder: ALPN `h2` over TLS, the HTTP/2 preface on plain TCP), with its own
//! CA and a certificate of chosen lifetime. Every response says which client
//! address it came from (`x-peer`), so tests can see which connection served it.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Serve TLS (else plain TCP).
    pub tls: bool,
    /// ALPN protocols the TLS server accepts, in preference order.
    pub alpn: Vec<&'static [u8]>,
    /// Accept TLS 1.2 only (else 1.2 and 1.3).
    pub tls12_only: bool,
    /// The leaf certificate expires this long after start.
    pub leaf_valid_for: Duration,
    /// Also present the CA certificate, expiring this long after start.
    pub chain_ca_valid_for: Option<Duration>,
    /// Close every HTTP/1.1 connection after its response.
    pub close_after_response: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            tls: true,
            alpn: vec![b"h2", b"http/1.1"],
            tls12_only: false,
            leaf_valid_for: Duration::from_secs(90 * 86_400),
            chain_ca_valid_for: None,
            close_after_response: false,
        }
    }
}

/// A running server; it stops with the test process.
pub struct Server {
    pub addr: SocketAddr,
    pub ca_pem: PathBuf,
    connections: Arc<AtomicU64>,
}

impl Server {
    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.ca_pem.as_os_str().is_empty() {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}{path}", self.addr)
    }
}

fn after(d: Duration) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + d
}

fn tls_acceptor(setup: &Setup, dir: &std::path::Path) -> (TlsAcceptor, PathBuf) {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    if let Some(valid) = setup.chain_ca_valid_for {
        ca_params.not_after = after(valid);
    }
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let ca_der = ca.der().clone();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params =
        CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).expect("params");
    params.not_after = after(setup.leaf_valid_for);
    let key = KeyPair::generate().expect("key");
    let leaf = params.signed_by(&key, &issuer).expect("leaf");
    std::fs::create_dir_all(dir).expect("dir");
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).expect("write ca");
    let mut chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    if setup.chain_ca_valid_for.is_some() {
        chain.push(ca_der);
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if setup.tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            chain,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server config");
    config.alpn_protocols = setup.alpn.iter().map(|p| p.to_vec()).collect();
    (TlsAcceptor::from(Arc::new(config)), ca_pem)
}

/// `/delay/MS` waits before the headers; `/body-delay/MS` sends the headers,
/// waits, then the body. Every response carries `x-peer` and `x-version`.
async fn handle(
    request: Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let version = format!("{:?}", request.version());
    let ms = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|n| n.parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    let body: Body = if let Some(d) = ms("/delay/") {
        tokio::time::sleep(d).await;
        Full::new(Bytes::from_static(b"ok\n")).boxed()
    } else if let Some(d) = ms("/body-delay/") {
        let chunks = futures_util::stream::unfold(0u8, move |step| async move {
            match step {
                0 => Some((Ok(Frame::data(Bytes::from_static(b"first\n"))), 1)),
                1 => {
                    tokio::time::sleep(d).await;
                    Some((Ok(Frame::data(Bytes::from_static(b"last\n"))), 2))
                }
                _ => None,
            }
        });
        StreamBody::new(chunks).boxed()
    } else {
        Full::new(Bytes::from_static(b"ok\n")).boxed()
    };
    let response = Response::builder()
        .header("x-peer", peer.to_string())
        .header("x-version", version)
        .body(body)
        .expect("response");
    Ok(response)
}

/// Starts a server on a free port of 127.0.0.1, on its own thread.
pub fn start(name: &str, setup: Setup) -> Server {
    let dir = super::cert_dir(&format!("h2-{name}"));
    let (acceptor, ca_pem) = if setup.tls {
        let (a, p) = tls_acceptor(&setup, &dir);
        (Some(a), p)
    } else {
        (None, PathBuf::new())
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicU64::new(0));
    let counter = connections.clone();
    let close = setup.close_after_response;
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                // Small HTTP/2 frames must not wait for ACKs (Nagle), or the
                // headers arrive after the body delay has started.
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    builder.http1().keep_alive(!close);
                    let service = service_fn(move |r| handle(r, peer));
                    let _ = match acceptor {
                        Some(acceptor) => {
                            let Ok(tls) = acceptor.accept(stream).await else {
                                return;
                            };
                            builder.serve_connection(TokioIo::new(tls), service).await
                        }
                        None => {
                            builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await
                        }
                    };
                });
            }
        });
    });
    Server {
        addr,
        ca_pem,
        connections,
    }
}
