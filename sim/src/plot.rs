//! SVG charts of a simulation run, one per metric, one line per policy,
//! drawn with `plotters` (SVG backend only: no font or bitmap stack).

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use thiserror::Error;

/// One line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend (a policy name, or `oracle`).
    pub name: String,
    /// `(x, y)` points, drawn in order.
    pub points: Vec<(f64, f64)>,
}

/// Everything plotted for one scenario run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlotData {
    /// Scenario name: titles and file names.
    pub scenario: String,
    /// Delivered ratio (0–1, y) over time (hours, x); one per policy plus
    /// `oracle`.
    pub delivery: Vec<Series>,
    /// Fraction delivered (0–1, y) within a latency (minutes, x); one per
    /// policy plus `oracle`.
    pub latency_cdf: Vec<Series>,
    /// Largest store of any node (MB, y) over time (hours, x); one per
    /// policy.
    pub storage: Vec<Series>,
}

/// Why the charts could not be written.
#[derive(Debug, Error)]
pub enum PlotError {
    /// The output directory could not be created.
    #[error("creating {dir}: {source}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The scenario name would escape the directory or is empty.
    #[error("scenario name {0:?} is not usable in a file name")]
    BadName(String),
    /// Drawing or writing a chart failed.
    #[error("drawing {file}: {message}")]
    Draw {
        /// The chart's file.
        file: PathBuf,
        /// What the plotting library reported.
        message: String,
    },
}

/// Writes `{scenario}-delivery.svg`, `{scenario}-latency.svg` and
/// `{scenario}-storage.svg` into `dir` (created if missing); returns their
/// paths in that order.
pub fn write_plots(dir: &Path, data: &PlotData) -> Result<Vec<PathBuf>, PlotError> {
    let name = &data.scenario;
    let usable = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if name.is_empty() || name.starts_with('.') || !name.chars().all(usable) {
        return Err(PlotError::BadName(name.clone()));
    }
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Dir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let charts = [
        Chart {
            file: dir.join(format!("{name}-delivery.svg")),
            title: format!("{name}: delivered messages over time"),
            x: "time (hours)",
            y: "delivered ratio",
            series: &data.delivery,
            unit_y: true,
        },
        Chart {
            file: dir.join(format!("{name}-latency.svg")),
            title: format!("{name}: delivery latency (CDF)"),
            x: "latency (minutes)",
            y: "fraction of messages delivered",
            series: &data.latency_cdf,
            unit_y: true,
        },
        Chart {
            file: dir.join(format!("{name}-storage.svg")),
            title: format!("{name}: largest node store over time"),
            x: "time (hours)",
            y: "store size (MB)",
            series: &data.storage,
            unit_y: false,
        },
    ];
    let mut written = Vec::new();
    for chart in charts {
        chart.draw().map_err(|message| PlotError::Draw {
            file: chart.file.clone(),
            message,
        })?;
        written.push(chart.file);
    }
    Ok(written)
}

/// One chart to draw.
struct Chart<'a> {
    file: PathBuf,
    title: String,
    x: &'a str,
    y: &'a str,
    series: &'a [Series],
    /// Ratios: the y axis is fixed to 0–1 so charts compare at a glance.
    unit_y: bool,
}

impl Chart<'_> {
    fn draw(&self) -> Result<(), String> {
        let text = |e: &dyn std::fmt::Display| e.to_string();
        let points = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let xs = span(points().map(|p| p.0));
        let ys = if self.unit_y {
            0.0..1.0
        } else {
            let r = span(points().map(|p| p.1));
            0.0_f64.min(r.start)..r.end * 1.05
        };

        let root = SVGBackend::new(&self.file, (900, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| text(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(xs, ys)
            .map_err(|e| text(&e))?;
        chart
            .configure_mesh()
            .x_desc(self.x)
            .y_desc(self.y)
            .draw()
            .map_err(|e| text(&e))?;
        for (i, s) in self.series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            // The oracle is the bound, not a contender: dashed-looking grey.
            let style = if s.name == "oracle" {
                BLACK.mix(0.6).stroke_width(2)
            } else {
                colour.stroke_width(2)
            };
            let line = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(LineSeries::new(line, style))
                .map_err(|e| text(&e))?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        if !self.series.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| text(&e))?;
        }
        root.present().map_err(|e| text(&e))
    }
}

/// The range the values cover, widened to something drawable when they
/// are all equal or there are none.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        0.0..1.0
    } else if lo == hi {
        lo - 0.5..hi + 0.5
    } else {
        lo..hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        Series {
            name: name.into(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn writes_three_svg_files_with_titles_and_legends() {
        let dir = std::env::temp_dir().join(format!("pollen-plot-{}", std::process::id()));
        let data = PlotData {
            scenario: "festival".into(),
            delivery: vec![
                series("epidemic", &[(0.0, 0.0), (1.0, 0.4), (6.0, 0.8)]),
                series("oracle", &[(0.0, 0.0), (1.0, 0.6), (6.0, 0.95)]),
            ],
            latency_cdf: vec![
                series("spray-and-wait", &[(0.0, 0.0), (30.0, 0.5), (120.0, 0.7)]),
                series("oracle", &[(0.0, 0.1), (30.0, 0.8)]),
            ],
            storage: vec![series("epidemic", &[(0.0, 0.0), (6.0, 12.5)])],
        };
        let files = write_plots(&dir.join("out"), &data).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "festival-delivery.svg",
                "festival-latency.svg",
                "festival-storage.svg"
            ]
        );
        let read = |i: usize| std::fs::read_to_string(&files[i]).unwrap();
        let (delivery, latency, storage) = (read(0), read(1), read(2));
        for svg in [&delivery, &latency, &storage] {
            assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
            assert!(svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("<polyline"));
        }
        assert!(delivery.contains("epidemic") && delivery.contains("oracle"));
        assert!(delivery.contains("delivered messages over time"));
        assert!(delivery.contains("time (hours)"));
        assert!(latency.contains("spray-and-wait") && latency.contains("latency (minutes)"));
        assert!(storage.contains("store size (MB)") && !storage.contains("oracle"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_or_degenerate_data_still_draws_and_bad_names_are_errors() {
        let dir = std::env::temp_dir().join(format!("pollen-plot-empty-{}", std::process::id()));
        let data = PlotData {
            scenario: "trace".into(),
            delivery: vec![series("x", &[(f64::NAN, 1.0), (2.0, 0.5)])],
            ..PlotData::default()
        };
        let files = write_plots(&dir, &data).unwrap();
        assert_eq!(files.len(), 3);
        assert!(
            std::fs::read_to_string(&files[2])
                .unwrap()
                .contains("</svg>")
        );
        for bad in ["", "../up", "a/b", ".hidden"] {
            let data = PlotData {
                scenario: bad.into(),
                ..PlotData::default()
            };
            assert!(
                matches!(write_plots(&dir, &data), Err(PlotError::BadName(_))),
                "{bad}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
