//! Shared helpers: a backend in a temporary cert dir and clients that trust its CA.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// A rustls client config (ring) trusting `ca.pem`, offering the given ALPN protocols.
pub fn tls_config(ca_pem: &Path, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let ca = CertificateDer::from_pem_file(ca_pem).expect("read ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("add CA");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// An async client trusting the backend's CA, HTTP/1.1, no redirects.
pub fn client(ca_pem: &Path) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls_config(ca_pem, &[b"http/1.1"]))
        .build()
        .expect("client")
}

/// A blocking client trusting the backend's CA, HTTP/1.1.
pub fn blocking_client(ca_pem: &Path) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls_config(ca_pem, &[b"http/1.1"]))
        .build()
        .expect("client")
}
