//! Errors from loading a scenario file.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// One problem in a scenario file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line in the file, from 1.
    pub line: usize,
    /// Column in the line, from 1.
    pub column: usize,
    /// What is wrong, naming the field and the value expected.
    pub message: String,
}

/// Why a scenario could not be loaded.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not have the expected shape.
    #[error("{}:{}:{}: {}", path.display(), problem.line, problem.column, problem.message)]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where and what.
        problem: Problem,
    },
    /// The file parsed, but describes an invalid model; every problem found is listed.
    #[error("{}", Listing { path, problems })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

/// Renders one problem per line, each prefixed with `file:line:column:`.
struct Listing<'a> {
    path: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.path.display(), problem.line, problem.column, problem.message)?;
        }
        Ok(())
    }
}
