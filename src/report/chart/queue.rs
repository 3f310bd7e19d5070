//! Queue length over time, from a run with a time series (`sample_every`): per node worth
//! showing, the mean messages held across replications with the p10-p90 band and theory dashed
//! (the fluid approximation, or the analytic growth of a steadily overloaded node), and beneath
//! them the sources' total arrival rate over time. One point per interval, no smoothing, nothing
//! drawn past the run.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, frame, render};
use crate::analytic::{Analysis, Verdict};
use crate::model::{Network, Replay, Schedule, Source};
use crate::report::series::clock_text;
use crate::report::{Exporter, ReportError, RunReport, count, number};
use crate::stats::{SeriesMetric, SeriesRow, SeriesScope, TimeSeries};

/// Most nodes drawn: beyond it, those with the highest peaks.
const MAX_PANELS: usize = 4;

/// Most changes of the arrival rate drawn exactly; past it, the rate is drawn as its mean over
/// each interval of the time series.
const MAX_RATE_CHANGES: usize = 10_000;

/// Height of the arrival-rate strip, pixels.
const STRIP_HEIGHT: u32 = 200;

/// Height of the legend's line under the title, pixels.
const LEGEND_HEIGHT: u32 = 34;

/// Height of one node's panel, pixels.
const PANEL_HEIGHT: u32 = 250;

/// The colour of theory's dashed line.
const THEORY: RGBColor = RGBColor(40, 40, 40);

/// The colour of the mean line (the first of the palette).
const MEAN: RGBColor = PALETTE[0];

/// The colour of the p10-p90 band: the mean's, light.
const BAND: RGBColor = RGBColor(191, 219, 236);

/// Length of a legend's sample of a line or band, pixels.
const SWATCH: i32 = 30;

/// How a legend item is drawn.
#[derive(Debug, Clone, Copy)]
enum Mark {
    Band,
    Line,
    Dashed,
}

/// charts/queue-over-time.svg and .png: each node's messages held over time, beside theory and
/// above the sources' arrival rate.
#[derive(Debug, Clone, Copy)]
pub struct QueueOverTime(pub ImageFormat);

impl Exporter<RunReport<'_>> for QueueOverTime {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        let series = result.outcome.experiment.summary.series.as_ref().ok_or_else(|| ReportError::Draw {
            message: "queue over time needs a time series (sample_every)".to_owned(),
        })?;
        render(&QueueDrawing::new(result, series), self.0)
    }
}

/// One node's panel: (time in seconds, messages) points, one per interval.
struct Panel {
    mean: Vec<(f64, f64)>,
    /// Runs of consecutive intervals with both percentiles: (time, p10, p90).
    band: Vec<Vec<(f64, f64, f64)>>,
    theory: Vec<(f64, f64)>,
    /// What theory is.
    theory_kind: Theory,
    /// The panel's title: the node's name, and the growth rate drawn when there is one.
    title: String,
}

/// What the dashed line of a panel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theory {
    /// No theory: the network has a steady state and the node is not overloaded.
    None,
    /// The fluid approximation of a time-varying load.
    Fluid,
    /// A steady overload's growth from empty, λ − cμ.
    Growth,
}

/// The sources' total arrival rate over time: a polyline of (time in seconds, messages/s).
struct Arrivals {
    points: Vec<(f64, f64)>,
    /// Whether the rate is drawn as its mean per interval (too many changes to draw exactly).
    per_interval: bool,
}

/// What the chart shows, read off a run's report.
struct QueueDrawing {
    scenario: String,
    replications: u32,
    every_s: f64,
    end_s: f64,
    nodes: usize,
    panels: Vec<Panel>,
    arrivals: Option<Arrivals>,
}

impl QueueDrawing {
    fn new(report: &RunReport<'_>, series: &TimeSeries) -> Self {
        let network = &report.scenario.network;
        let end_s = series.times_s.last().copied().unwrap_or(series.every_s);
        let panels = shown_nodes(series, network.nodes().len())
            .into_iter()
            .map(|node| panel(series, network, report.outcome.analysis.as_ref(), node))
            .collect();
        Self {
            scenario: report.summary.scenario.clone(),
            replications: report.summary.replications,
            every_s: series.every_s,
            end_s,
            nodes: network.nodes().len(),
            panels,
            arrivals: arrivals(network, series, end_s),
        }
    }

    fn caption(&self) -> String {
        let shown = if self.panels.len() < self.nodes {
            format!("; the {} of {} nodes with the highest peaks", self.panels.len(), self.nodes)
        } else {
            String::new()
        };
        format!(
            "Messages held: mean over {} (line), band p10-p90, one point per {} interval{shown}.",
            count(u64::from(self.replications), "replication"),
            clock_text(self.every_s)
        )
    }

    fn height(&self) -> u32 {
        let panels = u32::try_from(self.panels.len()).unwrap_or(1).max(1);
        (100 + LEGEND_HEIGHT + STRIP_HEIGHT + PANEL_HEIGHT * panels).max(800)
    }
}

/// The nodes drawn, in network order: all when they are few, else those with the highest peaks
/// of their mean curve.
fn shown_nodes(series: &TimeSeries, nodes: usize) -> Vec<usize> {
    if nodes <= MAX_PANELS {
        return (0..nodes).collect();
    }
    let mut by_peak: Vec<(usize, f64)> =
        series.peaks.iter().map(|peak| (peak.node, peak.mean_curve.peak)).collect();
    by_peak.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut shown: Vec<usize> = by_peak.into_iter().take(MAX_PANELS).map(|(node, _)| node).collect();
    shown.sort_unstable();
    shown
}

/// Node `node`'s panel: its messages held, and theory (the fluid's, or a steady overload's growth).
fn panel(series: &TimeSeries, network: &Network, analysis: Option<&Analysis>, node: usize) -> Panel {
    let rows: Vec<&SeriesRow> = series
        .rows
        .iter()
        .filter(|row| row.scope == SeriesScope::Node && row.entity == node)
        .filter(|row| row.metric == SeriesMetric::InSystem)
        .collect();
    let mean = rows.iter().filter_map(|row| Some((row.end_s, row.estimate?.mean))).collect();
    let mut band: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
    for row in &rows {
        match (row.p10, row.p90) {
            (Some(low), Some(high)) => band.last_mut().map_or((), |run| run.push((row.end_s, low, high))),
            _ => band.push(Vec::new()),
        }
    }
    band.retain(|run| !run.is_empty());
    let fluid: Vec<(f64, f64)> = rows.iter().filter_map(|row| Some((row.end_s, row.theory?))).collect();
    let growth = analysis.filter(|analysis| analysis.fluid.is_none()).and_then(|analysis| {
        let figures = analysis.nodes.get(node)?;
        let servers = network.nodes()[node].servers().count()?;
        (figures.verdict == Verdict::Unstable && figures.growth_rate > 0.0)
            .then_some((f64::from(servers), figures.growth_rate))
    });
    let name = network.nodes()[node].name().to_owned();
    match growth {
        // Every server busy and the queue growing from empty: c + g·t, averaged over the interval.
        Some((servers, rate)) if fluid.is_empty() => Panel {
            title: format!("{name}: analytic growth λ − cμ = {}/s", number(rate)),
            mean,
            band,
            theory: rows
                .iter()
                .map(|row| (row.end_s, servers + rate * 0.5 * (row.start_s + row.end_s)))
                .collect(),
            theory_kind: Theory::Growth,
        },
        _ => Panel {
            title: name,
            theory_kind: if fluid.is_empty() { Theory::None } else { Theory::Fluid },
            mean,
            band,
            theory: fluid,
        },
    }
}

/// The rate at which `source` creates messages at time `t`; `None` for a closed population.
fn source_rate(source: &Source, t: f64) -> Option<f64> {
    match rate_schedule(source) {
        Some(schedule) => Some(schedule.value_at(t)),
        None => source.replay().map(Replay::rate).or_else(|| source.open_rate()),
    }
}

/// The schedule a source's rate follows, when it follows one.
fn rate_schedule(source: &Source) -> Option<&Schedule> {
    source.schedule().or_else(|| source.replay().and_then(|replay| replay.rate_schedule()))
}

/// The sources' total arrival rate over `[0, end_s]`: exact between its changes (step or
/// linear), or the mean per interval of `series` when it changes too often; `None` without an
/// open source.
fn arrivals(network: &Network, series: &TimeSeries, end_s: f64) -> Option<Arrivals> {
    let sources = network.sources();
    let total = |t: f64| sources.iter().filter_map(|source| source_rate(source, t)).sum::<f64>();
    if sources.iter().all(|source| source.open_rate().is_none()) {
        return None;
    }
    let mut changes = vec![0.0, end_s];
    for schedule in sources.iter().filter_map(rate_schedule) {
        let mut t = 0.0;
        while let Some(next) = schedule.next_change(t).filter(|&next| next < end_s) {
            if changes.len() > MAX_RATE_CHANGES {
                return Some(mean_arrivals(sources, series));
            }
            changes.push(next);
            t = next;
        }
    }
    changes.sort_by(f64::total_cmp);
    changes.dedup();
    let points = changes
        .windows(2)
        .flat_map(|pair| {
            let (from, to) = (pair[0], pair[1]);
            // Just before `to`: the end of a step, or the end of a linear piece.
            [(from, total(from)), (to, total(to - (to - from) * 1e-9))]
        })
        .collect();
    Some(Arrivals { points, per_interval: false })
}

/// The sources' total arrival rate as its mean over each interval of `series`, drawn as steps.
fn mean_arrivals(sources: &[Source], series: &TimeSeries) -> Arrivals {
    let mut from = 0.0;
    let mut points = Vec::with_capacity(2 * series.times_s.len());
    for &to in &series.times_s {
        let mean: f64 = sources
            .iter()
            .filter_map(|source| match rate_schedule(source) {
                Some(schedule) => Some(schedule.mean_over(from, to)),
                None => source_rate(source, from),
            })
            .sum();
        points.extend([(from, mean), (to, mean)]);
        from = to;
    }
    Arrivals { points, per_interval: true }
}

/// The unit of the time axis: its name and seconds per unit.
fn time_unit(end_s: f64) -> (&'static str, f64) {
    if end_s <= 1200.0 {
        ("s", 1.0)
    } else if end_s <= 12.0 * 3600.0 {
        ("min", 60.0)
    } else {
        ("h", 3600.0)
    }
}

/// A tick label: the value to six decimals at most, without trailing zeros ("20", "0.15").
fn tick(value: &f64) -> String {
    let rounded = (value * 1e6).round() / 1e6;
    format!("{}", rounded + 0.0) // + 0.0 turns -0 into 0
}

impl Drawing for QueueDrawing {
    fn size(&self) -> (u32, u32) {
        (1200, self.height())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let plot = frame(root, &format!("{}: queue length over time", self.scenario), &self.caption())?;
        let (legend, plot) = plot.split_vertically(LEGEND_HEIGHT);
        self.draw_legend(&legend)?;
        let strip = if self.arrivals.is_some() { STRIP_HEIGHT } else { 0 };
        let height = plot.dim_in_pixel().1.saturating_sub(strip);
        let panels = u32::try_from(self.panels.len()).unwrap_or(1).max(1);
        let cuts: Vec<u32> = (1..=panels).map(|k| k * height / panels).collect();
        let areas = plot.split_by_breakpoints([] as [u32; 0], &cuts[..cuts.len() - usize::from(strip == 0)]);
        let unit = time_unit(self.end_s);
        for (panel, area) in self.panels.iter().zip(&areas) {
            self.draw_panel(panel, area, unit)?;
        }
        if let (Some(arrivals), Some(area)) = (&self.arrivals, areas.last()) {
            self.draw_arrivals(arrivals, area, unit)?;
        }
        Ok(())
    }
}

impl QueueDrawing {
    /// Builds a plot on `area` from time 0 to the end of the run and from 0 to `top`, its
    /// x axis labelled only when `x_desc` is given.
    fn plane<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        (unit, per): (&str, f64),
        top: f64,
        (y_desc, x_desc): (&str, bool),
    ) -> Result<Plane<'a, DB>, Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(area)
            .margin_left(20)
            .margin_right(30)
            .margin_top(8)
            .x_label_area_size(if x_desc { 60 } else { 26 })
            .y_label_area_size(100)
            .build_cartesian_2d(0.0..self.end_s / per, 0.0..top)?;
        let description = format!("time ({unit})");
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(y_desc)
            .y_labels(5)
            .x_labels(13)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick);
        if x_desc {
            mesh.x_desc(description.as_str());
        }
        mesh.draw()?;
        Ok(chart)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
        unit: (&str, f64),
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let per = unit.1;
        let highest = panel
            .mean
            .iter()
            .chain(&panel.theory)
            .map(|point| point.1)
            .chain(panel.band.iter().flatten().map(|point| point.2))
            .fold(0.0, f64::max);
        let top = if highest > 0.0 { highest * 1.08 } else { 1.0 };
        let area = area.margin(14, 0, 0, 0).titled(&panel.title, (FONT, 20))?;
        let mut chart = self.plane(&area, unit, top, ("messages held", false))?;
        for run in &panel.band {
            let outline: Vec<(f64, f64)> = run
                .iter()
                .map(|&(t, _, high)| (t / per, high))
                .chain(run.iter().rev().map(|&(t, low, _)| (t / per, low)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, BAND.filled())))?;
        }
        let mean = panel.mean.iter().map(|&(t, m)| (t / per, m));
        chart.draw_series(LineSeries::new(mean, MEAN.stroke_width(2)))?;
        let theory = panel.theory.iter().map(|&(t, q)| (t / per, q));
        chart.draw_series(DashedLineSeries::new(theory, 8, 5, THEORY.stroke_width(2)))?;
        Ok(())
    }

    /// The legend of every panel, on one line under the title: the band, the mean, and the
    /// kinds of theory drawn.
    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let mut items = vec![(Mark::Line, "mean messages held")];
        if self.panels.iter().any(|panel| !panel.band.is_empty()) {
            items.insert(0, (Mark::Band, "p10-p90 across replications"));
        }
        let theories = [
            (Theory::Fluid, "fluid approximation"),
            (Theory::Growth, "analytic growth from empty at λ − cμ"),
        ];
        for (kind, label) in theories {
            if self.panels.iter().any(|panel| panel.theory_kind == kind) {
                items.push((Mark::Dashed, label));
            }
        }
        let style = TextStyle::from((FONT, 18)).pos(Pos::new(HPos::Left, VPos::Center));
        let widths = items
            .iter()
            .map(|(_, text)| Ok(i32::try_from(style.font.box_size(text)?.0)?))
            .collect::<Result<Vec<i32>, Box<dyn std::error::Error>>>()?;
        let total: i32 = widths.iter().map(|width| width + SWATCH + 50).sum();
        let (width, height) = area.dim_in_pixel();
        let (mut x, y) = ((i32::try_from(width)? - total) / 2, i32::try_from(height)? / 2);
        for ((mark, text), text_width) in items.iter().zip(widths) {
            match mark {
                Mark::Band => {
                    area.draw(&Rectangle::new([(x, y - 8), (x + SWATCH, y + 8)], BAND.filled()))?;
                }
                Mark::Line => {
                    area.draw(&PathElement::new([(x, y), (x + SWATCH, y)], MEAN.stroke_width(2)))?;
                }
                Mark::Dashed => {
                    for start in (0..SWATCH).step_by(12) {
                        let end = (start + 7).min(SWATCH);
                        area.draw(&PathElement::new([(x + start, y), (x + end, y)], THEORY.stroke_width(2)))?;
                    }
                }
            }
            area.draw_text(text, &style, (x + SWATCH + 8, y))?;
            x += SWATCH + text_width + 50;
        }
        Ok(())
    }

    fn draw_arrivals<DB: DrawingBackend>(
        &self,
        arrivals: &Arrivals,
        area: &DrawingArea<DB, Shift>,
        unit: (&str, f64),
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let per = unit.1;
        let highest = arrivals.points.iter().map(|point| point.1).fold(0.0, f64::max);
        let top = if highest > 0.0 { highest * 1.15 } else { 1.0 };
        let title = if arrivals.per_interval {
            "arrival rate: messages created per second by all sources, mean per interval"
        } else {
            "arrival rate: messages created per second by all sources"
        };
        let area = area.margin(14, 0, 0, 0).titled(title, (FONT, 20))?;
        let mut chart = self.plane(&area, unit, top, ("arrivals (msg/s)", true))?;
        let colour = PALETTE[2];
        let points = || arrivals.points.iter().map(|&(t, rate)| (t / per, rate));
        chart.draw_series(AreaSeries::new(points(), 0.0, colour.mix(0.2)))?;
        chart.draw_series(LineSeries::new(points(), colour.stroke_width(2)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::parse;
    use crate::stats::{Estimate, Excursion, NodePeak};

    /// A series of no interval whose nodes peaked at `peaks` messages.
    fn peaked(peaks: &[f64]) -> TimeSeries {
        let one = Estimate { mean: 1.0, ci95: None, samples: 1 };
        let peaks = peaks
            .iter()
            .enumerate()
            .map(|(node, &peak)| NodePeak {
                node,
                name: format!("n{node}"),
                mean_curve: Excursion { peak, peak_time_s: 10.0, pre_peak: 0.0, drain_s: None },
                peak: one,
                peak_time_s: one,
                drain_s: None,
                undrained: 1,
            })
            .collect();
        TimeSeries { every_s: 10.0, times_s: vec![10.0, 20.0], rows: Vec::new(), peaks }
    }

    #[test]
    fn few_nodes_are_all_shown_and_many_by_their_highest_peaks() {
        assert_eq!(shown_nodes(&peaked(&[1.0, 5.0, 2.0]), 3), [0, 1, 2]);
        // The four highest of six, in network order; a tie goes to the first.
        assert_eq!(shown_nodes(&peaked(&[1.0, 9.0, 3.0, 3.0, 7.0, 3.0]), 6), [1, 2, 3, 4]);
    }

    #[test]
    fn the_arrival_rate_is_the_sum_of_the_sources_exact_between_changes() {
        let text = r#"
            [[source]]
            name = "web"
            to = "server"
            schedule = [{ at = "0s", rate = 2 }, { at = "100s", rate = 6 }, { at = "300s", rate = 2 }]
            [[source]]
            name = "steady"
            to = "server"
            interarrival = { dist = "exponential", rate = 1 }
            [[node]]
            name = "server"
            service = { dist = "exponential", mean = "50ms" }
        "#;
        let scenario = parse(text, "rates", Path::new("rates.toml")).expect("a valid scenario");
        let arrivals = arrivals(&scenario.network, &peaked(&[]), 400.0).expect("open sources");
        assert!(!arrivals.per_interval);
        // Steps 3/s, 7/s, 3/s: each stretch from its start to just before its end.
        let rounded: Vec<(f64, f64)> =
            arrivals.points.iter().map(|&(t, rate)| (t.round(), (rate * 1e6).round() / 1e6)).collect();
        assert_eq!(
            rounded,
            [(0.0, 3.0), (100.0, 3.0), (100.0, 7.0), (300.0, 7.0), (300.0, 3.0), (400.0, 3.0)]
        );
    }

    #[test]
    fn the_time_axis_unit_follows_the_run_length() {
        assert_eq!(time_unit(600.0), ("s", 1.0));
        assert_eq!(time_unit(4.0 * 3600.0), ("min", 60.0));
        assert_eq!(time_unit(48.0 * 3600.0), ("h", 3600.0));
        assert_eq!(
            (tick(&20.000_000_1), tick(&0.15), tick(&-0.0)),
            ("20".to_owned(), "0.15".to_owned(), "0".to_owned())
        );
    }
}
