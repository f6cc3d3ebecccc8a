//! Helpers shared by the HTML report tests: reading panels, marks and table cells
//! out of the page (as written, or as a browser's DOM dump), and the skip rule.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// Every panel the report must have, by section id.
pub const PANELS: [&str; 7] = [
    "panel-table",
    "panel-requests",
    "panel-rounds",
    "panel-heatmap",
    "panel-histogram",
    "panel-phases",
    "panel-errors",
];

/// The `<section ... id="ID">...</section>` of a panel.
pub fn panel<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let start = html[..start].rfind("<section")?;
    let end = html[start..].find("</section>")? + start;
    Some(&html[start..end])
}

/// Drawn data in a piece of SVG: `<polyline>` and `<rect>` elements whose stroke
/// or fill is a colour (axes, grid and text are black, backgrounds white; the
/// legends are outside the charts). A polyline needs at least two points.
pub fn data_marks(svg: &str) -> usize {
    let mut marks = 0;
    for tag in ["<polyline ", "<rect "] {
        for (i, _) in svg.match_indices(tag) {
            let end = svg[i..].find('>').map_or(svg.len(), |e| i + e);
            let element = &svg[i..end];
            let coloured = ["fill", "stroke"].iter().any(|a| {
                attr(element, a).is_some_and(|v| {
                    !matches!(
                        v.to_ascii_uppercase().as_str(),
                        "#000000" | "#FFFFFF" | "NONE"
                    )
                })
            });
            let drawn = if tag == "<polyline " {
                attr(element, "points").is_some_and(|p| p.split_whitespace().count() >= 2)
            } else {
                ["width", "height"].iter().all(|a| {
                    attr(element, a)
                        .and_then(|v| v.parse::<f64>().ok())
                        .is_some_and(|v| v > 0.0)
                })
            };
            marks += usize::from(coloured && drawn);
        }
    }
    marks
}

fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let end = element[start..].find('"')? + start;
    Some(&element[start..end])
}

/// (scenario, stat) → cell text of the page's 2x2 table (`data-cell`/`data-stat`).
pub fn html_cells(html: &str) -> BTreeMap<(String, String), String> {
    let mut cells = BTreeMap::new();
    for (i, _) in html.match_indices("<td data-cell=\"") {
        let element = &html[i..];
        let (Some(cell), Some(stat)) = (attr(element, "data-cell"), attr(element, "data-stat"))
        else {
            continue;
        };
        let Some(open) = element.find('>') else {
            continue;
        };
        let Some(close) = element.find("</td>") else {
            continue;
        };
        cells.insert(
            (cell.to_string(), stat.to_string()),
            element[open + 1..close].trim().to_string(),
        );
    }
    cells
}

/// The same map from the text report's 2x2 table (fixed columns: 24-char label, 26-char cells).
pub fn text_cells(text: &str) -> BTreeMap<(String, String), String> {
    let mut cells = BTreeMap::new();
    let mut group = "";
    for line in text.lines() {
        if line.len() <= 24 || line.starts_with("round time") {
            continue;
        }
        let label = line[..24].trim();
        let (name, stat) = match label.split_once(char::is_whitespace) {
            Some((g @ ("sync" | "async"), rest)) => {
                group = g;
                (g, rest.trim())
            }
            _ => (group, label),
        };
        let stat = match stat {
            "p50" => "p50",
            "mean/p95/p99" => "spread",
            "model (ratio)" => "model",
            "rounds" => "rounds",
            _ => continue,
        };
        let rest = &line[24..];
        let (fresh, reused) = rest.split_at(26.min(rest.len()));
        for (policy, value) in [("fresh", fresh), ("reused", reused)] {
            cells.insert(
                (format!("{name}-{policy}"), stat.to_string()),
                value.trim().to_string(),
            );
        }
    }
    cells
}
