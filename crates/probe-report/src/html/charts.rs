//! The panels' charts, drawn by `plotters` into SVG strings.
//!
//! Legends are in the page (one per colour set, shared by all panels), so
//! every coloured mark in a chart is data.

use super::binning::{self, BUCKETS, TimeBins};
use super::palette::{self, Rgb};
use crate::report::Report;
use crate::samples::Phase;
use crate::scenario::Scenario;
use plotters::prelude::*;

/// A chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {chart} chart: {message}")]
pub struct DrawError {
    chart: &'static str,
    message: String,
}

/// Width and height of a chart in px.
pub type Size = (u32, u32);

/// Pixels of the plot area's left and bottom labels.
const Y_LABEL_PX: u32 = 64;
const X_LABEL_PX: u32 = 44;
const FONT: &str = "sans-serif";

/// One coloured line: its points (x, y), sorted by x.
pub struct Line {
    /// Stroke colour.
    pub color: Rgb,
    /// Points, sorted by x.
    pub points: Vec<(f64, f64)>,
}

fn fail(chart: &'static str) -> impl Fn(String) -> DrawError {
    move |message| DrawError { chart, message }
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Lines over time; x in seconds since the start, y in `y_desc` units from 0.
/// Each line is downsampled to the plot's pixel width.
pub fn lines(
    chart_name: &'static str,
    lines: &[Line],
    x_max_s: f64,
    y_desc: &str,
    size: Size,
) -> Result<String, DrawError> {
    let err = fail(chart_name);
    let y_max = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    let x_max = x_max_s.max(1e-3);
    let pixels = size.0.saturating_sub(Y_LABEL_PX + 20) as usize;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(X_LABEL_PX)
            .y_label_area_size(Y_LABEL_PX)
            .build_cartesian_2d(0.0..x_max, 0.0..nice_max(y_max))
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("time since the first point (s)")
            .y_desc(y_desc)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for line in lines {
            let points = binning::downsample(&line.points, (0.0, x_max), pixels);
            chart
                .draw_series(LineSeries::new(
                    points,
                    ShapeStyle::from(color(line.color)).stroke_width(2),
                ))
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// Heatmap of latency buckets over time: one rectangle per non-empty cell,
/// darker for more calls. Rows are the histogram buckets present in the data.
pub fn heatmap(cells: &[[u64; BUCKETS]], bins: TimeBins, size: Size) -> Result<String, DrawError> {
    let err = fail("heatmap");
    let (lo, hi) = used_buckets(cells.iter().copied());
    let max = cells.iter().flatten().copied().max().unwrap_or(0).max(1);
    let x_max_s = (bins.end_ms - bins.start_ms) as f64 / 1000.0;
    let width_s = bins.width_ms() / 1000.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(X_LABEL_PX)
            .y_label_area_size(Y_LABEL_PX)
            .build_cartesian_2d(
                0.0..(width_s * bins.columns as f64).max(x_max_s).max(1e-3),
                lo as f64..hi as f64,
            )
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time since the first point (s)")
            .y_desc("total_ms bucket edge (ms)")
            .x_label_formatter(&tick)
            .y_labels(hi - lo + 1)
            .y_label_formatter(&boundary_formatter)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        let rects = cells.iter().enumerate().flat_map(|(col, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(move |(bucket, n)| {
                    let x0 = col as f64 * width_s;
                    let shade = palette::heat((*n as f64 / max as f64).sqrt());
                    Rectangle::new(
                        [(x0, bucket as f64), (x0 + width_s, bucket as f64 + 1.0)],
                        color(shade).filled(),
                    )
                })
        });
        chart.draw_series(rects).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// Histogram bars: per bucket, one bar per scenario (its colour) with the count.
pub fn histogram(counts: &[(Scenario, [u64; BUCKETS])], size: Size) -> Result<String, DrawError> {
    let err = fail("histogram");
    let (lo, hi) = used_buckets(counts.iter().map(|(_, c)| *c));
    let y_max = counts.iter().flat_map(|(_, c)| c.iter()).copied().max();
    let slot = 0.8 / Scenario::ALL.len() as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(X_LABEL_PX)
            .y_label_area_size(Y_LABEL_PX)
            .build_cartesian_2d(
                lo as f64..hi as f64,
                0.0..nice_max(y_max.unwrap_or(0) as f64),
            )
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("total_ms bucket edge (ms)")
            .y_desc("calls")
            .y_label_formatter(&tick)
            .x_labels(hi - lo + 1)
            .x_label_formatter(&boundary_formatter)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        let bars = counts.iter().flat_map(|(scenario, c)| {
            let x_off = 0.1 + slot * scenario.index() as f64;
            let fill = color(palette::scenario(*scenario)).filled();
            c.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(move |(bucket, n)| {
                    let x0 = bucket as f64 + x_off;
                    Rectangle::new([(x0, 0.0), (x0 + slot, *n as f64)], fill)
                })
        });
        chart.draw_series(bars).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// The phases stacked in the phase-medians bars, bottom to top.
pub const STACKED_PHASES: [Phase; 5] = [
    Phase::Dns,
    Phase::Connect,
    Phase::Tls,
    Phase::Ttfb,
    Phase::Body,
];

/// Stacked bars of the phase medians per scenario (the text report's medians).
pub fn phase_bars(report: &Report, size: Size) -> Result<String, DrawError> {
    let err = fail("phase medians");
    let median = |row: &crate::report::PhaseRow, p: Phase| {
        row.median_ms
            .get(p.label())
            .copied()
            .flatten()
            .unwrap_or(0.0)
    };
    let y_max = report
        .phases
        .iter()
        .map(|row| STACKED_PHASES.iter().map(|p| median(row, *p)).sum::<f64>())
        .fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(X_LABEL_PX)
            .y_label_area_size(Y_LABEL_PX)
            .build_cartesian_2d(-0.5..3.5, 0.0..nice_max(y_max))
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("scenario")
            .y_desc("sum of phase medians (ms)")
            .y_label_formatter(&tick)
            .x_labels(4)
            .x_label_formatter(&|x: &f64| {
                let i = x.round();
                match Scenario::ALL.get(i as usize) {
                    Some(s) if (x - i).abs() < 1e-6 && i >= 0.0 => s.as_str().to_string(),
                    _ => String::new(),
                }
            })
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        let mut bars = Vec::new();
        for (i, row) in report.phases.iter().enumerate() {
            let x = i as f64;
            let mut base = 0.0;
            for phase in STACKED_PHASES {
                let h = median(row, phase);
                if h > 0.0 {
                    let fill = color(palette::phase(phase)).filled();
                    bars.push(Rectangle::new([(x - 0.3, base), (x + 0.3, base + h)], fill));
                    base += h;
                }
            }
        }
        chart.draw_series(bars).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// Buckets from the first to the last non-empty one, as boundary indices.
fn used_buckets(rows: impl Iterator<Item = [u64; BUCKETS]>) -> (usize, usize) {
    let mut used = [false; BUCKETS];
    for row in rows {
        for (u, n) in used.iter_mut().zip(row) {
            *u |= n > 0;
        }
    }
    let lo = used.iter().position(|u| *u).unwrap_or(0);
    let hi = used.iter().rposition(|u| *u).map_or(BUCKETS, |i| i + 1);
    (lo, hi.max(lo + 1))
}

/// Labels bucket boundaries at integer positions; nothing in between.
fn boundary_formatter(x: &f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        binning::boundary_label(i as usize)
    } else {
        String::new()
    }
}

/// An axis number without a useless `.0`.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').to_string()
    }
}

/// A round upper bound for an axis from 0 showing `max` with some headroom.
fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let target = max * 1.08;
    let step = 10f64.powf(target.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * step)
        .find(|v| *v >= target)
        .unwrap_or(10.0 * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_bounds_are_round_and_above_the_data() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(95.0), 120.0);
        assert_eq!(nice_max(131.0), 150.0);
        assert!(nice_max(1e-4) >= 1e-4);
        assert_eq!(tick(&120.0), "120");
        assert_eq!(tick(&2.5), "2.5");
        assert_eq!(tick(&0.25), "0.25");
    }

    #[test]
    fn used_buckets_span_the_data() {
        let mut a = [0; BUCKETS];
        a[3] = 1;
        let mut b = [0; BUCKETS];
        b[6] = 2;
        assert_eq!(used_buckets([a, b].into_iter()), (3, 7));
        assert_eq!(used_buckets(std::iter::empty()), (0, BUCKETS));
    }
}
