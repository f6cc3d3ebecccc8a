//! Helpers the workspace's tests share (never a dependency of a shipped crate):
//!
//! * [`skip`]: a test that cannot run for want of a tool fails under `CI=true`,
//!   else is counted as skipped ([`skip_or_fail`]);
//! * [`net`]: fault servers and ports on 127.0.0.1;
//! * [`backend`]: an in-process demo backend with its certificates;
//! * [`procs`]: child processes stopped on drop, polling until ready;
//! * [`limits`]: bounded runs of a binary fed extreme values.

pub mod backend;
pub mod limits;
pub mod net;
pub mod procs;
pub mod skip;

pub use skip::{in_ci, skip_or_fail};

/// Asserts a command refused bad input the project's way: exit code 2, one line
/// on stderr naming `bad_value` and saying `expected`, nothing on stdout.
///
/// # Panics
/// When it did not.
#[track_caller]
pub fn assert_usage_error(out: &std::process::Output, bad_value: &str, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(bad_value) && stderr.contains(expected),
        "names {bad_value} and says {expected}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
}
