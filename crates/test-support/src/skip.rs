//! Tests that cannot run: skipped loudly (and counted) outside CI, failed under CI.

use std::io::Write as _;

/// Environment variable naming the file where skipped tests are listed, one line each
/// (`scripts/test.sh` sets it and counts the lines).
pub const SKIP_LOG_ENV: &str = "TEST_SKIP_LOG";

/// True when running under CI (`CI=true` or `CI=1`): a missing tool is then a failure.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// Marks `test` as unable to run because of `reason`.
///
/// Under CI this panics, so the test fails. Elsewhere it prints
/// `SKIPPED <test>: <reason>` to stderr and appends `<test>: <reason>` to the
/// file named by `TEST_SKIP_LOG` (when set); the caller then returns early.
///
/// # Panics
/// Under `CI=true`, always.
pub fn skip_or_fail(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: {reason} (CI=true: a test that cannot run fails)");
    }
    // Straight to stderr: shown even though the test harness captures print!.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os(SKIP_LOG_ENV).filter(|p| !p.is_empty()) {
        let line = format!("{test}: {}\n", reason.replace('\n', " "));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            let _ = writeln!(
                std::io::stderr(),
                "cannot record the skip in {}: {e}",
                std::path::Path::new(&path).display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs [`child_skips`] in a child process (the environment is per process) with
    /// `CI=ci`; its output is captured so that its test summary does not mix with ours.
    fn run_child(log: &std::path::Path, ci: &str) -> std::process::Output {
        std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--ignored", "--exact", "skip::tests::child_skips"])
            .env(SKIP_LOG_ENV, log)
            .env("CI", ci)
            .output()
            .expect("run child")
    }

    #[test]
    fn a_skip_is_one_line_in_the_log_or_a_failure_under_ci() {
        let dir = std::env::temp_dir().join(format!("test-support-skip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("skipped.log");
        let _ = std::fs::remove_file(&log);

        assert!(run_child(&log, "false").status.success());
        let text = std::fs::read_to_string(&log).expect("skip log written");
        assert_eq!(text, "child test: tool x not found; run make tools\n");

        let child = run_child(&log, "true");
        assert!(
            !child.status.success(),
            "under CI=true a skip must fail the test"
        );
        let text = std::fs::read_to_string(&log).expect("skip log");
        assert_eq!(
            text.lines().count(),
            1,
            "CI failures are not logged as skips"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Run by the test above, in a child process.
    #[test]
    #[ignore = "run by a_skip_is_one_line_in_the_log_or_a_failure_under_ci"]
    fn child_skips() {
        skip_or_fail("child test", "tool x not found;\nrun make tools");
    }
}
