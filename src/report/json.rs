//! The summary.json contract: field names are stable (other tools and tests read them); fields
//! may be added, never renamed. All times in seconds, rates per second.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::analysis::figure_map;
use super::series::PeakEntry;
use crate::analytic::{Analysis, Figure};
use crate::experiment::PrecisionReport;
use crate::model::Scenario;
use crate::stats::{EntitySummary, LATENCY_PERCENTILES, Metric, Summary, ci_misses};

/// One metric across replications: the mean and its 95% confidence interval (`null` when
/// undefined, e.g. a wait percentile with no completed message, or a single replication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateEntry {
    /// Mean over the replications in which the metric was defined.
    pub mean: Option<f64>,
    /// 95% confidence interval `[low, high]` of the mean.
    pub ci95: Option<[f64; 2]>,
    /// Number of replications in which the metric was defined (0 when in none).
    #[serde(default)]
    pub n: usize,
}

/// One node of summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The node's name.
    pub name: String,
    /// Number of servers, c; `null` for infinitely many.
    pub servers: Option<u32>,
    /// Maximum messages held, K, or `null` when unbounded.
    pub capacity: Option<u32>,
    /// Metric key to estimate.
    pub metrics: BTreeMap<String, EstimateEntry>,
    /// Metric key to the theoretical figure (see analysis.json).
    #[serde(default)]
    pub analytic: BTreeMap<String, Figure>,
    /// Metrics whose 95% CI misses an exact theoretical value. At 95% confidence about one
    /// metric in twenty misses by chance; a miss that persists with more replications is real.
    #[serde(default)]
    pub ci_misses: Vec<String>,
    /// Per priority class, highest first, for nodes with a priority discipline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassEntry>,
    /// Per message class, when the network has several classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_classes: Vec<NamedEntry>,
}

/// One priority class of a node in summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassEntry {
    /// The class's message priority (higher is more urgent).
    pub priority: u8,
    /// Metric key to estimate.
    pub metrics: BTreeMap<String, EstimateEntry>,
    /// Metric key to the theoretical figure.
    #[serde(default)]
    pub analytic: BTreeMap<String, Figure>,
}

/// One source, or one message class (at a node or network-wide), in summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedEntry {
    /// The source's or class's name.
    pub name: String,
    /// Metric key to estimate.
    pub metrics: BTreeMap<String, EstimateEntry>,
    /// Metric key to the theoretical figure (see analysis.json).
    #[serde(default)]
    pub analytic: BTreeMap<String, Figure>,
    /// Metrics whose 95% CI misses an exact theoretical value.
    #[serde(default)]
    pub ci_misses: Vec<String>,
    /// For a source: its end-to-end latency distribution, percentile name ("p10" ... "p99.9")
    /// to seconds, over every replication's deliveries merged (one pooled figure each, no CI);
    /// absent for a class, or a source that delivered nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_distribution: Option<BTreeMap<String, f64>>,
}

impl NamedEntry {
    fn new<M: Metric>(summary: &EntitySummary<M>, figures: Option<&[(M, Figure)]>) -> Self {
        Self {
            name: summary.name.clone(),
            metrics: metric_map(summary),
            analytic: figures.map(figure_map).unwrap_or_default(),
            ci_misses: miss_keys(summary, figures),
            latency_distribution: None,
        }
    }

    /// The entry with a source's pooled latency percentiles (seconds, in the order of
    /// [`LATENCY_PERCENTILES`]).
    fn with_latency_distribution(mut self, seconds: Option<&Vec<f64>>) -> Self {
        self.latency_distribution = seconds.map(|seconds| {
            LATENCY_PERCENTILES
                .iter()
                .zip(seconds)
                .map(|(&(_, name), &value)| (name.to_owned(), value))
                .collect()
        });
        self
    }
}

/// One exchange of summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeEntry {
    /// The exchange's name.
    pub name: String,
    /// Its matching rule ("direct", "fanout", "topic", "prefix", "key-hash").
    pub kind: String,
    /// Metric key to estimate.
    pub metrics: BTreeMap<String, EstimateEntry>,
}

/// The whole summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryFile {
    /// Scenario name.
    pub scenario: String,
    /// Number of replications.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Observed simulated time per replication, seconds.
    pub duration: f64,
    /// Discarded warm-up per replication, seconds.
    pub warmup: f64,
    /// Events processed over all replications.
    pub events: u64,
    /// Wall-clock time of the run, seconds (the only field that varies between identical runs).
    pub wall_seconds: f64,
    /// Cap on messages in the system per replication.
    pub max_in_system: u32,
    /// Replications stopped early at that cap (an overloaded network).
    pub stopped_early: usize,
    /// Replications stopped early because full blocking queues deadlocked.
    #[serde(default)]
    pub deadlocked: usize,
    /// Per node, in file order.
    pub nodes: Vec<NodeEntry>,
    /// Per source, in file order.
    pub sources: Vec<NamedEntry>,
    /// Per exchange, in file order.
    #[serde(default)]
    pub exchanges: Vec<ExchangeEntry>,
    /// Per message class network-wide, when the network has several classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<NamedEntry>,
    /// With `warmup = "auto"`: the warm-up MSER-5 chose for each replication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_auto: Option<AutoWarmupEntry>,
    /// How the run met its precision target (`--precision`); absent for a fixed number of
    /// replications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionEntry>,
    /// With `sample_every`: per node, the peak of its queue over time, when, and the time to
    /// drain it (see [`PeakEntry`]); absent without a time series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peaks: Option<Vec<PeakEntry>>,
    /// Whether some load follows the clock (a rate schedule, a replayed trace or a servers
    /// schedule): the figures are then averages over the observed window, with no steady-state
    /// theory beside them; absent (false) for steady load.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub time_varying: bool,
}

/// The warm-ups chosen by MSER-5 (`warmup = "auto"`), in summary.json; `warmup` is then their
/// mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoWarmupEntry {
    /// The warm-up of each replication, seconds, in index order.
    pub chosen: Vec<f64>,
    /// Replications too short for MSER-5 to find the end of the transient (their warm-up is
    /// the best guess in the first half of the run).
    pub unresolved: Vec<u32>,
}

/// The precision target of a run and whether it was met, in summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionEntry {
    /// Largest 95% CI half-width of a mean or percentile, relative to its value.
    pub relative: f64,
    /// Largest 95% CI half-width of a probability or fraction, absolute.
    pub absolute: f64,
    /// The most replications allowed.
    pub max_replications: u32,
    /// Replications run (as `replications`).
    pub replications: u32,
    /// Whether every figure met the target; false when the maximum stopped the run.
    pub met: bool,
    /// The figures still too wide.
    pub too_wide: Vec<WideEntry>,
}

/// A figure whose confidence interval is wider than the precision target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WideEntry {
    /// "node" or "source".
    pub scope: String,
    /// The node's or source's name.
    pub name: String,
    /// The metric's key.
    pub metric: String,
    /// Its mean.
    pub mean: f64,
    /// Half the width of its 95% CI (`null` without an interval).
    pub half_width: Option<f64>,
    /// The largest half-width allowed.
    pub limit: f64,
}

impl PrecisionEntry {
    /// The entry of a precision report.
    #[must_use]
    pub fn new(report: &PrecisionReport) -> Self {
        let too_wide = report
            .too_wide
            .iter()
            .map(|figure| WideEntry {
                scope: figure.scope.name().to_owned(),
                name: figure.name.clone(),
                metric: figure.metric.to_owned(),
                mean: figure.mean,
                half_width: figure.half_width,
                limit: figure.limit,
            })
            .collect();
        Self {
            relative: report.target.relative,
            absolute: report.target.absolute,
            max_replications: report.target.max_replications,
            replications: report.replications,
            met: report.met(),
            too_wide,
        }
    }
}

fn metric_map<M: Metric>(summary: &EntitySummary<M>) -> BTreeMap<String, EstimateEntry> {
    summary
        .estimates
        .iter()
        .map(|(metric, estimate)| {
            let entry = EstimateEntry {
                mean: estimate.map(|e| e.mean),
                ci95: estimate.and_then(|e| e.ci95),
                n: estimate.map_or(0, |e| e.samples),
            };
            (metric.key().to_owned(), entry)
        })
        .collect()
}

/// The keys of the metrics whose confidence interval misses exact theory, in key order.
fn miss_keys<M: Metric>(summary: &EntitySummary<M>, figures: Option<&[(M, Figure)]>) -> Vec<String> {
    let mut keys: Vec<String> = ci_misses(summary, figures.unwrap_or_default())
        .iter()
        .map(|metric| metric.key().to_owned())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl SummaryFile {
    /// The summary file of a scenario's run from its reduced records, with theory beside it when
    /// available, and the run's wall-clock time in seconds.
    #[must_use]
    pub fn new(
        scenario: &Scenario,
        summary: &Summary,
        analysis: Option<&Analysis>,
        wall_seconds: f64,
    ) -> Self {
        let settings = &scenario.settings;
        let nodes = scenario
            .network
            .nodes()
            .iter()
            .zip(&summary.nodes)
            .enumerate()
            .map(|(i, (node, estimates))| {
                let figures = analysis.map(|a| a.nodes[i].metrics.as_slice());
                let classes = summary.node_priority_classes[i]
                    .iter()
                    .enumerate()
                    .map(|(class, estimates)| ClassEntry {
                        priority: scenario.network.priorities()[class],
                        metrics: metric_map(estimates),
                        analytic: analysis
                            .and_then(|a| a.nodes[i].priority_classes.get(class))
                            .map(|figures| figure_map(figures))
                            .unwrap_or_default(),
                    })
                    .collect();
                let message_classes = summary.node_message_classes[i]
                    .iter()
                    .enumerate()
                    .map(|(class, estimates)| {
                        let figures = analysis.and_then(|a| a.nodes[i].message_classes.get(class));
                        NamedEntry::new(estimates, figures.map(Vec::as_slice))
                    })
                    .collect();
                NodeEntry {
                    name: node.name.clone(),
                    servers: node.servers.count(),
                    capacity: node.capacity,
                    metrics: metric_map(estimates),
                    analytic: figures.map(figure_map).unwrap_or_default(),
                    ci_misses: miss_keys(estimates, figures),
                    classes,
                    message_classes,
                }
            })
            .collect();
        let sources = summary
            .sources
            .iter()
            .enumerate()
            .map(|(i, estimates)| {
                NamedEntry::new(estimates, analysis.map(|a| a.sources[i].metrics.as_slice()))
                    .with_latency_distribution(summary.latency_percentiles[i].as_ref())
            })
            .collect();
        Self {
            scenario: scenario.name.clone(),
            replications: u32::try_from(summary.replications).unwrap_or(u32::MAX),
            seed: settings.seed,
            duration: settings.duration_s,
            warmup: if settings.auto_warmup {
                summary.warmups_s.iter().sum::<f64>() / summary.warmups_s.len().max(1) as f64
            } else {
                settings.warmup_s
            },
            events: summary.events,
            wall_seconds,
            max_in_system: settings.max_in_system,
            stopped_early: summary.stopped_early,
            deadlocked: summary.deadlocked,
            nodes,
            sources,
            exchanges: scenario
                .network
                .exchanges()
                .iter()
                .zip(&summary.exchanges)
                .map(|(exchange, estimates)| ExchangeEntry {
                    name: exchange.name.clone(),
                    kind: exchange.kind.name().to_owned(),
                    metrics: metric_map(estimates),
                })
                .collect(),
            classes: summary
                .message_classes
                .iter()
                .enumerate()
                .map(|(class, estimates)| {
                    NamedEntry::new(
                        estimates,
                        analysis.and_then(|a| a.message_classes.get(class)).map(Vec::as_slice),
                    )
                })
                .collect(),
            warmup_auto: settings.auto_warmup.then(|| AutoWarmupEntry {
                chosen: summary.warmups_s.clone(),
                unresolved: summary.warmup_unresolved.clone(),
            }),
            precision: None,
            peaks: summary.series.as_ref().map(|series| series.peaks.iter().map(PeakEntry::new).collect()),
            time_varying: crate::analytic::varying::is_time_varying(&scenario.network),
        }
    }
}
