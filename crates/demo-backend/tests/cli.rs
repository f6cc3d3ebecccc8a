//! The `demo-backend` binary: bad options, signals, start-up line, health check.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_demo-backend");

/// Runs the binary with `args` (no DEMO_* from the outside) and returns (code, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = assert_cmd::Command::new(BIN);
    clear_demo_env(
        cmd.args(args)
            .envs(env.iter().copied())
            .timeout(Duration::from_secs(20)),
    );
    let out = cmd.output().expect("run demo-backend");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn clear_demo_env(cmd: &mut assert_cmd::Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("DEMO_") {
            cmd.env_remove(k);
        }
    }
}

fn assert_usage_error(args: &[&str], env: &[(&str, &str)], want: &str) {
    let (code, stderr) = run(args, env);
    assert_eq!(code, Some(2), "{args:?} {env:?}: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.contains(want), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_services_exit_2_with_the_expected_form() {
    let msg = r#"invalid service "fast=abc": expected NAME=LATENCY[~JITTER], e.g. fast=20ms~2ms"#;
    assert_usage_error(&["--services", "fast=abc"], &[], msg);
    assert_usage_error(&[], &[("DEMO_SERVICES", "slow=1ms,fast=abc")], msg);
}

#[test]
fn other_bad_values_exit_2() {
    assert_usage_error(
        &["--fail-rate", "2"],
        &[],
        r#"invalid fail rate "2": expected a number from 0 to 1"#,
    );
    assert_usage_error(
        &["--rtt", "soon"],
        &[],
        "invalid value 'soon' for '--rtt <DUR>': expected a duration like 500ms, 3s or 1m",
    );
    assert_usage_error(
        &["--handshake-delay", "5"],
        &[],
        "invalid value '5' for '--handshake-delay <DUR>': expected a duration",
    );
    assert_usage_error(
        &["--http", "localhost"],
        &[],
        r#"invalid listen address "localhost": expected IP:PORT"#,
    );
    assert_usage_error(
        &["--hostname", "bad name"],
        &[],
        r#"invalid hostname "bad name""#,
    );
    assert_usage_error(&["--no-such-flag"], &[], "--no-such-flag");
    assert_usage_error(&["--http", "off", "--https", "off"], &[], "both off");
}

#[test]
fn help_exits_0() {
    let (code, _) = run(&["--help"], &[]);
    assert_eq!(code, Some(0));
}

/// A running `demo-backend` child and the addresses from its start-up line.
struct Server {
    child: Child,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    ca: String,
}

impl Server {
    fn start(cert_dir: &Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("DEMO_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .args([
                "--http",
                "127.0.0.1:0",
                "--https",
                "127.0.0.1:0",
                "--cert-dir",
            ])
            .arg(cert_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo-backend");
        // The ready line is the only line on stdout.
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("start-up line");
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
                .to_owned()
        };
        assert!(line.starts_with("demo-backend: listening http="), "{line}");
        Server {
            http: field("http").parse().ok(),
            https: field("https").parse().ok(),
            ca: field("ca"),
            child,
        }
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "did not exit after the signal");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn startup_line_and_sigterm_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let http = server.http.expect("http address");
    assert_ne!(http.port(), 0);
    assert_ne!(server.https.expect("https address").port(), 0);
    assert_eq!(Path::new(&server.ca), dir.path().join("ca.pem"));
    assert!(Path::new(&server.ca).is_file());
    std::net::TcpStream::connect(http).expect("listening");
    server.signal("-TERM");
    assert_eq!(server.wait_exit(), Some(0));
}

#[test]
fn sigint_exit_0_with_a_hanging_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let mut tcp = std::net::TcpStream::connect(server.http.unwrap()).unwrap();
    std::io::Write::write_all(&mut tcp, b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.signal("-INT");
    assert_eq!(server.wait_exit(), Some(0));
}

#[test]
fn healthcheck_against_running_instance_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let cert_dir = dir.path().to_str().unwrap();
    let http = server.http.unwrap().to_string();
    let https = server.https.unwrap().to_string();

    let (code, stderr) = run(
        &["--healthcheck", "--http", &http, "--cert-dir", cert_dir],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // HTTPS with the CA when HTTP is off.
    let (code, stderr) = run(
        &[
            "--healthcheck",
            "--http",
            "off",
            "--https",
            &https,
            "--cert-dir",
            cert_dir,
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // Same over the environment.
    let (code, stderr) = run(
        &["--healthcheck"],
        &[("DEMO_HTTP", &http), ("DEMO_CERT_DIR", cert_dir)],
    );
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn healthcheck_against_nothing_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let free = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let cert_dir = dir.path().to_str().unwrap();
    let (code, stderr) = run(
        &["--healthcheck", "--http", &free, "--cert-dir", cert_dir],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("GET http://{free}/health")),
        "{stderr}"
    );
    assert!(stderr.contains("ca.pem does not exist"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn port_in_use_exits_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let cert_dir = dir.path().to_str().unwrap();
    let (code, stderr) = run(
        &["--http", &addr, "--https", "off", "--cert-dir", cert_dir],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn unusable_cert_dir_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let (code, stderr) = run(
        &[
            "--http",
            "127.0.0.1:0",
            "--https",
            "127.0.0.1:0",
            "--cert-dir",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("certificate directory"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
