//! Targets from a file: what the server receives (method, headers, body,
//! `${VAR}` expanded), expectations and their error classes, extra tags, no
//! secret in logs or points, and SIGHUP reloads.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Bin, command, parse_points, run};

const SECRET: &str = "tok-5ecret-93f1";

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An HTTP/1.1 server that records every request and answers by path:
/// `/ok` 200 `{"status": "ok"}`, `/missing` 404, `/other` 200 `nope`,
/// `/unavailable` 503. One request per connection.
fn recording_server() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || serve(stream, &log));
        }
    });
    (addr, seen)
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let (status, text) = match path.as_str() {
        "/ok" => ("200 OK", r#"{"status": "ok"}"#),
        "/missing" => ("404 Not Found", "no"),
        "/unavailable" => ("503 Service Unavailable", "later"),
        _ => ("200 OK", "nope"),
    };
    log.lock().expect("lock").push(Seen {
        method,
        path,
        headers,
        body,
    });
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn targets(addr: SocketAddr) -> String {
    format!(
        r#"
[defaults]
headers = {{ "X-Probe" = "yes" }}

[[target]]
name = "orders"
url = "http://{addr}/ok"
method = "POST"
headers = {{ Authorization = "Bearer ${{PROBE_TEST_TOKEN}}", "Content-Type" = "application/json" }}
body = '{{"dry_run": true, "token": "${{PROBE_TEST_TOKEN}}"}}'
expect_body = "\"status\":\\s*\"ok\""
tags = {{ team = "payments", tier = "critical" }}

[[target]]
name = "gone"
url = "http://{addr}/missing"
expect_status = [404]

[[target]]
name = "mismatch"
url = "http://{addr}/other"
expect_body = "ok"

[[target]]
name = "down"
url = "http://{addr}/unavailable"
"#
    )
}

#[test]
fn requests_from_the_file_arrive_intact_and_expectations_classify() {
    for bin in [Bin::SyncFresh, Bin::AsyncReused] {
        let (addr, seen) = recording_server();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("targets.toml");
        std::fs::write(&file, targets(addr)).expect("write");
        let mut cmd = command(bin);
        cmd.args(["--rounds", "2", "--interval", "0s", "--sink", "stdout"])
            .arg("--targets-file")
            .arg(&file)
            .env("PROBE_TEST_TOKEN", SECRET);
        let run = run(cmd).success();
        assert!(
            !run.stdout.contains(SECRET),
            "{}: secret in points",
            bin.name()
        );
        assert!(
            !run.stderr.contains(SECRET),
            "{}: secret in logs:\n{}",
            bin.name(),
            run.stderr
        );

        let seen = seen.lock().expect("lock").clone();
        let posts: Vec<&Seen> = seen.iter().filter(|s| s.path == "/ok").collect();
        // Warm-up and two rounds.
        assert_eq!(posts.len(), 3, "{seen:#?}");
        for post in posts {
            assert_eq!(post.method, "POST");
            let header = |k: &str| {
                post.headers
                    .iter()
                    .find(|(h, _)| h == k)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(
                header("authorization"),
                Some(format!("Bearer {SECRET}").as_str())
            );
            assert_eq!(header("content-type"), Some("application/json"));
            assert_eq!(header("x-probe"), Some("yes"));
            let body = String::from_utf8(post.body.clone()).expect("utf-8");
            assert_eq!(body, format!(r#"{{"dry_run": true, "token": "{SECRET}"}}"#));
        }
        assert!(
            seen.iter()
                .filter(|s| s.path != "/ok")
                .all(|s| s.method == "GET")
        );

        for round in run.rounds() {
            let orders = round.request("orders");
            assert_eq!(orders.tag("method"), Some("POST"));
            assert_eq!(orders.tag("team"), Some("payments"));
            assert_eq!(orders.tag("tier"), Some("critical"));
            assert_eq!(orders.tag("http_version"), Some("1.1"));
            assert_eq!(round.request("gone").tag("status"), Some("404"));
            assert_eq!(
                round.requests.len(),
                4,
                "every response has its http_request"
            );
            let mut classes: Vec<(&str, &str)> = round
                .errors
                .iter()
                .map(|e| {
                    (
                        e.tag("target").unwrap_or("?"),
                        e.tag("error_class").unwrap_or("?"),
                    )
                })
                .collect();
            classes.sort_unstable();
            assert_eq!(classes, [("down", "http_5xx"), ("mismatch", "expect")]);
            assert_eq!(round.round.as_ref().and_then(|r| r.int("errors")), Some(2));
        }
        assert!(run.stderr.contains("mismatch"), "{}", run.stderr);
        assert!(
            run.stderr.contains("body does not match expect_body"),
            "{}",
            run.stderr
        );
    }
}

/// SIGHUP with a good file: the new targets from the next round, logged once;
/// with a bad file: one line, and the old targets stay.
#[test]
fn sighup_reloads_a_good_file_and_keeps_the_targets_on_a_bad_one() {
    for bin in [Bin::SyncReused, Bin::AsyncFresh] {
        let (addr, _seen) = recording_server();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("targets.toml");
        let one = format!("[[target]]\nname = \"a\"\nurl = \"http://{addr}/ok\"\n");
        let two = format!("{one}[[target]]\nname = \"b\"\nurl = \"http://{addr}/ok\"\n");
        std::fs::write(&file, &one).expect("write");
        let mut child = command(bin)
            .args(["--rounds", "0", "--interval", "50ms", "--sink", "stdout"])
            .arg("--targets-file")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            eprintln!("probe stderr:\n{s}");
            s
        });
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let hup = |pid: u32| {
            let ok = Command::new("kill")
                .args(["-HUP", &pid.to_string()])
                .status()
                .expect("kill")
                .success();
            assert!(ok);
        };
        // Reads output until `done` says so, at most 20 s; returns the lines.
        let pid = child.id();
        let read_until = |done: &dyn Fn(&str) -> bool| -> Vec<String> {
            let end = Instant::now() + Duration::from_secs(20);
            let mut out = Vec::new();
            while Instant::now() < end {
                if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
                    let stop = done(&line);
                    out.push(line);
                    if stop {
                        return out;
                    }
                }
            }
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{}: timed out; read:\n{}", bin.name(), out.join("\n"));
        };
        read_until(&|l| l.starts_with("probe_round,"));
        std::fs::write(&file, &two).expect("write");
        hup(child.id());
        read_until(&|l| l.starts_with("http_request,") && l.contains("target=b "));
        std::fs::write(&file, "[[target]]\nname = \"c\"\nmethod = \"FETCH\"\n").expect("write");
        while lines.try_recv().is_ok() {}
        hup(child.id());
        // The round under way ends, the next one sees the signal: by the third
        // round after it, the bad file has been refused, both targets still probed.
        read_until(&|l| l.starts_with("probe_round,"));
        read_until(&|l| l.starts_with("probe_round,"));
        let after = read_until(&|l| l.starts_with("probe_round,"));
        let text = after.join("\n");
        let points = parse_points(&text);
        let names: Vec<&str> = points
            .iter()
            .filter(|p| p.measurement == "http_request")
            .filter_map(|p| p.tag("target"))
            .collect();
        assert!(names.contains(&"a") && names.contains(&"b"), "{text}");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().expect("wait");
        assert!(status.success());
        let stderr = stderr_reader.join().expect("stderr");
        let reloads: Vec<&str> = stderr.lines().filter(|l| l.contains("SIGHUP")).collect();
        assert_eq!(reloads.len(), 2, "{stderr}");
        assert!(
            reloads[0].contains("re-read") && reloads[0].contains("2 targets"),
            "{stderr}"
        );
        assert!(
            reloads[1].contains("targets.toml:")
                && reloads[1].contains("keeping the 2 current targets"),
            "{stderr}"
        );
    }
}

/// A failing target whose URL carries a secret from `${VAR}`: the log shows
/// the URL as written in the file, and the error never shows the value.
#[test]
fn a_secret_in_the_url_stays_out_of_failure_logs() {
    for bin in [Bin::SyncReused, Bin::AsyncFresh] {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("targets.toml");
        let port = common::closed_port();
        std::fs::write(
            &file,
            format!(
                "[[target]]\nname = \"leaky\"\nurl = \"http://127.0.0.1:{port}/x?token=${{PROBE_TEST_TOKEN}}\"\n"
            ),
        )
        .expect("write");
        let mut cmd = command(bin);
        cmd.args(["--rounds", "2", "--interval", "0s", "--sink", "stdout"])
            .arg("--targets-file")
            .arg(&file)
            .env("PROBE_TEST_TOKEN", SECRET);
        let run = run(cmd).success();
        assert_eq!(run.of("http_error").len(), 2, "{}", run.stdout);
        assert!(
            !run.stderr.contains(SECRET),
            "{}: {}",
            bin.name(),
            run.stderr
        );
        assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
        assert!(
            run.stderr.contains("?token=${PROBE_TEST_TOKEN}"),
            "the URL as written: {}",
            run.stderr
        );
    }
}

#[test]
fn a_target_timeout_longer_than_the_cli_timeout_also_bounds_the_tls_setup() {
    // The handshake takes longer than --timeout but well within the target's own timeout.
    let b = common::backend("targets_file", |c| {
        c.handshake_delay = Duration::from_millis(600);
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("targets.toml");
    let url = format!("{}/delay/0", common::https(&b));
    std::fs::write(
        &file,
        format!("[[target]]\nname = \"slow-tls\"\nurl = \"{url}\"\ntimeout = \"30s\"\n"),
    )
    .expect("write");
    for bin in [Bin::SyncFresh, Bin::AsyncFresh] {
        let mut cmd = command(bin);
        cmd.args(["--rounds", "1", "--interval", "0s", "--sink", "stdout"])
            .args(["--timeout", "100ms", "--ca-cert", &common::ca(&b)])
            .arg("--targets-file")
            .arg(&file);
        let run = run(cmd).success();
        for round in run.rounds() {
            assert!(
                round.errors.is_empty(),
                "{}: the target's 30s timeout applies, not --timeout 100ms:\n{}\n{}",
                bin.name(),
                run.stdout,
                run.stderr
            );
            assert_eq!(
                round.request("slow-tls").tag("reused"),
                Some("false"),
                "{}",
                run.stdout
            );
        }
        assert_eq!(run.rounds().len(), 1, "{}", run.stdout);
    }
}

/// SIGHUP with a good file whose new target needs a new client (HTTP/2) after the
/// CA file was removed: the CA was read at start, so the new client is built from
/// it and the new target is probed (a reload never re-reads `--ca-cert`).
#[test]
fn sighup_builds_a_new_client_from_the_ca_read_at_start() {
    let b = common::backend("targets_file", |_| {});
    for bin in [Bin::SyncReused, Bin::AsyncFresh] {
        let (addr, _seen) = recording_server();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("targets.toml");
        let ca = dir.path().join("ca.pem");
        std::fs::copy(common::ca(&b), &ca).expect("copy the CA");
        let one = format!("[[target]]\nname = \"a\"\nurl = \"http://{addr}/ok\"\n");
        let two = format!(
            "{one}[[target]]\nname = \"h2\"\nurl = \"{}/delay/0\"\nhttp = \"2\"\n",
            common::https(&b)
        );
        std::fs::write(&file, &one).expect("write");
        let mut child = command(bin)
            .args(["--rounds", "0", "--interval", "50ms", "--sink", "stdout"])
            .arg("--ca-cert")
            .arg(&ca)
            .arg("--targets-file")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let pid = child.id();
        let read_rounds = |n: usize| -> Vec<String> {
            let end = Instant::now() + Duration::from_secs(20);
            let (mut out, mut rounds) = (Vec::new(), 0);
            while Instant::now() < end {
                if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
                    rounds += usize::from(line.starts_with("probe_round,"));
                    out.push(line);
                    if rounds == n {
                        return out;
                    }
                }
            }
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{}: timed out; read:\n{}", bin.name(), out.join("\n"));
        };
        read_rounds(1);
        std::fs::remove_file(&ca).expect("remove the CA");
        std::fs::write(&file, &two).expect("write");
        let ok = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
        // The round under way ends, the next one sees the signal and takes the file.
        // Rounds start every 50 ms and the stdout sink writes every 200 ms, so up to
        // a batch of rounds from before the signal may still be unread: skip rounds
        // until one has h2 (at most 2 s of them), then check the round after it.
        let mut skipped = 0;
        while !read_rounds(1).iter().any(|l| l.contains(",target=h2")) {
            skipped += 1;
            assert!(
                skipped < 40,
                "{}: no h2 point 40 rounds after SIGHUP",
                bin.name()
            );
        }
        let text = read_rounds(1).join("\n");
        let points = parse_points(&text);
        let h2: Vec<_> = points
            .iter()
            .filter(|p| p.measurement == "http_request" && p.tag("target") == Some("h2"))
            .collect();
        assert!(!h2.is_empty(), "{text}");
        assert!(
            h2.iter().all(|p| p.tag("http_version") == Some("2")),
            "{text}"
        );
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let status = child.wait().expect("wait");
        let stderr = stderr_reader.join().expect("stderr");
        assert!(status.success(), "{}: {status}\n{stderr}", bin.name());
        let reloads: Vec<&str> = stderr.lines().filter(|l| l.contains("SIGHUP")).collect();
        assert_eq!(reloads.len(), 1, "{stderr}");
        assert!(!reloads[0].contains("keeping"), "{stderr}");
    }
}
