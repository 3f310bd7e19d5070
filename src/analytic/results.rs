//! What theory says about a network: one [`Figure`] per metric, per node, per source and for
//! the system as a whole, and why an analysis can fail.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::fluid::{Fluid, FluidError};
use super::linear::SingularMatrix;
use crate::model::{MessageClassMetric, NodeClassMetric, NodeMetric, SourceMetric};

/// One theoretical figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The value (seconds, per second, messages or a fraction), or `None` when theory has none.
    pub value: Option<f64>,
    /// Whether the value is exact under the model's assumptions (otherwise an approximation).
    pub exact: bool,
    /// The formula or method behind the value.
    pub method: String,
    /// Why there is no value, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Figure {
    /// An exact figure (no value when `value` is not finite).
    pub(super) fn exact(value: f64, method: &str) -> Self {
        Self { value: finite(value), exact: true, method: method.to_owned(), reason: None }
    }

    /// An approximate figure (no value when `value` is not finite).
    pub(super) fn approximate(value: f64, method: &str) -> Self {
        Self { value: finite(value), exact: false, method: method.to_owned(), reason: None }
    }

    /// A figure exact or not as `exact` says (no value when `value` is not finite).
    pub(super) fn labelled(value: f64, exact: bool, method: &str) -> Self {
        Self { value: finite(value), exact, method: method.to_owned(), reason: None }
    }

    /// A figure without value, saying why.
    pub(super) fn missing(method: &str, reason: impl Into<String>) -> Self {
        Self { value: None, exact: false, method: method.to_owned(), reason: Some(reason.into()) }
    }
}

/// `value`, when it is finite.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// What theory says about one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeAnalysis {
    /// The node's name.
    pub name: String,
    /// Kendall notation of the model used, e.g. "M/M/2" or "G/G/1".
    pub model: String,
    /// Messages offered per second, after overloaded or finite nodes upstream capped the flow.
    pub arrival_rate: f64,
    /// Messages per second that would arrive if nothing upstream were overloaded or dropped.
    pub demand_rate: f64,
    /// Offered load per server, ρ = λ/(cμ); may exceed 1. For a sender held by a blocking queue
    /// whose saturation has a closed form, λ over that rate (below cμ) instead.
    pub utilization: f64,
    /// Messages completing service per second.
    pub throughput: f64,
    /// Whether the node is known to keep up: ρ < 1 (its verdict is `Stable`).
    pub stable: bool,
    /// Whether the node is stable, a finite queue dropping its excess or an unbounded queue
    /// growing without bound.
    pub verdict: Verdict,
    /// Rate at which the node's queue grows, λ − cμ messages per second (0 when stable).
    pub growth_rate: f64,
    /// Messages at which `time_to_fill` is measured: the capacity if bounded, else the user's N.
    pub fill_target: f64,
    /// Seconds until the queue holds `fill_target` messages, starting empty; `None` when stable.
    pub time_to_fill: Option<f64>,
    /// Where the node's rates have no closed form (they depend on a blocking queue whose
    /// throughput has none), their bounds; `arrival_rate`, `utilization` and `throughput` are
    /// then the upper bounds.
    pub bounds: Option<RateBounds>,
    /// Per metric key, the theoretical figure.
    pub metrics: Vec<(NodeMetric, Figure)>,
    /// Per priority class (0 the highest), for nodes with a priority discipline.
    pub priority_classes: Vec<Vec<(NodeClassMetric, Figure)>>,
    /// Per message class, when the network has several.
    pub message_classes: Vec<Vec<(NodeClassMetric, Figure)>>,
}

/// Least and most of a node's rates where they have no closed form, each `[least, most]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateBounds {
    /// Messages offered per second.
    pub arrival_rate: [f64; 2],
    /// Offered load, λ over the rate at which the node saturates (as `utilization`).
    pub utilization: [f64; 2],
    /// Messages completing service per second.
    pub throughput: [f64; 2],
}

/// Whether a node keeps up with what it is offered.
///
/// Serialised, and displayed, as its lowercase name: "stable", "saturated", "unstable" or
/// "undetermined".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// ρ < 1: the node has a steady state.
    Stable,
    /// A finite queue at ρ ≥ 1: it fills up, then drops (or blocks) what it cannot take.
    Saturated,
    /// An unbounded queue at ρ ≥ 1: it grows without bound.
    Unstable,
    /// An unbounded queue where no closed form decides: its servers are held by a blocking
    /// queue downstream (they saturate below cμ, by how much no formula here gives), or its
    /// arrival rate has only bounds that fall either side of where it saturates.
    Undetermined,
}

impl Verdict {
    /// Whether the node is known to be offered at least what it can serve (saturated or
    /// unstable).
    #[must_use]
    pub fn overloaded(self) -> bool {
        matches!(self, Self::Saturated | Self::Unstable)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stable => "stable",
            Self::Saturated => "saturated",
            Self::Unstable => "unstable",
            Self::Undetermined => "undetermined",
        })
    }
}

/// What theory says about the system as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemAnalysis {
    /// Whether every unbounded queue is stable (false too when that is undetermined).
    pub stable: bool,
    /// Why no closed form decides whether the system is stable, when none of its queues is
    /// known to be unstable but some is [`Verdict::Undetermined`].
    pub undetermined: Option<String>,
    /// The node with the highest utilisation.
    pub bottleneck: Option<String>,
    /// Factor by which every external arrival rate can grow before the first unbounded queue
    /// saturates; `None` when no growth saturates one (see `headroom_reason`).
    pub headroom: Option<f64>,
    /// Why there is no headroom figure.
    pub headroom_reason: Option<String>,
    /// External arrival rate at that point (messages per second entering the system): the most
    /// the system sustains with today's mix of sources.
    pub max_throughput: Option<f64>,
    /// Total external arrival rate today, messages per second.
    pub offered_rate: f64,
    /// For a closed population: (clients, throughput per second, response time in seconds)
    /// for every population from 1 to the scenario's (exact MVA); empty otherwise.
    pub population_curve: Vec<(u32, f64, f64)>,
}

/// What theory says about one source's messages.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceAnalysis {
    /// The source's name.
    pub name: String,
    /// Per metric, the theoretical figure.
    pub metrics: Vec<(SourceMetric, Figure)>,
}

/// The full analysis of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// System-wide verdict.
    pub system: SystemAnalysis,
    /// Per node, in network order.
    pub nodes: Vec<NodeAnalysis>,
    /// Per source, in network order.
    pub sources: Vec<SourceAnalysis>,
    /// Per message class network-wide, when the network has several.
    pub message_classes: Vec<Vec<(MessageClassMetric, Figure)>>,
    /// For a network whose load follows the clock, the fluid prediction of every node's load
    /// over the run, or why there is none; `None` for a network with a steady state.
    pub fluid: Option<Result<Fluid, FluidError>>,
}

impl NodeAnalysis {
    /// The figure for one metric.
    #[must_use]
    pub fn metric(&self, metric: NodeMetric) -> Option<&Figure> {
        self.metrics.iter().find(|(m, _)| *m == metric).map(|(_, f)| f)
    }
}

impl SourceAnalysis {
    /// The figure for one metric.
    #[must_use]
    pub fn metric(&self, metric: SourceMetric) -> Option<&Figure> {
        self.metrics.iter().find(|(m, _)| *m == metric).map(|(_, f)| f)
    }
}

/// Why a network could not be analysed.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// The routing has a loop without exit: the traffic equations have no solution.
    #[error("the traffic equations are singular: some loop of routes never exits")]
    Singular(#[from] SingularMatrix),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_serialises_and_displays_as_its_lowercase_name() {
        for (verdict, word) in [
            (Verdict::Stable, "stable"),
            (Verdict::Saturated, "saturated"),
            (Verdict::Unstable, "unstable"),
            (Verdict::Undetermined, "undetermined"),
        ] {
            assert_eq!(verdict.to_string(), word);
            assert_eq!(serde_json::to_string(&verdict).unwrap(), format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<Verdict>(&format!("\"{word}\"")).unwrap(), verdict);
        }
    }
}
