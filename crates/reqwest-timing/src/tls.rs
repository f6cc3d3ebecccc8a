//! The rustls configuration shared by every instrumented client, and the
//! hooks that watch each TLS handshake: the session-store wrapper marks its
//! start, the verifier wrapper reads the certificate chain (a resumed
//! handshake never calls it), and the key-log hook learns the version.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Resumption};
use rustls::client::{Tls12ClientSessionValue, Tls13ClientSessionValue, WebPkiServerVerifier};
use rustls::{DigitallySignedStruct, KeyLog, NamedGroup, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::recorder::CURRENT;
use crate::timings::TlsVersion;

/// How many servers' TLS sessions a resuming client remembers.
const SESSION_CACHE_SERVERS: usize = 256;

/// Which certificates to trust.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Trust the operating system's root certificates.
    pub system_roots: bool,
    /// An extra PEM file of root certificates to trust (e.g. a private CA).
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            system_roots: true,
            extra_ca_file: None,
        }
    }
}

/// Errors building the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read or parsed.
    #[error("cannot read CA certificate file {path:?}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No root certificate to trust at all.
    #[error(
        "no trusted root certificates: install the system CA bundle (ca-certificates) or pass a CA file"
    )]
    NoRoots,
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The certificate verifier could not be built from the roots.
    #[error("TLS certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(fail(
            "expected at least one PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
}

/// Checks that a CA file is readable and holds PEM certificates.
pub fn check_ca_file(path: &Path) -> Result<usize, TlsError> {
    read_ca_file(path).map(|c| c.len())
}

/// A plain rustls configuration (ring provider, the same roots as the
/// instrumented clients, no timing hooks), for other HTTPS clients of a program.
pub fn rustls_config(options: &TlsOptions) -> Result<rustls::ClientConfig, TlsError> {
    let mut config = base_config(options)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The instrumented configuration; [`Instrumentation::apply`](crate::Instrumentation::apply)
/// sets its ALPN protocols.
pub(crate) fn client_config(
    options: &TlsOptions,
    resumption: bool,
) -> Result<rustls::ClientConfig, TlsError> {
    let roots = roots(options)?;
    let mut config = config_with_roots(roots.clone())?;
    let inner: Option<Arc<dyn ClientSessionStore>> =
        resumption.then(|| Arc::new(ClientSessionMemoryCache::new(SESSION_CACHE_SERVERS)) as _);
    config.resumption = Resumption::store(Arc::new(TimingSessionStore { inner }));
    let provider = config.crypto_provider().clone();
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(FactsVerifier { inner: verifier }));
    config.key_log = Arc::new(VersionHook);
    Ok(config)
}

fn roots(options: &TlsOptions) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    if options.system_roots {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    if let Some(path) = &options.extra_ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| TlsError::CaFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    Ok(Arc::new(roots))
}

fn base_config(options: &TlsOptions) -> Result<rustls::ClientConfig, TlsError> {
    config_with_roots(roots(options)?)
}

fn config_with_roots(roots: Arc<RootCertStore>) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Forwards to a real store (or to none, when resumption is off) and marks the
/// handshake's start: rustls consults the store while it builds the
/// ClientHello, right after the TCP connection is up.
#[derive(Debug)]
struct TimingSessionStore {
    inner: Option<Arc<dyn ClientSessionStore>>,
}

fn mark_tls_start() {
    let now = Instant::now();
    let _ = CURRENT.try_with(|p| p.tls_started(now));
}

impl ClientSessionStore for TimingSessionStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        if let Some(s) = &self.inner {
            s.set_kx_hint(server_name, group);
        }
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        mark_tls_start();
        self.inner.as_ref()?.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        if let Some(s) = &self.inner {
            s.set_tls12_session(server_name, value);
        }
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        mark_tls_start();
        self.inner.as_ref()?.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(s) = &self.inner {
            s.remove_tls12_session(server_name);
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        if let Some(s) = &self.inner {
            s.insert_tls13_ticket(server_name, value);
        }
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        mark_tls_start();
        self.inner.as_ref()?.take_tls13_ticket(server_name)
    }
}

/// The default verifier, and a note of the chain's earliest expiry for the
/// connection being set up.
#[derive(Debug)]
struct FactsVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for FactsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let started = Instant::now();
        let _ = CURRENT.try_with(|p| {
            p.cert_verified(
                earliest_not_after(end_entity, intermediates),
                started.elapsed(),
            );
        });
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// The earliest `notAfter` of a certificate chain (DER); certificates that do
/// not parse are skipped. This is what the verifier hook runs during a full
/// handshake (its time is taken off the reported TLS phase).
pub fn earliest_not_after(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Option<SystemTime> {
    std::iter::once(end_entity)
        .chain(intermediates)
        .filter_map(|c| crate::cert::not_after(c))
        .min()
}

/// Learns the TLS version from the secrets rustls derives, never keeping a
/// secret: TLS 1.3 asks `will_log` for its handshake traffic secret (we answer
/// no, so no secret is passed); TLS 1.2 logs `CLIENT_RANDOM` directly, and the
/// secret is dropped unread.
#[derive(Debug)]
struct VersionHook;

fn mark_version(version: TlsVersion) {
    let _ = CURRENT.try_with(|p| p.tls_version(version));
}

impl KeyLog for VersionHook {
    fn log(&self, label: &str, _client_random: &[u8], _secret: &[u8]) {
        if label == "CLIENT_RANDOM" {
            mark_version(TlsVersion::Tls12);
        }
    }

    fn will_log(&self, label: &str) -> bool {
        if label == "CLIENT_HANDSHAKE_TRAFFIC_SECRET" {
            mark_version(TlsVersion::Tls13);
        }
        false
    }
}
