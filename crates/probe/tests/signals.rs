//! A probe running until stopped (`--rounds 0`) ends on SIGTERM or SIGINT
//! with exit 0, after its `done:` line.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Bin, backend, command, http, parse_points};

/// Starts `bin` until stopped, waits for its first reported round, sends
/// `signal` with the `kill` command, and checks how it ends.
fn stops_on(bin: Bin, signal: &str, target: &str) {
    let mut child = command(bin)
        .args([
            "--rounds",
            "0",
            "--interval",
            "100ms",
            "--sink",
            "stdout",
            target,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Forward stdout lines; tell the test when the first round is out.
    let stdout = child.stdout.take().expect("stdout");
    let (first_round, first_round_seen) = mpsc::channel();
    let stdout_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("probe_round,") {
                let _ = first_round.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    if first_round_seen
        .recv_timeout(Duration::from_secs(20))
        .is_err()
    {
        let _ = child.kill();
        panic!("{}: no round within 20 s", bin.name());
    }

    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{}: still running 10 s after {signal}", bin.name());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout_reader.join().expect("stdout reader");
    let stderr = stderr_reader.join().expect("stderr reader");

    assert_eq!(
        exit.code(),
        Some(0),
        "{} after {signal}:\n{stderr}",
        bin.name()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let done = stderr.lines().last().unwrap_or_default();
    let prefix = format!("{}: done: rounds=", bin.name());
    assert!(
        done.starts_with(&prefix),
        "{}: last stderr line should be done:\n{stderr}",
        bin.name()
    );
    // Every finished round was flushed before exit.
    let rounds: usize = done[prefix.len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("rounds=N");
    let points = parse_points(&stdout);
    assert!(rounds >= 1);
    assert_eq!(
        points
            .iter()
            .filter(|p| p.measurement == "probe_round")
            .count(),
        rounds,
        "{stdout}"
    );
}

#[test]
fn sync_probe_stops_on_sigterm() {
    let b = backend("signals", |_| {});
    stops_on(Bin::SyncFresh, "-TERM", &format!("{}/delay/0", http(&b)));
}

#[test]
fn async_probe_stops_on_sigterm() {
    let b = backend("signals", |_| {});
    stops_on(Bin::AsyncReused, "-TERM", &format!("{}/delay/0", http(&b)));
}

#[test]
fn probes_stop_on_sigint_too() {
    let b = backend("signals", |_| {});
    stops_on(Bin::SyncReused, "-INT", &format!("{}/delay/0", http(&b)));
    stops_on(Bin::AsyncFresh, "-INT", &format!("{}/delay/0", http(&b)));
}

/// Sends SIGTERM to `child` and waits for its exit, at most `limit`; returns
/// the exit code and stderr.
fn terminate(mut child: std::process::Child, limit: Duration) -> (Option<i32>, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + limit;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (exit.code(), stderr)
}

/// An HTTP server that answers its first connection's request at once and
/// never answers later connections.
fn answers_once() -> std::net::SocketAddr {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().flatten().enumerate() {
            if i == 0 {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let mut stream = stream;
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            } else {
                held.push(stream);
            }
        }
    });
    addr
}

// The limits below (5 s) are far under the 30 s the requests would take.

/// A signal during the (unreported) warm-up ends the probe without waiting for
/// the warm-up's requests.
fn stops_during_the_warm_up(bin: Bin) {
    let b = backend("signals", |_| {});
    let child = command(bin)
        .args([
            "--rounds",
            "0",
            "--timeout",
            "30s",
            "--sink",
            "stdout",
            &format!("{}/delay/30000", http(&b)),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    std::thread::sleep(Duration::from_millis(500));
    let (code, stderr) = terminate(child, Duration::from_secs(5));
    assert_eq!(code, Some(0), "{stderr}");
    let done = format!("{}: done: rounds=0 ", bin.name());
    assert!(
        stderr.lines().last().unwrap_or_default().starts_with(&done),
        "{stderr}"
    );
}

/// A signal during a round's requests ends the probe without waiting for them;
/// the unfinished round is not reported.
fn stops_in_the_middle_of_a_round(bin: Bin) {
    let addr = answers_once();
    let mut child = command(bin)
        .args([
            "--rounds",
            "0",
            "--timeout",
            "30s",
            "--sink",
            "stdout",
            &format!("http://{addr}/"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    // Wait for the warm-up to be answered; round 1 then hangs.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains("warm-up done") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read stderr") > 0,
            "probe ended early:\n{seen}"
        );
        seen.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(300));
    child.stderr = Some(stderr.into_inner());
    let (code, rest) = terminate(child, Duration::from_secs(5));
    assert_eq!(code, Some(0), "{seen}{rest}");
    let done = format!("{}: done: rounds=0 requests=0 ", bin.name());
    assert!(
        rest.lines().last().unwrap_or_default().starts_with(&done),
        "{seen}{rest}"
    );
}

// The sync probes wait for their blocking requests on another thread, so they
// answer a signal as promptly as the async ones.

#[test]
fn async_probe_stops_during_the_warm_up() {
    stops_during_the_warm_up(Bin::AsyncReused);
}

#[test]
fn sync_probe_stops_during_the_warm_up() {
    stops_during_the_warm_up(Bin::SyncReused);
}

#[test]
fn async_probe_stops_in_the_middle_of_a_round() {
    stops_in_the_middle_of_a_round(Bin::AsyncFresh);
}

#[test]
fn sync_probe_stops_in_the_middle_of_a_round() {
    stops_in_the_middle_of_a_round(Bin::SyncFresh);
}
