//! The demo CA and the server certificate: created on first start, reused after.
//!
//! Files in the certificate directory: `ca.pem` (what clients trust, e.g. the
//! probes' `--ca-cert`), `ca.key`, `server.pem`, `server.key`. They are reused
//! when they still verify for every host name; otherwise the server
//! certificate is re-issued by the same CA (so copies of `ca.pem` stay valid),
//! and only if the CA itself is unusable is everything regenerated.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::Error;

/// File name of the CA certificate inside the certificate directory.
pub const CA_PEM: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const SERVER_PEM: &str = "server.pem";
const SERVER_KEY: &str = "server.key";

/// Host names every server certificate covers.
pub const BUILTIN_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Serialises certificate generation within the process (tests start many servers).
static GENERATE: Mutex<()> = Mutex::new(());

/// A server certificate and key, ready for rustls.
pub struct ServerCert {
    /// The server certificate (leaf only; clients trust the CA).
    pub chain: Vec<CertificateDer<'static>>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
    /// Absolute path of `ca.pem`.
    pub ca_pem_path: PathBuf,
}

/// Loads the certificates in `dir`, or creates/re-issues them so that they
/// cover the built-in names and `hostnames`. With `valid_days` the server
/// certificate is always issued anew, valid from an hour ago for that many days.
pub fn ensure(
    dir: &Path,
    hostnames: &[String],
    valid_days: Option<u32>,
) -> Result<ServerCert, Error> {
    let _guard = GENERATE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = std::path::absolute(dir).map_err(|e| io_err(dir, e))?;
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let names: Vec<String> = BUILTIN_NAMES
        .iter()
        .map(|s| s.to_string())
        .chain(hostnames.iter().cloned())
        .collect();

    // A stored certificate is kept only if it has a month to live (one made with
    // `valid_days` for a test of the certificate alerts is replaced by a long-lived one).
    if valid_days.is_none()
        && let Some(cert) = load_valid(&dir, &names, KEEP_IF_VALID_FOR)
    {
        return Ok(cert);
    }
    let ca_key = match load_ca_key(&dir, &names) {
        Some(key) => key,
        None => {
            let key = KeyPair::generate().map_err(cert_err)?;
            let ca = ca_params().self_signed(&key).map_err(cert_err)?;
            write(&dir.join(CA_KEY), &key.serialize_pem())?;
            write(&dir.join(CA_PEM), &ca.pem())?;
            key
        }
    };
    issue_server(&dir, &names, ca_key, valid_days)?;
    load_valid(&dir, &names, Duration::ZERO)
        .ok_or_else(|| Error::Cert("freshly generated certificates do not verify".into()))
}

/// The CA's parameters; deterministic so that a stored CA key can re-issue.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "demo-backend local CA");
    dn.push(DnType::OrganizationName, "demo-backend");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn issue_server(
    dir: &Path,
    names: &[String],
    ca_key: KeyPair,
    valid_days: Option<u32>,
) -> Result<(), Error> {
    let issuer = Issuer::new(ca_params(), ca_key);
    let mut params = CertificateParams::new(names.to_vec()).map_err(cert_err)?;
    if let Some(days) = valid_days {
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::HOUR;
        params.not_after = now + time::Duration::days(i64::from(days));
    }
    params
        .distinguished_name
        .push(DnType::CommonName, "demo-backend");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(cert_err)?;
    let cert = params.signed_by(&key, &issuer).map_err(cert_err)?;
    write(&dir.join(SERVER_KEY), &key.serialize_pem())?;
    write(&dir.join(SERVER_PEM), &cert.pem())?;
    Ok(())
}

/// The stored CA key, if it matches `ca.pem` (checked by issuing a throw-away
/// certificate and verifying it against `ca.pem`).
fn load_ca_key(dir: &Path, names: &[String]) -> Option<KeyPair> {
    let pem = std::fs::read_to_string(dir.join(CA_KEY)).ok()?;
    let key = KeyPair::from_pem(&pem).ok()?;
    let probe = KeyPair::generate().ok()?;
    let params = CertificateParams::new(names.to_vec()).ok()?;
    let cert = params
        .signed_by(
            &probe,
            &Issuer::new(ca_params(), KeyPair::from_pem(&pem).ok()?),
        )
        .ok()?;
    let ca = CertificateDer::from_pem_file(dir.join(CA_PEM)).ok()?;
    verifies(&ca, cert.der(), names, UnixTime::now()).then_some(key)
}

/// How long a stored long-lived certificate must still be valid to be reused.
const KEEP_IF_VALID_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// The stored server certificate and key, if they verify against `ca.pem`
/// for every name, now and `ahead` from now, and belong together.
fn load_valid(dir: &Path, names: &[String], ahead: Duration) -> Option<ServerCert> {
    let ca = CertificateDer::from_pem_file(dir.join(CA_PEM)).ok()?;
    let leaf = CertificateDer::from_pem_file(dir.join(SERVER_PEM)).ok()?;
    let key = PrivateKeyDer::from_pem_file(dir.join(SERVER_KEY)).ok()?;
    let later = UnixTime::now().as_secs().saturating_add(ahead.as_secs());
    if !verifies(&ca, &leaf, names, UnixTime::now())
        || !verifies(
            &ca,
            &leaf,
            names,
            UnixTime::since_unix_epoch(Duration::from_secs(later)),
        )
    {
        return None;
    }
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .ok()?;
    rustls::sign::CertifiedKey::new(vec![leaf.clone()], signing_key)
        .keys_match()
        .ok()?;
    Some(ServerCert {
        chain: vec![leaf],
        key,
        ca_pem_path: dir.join(CA_PEM),
    })
}

/// Whether `leaf` chains to `ca` and is valid at `at` for every name.
fn verifies(
    ca: &CertificateDer<'static>,
    leaf: &CertificateDer<'_>,
    names: &[String],
    at: UnixTime,
) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    if roots.add(ca.clone()).is_err() {
        return false;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let Ok(verifier) =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build()
    else {
        return false;
    };
    names.iter().all(|name| {
        ServerName::try_from(name.as_str())
            .is_ok_and(|sn| verifier.verify_server_cert(leaf, &[], &sn, &[], at).is_ok())
    })
}

/// Writes atomically (temp file + rename), keys readable by the owner only.
fn write(path: &Path, contents: &str) -> Result<(), Error> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, contents).map_err(|e| io_err(&tmp, e))?;
    #[cfg(unix)]
    if path.extension().is_some_and(|e| e == "key") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::CertIo {
        path: path.to_path_buf(),
        source,
    }
}

fn cert_err(e: rcgen::Error) -> Error {
    Error::Cert(e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn creates_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &[], None).unwrap();
        let (ca, server) = (read(dir.path(), CA_PEM), read(dir.path(), SERVER_PEM));
        ensure(dir.path(), &[], None).unwrap();
        assert_eq!(read(dir.path(), CA_PEM), ca);
        assert_eq!(read(dir.path(), SERVER_PEM), server);
    }

    #[test]
    fn valid_days_issues_a_short_lived_certificate_then_a_long_lived_one_again() {
        let dir = tempfile::tempdir().unwrap();
        let names = [String::from("localhost")];
        let days = |n: u64| {
            UnixTime::since_unix_epoch(Duration::from_secs(UnixTime::now().as_secs() + n * 86_400))
        };
        ensure(dir.path(), &[], None).unwrap();
        let ca = read(dir.path(), CA_PEM);
        let ca_der = CertificateDer::from_pem_file(dir.path().join(CA_PEM)).unwrap();

        let short = ensure(dir.path(), &[], Some(2)).unwrap();
        assert_eq!(read(dir.path(), CA_PEM), ca, "the CA is kept");
        assert!(verifies(&ca_der, &short.chain[0], &names, days(1)));
        assert!(!verifies(&ca_der, &short.chain[0], &names, days(3)));

        let long = ensure(dir.path(), &[], None).unwrap();
        assert!(verifies(&ca_der, &long.chain[0], &names, days(365)));
    }

    #[test]
    fn new_hostname_reissues_with_same_ca() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), &[], None).unwrap();
        let (ca, server) = (read(dir.path(), CA_PEM), read(dir.path(), SERVER_PEM));
        let cert = ensure(dir.path(), &["demo-backend".into()], None).unwrap();
        assert_eq!(read(dir.path(), CA_PEM), ca);
        assert_ne!(read(dir.path(), SERVER_PEM), server);
        let ca_der = CertificateDer::from_pem_file(dir.path().join(CA_PEM)).unwrap();
        assert!(verifies(
            &ca_der,
            &cert.chain[0],
            &["demo-backend".into()],
            UnixTime::now()
        ));
    }

    #[test]
    fn garbage_ca_regenerates_everything() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CA_PEM), "not a certificate").unwrap();
        ensure(dir.path(), &[], None).unwrap();
        assert!(read(dir.path(), CA_PEM).contains("BEGIN CERTIFICATE"));
    }
}
