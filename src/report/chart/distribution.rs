//! Latency distribution, from a run: each source's end-to-end latency percentiles, p10 to
//! p99.9, read off the histograms of every replication merged.

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::canvas::{Drawing, Drawn, FONT, ImageFormat, PALETTE, TimeUnit, category_labels, frame, render};
use crate::report::{Exporter, ReportError, RunReport, count};
use crate::stats::LATENCY_PERCENTILES;

/// The percentiles drawn: those of the summary.
const PERCENTILES: [(f64, &str); 8] = LATENCY_PERCENTILES;

/// Above this ratio of the highest to the lowest percentile drawn, the latency axis is logarithmic.
const LOG_SCALE_RATIO: f64 = 20.0;

/// charts/latency-distribution.svg and .png: percentile curves of each source's latency.
#[derive(Debug, Clone, Copy)]
pub struct LatencyDistribution(pub ImageFormat);

/// One source's curve: its name, deliveries, and each percentile in seconds.
struct Curve {
    name: String,
    deliveries: u64,
    seconds: Vec<f64>,
}

struct DistributionDrawing {
    scenario: String,
    replications: u32,
    curves: Vec<Curve>,
    /// Whether the latencies describe a steady state: theory does not call the network
    /// unstable and no replication stopped early (else they grow with the run length).
    steady_state: bool,
}

impl Exporter<RunReport<'_>> for LatencyDistribution {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        render(&DistributionDrawing::new(result), self.0)
    }
}

impl DistributionDrawing {
    fn new(report: &RunReport<'_>) -> Self {
        let summary = &report.outcome.experiment.summary;
        let curves = report
            .summary
            .sources
            .iter()
            .zip(&summary.latency_percentiles)
            .enumerate()
            .filter_map(|(i, (source, seconds))| {
                let deliveries = report
                    .outcome
                    .experiment
                    .replications
                    .iter()
                    .map(|replication| {
                        let histograms = &replication.sources[i].histograms;
                        histograms.latencies.count() + histograms.copy_latencies.count()
                    })
                    .sum();
                Some(Curve { name: source.name.clone(), deliveries, seconds: seconds.clone()? })
            })
            .collect();
        let stable = report.outcome.analysis.as_ref().is_none_or(|analysis| analysis.system.stable);
        Self {
            scenario: report.summary.scenario.clone(),
            replications: report.summary.replications,
            curves,
            steady_state: stable && report.summary.stopped_early == 0,
        }
    }

    /// The latency axis's range in seconds, and whether it is logarithmic.
    fn latency_range(&self) -> (f64, f64, bool) {
        let values = || self.curves.iter().flat_map(|curve| curve.seconds.iter().copied());
        let highest = values().fold(0.0, f64::max);
        let lowest = values().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
        if lowest.is_finite() && highest / lowest > LOG_SCALE_RATIO {
            (lowest / 1.5, highest * 1.5, true)
        } else {
            (0.0, highest.max(1e-9) * 1.1, false)
        }
    }
}

impl Drawing for DistributionDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (title, caption) = if self.steady_state {
            (
                format!("{}: end-to-end latency distribution", self.scenario),
                format!(
                    "Percentiles of each source's end-to-end latency, all deliveries of {} merged.",
                    count(u64::from(self.replications), "replication")
                ),
            )
        } else {
            (
                format!("{}: end-to-end latency, NO STEADY STATE", self.scenario),
                "Past saturation queues grow: these percentiles are a transient that grows with the run length."
                    .to_owned(),
            )
        };
        let plot = frame(root, &title, &caption)?;
        let (low, high, log) = self.latency_range();
        let unit = TimeUnit::for_seconds(high);
        let (low, high) = (low * unit.per_second, high * unit.per_second);
        let axis = if log {
            format!("end-to-end latency ({}, log scale)", unit.name)
        } else {
            format!("end-to-end latency ({})", unit.name)
        };
        #[allow(clippy::cast_precision_loss)]
        let width = PERCENTILES.len() as f64;
        let mut builder = ChartBuilder::on(&plot);
        builder.margin(20).x_label_area_size(70).y_label_area_size(90);
        let scale = Scale { axis, low, per_second: unit.per_second };
        if log {
            self.draw_curves(builder.build_cartesian_2d(0.0..width, (low..high).log_scale())?, &scale)
        } else {
            self.draw_curves(builder.build_cartesian_2d(0.0..width, low..high)?, &scale)
        }
    }
}

/// The latency axis: its description, its lowest value, and its unit per second.
struct Scale {
    axis: String,
    low: f64,
    per_second: f64,
}

impl DistributionDrawing {
    fn draw_curves<'a, DB, Y>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
        scale: &Scale,
    ) -> Drawn
    where
        DB: DrawingBackend + 'a,
        DB::ErrorType: 'static,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("percentile")
            .y_desc(scale.axis.as_str())
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .draw()?;
        let labels = PERCENTILES.iter().zip(0_u32..).map(|(&(_, name), i)| (f64::from(i) + 0.5, name));
        category_labels(&mut chart, labels, scale.low)?;
        for (curve, &colour) in self.curves.iter().zip(PALETTE.iter().cycle()) {
            let points: Vec<(f64, f64)> = (0_u32..)
                .map(|i| f64::from(i) + 0.5)
                .zip(curve.seconds.iter().map(|s| s * scale.per_second))
                .collect();
            let label = format!("{} ({} deliveries)", curve.name, curve.deliveries);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(3)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 5, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 18))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}
