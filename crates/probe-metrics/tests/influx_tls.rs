//! The InfluxDB sink over HTTPS, with the caller's rustls (ring) config.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use probe_metrics::{InfluxConfig, Point, Sink, SinkConfig, SinkOptions, SinkStats};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Serves one HTTPS request; returns (request target, authorization, body).
fn https_server(
    server: rustls::ServerConfig,
) -> (u16, thread::JoinHandle<(String, String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        let conn = rustls::ServerConnection::new(Arc::new(server)).expect("tls");
        let mut reader = BufReader::new(rustls::StreamOwned::new(conn, tcp));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        let (mut authorization, mut length) = (String::new(), 0);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).expect("header");
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("name: value");
            match name.to_ascii_lowercase().as_str() {
                "authorization" => authorization = value.trim().to_owned(),
                "content-length" => length = value.trim().parse().expect("length"),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).expect("body");
        let stream = reader.get_mut();
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .expect("respond");
        stream.conn.send_close_notify();
        stream.flush().expect("flush");
        let target = request_line.split_whitespace().nth(1).expect("target");
        (
            target.to_owned(),
            authorization,
            String::from_utf8(body).expect("utf-8"),
        )
    });
    (port, handle)
}

#[test]
fn influx_sink_writes_over_https_with_the_given_tls_config() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trust the test certificate");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();

    let (port, server) = https_server(server);
    let config = InfluxConfig {
        url: format!("https://127.0.0.1:{port}").parse().expect("url"),
        org: "o".into(),
        bucket: "b".into(),
        token: "tls-token".into(),
        tls: Arc::new(client),
    };
    let sink = Sink::start(SinkConfig::Influx(config), SinkOptions::default()).expect("start");
    let point = Point::new("http_request", 1)
        .tag("scenario", "async-fresh")
        .field("total_ms", 1.5);
    sink.send(&point);
    assert_eq!(
        sink.shutdown(Duration::from_secs(10)),
        SinkStats {
            sent: 1,
            resent: 0,
            dropped: 0
        }
    );
    let (target, authorization, body) = server.join().expect("server");
    assert_eq!(target, "/api/v2/write?org=o&bucket=b&precision=ns");
    assert_eq!(authorization, "Token tls-token");
    assert_eq!(body, point.to_line().expect("encodable"));
}
