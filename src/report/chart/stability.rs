//! The stability map, from a sweep of two paths: a heat map over the grid of the bottleneck's
//! utilisation ρ (theory), the ρ = 1 frontier drawn between the cells (interpolated where ρ
//! crosses 1), and the cells without a steady state crossed out instead of coloured.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{ALERT, Drawing, Drawn, FONT, ImageFormat, Plane, frame, render};
use super::sweep::x_description;
use crate::report::number;
use crate::report::{Exporter, PointEntry, ReportError, SweepFile, SweepReport};

/// charts/stability-map.svg and .png: the bottleneck's ρ over a two-path grid.
#[derive(Debug, Clone, Copy)]
pub struct StabilityMap(pub ImageFormat);

/// The colour of a cell without a steady state, beneath its cross.
const UNSTEADY: RGBColor = RGBColor(236, 236, 236);

/// Anchors of the colour scale from ρ = 0 to ρ = 1 (viridis: perceptually uniform, colour-blind
/// safe, readable in grey).
const SCALE: [RGBColor; 5] = [
    RGBColor(68, 1, 84),
    RGBColor(59, 82, 139),
    RGBColor(33, 145, 140),
    RGBColor(94, 201, 98),
    RGBColor(253, 231, 37),
];

/// One cell of the grid: its column and row, the bottleneck's ρ and whether the point reached
/// a steady state.
struct Cell {
    column: usize,
    row: usize,
    rho: Option<f64>,
    steady: bool,
}

struct MapDrawing {
    scenario: String,
    paths: [String; 2],
    columns: Vec<f64>,
    rows: Vec<f64>,
    cells: Vec<Cell>,
    /// The bottleneck nodes named at the points, each once.
    bottlenecks: Vec<String>,
    replications: u32,
}

impl Exporter<SweepReport> for StabilityMap {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        render(&MapDrawing::new(&result.sweep), self.0)
    }
}

/// Whether a sweep has a stability map: exactly two varied paths.
pub(crate) fn has_map(file: &SweepFile) -> bool {
    file.paths.len() == 2
}

/// The distinct values of `path` over the points, in increasing order.
fn values(points: &[PointEntry], path: &str) -> Vec<f64> {
    let mut values: Vec<f64> = points.iter().filter_map(|p| p.values.get(path).copied()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
}

impl MapDrawing {
    fn new(file: &SweepFile) -> Self {
        let paths = [0, 1].map(|index| file.paths.get(index).cloned().unwrap_or_default());
        let (columns, rows) = (values(&file.points, &paths[0]), values(&file.points, &paths[1]));
        let position = |values: &[f64], value: Option<&f64>| {
            value.and_then(|v| values.iter().position(|x| x.total_cmp(v).is_eq()))
        };
        let cells = file
            .points
            .iter()
            .filter_map(|point| {
                Some(Cell {
                    column: position(&columns, point.values.get(&paths[0]))?,
                    row: position(&rows, point.values.get(&paths[1]))?,
                    rho: point.system.bottleneck_utilization,
                    steady: point.steady_state && point.system.stable != Some(false),
                })
            })
            .collect();
        let mut bottlenecks: Vec<String> = Vec::new();
        for name in file.points.iter().filter_map(|p| p.system.bottleneck.as_ref()) {
            if !bottlenecks.contains(name) {
                bottlenecks.push(name.clone());
            }
        }
        Self {
            scenario: file.scenario.clone(),
            paths,
            columns,
            rows,
            cells,
            bottlenecks,
            replications: file.replications,
        }
    }

    /// ρ at a grid position, when theory has it.
    fn rho(&self, column: usize, row: usize) -> Option<f64> {
        self.cells.iter().find(|c| c.column == column && c.row == row).and_then(|c| c.rho)
    }

    /// The ρ = 1 frontier as segments in grid coordinates (cell `i` spans `[i, i + 1]`), on the
    /// border between two cells along an axis of whole counts (no fraction of a server).
    fn frontier(&self) -> Vec<[(f64, f64); 2]> {
        let discrete = self.paths.clone().map(|path| counted(&path));
        let grid: Vec<Vec<Option<f64>>> = (0..self.rows.len())
            .map(|row| (0..self.columns.len()).map(|column| self.rho(column, row)).collect())
            .collect();
        frontier(&grid, discrete)
    }
}

/// Whether a path varies a whole count: servers, a capacity, replications.
fn counted(path: &str) -> bool {
    matches!(path.rsplit('.').next(), Some("servers" | "capacity" | "replications"))
}

/// The ρ = 1 contour of `grid` (rows of columns of ρ, `None` where theory has none) by marching
/// squares over the cell centres, padded with each border's value at the border itself so that
/// the line reaches the edge of the map; segments in grid coordinates. Along an axis marked
/// `discrete`, the line crosses midway between two centres (on the cells' border) instead of
/// where linear interpolation puts ρ = 1.
fn frontier(grid: &[Vec<Option<f64>>], discrete: [bool; 2]) -> Vec<[(f64, f64); 2]> {
    let Some(width) = grid.first().map(Vec::len).filter(|&w| w > 0) else { return Vec::new() };
    // Positions of the padded centres along an axis of `n` cells: 0, 0.5, 1.5, ..., n - 0.5, n.
    let padded = |n: usize| -> Vec<(f64, usize)> {
        #[allow(clippy::cast_precision_loss)] // a grid of at most a few thousand points
        let inner = (0..n).map(|i| (i as f64 + 0.5, i));
        #[allow(clippy::cast_precision_loss)]
        let last = (n as f64, n - 1);
        std::iter::once((0.0, 0)).chain(inner).chain(std::iter::once(last)).collect()
    };
    let (xs, ys) = (padded(width), padded(grid.len()));
    let mut segments = Vec::new();
    for pair_y in ys.windows(2) {
        for pair_x in xs.windows(2) {
            let corner = |x: (f64, usize), y: (f64, usize)| grid[y.1][x.1].map(|rho| (x.0, y.0, rho));
            // Corners around the square, in order.
            let corners = [
                corner(pair_x[0], pair_y[0]),
                corner(pair_x[1], pair_y[0]),
                corner(pair_x[1], pair_y[1]),
                corner(pair_x[0], pair_y[1]),
            ];
            let Some(corners) = corners.into_iter().collect::<Option<Vec<_>>>() else { continue };
            let crossings: Vec<(f64, f64)> =
                (0..4).filter_map(|k| crossing(corners[k], corners[(k + 1) % 4], discrete)).collect();
            segments.extend(crossings.chunks_exact(2).map(|pair| [pair[0], pair[1]]));
        }
    }
    segments
}

/// Where ρ = 1 lies on the edge from `a` to `b` (linear interpolation, or midway along a
/// `discrete` axis), if it crosses there.
fn crossing(a: (f64, f64, f64), b: (f64, f64, f64), discrete: [bool; 2]) -> Option<(f64, f64)> {
    if (a.2 < 1.0) == (b.2 < 1.0) {
        return None;
    }
    let along = if a.1 == b.1 { discrete[0] } else { discrete[1] };
    let t = if along { 0.5 } else { (1.0 - a.2) / (b.2 - a.2) };
    Some((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
}

/// A grid value as a tick label: at most four decimals, no trailing zeros (0.7, 1.15, 4).
fn tick(value: f64) -> String {
    if value != 0.0 && !(1e-3..1e6).contains(&value.abs()) {
        return number(value);
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The colour of utilisation `rho` in [0, 1) on the scale.
fn colour(rho: f64) -> RGBColor {
    let at = rho.clamp(0.0, 1.0) * (SCALE.len() - 1) as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // within the anchors
    let low = (at.floor() as usize).min(SCALE.len() - 2);
    let t = at - low as f64;
    let (a, b) = (SCALE[low], SCALE[low + 1]);
    let mix = |x: u8, y: u8| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // within 0..=255
        let value = (f64::from(x) + t * (f64::from(y) - f64::from(x))).round() as u8;
        value
    };
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl MapDrawing {
    fn caption(&self) -> String {
        format!(
            "Colour: the bottleneck's ρ in theory at each point ({} each); × marks points with no steady state.",
            crate::report::count(u64::from(self.replications), "replication")
        )
    }
}

impl Drawing for MapDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let title = format!("{}: stability map over {} × {}", self.scenario, self.paths[0], self.paths[1]);
        let plot = frame(root, &title, &self.caption())?;
        let width = plot.dim_in_pixel().0;
        let (map, side) = plot.split_horizontally(width.saturating_sub(300));
        #[allow(clippy::cast_precision_loss)] // a few cells
        let (columns, rows) = (self.columns.len().max(1) as f64, self.rows.len().max(1) as f64);
        let mut chart = ChartBuilder::on(&map)
            .margin(20)
            .x_label_area_size(80)
            .y_label_area_size(100)
            .build_cartesian_2d(0.0..columns, 0.0..rows)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc(x_description(&self.paths[0]))
            .y_desc(x_description(&self.paths[1]))
            .axis_desc_style((FONT, 20))
            .draw()?;
        self.draw_ticks(&mut chart)?;
        self.draw_cells(&mut chart)?;
        let frontier = self.frontier();
        chart.draw_series(frontier.iter().map(|s| PathElement::new(s.to_vec(), BLACK.stroke_width(4))))?;
        self.draw_side(&side, !frontier.is_empty())
    }
}

impl MapDrawing {
    /// Each column's and row's value beside the axes, centred on its cells.
    fn draw_ticks<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let below = TextStyle::from((FONT, 18)).pos(Pos::new(HPos::Center, VPos::Top));
        let left = TextStyle::from((FONT, 18)).pos(Pos::new(HPos::Right, VPos::Center));
        let ticks = (0_u32..).map(f64::from).zip(&self.columns).map(|(i, value)| {
            EmptyElement::at((i + 0.5, 0.0)) + Text::new(tick(*value), (0, 10), below.clone())
        });
        chart.draw_series(ticks)?;
        let ticks = (0_u32..).map(f64::from).zip(&self.rows).map(|(j, value)| {
            EmptyElement::at((0.0, j + 0.5)) + Text::new(tick(*value), (-10, 0), left.clone())
        });
        chart.draw_series(ticks)?;
        Ok(())
    }

    /// Each cell: coloured by ρ at a steady state, else grey and crossed out; ρ written in it.
    fn draw_cells<DB: DrawingBackend>(&self, chart: &mut Plane<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        for cell in &self.cells {
            #[allow(clippy::cast_precision_loss)] // a few cells
            let (x, y) = (cell.column as f64, cell.row as f64);
            let steady = cell.steady && cell.rho.is_some_and(|rho| rho < 1.0);
            let fill = match cell.rho {
                Some(rho) if steady => colour(rho),
                _ => UNSTEADY,
            };
            chart
                .draw_series(std::iter::once(Rectangle::new([(x, y), (x + 1.0, y + 1.0)], fill.filled())))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                WHITE.stroke_width(2),
            )))?;
            if !steady {
                let cross = ALERT.mix(0.8).stroke_width(3);
                let (a, b) = ((x + 0.15, y + 0.15), (x + 0.85, y + 0.85));
                chart.draw_series([
                    PathElement::new(vec![a, b], cross),
                    PathElement::new(vec![(a.0, b.1), (b.0, a.1)], cross),
                ])?;
            }
            let dark = steady && cell.rho.is_some_and(|rho| rho < 0.6);
            let text = cell.rho.map_or_else(|| "no theory".to_owned(), |rho| format!("ρ {rho:.2}"));
            let style = TextStyle::from((FONT, 18))
                .color(if dark { &WHITE } else { &BLACK })
                .pos(Pos::new(HPos::Center, VPos::Center));
            let backdrop =
                if steady { None } else { Some(Rectangle::new([(-40, -14), (40, 14)], UNSTEADY.filled())) };
            let at = EmptyElement::at((x + 0.5, y + 0.5));
            match backdrop {
                Some(backdrop) => {
                    chart.draw_series(std::iter::once(at + backdrop + Text::new(text, (0, 0), style)))?
                }
                None => chart.draw_series(std::iter::once(at + Text::new(text, (0, 0), style)))?,
            };
        }
        Ok(())
    }

    /// The colour scale and the key of the marks, right of the map.
    fn draw_side<DB: DrawingBackend>(&self, side: &DrawingArea<DB, Shift>, frontier: bool) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let mut scale = ChartBuilder::on(side)
            .margin_top(20)
            .margin_bottom(300)
            .margin_right(170)
            .y_label_area_size(0)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        scale
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .y_label_formatter(&|rho| format!("{rho:.1}"))
            .label_style((FONT, 16))
            .draw()?;
        let steps = 100_u32;
        scale.draw_series((0..steps).map(|k| {
            let (low, high) = (f64::from(k) / f64::from(steps), f64::from(k + 1) / f64::from(steps));
            Rectangle::new([(0.0, low), (1.0, high)], colour(low).filled())
        }))?;
        let bottlenecks =
            if self.bottlenecks.is_empty() { "-".to_owned() } else { self.bottlenecks.join(", ") };
        let lines = [
            ("ρ of the bottleneck".to_owned(), None),
            ("(theory, λ/(cμ)):".to_owned(), None),
            (bottlenecks, None),
            (String::new(), None),
            ("no steady state".to_owned(), Some(false)),
            ("(ρ ≥ 1 or queue growing)".to_owned(), None),
            (String::new(), None),
        ];
        let (_, height) = side.dim_in_pixel();
        #[allow(clippy::cast_possible_wrap)] // chart sizes are far below i32::MAX
        let top = height as i32 - 280;
        let style = TextStyle::from((FONT, 17)).pos(Pos::new(HPos::Left, VPos::Center));
        let mut y = top;
        for (text, swatch) in &lines {
            if swatch.is_some() {
                side.draw(&Rectangle::new([(10, y - 11), (32, y + 11)], UNSTEADY.filled()))?;
                side.draw(&PathElement::new(vec![(12, y - 9), (30, y + 9)], ALERT.stroke_width(3)))?;
                side.draw(&PathElement::new(vec![(12, y + 9), (30, y - 9)], ALERT.stroke_width(3)))?;
                side.draw(&Text::new(text.clone(), (40, y), style.clone()))?;
            } else {
                side.draw(&Text::new(text.clone(), (10, y), style.clone()))?;
            }
            y += 24;
        }
        if frontier {
            side.draw(&PathElement::new(vec![(10, y), (32, y)], BLACK.stroke_width(4)))?;
            side.draw(&Text::new("ρ = 1 frontier".to_owned(), (40, y), style.clone()))?;
            side.draw(&Text::new("(theory, interpolated)".to_owned(), (40, y + 24), style))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frontier_runs_where_rho_crosses_one_to_the_edges() {
        // Two columns (ρ 0.5 then 1.5) over two rows: ρ = 1 halfway between the centres, x = 1,
        // from the bottom edge to the top one.
        let grid = vec![vec![Some(0.5), Some(1.5)], vec![Some(0.5), Some(1.5)]];
        let segments = frontier(&grid, [false, false]);
        assert!(!segments.is_empty());
        for [a, b] in &segments {
            assert!((a.0 - 1.0).abs() < 1e-12 && (b.0 - 1.0).abs() < 1e-12, "{segments:?}");
        }
        let (low, high) = segments
            .iter()
            .flat_map(|s| [s[0].1, s[1].1])
            .fold((2.0, 0.0), |(l, h), y| (f64::min(l, y), f64::max(h, y)));
        assert_eq!((low, high), (0.0, 2.0));
        assert!(
            frontier(&[vec![Some(0.2), Some(0.9)]], [false, false]).is_empty(),
            "no crossing, no frontier"
        );
        assert!(
            frontier(&[vec![None, Some(1.2)]], [false, false]).is_empty(),
            "no line into a cell without theory"
        );
        // Along a count (servers), on the border between the cells, not at 1 + 0.25.
        let steps = frontier(&[vec![Some(0.5), Some(2.5)]], [true, false]);
        assert!(steps.iter().all(|[a, b]| a.0 == 1.0 && b.0 == 1.0), "{steps:?}");
    }

    #[test]
    fn the_scale_runs_from_its_first_anchor_to_its_last() {
        assert_eq!(colour(0.0), SCALE[0]);
        assert_eq!(colour(1.0), SCALE[4]);
        assert_eq!(colour(0.5), SCALE[2]);
    }

    #[test]
    fn ticks_read_as_typed() {
        assert_eq!(tick(0.700_000_000_000_000_1), "0.7");
        assert_eq!(tick(4.0), "4");
        assert_eq!(tick(1.15), "1.15");
        assert_eq!(tick(0.0), "0");
    }
}
