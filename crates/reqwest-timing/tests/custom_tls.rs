//! `TlsOptions::custom`: the user's own rustls configuration is kept (here:
//! TLS 1.2 only, against a server offering 1.2 and 1.3) while the hooks still
//! time the handshake and read the chain through the wrapped verifier.

mod common;

use std::sync::Arc;

use reqwest_timing::{ConnectionPolicy, Instrumentation, TlsOptions, TlsVersion};
use rustls::client::WebPkiServerVerifier;

use common::h2::{self, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_rustls_config_is_kept_and_still_timed() {
    let server = h2::start("custom-tls", Setup::default());
    let mut roots = rustls::RootCertStore::empty();
    for cert in common::read_pem(&server.ca_pem) {
        roots.add(cert).expect("root");
    }
    let roots = Arc::new(roots);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .expect("verifier");
    let tls = TlsOptions::custom(config, verifier);
    let timing = Instrumentation::new(ConnectionPolicy::reused(), &tls).expect("instrumentation");
    let client = common::async_client(&timing);
    let r = timing
        .send(client.get(server.url("/delay/0")))
        .await
        .expect("response");
    let c = r.timings.connection.expect("a new connection");
    let facts = c.tls_facts.expect("TLS facts");
    assert_eq!(
        facts.version,
        Some(TlsVersion::Tls12),
        "the user's versions are kept"
    );
    assert!(!facts.resumed);
    assert!(
        facts.cert_not_after.is_some(),
        "the wrapped verifier read the chain"
    );
    assert!(c.tls.is_some_and(|t| !t.is_zero()));
    assert_eq!(
        r.version,
        reqwest::Version::HTTP_2,
        "ALPN still set by the policy"
    );
}
