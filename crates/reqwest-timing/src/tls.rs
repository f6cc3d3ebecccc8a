//! The rustls configuration shared by every instrumented client, and the
//! hooks that watch each TLS handshake: the session-store wrapper marks its
//! start, the verifier wrapper reads the certificate chain (a resumed
//! handshake never calls it), and the key-log hook learns the version.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Resumption};
use rustls::client::{Tls12ClientSessionValue, Tls13ClientSessionValue, WebPkiServerVerifier};
use rustls::{DigitallySignedStruct, KeyLog, NamedGroup, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::recorder::CURRENT;
use crate::timings::TlsVersion;

/// How many servers' TLS sessions a resuming client remembers.
const SESSION_CACHE_SERVERS: usize = 256;

/// Which certificates to trust, or a whole rustls configuration of yours.
///
/// ```
/// use reqwest_timing::TlsOptions;
/// // The operating system's roots (the default).
/// let system = TlsOptions::system_roots();
/// // Only a private CA (DER certificates you loaded).
/// let private = TlsOptions::only_roots(Vec::new());
/// # let _ = (system, private);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TlsOptions {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Roots {
        system: bool,
        extra: Vec<CertificateDer<'static>>,
    },
    Custom {
        config: Box<rustls::ClientConfig>,
        verifier: Arc<dyn ServerCertVerifier>,
    },
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self::system_roots()
    }
}

impl TlsOptions {
    /// Trust the operating system's root certificates.
    pub fn system_roots() -> Self {
        Self {
            source: Source::Roots {
                system: true,
                extra: Vec::new(),
            },
        }
    }

    /// Trust only these root certificates (e.g. a private CA).
    pub fn only_roots(roots: impl IntoIterator<Item = CertificateDer<'static>>) -> Self {
        Self {
            source: Source::Roots {
                system: false,
                extra: roots.into_iter().collect(),
            },
        }
    }

    /// Also trust these root certificates. No effect on a
    /// [`custom`](Self::custom) configuration.
    pub fn with_extra_roots(
        mut self,
        roots: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Self {
        if let Source::Roots { extra, .. } = &mut self.source {
            extra.extend(roots);
        }
        self
    }

    /// Your own rustls configuration (client certificates, other roots,
    /// protocol versions, crypto provider), with `verifier`, the
    /// certificate verifier it uses (rustls does not let us read it back;
    /// `WebPkiServerVerifier::builder(roots).build()` is the default one).
    ///
    /// The instrumentation keeps everything but four settings it needs:
    /// the session store (wrapped to time the handshake; resumption follows
    /// the [`ConnectionPolicy`](crate::ConnectionPolicy)), the verifier
    /// (wrapped to read the chain's expiry), the key-log hook (it learns the
    /// TLS version, never a secret) and the ALPN protocols
    /// ([`HttpVersionPolicy`](crate::HttpVersionPolicy)).
    pub fn custom(config: rustls::ClientConfig, verifier: Arc<dyn ServerCertVerifier>) -> Self {
        Self {
            source: Source::Custom {
                config: Box::new(config),
                verifier,
            },
        }
    }
}

/// Errors building the TLS configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// No root certificate to trust at all.
    #[error(
        "no trusted root certificates: install the system CA bundle (ca-certificates) or pass a CA file"
    )]
    NoRoots,
    /// rustls refused the configuration or a root certificate.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The certificate verifier could not be built from the roots.
    #[error("TLS certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// A plain rustls configuration (the same roots as the instrumented clients,
/// no timing hooks, ALPN `http/1.1`), for other HTTPS clients of a program.
pub fn rustls_config(options: &TlsOptions) -> Result<rustls::ClientConfig, TlsError> {
    let mut config = match &options.source {
        Source::Roots { .. } => config_with_roots(roots(options)?)?,
        Source::Custom { config, .. } => (**config).clone(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The instrumented configuration; [`Instrumentation::apply`](crate::Instrumentation::apply)
/// sets its ALPN protocols.
pub(crate) fn client_config(
    options: &TlsOptions,
    resumption: bool,
) -> Result<rustls::ClientConfig, TlsError> {
    let (mut config, verifier) = match &options.source {
        Source::Roots { .. } => {
            let roots = roots(options)?;
            let config = config_with_roots(roots.clone())?;
            let provider = config.crypto_provider().clone();
            let verifier: Arc<dyn ServerCertVerifier> =
                WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
            (config, verifier)
        }
        Source::Custom { config, verifier } => ((**config).clone(), verifier.clone()),
    };
    let inner: Option<Arc<dyn ClientSessionStore>> =
        resumption.then(|| Arc::new(ClientSessionMemoryCache::new(SESSION_CACHE_SERVERS)) as _);
    config.resumption = Resumption::store(Arc::new(TimingSessionStore { inner }));
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(FactsVerifier { inner: verifier }));
    config.key_log = Arc::new(VersionHook);
    Ok(config)
}

fn roots(options: &TlsOptions) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    if let Source::Roots { system, extra } = &options.source {
        if *system {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
        for cert in extra {
            roots.add(cert.clone())?;
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    Ok(Arc::new(roots))
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
    inner: Arc<dyn ServerCertVerifier>,
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
