//! The HTML report: the dashboards' panels drawn into one self-contained file
//! (inline SVG and CSS, nothing fetched), from the same points as the text report.
//!
//! [`Timeline`] (timestamped points) + [`Report`] (the text report's numbers)
//! → [`render_html`] → [`write_html`].

pub mod binning;
pub mod charts;
pub mod page;
pub mod palette;
pub mod timeline;

pub use binning::BUCKET_EDGES_MS;
pub use timeline::Timeline;

use crate::lineproto::LineProtocolError;
use crate::report::Report;
use crate::scenario::Scenario;
use binning::{TimeBins, bucket_counts, heatmap_cells};
use charts::{DrawError, Line, Size};
use page::Panel;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Full-width and half-width chart sizes (px), readable at 1280 px.
const FULL: Size = (1160, 340);
const HALF: Size = (570, 300);
/// Time columns of the heatmap and of the error counts.
const TIME_COLUMNS: usize = 60;

/// What can make the HTML report fail.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// A chart could not be drawn.
    #[error(transparent)]
    Draw(#[from] DrawError),
    /// The report file cannot be written.
    #[error("cannot write the HTML report to {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The points file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The points file is not line protocol.
    #[error("{path}: {source}")]
    Points {
        /// The file.
        path: PathBuf,
        /// Why.
        source: LineProtocolError,
    },
}

/// Renders the page: header line with `source`, the 2x2 table and every panel.
pub fn render_html(
    timeline: &Timeline,
    report: &Report,
    source: &str,
) -> Result<String, HtmlError> {
    let (start_ms, end_ms) = timeline.time_range_ms().unwrap_or((0, 0));
    let span_s = (end_ms - start_ms) as f64 / 1000.0;
    let start = humantime::format_rfc3339_seconds(
        UNIX_EPOCH + Duration::from_millis(u64::try_from(start_ms).unwrap_or(0)),
    );
    let header = format!(
        "source: {} · from {start} (UTC), {:.1} s · {} requests, {} rounds, {} errors",
        page::escape(source),
        span_s,
        timeline.requests.len(),
        timeline.rounds.len(),
        timeline.errors.iter().map(|e| e.count).sum::<u64>(),
    );
    let x = |t: i64| (t - start_ms) as f64 / 1000.0;
    let targets = timeline.targets();
    let per_target = if targets.len() > 1 { HALF } else { FULL };

    let mut request_charts = Vec::new();
    let mut heatmaps = Vec::new();
    let mut histograms = Vec::new();
    let bins = TimeBins::new(start_ms, end_ms, TIME_COLUMNS);
    for target in &targets {
        let of_target = || {
            timeline
                .requests
                .iter()
                .filter(move |r| &r.target == target)
        };
        let lines: Vec<Line> = Scenario::ALL
            .iter()
            .map(|s| Line {
                color: palette::scenario(*s),
                points: sorted(
                    of_target()
                        .filter(|r| r.scenario == *s)
                        .map(|r| (x(r.time_ms), r.total_ms)),
                ),
            })
            .collect();
        request_charts.push((
            target_title(target),
            charts::lines("request times", &lines, span_s, "total_ms (ms)", per_target)?,
        ));
        let cells = heatmap_cells(of_target().map(|r| (r.time_ms, r.total_ms)), bins);
        heatmaps.push((
            target_title(target),
            charts::heatmap(&cells, bins, per_target)?,
        ));
        let counts: Vec<_> = Scenario::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    bucket_counts(of_target().filter(|r| r.scenario == *s).map(|r| r.total_ms)),
                )
            })
            .collect();
        histograms.push((
            target_title(target),
            charts::histogram(&counts, per_target)?,
        ));
    }

    let round_lines: Vec<Line> = Scenario::ALL
        .iter()
        .map(|s| Line {
            color: palette::scenario(*s),
            points: sorted(
                timeline
                    .rounds
                    .iter()
                    .filter(|r| r.scenario == *s)
                    .map(|r| (x(r.time_ms), r.total_ms)),
            ),
        })
        .collect();
    let rounds_chart = charts::lines(
        "round times",
        &round_lines,
        span_s,
        "round total_ms (ms)",
        FULL,
    )?;

    let mut panels = vec![
        Panel {
            id: "panel-requests",
            title: "Request time over time, per target".into(),
            charts: request_charts,
            caption: "Every call's total_ms, one line per scenario. Fresh connections sit above \
                      reused ones by the connection setup (TCP + TLS); spikes are single slow calls."
                .into(),
        },
        Panel {
            id: "panel-rounds",
            title: "Round time per scenario".into(),
            charts: vec![(String::new(), rounds_chart)],
            caption: "One point per round (all targets). A sync round costs about the sum of its calls, \
                      an async round about the slowest one: the gap between the two colours of a connection policy."
                .into(),
        },
        Panel {
            id: "panel-heatmap",
            title: "Heatmap of request time, per target".into(),
            charts: heatmaps,
            caption: format!(
                "Calls per time column ({TIME_COLUMNS} columns) and total_ms bucket (the Telegraf histogram's edges); \
                 darker = more calls. Two bands mean two populations: fresh and reused connections."
            ),
        },
        Panel {
            id: "panel-histogram",
            title: "Histogram of request time, per target".into(),
            charts: histograms,
            caption: "Calls per total_ms bucket (gt < total_ms ≤ le, the Telegraf aggregator's buckets), one bar per \
                      scenario. Fresh-connection bars stand one or two buckets to the right of reused ones."
                .into(),
        },
        Panel {
            id: "panel-phases",
            title: "Where a request's time goes: phase medians".into(),
            charts: vec![(String::new(), charts::phase_bars(report, FULL)?)],
            caption: "The text report's phase medians per scenario, stacked: DNS, TCP connect, TLS handshake, \
                      TTFB, body. A step's median is over the requests that had the step, so a reused connection \
                      shows the setup it paid on its first request; the table's reused column says how rarely. \
                      Fresh connections pay TLS on every call."
                .into(),
        },
    ];
    panels.push(errors_panel(timeline, bins, span_s)?);
    Ok(page::page(report, &header, &panels))
}

fn errors_panel(timeline: &Timeline, bins: TimeBins, span_s: f64) -> Result<Panel, HtmlError> {
    let mut by_class: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in &timeline.errors {
        by_class
            .entry(&e.class)
            .or_insert_with(|| vec![0; bins.columns])[bins.column(e.time_ms)] += e.count;
    }
    let width_s = bins.width_ms() / 1000.0;
    let lines: Vec<Line> = by_class
        .values()
        .enumerate()
        .map(|(i, counts)| Line {
            color: palette::error_class(i),
            points: counts
                .iter()
                .enumerate()
                .map(|(col, n)| ((col as f64 + 0.5) * width_s, *n as f64))
                .collect(),
        })
        .collect();
    let charts = if lines.is_empty() {
        Vec::new()
    } else {
        vec![(
            String::new(),
            charts::lines("errors", &lines, span_s, "errors per column", FULL)?,
        )]
    };
    let classes: Vec<String> = by_class
        .keys()
        .enumerate()
        .map(|(i, class)| format!("{class} ({})", palette::error_class(i).css()))
        .collect();
    let caption = if classes.is_empty() {
        "No errors in this data: every call got a response.".to_string()
    } else {
        format!(
            "Errors per time column by class: {}. A burst in one class points at one cause (timeouts: a slow target; connect: a dead one).",
            classes.join(", ")
        )
    };
    Ok(Panel {
        id: "panel-errors",
        title: "Errors by class over time".into(),
        charts,
        caption,
    })
}

fn target_title(target: &str) -> String {
    if target.is_empty() {
        "target: (none)".into()
    } else {
        format!("target: {target}")
    }
}

fn sorted(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = points.collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Writes the page to `path` (`-` = standard output).
pub fn write_html(path: &Path, html: &str) -> Result<(), HtmlError> {
    use std::io::Write;
    let written = if path.as_os_str() == "-" {
        std::io::stdout().lock().write_all(html.as_bytes())
    } else {
        std::fs::write(path, html)
    };
    written.map_err(|source| HtmlError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a points file and writes its HTML report (with `report`, computed from the same file).
pub fn write_from_points_file(
    points: &Path,
    report: &Report,
    html: &Path,
) -> Result<(), HtmlError> {
    let text = std::fs::read_to_string(points).map_err(|source| HtmlError::Read {
        path: points.to_path_buf(),
        source,
    })?;
    let timeline = Timeline::from_line_protocol(&text).map_err(|source| HtmlError::Points {
        path: points.to_path_buf(),
        source,
    })?;
    let page = render_html(&timeline, report, &points.display().to_string())?;
    write_html(html, &page)
}
