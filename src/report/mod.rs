//! Reports: the output files (summary.json, summary.csv, replications.csv) and the terminal table.
//! Files are written completely or not at all: each goes to a temporary name first and is renamed
//! into place once every file is written.

mod describe;
mod files;
mod json;
mod table;

pub use describe::describe;
pub use files::{ReportError, write_outputs};
pub use json::{EstimateEntry, NodeEntry, SourceEntry, SummaryFile};
pub use table::render_table;
