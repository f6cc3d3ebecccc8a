//! The example service against the real demo backend on 127.0.0.1: both
//! modes answer with both services' results, sync calls one after the other,
//! async both at once, and every outbound call is reported with its target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_app::App;
use reqwest_timing::{CallRecord, ErrorClass, TlsOptions};

type Records = Arc<Mutex<Vec<CallRecord>>>;

/// The service on a free port of 127.0.0.1, reporting into `records`.
async fn start(backend: url::Url, ca: &std::path::Path) -> (String, Records) {
    let records: Records = Arc::default();
    let sink = records.clone();
    let tls = TlsOptions::only_roots(probe::ca::read_ca_file(ca).expect("CA"));
    let reporter = Arc::new(move |r: &CallRecord| sink.lock().expect("records").push(r.clone()));
    let app = App::new(backend, &tls, reporter).expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, example_app::router(app)).await });
    (format!("http://{addr}"), records)
}

/// A plain client for the service's inbound calls (plain HTTP; reqwest needs a
/// TLS configuration all the same).
fn plain_client(ca: &std::path::Path) -> reqwest::Client {
    let certs = probe::ca::read_ca_file(ca).expect("CA");
    let tls = reqwest_timing::rustls_config(&TlsOptions::only_roots(certs)).expect("tls");
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client")
}

fn take(records: &Records) -> Vec<CallRecord> {
    std::mem::take(&mut *records.lock().expect("records"))
}

fn by_target<'a>(records: &'a [CallRecord], target: &str) -> &'a CallRecord {
    records
        .iter()
        .find(|r| &*r.target == target)
        .unwrap_or_else(|| panic!("no call to {target}: {records:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_calls_both_services_sync_and_async() {
    let backend = test_support::backend::backend(test_support::cert_dir!("backend"), |c| {
        c.services = demo_backend::parse_services("fast=20ms~0ms,slow=60ms~0ms").expect("services");
    });
    let base = backend.https_url().expect("https").parse().expect("url");
    let (app, records) = start(base, &backend.ca_pem_path).await;
    let client = plain_client(&backend.ca_pem_path);
    for mode in ["sync", "async"] {
        let response = client
            .get(format!("{app}/combined?mode={mode}"))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), 200, "{mode}");
        let body: serde_json::Value =
            serde_json::from_str(&response.text().await.expect("body")).expect("json");
        assert_eq!(body["mode"], mode);
        assert_eq!(body["fast"]["status"], 200, "{body}");
        assert_eq!(body["slow"]["status"], 200, "{body}");
        assert_eq!(body["slow"]["body"]["service"], "slow", "{body}");

        let calls = take(&records);
        assert_eq!(calls.len(), 2, "{calls:?}");
        let (fast, slow) = (by_target(&calls, "fast"), by_target(&calls, "slow"));
        assert!(fast.body_complete && slow.body_complete);
        assert_eq!(fast.domain, "localhost");
        let fast_end = fast.started_at + fast.elapsed;
        if mode == "sync" {
            assert!(
                slow.started_at >= fast_end,
                "sync: slow started before fast ended"
            );
        } else {
            assert!(
                slow.started_at < fast_end,
                "async: the calls did not overlap"
            );
        }
        let ttfb = slow.timings.as_ref().expect("timings").ttfb;
        assert!(ttfb >= Duration::from_millis(60), "slow ttfb {ttfb:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mode_is_refused_and_a_dead_backend_is_a_502() {
    let dir = test_support::cert_dir!("backend");
    let ca = demo_backend::certs::ensure(&dir, &[], None)
        .expect("certs")
        .ca_pem_path;
    let dead = format!("http://127.0.0.1:{}", test_support::net::closed_port());
    let (app, records) = start(dead.parse().expect("url"), &ca).await;
    let client = plain_client(&ca);
    let bad = client
        .get(format!("{app}/combined?mode=both"))
        .send()
        .await
        .expect("response");
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.expect("body");
    assert!(
        text.contains("invalid mode \\\"both\\\": expected sync or async"),
        "{text}"
    );
    assert!(take(&records).is_empty());

    let down = client
        .get(format!("{app}/combined?mode=async"))
        .send()
        .await
        .expect("response");
    assert_eq!(down.status(), 502);
    let calls = take(&records);
    assert_eq!(calls.len(), 2);
    assert!(
        calls.iter().all(|r| r.failure == Some(ErrorClass::Connect)),
        "{calls:?}"
    );
}
