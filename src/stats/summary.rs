//! Results across replications: one [`Estimate`] per metric per node and source, the run's
//! totals, and the time series when the records have one.
//!
//! A mean, a rate or a fraction is estimated by the mean of the replications' values with a
//! Student t interval corrected for skewness; a percentile by the quantile of every replication's observations pooled,
//! with an interval that inverts one for the fraction of observations below it (see `pooled`). Every interval is clamped to the
//! values its metric can take ([`Bounded`]).

use super::estimate::Estimate;
use super::histogram::DurationHistogram;
use super::pooled::{self, Percentile};
use super::range::Bounded;
use super::record::ReplicationResult;
use super::series_summary::TimeSeries;
use super::sparse::SparseHistogram;
use crate::model::Network;
use crate::model::{
    ExchangeMetric, MessageClassMetric, Metric, MetricValues, NodeClassMetric, NodeMetric, SourceMetric,
};

/// Every metric of one node or source across replications.
#[derive(Debug, Clone)]
pub struct EntitySummary<M: Metric> {
    /// The node's or source's name.
    pub name: String,
    /// Per metric, in report order: the estimate, or `None` if undefined in every replication.
    pub estimates: Vec<(M, Option<Estimate>)>,
}

impl<M: Bounded + Percentile> EntitySummary<M> {
    /// The estimates of one entity from its values in each replication; `pooled(metric, q)`
    /// estimates the `q` quantile of a percentile metric from every replication's histograms.
    fn from_values<'a>(
        name: &str,
        replications: impl Iterator<Item = &'a MetricValues<M>> + Clone,
        pooled: impl Fn(M, f64) -> Option<Estimate>,
    ) -> Self {
        let estimates = M::ALL
            .iter()
            .map(|&metric| {
                let estimate = match metric.quantile() {
                    Some(quantile) => pooled(metric, quantile),
                    None => {
                        let values: Vec<f64> =
                            replications.clone().filter_map(|values| values.get(metric)).collect();
                        Estimate::from_values(&values)
                    }
                };
                let (low, high) = metric.bounds();
                (metric, estimate.map(|estimate| estimate.clamped(low, high)))
            })
            .collect();
        Self { name: name.to_owned(), estimates }
    }
}

impl<M: Metric> EntitySummary<M> {
    /// The estimate of one metric.
    #[must_use]
    pub fn get(&self, metric: M) -> Option<Estimate> {
        self.estimates[metric.index()].1
    }
}

/// Estimates of every metric across all replications of a run, and its totals.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Replications reduced.
    pub replications: usize,
    /// The warm-up discarded by each replication, seconds, in record order.
    pub warmups_s: Vec<f64>,
    /// Indices of the replications too short for MSER-5 to find the end of the warm-up.
    pub warmup_unresolved: Vec<u32>,
    /// Events processed over all replications, warm-up included.
    pub events: u64,
    /// Replications stopped early at the cap on messages in the system.
    pub stopped_early: usize,
    /// Replications stopped early because full blocking queues deadlocked.
    pub deadlocked: usize,
    /// Per node, in network order.
    pub nodes: Vec<EntitySummary<NodeMetric>>,
    /// Per source, in network order.
    pub sources: Vec<EntitySummary<SourceMetric>>,
    /// Per exchange, in network order.
    pub exchanges: Vec<EntitySummary<ExchangeMetric>>,
    /// Per node, per priority class (0 the highest) for nodes with a priority discipline.
    pub node_priority_classes: Vec<Vec<EntitySummary<NodeClassMetric>>>,
    /// Per node, per message class, when the network has several classes.
    pub node_message_classes: Vec<Vec<EntitySummary<NodeClassMetric>>>,
    /// Per message class network-wide, when the network has several classes.
    pub message_classes: Vec<EntitySummary<MessageClassMetric>>,
    /// The time series across replications, when the records have one (`sample_every`).
    pub series: Option<TimeSeries>,
    /// Per source, its end-to-end latency at each of [`LATENCY_PERCENTILES`], seconds, read off
    /// the histograms of every replication merged (deliveries and multicast copies); `None`
    /// for a source with no delivery.
    pub latency_percentiles: Vec<Option<Vec<f64>>>,
}

/// The percentiles of the pooled latency distribution in a summary, as fractions, with their
/// names.
pub const LATENCY_PERCENTILES: [(f64, &str); 8] = [
    (0.10, "p10"),
    (0.25, "p25"),
    (0.50, "p50"),
    (0.75, "p75"),
    (0.90, "p90"),
    (0.95, "p95"),
    (0.99, "p99"),
    (0.999, "p99.9"),
];

impl Summary {
    /// Reduces replication records, serially in the order given (the records in index order
    /// make the figures independent of how the replications were scheduled, and of whether
    /// they were read back from files). The one reduction: nothing else feeds a summary.
    #[must_use]
    pub fn new(network: &Network, replications: &[ReplicationResult]) -> Self {
        let nodes = network
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, node)| {
                EntitySummary::from_values(
                    &node.name,
                    replications.iter().map(|r| &r.nodes[i].metrics),
                    |metric, quantile| {
                        let parts = replications
                            .iter()
                            .map(|r| [pooled::node_part(&r.nodes[i].histograms, metric), None]);
                        pooled::estimate(parts, quantile)
                    },
                )
            })
            .collect();
        let sources = network
            .sources()
            .iter()
            .enumerate()
            .map(|(i, source)| {
                EntitySummary::from_values(
                    &source.name,
                    replications.iter().map(|r| &r.sources[i].metrics),
                    |metric, quantile| {
                        let parts = replications
                            .iter()
                            .map(|r| pooled::source_parts(&r.sources[i].histograms, metric));
                        pooled::estimate(parts, quantile)
                    },
                )
            })
            .collect();
        let exchanges = network
            .exchanges()
            .iter()
            .enumerate()
            .map(|(i, exchange)| {
                EntitySummary::from_values(
                    &exchange.name,
                    replications.iter().map(|r| &r.exchanges[i].metrics),
                    |_, _| None,
                )
            })
            .collect();
        let priorities: Vec<String> =
            network.priorities().iter().map(|priority| format!("priority {priority}")).collect();
        let node_priority_classes = (0..network.nodes().len())
            .map(|i| {
                per_class(
                    &priorities,
                    replications,
                    |r| &r.nodes[i].priority_classes,
                    |r, class, metric| {
                        r.nodes[i]
                            .histograms
                            .priority_classes
                            .get(class)
                            .and_then(|h| pooled::class_part(h, metric))
                    },
                )
            })
            .collect();
        let node_message_classes = (0..network.nodes().len())
            .map(|i| {
                per_class(
                    network.message_classes(),
                    replications,
                    |r| &r.nodes[i].message_classes,
                    |r, class, metric| {
                        r.nodes[i]
                            .histograms
                            .message_classes
                            .get(class)
                            .and_then(|h| pooled::class_part(h, metric))
                    },
                )
            })
            .collect();
        let classes = per_class(
            network.message_classes(),
            replications,
            |r| &r.message_classes,
            pooled::message_class_part,
        );
        Self {
            replications: replications.len(),
            warmups_s: replications.iter().map(|r| r.warmup_s).collect(),
            warmup_unresolved: replications.iter().filter(|r| r.warmup_unresolved).map(|r| r.index).collect(),
            events: replications.iter().map(|r| r.events).sum(),
            stopped_early: replications.iter().filter(|r| r.stopped_early).count(),
            deadlocked: replications.iter().filter(|r| r.deadlocked).count(),
            nodes,
            sources,
            exchanges,
            node_priority_classes,
            node_message_classes,
            message_classes: classes,
            series: TimeSeries::new(network, replications),
            latency_percentiles: (0..network.sources().len())
                .map(|source| pooled_latency_percentiles(replications, source))
                .collect(),
        }
    }
}

/// A source's latency percentiles over every replication's deliveries merged.
fn pooled_latency_percentiles(replications: &[ReplicationResult], source: usize) -> Option<Vec<f64>> {
    let mut merged = DurationHistogram::new();
    for replication in replications {
        let histograms = &replication.sources[source].histograms;
        merged += &histograms.latencies;
        merged += &histograms.copy_latencies;
    }
    LATENCY_PERCENTILES.iter().map(|&(quantile, _)| merged.quantile(quantile)).collect()
}

/// One summary per class the replications measured (`values` gives them in class order, empty
/// when not measured), named by `names`; `part(record, class, metric)` is the histogram a
/// percentile metric of a class reads.
fn per_class<M: Bounded + Percentile>(
    names: &[String],
    replications: &[ReplicationResult],
    values: impl Fn(&ReplicationResult) -> &Vec<MetricValues<M>>,
    part: impl Fn(&ReplicationResult, usize, M) -> Option<&SparseHistogram>,
) -> Vec<EntitySummary<M>> {
    let measured = replications.first().map_or(0, |first| values(first).len());
    names
        .iter()
        .take(measured)
        .enumerate()
        .map(|(class, name)| {
            EntitySummary::from_values(
                name,
                replications.iter().map(|r| &values(r)[class]),
                |metric, quantile| {
                    pooled::estimate(replications.iter().map(|r| [part(r, class, metric), None]), quantile)
                },
            )
        })
        .collect()
}
