//! The demo's settings have one home, `demo_backend`'s defaults; the stack files that
//! must spell them out (compose cannot read Rust) are checked against it here.

use demo_backend::{DEFAULT_HANDSHAKE_DELAY, DEFAULT_RTT, DEFAULT_SERVICES};
use stack_tests::tools::workspace_root;

const SETTINGS: [(&str, &str); 3] = [
    ("DEMO_SERVICES", DEFAULT_SERVICES),
    ("DEMO_HANDSHAKE_DELAY", DEFAULT_HANDSHAKE_DELAY),
    ("DEMO_RTT", DEFAULT_RTT),
];

fn read(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join(name)).expect("stack file")
}

/// Asserts `file` has, for every setting, a line that is `line(var, default)`.
fn assert_lines(file: &str, line: impl Fn(&str, &str) -> String) {
    let text = read(file);
    for (var, default) in SETTINGS {
        let want = line(var, default);
        assert!(
            text.lines().any(|l| l.trim() == want),
            "{file} must say `{want}` (the default of demo_backend)"
        );
    }
}

#[test]
fn compose_defaults_are_the_demo_backends() {
    assert_lines("docker-compose.yml", |var, default| {
        format!("{var}: ${{{var}:-{default}}}")
    });
}

#[test]
fn env_example_is_the_demo_backends() {
    assert_lines(".env.example", |var, default| format!("{var}={default}"));
}

#[test]
fn readme_names_the_demo_defaults() {
    let readme = read("README.md");
    let row = format!("`{DEFAULT_SERVICES}`, `{DEFAULT_HANDSHAKE_DELAY}`, `{DEFAULT_RTT}`");
    assert!(
        readme.contains(&row),
        "README's configuration table must give the demo defaults {row}"
    );
}
