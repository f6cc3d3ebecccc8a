//! The demo backend in-process, with certificates kept per test binary.

use std::path::PathBuf;

/// `CARGO_TARGET_TMPDIR/<prefix>-<name>`: a certificate directory of the calling
/// test binary, reused across runs. Only integration tests and benches have
/// `CARGO_TARGET_TMPDIR`.
#[macro_export]
macro_rules! cert_dir {
    ($name:expr) => {
        ::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{}-{}",
            env!("CARGO_PKG_NAME"),
            $name
        ))
    };
}

/// A demo backend on 127.0.0.1 (HTTP and HTTPS on free ports, certificates in
/// `cert_dir`) with `tweak` applied to its configuration.
///
/// # Panics
/// When the backend cannot start.
pub fn backend(
    cert_dir: PathBuf,
    tweak: impl FnOnce(&mut demo_backend::Config),
) -> demo_backend::Running {
    let mut config = demo_backend::Config {
        cert_dir,
        ..Default::default()
    };
    tweak(&mut config);
    demo_backend::start_in_background(config).expect("start the demo backend")
}
