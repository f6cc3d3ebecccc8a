//! The `probe-report` command line: files, InfluxDB, bad input.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

fn probe_report() -> Command {
    let mut cmd = Command::cargo_bin("probe-report").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("INFLUX_URL")
        .env_remove("INFLUX_TOKEN")
        .env_remove("INFLUX_BUCKET");
    cmd
}

#[test]
fn report_from_a_points_file() {
    let out = probe_report()
        .args([
            "--file",
            "tests/fixtures/points.lp",
            "--model",
            "fast=20ms~2ms,slow=40ms~3ms",
        ])
        .args(["--handshake-delay", "35ms"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn json_report_from_a_points_file() {
    let out = probe_report()
        .args(["--file", "tests/fixtures/points.lp", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["cells"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["cells"][0]["round"]["count"], 5);
    assert!(json["model"].is_null());
}

#[test]
fn empty_file_says_no_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.lp");
    std::fs::write(&path, "").expect("write");
    probe_report()
        .arg("--file")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no probe data in"));
}

#[test]
fn bad_line_protocol_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.lp");
    std::fs::write(
        &path,
        "probe_round,scenario=sync-fresh total_ms=1\ngarbage here\n",
    )
    .expect("write");
    probe_report()
        .arg("--file")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 2: not valid line protocol"));
}

#[test]
fn dead_influx_url_is_a_clear_failure() {
    probe_report()
        .args(["--influx-url", "http://127.0.0.1:1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot reach InfluxDB at http://127.0.0.1:1: ",
        ))
        .stderr(predicate::str::contains("is it running? (make up)"))
        .stderr(predicate::str::contains("panicked").not());
}

/// Serves one HTTP request with `status` and `body`; returns the request head.
fn fake_influx(status: &str, body: &'static str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let status = status.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut head = String::new();
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            head.push_str(&line);
            line.clear();
        }
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.flush();
        let _ = reader.read(&mut [0u8; 1]);
        let _ = tx.send(head);
    });
    (url, rx)
}

const INFLUX_DATA: &str = r#"{"results":[
 {"statement_id":0,"series":[
  {"name":"probe_round","tags":{"scenario":"sync-fresh"},"columns":["time","total_ms"],"values":[[1,150.0],[2,152.0]]},
  {"name":"probe_round","tags":{"scenario":"async-reused"},"columns":["time","total_ms"],"values":[[1,40.0],[2,41.0]]}]},
 {"statement_id":1,"series":[
  {"name":"http_request","tags":{"reused":"false","scenario":"sync-fresh","target":"fast"},"columns":["time","dns_ms","connect_ms","tls_ms","ttfb_ms","body_ms","total_ms"],"values":[[1,0.3,0.2,35.0,20.0,0.1,55.6]]}]},
 {"statement_id":2}]}"#;

#[test]
fn report_from_influx_sends_query_and_token() {
    let (url, request) = fake_influx("200 OK", INFLUX_DATA);
    let out = probe_report()
        .args([
            "--influx-url",
            &url,
            "--influx-token",
            "s3cret",
            "--since",
            "5m",
            "--json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = request.recv().expect("request seen");
    assert!(head.starts_with("GET /query?db=probes&q=SELECT"), "{head}");
    assert!(head.contains("now%28%29+-+300000ms"), "{head}");
    assert!(head.contains("&epoch=ms"), "{head}");
    assert!(
        head.to_lowercase().contains("authorization: token s3cret"),
        "{head}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["cells"][0]["round"]["count"], 2);
    // HDR histogram, 3 significant digits.
    let close = |v: &serde_json::Value, expected: f64| {
        v.as_f64()
            .is_some_and(|v| (v - expected).abs() / expected < 1e-3)
    };
    assert!(close(&json["cells"][3]["round"]["p50_ms"], 40.0), "{json}");
    assert!(
        close(&json["phases"][0]["median_ms"]["tls"], 35.0),
        "{json}"
    );
}

#[test]
fn influx_401_is_explained() {
    let (url, _request) = fake_influx(
        "401 Unauthorized",
        r#"{"code":"unauthorized","message":"unauthorized access"}"#,
    );
    probe_report()
        .args(["--influx-url", &url])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unauthorized (HTTP 401: unauthorized access)",
        ))
        .stderr(predicate::str::contains("INFLUX_TOKEN"));
}

#[test]
fn influx_query_error_is_shown() {
    let (url, _request) = fake_influx(
        "200 OK",
        r#"{"results":[{"statement_id":0,"error":"database not found: probes"}]}"#,
    );
    probe_report()
        .args(["--influx-url", &url])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "InfluxDB query failed: database not found: probes",
        ));
}

#[test]
fn influx_without_data_says_so() {
    let (url, _request) = fake_influx(
        "200 OK",
        r#"{"results":[{"statement_id":0},{"statement_id":1},{"statement_id":2}]}"#,
    );
    probe_report()
        .args(["--influx-url", &url, "--influx-bucket", "mine"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no probe data in InfluxDB"))
        .stderr(predicate::str::contains("bucket 'mine', last 15m"));
}

/// Bad input: exit 2, one line naming the value and what is expected.
fn assert_usage_error(mut cmd: Command, args: &[&str], bad_value: &str, expected: &str) {
    let out = cmd.args(args).output().expect("runs");
    test_support::assert_usage_error(&out, bad_value, expected);
}

#[test]
fn bad_report_flags_exit_2() {
    assert_usage_error(
        probe_report(),
        &["--since", "soon"],
        "'soon'",
        "expected a duration",
    );
    assert_usage_error(
        probe_report(),
        &["--since", "0s"],
        "'0s'",
        "expected a duration above zero",
    );
    assert_usage_error(
        probe_report(),
        &["--influx-url", "localhost:8086"],
        "'localhost:8086'",
        "expected an http:// or https:// URL",
    );
    assert_usage_error(
        probe_report(),
        &["--model", "fast"],
        "'fast'",
        "expected NAME=LATENCY",
    );
    assert_usage_error(
        probe_report(),
        &["--model", "fast=quick"],
        "\"fast=quick\"",
        "expected NAME=LATENCY",
    );
    assert_usage_error(
        probe_report(),
        &["--rtt=-1ms"],
        "'-1ms'",
        "expected a duration",
    );
    assert_usage_error(
        probe_report(),
        &["--frobnicate"],
        "'--frobnicate'",
        "unexpected argument",
    );
}
