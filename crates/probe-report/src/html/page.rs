//! The page around the charts: the one HTML template, the legends and the tables.
//!
//! Self-contained: inline CSS and SVG, no script, and a Content-Security-Policy
//! that forbids the page to load anything.

use super::charts::STACKED_PHASES;
use super::palette::{self, Rgb};
use crate::render::{self, reading};
use crate::report::Report;
use crate::samples::Phase;
use crate::scenario::Scenario;
use std::fmt::Write;

/// One panel: a title, one or more charts (each with an optional sub-title), a caption.
pub struct Panel {
    /// `id` of the section, e.g. `panel-heatmap`.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// (sub-title, SVG) per chart.
    pub charts: Vec<(String, String)>,
    /// What to look for.
    pub caption: String,
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d232b}
main{max-width:1240px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:0 0 8px}h3{font-size:14px;margin:4px 0;color:#444}
.meta{color:#555;font-size:14px;margin:0 0 12px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:14px 16px;margin:14px 0}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;flex:1 1 560px;min-width:0}figure svg{width:100%;height:auto;display:block}
.caption{color:#444;font-size:14px;margin:8px 0 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:14px;margin:6px 0}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-2px;margin-right:6px}
table{border-collapse:collapse;font-size:14px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #dde1e6;padding:5px 10px;text-align:right}th{background:#f0f2f5}
td.label,th.label{text-align:left}
.reading{font-size:16px;margin:10px 0 0}
.none{color:#666;font-style:italic}";

/// The whole page.
pub fn page(report: &Report, header: &str, panels: &[Panel]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Backend call timing report</title>\n");
    let _ = writeln!(out, "<style>\n{STYLE}\n</style>\n</head>\n<body>\n<main>");
    out.push_str("<h1>Backend call timing: sync/async × fresh/reused</h1>\n");
    let _ = writeln!(out, "<p class=\"meta\">{header}</p>");
    out.push_str(&legends());
    table_section(&mut out, report);
    for panel in panels {
        panel_section(&mut out, panel);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn legends() -> String {
    let item = |c: Rgb, name: &str, title: &str| {
        format!(
            "<span title=\"{}\"><span class=\"swatch\" style=\"background:{}\"></span>{}</span>",
            escape(title),
            c.css(),
            escape(name)
        )
    };
    let scenarios: Vec<String> = Scenario::ALL
        .iter()
        .map(|s| item(palette::scenario(*s), s.as_str(), s.about()))
        .collect();
    let phases: Vec<String> = STACKED_PHASES
        .iter()
        .map(|p| item(palette::phase(*p), phase_name(*p), p.field()))
        .collect();
    format!(
        "<div class=\"legend\" id=\"legend-scenarios\"><strong>scenarios</strong> {}</div>\n\
         <div class=\"legend\" id=\"legend-phases\"><strong>phases</strong> {}</div>\n",
        scenarios.join(" "),
        phases.join(" ")
    )
}

/// The phase's name in the legend.
pub fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "DNS",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS handshake",
        Phase::Ttfb => "TTFB",
        Phase::Body => "body",
        Phase::Total => "total",
    }
}

/// Formats one cell the way the text report does.
type CellFormat = fn(&crate::report::Cell) -> String;

/// The 2x2 table, the phase table and the reading, with the text report's numbers.
fn table_section(out: &mut String, report: &Report) {
    out.push_str(
        "<section class=\"panel\" id=\"panel-table\">\n<h2>Round time: the 2×2 table</h2>\n",
    );
    let title = match report.targets {
        1 => "round time, 1 target".to_string(),
        n => format!("round time, {n} targets"),
    };
    let _ = writeln!(
        out,
        "<table id=\"table-2x2\">\n<tr><th class=\"label\">{title}</th><th>fresh connection</th><th>reused connection</th></tr>"
    );
    for (name, fresh, reused) in [
        ("sync", Scenario::SyncFresh, Scenario::SyncReused),
        ("async", Scenario::AsyncFresh, Scenario::AsyncReused),
    ] {
        let mut rows: Vec<(&str, &str, CellFormat)> = vec![
            ("p50", "p50", render::p50),
            ("mean/p95/p99", "spread", render::spread),
        ];
        if report.model.is_some() {
            rows.push(("model (ratio)", "model", render::model));
        }
        rows.push(("rounds", "rounds", render::rounds));
        for (label, stat, format) in rows {
            let _ = write!(out, "<tr><td class=\"label\">{name} {label}</td>");
            for s in [fresh, reused] {
                let _ = write!(
                    out,
                    "<td data-cell=\"{}\" data-stat=\"{stat}\">{}</td>",
                    s.as_str(),
                    escape(&format(report.cell(s)))
                );
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</table>\n");
    for line in reading(report) {
        let _ = writeln!(out, "<p class=\"reading\">{}</p>", escape(&line));
    }
    phase_table(out, report);
    out.push_str(
        "<p class=\"caption\">The same numbers as <code>probe-report</code>'s text table (HDR histogram percentiles). \
         Sync pays the sum of its targets per round, async only the slowest; reuse removes the connection setup.</p>\n</section>\n",
    );
}

fn phase_table(out: &mut String, report: &Report) {
    out.push_str("<h3>medians per request (ms)</h3>\n<table id=\"table-phases\">\n<tr><th class=\"label\">scenario</th>");
    for p in Phase::ALL {
        let _ = write!(out, "<th>{}</th>", p.label());
    }
    out.push_str("<th>reused</th><th>errors</th></tr>\n");
    for row in &report.phases {
        let _ = write!(out, "<tr><td class=\"label\">{}</td>", row.scenario);
        for p in Phase::ALL {
            let v = row.median_ms.get(p.label()).copied().flatten();
            let _ = write!(
                out,
                "<td>{}</td>",
                v.map_or("-".into(), |v| format!("{v:.1}"))
            );
        }
        let reused = row.reused_pct.map_or("-".into(), |p| format!("{p:.0}%"));
        let errors: u64 = row.errors.values().sum();
        let _ = writeln!(out, "<td>{reused}</td><td>{errors}</td></tr>");
    }
    out.push_str("</table>\n");
}

fn panel_section(out: &mut String, panel: &Panel) {
    let _ = writeln!(
        out,
        "<section class=\"panel\" id=\"{}\">\n<h2>{}</h2>\n<div class=\"charts\">",
        panel.id,
        escape(&panel.title)
    );
    if panel.charts.is_empty() {
        out.push_str("<p class=\"none\">Nothing to draw in this data.</p>\n");
    }
    for (subtitle, svg) in &panel.charts {
        out.push_str("<figure>");
        if !subtitle.is_empty() {
            let _ = write!(out, "<h3>{}</h3>", escape(subtitle));
        }
        out.push_str(svg_body(svg));
        out.push_str("</figure>\n");
    }
    let _ = writeln!(
        out,
        "</div>\n<p class=\"caption\">{}</p>\n</section>",
        escape(&panel.caption)
    );
}

/// The `<svg>` element without a leading XML declaration.
fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(svg_body("<?xml?>\n<svg a>"), "<svg a>");
    }
}
