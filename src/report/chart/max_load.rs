//! The headroom found by `kendall plan --max-load`: for each SLO (small multiples, at most
//! four), its metric at every load factor the bisection simulated with today's servers, with
//! 95% CI whiskers, the SLO threshold and the highest load that met every SLO.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::canvas::{Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, frame, render, short};
use super::slo_axis::{SloAxis, SloMark, draw_marks};
use crate::experiment::PlanMode;
use crate::report::{Exporter, PlanFile, PlanReport, ReportError, number};

/// charts/max-load.svg and .png: each SLO's metric against the load factor.
#[derive(Debug, Clone, Copy)]
pub struct MaxLoadChart(pub ImageFormat);

/// Most panels drawn.
const MAX_PANELS: usize = 4;

/// The colour of the highest load that met every SLO.
const FOUND: RGBColor = PALETTE[2];

/// One panel: one SLO's metric against the load factor.
struct Panel {
    /// The SLO's metric, as the value axis.
    slo: SloAxis,
    /// One series per source or node the SLO is judged on, by load.
    series: Vec<(String, Vec<SloMark>)>,
}

struct MaxLoadDrawing {
    scenario: String,
    max_load: Option<f64>,
    panels: Vec<Panel>,
}

impl Exporter<PlanReport> for MaxLoadChart {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        render(&MaxLoadDrawing::new(&result.file), self.0)
    }
}

/// Whether a plan has this chart: the highest load was looked for, and some load simulated.
pub(crate) fn has_max_load_chart(report: &PlanReport) -> bool {
    report.file.mode == PlanMode::MaxLoad && !report.file.evaluated.is_empty()
}

impl MaxLoadDrawing {
    fn new(file: &PlanFile) -> Self {
        let mut expressions: Vec<&str> = Vec::new();
        for check in file.evaluated.iter().flat_map(|c| &c.slos) {
            if !expressions.contains(&check.expr.as_str()) {
                expressions.push(&check.expr);
            }
        }
        let panels = expressions.into_iter().take(MAX_PANELS).map(|expr| Panel::new(file, expr)).collect();
        Self { scenario: file.scenario.clone(), max_load: file.max_load.flatten(), panels }
    }
}

impl Panel {
    fn new(file: &PlanFile, expr: &str) -> Self {
        let mut series: Vec<(String, Vec<SloMark>)> = Vec::new();
        let (mut metric, mut scope) = (String::new(), "source");
        for candidate in &file.evaluated {
            for check in candidate.slos.iter().filter(|check| check.expr == expr) {
                (metric, scope) =
                    (check.metric.clone(), if check.scope == "node" { "node" } else { "source" });
                let mark = SloMark {
                    x: candidate.load,
                    value: check.value,
                    ci95: check.ci95,
                    filled: candidate.met,
                };
                match series.iter_mut().find(|(name, _)| *name == check.name) {
                    Some((_, marks)) => marks.push(mark),
                    None => series.push((check.name.clone(), vec![mark])),
                }
            }
        }
        for (_, marks) in &mut series {
            marks.sort_by(|a, b| a.x.total_cmp(&b.x));
        }
        Self { slo: SloAxis::new(expr, metric, scope), series }
    }

    fn marks(&self) -> impl Iterator<Item = &SloMark> {
        self.series.iter().flat_map(|(_, marks)| marks)
    }

    /// The load factors shown: from 0 to a tenth beyond the highest simulated, or today's.
    fn right(&self) -> f64 {
        self.marks().map(|m| m.x).fold(1.0, f64::max) * 1.1
    }

    /// The top of the value axis, SI units: room above the values for the legend.
    fn top(&self) -> f64 {
        let values = self.series.iter().flat_map(|(_, marks)| marks.iter());
        let highest = values.filter_map(|m| m.ci95.map(|ci| ci[1]).or(m.value)).fold(0.0, f64::max);
        self.slo.top(highest)
    }

    /// The scale of the value axis and its description.
    fn axis(&self) -> (f64, String) {
        self.slo.scale(self.top())
    }
}

impl Drawing for MaxLoadDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let title = format!("{}: SLO metric against load, today's servers (plan --max-load)", self.scenario);
        let found = match self.max_load {
            Some(load) => format!("green: the highest load meeting every SLO, {} ×", number(load)),
            None => "no load met every SLO".to_owned(),
        };
        let caption = format!(
            "The loads simulated (95% CI whiskers; hollow: an SLO missed); dashed: the SLO; {found}."
        );
        let plot = frame(root, &title, &caption)?;
        let layout = match self.panels.len() {
            0 | 1 => (1, 1),
            2 => (1, 2),
            _ => (2, 2),
        };
        for (panel, area) in self.panels.iter().zip(plot.split_evenly(layout)) {
            panel.draw(&area, self.panels.len() > 1, self.max_load)?;
        }
        Ok(())
    }
}

impl Panel {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        small: bool,
        found: Option<f64>,
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (scale, y_desc) = self.axis();
        let right = self.right();
        let mut chart = ChartBuilder::on(area)
            .margin(if small { 12 } else { 20 })
            .caption(&self.slo.expr, (FONT, if small { 19 } else { 22 }))
            .x_label_area_size(if small { 55 } else { 70 })
            .y_label_area_size(if small { 80 } else { 90 })
            .build_cartesian_2d(0.0..right, 0.0..self.top() * scale)?;
        chart
            .configure_mesh()
            .x_desc("load factor (× today's arrival rates)")
            .y_desc(y_desc)
            .y_label_formatter(&|y| short(*y))
            .label_style((FONT, if small { 15 } else { 18 }))
            .axis_desc_style((FONT, if small { 16 } else { 20 }))
            .draw()?;
        self.draw_lines(&mut chart, scale, found)?;
        self.draw_marks(&mut chart, scale)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, if small { 14 } else { 17 }))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }

    /// Each series' values with their whiskers, joined by a line in order of load.
    fn draw_marks<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>, scale: f64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let cap = self.right() * 0.006;
        for ((name, marks), &colour) in self.series.iter().zip(PALETTE.iter().cycle()) {
            let values = marks.iter().filter_map(|m| m.value.map(|v| (m.x, v * scale)));
            chart
                .draw_series(LineSeries::new(values, colour.stroke_width(2)))?
                .label(format!("{name} {}", self.slo.metric))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (18, 0)], colour.stroke_width(2))
                        + Circle::new((9, 0), 5, colour.filled())
                });
            draw_marks(chart, marks, colour, scale, cap)?;
        }
        Ok(())
    }

    /// The SLO threshold, today's load (1) and the highest load found.
    fn draw_lines<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut Plane<'a, DB>,
        scale: f64,
        found: Option<f64>,
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let top = chart.y_range().end;
        self.slo.draw_threshold(chart, scale)?;
        let style = RGBColor(120, 120, 120).stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new([(1.0, 0.0), (1.0, top)], 4, 4, style))?
            .label("today: 1 ×")
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], 4, 4, style));
        if let Some(load) = found {
            let style = FOUND.stroke_width(4);
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(load, 0.0), (load, top)], style)))?
                .label(format!("max load {} ×", number(load)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        Ok(())
    }
}
