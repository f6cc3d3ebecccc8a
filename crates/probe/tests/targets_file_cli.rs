//! A bad targets file: exit code 2 and one stderr line naming the file, the
//! line and column, and what is expected (snapshots under `tests/snapshots/`).

mod common;

use common::{Bin, command, run};

/// Writes `text` to `t.toml` in a fresh directory, runs `bin` there with
/// `--targets-file t.toml` and `args`, and returns its one stderr line.
fn refusal_of(bin: Bin, text: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    if let Some(text) = text {
        std::fs::write(dir.path().join("t.toml"), text).expect("write");
    }
    let mut cmd = command(bin);
    cmd.current_dir(dir.path())
        .args([
            "--targets-file",
            "t.toml",
            "--rounds",
            "1",
            "--sink",
            "stdout",
        ])
        .args(args)
        .env_remove("PROBE_TEST_TOKEN")
        .envs(env.iter().copied());
    let run = run(cmd);
    assert_eq!(run.code, Some(2), "stderr:\n{}", run.stderr);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "one line expected:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing probed: {}", run.stdout);
    let line = lines[0].to_owned();
    assert!(
        line.starts_with(&format!("{}: error: ", bin.name())),
        "{line}"
    );
    line
}

fn refusal(text: Option<&str>) -> String {
    refusal_of(Bin::SyncFresh, text, &[], &[])
}

const HEAD: &str = "[[target]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/\"\n";

#[test]
fn targets_file_missing() {
    insta::assert_snapshot!(refusal(None));
}

#[test]
fn targets_file_empty() {
    insta::assert_snapshot!(refusal(Some("")));
}

#[test]
fn targets_file_with_comments_only() {
    insta::assert_snapshot!(refusal(Some("\n# nothing yet\n")));
}

#[test]
fn targets_file_without_targets_and_no_other_target() {
    insta::assert_snapshot!(refusal(Some("[defaults]\ntimeout = \"2s\"\n")));
}

#[test]
fn targets_file_not_toml() {
    insta::assert_snapshot!(refusal(Some("[[target]\nname = \"a\"\n")));
}

#[test]
fn targets_file_unknown_key() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}expect_staus = [200]\n"))));
}

#[test]
fn targets_file_bad_regex() {
    insta::assert_snapshot!(refusal(Some(&format!(
        "{HEAD}expect_body = \"(unclosed\"\n"
    ))));
}

#[test]
fn targets_file_bad_status_pattern() {
    insta::assert_snapshot!(refusal(Some(&format!(
        "{HEAD}expect_status = [\"2xx\", \"7xx\"]\n"
    ))));
}

#[test]
fn targets_file_bad_method() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}method = \"FETCH\"\n"))));
}

#[test]
fn targets_file_bad_duration() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}timeout = \"soon\"\n"))));
}

#[test]
fn targets_file_duration_above_a_year() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}timeout = \"366d\"\n"))));
}

#[test]
fn targets_file_zero_duration() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}timeout = \"0s\"\n"))));
}

#[test]
fn targets_file_bad_http_version() {
    insta::assert_snapshot!(refusal(Some(&format!("{HEAD}http = \"3\"\n"))));
}

#[test]
fn targets_file_unset_variable() {
    insta::assert_snapshot!(refusal(Some(&format!(
        "{HEAD}headers = {{ Authorization = \"Bearer ${{PROBE_TEST_TOKEN}}\" }}\n"
    ))));
}

#[test]
fn targets_file_tag_colliding_with_the_schema() {
    insta::assert_snapshot!(refusal(Some(&format!(
        "{HEAD}tags = {{ scenario = \"x\" }}\n"
    ))));
}

#[test]
fn targets_file_duplicate_of_an_argument() {
    let line = refusal_of(
        Bin::AsyncReused,
        Some(HEAD),
        &["a=http://127.0.0.1:10/"],
        &[],
    );
    insta::assert_snapshot!(line);
}

/// A bad header value names the header, never the value (a secret).
#[test]
fn targets_file_bad_header_value_stays_secret() {
    let line = refusal_of(
        Bin::SyncReused,
        Some(&format!(
            "{HEAD}headers = {{ Authorization = \"Bearer ${{PROBE_TEST_TOKEN}}\" }}\n"
        )),
        &[],
        &[("PROBE_TEST_TOKEN", "sec\u{7f}ret-value")],
    );
    assert!(!line.contains("ret-value"), "{line}");
    insta::assert_snapshot!(line);
}

#[test]
fn targets_file_from_the_environment() {
    let line = refusal_of(
        Bin::SyncFresh,
        Some(&format!("{HEAD}method = \"FETCH\"\n")),
        &[],
        &[],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("env.toml"),
        format!("{HEAD}method = \"FETCH\"\n"),
    )
    .expect("write");
    let mut cmd = command(Bin::AsyncFresh);
    cmd.current_dir(dir.path())
        .args(["--rounds", "1", "--sink", "none"])
        .env("PROBE_TARGETS_FILE", "env.toml");
    let run = run(cmd);
    assert_eq!(run.code, Some(2));
    let from_env = run
        .stderr
        .trim()
        .replace("env.toml", "t.toml")
        .replace("async-fresh", "sync-fresh");
    assert_eq!(from_env, line);
}

#[test]
fn empty_targets_file_variable_means_no_file() {
    let mut cmd = command(Bin::SyncFresh);
    cmd.args(["--rounds", "1", "--interval", "0s", "--sink", "none"])
        .arg(format!("http://127.0.0.1:{}/", common::closed_port()))
        .env("PROBE_TARGETS_FILE", "");
    let run = run(cmd);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn bad_http_version_option() {
    let mut cmd = command(Bin::SyncFresh);
    cmd.args(["--http", "3", "http://127.0.0.1:9/"]);
    let run = run(cmd);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    insta::assert_snapshot!(run.stderr.trim());
}
