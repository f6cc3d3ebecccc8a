//! Errors of the library.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable (e.g. a fail rate outside `0..=1`).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or writing the certificate directory failed.
    #[error("certificate directory {}", path.display())]
    CertIo {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Generating or loading the certificates failed.
    #[error("certificates: {0}")]
    Cert(String),
    /// A listener could not be bound (e.g. the port is in use).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Other I/O failures while starting (e.g. creating the runtime thread).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
