//! Comparison, from `kendall compare`: each source's mean and p99 latency in every configuration,
//! side by side with their 95% CIs, the differences to the baseline that are significant marked.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{
    Drawing, Drawn, FONT, ImageFormat, PALETTE, Plane, TimeUnit, category_labels, frame, render, whisker,
};
use crate::experiment::Scope;
use crate::report::{CompareFile, CompareReport, Exporter, ReportError};

/// charts/comparison.svg and .png: grouped bars of each source's latency per configuration.
#[derive(Debug, Clone, Copy)]
pub struct Comparison(pub ImageFormat);

/// The metrics compared, their keys and names.
const METRICS: [(&str, &str); 2] = [("latency_mean", "mean"), ("latency_p99", "p99")];

/// One configuration's value of one metric, seconds.
#[derive(Debug, Clone, Copy)]
struct Value {
    mean: f64,
    ci95: Option<[f64; 2]>,
    /// Whether its difference to the baseline is significant (never for the baseline).
    significant: bool,
}

/// One group of bars: a source's metric, one value per configuration (None where absent).
struct Group {
    label: String,
    values: Vec<Option<Value>>,
}

struct ComparisonDrawing {
    baseline: String,
    configurations: Vec<String>,
    groups: Vec<Group>,
}

impl Exporter<CompareReport> for Comparison {
    fn render(&self, result: &CompareReport) -> Result<Vec<u8>, ReportError> {
        render(&ComparisonDrawing::new(&result.file), self.0)
    }
}

impl ComparisonDrawing {
    fn new(file: &CompareFile) -> Self {
        let configurations: Vec<String> = file.configurations.iter().map(|c| c.name.clone()).collect();
        let mut groups: Vec<(String, &str, Group)> = Vec::new();
        let rows = file.differences.iter().filter(|row| row.scope == Scope::Source);
        for row in rows {
            let Some(&(_, metric)) = METRICS.iter().find(|(key, _)| *key == row.metric) else { continue };
            let Some(column) = configurations.iter().position(|name| *name == row.configuration) else {
                continue;
            };
            let index = match groups.iter().position(|(name, key, _)| *name == row.name && *key == row.metric)
            {
                Some(index) => index,
                None => {
                    let mut values = vec![None; configurations.len()];
                    values[0] =
                        Some(Value { mean: row.baseline_mean, ci95: row.baseline_ci95, significant: false });
                    let label = format!("{} {metric}", row.name);
                    groups.push((row.name.clone(), row.metric.as_str(), Group { label, values }));
                    groups.len() - 1
                }
            };
            groups[index].2.values[column] =
                Some(Value { mean: row.mean, ci95: row.mean_ci95, significant: row.significant });
        }
        Self {
            baseline: file.baseline.clone(),
            configurations,
            groups: groups.into_iter().map(|g| g.2).collect(),
        }
    }

    fn top(&self) -> f64 {
        let values = self.groups.iter().flat_map(|g| g.values.iter().flatten());
        values.map(|v| v.ci95.map_or(v.mean, |ci| ci[1])).fold(0.0, f64::max).max(1e-9) * 1.15
    }
}

impl Drawing for ComparisonDrawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let title = format!("{}: end-to-end latency per configuration", self.baseline);
        let caption = "Each source's mean and p99 latency per configuration (95% CI whiskers); \
                       * marks a significant paired difference to the baseline.";
        let plot = frame(root, &title, caption)?;
        let unit = TimeUnit::for_seconds(self.top());
        #[allow(clippy::cast_precision_loss)] // a few groups
        let width = self.groups.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..width, 0.0..self.top() * unit.per_second)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("source and metric")
            .y_desc(format!("end-to-end latency ({})", unit.name))
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .draw()?;
        let labels = (0_u32..).map(|i| f64::from(i) + 0.5).zip(self.groups.iter().map(|g| g.label.as_str()));
        category_labels(&mut chart, labels, 0.0)?;
        self.draw_bars(&mut chart, unit.per_second)?;
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

impl ComparisonDrawing {
    fn draw_bars<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Plane<'a, DB>, scale: f64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        #[allow(clippy::cast_precision_loss)] // a few configurations
        let slot = 0.8 / self.configurations.len().max(1) as f64;
        let bars = |column: usize| {
            #[allow(clippy::cast_precision_loss)]
            let offset = 0.1 + slot * column as f64;
            (0_u32..)
                .map(f64::from)
                .zip(&self.groups)
                .filter_map(move |(x, group)| group.values[column].map(|value| (x + offset, value)))
        };
        for (column, (name, &colour)) in self.configurations.iter().zip(PALETTE.iter().cycle()).enumerate() {
            let label = if column == 0 { format!("{name} (baseline)") } else { name.clone() };
            chart
                .draw_series(bars(column).map(|(x, v)| {
                    Rectangle::new([(x + 0.1 * slot, 0.0), (x + 0.9 * slot, v.mean * scale)], colour.filled())
                }))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 18, y + 7)], colour.filled()));
            let whiskers = bars(column).filter_map(|(x, v)| v.ci95.map(|ci| (x + slot / 2.0, ci)));
            chart.draw_series(whiskers.map(|(x, [low, high])| {
                whisker(x, [low * scale, high * scale], (slot * 0.2).min(0.05), BLACK.stroke_width(2))
            }))?;
            let marks = bars(column).filter(|(_, v)| v.significant).map(|(x, v)| {
                let top = v.ci95.map_or(v.mean, |ci| ci[1]) * scale;
                let style = TextStyle::from((FONT, 26)).pos(Pos::new(HPos::Center, VPos::Bottom));
                EmptyElement::at((x + slot / 2.0, top)) + Text::new("*", (0, -2), style)
            });
            chart.draw_series(marks)?;
        }
        Ok(())
    }
}
