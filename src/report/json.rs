//! The summary.json contract: field names are stable (other tools and tests read them); fields
//! may be added, never renamed. All times in seconds, rates per second.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::experiment::Experiment;
use crate::model::Scenario;
use crate::stats::{EntitySummary, Metric};

/// One metric across replications: the mean and its 95% confidence interval (`null` when
/// undefined, e.g. a wait percentile with no completed message, or a single replication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateEntry {
    /// Mean over the replications in which the metric was defined.
    pub mean: Option<f64>,
    /// 95% confidence interval `[low, high]` of the mean.
    pub ci95: Option<[f64; 2]>,
}

/// One node of summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The node's name.
    pub name: String,
    /// Number of workers, c.
    pub servers: u32,
    /// Maximum messages held, K, or `null` when unbounded.
    pub capacity: Option<u32>,
    /// Metric key to estimate.
    pub metrics: BTreeMap<String, EstimateEntry>,
}

/// One source of summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The source's name.
    pub name: String,
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
    /// Per node, in file order.
    pub nodes: Vec<NodeEntry>,
    /// Per source, in file order.
    pub sources: Vec<SourceEntry>,
}

fn metric_map<M: Metric>(summary: &EntitySummary<M>) -> BTreeMap<String, EstimateEntry> {
    summary
        .estimates
        .iter()
        .map(|(metric, estimate)| {
            let entry = EstimateEntry { mean: estimate.map(|e| e.mean), ci95: estimate.and_then(|e| e.ci95) };
            (metric.key().to_owned(), entry)
        })
        .collect()
}

impl SummaryFile {
    /// The summary of an experiment on a scenario.
    #[must_use]
    pub fn new(scenario: &Scenario, experiment: &Experiment) -> Self {
        let settings = &scenario.settings;
        let nodes = scenario
            .network
            .nodes()
            .iter()
            .zip(&experiment.summary.nodes)
            .map(|(node, summary)| NodeEntry {
                name: node.name.clone(),
                servers: node.servers,
                capacity: node.capacity,
                metrics: metric_map(summary),
            })
            .collect();
        let sources = experiment
            .summary
            .sources
            .iter()
            .map(|summary| SourceEntry { name: summary.name.clone(), metrics: metric_map(summary) })
            .collect();
        Self {
            scenario: scenario.name.clone(),
            replications: settings.replications,
            seed: settings.seed,
            duration: settings.duration_s,
            warmup: settings.warmup_s,
            events: experiment.events,
            wall_seconds: experiment.wall_seconds,
            max_in_system: settings.max_in_system,
            stopped_early: experiment.stopped_early(),
            nodes,
            sources,
        }
    }
}
