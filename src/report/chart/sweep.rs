//! Latency against load, from a sweep (the hockey stick): each source's mean and p99 end-to-end
//! latency against the first varied value, with 95% CI bands, theory dashed, the load at which
//! the bottleneck saturates (ρ = 1), the latency SLOs, and the points without a steady state
//! marked instead of drawn.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::canvas::{
    ALERT, Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, TimeUnit, frame, note, render,
};
use crate::experiment::{Slo, SloScope};
use crate::report::{
    EstimateEntry, Exporter, NamedEntry, PointEntry, ReportError, SweepFile, SweepReport, count, number,
};

/// charts/latency-vs-load.svg and .png: each source's latency against the first varied value.
#[derive(Debug, Clone, Copy)]
pub struct LatencyVsLoad(pub ImageFormat);

/// The two latency metrics drawn, their keys and names.
const METRICS: [(&str, &str); 2] = [("latency_mean", "mean"), ("latency_p99", "p99")];

/// One measured point: x, the mean and its CI, in seconds.
#[derive(Debug, Clone, Copy)]
struct Measured {
    x: f64,
    mean: f64,
    ci95: Option<[f64; 2]>,
}

/// One source's metric along the sweep, within one group of points.
struct Series {
    label: String,
    colour: RGBColor,
    /// Runs of consecutive points at a steady state.
    runs: Vec<Vec<Measured>>,
    /// Theory at the steady points, and whether every value is exact.
    theory: Vec<(f64, f64)>,
    exact: bool,
    p99: bool,
}

struct SweepDrawing {
    scenario: String,
    path: String,
    replications: u32,
    series: Vec<Series>,
    /// The x of every point without a steady state, with the colour of its group's curves
    /// (the alert colour when there is one group), and the group's index.
    unstable: Vec<(f64, RGBColor, usize)>,
    /// Where theory puts ρ = 1 at the bottleneck, with the note that says so.
    saturation: Vec<(f64, String)>,
    /// Latency SLOs: (expression, metric key, threshold in seconds).
    slos: Vec<(String, f64)>,
    x_range: (f64, f64),
}

impl Exporter<SweepReport> for LatencyVsLoad {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        render(&SweepDrawing::new(&result.sweep), self.0)
    }
}

/// The points of a sweep grouped by the values of every axis but the first, each group sorted
/// along the first: one curve per group.
fn groups(file: &SweepFile) -> Vec<(String, Vec<(f64, &PointEntry)>)> {
    let Some(first) = file.paths.first() else { return Vec::new() };
    let mut groups: BTreeMap<String, Vec<(f64, &PointEntry)>> = BTreeMap::new();
    for point in &file.points {
        let others: Vec<String> = file.paths[1..]
            .iter()
            .map(|path| format!("{path}={}", value_text(point.values.get(path).copied().unwrap_or(f64::NAN))))
            .collect();
        let x = point.values.get(first).copied().unwrap_or(f64::NAN);
        groups.entry(others.join(" ")).or_default().push((x, point));
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    for (_, points) in &mut groups {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    groups
}

/// A source's entry at a point, with the point's x, when the point is at a steady state.
fn steady_source<'f>(&(x, point): &(f64, &'f PointEntry), source: usize) -> Option<(f64, &'f NamedEntry)> {
    if point.steady_state { point.sources.get(source).map(|entry| (x, entry)) } else { None }
}

/// A varied value as a label: whole numbers (servers, capacities) without decimals.
pub(super) fn value_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { number(value) }
}

fn measured(x: f64, estimate: Option<&EstimateEntry>) -> Option<Measured> {
    let estimate = estimate?;
    Some(Measured { x, mean: estimate.mean?, ci95: estimate.ci95 })
}

/// Splits the steady points into runs broken by unsteady ones.
fn runs(points: impl Iterator<Item = Option<Measured>>) -> Vec<Vec<Measured>> {
    let mut runs = vec![Vec::new()];
    for point in points {
        match point {
            Some(point) => runs.last_mut().expect("one run at least").push(point),
            None if runs.last().is_some_and(|run| !run.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

impl Series {
    /// One source's metric `key` along the points of a group.
    fn new(points: &[(f64, &PointEntry)], source: usize, key: &str, label: String, colour: RGBColor) -> Self {
        let steady = || points.iter().map(|entry| steady_source(entry, source));
        let runs = runs(steady().map(|entry| entry.and_then(|(x, s)| measured(x, s.metrics.get(key)))));
        let figures: Vec<(f64, f64, bool)> = steady()
            .flatten()
            .filter_map(|(x, s)| s.analytic.get(key).and_then(|f| Some((x, f.value?, f.exact))))
            .collect();
        Self {
            label,
            colour,
            runs,
            exact: figures.iter().all(|f| f.2),
            theory: figures.iter().map(|&(x, y, _)| (x, y)).collect(),
            p99: key == "latency_p99",
        }
    }
}

impl SweepDrawing {
    fn new(file: &SweepFile) -> Self {
        let groups = groups(file);
        let sources: Vec<&str> = file
            .points
            .first()
            .map_or_else(Vec::new, |p| p.sources.iter().map(|s| s.name.as_str()).collect());
        let mut series = Vec::new();
        let mut colours = PALETTE.iter().cycle();
        for (group, points) in &groups {
            let suffix = if group.is_empty() { String::new() } else { format!(" [{group}]") };
            for (index, source) in sources.iter().enumerate() {
                let colour = *colours.next().expect("a cycle never ends");
                for (key, metric) in METRICS {
                    series.push(Series::new(
                        points,
                        index,
                        key,
                        format!("{source} {metric}{suffix}"),
                        colour,
                    ));
                }
            }
        }
        let xs = || groups.iter().flat_map(|(_, points)| points.iter().map(|p| p.0));
        let x_range = (xs().fold(f64::INFINITY, f64::min), xs().fold(f64::NEG_INFINITY, f64::max));
        Self {
            scenario: file.scenario.clone(),
            path: file.paths.first().cloned().unwrap_or_default(),
            replications: file.replications,
            series,
            unstable: groups
                .iter()
                .enumerate()
                .flat_map(|(index, (_, points))| {
                    let colour = if groups.len() == 1 {
                        ALERT
                    } else {
                        PALETTE[(index * sources.len()) % PALETTE.len()]
                    };
                    points.iter().filter(|p| !p.1.steady_state).map(move |p| (p.0, colour, index))
                })
                .collect(),
            saturation: groups
                .iter()
                .filter_map(|(group, points)| {
                    let (x, bottleneck) = saturation(file, points)?;
                    let within = if group.is_empty() { String::new() } else { format!(" at {group}") };
                    Some((x, format!("ρ = 1: {bottleneck} saturates{within}")))
                })
                .filter(|(x, _)| (x_range.0..=x_range.1).contains(x))
                .collect(),
            slos: latency_slos(&file.slos),
            x_range,
        }
    }
}

/// Where theory puts the bottleneck at ρ = 1 along one group: the load factor times the
/// headroom when the axis is `load` (utilisation grows in proportion to the arrival rates),
/// else the linear interpolation between the two points whose ρ straddles 1.
fn saturation(file: &SweepFile, points: &[(f64, &PointEntry)]) -> Option<(f64, String)> {
    let bottleneck = |point: &PointEntry| point.system.bottleneck.clone().unwrap_or_default();
    if file.paths.first().map(String::as_str) == Some("load") {
        return points
            .iter()
            .find_map(|(x, point)| point.system.headroom.map(|h| (x * h, bottleneck(point))));
    }
    points.windows(2).find_map(|pair| {
        let [(x0, p0), (x1, p1)] = pair else { return None };
        let (r0, r1) = (p0.system.bottleneck_utilization?, p1.system.bottleneck_utilization?);
        (r0 < 1.0 && r1 >= 1.0).then(|| (x0 + (1.0 - r0) / (r1 - r0) * (x1 - x0), bottleneck(p1)))
    })
}

/// The width of a note's text, pixels.
fn text_width(text: &str) -> Result<i32, Box<dyn std::error::Error>> {
    let (width, _) = TextStyle::from((FONT, 17)).font.box_size(text)?;
    Ok(i32::try_from(width)?)
}

/// The SLOs on a source's mean or p99 latency: (expression, threshold in seconds).
fn latency_slos(expressions: &[String]) -> Vec<(String, f64)> {
    expressions
        .iter()
        .filter_map(|text| text.parse::<Slo>().ok())
        .filter(|slo| matches!(slo.scope, SloScope::Sources | SloScope::Source(_)))
        .filter(|slo| METRICS.iter().any(|(key, _)| *key == slo.metric))
        .map(|slo| (slo.expr, slo.threshold))
        .collect()
}

/// How the x axis reads for a varied path.
pub(super) fn x_description(path: &str) -> String {
    let unit = match path.rsplit('.').next() {
        Some("load") => return "load factor (× the scenario's arrival rates)".to_owned(),
        Some("rate") => "per second",
        Some("servers" | "capacity" | "replications") => "count",
        Some("mean" | "duration" | "warmup" | "ttl") => "s",
        _ => "as in the scenario file",
    };
    format!("{path} ({unit})")
}

impl SweepDrawing {
    fn y_top(&self) -> f64 {
        let measured = self
            .series
            .iter()
            .flat_map(|s| s.runs.iter().flatten())
            .map(|m| m.ci95.map_or(m.mean, |ci| ci[1]));
        let theory = self.series.iter().flat_map(|s| s.theory.iter().map(|t| t.1));
        let slos = self.slos.iter().map(|s| s.1);
        measured.chain(theory).chain(slos).fold(0.0, f64::max).max(1e-9) * 1.1
    }

    fn caption(&self) -> String {
        format!(
            "Each source's mean (●) and p99 (▲) latency, {} a point, 95% CI as bands; × marks points with no steady state.",
            count(u64::from(self.replications), "replication")
        )
    }
}

impl Drawing for SweepDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let title = format!("{}: end-to-end latency vs {}", self.scenario, self.path);
        let plot = frame(root, &title, &self.caption())?;
        let top = self.y_top();
        let unit = TimeUnit::for_seconds(top);
        let (left, right) = self.x_range;
        let pad = ((right - left) * 0.04).max(1e-9);
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d((left - pad)..(right + pad), 0.0..top * unit.per_second)?;
        chart
            .configure_mesh()
            .x_desc(x_description(&self.path))
            .y_desc(format!("end-to-end latency ({})", unit.name))
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .draw()?;
        self.draw_unstable(&mut chart)?;
        for series in &self.series {
            draw_series(&mut chart, series, unit.per_second)?;
        }
        self.draw_marks(&mut chart, unit)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 17))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

fn draw_series<'a, DB: DrawingBackend + 'a>(chart: &mut Plane<'a, DB>, series: &Series, scale: f64) -> Drawn
where
    DB::ErrorType: 'static,
{
    let colour = series.colour;
    let width = if series.p99 { 2 } else { 3 };
    let band = colour.mix(if series.p99 { 0.12 } else { 0.22 }).filled();
    for run in &series.runs {
        let upper = run.iter().map(|m| (m.x, m.ci95.map_or(m.mean, |ci| ci[1]) * scale));
        let lower = run.iter().rev().map(|m| (m.x, m.ci95.map_or(m.mean, |ci| ci[0]) * scale));
        chart.draw_series(std::iter::once(Polygon::new(upper.chain(lower).collect::<Vec<_>>(), band)))?;
    }
    for run in &series.runs {
        if series.p99 {
            chart.draw_series(
                run.iter().map(|m| TriangleMarker::new((m.x, m.mean * scale), 7, colour.filled())),
            )?;
        } else {
            chart.draw_series(run.iter().map(|m| Circle::new((m.x, m.mean * scale), 5, colour.filled())))?;
        }
    }
    for (index, run) in series.runs.iter().enumerate() {
        let line = run.iter().map(|m| (m.x, m.mean * scale));
        let drawn = chart.draw_series(LineSeries::new(line, colour.stroke_width(width)))?;
        if index == 0 {
            let line = move |(x, y)| {
                EmptyElement::at((x, y)) + PathElement::new(vec![(0, 0), (18, 0)], colour.stroke_width(width))
            };
            let drawn = drawn.label(&series.label);
            if series.p99 {
                drawn.legend(move |at| line(at) + TriangleMarker::new((9, 0), 6, colour.filled()));
            } else {
                drawn.legend(move |at| line(at) + Circle::new((9, 0), 4, colour.filled()));
            }
        }
    }
    if series.theory.len() > 1 {
        let kind = if series.exact { "exact" } else { "approximate" };
        let points = series.theory.iter().map(|&(x, y)| (x, y * scale));
        let style = colour.stroke_width(2);
        // Long dashes for the mean's theory, short ones for the p99's.
        let (dash, gap) = if series.p99 { (3, 4) } else { (12, 6) };
        chart
            .draw_series(DashedLineSeries::new(points, dash, gap, style))?
            .label(format!("{}, theory ({kind})", series.label))
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], dash, gap, style));
    }
    Ok(())
}

impl SweepDrawing {
    fn draw_unstable<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        if self.unstable.is_empty() {
            return Ok(());
        }
        let top = chart.y_range().end;
        let style = ALERT.stroke_width(3);
        chart.draw_series(
            self.unstable.iter().map(|&(x, _, _)| {
                PathElement::new(vec![(x, 0.0), (x, top)], ALERT.mix(0.25).stroke_width(8))
            }),
        )?;
        // In a grid, each group's crosses in its curves' colour, stacked above the axis.
        let crosses = self.unstable.iter().map(|&(x, colour, group)| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // a few groups
            let up = -22 * group as i32;
            EmptyElement::at((x, 0.0)) + Cross::new((0, up), 9, colour.stroke_width(3))
        });
        chart
            .draw_series(crosses)?
            .label("no steady state: not drawn")
            .legend(move |(x, y)| Cross::new((x + 9, y), 7, style));
        Ok(())
    }

    fn draw_marks<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>, unit: TimeUnit) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (left, right) = (chart.x_range().start, chart.x_range().end);
        let top = chart.y_range().end;
        let style = ALERT.stroke_width(2);
        for (index, (x, label)) in self.saturation.iter().enumerate() {
            let line =
                chart.draw_series(std::iter::once(PathElement::new(vec![(*x, 0.0), (*x, top)], style)))?;
            if index == 0 {
                line.label("ρ = 1 at the bottleneck (theory)")
                    .legend(move |(x, y)| PathElement::new(vec![(x + 9, y - 8), (x + 9, y + 8)], style));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // a few lines
            let down = 30 + 26 * index as i32;
            // Right of the line, in the unstable region, unless the text would leave the plot.
            let width = text_width(label)?;
            let room = chart.backend_coord(&(right, top)).0 - chart.backend_coord(&(*x, top)).0;
            let across = if room > width + 16 { 8 } else { -8 - width };
            note(chart, label, (*x, top), (across, down), ALERT)?;
        }
        for (expr, threshold) in &self.slos {
            let y = threshold * unit.per_second;
            let style = BLACK.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new([(left, y), (right, y)], 16, 5, style))?
                .label(format!("SLO {expr}"))
                .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], 8, 3, style));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64) -> Option<Measured> {
        Some(Measured { x, mean: x, ci95: None })
    }

    #[test]
    fn unsteady_points_break_the_curves_and_are_never_drawn() {
        let split = runs([at(1.0), at(2.0), None, at(4.0), None, None].into_iter());
        let xs: Vec<Vec<f64>> = split.iter().map(|run| run.iter().map(|m| m.x).collect()).collect();
        assert_eq!(xs, [vec![1.0, 2.0], vec![4.0]]);
        assert!(runs([None, None].into_iter()).is_empty());
    }

    #[test]
    fn axes_read_with_their_units_and_whole_values_without_decimals() {
        assert_eq!(x_description("node.db.servers"), "node.db.servers (count)");
        assert_eq!(x_description("node.db.service.mean"), "node.db.service.mean (s)");
        assert_eq!(x_description("source.s.interarrival.rate"), "source.s.interarrival.rate (per second)");
        assert!(x_description("load").starts_with("load factor"));
        assert_eq!(value_text(4.0), "4");
        assert_eq!(value_text(0.25), "0.2500");
    }
}
