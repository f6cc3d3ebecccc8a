//! Plain-text rendering of a [`Report`], readable in an 80-column terminal.

use crate::report::{Cell, Report};
use crate::samples::Phase;
use crate::scenario::Scenario;
use std::fmt::Write;

const LABEL_WIDTH: usize = 24;
const CELL_WIDTH: usize = 26;

/// Renders the 2x2 round table, the per-scenario phase table and a reading.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    round_table(&mut out, report);
    out.push('\n');
    phase_table(&mut out, report);
    out.push('\n');
    for line in reading(report) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn round_table(out: &mut String, report: &Report) {
    let title = match report.targets {
        0 => "round time".to_string(),
        1 => "round time, 1 target".to_string(),
        n => format!("round time, {n} targets"),
    };
    row(out, &title, "fresh connection", "reused connection");
    for (name, fresh, reused) in [
        ("sync", Scenario::SyncFresh, Scenario::SyncReused),
        ("async", Scenario::AsyncFresh, Scenario::AsyncReused),
    ] {
        let (f, r) = (report.cell(fresh), report.cell(reused));
        row(out, &format!("{name:<7}p50"), &p50(f), &p50(r));
        row(out, "       mean/p95/p99", &spread(f), &spread(r));
        if report.model.is_some() {
            row(out, "       model (ratio)", &model(f), &model(r));
        }
        row(out, "       rounds", &rounds(f), &rounds(r));
    }
}

fn row(out: &mut String, label: &str, fresh: &str, reused: &str) {
    let line = format!("{label:<LABEL_WIDTH$}{fresh:<CELL_WIDTH$}{reused}");
    let _ = writeln!(out, "{}", line.trim_end());
}

pub(crate) fn p50(cell: &Cell) -> String {
    cell.round
        .map_or("-".into(), |r| format!("{:.1} ms", r.p50_ms))
}

pub(crate) fn spread(cell: &Cell) -> String {
    cell.round.map_or("-".into(), |r| {
        format!("{:.1} / {:.1} / {:.1}", r.mean_ms, r.p95_ms, r.p99_ms)
    })
}

pub(crate) fn model(cell: &Cell) -> String {
    match (cell.model_ms, cell.ratio) {
        (Some(m), Some(ratio)) => format!("{m:.1} ms ({ratio:.2})"),
        (Some(m), None) => format!("{m:.1} ms"),
        _ => "-".into(),
    }
}

pub(crate) fn rounds(cell: &Cell) -> String {
    cell.round.map_or("0".into(), |r| r.count.to_string())
}

fn phase_table(out: &mut String, report: &Report) {
    let _ = write!(out, "{:<14}", "medians (ms)");
    for phase in Phase::ALL {
        let _ = write!(out, "{:>8}", phase.label());
    }
    let _ = writeln!(out, "{:>8}{:>8}", "reused", "errors");
    for row in &report.phases {
        let _ = write!(out, "{:<14}", row.scenario.as_str());
        for phase in Phase::ALL {
            let value = row.median_ms.get(phase.label()).copied().flatten();
            let _ = write!(
                out,
                "{:>8}",
                value.map_or("-".into(), |v| format!("{v:.1}"))
            );
        }
        let reused = row.reused_pct.map_or("-".into(), |p| format!("{p:.0}%"));
        let errors: u64 = row.errors.values().sum();
        let _ = writeln!(out, "{reused:>8}{errors:>8}");
    }
    let classes: Vec<String> = report
        .phases
        .iter()
        .filter(|r| !r.errors.is_empty())
        .map(|r| {
            let list: Vec<String> = r.errors.iter().map(|(c, n)| format!("{c}={n}")).collect();
            format!("{} {}", r.scenario, list.join(" "))
        })
        .collect();
    if !classes.is_empty() {
        let _ = writeln!(out, "errors by class: {}", classes.join("; "));
    }
}

/// The one-sentence reading of the table (two short lines), from the medians.
pub fn reading(report: &Report) -> Vec<String> {
    let p = |s| report.p50_ms(s);
    let saving = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.1} ms", a - b),
        _ => "? ms".into(),
    };
    use Scenario::*;
    vec![
        format!(
            "reading (p50): reuse saves {} per round in sync, {} in async;",
            saving(p(SyncFresh), p(SyncReused)),
            saving(p(AsyncFresh), p(AsyncReused)),
        ),
        format!(
            "async saves {} per round on fresh connections, {} on reused ones.",
            saving(p(SyncFresh), p(AsyncFresh)),
            saving(p(SyncReused), p(AsyncReused)),
        ),
    ]
}
