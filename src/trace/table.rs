//! A trace file's CSV text: its header and its rows, each with its line number in the file.

use std::path::Path;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::TraceError;

/// The rows of a CSV file with a header row; blank lines are skipped, fields are trimmed.
pub(super) struct Table {
    /// The column names, trimmed, in file order.
    pub(super) header: Vec<String>,
    /// Each row with its 1-based line number in the file.
    pub(super) rows: Vec<(u64, StringRecord)>,
}

impl Table {
    /// Reads `path`.
    pub(super) fn read(path: &Path) -> Result<Self, TraceError> {
        let unreadable = |source| TraceError::Read { path: path.to_owned(), source };
        // A device or a pipe (/dev/zero, a FIFO) could be read forever.
        if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
            let kind = std::io::ErrorKind::InvalidInput;
            return Err(unreadable(std::io::Error::new(kind, "not a regular file")));
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let mut reader = ReaderBuilder::new().trim(Trim::All).from_reader(bytes.as_slice());
        let malformed = |error: csv::Error| TraceError::Malformed {
            path: path.to_owned(),
            line: error.position().map_or(1, |position| line_at(&bytes, position)),
            message: malformed_message(&error),
        };
        let header = reader.headers().map_err(malformed)?.iter().map(str::to_owned).collect();
        let mut rows = Vec::new();
        let mut lines = Lines { bytes: &bytes, at: 0, newlines: 0 };
        for record in reader.records() {
            let record = record.map_err(malformed)?;
            rows.push((record.position().map_or(0, |position| lines.line(position)), record));
        }
        Ok(Self { header, rows })
    }

    /// The index of the column named `name` (ASCII case ignored), if any.
    pub(super) fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|column| column.eq_ignore_ascii_case(name))
    }

    /// The header as the file gives it, for messages.
    pub(super) fn header_text(&self) -> String {
        if self.header.iter().all(String::is_empty) {
            "empty".to_owned()
        } else {
            self.header.iter().map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ")
        }
    }
}

/// The 1-based line of the file where the record at `position` starts. The csv crate's own line
/// count skips blank lines; counting the newlines before the record's first byte does not.
fn line_at(bytes: &[u8], position: &csv::Position) -> u64 {
    Lines { bytes, at: 0, newlines: 0 }.line(position)
}

/// Counts newlines up to records in file order, each byte once.
struct Lines<'a> {
    bytes: &'a [u8],
    /// The byte up to which newlines are counted.
    at: usize,
    /// The newlines before `at`.
    newlines: u64,
}

impl Lines<'_> {
    /// The 1-based line where the record at `position` starts (at or after the last one asked).
    fn line(&mut self, position: &csv::Position) -> u64 {
        let bytes = self.bytes;
        let start = usize::try_from(position.byte()).unwrap_or(bytes.len()).clamp(self.at, bytes.len());
        let blank = bytes[start..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        let end = start + blank;
        let newlines = bytes[self.at..end].iter().filter(|&&b| b == b'\n').count();
        self.newlines += u64::try_from(newlines).unwrap_or(u64::MAX);
        self.at = end;
        self.newlines + 1
    }
}

/// What is wrong with a CSV row, without the position (the caller names the line).
fn malformed_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".to_owned(),
        _ => error.to_string(),
    }
}
