//! Service-level objectives: `[source.NAME.|node.NAME.]METRIC OP VALUE`, e.g. `latency_p99 < 50ms`
//! or `node.storage.utilization <= 0.8`, and their verdict on a [`Summary`].
//!
//! An SLO counts as met only when the worst side of its 95% confidence interval meets it (the
//! mean, with a single replication). Without a scope it applies to every source, for a metric
//! that sources report, else to every node.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

use crate::model::Network;
use crate::scenario::parse_duration;
use crate::stats::{EntitySummary, Estimate, Metric, NodeMetric, SourceMetric, Summary};

/// Why an SLO expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SloError {
    /// The expression is not `[scope.NAME.]METRIC OP VALUE`.
    #[error(
        "invalid SLO '{0}', which should look like 'latency_p99 < 50ms' or 'node.NAME.utilization <= 0.8'"
    )]
    Shape(String),
    /// The metric is not one that sources or nodes report.
    #[error("unknown metric '{metric}' in SLO '{expr}'; {valid}")]
    Metric {
        /// The expression.
        expr: String,
        /// The offending token.
        metric: String,
        /// The metrics valid there.
        valid: String,
    },
    /// The value does not parse in the metric's unit.
    #[error("invalid value '{value}' in SLO '{expr}': {reason}")]
    Value {
        /// The expression.
        expr: String,
        /// The offending token.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// The scope names no source or node of the scenario.
    #[error("unknown {scope} '{name}' in SLO '{expr}'; {scope}s are {valid}")]
    Name {
        /// The expression.
        expr: String,
        /// "source" or "node".
        scope: &'static str,
        /// The offending name.
        name: String,
        /// The names valid there.
        valid: String,
    },
}

/// Which side of the threshold is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `>`
    Above,
    /// `>=`
    AtLeast,
}

impl Comparison {
    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Below => "<",
            Self::AtMost => "<=",
            Self::Above => ">",
            Self::AtLeast => ">=",
        }
    }
}

/// What an SLO is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SloScope {
    /// Every source (a metric that sources report).
    Sources,
    /// Every node.
    Nodes,
    /// One source, by name.
    Source(String),
    /// One node, by name.
    Node(String),
}

/// A service-level objective on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The expression as given.
    pub expr: String,
    /// The sources or nodes it applies to.
    pub scope: SloScope,
    /// The metric key, as in summary.json.
    pub metric: String,
    /// Which side of the threshold is good.
    pub comparison: Comparison,
    /// The threshold, in the metric's unit (seconds, per second, or a fraction).
    pub threshold: f64,
}

/// One SLO judged on one source or node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloCheck {
    /// The expression.
    pub expr: String,
    /// "source" or "node".
    pub scope: &'static str,
    /// The source's or node's name.
    pub name: String,
    /// The metric key.
    pub metric: String,
    /// The estimated mean; `None` when the metric is undefined (e.g. no message completed).
    pub value: Option<f64>,
    /// Its 95% confidence interval.
    pub ci95: Option<[f64; 2]>,
    /// Whether the worst side of the interval meets the SLO.
    pub met: bool,
}

impl FromStr for Slo {
    type Err = SloError;

    fn from_str(text: &str) -> Result<Self, SloError> {
        let expr = text.trim().to_owned();
        let shape = || SloError::Shape(expr.clone());
        let at = expr.find(['<', '>']).ok_or_else(shape)?;
        let (left, rest) = expr.split_at(at);
        let (comparison, value) = match rest.as_bytes().get(1) {
            Some(b'=') if rest.starts_with('<') => (Comparison::AtMost, &rest[2..]),
            Some(b'=') => (Comparison::AtLeast, &rest[2..]),
            _ if rest.starts_with('<') => (Comparison::Below, &rest[1..]),
            _ => (Comparison::Above, &rest[1..]),
        };
        let parts: Vec<&str> = left.trim().split('.').collect();
        let (scope, metric) = match parts.as_slice() {
            [metric] => (None, *metric),
            ["source", name, metric] => (Some(SloScope::Source((*name).to_owned())), *metric),
            ["node", name, metric] => (Some(SloScope::Node((*name).to_owned())), *metric),
            _ => return Err(shape()),
        };
        let (scope, unit) = scoped_unit(&expr, scope, metric)?;
        let threshold = parse_value(value.trim(), unit).map_err(|reason| SloError::Value {
            expr: expr.clone(),
            value: value.trim().to_owned(),
            reason,
        })?;
        Ok(Self { expr: expr.clone(), scope, metric: metric.to_owned(), comparison, threshold })
    }
}

/// The scope an unscoped metric gets, and the metric's unit; an error when the metric is unknown.
fn scoped_unit(
    expr: &str,
    scope: Option<SloScope>,
    metric: &str,
) -> Result<(SloScope, &'static str), SloError> {
    let source = SourceMetric::from_key(metric).map(SourceMetric::unit);
    let node = NodeMetric::from_key(metric).map(NodeMetric::unit);
    let unknown =
        |valid: String| SloError::Metric { expr: expr.to_owned(), metric: metric.to_owned(), valid };
    match scope {
        None => source
            .map(|unit| (SloScope::Sources, unit))
            .or_else(|| node.map(|unit| (SloScope::Nodes, unit)))
            .ok_or_else(|| {
                unknown(format!(
                    "source metrics are {}; node metrics are {}",
                    keys::<SourceMetric>(),
                    keys::<NodeMetric>()
                ))
            }),
        Some(scope @ SloScope::Source(_)) => source
            .map(|unit| (scope, unit))
            .ok_or_else(|| unknown(format!("source metrics are {}", keys::<SourceMetric>()))),
        Some(scope) => node
            .map(|unit| (scope, unit))
            .ok_or_else(|| unknown(format!("node metrics are {}", keys::<NodeMetric>()))),
    }
}

fn keys<M: Metric>() -> String {
    M::ALL.iter().map(|metric| metric.key()).collect::<Vec<_>>().join(", ")
}

/// A threshold in the metric's unit: a duration for seconds, a number (or `N/s`) for rates, a
/// number or percentage for fractions.
fn parse_value(text: &str, unit: &str) -> Result<f64, String> {
    let number = |digits: &str| {
        digits
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{digits}' is not a number"))
    };
    match unit {
        "s" => parse_duration(text),
        "/s" => number(text.strip_suffix("/s").unwrap_or(text)),
        _ => match text.strip_suffix('%') {
            Some(percent) => Ok(number(percent)? / 100.0),
            None => number(text),
        },
    }
}

impl Slo {
    /// Checks that the scope names a source or node of `network`.
    ///
    /// # Errors
    /// An unknown name, with the valid ones.
    pub fn check_names(&self, network: &Network) -> Result<(), SloError> {
        let (scope, name, names): (_, _, Vec<&str>) = match &self.scope {
            SloScope::Source(name) => {
                ("source", name, network.sources().iter().map(|s| s.name.as_str()).collect())
            }
            SloScope::Node(name) => ("node", name, network.nodes().iter().map(|n| n.name.as_str()).collect()),
            SloScope::Sources | SloScope::Nodes => return Ok(()),
        };
        if names.contains(&name.as_str()) {
            return Ok(());
        }
        Err(SloError::Name { expr: self.expr.clone(), scope, name: name.clone(), valid: names.join(", ") })
    }

    /// Judges the SLO on every source or node it applies to.
    #[must_use]
    pub fn evaluate(&self, summary: &Summary) -> Vec<SloCheck> {
        match &self.scope {
            SloScope::Sources | SloScope::Source(_) => self.judge::<SourceMetric>("source", &summary.sources),
            SloScope::Nodes | SloScope::Node(_) => self.judge::<NodeMetric>("node", &summary.nodes),
        }
    }

    fn judge<M: Metric>(&self, scope: &'static str, entities: &[EntitySummary<M>]) -> Vec<SloCheck> {
        let Some(metric) = M::from_key(&self.metric) else { return Vec::new() };
        let named = match &self.scope {
            SloScope::Source(name) | SloScope::Node(name) => Some(name),
            SloScope::Sources | SloScope::Nodes => None,
        };
        entities
            .iter()
            .filter(|entity| named.is_none_or(|name| *name == entity.name))
            .map(|entity| {
                let estimate = entity.get(metric);
                SloCheck {
                    expr: self.expr.clone(),
                    scope,
                    name: entity.name.clone(),
                    metric: self.metric.clone(),
                    value: estimate.map(|e| e.mean),
                    ci95: estimate.and_then(|e| e.ci95),
                    met: estimate.is_some_and(|e| self.met_by(&e)),
                }
            })
            .collect()
    }

    /// Whether an estimate meets the SLO on the worst side of its confidence interval.
    #[must_use]
    pub fn met_by(&self, estimate: &Estimate) -> bool {
        let [low, high] = estimate.ci95.unwrap_or([estimate.mean; 2]);
        let worst = match self.comparison {
            Comparison::Below | Comparison::AtMost => high,
            Comparison::Above | Comparison::AtLeast => low,
        };
        self.comparison.holds(worst, self.threshold)
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match &self.scope {
            SloScope::Sources | SloScope::Nodes => String::new(),
            SloScope::Source(name) => format!("source.{name}."),
            SloScope::Node(name) => format!("node.{name}."),
        };
        write!(f, "{scope}{} {} {}", self.metric, self.comparison.symbol(), self.threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(text: &str) -> Slo {
        text.parse().unwrap()
    }

    #[test]
    fn expressions_parse_with_scopes_operators_and_units() {
        let p99 = slo("latency_p99 < 50ms");
        assert_eq!(
            (p99.scope.clone(), p99.comparison, p99.threshold),
            (SloScope::Sources, Comparison::Below, 0.05)
        );
        let utilization = slo("node.storage.utilization<=80%");
        assert_eq!(utilization.scope, SloScope::Node("storage".into()));
        assert_eq!((utilization.comparison, utilization.threshold), (Comparison::AtMost, 0.8));
        let delivered = slo("source.meters.delivered_fraction >= 0.999");
        assert_eq!((delivered.comparison, delivered.threshold), (Comparison::AtLeast, 0.999));
        assert_eq!(slo("wait_p95 > 2s").scope, SloScope::Nodes);
        assert_eq!(slo("throughput > 1200/s").threshold, 1200.0);
    }

    #[test]
    fn bad_expressions_name_the_offending_token() {
        let message = |text: &str| text.parse::<Slo>().unwrap_err().to_string();
        assert!(message("latency_p99 50ms").contains("invalid SLO 'latency_p99 50ms'"));
        assert!(message("latency_p999 < 50ms").contains("unknown metric 'latency_p999'"));
        assert!(message("source.a.utilization < 0.5").contains("unknown metric 'utilization'"));
        assert!(message("latency_p99 < 50 parsecs").contains("invalid value '50 parsecs'"));
        assert!(message("cluster.a.latency_p99 < 1s").contains("invalid SLO"));
    }

    #[test]
    fn the_worst_side_of_the_interval_decides() {
        let below = slo("latency_p99 < 1s");
        let estimate =
            |low: f64, high: f64| Estimate { mean: (low + high) / 2.0, ci95: Some([low, high]), samples: 10 };
        assert!(below.met_by(&estimate(0.8, 0.99)));
        assert!(!below.met_by(&estimate(0.8, 1.01)));
        let above = slo("delivered_fraction >= 0.99");
        assert!(above.met_by(&estimate(0.99, 1.0)));
        assert!(!above.met_by(&estimate(0.98, 1.0)));
    }
}
