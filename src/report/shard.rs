//! Shard files: what `kendall run|sweep|compare --shard K/N` writes (`shard-KKKK-of-NNNN.json`),
//! and what `kendall merge` reads back and checks before anything is written.
//!
//! # Format
//! One JSON document: the header (kendall's version, the shard, the SHA-256 of the scenario
//! files, the command's flags, the master seed, the directory it ran in, the number of units
//! of the whole work, its wall-clock time) and the record of every unit it ran (see
//! [`UnitResult`]; a record is one line of `replications.jsonl`, histograms included). Shards
//! belong together when every header field but the shard and the wall time is the same.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::exporter::Exporter;
use super::files::ReportError;
use crate::experiment::shard::{check_shard, gather};
use crate::experiment::{Experiment, ExperimentError, RecordMemory, Shard, ShardError, UnitResult};
use crate::model::Scenario;

/// A shard file: one shard's records and what they are records of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    /// The version of kendall that ran the shard.
    pub kendall_version: String,
    /// Which shard.
    pub shard: Shard,
    /// [`scenario_sha256`] of the scenario files.
    pub scenario_sha256: String,
    /// The command and its flags, without `--shard`, `--shards`, `--out`, `--threads`,
    /// `--quiet` and `--format` (which change no output file): `kendall merge` runs the same
    /// command on them.
    pub flags: Vec<String>,
    /// The master seed (of the baseline, for a comparison).
    pub seed: u64,
    /// The directory the command ran in, where the scenario files' paths start.
    pub directory: PathBuf,
    /// Units in the whole work, over every shard.
    pub units: usize,
    /// Wall-clock time of the shard's simulation, seconds.
    pub wall_seconds: f64,
    /// The record of every unit the shard owns, in unit order.
    pub results: Vec<UnitResult>,
}

impl<R: ?Sized> Exporter<R> for ShardFile {
    fn render(&self, _: &R) -> Result<Vec<u8>, ReportError> {
        let mut bytes = serde_json::to_vec(self).expect("shard files serialise");
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// The SHA-256 (lowercase hex) of the contents of `files` in order, each preceded by its
/// length (8 bytes, little-endian), so that no two lists of contents hash alike by
/// concatenation.
///
/// # Errors
/// When a file cannot be read.
pub fn scenario_sha256(files: &[PathBuf]) -> io::Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        let bytes = fs::read(file)?;
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Why shards cannot be merged; nothing is written then.
#[derive(Debug, Error)]
pub enum MergeError {
    /// The inputs hold no shard file.
    #[error("no shard file (shard-KKKK-of-NNNN.json) in {}", list(inputs))]
    NoShards {
        /// The files and directories given.
        inputs: Vec<PathBuf>,
    },
    /// A file or directory cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The records of every shard would take more memory than the machine has to spare.
    #[error(transparent)]
    Memory(ExperimentError),
    /// A file is not a shard file, or is truncated.
    #[error("{} is not a kendall shard file, or is corrupt", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: serde_json::Error,
    },
    /// A shard was written by another version of kendall.
    #[error(
        "{} was written by kendall {found}, and this is kendall {}: merge with the version that ran the shards",
        path.display(),
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        /// The shard file.
        path: PathBuf,
        /// Its version.
        found: String,
    },
    /// Two shards are not of the same work.
    #[error(
        "{} and {} are not shards of the same work: they differ in {field} ({found} against {expected})",
        path.display(),
        first.display()
    )]
    Foreign {
        /// The shard that differs.
        path: PathBuf,
        /// The first shard, which the others are checked against.
        first: PathBuf,
        /// What differs.
        field: &'static str,
        /// Its value in `path`.
        found: String,
        /// Its value in `first`.
        expected: String,
    },
    /// Two files hold the same shard.
    #[error("shard {shard} is given twice: {} and {}", first.display(), second.display())]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Shards are missing.
    #[error("{} of {count} shards missing: {} (no {})", missing.len(), indices(missing), files(missing))]
    Missing {
        /// The shards missing.
        missing: Vec<Shard>,
        /// How many shards there should be.
        count: u32,
    },
    /// A shard's records are not those it owns.
    #[error("{}: {source}", path.display())]
    Units {
        /// The shard file.
        path: PathBuf,
        /// The first unit amiss.
        source: ShardError,
    },
    /// A scenario file changed since the shards ran.
    #[error(
        "the scenario file{} changed since the shards ran (SHA-256 {found}, the shards' {expected}): run the shards again",
        if files.len() == 1 { format!(" {}", files[0].display()) } else { format!("s {}", list(files)) }
    )]
    Changed {
        /// The scenario files.
        files: Vec<PathBuf>,
        /// Their hash now.
        found: String,
        /// Their hash when the shards ran.
        expected: String,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn indices(shards: &[Shard]) -> String {
    shards.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn files(shards: &[Shard]) -> String {
    let mut names: Vec<String> = shards.iter().take(3).map(|s| s.file_name()).collect();
    if shards.len() > 3 {
        names.push("...".to_owned());
    }
    names.join(", ")
}

/// Every shard of one piece of work, read and checked to belong together.
#[derive(Debug, Clone)]
pub struct ShardSet {
    /// The shard files, by shard, with where each was read.
    shards: Vec<(PathBuf, ShardFile)>,
}

impl ShardSet {
    /// Reads the shard files among `inputs` (files, or directories whose
    /// `shard-*-of-*.json` files are read) and checks that they are every shard of one piece
    /// of work, each once, written by this version of kendall.
    ///
    /// # Errors
    /// No shard file, one unreadable or corrupt, of another version or another work (naming
    /// the field that differs), a shard given twice, or shards missing (naming them).
    pub fn read(inputs: &[PathBuf]) -> Result<Self, MergeError> {
        let mut paths = Vec::new();
        for input in inputs {
            paths.extend(shard_paths(input)?);
        }
        let mut shards = Vec::with_capacity(paths.len());
        let mut memory: Option<RecordMemory> = None;
        for path in paths {
            let bytes = fs::read(&path).map_err(|source| MergeError::Read { path: path.clone(), source })?;
            let file: ShardFile = serde_json::from_slice(&bytes)
                .map_err(|source| MergeError::Corrupt { path: path.clone(), source })?;
            let memory = memory.get_or_insert_with(|| RecordMemory::new(file.units));
            for result in &file.results {
                memory.keep(&result.record).map_err(MergeError::Memory)?;
            }
            shards.push((path, file));
        }
        let Some((first, header)) = shards.first() else {
            return Err(MergeError::NoShards { inputs: inputs.to_vec() });
        };
        for (path, file) in &shards {
            if file.kendall_version != env!("CARGO_PKG_VERSION") {
                return Err(MergeError::Version { path: path.clone(), found: file.kendall_version.clone() });
            }
            belongs(path, file, first, header)?;
        }
        let count = header.shard.count();
        let mut by_shard: BTreeMap<Shard, (PathBuf, ShardFile)> = BTreeMap::new();
        for (path, file) in shards {
            if let Some((first, _)) = by_shard.get(&file.shard) {
                return Err(MergeError::Duplicate { shard: file.shard, first: first.clone(), second: path });
            }
            by_shard.insert(file.shard, (path, file));
        }
        let missing: Vec<Shard> = (0..count)
            .filter_map(|k| Shard::new(u64::from(k), u64::from(count)).ok())
            .filter(|shard| !by_shard.contains_key(shard))
            .collect();
        if !missing.is_empty() {
            return Err(MergeError::Missing { missing, count });
        }
        Ok(Self { shards: by_shard.into_values().collect() })
    }

    /// The header every shard shares (the first shard's).
    #[must_use]
    pub fn header(&self) -> &ShardFile {
        &self.shards[0].1
    }

    /// The shards' simulation time: the sum of their wall-clock times, seconds.
    #[must_use]
    pub fn wall_seconds(&self) -> f64 {
        self.shards.iter().map(|(_, file)| file.wall_seconds).sum()
    }

    /// Checks that `files`, the scenario files read now, are those the shards ran.
    ///
    /// # Errors
    /// [`MergeError::Changed`] when their contents differ, [`MergeError::Read`] when one
    /// cannot be read.
    pub fn check_scenario_files(&self, files: &[PathBuf]) -> Result<(), MergeError> {
        let found = scenario_sha256(files).map_err(|source| MergeError::Read {
            path: files.first().cloned().unwrap_or_default(),
            source,
        })?;
        let expected = &self.header().scenario_sha256;
        if &found != expected {
            return Err(MergeError::Changed { files: files.to_vec(), found, expected: expected.clone() });
        }
        Ok(())
    }

    /// The experiments of `scenarios` (the work the shards split, made again from their
    /// flags) from the shards' records: see [`gather`]. Each experiment's wall time is
    /// [`ShardSet::wall_seconds`].
    ///
    /// # Errors
    /// [`MergeError::Units`] naming the shard and the first unit that is not part of the
    /// work, is in the wrong shard, is there twice or is missing.
    pub fn experiments(self, scenarios: &[Scenario]) -> Result<Vec<Experiment>, MergeError> {
        for (path, file) in &self.shards {
            check_shard(scenarios, file.shard, &file.results)
                .map_err(|source| MergeError::Units { path: path.clone(), source })?;
        }
        let wall_seconds = self.wall_seconds();
        let first = self.shards[0].0.clone();
        let results = self.shards.into_iter().flat_map(|(_, file)| file.results).collect();
        gather(scenarios, results, wall_seconds).map_err(|source| MergeError::Units { path: first, source })
    }
}

/// The shard files `input` names: itself, or a directory's `shard-*-of-*.json`, sorted.
fn shard_paths(input: &Path) -> Result<Vec<PathBuf>, MergeError> {
    if !input.is_dir() {
        return Ok(vec![input.to_owned()]);
    }
    let read = |source| MergeError::Read { path: input.to_owned(), source };
    let mut paths = Vec::new();
    for entry in fs::read_dir(input).map_err(read)? {
        let path = entry.map_err(read)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("shard-") && name.contains("-of-") && name.ends_with(".json") {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Checks that the shard `file` (read from `path`) is of the same work as `header` (read
/// from `first`).
fn belongs(path: &Path, file: &ShardFile, first: &Path, header: &ShardFile) -> Result<(), MergeError> {
    let fields = [
        ("scenario SHA-256", file.scenario_sha256.clone(), header.scenario_sha256.clone()),
        ("seed", file.seed.to_string(), header.seed.to_string()),
        ("flags", file.flags.join(" "), header.flags.join(" ")),
        ("shard count", file.shard.count().to_string(), header.shard.count().to_string()),
        ("number of units", file.units.to_string(), header.units.to_string()),
        ("directory", file.directory.display().to_string(), header.directory.display().to_string()),
    ];
    match fields.into_iter().find(|(_, found, expected)| found != expected) {
        Some((field, found, expected)) => Err(MergeError::Foreign {
            path: path.to_owned(),
            first: first.to_owned(),
            field,
            found,
            expected,
        }),
        None => Ok(()),
    }
}
