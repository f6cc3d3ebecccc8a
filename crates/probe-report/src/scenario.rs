//! The four probe scenarios, as the probes define them.

pub use probe::Scenario;
