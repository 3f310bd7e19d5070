//! Per message class figures of a node: its share of the traffic, the wait it sees and the
//! service it takes.

use super::results::{Figure, NodeAnalysis, SourceAnalysis};
use super::service::{Streams, stream_moments};
use crate::model::{
    Discipline, MessageClassId, MessageClassMetric, Metric, Network, NodeClassMetric, NodeMetric, Servers,
    Source, SourceMetric,
};

/// Per message class figures of node `index`, when the network has several classes; `node`
/// is the node's own analysis (with its per-priority figures).
///
/// # Formula
/// A message's class is drawn independently of its arrival time, so in a FIFO queue every
/// class sees the node's wait, and its sojourn is that wait plus its own mean service. Under a
/// priority discipline a class waits as the priority classes it is drawn into, weighted by its
/// rate in each; under preemption, where a message's delay grows with its own service, as
/// [`preemptive_sojourn`] says. A class's throughput is its share λ_c/λ of the node's.
pub(super) fn message_class_figures(
    network: &Network,
    streams: &Streams,
    index: usize,
    node: &NodeAnalysis,
) -> Vec<Vec<(NodeClassMetric, Figure)>> {
    if network.message_classes().len() < 2 {
        return Vec::new();
    }
    let total = streams.mixture(network, index, None, |_| true).rate;
    let model = &network.nodes()[index];
    let one_service = model.per_byte == 0.0 && model.class_service.iter().all(Option::is_none);
    network
        .class_ids()
        .map(|class| {
            let mixture = streams.mixture(network, index, Some(class), |_| true);
            let share = if total > 0.0 { mixture.rate / total } else { 0.0 };
            let wait = class_wait(network, streams, index, node, class);
            let service = mixture.moments().mean;
            let absent = mixture.rate <= 0.0;
            NodeClassMetric::ALL
                .iter()
                .map(|&metric| {
                    let figure = match metric {
                        NodeClassMetric::Throughput => scaled(node.metric(NodeMetric::Throughput), share),
                        _ if absent => Figure::missing("none", "no message of this class reaches the node"),
                        NodeClassMetric::MeanWait => wait.clone(),
                        NodeClassMetric::MeanSojourn => match wait.value {
                            Some(wq) => Figure::labelled(wq + service, wait.exact, &wait.method),
                            None => wait.clone(),
                        },
                        NodeClassMetric::WaitP99 => fifo_quantile(network, index, node, NodeMetric::WaitP99),
                        // With one service for every class, a class's sojourn is the node's.
                        NodeClassMetric::SojournP99 if one_service => {
                            fifo_quantile(network, index, node, NodeMetric::SojournP99)
                        }
                        NodeClassMetric::SojournP99 => {
                            Figure::missing("none", "per-class sojourn percentiles have no closed form here")
                        }
                    };
                    (metric, figure)
                })
                .collect()
        })
        .collect()
}

/// A node figure times `share` (a class's part of a rate).
fn scaled(figure: Option<&Figure>, share: f64) -> Figure {
    match figure {
        Some(Figure { value: Some(value), exact, method, .. }) => {
            Figure::labelled(value * share, *exact, method)
        }
        Some(figure) => figure.clone(),
        None => Figure::missing("none", "the node's rate has no figure"),
    }
}

/// The mean wait of class `class` at node `index`.
fn class_wait(
    network: &Network,
    streams: &Streams,
    index: usize,
    node: &NodeAnalysis,
    class: MessageClassId,
) -> Figure {
    let model = &network.nodes()[index];
    if model.servers == Servers::Infinite {
        return Figure::exact(0.0, "infinitely many servers");
    }
    if model.discipline == Discipline::Fifo {
        return node
            .metric(NodeMetric::MeanWait)
            .cloned()
            .unwrap_or_else(|| Figure::missing("none", "the node's wait has no figure"));
    }
    // The priority classes' waits, weighted by this class's rate in each.
    let mut mixed = Mixed::default();
    for (rank, figures) in node.priority_classes.iter().enumerate() {
        let mixture = streams.mixture(network, index, Some(class), |r| r == rank);
        if mixture.rate <= 0.0 {
            continue;
        }
        let wait = if model.discipline == Discipline::Preemptive {
            // The wait of these messages: their sojourn less their own service.
            let own = mixture.moments().mean;
            preemptive_sojourn(network, streams, index, node, rank, own)
                .map(|figure| Figure { value: figure.value.map(|t| t - own), ..figure })
        } else {
            figures.iter().find(|(metric, _)| *metric == NodeClassMetric::MeanWait).map(|(_, f)| f.clone())
        };
        mixed.add(mixture.rate, wait.as_ref());
    }
    mixed.mean(
        "priority classes' waits weighted by the class's rate in each",
        "no message of this class reaches the node",
    )
}

/// The mean sojourn at a preemptive-resume node `index` (one server) of the messages of priority
/// class `rank` whose own mean service is `own`.
///
/// # Formula
/// A message of class k with service S stays T(S) = S/(1 − σ_{k−1}) + R_k/((1 − σ_{k−1})(1 − σ_k)):
/// linear in S. With T_k the class's mean sojourn and E\[S_k\] its mean service,
/// T = T_k + (own − E\[S_k\])/(1 − σ_{k−1}), σ_{k−1} the load of the classes above.
fn preemptive_sojourn(
    network: &Network,
    streams: &Streams,
    index: usize,
    node: &NodeAnalysis,
    rank: usize,
    own: f64,
) -> Option<Figure> {
    let figures = node.priority_classes.get(rank)?;
    let figure =
        figures.iter().find(|(metric, _)| *metric == NodeClassMetric::MeanSojourn).map(|(_, f)| f)?;
    let Some(sojourn) = figure.value else { return Some(figure.clone()) };
    let priorities = streams.per_priority(network, index);
    let above: f64 = priorities[..rank].iter().map(|mixture| mixture.rate * mixture.moments().mean).sum();
    let class_service = priorities[rank].moments().mean;
    let value = sojourn + (own - class_service) / (1.0 - above);
    Some(Figure::labelled(value, figure.exact, &figure.method))
}

/// A FIFO node's wait percentile, which every class shares.
fn fifo_quantile(network: &Network, index: usize, node: &NodeAnalysis, metric: NodeMetric) -> Figure {
    let fifo = network.nodes()[index].discipline == Discipline::Fifo;
    match node.metric(metric) {
        Some(figure) if fifo => figure.clone(),
        _ => Figure::missing("none", "per-class wait percentiles under priorities have no closed form here"),
    }
}

/// Per message class figures network-wide, when the network has several classes: the rate of
/// its delivered messages and their mean end-to-end latency. `latencies[s][c]` is the mean
/// latency of source s's messages of class c.
///
/// # Formula
/// λ_c = Σ_s p_s(c) X_s over the sources s (X_s a source's delivered rate, p_s(c) the share of
/// its messages in class c); the class's latency is the mean of L_{s,c} weighted by p_s(c) X_s.
pub(super) fn network_class_figures(
    network: &Network,
    sources: &[SourceAnalysis],
    latencies: &[Vec<Figure>],
) -> Vec<Vec<(MessageClassMetric, Figure)>> {
    if network.message_classes().len() < 2 {
        return Vec::new();
    }
    network
        .class_ids()
        .map(|class_id| {
            let mut rate = Mixed::default();
            let mut latency = Mixed::default();
            for ((source, analysis), per_class) in network.sources().iter().zip(sources).zip(latencies) {
                let share: f64 =
                    source.message_classes.weighted().filter(|&(c, _)| c == class_id).map(|(_, p)| p).sum();
                if share <= 0.0 {
                    continue;
                }
                let throughput = analysis.metric(SourceMetric::Throughput);
                rate.add(share, throughput);
                let weight = throughput.and_then(|figure| figure.value).unwrap_or(0.0) * share;
                latency.add(weight, per_class.get(class_id.index()));
            }
            MessageClassMetric::ALL
                .iter()
                .map(|&metric| {
                    let figure = match metric {
                        MessageClassMetric::Throughput => rate.sum("Σ sources' delivered rate × class share"),
                        MessageClassMetric::LatencyMean => latency.mean(
                            "Σ visits × the class's own W, over the sources",
                            "no message of this class is delivered",
                        ),
                        _ => {
                            Figure::missing("none", "per-class latency percentiles have no closed form here")
                        }
                    };
                    (metric, figure)
                })
                .collect()
        })
        .collect()
}

/// The mean sojourn at each node of the messages of `source` (of class `class` only, when
/// given), where their wait or service differs from the node's mix.
///
/// # Formula
/// W_s(i) = W(i) + (Wq_s(i) − Wq(i)) + (E[B_s(i)] − E[B(i)]): under FIFO every message waits
/// Wq(i); under priorities a source's messages wait as their priority classes do; E[B_s(i)] is
/// the mean service of the source's (class's) messages, E[B(i)] that of the node's whole mix
/// (`effective`'s service).
pub(super) fn source_sojourns(
    network: &Network,
    effective: &Network,
    streams: &Streams,
    source: &Source,
    class: Option<MessageClassId>,
    nodes: &[NodeAnalysis],
) -> Vec<Option<Figure>> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let sojourn = node.metric(NodeMetric::MeanSojourn)?;
            let model = &network.nodes()[i];
            let own_service = match class {
                Some(class) => stream_moments(model, class, source).mean,
                None => source
                    .message_classes
                    .weighted()
                    .map(|(c, p)| p * stream_moments(model, c, source).mean)
                    .sum(),
            };
            let service_shift = own_service - effective.nodes()[i].service.mean();
            if model.discipline == Discipline::Preemptive && model.servers != Servers::Infinite {
                return Some(source_preemptive_sojourn(network, streams, source, i, node, own_service));
            }
            let queued = model.discipline != Discipline::Fifo && model.servers != Servers::Infinite;
            let (wait_shift, wait_exact) = if queued {
                let own = source_wait(network, source, i, node);
                let all = node.metric(NodeMetric::MeanWait);
                match (own.as_ref().and_then(|f| f.value), all.and_then(|f| f.value)) {
                    (Some(own_wait), Some(wait)) => {
                        (own_wait - wait, own.is_some_and(|f| f.exact) && all.is_some_and(|f| f.exact))
                    }
                    _ => return own.or_else(|| all.cloned()),
                }
            } else {
                (0.0, true)
            };
            if wait_shift == 0.0 && service_shift == 0.0 {
                return Some(sojourn.clone());
            }
            Some(match sojourn.value {
                Some(w) => Figure::labelled(
                    w + wait_shift + service_shift,
                    sojourn.exact && wait_exact,
                    &sojourn.method,
                ),
                None => sojourn.clone(),
            })
        })
        .collect()
}

/// A weighted sum or mean of figures, exact when every part is, and missing when one is.
pub(super) struct Mixed {
    weight: f64,
    total: f64,
    exact: bool,
    missing: Option<Figure>,
}

impl Default for Mixed {
    fn default() -> Self {
        Self { weight: 0.0, total: 0.0, exact: true, missing: None }
    }
}

impl Mixed {
    /// Adds `figure` with weight `weight`.
    pub(super) fn add(&mut self, weight: f64, figure: Option<&Figure>) {
        match figure {
            Some(Figure { value: Some(value), exact, .. }) => {
                self.weight += weight;
                self.total += weight * value;
                self.exact &= *exact;
            }
            Some(figure) => self.missing = Some(figure.clone()),
            None => self.missing = Some(Figure::missing("none", "a part of the mix has no figure")),
        }
    }

    /// The weighted sum.
    fn sum(&self, method: &str) -> Figure {
        self.missing.clone().unwrap_or_else(|| Figure::labelled(self.total, self.exact, method))
    }

    /// The weighted mean; `empty` says why there is none when nothing of weight was added.
    pub(super) fn mean(&self, method: &str, empty: &str) -> Figure {
        match &self.missing {
            Some(figure) => figure.clone(),
            None if self.weight > 0.0 => Figure::labelled(self.total / self.weight, self.exact, method),
            None => Figure::missing(method, empty),
        }
    }
}

/// The mean sojourn at preemptive node `index` of the messages of `source` whose own mean
/// service there is `own`: [`preemptive_sojourn`] over the source's priorities.
fn source_preemptive_sojourn(
    network: &Network,
    streams: &Streams,
    source: &Source,
    index: usize,
    node: &NodeAnalysis,
    own: f64,
) -> Figure {
    let mut mixed = Mixed::default();
    for (priority, p) in source_priorities(source) {
        let rank = network.class_of(priority);
        mixed.add(p, preemptive_sojourn(network, streams, index, node, rank, own).as_ref());
    }
    mixed.mean("preemptive-resume priority, with the messages' own service", "the source sends nothing here")
}

/// A source's priorities with their probabilities (priority 0 when it gives none).
fn source_priorities(source: &Source) -> Vec<(u8, f64)> {
    match &source.priorities {
        Some(choice) => choice.weighted().collect(),
        None => vec![(0, 1.0)],
    }
}

/// The mean wait at node `index` of the messages of `source` (its priority mix under a
/// priority discipline).
fn source_wait(network: &Network, source: &Source, index: usize, node: &NodeAnalysis) -> Option<Figure> {
    let model = &network.nodes()[index];
    if model.discipline == Discipline::Fifo || model.servers == Servers::Infinite {
        return node.metric(NodeMetric::MeanWait).cloned();
    }
    let mut mixed = Mixed::default();
    for (priority, p) in source_priorities(source) {
        let figures = node.priority_classes.get(network.class_of(priority))?;
        let wait = figures.iter().find(|(metric, _)| *metric == NodeClassMetric::MeanWait).map(|(_, f)| f);
        mixed.add(p, wait);
    }
    Some(mixed.mean("priority classes' waits", "the source sends nothing here"))
}
