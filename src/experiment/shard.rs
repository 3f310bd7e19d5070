//! Sharded experiments: the work of a run, sweep or comparison split into shards that separate
//! processes (the tasks of a Slurm job array, the pods of a Kubernetes Indexed Job) run, and
//! gathered back exactly.
//!
//! # Units and their assignment
//! A *unit* is one replication of one scenario (the run's scenario, a sweep point, a compared
//! configuration). Units are numbered in the order a single process runs them: every
//! replication of the first scenario, then of the second, and so on. Shard `K` of `N` runs the
//! units whose number is `K` modulo `N`: round robin, so the shards' sizes differ by at most
//! one unit and every shard gets a share of every scenario. The assignment depends on nothing
//! but `K`, `N` and the scenarios' replication counts: not on threads, machines or timing.
//!
//! # Exactness
//! Replication `i` of a scenario draws from the streams of (seed, `i`) wherever it runs, and
//! each unit's record ([`ReplicationResult`]) keeps everything every reduction needs (its
//! histograms, not percentiles). [`gather`] puts the records back in index order, so that
//! [`Experiment::new`] reduces exactly what one process would have reduced.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Experiment, ExperimentError, run_units};
use crate::model::Scenario;
use crate::stats::ReplicationResult;

/// The most shards a piece of work may be split into.
pub const MAX_SHARDS: u32 = 100_000;

/// Why a shard cannot be named, or its results cannot be gathered.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShardError {
    /// The text is not `K/N`.
    #[error("invalid shard '{0}', which should be K/N with 0 <= K < N, such as 3/16")]
    Syntax(String),
    /// `K` is not below `N`, or `N` is 0 or too large.
    #[error("invalid shard {index}/{count}: K must be below N, and N between 1 and {MAX_SHARDS}")]
    Range {
        /// `K`.
        index: u64,
        /// `N`.
        count: u64,
    },
    /// `--shard auto` found no index in the environment.
    #[error(
        "--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) in the environment"
    )]
    NoIndex,
    /// `--shard auto` found an index but no count.
    #[error("--shard auto found {variable} but no shard count: give --shards N")]
    NoCount {
        /// The variable that gave the index.
        variable: &'static str,
    },
    /// An environment variable holds no number.
    #[error("{variable} is '{value}', which should be a whole number")]
    NotANumber {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// `--shards` disagrees with the job array's size.
    #[error("--shards {given} disagrees with SLURM_ARRAY_TASK_COUNT={found}")]
    CountMismatch {
        /// `--shards`.
        given: u32,
        /// The array's size.
        found: u32,
    },
    /// A unit's record is there twice.
    #[error("{0} is there twice")]
    Duplicate(UnitName),
    /// A unit's record is missing.
    #[error("{0} is missing")]
    Missing(UnitName),
    /// A record names a scenario or replication the work does not have.
    #[error("{0} is not part of this work")]
    Foreign(UnitName),
    /// A record sits in a shard that does not own it.
    #[error("{unit} belongs to shard {owner}, not {shard}")]
    Misplaced {
        /// The unit.
        unit: UnitName,
        /// The shard that owns it.
        owner: Shard,
        /// The shard that holds it.
        shard: Shard,
    },
}

/// Shard `K` of `N` (`K` from 0): which units one process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "ShardEntry", into = "ShardEntry")]
pub struct Shard {
    index: u32,
    count: u32,
}

/// A shard as written in a shard file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardEntry {
    index: u64,
    count: u64,
}

impl TryFrom<ShardEntry> for Shard {
    type Error = ShardError;

    fn try_from(entry: ShardEntry) -> Result<Self, ShardError> {
        Self::new(entry.index, entry.count)
    }
}

impl From<Shard> for ShardEntry {
    fn from(shard: Shard) -> Self {
        Self { index: u64::from(shard.index), count: u64::from(shard.count) }
    }
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// When `index >= count`, `count` is 0 or above [`MAX_SHARDS`].
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if count == 0 || count > u64::from(MAX_SHARDS) || index >= count {
            return Err(ShardError::Range { index, count });
        }
        let narrow = |n: u64| u32::try_from(n).map_err(|_| ShardError::Range { index, count });
        Ok(Self { index: narrow(index)?, count: narrow(count)? })
    }

    /// The shard a batch system's environment names: `SLURM_ARRAY_TASK_ID` (less
    /// `SLURM_ARRAY_TASK_MIN`, so that an array numbered from 1 works) of
    /// `SLURM_ARRAY_TASK_COUNT`, else `JOB_COMPLETION_INDEX` of `count` (Kubernetes gives no
    /// count). `var` looks a variable up.
    ///
    /// # Errors
    /// No index, no count, a value that is not a number, `count` disagreeing with the array's
    /// size, or an index out of range.
    pub fn from_env(var: impl Fn(&str) -> Option<String>, count: Option<u32>) -> Result<Self, ShardError> {
        let number = |variable: &'static str| -> Result<Option<u64>, ShardError> {
            var(variable)
                .map(|value| {
                    value
                        .trim()
                        .parse()
                        .map_err(|_| ShardError::NotANumber { variable, value: value.clone() })
                })
                .transpose()
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let found = number("SLURM_ARRAY_TASK_COUNT")?;
            let total = match (found, count) {
                (Some(found), Some(given)) if found != u64::from(given) => {
                    return Err(ShardError::CountMismatch {
                        given,
                        found: u32::try_from(found).unwrap_or(u32::MAX),
                    });
                }
                (Some(found), _) => found,
                (None, Some(given)) => u64::from(given),
                (None, None) => return Err(ShardError::NoCount { variable: "SLURM_ARRAY_TASK_ID" }),
            };
            return Self::new(id.saturating_sub(first), total);
        }
        let index = number("JOB_COMPLETION_INDEX")?.ok_or(ShardError::NoIndex)?;
        let total = count.ok_or(ShardError::NoCount { variable: "JOB_COMPLETION_INDEX" })?;
        Self::new(index, u64::from(total))
    }

    /// `K`, from 0.
    #[must_use]
    pub fn index(self) -> u32 {
        self.index
    }

    /// `N`.
    #[must_use]
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether this shard runs unit number `unit`.
    #[must_use]
    pub fn owns(self, unit: usize) -> bool {
        unit % self.count as usize == self.index as usize
    }

    /// The shard that runs unit number `unit` when there are `self.count()` shards.
    #[must_use]
    pub fn owner(self, unit: usize) -> Self {
        #[allow(clippy::cast_possible_truncation)] // below count, a u32
        let index = (unit % self.count as usize) as u32;
        Self { index, count: self.count }
    }

    /// The name of this shard's file: `shard-KKKK-of-NNNN.json`.
    #[must_use]
    pub fn file_name(self) -> String {
        format!("shard-{:04}-of-{:04}.json", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.trim().split_once('/').ok_or_else(syntax)?;
        let index = index.trim().parse().map_err(|_| syntax())?;
        let count = count.trim().parse().map_err(|_| syntax())?;
        Self::new(index, count)
    }
}

/// One unit of work: a replication of one of the work's scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unit {
    /// The scenario's position in the work (0 for a run; a sweep point; a configuration).
    pub scenario: usize,
    /// The replication index.
    pub replication: u32,
}

/// A unit, named for messages: `replication 3 of scenario 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitName(pub Unit);

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replication {} of scenario {}", self.0.replication, self.0.scenario)
    }
}

/// Every unit of the work `scenarios`, numbered in order: each scenario's replications in
/// index order, scenario after scenario.
#[must_use]
pub fn units(scenarios: &[Scenario]) -> Vec<Unit> {
    scenarios
        .iter()
        .enumerate()
        .flat_map(|(scenario, s)| {
            (0..s.settings.replications).map(move |replication| Unit { scenario, replication })
        })
        .collect()
}

/// The record of one unit, as a shard file keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitResult {
    /// The scenario's position in the work; the replication is the record's index.
    pub scenario: usize,
    /// What the replication measured.
    pub record: ReplicationResult,
}

impl UnitResult {
    /// The unit this is the record of.
    #[must_use]
    pub fn unit(&self) -> Unit {
        Unit { scenario: self.scenario, replication: self.record.index }
    }
}

/// Runs the units of `scenarios` that `shard` owns on `threads` workers (`None`: one per
/// core), calling `on_done` after each; returns their records in unit order.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run_shard(
    scenarios: &[Scenario],
    shard: Shard,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<UnitResult>, ExperimentError> {
    let mine: Vec<Unit> = units(scenarios)
        .into_iter()
        .enumerate()
        .filter(|(n, _)| shard.owns(*n))
        .map(|(_, unit)| unit)
        .collect();
    let records = run_units(scenarios, &mine, threads, on_done)?;
    Ok(mine
        .iter()
        .zip(records)
        .map(|(unit, record)| UnitResult { scenario: unit.scenario, record })
        .collect())
}

/// Checks that `shard` holds exactly the units of `scenarios` it owns.
///
/// # Errors
/// The first unit it holds that the work has not, that another shard owns, or that it holds
/// twice; else the first unit it owns and lacks.
pub fn check_shard(scenarios: &[Scenario], shard: Shard, results: &[UnitResult]) -> Result<(), ShardError> {
    let all = units(scenarios);
    let mut seen = vec![false; all.len()];
    for result in results {
        let unit = result.unit();
        let number = number_of(scenarios, unit).ok_or(ShardError::Foreign(UnitName(unit)))?;
        if !shard.owns(number) {
            return Err(ShardError::Misplaced { unit: UnitName(unit), owner: shard.owner(number), shard });
        }
        if std::mem::replace(&mut seen[number], true) {
            return Err(ShardError::Duplicate(UnitName(unit)));
        }
    }
    match all.iter().enumerate().find(|(n, _)| shard.owns(*n) && !seen[*n]) {
        Some((_, unit)) => Err(ShardError::Missing(UnitName(*unit))),
        None => Ok(()),
    }
}

/// The number of `unit` in the work `scenarios`, when it has it.
fn number_of(scenarios: &[Scenario], unit: Unit) -> Option<usize> {
    let scenario = scenarios.get(unit.scenario)?;
    (unit.replication < scenario.settings.replications).then(|| {
        let before: usize = scenarios[..unit.scenario].iter().map(|s| s.settings.replications as usize).sum();
        before + unit.replication as usize
    })
}

/// The experiments of `scenarios` from the records of every unit (from all the shards, each
/// checked by [`check_shard`]), each scenario's records in index order; each took
/// `wall_seconds`.
///
/// # Errors
/// When a unit's record is missing, there twice, or not part of the work.
pub fn gather(
    scenarios: &[Scenario],
    results: Vec<UnitResult>,
    wall_seconds: f64,
) -> Result<Vec<Experiment>, ShardError> {
    let mut slots: Vec<Vec<Option<ReplicationResult>>> =
        scenarios.iter().map(|s| vec![None; s.settings.replications as usize]).collect();
    for result in results {
        let unit = result.unit();
        let slot = slots
            .get_mut(unit.scenario)
            .and_then(|records| records.get_mut(unit.replication as usize))
            .ok_or(ShardError::Foreign(UnitName(unit)))?;
        if slot.replace(result.record).is_some() {
            return Err(ShardError::Duplicate(UnitName(unit)));
        }
    }
    scenarios
        .iter()
        .zip(slots)
        .enumerate()
        .map(|(scenario, (s, records))| {
            let records = records
                .into_iter()
                .enumerate()
                .map(|(replication, record)| {
                    #[allow(clippy::cast_possible_truncation)] // below the u32 replication count
                    let unit = Unit { scenario, replication: replication as u32 };
                    record.ok_or(ShardError::Missing(UnitName(unit)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Experiment::new(&s.network, records, wall_seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::experiment::run_all;
    use crate::scenario::{LoadedScenario, Overrides};

    const MM1: &str = r#"
        [simulation]
        duration = "50s"
        warmup = "5s"
        replications = 4

        [[source]]
        name = "clients"
        to = "server"
        interarrival = { dist = "exponential", rate = 0.5 }

        [[node]]
        name = "server"
        service = { dist = "exponential", mean = "1s" }
    "#;

    /// Two scenarios of 4 and 3 replications: 7 units.
    fn work() -> Vec<Scenario> {
        let load = |replications| {
            let overrides = Overrides { replications: Some(replications), ..Overrides::default() };
            LoadedScenario::parse(MM1, "mm1", Path::new("mm1.toml"), &overrides).unwrap().into_scenario()
        };
        vec![load(4), load(3)]
    }

    #[test]
    fn shards_gather_into_the_records_of_one_process() {
        let scenarios = work();
        let whole = run_all(&scenarios, Some(2), &|| {}).unwrap();
        for count in [1, 3, 7, 10] {
            let mut results = Vec::new();
            for k in 0..count {
                let shard = Shard::new(k, count).unwrap();
                let mine = run_shard(&scenarios, shard, Some(1), &|| {}).unwrap();
                assert_eq!(check_shard(&scenarios, shard, &mine), Ok(()));
                results.extend(mine);
            }
            let gathered = gather(&scenarios, results, 0.0).unwrap();
            for (merged, one) in gathered.iter().zip(&whole) {
                assert_eq!(merged.replications, one.replications, "{count} shards");
                assert_eq!(merged.events, one.events, "{count} shards");
            }
        }
    }

    #[test]
    fn a_shard_holds_exactly_its_units() {
        let scenarios = work();
        let shard = Shard::new(1, 3).unwrap();
        let mine = run_shard(&scenarios, shard, Some(1), &|| {}).unwrap();
        let units: Vec<Unit> = mine.iter().map(UnitResult::unit).collect();
        let unit = |scenario, replication| Unit { scenario, replication };
        assert_eq!(units, [unit(0, 1), unit(1, 0)], "units 1 and 4 of 0..7");
        let name = |scenario, replication| UnitName(unit(scenario, replication));
        assert_eq!(check_shard(&scenarios, shard, &mine[..1]), Err(ShardError::Missing(name(1, 0))));
        let twice = [mine.clone(), mine[..1].to_vec()].concat();
        assert_eq!(check_shard(&scenarios, shard, &twice), Err(ShardError::Duplicate(name(0, 1))));
        let mut foreign = mine.clone();
        foreign[1].scenario = 2;
        assert_eq!(check_shard(&scenarios, shard, &foreign), Err(ShardError::Foreign(name(2, 0))));
        let mut moved = mine.clone();
        moved[0].record.index = 2;
        let owner = Shard::new(2, 3).unwrap();
        assert_eq!(
            check_shard(&scenarios, shard, &moved),
            Err(ShardError::Misplaced { unit: name(0, 2), owner, shard })
        );
        assert_eq!(gather(&scenarios, mine, 0.0).unwrap_err(), ShardError::Missing(name(0, 0)));
    }

    #[test]
    fn shards_are_parsed_and_checked() {
        assert_eq!("3/16".parse::<Shard>().map(|s| (s.index(), s.count())), Ok((3, 16)));
        assert_eq!("3/16".parse::<Shard>().unwrap().file_name(), "shard-0003-of-0016.json");
        assert_eq!("16/16".parse::<Shard>(), Err(ShardError::Range { index: 16, count: 16 }));
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::Range { index: 0, count: 0 }));
        assert!(matches!("3".parse::<Shard>(), Err(ShardError::Syntax(_))));
        assert!(matches!("a/b".parse::<Shard>(), Err(ShardError::Syntax(_))));
    }

    #[test]
    fn round_robin_is_balanced_and_covers_every_unit_once() {
        let count = 7;
        let shards: Vec<Shard> = (0..count).map(|k| Shard::new(k, count).unwrap()).collect();
        let sizes: Vec<usize> = shards.iter().map(|s| (0..100).filter(|&u| s.owns(u)).count()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        assert!((0..100).all(|u| shards.iter().filter(|s| s.owns(u)).count() == 1));
        assert_eq!(Shard::new(2, 7).unwrap().owner(16), Shard::new(2, 7).unwrap());
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_environment_names_the_shard() {
        let slurm = env(&[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "8")]);
        assert_eq!(Shard::from_env(&slurm, None), Shard::new(5, 8));
        assert_eq!(Shard::from_env(&slurm, Some(8)), Shard::new(5, 8));
        assert_eq!(Shard::from_env(&slurm, Some(4)), Err(ShardError::CountMismatch { given: 4, found: 8 }));
        let from_one = env(&[
            ("SLURM_ARRAY_TASK_ID", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(Shard::from_env(from_one, None), Shard::new(7, 8));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(Shard::from_env(&k8s, Some(3)), Shard::new(2, 3));
        assert_eq!(
            Shard::from_env(&k8s, None),
            Err(ShardError::NoCount { variable: "JOB_COMPLETION_INDEX" })
        );
        assert_eq!(Shard::from_env(env(&[]), Some(3)), Err(ShardError::NoIndex));
        assert!(matches!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "x")]), Some(3)),
            Err(ShardError::NotANumber { .. })
        ));
    }
}
