//! Reports: the output files (summary.json, summary.csv, replications.csv) and the terminal table.
//! Files are written completely or not at all: each goes to a temporary name first and is renamed
//! into place once every file is written.

mod analysis;
mod describe;
mod files;
mod json;
mod table;

pub use analysis::{
    AnalysisClassEntry, AnalysisFile, AnalysisNamedEntry, AnalysisNodeEntry, SystemEntry, render_analysis,
};
pub use describe::describe;
pub use files::{ReportError, pretty_json, write_analysis, write_outputs};
pub use json::{ClassEntry, EstimateEntry, ExchangeEntry, NamedEntry, NodeEntry, SummaryFile};
pub use table::render_table;
