//! `probe-async-fresh`: see the `probe` crate.

fn main() -> std::process::ExitCode {
    probe::main(probe::Scenario::AsyncFresh)
}
