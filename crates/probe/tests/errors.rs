//! Every error class from a real fault: one `http_error` point per failed
//! request with the right `error_class`, one readable log line per target,
//! and the probe carries on to the end of its rounds.

mod common;

use common::{Bin, Run, backend, closed_port, http, https, probe, silent_server, stdout_rounds};

/// (target name, URL, expected `error_class`, words the log line must hold).
type Case = (&'static str, String, &'static str, &'static [&'static str]);

fn cases(b: &demo_backend::Running) -> Vec<Case> {
    vec![
        (
            "refused",
            format!("http://127.0.0.1:{}/", closed_port()),
            "connect",
            &["refused"],
        ),
        (
            "unresolvable",
            "http://nothing.invalid/".to_owned(),
            "dns",
            &["nothing.invalid"],
        ),
        (
            "silent",
            format!("http://{}/", silent_server()),
            "timeout",
            &["timed out"],
        ),
        // No --ca-cert: the demo CA is not trusted.
        (
            "untrusted",
            format!("{}/delay/0", https(b)),
            "tls",
            &["certificate"],
        ),
        (
            "unavailable",
            format!("{}/status/503", http(b)),
            "http_5xx",
            &["503"],
        ),
        (
            "missing",
            format!("{}/status/404", http(b)),
            "http_4xx",
            &["404"],
        ),
        (
            "truncated",
            format!("{}/truncated", http(b)),
            "body",
            &["body"],
        ),
        (
            "loop",
            format!("{}/redirect-loop", http(b)),
            "redirect",
            &["redirect"],
        ),
    ]
}

fn run_all(bin: Bin, cases: &[Case], rounds: usize) -> Run {
    let targets: Vec<String> = cases
        .iter()
        .map(|(name, url, ..)| format!("{name}={url}"))
        .collect();
    let rounds_arg = rounds.to_string();
    let mut args = vec![
        "--sink",
        "stdout",
        "--rounds",
        &rounds_arg,
        "--interval",
        "0s",
        "--timeout",
        "300ms",
    ];
    args.extend(targets.iter().map(String::as_str));
    probe(bin, &args)
}

fn check(bin: Bin, cases: &[Case], rounds: usize) {
    let run = run_all(bin, cases, rounds).success();
    let per_round = run.rounds();
    assert_eq!(
        per_round.len(),
        rounds,
        "{} goes on after failures:\n{}",
        bin.name(),
        run.stdout
    );
    for (i, round) in per_round.iter().enumerate() {
        for (name, _, class, _) in cases {
            let errors: Vec<_> = round
                .errors
                .iter()
                .filter(|p| p.tag("target") == Some(name))
                .collect();
            assert_eq!(
                errors.len(),
                1,
                "{} round {}: one http_error for {name}: {:#?}",
                bin.name(),
                i + 1,
                round.errors
            );
            assert_eq!(
                errors[0].tag("error_class"),
                Some(*class),
                "{} round {}: {name}",
                bin.name(),
                i + 1
            );
            assert_eq!(errors[0].int("count"), Some(1));
            assert!(errors[0].has("elapsed_ms"));
        }
        // A 4xx/5xx answer is a response too, with its status.
        let mut answered: Vec<_> = round
            .requests
            .iter()
            .map(|p| (p.tag("target"), p.tag("status"), p.int("status_code")))
            .collect();
        answered.sort();
        assert_eq!(
            answered,
            [
                (Some("missing"), Some("404"), Some(404)),
                (Some("unavailable"), Some("503"), Some(503))
            ]
        );
        let r = round.round.as_ref().expect("probe_round");
        assert_eq!(
            (r.int("requests"), r.int("errors")),
            (Some(cases.len() as i64), Some(cases.len() as i64))
        );
    }
    // One log line per target and class (repeats within 10 s are only counted).
    let prefix = format!("{}: target ", bin.name());
    for (name, _, class, words) in cases {
        // `target NAME (URL): CLASS error after …`
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{prefix}{name} (")))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{name}: one log line expected:\n{}",
            run.stderr
        );
        let class_part = format!("): {class}");
        assert!(
            lines[0].contains(&class_part),
            "{name}: {:?} should name the class {class}",
            lines[0]
        );
        for word in *words {
            assert!(
                lines[0].to_lowercase().contains(word),
                "{name}: {:?} should mention {word:?}",
                lines[0]
            );
        }
    }
    let n = cases.len() * rounds;
    let done = format!(
        "{}: done: rounds={rounds} requests={n} errors={n} ",
        bin.name()
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with(&done)),
        "no {done:?} line:\n{}",
        run.stderr
    );
}

#[test]
fn sync_fresh_classifies_every_fault() {
    let b = backend("errors", |_| {});
    check(Bin::SyncFresh, &cases(&b), 2);
}

#[test]
fn sync_reused_classifies_every_fault() {
    let b = backend("errors", |_| {});
    check(Bin::SyncReused, &cases(&b), 2);
}

#[test]
fn async_fresh_classifies_every_fault() {
    let b = backend("errors", |_| {});
    check(Bin::AsyncFresh, &cases(&b), 2);
}

#[test]
fn async_reused_classifies_every_fault() {
    let b = backend("errors", |_| {});
    check(Bin::AsyncReused, &cases(&b), 2);
}

#[test]
fn a_failing_target_does_not_stop_the_healthy_one() {
    let b = backend("errors", |_| {});
    let healthy = format!("healthy={}/delay/0", http(&b));
    let broken = format!("broken=http://127.0.0.1:{}/", closed_port());
    for bin in [Bin::SyncReused, Bin::AsyncReused] {
        let run = stdout_rounds(bin, "3", "0s", &[&broken, &healthy]);
        let rounds = run.rounds();
        assert_eq!(rounds.len(), 3);
        for round in rounds {
            assert_eq!(round.request("healthy").tag("status"), Some("200"));
            assert_eq!(round.errors.len(), 1);
            assert_eq!(round.errors[0].tag("error_class"), Some("connect"));
        }
    }
}

/// Credentials in the InfluxDB URL never reach the logs: not in the startup
/// line, not in the sink's retry and drop lines.
#[test]
fn influx_url_credentials_stay_out_of_the_logs() {
    let port = closed_port();
    let url = format!("http://probe-user:s3cret-pw@127.0.0.1:{port}");
    let target = format!("http://127.0.0.1:{}/", closed_port());
    let run = probe(
        Bin::SyncFresh,
        &[
            "--sink",
            "influxdb",
            "--influx-url",
            &url,
            "--influx-org",
            "o",
            "--influx-bucket",
            "b",
            "--influx-token",
            "t",
            "--rounds",
            "1",
            &target,
        ],
    );
    let shown = format!("127.0.0.1:{port}");
    let lines: Vec<&str> = run.stderr_lines();
    assert!(
        lines.iter().filter(|l| l.contains(&shown)).count() >= 2,
        "the startup line and a sink line name the URL:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    assert!(!run.stderr.contains("probe-user"), "{}", run.stderr);
}
