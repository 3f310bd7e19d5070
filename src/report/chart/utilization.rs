//! Utilisation per node, from a run or an analysis: each node's ρ (simulated with its 95% CI and
//! theory beside it, or theory alone, with its bounds where it has no closed form), the
//! bottleneck highlighted, unstable nodes marked, and a target line with the headroom written on
//! it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    ALERT, Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, category_labels, frame, note, render, whisker,
};
use crate::report::{Exporter, ReportError, RunReport, StudyReport, count};

/// The utilisation a capacity review aims to stay under.
const TARGET_UTILIZATION: f64 = 0.8;

/// charts/utilization.svg and .png: bars of each node's ρ, with CI error bars from a run.
#[derive(Debug, Clone, Copy)]
pub struct Utilization(pub ImageFormat);

/// One node's bar.
struct Bar {
    name: String,
    mean: f64,
    /// The whisker: a run's 95% CI of the mean, or the bounds of a ρ theory has no closed
    /// form for.
    interval: Option<[f64; 2]>,
    theory: Option<(f64, bool)>,
    bottleneck: bool,
    /// Theory's ρ is at least 1: the node has no steady state.
    unstable: bool,
}

/// What the chart shows, read off a run's or an analysis's report.
struct UtilizationDrawing {
    title: String,
    caption: String,
    /// What the bars are: simulated or theoretical ρ.
    bar_label: &'static str,
    /// What the whiskers are.
    interval_label: &'static str,
    bars: Vec<Bar>,
    headroom: Option<f64>,
}

impl Exporter<RunReport<'_>> for Utilization {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        render(&UtilizationDrawing::of_run(result), self.0)
    }
}

impl Exporter<StudyReport> for Utilization {
    fn render(&self, result: &StudyReport) -> Result<Vec<u8>, ReportError> {
        render(&UtilizationDrawing::of_analysis(result), self.0)
    }
}

impl UtilizationDrawing {
    fn of_run(report: &RunReport<'_>) -> Self {
        let system = report.outcome.analysis.as_ref().map(|analysis| &analysis.system);
        let bottleneck = system.and_then(|system| system.bottleneck.as_deref());
        let bars = report
            .summary
            .nodes
            .iter()
            .filter_map(|node| {
                let estimate = node.metrics.get("utilization")?;
                let theory = node.analytic.get("utilization").and_then(|f| Some((f.value?, f.exact)));
                Some(Bar {
                    name: node.name.clone(),
                    mean: estimate.mean?,
                    interval: estimate.ci95,
                    theory,
                    bottleneck: Some(node.name.as_str()) == bottleneck,
                    unstable: theory.is_some_and(|(value, _)| value >= 1.0),
                })
            })
            .collect();
        let summary = &report.summary;
        Self {
            title: format!("{}: utilisation per node", summary.scenario),
            caption: format!(
                "Each node's mean utilisation over {} (bars, 95% CI whiskers) beside theory; \
                 the bottleneck in orange.",
                count(u64::from(summary.replications), "replication")
            ),
            bar_label: "simulated ρ",
            interval_label: "95% CI of the mean",
            bars,
            headroom: system.and_then(|s| s.headroom),
        }
    }

    fn of_analysis(report: &StudyReport) -> Self {
        let file = &report.analysis;
        let bottleneck = file.system.bottleneck.as_deref();
        let bars = file
            .nodes
            .iter()
            .map(|node| Bar {
                name: node.name.clone(),
                mean: node.utilization,
                interval: node.bounds.map(|bounds| bounds.utilization),
                theory: None,
                bottleneck: Some(node.name.as_str()) == bottleneck,
                unstable: node.verdict.overloaded(),
            })
            .collect();
        Self {
            title: format!("{}: utilisation per node (theory)", file.scenario),
            caption: "Each node's utilisation from the traffic equations, without simulation; \
                      the bottleneck in orange, unstable nodes (ρ ≥ 1) outlined in red."
                .to_owned(),
            bar_label: "theory ρ",
            interval_label: "bounds (no closed form)",
            bars,
            headroom: file.system.headroom,
        }
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
        let high = bar.interval.map_or(bar.mean, |[_, high]| high);
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
            self.bars.iter().map(|bar| bar.interval.map_or(bar.mean, |[_, high]| high)).fold(1.0, f64::max);
        highest * 1.15
    }
}

impl Drawing for UtilizationDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let plot = frame(root, &self.title, &self.caption)?;
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
            [(false, PALETTE[0], self.bar_label), (true, PALETTE[1], "bottleneck")]
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
        self.draw_unstable(chart)?;
        let whiskers: Vec<_> =
            positions().filter_map(|(x, bar)| bar.interval.map(|ci| (x + 0.5, ci))).collect();
        if whiskers.is_empty() {
            return self.draw_theory_and_names(chart);
        }
        chart
            .draw_series(whiskers.into_iter().map(|(x, ci)| whisker(x, ci, 0.06, BLACK.stroke_width(2))))?
            .label(self.interval_label)
            .legend(|(x, y)| PathElement::new(vec![(x + 9, y - 8), (x + 9, y + 8)], BLACK.stroke_width(2)));
        self.draw_theory_and_names(chart)
    }

    /// Theory's ρ as crosses (beside simulated bars), and the nodes' names under the bars.
    fn draw_theory_and_names<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let positions = || (0_u32..).map(f64::from).zip(&self.bars);
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

    /// A red outline and the word "unstable" on each node whose ρ is at least 1.
    fn draw_unstable<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let unstable: Vec<(f64, f64)> = (0_u32..)
            .map(f64::from)
            .zip(&self.bars)
            .filter(|(_, bar)| bar.unstable)
            .map(|(x, bar)| (x, bar.mean))
            .collect();
        if unstable.is_empty() {
            return Ok(());
        }
        let style = ShapeStyle::from(ALERT).stroke_width(4);
        chart
            .draw_series(
                unstable.iter().map(|&(x, top)| Rectangle::new([(x + 0.2, 0.0), (x + 0.8, top)], style)),
            )?
            .label("unstable (ρ ≥ 1)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 18, y + 7)], style));
        for &(x, top) in &unstable {
            note(chart, "unstable", (x + 0.25, top), (0, -6), ALERT)?;
        }
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
