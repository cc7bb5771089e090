//! The gate's markdown report with SVG plots (ROC curves and score histograms of both models).

use super::GateReport;
use crate::error::{Error, Result};
use crate::eval::Histogram as ScoreHistogram;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn plot_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::io("drawing plot", what, std::io::Error::other(e.to_string()))
}

const BASELINE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const CANDIDATE: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const BENIGN: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const MALICIOUS: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// ROC curves of both models in one SVG.
pub fn roc_svg(report: &GateReport) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err("roc.svg", e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("ROC: baseline vs candidate (test data)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(|e| plot_err("roc.svg", e))?;
        chart
            .configure_mesh()
            .x_desc("false-positive rate")
            .y_desc("true-positive rate")
            .draw()
            .map_err(|e| plot_err("roc.svg", e))?;
        let auc = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
        let sides = [
            (&report.curves.roc[0], BASELINE, format!("baseline (AUC {})", auc(report.baseline.report.roc_auc))),
            (&report.curves.roc[1], CANDIDATE, format!("candidate (AUC {})", auc(report.candidate.report.roc_auc))),
        ];
        for (points, color, label) in sides {
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.fpr, p.tpr)), color.stroke_width(2)))
                .map_err(|e| plot_err("roc.svg", e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))
            .map_err(|e| plot_err("roc.svg", e))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_err("roc.svg", e))?;
        root.present().map_err(|e| plot_err("roc.svg", e))?;
    }
    Ok(svg)
}

/// Score histogram (benign and malicious rows) of one model.
pub fn histogram_svg(title: &str, hist: &ScoreHistogram, threshold: f32) -> Result<String> {
    let bins = hist.benign.len().max(1) as u32;
    let max = hist.benign.iter().chain(&hist.malicious).copied().max().unwrap_or(0).max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(title, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{title}: score histogram (threshold {threshold:.3})"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0u32..bins).into_segmented(), 0u32..(max + max / 10 + 1))
            .map_err(|e| plot_err(title, e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("score bin (lower edge)")
            .y_desc("rows")
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    hist.edges.get(*i as usize).map_or_else(String::new, |e| format!("{e:.2}"))
                }
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(|e| plot_err(title, e))?;
        for (counts, color, label) in [(&hist.benign, BENIGN, "benign"), (&hist.malicious, MALICIOUS, "malicious")] {
            chart
                .draw_series(
                    Histogram::vertical(&chart)
                        .style(color.mix(0.5).filled())
                        .margin(1)
                        .data(counts.iter().enumerate().map(|(i, &c)| (i as u32, c as u32))),
                )
                .map_err(|e| plot_err(title, e))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.mix(0.5).filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_err(title, e))?;
        root.present().map_err(|e| plot_err(title, e))?;
    }
    Ok(svg)
}

/// The markdown text (the plots are referenced by file name).
pub fn markdown(r: &GateReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Release gate: {}\n", r.verdict());
    let _ = writeln!(s, "- baseline: `{}`", r.baseline.name);
    let _ = writeln!(s, "- candidate: `{}`", r.candidate.name);
    let _ = writeln!(s, "- test rows: {}; hard negatives: {}", r.test_rows, r.hard_negatives);
    let _ = writeln!(s, "- production simulation: {} prompts ({})\n", r.sim_prompts, r.sim_source);
    let _ = writeln!(s, "## Criteria\n\n| criterion | required | measured | result |\n|---|---|---|---|");
    for c in &r.criteria {
        let _ = writeln!(s, "| {} | {} | {} | **{}** |", c.name, c.requirement, c.detail, c.status);
    }
    let _ = writeln!(s, "\n## Baseline vs candidate\n\n{}", r.comparison.to_markdown());
    let _ = writeln!(s, "\n## Latency (one prompt: embed + network)\n\n| model | calls | mean ms | P50 ms | P95 ms | P99 ms |\n|---|---:|---:|---:|---:|---:|");
    for (name, side) in [("baseline", &r.baseline), ("candidate", &r.candidate)] {
        let l = &side.latency;
        let _ = writeln!(
            s,
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            l.samples,
            l.mean_us / 1e3,
            l.p50_us / 1e3,
            l.p95_us / 1e3,
            l.p99_us / 1e3
        );
    }
    if !r.candidate.hard_negative_failures.is_empty() {
        let _ = writeln!(s, "\n## Hard negatives the candidate flags\n");
        for t in &r.candidate.hard_negative_failures {
            let _ = writeln!(s, "- {}", t.replace('\n', " "));
        }
    }
    let _ = writeln!(s, "\n## Plots\n\n![ROC curves](roc.svg)\n\n![baseline scores](hist_baseline.svg)\n\n![candidate scores](hist_candidate.svg)");
    s
}

/// The files [`write`] writes into its directory.
pub const FILES: [&str; 5] = ["roc.svg", "hist_baseline.svg", "hist_candidate.svg", "gate.md", "gate.json"];

/// The paths [`write`] writes in `dir`, named for [`crate::fsutil::check_outputs`].
pub fn outputs(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    FILES.iter().map(|f| ("report", dir.join(f))).collect()
}

/// Write [`FILES`] (`gate.md`, `gate.json`, `roc.svg`, `hist_baseline.svg`, `hist_candidate.svg`)
/// into `dir`; returns the markdown's path.
pub fn write(r: &GateReport, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    let files = [
        (FILES[0], roc_svg(r)?),
        (FILES[1], histogram_svg("baseline", &r.curves.hist[0], r.baseline.report.threshold)?),
        (FILES[2], histogram_svg("candidate", &r.curves.hist[1], r.candidate.report.threshold)?),
        (FILES[3], markdown(r)),
        (FILES[4], r.to_json()?),
    ];
    for (name, text) in &files {
        crate::fsutil::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(dir.join("gate.md"))
}
