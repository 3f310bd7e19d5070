//! The value axis of a chart of one SLO's metric (the plan's and `--max-load`'s): the metric,
//! its unit and the SLO's threshold, the axis' top and scale, the threshold drawn as a dashed
//! line, and the simulated values drawn as points with their CI whiskers.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::canvas::{ALERT, Drawn, Plane, TimeUnit, whisker};
use crate::experiment::Slo;
use crate::report::plan::unit;

/// One SLO's metric as a value axis.
pub(super) struct SloAxis {
    /// The SLO's expression.
    pub expr: String,
    /// The metric key.
    pub metric: String,
    /// Its unit ("s", "/s" or none).
    pub unit: &'static str,
    /// The SLO's threshold, SI units.
    pub threshold: Option<f64>,
}

impl SloAxis {
    /// The axis of `expr`, judged on `metric` of a source or node (`scope`).
    pub fn new(expr: &str, metric: String, scope: &str) -> Self {
        Self {
            expr: expr.to_owned(),
            unit: unit(&metric, scope),
            metric,
            threshold: expr.parse::<Slo>().ok().map(|slo| slo.threshold),
        }
    }

    /// The top of the axis, SI units, for the highest value or CI bound drawn: room above the
    /// values and the threshold for the legend.
    pub fn top(&self, highest: f64) -> f64 {
        self.threshold.into_iter().fold(highest, f64::max).max(1e-9) * 1.8
    }

    /// The scale of the axis (units per SI unit) and its description, for a top of `top`.
    pub fn scale(&self, top: f64) -> (f64, String) {
        if self.unit == "s" {
            let unit = TimeUnit::for_seconds(top);
            (unit.per_second, format!("{} ({})", self.metric, unit.name))
        } else if self.unit.is_empty() {
            (1.0, self.metric.clone())
        } else {
            (1.0, format!("{} ({})", self.metric, self.unit))
        }
    }

    /// The threshold as a dashed line across the plot, labelled in the legend.
    pub fn draw_threshold<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>, scale: f64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let Some(threshold) = self.threshold else { return Ok(()) };
        let (left, right) = (chart.x_range().start, chart.x_range().end);
        let style = BLACK.stroke_width(2);
        let y = threshold * scale;
        chart
            .draw_series(DashedLineSeries::new([(left, y), (right, y)], 16, 5, style))?
            .label(format!("SLO {}", self.expr))
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], 8, 3, style));
        Ok(())
    }
}

/// One simulated configuration's value of an SLO's metric, at `x` on the chart.
#[derive(Debug, Clone, Copy)]
pub(super) struct SloMark {
    /// Where on the horizontal axis.
    pub x: f64,
    /// The estimated mean, SI units; `None` when undefined.
    pub value: Option<f64>,
    /// Its 95% confidence interval.
    pub ci95: Option<[f64; 2]>,
    /// Drawn filled (else hollow).
    pub filled: bool,
}

/// Draws `marks` in `colour`: each value as a ring (filled or hollow) with its CI whisker
/// (caps `cap` wide), an undefined one as a red cross on the axis; values times `scale`.
pub(super) fn draw_marks<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plane<'a, DB>,
    marks: &[SloMark],
    colour: RGBColor,
    scale: f64,
    cap: f64,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let valued = || marks.iter().filter_map(|m| m.value.map(|v| (m, v * scale)));
    chart.draw_series(
        valued()
            .filter_map(|(m, _)| m.ci95.map(|ci| (m.x, ci)))
            .map(|(x, [low, high])| whisker(x, [low * scale, high * scale], cap, colour.stroke_width(2))),
    )?;
    chart.draw_series(valued().map(|(m, v)| {
        let style = if m.filled { colour.filled() } else { WHITE.filled() };
        EmptyElement::at((m.x, v))
            + Circle::new((0, 0), 6, style)
            + Circle::new((0, 0), 6, colour.stroke_width(2))
    }))?;
    let undefined = marks.iter().filter(|m| m.value.is_none());
    chart.draw_series(undefined.map(|m| Cross::new((m.x, 0.0), 8, ALERT.stroke_width(3))))?;
    Ok(())
}
