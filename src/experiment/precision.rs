//! Run-length control: replications are added in batches until every reported figure is known
//! precisely enough (sequential stopping on the width of the confidence intervals).
//!
//! Each scenario runs replications `0..b`, then `b..2b`, ... (its batch size `b` is its own
//! replication count), and stops after the first batch at which every figure is precise enough,
//! or at the maximum. The decision is taken on [`Summary::new`] of the records in index order,
//! so it depends neither on the thread count nor on how the batches were scheduled, and the first
//! `n` replications are exactly those of a plain `n`-replication run.
//!
//! Sequential stopping on the observed width slightly lowers the coverage of the final intervals
//! (the run tends to stop when the sample variance happens to be low); with batches of ten or more
//! replications the effect is small (Law, *Simulation Modeling and Analysis*, §9.4.1).

use std::fmt;
use std::time::Instant;

use rayon::prelude::*;

use super::memory::RecordMemory;
use super::{Experiment, ExperimentError, run_replication, thread_pool};
use crate::model::{Metric, Scenario};
use crate::stats::{EntitySummary, ReplicationResult, Summary};

/// How precise a run must be, and how long it may grow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// Largest 95% CI half-width of a mean or percentile, relative to its value (0.02: ±2%).
    pub relative: f64,
    /// Largest 95% CI half-width of a probability or fraction, absolute (0.02: ±0.02).
    pub absolute: f64,
    /// Replications at which a scenario stops even if some figure is still too wide.
    pub max_replications: u32,
}

impl Precision {
    /// Default of `max_replications`.
    pub const DEFAULT_MAX_REPLICATIONS: u32 = 1000;

    /// The same `target` for both kinds of figure ("2%": ±2% of a time or rate, ±0.02 of a
    /// probability), with the default maximum.
    #[must_use]
    pub fn new(target: f64) -> Self {
        Self { relative: target, absolute: target, max_replications: Self::DEFAULT_MAX_REPLICATIONS }
    }

    /// The largest half-width allowed to a figure of this metric with this mean.
    fn limit<M: Metric>(&self, metric: M, mean: f64) -> f64 {
        if is_fraction(metric) { self.absolute } else { self.relative * mean.abs() }
    }
}

/// Whether the metric is a probability or fraction (in [0, 1]), held to an absolute half-width:
/// a dimensionless metric other than a mean count of messages.
fn is_fraction<M: Metric>(metric: M) -> bool {
    metric.unit().is_empty() && !matches!(metric.key(), "mean_in_system" | "mean_in_queue")
}

/// Metrics exempt from the target: `queue_growth_rate` is a stability diagnostic whose value in
/// a stable system is 0, so that its relative width never settles.
fn is_exempt<M: Metric>(metric: M) -> bool {
    metric.key() == "queue_growth_rate"
}

/// Where a figure belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureScope {
    /// A node's metric.
    Node,
    /// A source's metric.
    Source,
}

impl FigureScope {
    /// The word used in output files: "node" or "source".
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Source => "source",
        }
    }
}

/// A figure whose confidence interval is still wider than the target.
#[derive(Debug, Clone, PartialEq)]
pub struct WideFigure {
    /// Node or source.
    pub scope: FigureScope,
    /// The node's or source's name.
    pub name: String,
    /// The metric's key.
    pub metric: &'static str,
    /// Its mean.
    pub mean: f64,
    /// Half the width of its 95% CI; `None` with too few replications for an interval.
    pub half_width: Option<f64>,
    /// The largest half-width allowed.
    pub limit: f64,
}

impl fmt::Display for WideFigure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.half_width.map_or_else(|| "no interval".to_owned(), |h| format!("±{h:.4}"));
        write!(
            f,
            "{} {} {}: mean {:.4} {width}, target ±{:.4}",
            self.scope.name(),
            self.name,
            self.metric,
            self.mean,
            self.limit
        )
    }
}

/// How a run under a precision target ended.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionReport {
    /// The target.
    pub target: Precision,
    /// Replications run.
    pub replications: u32,
    /// The figures still too wide: empty when the target was met.
    pub too_wide: Vec<WideFigure>,
}

impl PrecisionReport {
    /// Whether every figure met the target.
    #[must_use]
    pub fn met(&self) -> bool {
        self.too_wide.is_empty()
    }
}

/// The figures of `summary` whose interval is wider than `precision` allows: every non-zero mean
/// and percentile of every node and source (probabilities and fractions absolutely, the others
/// relative to their mean), in report order. A figure defined in a single replication has no
/// interval and counts as too wide.
#[must_use]
pub fn too_wide(summary: &Summary, precision: &Precision) -> Vec<WideFigure> {
    let mut wide = Vec::new();
    for node in &summary.nodes {
        wide_figures(FigureScope::Node, node, precision, &mut wide);
    }
    for source in &summary.sources {
        wide_figures(FigureScope::Source, source, precision, &mut wide);
    }
    wide
}

fn wide_figures<M: Metric>(
    scope: FigureScope,
    entity: &EntitySummary<M>,
    precision: &Precision,
    wide: &mut Vec<WideFigure>,
) {
    for &(metric, estimate) in &entity.estimates {
        let Some(estimate) = estimate.filter(|e| e.mean != 0.0 && !is_exempt(metric)) else {
            continue;
        };
        let limit = precision.limit(metric, estimate.mean);
        let half_width = estimate.ci95.map(|_| estimate.half_width());
        if half_width.is_none_or(|h| h > limit) {
            wide.push(WideFigure {
                scope,
                name: entity.name.clone(),
                metric: metric.key(),
                mean: estimate.mean,
                half_width,
                limit,
            });
        }
    }
}

/// Runs every scenario until `precision` is met or its maximum reached, all scenarios' batches
/// in one pool of work units (as [`run_all`](super::run_all)): each round runs the next batch of
/// every scenario still too imprecise. A scenario's batch size is its replication count (at most
/// the maximum). Returns the experiments and their precision reports, per scenario in order;
/// `on_done` is called after each replication. Each scenario stops on its own; see
/// [`run_until_precise_together`] for scenarios compared replication by replication.
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run_until_precise(
    scenarios: &[Scenario],
    precision: &Precision,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Experiment>, Vec<PrecisionReport>), ExperimentError> {
    run_batches(scenarios, precision, false, threads, on_done)
}

/// As [`run_until_precise`], but every scenario keeps running until all meet the target (or
/// reach the maximum), so that all run the same replications: replication i of each can be
/// paired with replication i of the others (common random numbers).
///
/// # Errors
/// When the thread pool cannot be created.
pub fn run_until_precise_together(
    scenarios: &[Scenario],
    precision: &Precision,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Experiment>, Vec<PrecisionReport>), ExperimentError> {
    run_batches(scenarios, precision, true, threads, on_done)
}

fn run_batches(
    scenarios: &[Scenario],
    precision: &Precision,
    together: bool,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Experiment>, Vec<PrecisionReport>), ExperimentError> {
    let started = Instant::now();
    let pool = thread_pool(threads)?;
    let max = precision.max_replications.max(1);
    // The most replications the run may take: every scenario to the maximum.
    let memory = RecordMemory::new(scenarios.len() * max as usize);
    let mut records: Vec<Vec<ReplicationResult>> = vec![Vec::new(); scenarios.len()];
    let mut finished: Vec<Option<(Summary, PrecisionReport)>> = vec![None; scenarios.len()];
    // Scenarios run together take the same batches, so their replications stay paired.
    let common_batch = scenarios.first().map_or(1, |first| first.settings.replications.clamp(1, max));
    loop {
        let units: Vec<(usize, u32)> = (0..scenarios.len())
            .filter(|&variant| finished[variant].is_none())
            .flat_map(|variant| {
                let done = count(&records[variant]);
                let batch = if together {
                    common_batch
                } else {
                    scenarios[variant].settings.replications.clamp(1, max)
                };
                (done..(done + batch).min(max)).map(move |index| (variant, index))
            })
            .collect();
        if units.is_empty() {
            break;
        }
        let results: Vec<ReplicationResult> = pool.install(|| {
            units
                .par_iter()
                .filter(|_| memory.open())
                .map(|&(variant, index)| {
                    let scenario = &scenarios[variant];
                    let result = run_replication(&scenario.network, &scenario.settings, index);
                    memory.keep(&result)?;
                    on_done();
                    Ok(result)
                })
                .collect::<Result<_, ExperimentError>>()
        })?;
        for (&(variant, _), result) in units.iter().zip(results) {
            records[variant].push(result);
        }
        let mut judged = Vec::new();
        for (variant, scenario) in scenarios.iter().enumerate() {
            if finished[variant].is_some() {
                continue;
            }
            let summary = Summary::new(&scenario.network, &records[variant]);
            let too_wide = too_wide(&summary, precision);
            let replications = count(&records[variant]);
            let done = too_wide.is_empty() || replications >= max;
            judged.push((
                variant,
                done,
                summary,
                PrecisionReport { target: *precision, replications, too_wide },
            ));
        }
        let all_done = judged.iter().all(|(_, done, _, _)| *done);
        for (variant, done, summary, report) in judged {
            if all_done || (done && !together) {
                finished[variant] = Some((summary, report));
            }
        }
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let (experiments, reports) = records
        .into_iter()
        .zip(finished)
        .map(|(replications, finished)| {
            let (summary, report) = finished.expect("every scenario finishes before the loop ends");
            let events = summary.events;
            (Experiment { replications, summary, events, wall_seconds }, report)
        })
        .unzip();
    Ok((experiments, reports))
}

fn count(records: &[ReplicationResult]) -> u32 {
    u32::try_from(records.len()).expect("replication counts fit in u32")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeMetric, SourceMetric};
    use crate::stats::Estimate;

    fn node(values: &[(NodeMetric, &[f64])]) -> EntitySummary<NodeMetric> {
        let mut estimates: Vec<(NodeMetric, Option<Estimate>)> =
            NodeMetric::ALL.iter().map(|&m| (m, None)).collect();
        for &(metric, samples) in values {
            estimates[metric.index()].1 = Estimate::from_values(samples);
        }
        EntitySummary { name: "server".to_owned(), estimates }
    }

    fn wide_keys(entity: &EntitySummary<NodeMetric>, precision: &Precision) -> Vec<&'static str> {
        let mut wide = Vec::new();
        wide_figures(FigureScope::Node, entity, precision, &mut wide);
        wide.iter().map(|w| w.metric).collect()
    }

    #[test]
    fn times_are_held_relatively_and_fractions_absolutely() {
        // Mean 10, s = sqrt(4/3) = 1.155, n = 4: half-width t(0.975, 3)·s/2 = 3.182·0.577 = 1.84,
        // 18.4% of the mean.
        let sojourn: &[f64] = &[9.0, 11.0, 9.0, 11.0];
        // Mean 0.5, s = 0.0115: half-width 0.0184, within ±0.02 but 3.7% of the mean.
        let utilization: &[f64] = &[0.49, 0.51, 0.49, 0.51];
        // L has no unit but is a count, not a fraction: relative, 18.4% here.
        let in_system: &[f64] = &[9.0, 11.0, 9.0, 11.0];
        let entity = node(&[
            (NodeMetric::MeanSojourn, sojourn),
            (NodeMetric::Utilization, utilization),
            (NodeMetric::MeanInSystem, in_system),
        ]);
        assert_eq!(wide_keys(&entity, &Precision::new(0.02)), ["mean_in_system", "mean_sojourn"]);
        assert_eq!(wide_keys(&entity, &Precision::new(0.19)), Vec::<&str>::new());
    }

    #[test]
    fn zeros_growth_and_missing_intervals() {
        let entity = node(&[
            (NodeMetric::WaitP50, &[0.0, 0.0]),
            (NodeMetric::QueueGrowthRate, &[-0.1, 0.1, 0.2]),
            (NodeMetric::WaitP99, &[3.0]),
        ]);
        // A zero figure and the growth diagnostic are exempt; one value has no interval.
        assert_eq!(wide_keys(&entity, &Precision::new(0.5)), ["wait_p99"]);
        assert!(is_fraction(SourceMetric::DeliveredFraction) && !is_fraction(SourceMetric::LatencyP99));
    }
}
