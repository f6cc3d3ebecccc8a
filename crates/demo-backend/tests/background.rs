//! `start_in_background` for callers without a runtime (blocking clients).

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod common;

use std::time::Duration;

use demo_backend::Config;

#[test]
fn serves_blocking_clients_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let b = demo_backend::start_in_background(Config {
        cert_dir: dir.path().to_path_buf(),
        ..Config::default()
    })
    .unwrap();
    let c = common::blocking_client(&b.ca_pem_path);
    for base in [b.http_url().unwrap(), b.https_url().unwrap()] {
        let r = c.get(format!("{base}/health")).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    let addr = b.http_addr.unwrap();
    b.shutdown();
    let refused = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert!(refused.is_err(), "still listening after shutdown");
}

#[test]
fn start_errors_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = demo_backend::start_in_background(Config {
        cert_dir: file,
        ..Config::default()
    })
    .expect_err("cert dir is a file");
    assert!(matches!(err, demo_backend::Error::CertIo { .. }), "{err}");
}

#[test]
fn drop_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let addr = {
        let b = demo_backend::start_in_background(Config {
            cert_dir: dir.path().to_path_buf(),
            https: None,
            ..Config::default()
        })
        .unwrap();
        b.http_addr.unwrap()
    };
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}
