//! `probe-sync-fresh`: see the `probe` crate.

fn main() -> std::process::ExitCode {
    probe::main(probe::Scenario::SyncFresh)
}
