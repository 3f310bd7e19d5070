//! Checking simulation against theory: which confidence intervals miss an exact theoretical value.
//! At 95% confidence about one metric in twenty misses by chance; a miss that persists with more
//! replications is real. The integration test `coverage` measures it: over many seeds, the
//! intervals of every metric family (means, percentiles, probabilities, rates) hold the exact
//! value 93-97% of the time.

use super::summary::EntitySummary;
use crate::analytic::Figure;
use crate::model::Metric;

/// The metrics of `summary` whose confidence interval misses the value of an exact figure of
/// `figures` (approximations and figures without a value are never checked), in `figures` order.
#[must_use]
pub fn ci_misses<M: Metric>(summary: &EntitySummary<M>, figures: &[(M, Figure)]) -> Vec<M> {
    figures
        .iter()
        .filter(|(metric, figure)| {
            let Some(value) = figure.value.filter(|_| figure.exact) else { return false };
            summary.get(*metric).is_some_and(|estimate| estimate.misses(value))
        })
        .map(|&(metric, _)| metric)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeMetric;
    use crate::stats::Estimate;

    fn figure(value: Option<f64>, exact: bool) -> Figure {
        Figure { value, exact, method: "test".to_owned(), reason: None }
    }

    #[test]
    fn only_exact_figures_outside_the_interval_are_misses() {
        // Values 1..=5: the 95% interval is 3 ± 1.963 (see estimate.rs).
        let estimate = Estimate::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let mut estimates: Vec<(NodeMetric, Option<Estimate>)> =
            NodeMetric::ALL.iter().map(|&metric| (metric, None)).collect();
        for metric in [NodeMetric::MeanWait, NodeMetric::MeanSojourn, NodeMetric::Throughput] {
            estimates[metric.index()].1 = estimate;
        }
        let summary = EntitySummary { name: "n".to_owned(), estimates };
        let figures = [
            (NodeMetric::MeanWait, figure(Some(9.0), true)),
            (NodeMetric::MeanSojourn, figure(Some(9.0), false)),
            (NodeMetric::Throughput, figure(Some(3.5), true)),
            (NodeMetric::Utilization, figure(Some(9.0), true)),
            (NodeMetric::MeanInSystem, figure(None, true)),
        ];
        assert_eq!(ci_misses(&summary, &figures), vec![NodeMetric::MeanWait]);
    }
}
