//! What one request means, the same in all four probes: the time limit bounds the whole
//! call (body included), a URL with commas stays whole on the command line, and a call
//! that was redirected says so.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};

use common::{Bin, backend, http, probe};

const ALL: [Bin; 4] = [
    Bin::SyncFresh,
    Bin::SyncReused,
    Bin::AsyncFresh,
    Bin::AsyncReused,
];

/// `--timeout 1s` against a body that takes 1.8 s: a timeout in every probe, not a
/// slow success (the blocking client alone bounds each read, not the call).
#[test]
fn the_timeout_bounds_the_whole_call_in_every_probe() {
    let b = backend("requests", |_| {});
    let url = format!("slow-body={}/drip?chunks=4&interval_ms=600", http(&b));
    for bin in ALL {
        let run = probe(
            bin,
            &["--sink", "stdout", "--rounds", "1", "--timeout", "1s", &url],
        )
        .success();
        let errors = run.of("http_error");
        assert_eq!(errors.len(), 1, "{}: {}", bin.name(), run.stdout);
        assert_eq!(
            errors[0].tag("error_class"),
            Some("timeout"),
            "{}",
            bin.name()
        );
        // Generous upper bound for a loaded machine; the point is "about 1 s, not 1.8 s".
        let elapsed = errors[0].ms("elapsed_ms");
        assert!(
            (1000.0..1600.0).contains(&elapsed),
            "{}: elapsed {elapsed} ms",
            bin.name()
        );
        assert!(
            run.of("http_request").is_empty(),
            "{}: {}",
            bin.name(),
            run.stdout
        );
    }
}

#[test]
fn a_url_with_commas_stays_whole_on_the_command_line() {
    let b = backend("requests", |_| {});
    let url = format!("{}/delay/1?ids=1,2,3", http(&b));
    let run = probe(Bin::SyncFresh, &["--sink", "stdout", "--rounds", "1", &url]).success();
    let requests = run.of("http_request");
    assert_eq!(requests.len(), 1, "{}", run.stderr);
    assert_eq!(requests[0].tag("status"), Some("200"));
}

/// A server that answers every request with a redirect to `location`.
fn redirects_to(location: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let answer = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_redirected_call_is_flagged_and_a_direct_one_is_not() {
    let b = backend("requests", |_| {});
    let hop = redirects_to(format!("{}/delay/1", http(&b)));
    let redirected = format!("moved=http://{hop}/old");
    let direct = format!("direct={}/delay/1", http(&b));
    for bin in [Bin::SyncReused, Bin::AsyncFresh] {
        let run = probe(
            bin,
            &["--sink", "stdout", "--rounds", "1", &redirected, &direct],
        )
        .success();
        let rounds = run.rounds();
        let moved = rounds[0].request("moved");
        assert_eq!(moved.tag("status"), Some("200"), "{}", run.stdout);
        assert!(moved.has("redirected"), "{}: {}", bin.name(), run.stdout);
        assert!(
            !rounds[0].request("direct").has("redirected"),
            "{}",
            run.stdout
        );
    }
}
