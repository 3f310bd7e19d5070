//! Reports: every output format (summary.json, summary.csv, replications.csv, replications.jsonl,
//! timeseries.csv, analysis.json, the terminal table, the charts in charts/, the output of `kendall
//! fit`, and command.json, run.json and scenario.toml, from which `kendall report` rebuilds the
//! others) behind one [`Exporter`] interface. Formats never decide anything; they lay out
//! what the library concluded. Files are written completely or not at all: each goes to a
//! temporary name first and is renamed into place once every file is written.

mod analysis;
mod chart;
mod compare;
mod describe;
mod exporter;
mod files;
mod fit;
mod html;
mod json;
mod plan;
mod rebuild;
mod series;
mod shard;
mod sweep;
mod table;
mod topology;
mod warning;

pub use analysis::{
    AnalysisClassEntry, AnalysisFile, AnalysisNamedEntry, AnalysisNodeEntry, SystemEntry, render_analysis,
};
pub use chart::{
    Comparison, ImageFormat, LatencyDistribution, LatencyVsLoad, PlanChart, QueueOverTime, StabilityMap,
    Utilization,
};
pub use compare::{CompareCsv, CompareFile, CompareReport, ConfigurationEntry, DifferenceEntry};
pub use describe::describe;
pub use exporter::{
    Exporter, Json, ReplicationsCsv, ReplicationsJsonl, RunReport, StudyReport, SummaryCsv, Table,
    TimeSeriesCsv, write_files,
};
pub use files::{ReportError, abandon_partial_files, check_writable, pretty_json};
pub use fit::{duration_text, paste_lines, render_fit, scenario_distribution, scenario_schedule};
pub use html::{Html, shell_command};
pub use json::{
    AutoWarmupEntry, ClassEntry, EstimateEntry, ExchangeEntry, NamedEntry, NodeEntry, PrecisionEntry,
    SummaryFile, WideEntry,
};
pub use plan::{CandidateEntry, PlanFile, PlanNodeEntry, PlanReport, PlanToml, PlanTomlError};
pub use rebuild::{
    CommandFile, CommandKind, PrecisionTarget, RebuildError, Rebuilt, RunFile, ScenarioText, SettingsEntry,
    rebuild,
};
pub use series::{CurveEntry, PeakEntry, TIMESERIES_COLUMNS};
pub use shard::{MergeError, ShardFile, ShardSet, scenario_sha256};
pub use sweep::{PointEntry, PointSystem, SloEntry, SweepCsv, SweepFile, SweepReport, render_sweep};
pub use table::{count, number, render_table};
pub use topology::{Edge, Topology, Vertex, VertexKind};
