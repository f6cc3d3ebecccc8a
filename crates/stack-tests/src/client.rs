//! The HTTP client of the tests: `reqwest` (blocking), plain HTTP to loopback services.

use std::sync::Arc;
use std::time::Duration;

/// A blocking client with `timeout` per request. Only plain HTTP is used, but
/// reqwest is built without a default crypto provider, so rustls gets ring and no roots.
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::blocking::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .build()?)
}
