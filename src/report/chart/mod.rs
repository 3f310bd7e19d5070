//! Charts drawn with plotters, as SVG and PNG: one file per chart kind, each an [`Exporter`] over
//! the report it draws from, written into `charts/` beside the data. Every chart has a title
//! naming the scenario, axis labels with units, a legend and a one-line caption. Text is set in
//! the bundled DejaVu Sans (assets/fonts), so a PNG renders the same on a machine without fonts.

mod canvas;
mod comparison;
mod distribution;
mod max_load;
mod plan;
mod queue;
mod slo_axis;
mod stability;
mod sweep;
mod utilization;

pub use canvas::ImageFormat;
pub use comparison::Comparison;
pub use distribution::LatencyDistribution;
pub use max_load::MaxLoadChart;
pub(crate) use max_load::has_max_load_chart;
pub use plan::PlanChart;
pub(crate) use plan::has_plan_chart;
pub use queue::QueueOverTime;
pub use stability::StabilityMap;
pub(crate) use stability::has_map;
pub use sweep::LatencyVsLoad;
pub use utilization::Utilization;
