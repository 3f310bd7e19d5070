//! The plan, from `kendall plan`: for each resized node (small multiples, one per node and SLO,
//! at most four), the SLO's metric in every simulated configuration against the node's servers,
//! with 95% CI whiskers, the SLO threshold, the recommended count, and the counts too few for
//! stability shaded.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::canvas::{ALERT, Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, frame, render, short};
use super::slo_axis::{SloAxis, SloMark, draw_marks};
use crate::experiment::PlanMode;
use crate::report::{Exporter, PlanFile, PlanReport, ReportError};

/// charts/plan.svg and .png: the SLO metric against each resized node's servers.
#[derive(Debug, Clone, Copy)]
pub struct PlanChart(pub ImageFormat);

/// Most panels drawn.
const MAX_PANELS: usize = 4;

/// The colour of the recommended count.
const PLANNED: RGBColor = PALETTE[2];

/// One panel: one node's servers against one SLO's metric.
struct Panel {
    node: String,
    /// The SLO's metric, as the value axis.
    slo: SloAxis,
    /// One series per source or node the SLO is judged on.
    series: Vec<(String, Vec<SloMark>)>,
    planned: Option<u32>,
    today: Option<u32>,
    fewest_stable: Option<u32>,
}

struct PlanDrawing {
    scenario: String,
    feasible: bool,
    panels: Vec<Panel>,
}

impl Exporter<PlanReport> for PlanChart {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        render(&PlanDrawing::new(result), self.0)
    }
}

/// Whether a plan has a chart: servers were searched for, and some node's count varied.
pub(crate) fn has_plan_chart(report: &PlanReport) -> bool {
    report.file.mode == PlanMode::FewestServers && !resized(&report.file).is_empty()
}

/// The nodes drawn: those with finitely many servers today and in some simulated configuration,
/// the ones the plan changes first.
fn resized(file: &PlanFile) -> Vec<usize> {
    let mut nodes: Vec<usize> = (0..file.nodes.len())
        .filter(|&n| file.nodes[n].servers_today.is_some())
        .filter(|&n| file.evaluated.iter().any(|c| c.servers.get(n).copied().flatten().is_some()))
        .collect();
    let changed = |&n: &usize| file.feasible && file.nodes[n].servers_needed != file.nodes[n].servers_today;
    nodes.sort_by_key(|n| !changed(n));
    nodes
}

impl PlanDrawing {
    fn new(report: &PlanReport) -> Self {
        let file = &report.file;
        let mut expressions: Vec<&str> = Vec::new();
        for check in file.evaluated.iter().flat_map(|c| &c.slos) {
            if !expressions.contains(&check.expr.as_str()) {
                expressions.push(&check.expr);
            }
        }
        let panels = resized(file)
            .into_iter()
            .flat_map(|node| expressions.iter().map(move |expr| (node, *expr)))
            .take(MAX_PANELS)
            .map(|(node, expr)| Panel::new(file, node, expr))
            .collect();
        Self { scenario: file.scenario.clone(), feasible: file.feasible, panels }
    }
}

impl Panel {
    fn new(file: &PlanFile, node: usize, expr: &str) -> Self {
        let entry = &file.nodes[node];
        let plan: Option<Vec<Option<u32>>> =
            file.feasible.then(|| file.nodes.iter().map(|n| n.servers_needed).collect());
        let mut series: Vec<(String, Vec<SloMark>)> = Vec::new();
        let (mut metric, mut scope) = (String::new(), "source");
        for candidate in &file.evaluated {
            let Some(servers) = candidate.servers.get(node).copied().flatten() else { continue };
            let as_planned = plan.as_ref().is_none_or(|plan| {
                candidate.servers.iter().zip(plan).enumerate().all(|(m, (s, p))| m == node || s == p)
            });
            for check in candidate.slos.iter().filter(|check| check.expr == expr) {
                (metric, scope) =
                    (check.metric.clone(), if check.scope == "node" { "node" } else { "source" });
                let mark = SloMark {
                    x: f64::from(servers),
                    value: check.value,
                    ci95: check.ci95,
                    filled: as_planned,
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
        Self {
            node: entry.name.clone(),
            slo: SloAxis::new(expr, metric, scope),
            series,
            planned: if file.feasible { entry.servers_needed } else { None },
            today: entry.servers_today,
            fewest_stable: entry.fewest_stable,
        }
    }

    /// The range of servers shown: every count simulated, planned or today, and one count
    /// too few for stability, half a server of room either side.
    fn x_range(&self) -> (f64, f64) {
        let counts = self.series.iter().flat_map(|(_, marks)| marks.iter().map(|m| m.x));
        let marks = [self.planned, self.today, self.fewest_stable.map(|c| c.saturating_sub(1).max(1))];
        let counts = counts.chain(marks.into_iter().flatten().map(f64::from));
        let (low, high) = counts.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
        if low.is_finite() { (low - 0.6, high + 0.6) } else { (0.0, 1.0) }
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

impl Drawing for PlanDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let title = format!("{}: SLO metric against servers (plan)", self.scenario);
        let verdict = if self.feasible { "green line: the plan" } else { "no count met every SLO" };
        let caption = format!(
            "The SLO metric of the counts simulated only (95% CI whiskers; hollow: other nodes not as planned); dashed: the SLO; {verdict}."
        );
        let plot = frame(root, &title, &caption)?;
        let layout = match self.panels.len() {
            0 | 1 => (1, 1),
            2 => (1, 2),
            _ => (2, 2),
        };
        for (panel, area) in self.panels.iter().zip(plot.split_evenly(layout)) {
            panel.draw(&area, self.panels.len() > 1)?;
        }
        Ok(())
    }
}

impl Panel {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, small: bool) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (left, right) = self.x_range();
        let (scale, y_desc) = self.axis();
        let top = self.top() * scale;
        let mut chart = ChartBuilder::on(area)
            .margin(if small { 12 } else { 20 })
            .caption(format!("node {}: {}", self.node, self.slo.expr), (FONT, if small { 19 } else { 22 }))
            .x_label_area_size(if small { 55 } else { 70 })
            .y_label_area_size(if small { 80 } else { 90 })
            .build_cartesian_2d(left..right, 0.0..top)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a few dozen servers
        let ticks = ((right - left).round() as usize).clamp(2, 20);
        chart
            .configure_mesh()
            .x_labels(ticks)
            .x_label_formatter(&|x| if x.fract().abs() < 1e-9 { format!("{x:.0}") } else { String::new() })
            .x_desc(format!("servers at {} (count)", self.node))
            .y_desc(y_desc)
            .y_label_formatter(&|y| short(*y))
            .label_style((FONT, if small { 15 } else { 18 }))
            .axis_desc_style((FONT, if small { 16 } else { 20 }))
            .draw()?;
        self.draw_unstable(&mut chart)?;
        self.draw_lines(&mut chart, scale)?;
        self.draw_marks(&mut chart, scale)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, if small { 14 } else { 17 }))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }

    /// The counts too few for stability, shaded.
    fn draw_unstable<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let Some(fewest) = self.fewest_stable else { return Ok(()) };
        let (left, top) = (chart.x_range().start, chart.y_range().end);
        let edge = f64::from(fewest) - 0.5;
        if edge <= left {
            return Ok(());
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(left, 0.0), (edge, top)],
                ALERT.mix(0.15).filled(),
            )))?
            .label(format!("ρ ≥ 1 below {fewest}: unstable, not simulated"))
            .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 18, y + 7)], ALERT.mix(0.15).filled()));
        Ok(())
    }

    /// Each series' values with their whiskers, the configurations as planned joined by a line.
    fn draw_marks<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>, scale: f64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        for ((name, marks), &colour) in self.series.iter().zip(PALETTE.iter().cycle()) {
            // A line joins consecutive counts only: a count the search did not simulate has no
            // value to draw through.
            let mut planned: Vec<(f64, f64)> =
                marks.iter().filter(|m| m.filled).filter_map(|m| m.value.map(|v| (m.x, v * scale))).collect();
            planned.sort_by(|a, b| a.0.total_cmp(&b.0));
            for pair in planned.windows(2).filter(|pair| pair[1].0 - pair[0].0 == 1.0) {
                chart.draw_series(LineSeries::new(pair.iter().copied(), colour.stroke_width(2)))?;
            }
            chart
                .draw_series(LineSeries::new(std::iter::empty::<(f64, f64)>(), colour.stroke_width(2)))?
                .label(format!("{name} {}", self.slo.metric))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (18, 0)], colour.stroke_width(2))
                        + Circle::new((9, 0), 5, colour.filled())
                });
            draw_marks(chart, marks, colour, scale, 0.08)?;
        }
        Ok(())
    }

    /// The SLO threshold, the recommended count and today's.
    fn draw_lines<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>, scale: f64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let top = chart.y_range().end;
        self.slo.draw_threshold(chart, scale)?;
        if let Some(today) = self.today.filter(|today| Some(*today) != self.planned) {
            let style = RGBColor(120, 120, 120).stroke_width(2);
            let x = f64::from(today);
            chart
                .draw_series(DashedLineSeries::new([(x, 0.0), (x, top)], 4, 4, style))?
                .label(format!("today: {today}"))
                .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], 4, 4, style));
        }
        if let Some(planned) = self.planned {
            let style = PLANNED.stroke_width(4);
            let x = f64::from(planned);
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(x, 0.0), (x, top)], style)))?
                .label(format!("plan: {planned} servers"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        Ok(())
    }
}
