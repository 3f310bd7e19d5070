//! The time series across replications: per node or source, metric and interval, the mean with
//! its 95% confidence interval, the 10th and 90th percentiles, and theory beside them when the
//! caller supplies it; and per node the peak of its queue and the time to drain it.
//!
//! Interval `k` of every replication is reduced together. A replication that stopped early has
//! no figures for the intervals it did not reach: each row says how many replications it
//! reduces.

use super::estimate::Estimate;
use super::peak::Excursion;
use super::quantile::quantile_sorted;
use super::record::ReplicationResult;
use super::timeseries::{Series, SeriesMetric, SeriesScope};
use crate::model::Network;

/// One metric of one node or source in one interval, across replications: a row of
/// timeseries.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    /// The start of the interval, seconds.
    pub start_s: f64,
    /// The end of the interval, seconds (the `time` column).
    pub end_s: f64,
    /// Node or source.
    pub scope: SeriesScope,
    /// The node's or source's index in network order.
    pub entity: usize,
    /// The node's or source's name.
    pub name: String,
    /// The metric.
    pub metric: SeriesMetric,
    /// Mean and 95% t interval over the replications with a value; `None` when none has one
    /// (no message created in the interval was delivered, say).
    pub estimate: Option<Estimate>,
    /// 10th percentile across those replications (by the rule of [`p90`](Self::p90)).
    pub p10: Option<f64>,
    /// 90th percentile across those replications: interpolated linearly between order
    /// statistics (Hyndman and Fan's definition 7, as R and NumPy by default).
    pub p90: Option<f64>,
    /// Replications that reached the interval (a replication stopped early has no figures for
    /// the intervals after it stopped).
    pub replications: usize,
    /// What theory predicts (the fluid approximation of a node's backlog, say), filled by
    /// [`TimeSeries::set_theory`]; `None` otherwise.
    pub theory: Option<f64>,
}

/// One node's queue over time: its peak and drain, per replication and of the mean curve.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePeak {
    /// The node's index in network order.
    pub node: usize,
    /// The node's name.
    pub name: String,
    /// Of the curve of mean messages held across replications (the `in_system` rows).
    pub mean_curve: Excursion,
    /// Each replication's own peak (its highest interval mean of messages held), reduced: mean
    /// and 95% CI across replications. At least the mean curve's peak, by Jensen's inequality.
    pub peak: Estimate,
    /// When each replication peaked, seconds, reduced likewise.
    pub peak_time_s: Estimate,
    /// Each replication's drain time, seconds, over the replications that drained; `None` when
    /// none did.
    pub drain_s: Option<Estimate>,
    /// Replications whose queue was not back within 10% of their pre-peak level by the end.
    pub undrained: usize,
}

/// The time series of a run across its replications.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// The length of an interval, seconds.
    pub every_s: f64,
    /// The end of each interval reached by some replication, seconds.
    pub times_s: Vec<f64>,
    /// Per node its metrics, then per source its metrics; each in interval order.
    pub rows: Vec<SeriesRow>,
    /// Per node, in network order (none when no replication finished an interval).
    pub peaks: Vec<NodePeak>,
}

impl TimeSeries {
    /// Reduces the series of `records` (those that have one) of a run of `network`; `None` when
    /// none has a series.
    #[must_use]
    pub fn new(network: &Network, records: &[ReplicationResult]) -> Option<Self> {
        let series: Vec<&Series> = records.iter().filter_map(|record| record.series.as_ref()).collect();
        let longest = series.iter().max_by_key(|series| series.times_s.len())?;
        let times_s = longest.times_s.clone();
        let nodes = network.nodes().iter().map(|node| node.name.as_str());
        let sources = network.sources().iter().map(|source| source.name.as_str());
        let entities =
            nodes.enumerate().flat_map(|(i, name)| SeriesMetric::NODE.map(|metric| (i, name, metric))).chain(
                sources
                    .enumerate()
                    .flat_map(|(i, name)| SeriesMetric::SOURCE.map(|metric| (i, name, metric))),
            );
        let rows = entities
            .flat_map(|(entity, name, metric)| {
                let (series, times_s) = (&series, &times_s);
                times_s.iter().enumerate().map(move |(k, &end_s)| {
                    let start_s = if k == 0 { 0.0 } else { times_s[k - 1] };
                    row(series, start_s, end_s, k, (metric, entity, name))
                })
            })
            .collect::<Vec<_>>();
        let peaks = network
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(node, named)| {
                let curve = mean_curve(&rows, node);
                node_peak(&series, node, &named.name, &curve, &times_s)
            })
            .collect();
        Some(Self { every_s: longest.every_s, times_s, rows, peaks })
    }

    /// Puts `theory(row)` in each row's `theory` (the fluid prediction of a node's backlog,
    /// for instance: the row gives the node or source, the metric and the interval).
    pub fn set_theory(&mut self, mut theory: impl FnMut(&SeriesRow) -> Option<f64>) {
        for row in &mut self.rows {
            row.theory = theory(row);
        }
    }
}

/// The row of `metric` of entity `entity`, named `name`, in interval `k`.
fn row(
    series: &[&Series],
    start_s: f64,
    end_s: f64,
    k: usize,
    (metric, entity, name): (SeriesMetric, usize, &str),
) -> SeriesRow {
    let reached = series.iter().filter(|series| series.times_s.len() > k);
    let mut values: Vec<f64> = reached.clone().filter_map(|series| metric.value(series, entity, k)).collect();
    values.sort_by(f64::total_cmp);
    let estimate = Estimate::from_values(&values);
    let percentile = |q: f64| (!values.is_empty()).then(|| quantile_sorted(&values, q));
    SeriesRow {
        start_s,
        end_s,
        scope: metric.scope(),
        entity,
        name: name.to_owned(),
        metric,
        p10: percentile(0.1),
        p90: percentile(0.9),
        estimate,
        replications: reached.count(),
        theory: None,
    }
}

/// The mean messages held at `node` in each interval (0 where no replication has a figure).
fn mean_curve(rows: &[SeriesRow], node: usize) -> Vec<f64> {
    rows.iter()
        .filter(|row| {
            row.scope == SeriesScope::Node && row.entity == node && row.metric == SeriesMetric::InSystem
        })
        .map(|row| row.estimate.map_or(0.0, |estimate| estimate.mean))
        .collect()
}

/// The peak and drain of `node` per replication, reduced, beside those of its mean curve;
/// `None` when no replication finished an interval.
fn node_peak(
    series: &[&Series],
    node: usize,
    name: &str,
    curve: &[f64],
    times_s: &[f64],
) -> Option<NodePeak> {
    let excursions: Vec<Excursion> = series
        .iter()
        .filter_map(|series| Excursion::of(&series.nodes.get(node)?.in_system, &series.times_s))
        .collect();
    let reduce = |figure: fn(&Excursion) -> f64| {
        Estimate::from_values(&excursions.iter().map(figure).collect::<Vec<_>>())
    };
    let drains: Vec<f64> = excursions.iter().filter_map(|excursion| excursion.drain_s).collect();
    Some(NodePeak {
        node,
        name: name.to_owned(),
        mean_curve: Excursion::of(curve, times_s)?,
        peak: reduce(|excursion| excursion.peak)?,
        peak_time_s: reduce(|excursion| excursion.peak_time_s)?,
        drain_s: Estimate::from_values(&drains),
        undrained: excursions.len() - drains.len(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::RunEnd;
    use crate::model::Scenario;
    use crate::scenario::parse;
    use crate::stats::{Collector, NodeSeries, SourceSeries};

    fn scenario() -> Scenario {
        let text = r#"
            [[source]]
            name = "clients"
            to = "server"
            interarrival = { dist = "exponential", rate = 1 }
            [[node]]
            name = "server"
            service = { dist = "exponential", mean = "0.5s" }
        "#;
        parse(text, "series", Path::new("series.toml")).expect("a valid scenario")
    }

    /// A record of `scenario` whose series has these messages held and latency means.
    fn record(
        scenario: &Scenario,
        index: u32,
        in_system: &[f64],
        latency: &[Option<f64>],
    ) -> ReplicationResult {
        let end = RunEnd { events: 0, end_s: 30.0, stopped_early: in_system.len() < 3, deadlocked: false };
        let mut record = Collector::new(&scenario.network, &scenario.settings).finish(index, end);
        let zeros = vec![0.0; in_system.len()];
        record.series = Some(Series {
            every_s: 10.0,
            times_s: [10.0, 20.0, 30.0][..in_system.len()].to_vec(),
            nodes: vec![NodeSeries {
                in_system: in_system.to_vec(),
                in_queue: zeros.clone(),
                busy: zeros.clone(),
                throughput: zeros.clone(),
                drop_rate: zeros.clone(),
                oldest_age: zeros,
            }],
            sources: vec![SourceSeries { latency_mean: latency.to_vec(), latency_p99: latency.to_vec() }],
        });
        record
    }

    /// Four replications; the last stopped after two intervals.
    fn reduced() -> TimeSeries {
        let scenario = scenario();
        let records = [
            record(&scenario, 0, &[1.0, 5.0, 2.0], &[Some(1.0), None, None]),
            record(&scenario, 1, &[2.0, 7.0, 1.0], &[Some(2.0), None, None]),
            record(&scenario, 2, &[3.0, 6.0, 3.0], &[None, None, Some(5.0)]),
            record(&scenario, 3, &[2.0, 8.0], &[Some(4.0), None]),
        ];
        TimeSeries::new(&scenario.network, &records).expect("records with a series")
    }

    fn find(series: &TimeSeries, metric: SeriesMetric, k: usize) -> &SeriesRow {
        series.rows.iter().filter(|row| row.metric == metric).nth(k).expect("a row")
    }

    #[test]
    fn each_interval_is_reduced_across_the_replications_that_reached_it() {
        let series = reduced();
        assert_eq!(series.times_s, [10.0, 20.0, 30.0]);
        // Three intervals of six node metrics and two source metrics.
        assert_eq!(series.rows.len(), 3 * (6 + 2));
        let first = find(&series, SeriesMetric::InSystem, 0);
        assert_eq!((first.start_s, first.end_s, first.replications), (0.0, 10.0, 4));
        assert_eq!((first.scope, first.name.as_str(), first.entity), (SeriesScope::Node, "server", 0));
        // 1, 2, 3, 2: mean 2, s² = 2/3, half width t(0.975, 3) · s / √4 = 3.182446 × 0.408248.
        let estimate = first.estimate.unwrap();
        assert_eq!(estimate.mean, 2.0);
        assert!((estimate.half_width() - 3.182_446 * 0.408_248).abs() < 1e-5, "{estimate:?}");
        // Sorted 1, 2, 2, 3: h = 0.3 gives 1.3, h = 2.7 gives 2.7.
        assert!((first.p10.unwrap() - 1.3).abs() < 1e-12 && (first.p90.unwrap() - 2.7).abs() < 1e-12);
        // The third interval: replication 3 had stopped. 2, 1, 3: mean 2, s = 1,
        // half width t(0.975, 2) / √3 = 4.302653 / 1.732051; p10 1.2, p90 2.8.
        let last = find(&series, SeriesMetric::InSystem, 2);
        assert_eq!((last.start_s, last.end_s, last.replications), (20.0, 30.0, 3));
        let estimate = last.estimate.unwrap();
        assert_eq!((estimate.mean, estimate.samples), (2.0, 3));
        assert!((estimate.half_width() - 4.302_653 / 1.732_051).abs() < 1e-5, "{estimate:?}");
        assert!((last.p10.unwrap() - 1.2).abs() < 1e-12 && (last.p90.unwrap() - 2.8).abs() < 1e-12);
        assert_eq!(last.theory, None);
    }

    #[test]
    fn latencies_reduce_over_the_replications_with_a_value() {
        let series = reduced();
        let first = find(&series, SeriesMetric::LatencyMean, 0);
        assert_eq!((first.scope, first.name.as_str()), (SeriesScope::Source, "clients"));
        let estimate = first.estimate.unwrap();
        assert_eq!((estimate.mean, estimate.samples, first.replications), (7.0 / 3.0, 3, 4));
        // Nothing delivered of what was created in the second interval, in any replication.
        let empty = find(&series, SeriesMetric::LatencyMean, 1);
        assert_eq!((empty.estimate, empty.p10, empty.p90, empty.replications), (None, None, None, 4));
        // One value: a mean, no interval, both percentiles that value.
        let single = find(&series, SeriesMetric::LatencyP99, 2);
        assert_eq!(single.estimate.unwrap().ci95, None);
        assert_eq!(single.estimate.unwrap().mean, 5.0);
        assert_eq!((single.p10, single.p90, single.replications), (Some(5.0), Some(5.0), 3));
    }

    #[test]
    fn peaks_and_drains_per_replication_and_of_the_mean_curve() {
        let series = reduced();
        let [peak] = series.peaks.as_slice() else { panic!("one node: {:?}", series.peaks) };
        assert_eq!((peak.node, peak.name.as_str()), (0, "server"));
        // Mean curve 2, 6.5, 2: peak 6.5 at 20 s, pre-peak 2, back to 2 ≤ 2.2 at 30 s.
        assert_eq!(
            peak.mean_curve,
            Excursion { peak: 6.5, peak_time_s: 20.0, pre_peak: 2.0, drain_s: Some(10.0) }
        );
        // Replications peak at 5, 7, 6, 8, all at 20 s; those that drain (1 to ≤ 2.2, 3 to ≤ 3.3)
        // take 10 s, the others (2 > 1.1 at the end, and the one stopped) never do.
        assert_eq!((peak.peak.mean, peak.peak.samples), (6.5, 4));
        assert_eq!(peak.peak_time_s.mean, 20.0);
        assert_eq!(peak.peak_time_s.ci95, Some([20.0, 20.0]));
        let drain = peak.drain_s.unwrap();
        assert_eq!((drain.mean, drain.samples, peak.undrained), (10.0, 2, 2));
    }

    #[test]
    fn theory_is_what_the_caller_gives_each_row() {
        let mut series = reduced();
        series.set_theory(|row| (row.metric == SeriesMetric::InSystem).then_some(row.end_s / 10.0));
        assert_eq!(find(&series, SeriesMetric::InSystem, 1).theory, Some(2.0));
        assert_eq!(find(&series, SeriesMetric::Busy, 1).theory, None);
    }

    #[test]
    fn records_without_a_series_have_none() {
        let scenario = scenario();
        let end = RunEnd { events: 0, end_s: 30.0, stopped_early: false, deadlocked: false };
        let record = Collector::new(&scenario.network, &scenario.settings).finish(0, end);
        assert_eq!(TimeSeries::new(&scenario.network, &[record]), None);
    }
}
