//! The extreme-value tests of every binary's duration options: run a command for a
//! bounded time, then check that it accepted the value (exit 0, after SIGTERM when it was
//! still running) or refused it in one line naming the option (exit 2), never a panic.

/// How a bounded run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (after our SIGTERM when `terminated`).
    pub code: Option<i32>,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Still running after the budget: SIGTERM was sent to its process group.
    pub terminated: bool,
}

/// Runs `cmd` in its own process group for at most `budget`, then SIGTERMs the
/// group (a valid but huge duration may mean "wait a year") and waits for it.
pub fn run_bounded(cmd: &mut std::process::Command, budget: std::time::Duration) -> Outcome {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    cmd.process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env("RUST_BACKTRACE", "1");
    let mut child = cmd.spawn().expect("spawn");
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let wait = |child: &mut std::process::Child, limit: std::time::Duration| {
        let end = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            if std::time::Instant::now() >= end {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let mut terminated = false;
    let status = match wait(&mut child, budget) {
        Some(status) => status,
        None => {
            terminated = true;
            let group = format!("-{}", child.id());
            let signal = |sig: &str| {
                std::process::Command::new("kill")
                    .args([sig, "--", &group])
                    .status()
                    .expect("kill")
            };
            signal("-TERM");
            match wait(&mut child, std::time::Duration::from_secs(10)) {
                Some(status) => status,
                None => {
                    signal("-KILL");
                    panic!("{cmd:?} ignored SIGTERM for 10 s");
                }
            }
        }
    };
    Outcome {
        code: status.code(),
        stderr: reader.join().expect("stderr reader"),
        terminated,
    }
}

/// Exit 0 (or 0 after SIGTERM) when `accepted`, else exit 2 with one stderr
/// line naming `flag`; never a panic.
#[track_caller]
pub fn check(what: &str, flag: &str, accepted: bool, out: &Outcome) {
    check_with(what, flag, accepted, true, out);
}

/// [`check`]; a binary without a SIGTERM handler (`graceful` false) may end
/// by the signal once it ran past its budget.
#[track_caller]
pub fn check_with(what: &str, flag: &str, accepted: bool, graceful: bool, out: &Outcome) {
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack backtrace"),
        "{what}: panic:\n{}",
        out.stderr
    );
    if accepted && out.terminated && !graceful {
        assert!(matches!(out.code, None | Some(0)), "{what}: {out:?}");
    } else if accepted {
        assert_eq!(out.code, Some(0), "{what}: {out:?}");
    } else {
        assert_eq!(out.code, Some(2), "{what}: {out:?}");
        assert!(!out.terminated, "{what}: refused at start");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{what}: one line: {}", out.stderr);
        assert!(
            lines[0].contains(flag),
            "{what}: names {flag}: {}",
            lines[0]
        );
    }
}

/// The duration values every option is fed, besides random ones.
pub const EXTREMES: [&str; 8] = [
    "0s",
    "1ns",
    "365d",
    "366d",
    "18446744073709551615s",
    "18446744073709551616s",
    "-1s",
    "99999999999999999999999999ns",
];

/// Whether a binary must accept `value` (a duration of at most one year).
pub fn within_limit(value: &str, zero_ok: bool) -> bool {
    match humantime::parse_duration(value) {
        Ok(d) => d <= std::time::Duration::from_secs(365 * 24 * 3600) && (zero_ok || !d.is_zero()),
        Err(_) => false,
    }
}
