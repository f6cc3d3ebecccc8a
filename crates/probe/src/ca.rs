//! The probe's `--ca-cert` file: PEM root certificates to trust besides the
//! system's.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The CA file could not be read or holds no PEM certificate.
#[derive(Debug, thiserror::Error)]
#[error("cannot read CA certificate file {path:?}: {reason}")]
pub struct CaFileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Reads every certificate of a PEM file; at least one is expected.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let fail = |reason: String| CaFileError {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_name() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let e = read_ca_file(&path).expect_err("no certificate");
        assert!(e.to_string().contains("empty.pem"), "{e}");
        assert!(
            e.to_string().contains("at least one PEM certificate"),
            "{e}"
        );
        let missing = read_ca_file(&dir.path().join("missing.pem")).expect_err("missing");
        assert!(missing.to_string().contains("missing.pem"), "{missing}");
    }
}
