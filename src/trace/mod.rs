//! Recorded traffic: reading a trace file, and fitting distributions to it (`kendall fit`).
//!
//! A trace is a CSV file with a header row and one row per message. Exactly one of two columns
//! gives the arrivals:
//! - `time`: each message's arrival, in seconds as a number (`12.25`) or as an RFC 3339 date and
//!   time with an offset (`2025-11-28T09:00:00.250Z`, `2025-11-28T10:00:00+01:00`); times are
//!   taken relative to the first, which is therefore 0;
//! - `gap`: the seconds since the previous message (>= 0); the first message arrives after the
//!   first gap.
//!
//! Times must not decrease. Optional columns give each message a `key` (for key partitioning), a
//! `priority` (0 to 255), a `size` (bytes, >= 0) and a message `class` (by name). Any other
//! column is ignored by [`Trace::read`], and [`read_column`] reads any numeric one (service
//! times in seconds, say). Column names are matched ignoring ASCII case; fields are trimmed.
//!
//! Every problem is reported as a [`TraceError`] naming the file as given, the 1-based line of
//! the file and the column.

mod families;
mod fit;
mod rates;
mod sample;
mod table;
mod timestamp;

use std::path::{Path, PathBuf};

use csv::StringRecord;
use thiserror::Error;

pub use families::{Family, Fitted};
pub use fit::{
    FamilyFit, FitError, FitReport, Goodness, fit_arrivals, fit_column, readable_window, scaled_gaps,
};
pub use rates::{RateWindow, STATIONARITY_LEVEL, Stationarity};
pub use sample::{Correlation, Lag1, SampleSummary};

use table::Table;
use timestamp::{Instant, parse_rfc3339};

/// Why a trace file could not be read.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("cannot read trace {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A row is not valid CSV, or has another number of fields than the header.
    #[error("{} line {line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the file.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The header has a column this reading needs.
    #[error("{} line 1: {message}; the header is {header}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What the header lacks (or holds twice).
        message: String,
        /// The header found, its names quoted.
        header: String,
    },
    /// A field does not hold what its column needs.
    #[error("{} line {line}, column '{column}': {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the file.
        line: u64,
        /// The column's name.
        column: String,
        /// The value found and what was expected.
        message: String,
    },
    /// The file holds fewer than two messages.
    #[error("{} holds {count} message{}, and a trace needs at least 2", path.display(), if *count == 1 { "" } else { "s" })]
    TooShort {
        /// The file.
        path: PathBuf,
        /// The messages (rows) found.
        count: usize,
    },
}

/// How a trace gives its arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeColumn {
    /// A `time` column of seconds.
    Seconds,
    /// A `time` column of RFC 3339 timestamps.
    Timestamps,
    /// A `gap` column of seconds between messages.
    Gaps,
}

/// A recorded trace: arrival times and optional per-message columns, validated.
#[derive(Debug, Clone)]
pub struct Trace {
    path: PathBuf,
    column: TimeColumn,
    times: Vec<f64>,
    gaps: Vec<f64>,
    keys: Option<Vec<String>>,
    priorities: Option<Vec<u8>>,
    sizes: Option<Vec<f64>>,
    classes: Option<Vec<String>>,
}

impl Trace {
    /// Reads and validates the trace at `path` (see the [module docs](self) for the format).
    ///
    /// # Errors
    /// When the file cannot be read, is not CSV, has no `time` or `gap` column (or both), holds
    /// a field its column cannot take, a time earlier than the one before, or fewer than two
    /// messages: each named with the file, line and column.
    pub fn read(path: &Path) -> Result<Self, TraceError> {
        let table = Table::read(path)?;
        let reader = Reader { path, table: &table };
        let (column, times, gaps) = reader.arrivals()?;
        Ok(Self {
            path: path.to_owned(),
            column,
            times,
            gaps,
            keys: reader.optional("key", |text| non_empty(text, "a key"))?,
            priorities: reader.optional("priority", priority)?,
            sizes: reader.optional("size", |text| non_negative(text, "a size in bytes"))?,
            classes: reader.optional("class", |text| non_empty(text, "a message class name"))?,
        })
    }

    /// The file read, as given to [`Trace::read`].
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file gives its arrivals.
    #[must_use]
    pub fn column(&self) -> TimeColumn {
        self.column
    }

    /// Arrival times in seconds from the trace's start, non-decreasing: relative to the first
    /// timestamp (which is 0) for a `time` column, the running sum of the gaps for a `gap` column.
    #[must_use]
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Seconds between consecutive messages: the differences of the times for a `time` column
    /// (one fewer than the messages), the gaps themselves for a `gap` column.
    #[must_use]
    pub fn gaps(&self) -> Vec<f64> {
        self.gaps.clone()
    }

    /// The number of messages (at least 2).
    #[must_use]
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Always false: a trace holds at least two messages.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Each message's key, when the file has a `key` column.
    #[must_use]
    pub fn keys(&self) -> Option<&[String]> {
        self.keys.as_deref()
    }

    /// Each message's priority (0 to 255), when the file has a `priority` column.
    #[must_use]
    pub fn priorities(&self) -> Option<&[u8]> {
        self.priorities.as_deref()
    }

    /// Each message's size in bytes, when the file has a `size` column.
    #[must_use]
    pub fn sizes(&self) -> Option<&[f64]> {
        self.sizes.as_deref()
    }

    /// Each message's class name, when the file has a `class` column.
    #[must_use]
    pub fn classes(&self) -> Option<&[String]> {
        self.classes.as_deref()
    }
}

/// Reads the numeric column `column` of the CSV file at `path`: every value a finite number
/// >= 0 (service times in seconds, say), at least two of them.
///
/// # Errors
/// When the file cannot be read, is not CSV, has no such column, holds a field that is not a
/// number >= 0, or fewer than two rows.
pub fn read_column(path: &Path, column: &str) -> Result<Vec<f64>, TraceError> {
    let table = Table::read(path)?;
    let reader = Reader { path, table: &table };
    let index = reader.require(column)?;
    let values = reader.values(index, |text| non_negative(text, "a number of seconds >= 0"))?;
    reader.enough(values)
}

/// Reading the columns of one file, with its path for messages.
struct Reader<'a> {
    path: &'a Path,
    table: &'a Table,
}

/// The arrivals of a trace: how they are given, the times and the gaps.
type Arrivals = (TimeColumn, Vec<f64>, Vec<f64>);

impl Reader<'_> {
    fn arrivals(&self) -> Result<Arrivals, TraceError> {
        let (time, gap) = (self.table.column("time"), self.table.column("gap"));
        let (column, times, gaps) = match (time, gap) {
            (Some(_), Some(_)) => {
                return Err(self.header_error("both a 'time' and a 'gap' column, where one is needed"));
            }
            (None, None) => return Err(self.header_error("no 'time' or 'gap' column")),
            (Some(index), None) => {
                let (column, times) = self.times(index)?;
                let gaps = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
                (column, times, gaps)
            }
            (None, Some(index)) => {
                let gaps = self.values(index, |text| non_negative(text, "a gap in seconds >= 0"))?;
                let times = running_sum(&gaps);
                self.finite_end(&times, index)?;
                (TimeColumn::Gaps, times, gaps)
            }
        };
        Ok((column, self.enough(times)?, gaps))
    }

    /// The times of column `index`, relative to the first; all in seconds or all RFC 3339.
    fn times(&self, index: usize) -> Result<(TimeColumn, Vec<f64>), TraceError> {
        let mut times = Vec::with_capacity(self.table.rows.len());
        let mut first: Option<Stamp> = None;
        let mut previous: Option<(f64, &str)> = None;
        for (line, record) in &self.table.rows {
            let text = field(record, index);
            let stamp = stamp(text).map_err(|message| self.field_error(*line, index, message))?;
            let time = match (first.get_or_insert(stamp), stamp) {
                (Stamp::Seconds(origin), Stamp::Seconds(seconds)) => seconds - *origin,
                (Stamp::Instant(origin), Stamp::Instant(instant)) => instant.since(*origin),
                (Stamp::Seconds(_), Stamp::Instant(_)) => {
                    return Err(self.field_error(
                        *line,
                        index,
                        format!("'{text}' is a timestamp, but the first time is in seconds"),
                    ));
                }
                (Stamp::Instant(_), Stamp::Seconds(_)) => {
                    return Err(self.field_error(
                        *line,
                        index,
                        format!("'{text}' is in seconds, but the first time is a timestamp"),
                    ));
                }
            };
            if let Some((_, before_text)) = previous.filter(|(before, _)| time < *before) {
                let message = format!(
                    "{text} is earlier than the previous time {before_text} (times must not decrease)"
                );
                return Err(self.field_error(*line, index, message));
            }
            previous = Some((time, text));
            times.push(time);
        }
        let column = match first {
            Some(Stamp::Instant(_)) => TimeColumn::Timestamps,
            _ => TimeColumn::Seconds,
        };
        Ok((column, times))
    }

    /// The values of column `index`, each read by `parse`.
    fn values<T>(
        &self,
        index: usize,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, TraceError> {
        self.table
            .rows
            .iter()
            .map(|(line, record)| {
                parse(field(record, index)).map_err(|message| self.field_error(*line, index, message))
            })
            .collect()
    }

    /// The values of the optional column `name`, when the file has it.
    fn optional<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, TraceError> {
        self.table.column(name).map(|index| self.values(index, parse)).transpose()
    }

    /// The index of column `name`, which the file must have.
    fn require(&self, name: &str) -> Result<usize, TraceError> {
        self.table.column(name).ok_or_else(|| self.header_error(&format!("no '{name}' column")))
    }

    /// `values`, when there are at least two.
    fn enough<T>(&self, values: Vec<T>) -> Result<Vec<T>, TraceError> {
        if values.len() < 2 {
            return Err(TraceError::TooShort { path: self.path.to_owned(), count: values.len() });
        }
        Ok(values)
    }

    /// Refuses gaps whose sum overflows.
    fn finite_end(&self, times: &[f64], index: usize) -> Result<(), TraceError> {
        match times.iter().position(|time| !time.is_finite()) {
            Some(row) => Err(self.field_error(
                self.table.rows[row].0,
                index,
                "the gaps add up past the largest number".to_owned(),
            )),
            None => Ok(()),
        }
    }

    fn header_error(&self, message: &str) -> TraceError {
        TraceError::Header {
            path: self.path.to_owned(),
            message: message.to_owned(),
            header: self.table.header_text(),
        }
    }

    fn field_error(&self, line: u64, index: usize, message: String) -> TraceError {
        let column = self.table.header[index].clone();
        TraceError::Field { path: self.path.to_owned(), line, column, message }
    }
}

/// A `time` field: seconds or an instant.
#[derive(Debug, Clone, Copy)]
enum Stamp {
    Seconds(f64),
    Instant(Instant),
}

fn stamp(text: &str) -> Result<Stamp, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() {
            Ok(Stamp::Seconds(seconds))
        } else {
            Err(format!("'{text}' is not a finite number of seconds"))
        };
    }
    parse_rfc3339(text).map(Stamp::Instant).ok_or_else(|| {
        format!("'{text}' is neither seconds nor an RFC 3339 timestamp such as 2025-11-28T09:00:00.250Z")
    })
}

fn field(record: &StringRecord, index: usize) -> &str {
    record.get(index).unwrap_or("")
}

fn running_sum(gaps: &[f64]) -> Vec<f64> {
    gaps.iter()
        .scan(0.0, |sum, gap| {
            *sum += gap;
            Some(*sum)
        })
        .collect()
}

fn non_negative(text: &str, what: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("'{text}' is not {what}")),
    }
}

fn non_empty(text: &str, what: &str) -> Result<String, String> {
    if text.is_empty() {
        Err(format!("the field is empty where {what} is needed"))
    } else {
        Ok(text.to_owned())
    }
}

fn priority(text: &str) -> Result<u8, String> {
    text.parse::<u8>().map_err(|_| format!("'{text}' is not a priority, a whole number from 0 to 255"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(contents: &str) -> Result<Trace, TraceError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, contents).unwrap();
        Trace::read(&path)
    }

    fn error(contents: &str) -> String {
        trace(contents).unwrap_err().to_string()
    }

    #[test]
    fn seconds_are_relative_to_the_first() {
        let trace = trace("time,key,priority,size,class,other\n10,a,1,100,gold,x\n10.5,b,255,0,silver,y\n12,a,0,2.5,gold,z\n").unwrap();
        assert_eq!(trace.column(), TimeColumn::Seconds);
        assert_eq!(trace.times(), [0.0, 0.5, 2.0]);
        assert_eq!(trace.gaps(), [0.5, 1.5]);
        assert_eq!(trace.keys().unwrap(), ["a", "b", "a"]);
        assert_eq!(trace.priorities().unwrap(), [1, 255, 0]);
        assert_eq!(trace.sizes().unwrap(), [100.0, 0.0, 2.5]);
        assert_eq!(trace.classes().unwrap(), ["gold", "silver", "gold"]);
        assert_eq!(trace.len(), 3);
    }

    #[test]
    fn gaps_add_up_to_times() {
        let trace = trace("Gap\n0.5\n0\n1.25\n").unwrap();
        assert_eq!(trace.column(), TimeColumn::Gaps);
        assert_eq!(trace.times(), [0.5, 0.5, 1.75]);
        assert_eq!(trace.gaps(), [0.5, 0.0, 1.25]);
        assert!(trace.keys().is_none() && trace.priorities().is_none());
    }

    #[test]
    fn timestamps_with_offsets_and_fractions() {
        let trace =
            trace("time\n2025-11-28T09:00:00.250Z\n2025-11-28T10:00:00.5+01:00\n2025-11-28T09:00:01Z\n")
                .unwrap();
        assert_eq!(trace.column(), TimeColumn::Timestamps);
        assert_eq!(trace.times(), [0.0, 0.25, 0.75]);
    }

    #[test]
    fn bad_traces_name_line_and_column() {
        assert!(
            error("time\n1\n12:03\n")
                .contains("line 3, column 'time': '12:03' is neither seconds nor an RFC 3339 timestamp")
        );
        assert!(error("time\n1\n4.0\n3.2\n").contains(
            "line 4, column 'time': 3.2 is earlier than the previous time 4.0 (times must not decrease)"
        ));
        assert!(
            error("when,key\n1,a\n")
                .contains("line 1: no 'time' or 'gap' column; the header is 'when', 'key'")
        );
        assert!(error("time,gap\n1,1\n2,2\n").contains("both a 'time' and a 'gap' column"));
        assert!(error("time\n1\n").contains("holds 1 message, and a trace needs at least 2"));
        assert!(error("").contains("the header is empty"));
        assert!(error("gap\n1\n-1\n").contains("line 3, column 'gap': '-1' is not a gap in seconds >= 0"));
        assert!(
            error("time,priority\n1,3\n2,256\n")
                .contains("line 3, column 'priority': '256' is not a priority")
        );
        assert!(error("time,size\n1,3\n2,NaN\n").contains("line 3, column 'size'"));
        let unequal = error("time,key\n1,a\n\n2\n");
        assert!(unequal.contains("line 4: 1 fields where the header has 2"), "{unequal}");
        assert!(
            error("time\n2025-11-28T09:00:00Z\n3\n").contains("line 3, column 'time': '3' is in seconds")
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = Trace::read(Path::new("no/such/trace.csv")).unwrap_err().to_string();
        assert!(error.starts_with("cannot read trace no/such/trace.csv: "), "{error}");
    }

    #[test]
    fn any_numeric_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "id,service\n1,0.5\n2,0.25\n").unwrap();
        assert_eq!(read_column(&path, "service").unwrap(), [0.5, 0.25]);
        assert!(
            read_column(&path, "latency")
                .unwrap_err()
                .to_string()
                .contains("no 'latency' column; the header is 'id', 'service'")
        );
    }
}
