//! The HTML report of a short demo run, loaded in a real headless Chromium:
//! every panel drawn, the 2x2 numbers equal to the text report's, no network
//! request from the page, a screenshot that is not blank.
//!
//! Needs `chromium` (Debian package; or set `CHROMIUM`) and the demo binaries
//! (`cargo build --workspace --bins`, or `PROBE_BIN_DIR`). Missing ones skip
//! the test loudly, and fail it under `CI=true`. `UPDATE_DOCS=1` runs a longer
//! demo and writes the screenshot to `docs/report.png` for the README.

mod common;

use common::{PANELS, data_marks, html_cells, panel, text_cells};
use probe_report::Scenario;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::skip_or_fail;

const TEST: &str = "browser::demo_report_in_headless_chromium";
/// Viewport of the screenshot: the page's width target, tall enough for every panel.
const WINDOW: &str = "1280,3300";
/// Luminance variance (0..255 scale) of a page with charts; a blank page has 0.
const MIN_VARIANCE: f64 = 200.0;

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

fn bin_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os("PROBE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug"));
    let mut names: Vec<&str> = Scenario::ALL.iter().map(|s| s.binary()).collect();
    // probe-demo from the same directory, whichever crate builds it.
    names.extend(["demo-backend", "probe-demo"]);
    let missing: Vec<&&str> = names.iter().filter(|n| !dir.join(n).is_file()).collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(format!(
            "missing {missing:?} in {}; build them with `cargo build --workspace --bins` or set PROBE_BIN_DIR",
            dir.display()
        ))
    }
}

/// Runs headless Chromium on `page` with `extra` arguments; returns its stdout.
fn chromium(chromium: &Path, profile: &Path, page: &Path, extra: &[String]) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WINDOW}"))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let reader = {
        let mut stdout = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(status.success(), "chromium failed ({status}):\n{stderr}");
    reader.join().expect("reader thread").expect("utf-8 DOM")
}

/// URLs requested by pages (not by the browser itself) in a Chromium net log:
/// requests started with an initiator origin; the browser's own background
/// requests have none (`not an origin`).
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("net log written");
    let log: serde_json::Value = serde_json::from_str(&text).expect("net log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("URL_REQUEST_START_JOB in the log's constants");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["initiator"]
                .as_str()
                .is_some_and(|i| i != "not an origin")
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect()
}

/// Variance of the luminance of a PNG's pixels.
fn luminance_variance(png_path: &Path) -> f64 {
    let file = std::fs::File::open(png_path).expect("screenshot written");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    let lum: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| match p {
            [r, g, b, ..] => {
                0.2126 * f64::from(*r) + 0.7152 * f64::from(*g) + 0.0722 * f64::from(*b)
            }
            [v, ..] => f64::from(*v),
            [] => 0.0,
        })
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64
}

#[test]
fn demo_report_in_headless_chromium() {
    let Some(browser) = find_chromium() else {
        skip_or_fail(
            TEST,
            "chromium not found (apt-get install chromium, or set CHROMIUM)",
        );
        return;
    };
    let dir = match bin_dir() {
        Ok(dir) => dir,
        Err(reason) => {
            skip_or_fail(TEST, &reason);
            return;
        }
    };
    let update_docs = std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1");
    let tmp = tempfile::tempdir().expect("tempdir");
    let points = tmp.path().join("demo-out/points.lp");
    let out = Command::new(dir.join("probe-demo"))
        .args(["--rounds", if update_docs { "20" } else { "3" }, "--out"])
        .arg(&points)
        .arg("--bin-dir")
        .arg(&dir)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "probe-demo failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = tmp.path().join("demo-out/report.html");
    assert!(
        stdout.contains(&format!("html report: {}", html.display())),
        "probe-demo says where the report is:\n{stdout}"
    );

    // The DOM as Chromium built it, with a log of every network request.
    let net_log = tmp.path().join("net.json");
    let dom = chromium(
        &browser,
        &tmp.path().join("profile-dom"),
        &html,
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", net_log.display()),
        ],
    );
    for id in PANELS {
        let section = panel(&dom, id).unwrap_or_else(|| panic!("panel {id} missing from the DOM"));
        // The errors panel draws only when there are errors; the demo has none.
        if !matches!(id, "panel-table" | "panel-errors") {
            assert!(
                data_marks(section) > 0,
                "panel {id} has no drawn data in the DOM"
            );
        }
    }
    let from_text = text_cells(&stdout);
    assert_eq!(
        from_text.len(),
        16,
        "2x2 table with the model in:\n{stdout}"
    );
    assert_eq!(
        html_cells(&dom),
        from_text,
        "2x2 numbers in the DOM vs the text report"
    );
    assert!(dom.contains("default-src 'none'"), "CSP meta in the DOM");
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!dom.contains(attr), "{attr} in the DOM");
    }
    let requests = page_requests(&net_log);
    assert!(
        requests.is_empty(),
        "the page made network requests: {requests:?}"
    );

    // Control: the same check sees the requests of a page that does load something.
    let leaky = tmp.path().join("leaky.html");
    std::fs::write(
        &leaky,
        "<html><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>",
    )
    .expect("write control page");
    let control_log = tmp.path().join("control-net.json");
    chromium(
        &browser,
        &tmp.path().join("profile-control"),
        &leaky,
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", control_log.display()),
        ],
    );
    assert_eq!(
        page_requests(&control_log),
        vec!["http://127.0.0.1:9/x.png".to_string()]
    );

    let shot = tmp.path().join("report.png");
    chromium(
        &browser,
        &tmp.path().join("profile-shot"),
        &html,
        &[format!("--screenshot={}", shot.display())],
    );
    let variance = luminance_variance(&shot);
    eprintln!("screenshot luminance variance {variance:.0} (blank: 0, minimum {MIN_VARIANCE})");
    assert!(
        variance > MIN_VARIANCE,
        "screenshot looks blank: luminance variance {variance:.1}"
    );
    if update_docs {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.png");
        std::fs::copy(&shot, &docs).expect("copy the screenshot to docs/");
        eprintln!("wrote {}", docs.display());
    }
}
