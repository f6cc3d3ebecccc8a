//! Shared helpers: a demo backend on 127.0.0.1 and instrumented clients that
//! trust its CA.

#![allow(dead_code)]

pub mod h2;

use std::path::{Path, PathBuf};

use reqwest_timing::{ConnectionPolicy, Instrumentation, TlsOptions};

/// Slack above an injected delay (ms): a loaded machine runs late, never early.
pub const SLACK_MS: u128 = 60;

#[allow(unused_imports)] // not every test binary uses both
pub use test_support::net::{closed_port, silent_server};

pub fn cert_dir(name: &str) -> PathBuf {
    test_support::cert_dir!(name)
}

/// A demo backend (HTTP and HTTPS on free ports of 127.0.0.1).
pub fn backend() -> demo_backend::Running {
    test_support::backend::backend(cert_dir("backend"), |_| {})
}

/// TLS options trusting only `ca`.
pub fn trusting(ca: &Path) -> TlsOptions {
    TlsOptions::only_roots(read_pem(ca))
}

/// The certificates of a PEM file.
pub fn read_pem(path: &Path) -> Vec<rustls_pki_types::CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_file_iter(path)
        .expect("CA file")
        .collect::<Result<_, _>>()
        .expect("PEM certificates")
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

/// The CA of another demo certificate directory: valid PEM, but it did not
/// sign the backend's certificate.
pub fn unrelated_ca() -> PathBuf {
    demo_backend::certs::ensure(&cert_dir("unrelated"), &[], None)
        .expect("certificates")
        .ca_pem_path
}
