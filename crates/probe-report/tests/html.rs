//! `probe-report --html`: every panel drawn from a points file, the table's numbers
//! equal to the text report's, one set of histogram buckets, bad input.

mod common;

use assert_cmd::Command;
use common::{PANELS, data_marks, html_cells, panel, text_cells};
use predicates::prelude::*;
use probe_report::html::{BUCKET_EDGES_MS, Timeline, render_html};
use probe_report::{Report, parse_line_protocol};
use std::path::Path;

const FIXTURE: &str = "tests/fixtures/points.lp";

fn probe_report() -> Command {
    let mut cmd = Command::cargo_bin("probe-report").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("INFLUX_URL")
        .env_remove("INFLUX_TOKEN")
        .env_remove("INFLUX_BUCKET");
    cmd
}

fn workspace_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn bucket_edges_are_telegrafs_and_the_dashboards() {
    let conf = workspace_file("telegraf/telegraf.conf");
    let line = conf
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("buckets"))
        .expect("buckets line in telegraf.conf");
    let inner = line
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .expect("[...]")
        .0;
    let telegraf: Vec<f64> = inner
        .split(',')
        .map(|s| s.trim().parse().expect("number"))
        .collect();
    assert_eq!(telegraf, BUCKET_EDGES_MS, "telegraf/telegraf.conf buckets");

    let go = workspace_file("tools/validate/dashboards.go");
    let line = go
        .lines()
        .find(|l| l.starts_with("var histogramBucketsMs"))
        .expect("histogramBucketsMs in dashboards.go");
    let inner = line
        .split_once('{')
        .and_then(|(_, r)| r.split_once('}'))
        .expect("{...}")
        .0;
    let dashboards: Vec<&str> = inner
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .collect();
    let mut expected: Vec<String> = BUCKET_EDGES_MS.iter().map(|e| e.to_string()).collect();
    expected.push("+Inf".into());
    assert_eq!(dashboards, expected, "tools/validate/dashboards.go buckets");
}

#[test]
fn html_from_a_points_file_has_every_panel_and_the_text_reports_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html_path = dir.path().join("report.html");
    let model = [
        "--model",
        "fast=20ms~2ms,slow=40ms~3ms",
        "--handshake-delay",
        "35ms",
    ];
    let out = probe_report()
        .args(["--file", FIXTURE])
        .args(model)
        .arg("--html")
        .arg(&html_path)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("html report: {}", html_path.display())),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&html_path).expect("html written");

    for id in PANELS {
        assert!(panel(&html, id).is_some(), "panel {id} missing");
    }
    for id in &PANELS[1..6] {
        let marks = data_marks(panel(&html, id).expect("present"));
        assert!(marks > 0, "panel {id} has no drawn data");
    }
    // 2 targets x 4 scenarios of lines; one round line per scenario.
    assert_eq!(
        data_marks(panel(&html, "panel-requests").expect("present")),
        8
    );
    assert_eq!(
        data_marks(panel(&html, "panel-rounds").expect("present")),
        4
    );
    assert_eq!(
        data_marks(panel(&html, "panel-errors").expect("present")),
        0,
        "no errors in the fixture"
    );

    // The table shows exactly the text report's strings (percentiles included).
    let text = String::from_utf8_lossy(&out.stdout);
    let from_text = text_cells(&text);
    assert_eq!(from_text.len(), 16, "4 stats x 4 scenarios in:\n{text}");
    assert_eq!(html_cells(&html), from_text);
    let report_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("reading") || l.starts_with("async saves"))
        .collect();
    for line in report_lines {
        assert!(html.contains(line), "reading line {line:?} in the page");
    }
}

#[test]
fn the_page_loads_nothing() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
        .expect("fixture");
    let samples = parse_line_protocol(&text).expect("valid");
    let timeline = Timeline::from_line_protocol(&text).expect("valid");
    let html = render_html(&timeline, &Report::new(&samples, None), "fixture").expect("renders");
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    for needle in [
        "<script", "<link", "<img", "src=", "href=", "url(", "@import",
    ] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    // The only URLs are SVG namespace names, which are never fetched.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    let namespaces = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(urls, namespaces);
}

#[test]
fn errors_are_drawn_by_class_over_time() {
    let mut text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
        .expect("fixture");
    text.push_str("http_error,scenario=sync-fresh,target=slow,error_class=timeout count=1i 1795673948010056786\n");
    text.push_str("http_error,scenario=async-fresh,target=slow,error_class=connect count=2i 1795673949010056786\n");
    let samples = parse_line_protocol(&text).expect("valid");
    let timeline = Timeline::from_line_protocol(&text).expect("valid");
    let html = render_html(&timeline, &Report::new(&samples, None), "fixture").expect("renders");
    let errors = panel(&html, "panel-errors").expect("present");
    assert_eq!(data_marks(errors), 2, "one line per class");
    assert!(
        errors.contains("connect (#") && errors.contains("timeout (#"),
        "{errors}"
    );
    assert!(html.contains("3 errors"), "header counts the errors");
}

#[test]
fn large_input_is_downsampled() {
    // 100,000 requests over 10,000 s: the page stays small.
    let mut text = String::new();
    for i in 0..100_000u64 {
        let scenario =
            ["sync-fresh", "sync-reused", "async-fresh", "async-reused"][(i % 4) as usize];
        let target = if i % 8 < 4 { "fast" } else { "slow" };
        let total = 20.0 + (i % 97) as f64;
        text.push_str(&format!(
            "http_request,scenario={scenario},target={target},reused=false total_ms={total},ttfb_ms={total} {}\n",
            1_700_000_000_000_000_000 + i * 100_000_000
        ));
    }
    let samples = parse_line_protocol(&text).expect("valid");
    let timeline = Timeline::from_line_protocol(&text).expect("valid");
    let html = render_html(&timeline, &Report::new(&samples, None), "generated").expect("renders");
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert!(data_marks(panel(&html, "panel-heatmap").expect("present")) > 0);
}

#[test]
fn empty_points_file_says_no_data_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let points = dir.path().join("empty.lp");
    let html = dir.path().join("report.html");
    std::fs::write(&points, "").expect("write");
    probe_report()
        .arg("--file")
        .arg(&points)
        .arg("--html")
        .arg(&html)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no probe data in")
                .and(predicate::str::is_match("^[^\n]*\n$").expect("regex")),
        );
    assert!(!html.exists());
}

#[test]
fn unwritable_html_path_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("no/such/dir/report.html");
    probe_report()
        .args(["--file", FIXTURE, "--html"])
        .arg(&html)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!(
                "cannot write the HTML report to {}",
                html.display()
            ))
            .and(predicate::str::is_match("^probe-report: [^\n]*\n$").expect("regex")),
        );
}

#[test]
fn missing_html_value_is_a_usage_error() {
    probe_report()
        .args(["--file", FIXTURE, "--html"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--html"));
}

#[test]
fn html_to_stdout_replaces_the_table() {
    let out = probe_report()
        .args(["--file", FIXTURE, "--html", "-"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("<!DOCTYPE html>"), "{stdout}");
    assert!(stdout.trim_end().ends_with("</html>"));
    assert!(!stdout.contains("sync   p50"), "no text table on stdout");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "html report: standard output\n"
    );
}
