//! Every route over HTTP and HTTPS, with an in-process backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod common;

use std::time::{Duration, Instant};

use demo_backend::{Config, Running, Service};

async fn backend(dir: &tempfile::TempDir, config: Config) -> Running {
    demo_backend::start(Config {
        cert_dir: dir.path().to_path_buf(),
        ..config
    })
    .await
    .expect("start backend")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_on_both_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    for base in [b.http_url().unwrap(), b.https_url().unwrap()] {
        let r = c.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok");
    }
    assert!(b.ca_pem_path.is_absolute());
    assert!(b.ca_pem_path.ends_with("ca.pem"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_service_json_after_latency() {
    let dir = tempfile::tempdir().unwrap();
    let services = vec!["quick=30ms~5ms".parse::<Service>().unwrap()];
    let b = backend(
        &dir,
        Config {
            services,
            ..Config::default()
        },
    )
    .await;
    let c = common::client(&b.ca_pem_path);
    let t = Instant::now();
    let r = c
        .get(format!("{}/api/quick", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body = r.text().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(25),
        "{:?}",
        t.elapsed()
    );
    assert!(body.starts_with(r#"{"service":"quick","#), "{body}");
    assert!((200..1000).contains(&body.len()), "{} bytes", body.len());

    let r = c
        .get(format!("{}/api/nope", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_services_exist() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    for name in ["fast", "slow"] {
        let r = c
            .get(format!("{}/api/{name}", b.http_url().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_waits_at_least_that_long() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    let t = Instant::now();
    let r = c
        .get(format!("{}/delay/50", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(50),
        "{:?}",
        t.elapsed()
    );
    let r = c
        .get(format!("{}/delay/abc", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtt_delays_every_response() {
    let dir = tempfile::tempdir().unwrap();
    let rtt = Duration::from_millis(40);
    let b = backend(
        &dir,
        Config {
            rtt,
            ..Config::default()
        },
    )
    .await;
    let c = common::client(&b.ca_pem_path);
    for path in ["/health", "/status/204", "/no-such-route"] {
        let t = Instant::now();
        c.get(format!("{}{path}", b.http_url().unwrap()))
            .send()
            .await
            .unwrap();
        assert!(t.elapsed() >= rtt, "{path}: {:?}", t.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    let base = b.http_url().unwrap();
    for (path, want) in [
        ("/status/200", 200),
        ("/status/418", 418),
        ("/status/503", 503),
        ("/status/599", 599),
        ("/status/600", 400),
        ("/status/99", 400),
        ("/status/x", 400),
        ("/nothing/here", 404),
        ("/", 404),
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_sends_exactly_n() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    for n in [0usize, 1, 65_536, 200_001] {
        let r = c
            .get(format!("{}/bytes/{n}", b.https_url().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.content_length(), Some(n as u64));
        assert_eq!(r.bytes().await.unwrap().len(), n);
    }
    let over = demo_backend::MAX_BYTES + 1;
    let r = c
        .get(format!("{}/bytes/{over}", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drip_spreads_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    let t = Instant::now();
    let mut r = c
        .get(format!(
            "{}/drip?chunks=4&interval_ms=30",
            b.http_url().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let first = r.chunk().await.unwrap().expect("first chunk");
    let first_at = t.elapsed();
    let mut total = first.len();
    while let Some(chunk) = r.chunk().await.unwrap() {
        total += chunk.len();
    }
    let body_phase = t.elapsed() - first_at;
    assert_eq!(total, 4 * demo_backend::DRIP_CHUNK_BYTES);
    // Three intervals of 30 ms after the first chunk, which came with the headers.
    assert!(
        body_phase >= Duration::from_millis(85),
        "body {body_phase:?}"
    );

    let r = c
        .get(format!("{}/drip?chunks=0", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_follows_the_fail_rate() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, want) in [(1.0, 503), (0.0, 200)] {
        let b = backend(
            &dir,
            Config {
                fail_rate: rate,
                ..Config::default()
            },
        )
        .await;
        let c = common::client(&b.ca_pem_path);
        for _ in 0..5 {
            let r = c
                .get(format!("{}/flaky", b.http_url().unwrap()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), want, "rate {rate}");
        }
    }
    let bad = demo_backend::start(Config {
        fail_rate: 1.5,
        ..Config::default()
    })
    .await;
    assert!(matches!(bad, Err(demo_backend::Error::Config(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_is_a_body_error() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    for base in [b.http_url().unwrap(), b.https_url().unwrap()] {
        let r = c.get(format!("{base}/truncated")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.content_length(),
            Some(demo_backend::TRUNCATED_ANNOUNCED_BYTES)
        );
        let err = r.bytes().await.expect_err("body must fail");
        assert!(err.is_body() || err.is_decode(), "{err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_points_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    let r = c
        .get(format!("{}/redirect-loop", b.http_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/redirect-loop");

    // A following client gives up with a redirect error.
    let following = reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(common::tls_config(&b.ca_pem_path, &[b"http/1.1"]))
        .build()
        .unwrap();
    let err = following
        .get(format!("{}/redirect-loop", b.http_url().unwrap()))
        .send()
        .await
        .expect_err("redirect loop");
    assert!(err.is_redirect(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_never_answers_until_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = common::client(&b.ca_pem_path);
    let url = format!("{}/hang", b.http_url().unwrap());
    let pending = tokio::spawn(async move { c.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "/hang answered");
    b.shutdown_and_wait().await;
    let res = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("released at shutdown")
        .unwrap();
    assert!(res.is_err(), "{res:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_delay_only_on_fresh_connections() {
    let dir = tempfile::tempdir().unwrap();
    let delay = Duration::from_millis(150);
    let b = backend(
        &dir,
        Config {
            handshake_delay: delay,
            ..Config::default()
        },
    )
    .await;
    let c = common::client(&b.ca_pem_path);
    let url = format!("{}/health", b.https_url().unwrap());

    let t = Instant::now();
    c.get(&url).send().await.unwrap().text().await.unwrap();
    let fresh = t.elapsed();
    // Let the client put the connection back into its pool.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    c.get(&url).send().await.unwrap().text().await.unwrap();
    let reused = t.elapsed();

    assert!(fresh >= delay, "fresh {fresh:?}");
    assert!(reused < delay, "reused {reused:?}");
    let stats = b.stats();
    assert_eq!(stats.tls_handshakes, 1, "{stats:?}");
    assert_eq!(stats.requests, 2, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_many_requests_on_one_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let mut tcp = tokio::net::TcpStream::connect(b.http_addr.unwrap())
        .await
        .unwrap();
    for i in 0..3 {
        tcp.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        // Read one whole response: headers, then the 2-byte body "ok".
        let mut buf = Vec::new();
        while !buf.ends_with(b"\r\n\r\nok") {
            let mut chunk = [0u8; 256];
            let n = tcp.read(&mut chunk).await.unwrap();
            assert_ne!(n, 0, "connection closed after {i} responses");
            buf.extend_from_slice(&chunk[..n]);
        }
        assert!(
            buf.starts_with(b"HTTP/1.1 200 OK"),
            "{}",
            String::from_utf8_lossy(&buf)
        );
    }
    let stats = b.stats();
    assert_eq!(
        (stats.http_connections, stats.requests),
        (1, 3),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_via_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(common::tls_config(&b.ca_pem_path, &[b"h2", b"http/1.1"]))
        .build()
        .unwrap();
    let r = c
        .get(format!("{}/health", b.https_url().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_hostnames_are_in_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(
        &dir,
        Config {
            hostnames: vec!["demo-backend".into()],
            http: None,
            ..Config::default()
        },
    )
    .await;
    assert_eq!(b.http_addr, None);
    let port = b.https_addr.unwrap().port();
    let c = reqwest::Client::builder()
        .no_proxy()
        .resolve("demo-backend", b.https_addr.unwrap())
        .tls_backend_preconfigured(common::tls_config(&b.ca_pem_path, &[b"http/1.1"]))
        .build()
        .unwrap();
    for host in ["demo-backend", "127.0.0.1"] {
        let r = c
            .get(format!("https://{host}:{port}/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_use_is_a_bind_error() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir, Config::default()).await;
    let taken = Config {
        http: b.http_addr,
        https: None,
        ..Config::default()
    };
    match demo_backend::start(taken).await {
        Err(demo_backend::Error::Bind { addr, .. }) => assert_eq!(Some(addr), b.http_addr),
        other => panic!(
            "expected a bind error, got {:?}",
            other.map(|r| r.http_addr)
        ),
    }
}
