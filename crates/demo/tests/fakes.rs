//! `probe-demo` with stand-in shell scripts for the probes (the demo backend runs
//! in-process, for real): arguments, points file, failures.

use assert_cmd::Command;
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Probes that record their arguments and print two rounds.
fn fakes(dir: &Path) {
    for scenario in ["sync-fresh", "sync-reused", "async-fresh", "async-reused"] {
        let ms = if scenario == "sync-fresh" {
            "150.5"
        } else {
            "40.25"
        };
        script(
            dir,
            &format!("probe-{scenario}"),
            &format!(
                "echo \"$@\" >> \"$(dirname \"$0\")/args.txt\"\n\
                 echo 'probe: starting' >&2\n\
                 echo 'probe_round,scenario={scenario} total_ms={ms},requests=2i,errors=0i 1'\n\
                 echo 'probe_round,scenario={scenario} total_ms={ms},requests=2i,errors=0i 2'"
            ),
        );
    }
}

fn demo(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("probe-demo").expect("binary built");
    cmd.args(["--rounds", "2", "--bin-dir"])
        .arg(dir)
        .arg("--out")
        .arg(dir.join("out/points.lp"))
        .env_remove("DEMO_ROUNDS");
    cmd
}

#[test]
fn runs_each_probe_with_the_backend_address_and_collects_points() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fakes(tmp.path());
    let out = demo(tmp.path()).arg("--json").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let args = std::fs::read_to_string(tmp.path().join("args.txt")).expect("probes ran");
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines.len(), 4, "{args}");
    let ca = tmp.path().join("out/certs/ca.pem");
    assert!(ca.is_file(), "the in-process backend wrote its CA");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let https = stderr
        .lines()
        .find_map(|l| l.strip_prefix("demo-backend: "))
        .and_then(|l| l.split(',').next())
        .unwrap_or_else(|| panic!("no backend line in\n{stderr}"));
    assert!(https.starts_with("https://localhost:"), "{https}");
    assert_eq!(
        lines[0],
        format!(
            "--sink stdout --rounds 2 --interval 100ms --ca-cert {} \
             fast={https}/api/fast slow={https}/api/slow",
            ca.display()
        )
    );
    for line in &lines {
        assert_eq!(*line, lines[0], "every probe gets the same targets");
    }
    let points = std::fs::read_to_string(tmp.path().join("out/points.lp")).expect("points");
    assert_eq!(
        points.lines().count(),
        8,
        "all four probes appended:\n{points}"
    );

    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["cells"][0]["round"]["count"], 2);
    // The model of the backend's defaults: fast=20ms, slow=60ms, handshake 30ms.
    assert_eq!(json["cells"][0]["model_ms"], 140.0);
    assert_eq!(json["cells"][3]["model_ms"], 60.0);
    assert!(
        stderr.contains("[1/4] sync-fresh   round 2/2 done"),
        "{stderr}"
    );
}

#[test]
fn a_failing_probe_shows_its_stderr() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fakes(tmp.path());
    script(
        tmp.path(),
        "probe-sync-reused",
        "echo 'probe: cannot read --ca-cert' >&2\nexit 2",
    );
    demo(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "probe-sync-reused failed (exit status: 2)",
        ))
        .stderr(predicate::str::contains("probe: cannot read --ca-cert"));
    // Only the first probe ran before the failure; the later ones never started.
    let args = std::fs::read_to_string(tmp.path().join("args.txt")).expect("first probe ran");
    assert_eq!(args.lines().count(), 1, "{args}");
}

#[test]
fn a_backend_that_cannot_start_says_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fakes(tmp.path());
    // The certificate directory cannot be created: a file stands in its place.
    std::fs::create_dir_all(tmp.path().join("out")).expect("out dir");
    std::fs::write(tmp.path().join("out/certs"), "not a directory").expect("file");
    demo(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("probe-demo: error: demo backend:"))
        .stderr(predicate::str::contains("certs"));
    assert!(
        !tmp.path().join("args.txt").exists(),
        "no probe runs without a backend"
    );
}
