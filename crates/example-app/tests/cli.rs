//! Bad input to `example-app` is refused in one line with exit code 2.

use assert_cmd::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("example-app")
        .expect("binary")
        .args(args)
        .env_remove("EXAMPLE_LISTEN")
        .env_remove("EXAMPLE_BACKEND")
        .env_remove("TELEGRAF_URL")
        .output()
        .expect("runs")
}

#[test]
fn a_bad_listen_address_is_refused() {
    let out = run(&["--listen", "nowhere"]);
    test_support::assert_usage_error(&out, "nowhere", "--listen");
}

#[test]
fn a_bad_telegraf_url_is_refused() {
    let out = run(&["--telegraf", "ftp://x:1"]);
    test_support::assert_usage_error(&out, "ftp://x:1", "--telegraf");
}

#[test]
fn an_unreadable_ca_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("missing-ca.pem");
    let out = run(&["--ca-cert", path.to_str().expect("utf-8"), "--stdout"]);
    test_support::assert_usage_error(&out, "missing-ca.pem", "cannot read CA certificate file");
}
