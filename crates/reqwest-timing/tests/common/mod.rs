//! Shared helpers: a demo backend on 127.0.0.1 and instrumented clients that
//! trust its CA.

#![allow(dead_code)]

pub mod h2;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use reqwest_timing::{ConnectionPolicy, Instrumentation, TlsOptions};

/// Slack above an injected delay (ms): a loaded machine runs late, never early.
pub const SLACK_MS: u128 = 60;

pub fn cert_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reqwest-timing-tests-{name}"))
}

/// A demo backend (HTTP and HTTPS on free ports of 127.0.0.1).
pub fn backend() -> demo_backend::Running {
    let config = demo_backend::Config {
        cert_dir: cert_dir("backend"),
        ..Default::default()
    };
    demo_backend::start_in_background(config).expect("start demo backend")
}

/// TLS options trusting only `ca`.
pub fn trusting(ca: &Path) -> TlsOptions {
    TlsOptions {
        system_roots: false,
        extra_ca_file: Some(ca.to_owned()),
    }
}

pub fn instrumentation(policy: ConnectionPolicy, ca: &Path) -> Instrumentation {
    Instrumentation::new(policy, &trusting(ca)).expect("instrumentation")
}

pub fn async_client(timing: &Instrumentation) -> reqwest::Client {
    timing
        .apply(reqwest::Client::builder())
        .build()
        .expect("client")
}

pub fn blocking_client(timing: &Instrumentation) -> reqwest::blocking::Client {
    timing
        .apply_blocking(reqwest::blocking::Client::builder())
        .build()
        .expect("client")
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A server that accepts TCP connections and never answers.
pub fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// The CA of another demo certificate directory: valid PEM, but it did not
/// sign the backend's certificate.
pub fn unrelated_ca() -> PathBuf {
    demo_backend::certs::ensure(&cert_dir("unrelated"), &[])
        .expect("certificates")
        .ca_pem_path
}
