//! Helpers the workspace's tests share (never a dependency of a shipped crate):
//!
//! * [`skip`]: a test that cannot run for want of a tool fails under `CI=true`,
//!   else is counted as skipped ([`skip_or_fail`]);
//! * [`net`]: fault servers and ports on 127.0.0.1;
//! * [`backend`]: an in-process demo backend with its certificates;
//! * [`procs`]: child processes stopped on drop, polling until ready.

pub mod backend;
pub mod net;
pub mod procs;
pub mod skip;

pub use skip::{in_ci, skip_or_fail};
