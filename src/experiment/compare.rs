//! Comparisons of configurations: several scenario files, or one file and variations of it, run
//! on one pool with the same seed (common random numbers), and every metric they share reported
//! as each configuration's mean beside its difference to the first (the baseline), with a 95%
//! confidence interval and whether it excludes 0.
//!
//! # Common random numbers
//! Replication i of every configuration uses the streams of replication i, keyed by entity name
//! (see [`stream`](crate::engine::stream)): the same arrivals, headers and service requirements,
//! so that most of the noise cancels in the difference and the paired interval (Student t over
//! the per-replication differences) is narrow. [`Streams::Independent`] runs configuration k on
//! the master seed plus k instead, and uses Welch's two-sample interval: what an experiment
//! without common random numbers would have to live with.
//!
//! # Percentiles
//! Each configuration's figures are its run's ([`Summary`](crate::stats::Summary)): a percentile
//! is the quantile of every replication's observations pooled, as `kendall run` reports it,
//! not a mean of per-replication quantiles (biased low for short replications). The difference
//! of two pooled percentiles pairs, replication by replication, their pseudo-values
//! ([`pseudo_values`](crate::stats::pseudo_values)): each replication's linearised share of its
//! pooled quantile, whose mean is the quantile and whose t interval is the run's. The paired t
//! (or Welch's) interval over them is the delta method's interval for the difference, with
//! common random numbers' correlation kept; no resampling, so it costs a pass over the
//! histograms and is the same whatever the thread count. Measured coverage of the exact
//! difference of two M/M/1 sojourn percentiles: see the `compare` integration tests.
//!
//! # Settings
//! Every configuration runs the baseline's seed and number of replications (after the command
//! line's overrides), whatever its own file says, so that replications pair up; durations and
//! warm-ups stay each file's own unless overridden. A variation of `simulation.seed` or
//! `simulation.replications` is refused for that reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Experiment, ExperimentError, PrecisionReport, RunLength, Warning, run_for};
use crate::analytic;
use crate::model::{MetricValues, Network, NodeMetric, Scenario};
use crate::scenario::{LoadedScenario, Overrides, ScenarioError, Variation, VariationError, vary};
use crate::stats::{
    self, Difference, EntitySummary, Estimate, Interval, Percentile, ReplicationResult, SparseHistogram,
};

/// One configuration of a comparison: a scenario file as loaded, or with variations.
#[derive(Debug, Clone)]
pub struct Configuration {
    /// Its name in reports: the file stem, or the variations' label
    /// (`node.storage.servers=8`); unique within a comparison.
    pub name: String,
    /// The scenario file it comes from.
    pub file: PathBuf,
    /// The variations applied to the file; none for the file as it is.
    pub set: Vec<Variation>,
    /// The scenario it runs (with the baseline's seed and replications).
    pub scenario: Scenario,
}

/// Whether the configurations share their random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Streams {
    /// Common random numbers: every configuration runs on the baseline's seed; differences get
    /// paired t intervals.
    Common,
    /// Configuration k (0 for the baseline) runs on the master seed plus k (wrapping), which
    /// the stream keys turn into unrelated streams; differences get Welch's intervals.
    Independent,
}

impl Streams {
    /// The master seed of configuration `index` when the baseline's is `seed`.
    #[must_use]
    pub fn seed(self, seed: u64, index: usize) -> u64 {
        match self {
            Self::Common => seed,
            Self::Independent => seed.wrapping_add(index as u64),
        }
    }

    /// The interval the differences get.
    #[must_use]
    pub fn interval(self) -> Interval {
        match self {
            Self::Common => Interval::PairedT,
            Self::Independent => Interval::Welch,
        }
    }
}

/// Why the configurations of a comparison cannot be made.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A scenario file is unreadable or invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A variation names nothing, has a bad value, or makes an invalid scenario.
    #[error("variant '{label}': {source}")]
    Variation {
        /// The variant's variations as written.
        label: String,
        /// What is wrong.
        source: VariationError,
    },
    /// A variation changes a setting that every configuration must share.
    #[error(
        "invalid variation '{0}': every configuration runs the baseline's seed and replications so that replications pair up; use --seed or --replications, which apply to all, or --independent"
    )]
    Shared(Variation),
    /// Fewer than two configurations.
    #[error(
        "nothing to compare: give a second scenario file, or variations of the first with --set or --variant"
    )]
    Alone,
}

/// Loads the configurations of a comparison: each file (the first is the baseline), then each
/// group of `variants` applied to the first file. `overrides` apply to all; every configuration
/// then runs the baseline's seed and number of replications, whatever its own file says, so
/// that replications pair up (durations and warm-ups stay each file's own unless overridden).
/// Names are file stems and variation labels, made unique by `#2`, `#3`...
///
/// # Errors
/// A bad file, a bad variation (naming it), a variation of the seed or the replications, or
/// fewer than two configurations.
pub fn configurations(
    files: &[PathBuf],
    variants: &[Vec<Variation>],
    overrides: &Overrides,
) -> Result<Vec<Configuration>, CompareError> {
    let Some((first, others)) = files.split_first() else { return Err(CompareError::Alone) };
    let baseline = LoadedScenario::load(first, overrides)?;
    let settings = baseline.scenario().settings();
    let shared = Overrides {
        seed: Some(settings.seed()),
        replications: Some(settings.replications()),
        ..overrides.clone()
    };
    let mut configurations = vec![from_file(first, baseline.scenario().clone())];
    for file in others {
        configurations.push(from_file(file, LoadedScenario::load(file, &shared)?.into_scenario()));
    }
    for set in variants {
        configurations.push(variant(first, &baseline, set)?);
    }
    if configurations.len() < 2 {
        return Err(CompareError::Alone);
    }
    distinguish_names(&mut configurations);
    Ok(configurations)
}

fn from_file(file: &Path, scenario: Scenario) -> Configuration {
    let name =
        file.file_stem().map_or_else(|| file.display().to_string(), |s| s.to_string_lossy().into_owned());
    Configuration { name, file: file.to_owned(), set: Vec::new(), scenario }
}

fn variant(file: &Path, baseline: &LoadedScenario, set: &[Variation]) -> Result<Configuration, CompareError> {
    if let Some(shared) =
        set.iter().find(|v| matches!(v.path(), "simulation.seed" | "simulation.replications"))
    {
        return Err(CompareError::Shared(shared.clone()));
    }
    let loaded = vary(baseline, set).map_err(|source| CompareError::Variation {
        label: set.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        source,
    })?;
    Ok(Configuration {
        name: loaded.label(),
        file: file.to_owned(),
        set: set.to_vec(),
        scenario: loaded.into_scenario(),
    })
}

/// Makes names unique: a repeated name gets `#2`, `#3`... in order.
fn distinguish_names(configurations: &mut [Configuration]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for configuration in configurations {
        let count = seen.entry(configuration.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            configuration.name = format!("{}#{count}", configuration.name);
        }
    }
}

/// Where a metric is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A source: its messages end to end.
    Source,
    /// A node.
    Node,
    /// An exchange.
    Exchange,
    /// A message class, network-wide.
    Class,
}

impl Scope {
    /// The word used in files (as in summary.csv).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Node => "node",
            Self::Exchange => "exchange",
            Self::Class => "class",
        }
    }
}

/// One metric of one configuration against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDifference {
    /// The configuration's position (1 or more; 0 is the baseline).
    pub configuration: usize,
    /// Where the metric is measured.
    pub scope: Scope,
    /// The source, node, exchange or class, by name.
    pub name: String,
    /// The metric's key, as in summary.json.
    pub metric: &'static str,
    /// Its unit ("s", "/s", or "" for counts and fractions).
    pub unit: &'static str,
    /// The baseline's estimate.
    pub baseline: Estimate,
    /// The configuration's estimate.
    pub estimate: Estimate,
    /// The configuration's mean minus the baseline's.
    pub difference: Difference,
}

/// Everything `kendall compare` reports.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    /// Whether the configurations shared their random numbers.
    pub streams: Streams,
    /// The master seed each configuration ran on, in order.
    pub seeds: Vec<u64>,
    /// Each configuration's replications and summary, in order.
    pub experiments: Vec<Experiment>,
    /// Every metric present in all configurations, for each configuration after the baseline:
    /// source metrics first, then nodes from the baseline's busiest (the bottleneck) down,
    /// exchanges and classes.
    pub differences: Vec<MetricDifference>,
    /// What the user should know, with the name of the configuration it is about.
    pub warnings: Vec<(String, Warning)>,
}

/// Runs every configuration's replications for `length` on one pool of `threads` workers
/// (under a precision target all run until every one meets it, so replications stay paired)
/// and compares each configuration after the first with the first.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn compare(
    configurations: &[Configuration],
    streams: Streams,
    length: &RunLength,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<CompareOutcome, ExperimentError> {
    let scenarios = compared_scenarios(configurations, streams);
    let (experiments, precision) = run_for(&scenarios, length, true, threads, on_done)?;
    Ok(compare_experiments(configurations, streams, &scenarios, experiments, &precision))
}

/// The scenario each configuration runs, in order, on the seed `streams` gives it: the work
/// [`compare`] runs (or shards of it).
#[must_use]
pub fn compared_scenarios(configurations: &[Configuration], streams: Streams) -> Vec<Scenario> {
    configurations
        .iter()
        .enumerate()
        .map(|(index, configuration)| {
            let mut scenario = configuration.scenario.clone();
            scenario.settings.seed = streams.seed(scenario.settings.seed, index);
            scenario
        })
        .collect()
}

/// The comparison of `experiments`, runs of [`compared_scenarios`] (here, or gathered from
/// shards), in order; `precision` says how runs under a precision target ended.
#[must_use]
pub fn compare_experiments(
    configurations: &[Configuration],
    streams: Streams,
    scenarios: &[Scenario],
    experiments: Vec<Experiment>,
    precision: &[PrecisionReport],
) -> CompareOutcome {
    let imprecise = Warning::imprecise(precision).map(|warning| ("every configuration".to_owned(), warning));
    let warnings = configurations.iter().zip(scenarios).zip(&experiments).flat_map(
        |((configuration, scenario), experiment)| {
            warnings(scenario, experiment).into_iter().map(|warning| (configuration.name.clone(), warning))
        },
    );
    let warnings = warnings.chain(imprecise).collect();
    let differences = differences(scenarios, &experiments, streams);
    let seeds = scenarios.iter().map(|scenario| scenario.settings.seed).collect();
    CompareOutcome { streams, seeds, experiments, differences, warnings }
}

fn warnings(scenario: &Scenario, experiment: &Experiment) -> Vec<Warning> {
    let analysis = analytic::analyze(scenario, None).ok();
    let mut warnings = analysis.as_ref().map(Warning::unstable_nodes).unwrap_or_default();
    warnings.extend(Warning::stopped_replications(
        &experiment.replications,
        scenario.settings.max_in_system,
        scenario.settings.warmup_s(),
    ));
    warnings
}

/// One metric of one entity across the replications of one configuration.
struct Series {
    scope: Scope,
    name: String,
    metric: &'static str,
    unit: &'static str,
    /// The configuration's estimate, as `kendall run` reports it; `None` where undefined.
    estimate: Option<Estimate>,
    /// Per replication, in index order, what differences pair: the metric's value, or a
    /// percentile's pseudo-value in the pooled quantile; `None` where undefined.
    values: Vec<Option<f64>>,
    /// Whether the metric is a percentile, pooled over the replications.
    pooled: bool,
}

impl Series {
    fn key(&self) -> (Scope, &str, &'static str) {
        (self.scope, self.name.as_str(), self.metric)
    }

    fn defined(&self) -> Vec<f64> {
        self.values.iter().flatten().copied().collect()
    }
}

fn differences(
    scenarios: &[Scenario],
    experiments: &[Experiment],
    streams: Streams,
) -> Vec<MetricDifference> {
    let all: Vec<Vec<Series>> = scenarios
        .iter()
        .zip(experiments)
        .map(|(scenario, experiment)| series(&scenario.network, experiment))
        .collect();
    let Some((baseline, others)) = all.split_first() else { return Vec::new() };
    let indexed: Vec<HashMap<_, &Series>> =
        others.iter().map(|series| series.iter().map(|s| (s.key(), s)).collect()).collect();
    let shared: Vec<&Series> = baseline
        .iter()
        .filter(|s| !s.defined().is_empty())
        .filter(|s| indexed.iter().all(|other| other.get(&s.key()).is_some_and(|o| !o.defined().is_empty())))
        .collect();
    let mut rows = Vec::new();
    for (position, other) in indexed.iter().enumerate() {
        for base in &shared {
            let variant = other[&base.key()];
            if let Some(row) = difference(position + 1, base, variant, streams) {
                rows.push(row);
            }
        }
    }
    rows
}

fn difference(
    configuration: usize,
    base: &Series,
    variant: &Series,
    streams: Streams,
) -> Option<MetricDifference> {
    let difference = match streams {
        Streams::Common => {
            let pairs: Vec<(f64, f64)> =
                base.values.iter().zip(&variant.values).filter_map(|(x, y)| Some(((*x)?, (*y)?))).collect();
            Difference::paired(&pairs)
        }
        Streams::Independent => Difference::welch(&base.defined(), &variant.defined()),
    }?;
    let (baseline, estimate) = (base.estimate?, variant.estimate?);
    // The pseudo-values' means are the pooled quantiles but for rounding: equal percentiles
    // differ by exactly 0.
    let difference =
        if base.pooled { difference.centred_on(estimate.mean - baseline.mean) } else { difference };
    Some(MetricDifference {
        configuration,
        scope: base.scope,
        name: base.name.clone(),
        metric: base.metric,
        unit: base.unit,
        baseline,
        estimate,
        difference,
    })
}

/// Every metric of a configuration in report order: sources, nodes from the busiest down,
/// exchanges, classes.
fn series(network: &Network, experiment: &Experiment) -> Vec<Series> {
    let (records, summary) = (&experiment.replications, &experiment.summary);
    let mut nodes: Vec<usize> = (0..network.nodes().len()).collect();
    let utilization =
        |i: usize| summary.nodes[i].get(NodeMetric::Utilization).map_or(f64::NEG_INFINITY, |e| e.mean);
    nodes.sort_by(|&a, &b| utilization(b).total_cmp(&utilization(a)));
    let mut all = Vec::new();
    for (i, source) in summary.sources.iter().enumerate() {
        all.extend(family(
            Scope::Source,
            source,
            records,
            |r| &r.sources[i].metrics,
            |r, metric| stats::source_parts(&r.sources[i].histograms, metric),
        ));
    }
    for i in nodes {
        all.extend(family(
            Scope::Node,
            &summary.nodes[i],
            records,
            |r| &r.nodes[i].metrics,
            |r, metric| [stats::node_part(&r.nodes[i].histograms, metric), None],
        ));
    }
    for (i, exchange) in summary.exchanges.iter().enumerate() {
        all.extend(family(
            Scope::Exchange,
            exchange,
            records,
            |r| &r.exchanges[i].metrics,
            |_, _| [None, None],
        ));
    }
    for (i, class) in summary.message_classes.iter().enumerate() {
        if records.iter().all(|r| r.message_classes.len() > i) {
            all.extend(family(
                Scope::Class,
                class,
                records,
                |r| &r.message_classes[i],
                |r, metric| [stats::message_class_part(r, i, metric), None],
            ));
        }
    }
    all
}

/// The series of every metric of one entity: its estimates from `summary`, and per record its
/// `values`, or for a percentile the pseudo-values of the histograms `parts` gives.
fn family<'a, M: Percentile>(
    scope: Scope,
    summary: &EntitySummary<M>,
    records: &'a [ReplicationResult],
    values: impl Fn(&ReplicationResult) -> &MetricValues<M>,
    parts: impl Fn(&'a ReplicationResult, M) -> [Option<&'a SparseHistogram>; 2],
) -> Vec<Series> {
    M::ALL
        .iter()
        .map(|&metric| Series {
            scope,
            name: summary.name.clone(),
            metric: metric.key(),
            unit: metric.unit(),
            estimate: summary.get(metric),
            pooled: metric.quantile().is_some(),
            values: match metric.quantile() {
                Some(quantile) => stats::pseudo_values(records.iter().map(|r| parts(r, metric)), quantile),
                None => records.iter().map(|record| values(record).get(metric)).collect(),
            },
        })
        .collect()
}
