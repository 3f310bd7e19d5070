//! Utilisation per node, from a run: each node's ρ with its 95% CI, the bottleneck highlighted,
//! theory beside it, and a target line with the headroom written on it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    ALERT, Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, category_labels, frame, note, render,
};
use crate::report::{Exporter, ReportError, RunReport, count};

/// The utilisation a capacity review aims to stay under.
const TARGET_UTILIZATION: f64 = 0.8;

/// charts/utilization.svg and .png: bars of each node's ρ with CI error bars.
#[derive(Debug, Clone, Copy)]
pub struct Utilization(pub ImageFormat);

/// One node's bar.
struct Bar {
    name: String,
    mean: f64,
    ci95: Option<[f64; 2]>,
    theory: Option<(f64, bool)>,
    bottleneck: bool,
}

/// What the chart shows, read off a run's report.
struct UtilizationDrawing {
    scenario: String,
    replications: u32,
    bars: Vec<Bar>,
    headroom: Option<f64>,
}

impl Exporter<RunReport<'_>> for Utilization {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        render(&UtilizationDrawing::new(result), self.0)
    }
}

impl UtilizationDrawing {
    fn new(report: &RunReport<'_>) -> Self {
        let system = report.outcome.analysis.as_ref().map(|analysis| &analysis.system);
        let bottleneck = system.and_then(|system| system.bottleneck.as_deref());
        let bars = report
            .summary
            .nodes
            .iter()
            .filter_map(|node| {
                let estimate = node.metrics.get("utilization")?;
                Some(Bar {
                    name: node.name.clone(),
                    mean: estimate.mean?,
                    ci95: estimate.ci95,
                    theory: node.analytic.get("utilization").and_then(|f| Some((f.value?, f.exact))),
                    bottleneck: Some(node.name.as_str()) == bottleneck,
                })
            })
            .collect();
        Self {
            scenario: report.summary.scenario.clone(),
            replications: report.summary.replications,
            bars,
            headroom: system.and_then(|s| s.headroom),
        }
    }

    fn caption(&self) -> String {
        format!(
            "Each node's mean utilisation over {} (bars, 95% CI whiskers) beside theory; \
             the bottleneck in orange.",
            count(u64::from(self.replications), "replication")
        )
    }

    fn target_label(&self) -> String {
        match self.headroom {
            Some(headroom) => format!(
                "arrival rates ×{:.2} to the target, ×{headroom:.2} to ρ = 1 (theory)",
                headroom * TARGET_UTILIZATION
            ),
            None => "no headroom figure from theory".to_owned(),
        }
    }

    /// The highest point drawn for a bar: its CI's top, its mean or theory.
    fn bar_top(bar: &Bar) -> f64 {
        let high = bar.ci95.map_or(bar.mean, |[_, high]| high);
        bar.theory.map_or(high, |(value, _)| high.max(value))
    }

    /// Where the target's label goes: the left end of the run of `span` bars that stand
    /// furthest below the target line, so that the label covers as little as possible.
    fn label_position(&self, span: usize) -> f64 {
        let span = span.clamp(1, self.bars.len().max(1));
        let clearance = |start: usize| {
            self.bars[start..(start + span).min(self.bars.len())]
                .iter()
                .map(|bar| TARGET_UTILIZATION - Self::bar_top(bar))
                .fold(f64::INFINITY, f64::min)
        };
        let starts = 0..=self.bars.len().saturating_sub(span);
        let best = starts.fold((0, f64::NEG_INFINITY), |best, start| {
            let room = clearance(start);
            if room > best.1 { (start, room) } else { best }
        });
        #[allow(clippy::cast_precision_loss)] // a handful of nodes
        let x = best.0 as f64;
        x + 0.05
    }

    fn top(&self) -> f64 {
        let highest =
            self.bars.iter().map(|bar| bar.ci95.map_or(bar.mean, |[_, high]| high)).fold(1.0, f64::max);
        highest * 1.15
    }
}

impl Drawing for UtilizationDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let plot = frame(root, &format!("{}: utilisation per node", self.scenario), &self.caption())?;
        #[allow(clippy::cast_precision_loss)] // a handful of nodes
        let width = self.bars.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..width, 0.0..self.top())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("node")
            .y_desc("utilisation ρ (fraction of servers busy)")
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .draw()?;
        self.draw_bars(&mut chart)?;
        self.draw_target(&mut chart)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 18))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

impl UtilizationDrawing {
    fn draw_bars<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let positions = || (0_u32..).map(f64::from).zip(&self.bars);
        for (bottleneck, colour, label) in
            [(false, PALETTE[0], "simulated ρ"), (true, PALETTE[1], "bottleneck")]
        {
            let bars = positions()
                .filter(|(_, bar)| bar.bottleneck == bottleneck)
                .map(|(x, bar)| Rectangle::new([(x + 0.2, 0.0), (x + 0.8, bar.mean)], colour.filled()));
            let series = chart.draw_series(bars)?;
            if self.bars.iter().any(|bar| bar.bottleneck == bottleneck) {
                series
                    .label(label)
                    .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 18, y + 7)], colour.filled()));
            }
        }
        let whiskers = positions().filter_map(|(x, bar)| bar.ci95.map(|ci| (x + 0.5, ci)));
        chart
            .draw_series(whiskers.map(|(x, [low, high])| {
                PathElement::new(
                    vec![
                        (x - 0.06, low),
                        (x + 0.06, low),
                        (x, low),
                        (x, high),
                        (x - 0.06, high),
                        (x + 0.06, high),
                    ],
                    BLACK.stroke_width(2),
                )
            }))?
            .label("95% CI of the mean")
            .legend(|(x, y)| PathElement::new(vec![(x + 9, y - 8), (x + 9, y + 8)], BLACK.stroke_width(2)));
        for (exact, label) in [(true, "theory ρ, exact"), (false, "theory ρ, approximate")] {
            let theory: Vec<(f64, f64)> = positions()
                .filter_map(|(x, bar)| bar.theory.filter(|t| t.1 == exact).map(|(value, _)| (x + 0.5, value)))
                .collect();
            if theory.is_empty() {
                continue;
            }
            let style = if exact { BLACK.stroke_width(3) } else { RGBColor(110, 110, 110).stroke_width(3) };
            chart
                .draw_series(theory.iter().map(|&point| Cross::new(point, 9, style)))?
                .label(label)
                .legend(move |(x, y)| Cross::new((x + 9, y), 7, style));
        }
        category_labels(chart, positions().map(|(x, bar)| (x + 0.5, bar.name.as_str())), 0.0)?;
        Ok(())
    }

    fn draw_target<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (left, right) = (chart.x_range().start, chart.x_range().end);
        let style = ShapeStyle::from(ALERT).stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(left, TARGET_UTILIZATION), (right, TARGET_UTILIZATION)],
                12,
                6,
                style,
            ))?
            .label(format!("target ρ = {TARGET_UTILIZATION}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        let label = self.target_label();
        let (label_width, _) = TextStyle::from((FONT, 17)).font.box_size(&label)?;
        let bar_width = f64::from(chart.plotting_area().dim_in_pixel().0) / (right - left);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a few bars
        let span = (f64::from(label_width) / bar_width).ceil() as usize;
        note(chart, &label, (self.label_position(span), TARGET_UTILIZATION), (0, -6), ALERT)
    }
}
