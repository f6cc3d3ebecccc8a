//! `TimedError.class` from real faults, async and blocking; 4xx/5xx are
//! responses whose class comes from `ErrorClass::from_status`.

mod common;

use std::time::Duration;

use reqwest_timing::{ConnectionPolicy, ErrorClass, Instrumentation, TimedError, TimedResponse};

use common::{SLACK_MS, backend, closed_port, instrumentation, silent_server, unrelated_ca};

const TIMEOUT: Duration = Duration::from_millis(300);

/// (URL, expected class) of the faults that give no response.
fn faults(b: &demo_backend::Running) -> Vec<(String, ErrorClass)> {
    let http = b.http_url().expect("http");
    vec![
        (
            format!("http://127.0.0.1:{}/", closed_port()),
            ErrorClass::Connect,
        ),
        ("http://nothing.invalid/".to_owned(), ErrorClass::Dns),
        (format!("http://{}/", silent_server()), ErrorClass::Timeout),
        (format!("{http}/truncated"), ErrorClass::Body),
        (format!("{http}/redirect-loop"), ErrorClass::Redirect),
    ]
}

fn check_error(url: &str, expected: ErrorClass, result: Result<TimedResponse, TimedError>) {
    let error = result.expect_err(url);
    assert_eq!(error.class, expected, "{url}: {error}");
    assert!(!error.message.is_empty());
    // The cause is kept: the reqwest error (or the io error of a blocking body read).
    let cause = std::error::Error::source(&error).expect("a cause");
    assert!(
        cause.is::<reqwest::Error>() || cause.is::<std::io::Error>(),
        "{cause:?}"
    );
    assert!(
        !cause.to_string().contains(url) || url.is_empty(),
        "no URL in the cause"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("{} error after ", expected.as_str())),
        "{error}"
    );
    if expected == ErrorClass::Timeout {
        // The client's 300 ms limit; measured within [300, 300 + 2 * SLACK_MS]
        // (one sample, and the timer itself may fire late on a loaded machine).
        let ms = error.elapsed.as_millis();
        assert!(
            (300..=300 + 2 * SLACK_MS).contains(&ms),
            "timeout after {ms} ms"
        );
    }
}

fn check_status(
    url: &str,
    status: u16,
    expected: Option<ErrorClass>,
    result: Result<TimedResponse, TimedError>,
) {
    let response = result.unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(response.status.as_u16(), status);
    assert_eq!(ErrorClass::from_status(response.status), expected, "{url}");
}

fn statuses(b: &demo_backend::Running) -> Vec<(String, u16, Option<ErrorClass>)> {
    let http = b.http_url().expect("http");
    vec![
        (format!("{http}/status/503"), 503, Some(ErrorClass::Http5xx)),
        (format!("{http}/status/404"), 404, Some(ErrorClass::Http4xx)),
        (format!("{http}/status/204"), 204, None),
    ]
}

fn async_client(timing: &Instrumentation) -> reqwest::Client {
    timing
        .apply(reqwest::Client::builder().timeout(TIMEOUT))
        .build()
        .expect("client")
}

fn blocking_client(timing: &Instrumentation) -> reqwest::blocking::Client {
    timing
        .apply_blocking(reqwest::blocking::Client::builder().timeout(TIMEOUT))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_faults_have_their_class() {
    let b = backend();
    for policy in [ConnectionPolicy::fresh(), ConnectionPolicy::reused()] {
        let timing = instrumentation(policy, &b.ca_pem_path);
        let client = async_client(&timing);
        for (url, class) in faults(&b) {
            check_error(&url, class, timing.send(client.get(&url)).await);
        }
        for (url, status, class) in statuses(&b) {
            check_status(&url, status, class, timing.send(client.get(&url)).await);
        }
    }
}

#[test]
fn blocking_faults_have_their_class() {
    let b = backend();
    for policy in [ConnectionPolicy::fresh(), ConnectionPolicy::reused()] {
        let timing = instrumentation(policy, &b.ca_pem_path);
        let client = blocking_client(&timing);
        for (url, class) in faults(&b) {
            check_error(&url, class, timing.send_blocking(client.get(&url)));
        }
        for (url, status, class) in statuses(&b) {
            check_status(&url, status, class, timing.send_blocking(client.get(&url)));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_a_tls_error() {
    let b = backend();
    let url = format!("{}/delay/0", b.https_url().expect("https"));
    let timing = instrumentation(ConnectionPolicy::reused(), &unrelated_ca());
    let client = async_client(&timing);
    check_error(&url, ErrorClass::Tls, timing.send(client.get(&url)).await);
    let blocking = tokio::task::spawn_blocking(move || {
        let client = blocking_client(&timing);
        timing.send_blocking(client.get(&url))
    });
    check_error(
        "blocking",
        ErrorClass::Tls,
        blocking.await.expect("blocking task"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_broke_mid_body_is_not_claimed_by_the_next_request() {
    // /truncated closes its connection; the next request opens a new one and
    // must report it as new.
    let b = backend();
    let http = b.http_url().expect("http");
    let timing = instrumentation(ConnectionPolicy::reused(), &b.ca_pem_path);
    let client = async_client(&timing);
    let url = format!("{http}/truncated");
    check_error(&url, ErrorClass::Body, timing.send(client.get(&url)).await);
    let next = timing
        .send(client.get(format!("{http}/delay/0")))
        .await
        .expect("response");
    assert!(!next.timings.reused(), "{next:?}");
}
