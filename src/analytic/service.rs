//! The service a node gives the mix of messages reaching it. Service can depend on a message's
//! class (`service_by_class`) and size (`per_byte`); the formulas used here depend on the
//! service only through its first two moments, mixed over the message streams that visit the
//! node.

use super::linear::SingularMatrix;
use super::traffic::SourceFlow;
use crate::model::{Distribution, MessageClassId, Network, Node, Source};

/// The first two moments of a service time, in seconds and seconds squared.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Moments {
    /// E\[B\].
    pub mean: f64,
    /// E\[B²\].
    pub square: f64,
}

impl Moments {
    /// The squared coefficient of variation, Var\[B\]/E\[B\]².
    pub fn scv(self) -> f64 {
        (self.square / (self.mean * self.mean) - 1.0).max(0.0)
    }
}

/// A weighted mixture of service moments.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Mixture {
    /// Total weight: messages per second (per unit of a closed population's throughput).
    pub rate: f64,
    first: f64,
    second: f64,
}

impl Mixture {
    fn add(&mut self, rate: f64, moments: Moments) {
        self.rate += rate;
        self.first += rate * moments.mean;
        self.second += rate * moments.square;
    }

    /// The mixture's moments (zero when nothing was added).
    pub fn moments(self) -> Moments {
        if self.rate > 0.0 {
            Moments { mean: self.first / self.rate, square: self.second / self.rate }
        } else {
            Moments::default()
        }
    }
}

/// The moments of the service B = S_c + b·Z that `node` gives a message of class `class` from
/// `source`: S_c its class's service time, b the node's seconds per byte, Z the source's size.
pub(super) fn stream_moments(node: &Node, class: MessageClassId, source: &Source) -> Moments {
    let service = node.service_for(class);
    let (s, b) = (service.mean(), node.per_byte);
    let (z, z_square) = source.size.as_ref().map_or((0.0, 0.0), |size| {
        let mean = size.mean();
        (mean, mean * mean * (1.0 + size.scv()))
    });
    Moments { mean: s + b * z, square: s * s * (1.0 + service.scv()) + 2.0 * b * s * z + b * b * z_square }
}

/// The message streams visiting each node: for every node, every (source, class) pair with
/// the rate at which its messages visit (uncapped traffic equations; a closed population counts
/// per unit of its throughput).
pub(super) struct Streams {
    /// `visits[s][i]`: visits to node i per message of source s.
    visits: Vec<Vec<f64>>,
}

impl Streams {
    /// Solves every source's visit equations.
    pub fn of(graphs: &[SourceFlow]) -> Result<Self, SingularMatrix> {
        let visits = graphs.iter().map(|graph| graph.visits(&[])).collect::<Result<_, _>>()?;
        Ok(Self { visits })
    }

    /// Every stream visiting node `index` with its rate, source and class, for the messages of
    /// priority classes `priority_rank` accepts (by the network's rank of their priority).
    fn at<'a>(
        &'a self,
        network: &'a Network,
        index: usize,
        priority_rank: impl Fn(usize) -> bool + 'a,
    ) -> impl Iterator<Item = (f64, &'a Source, MessageClassId)> + 'a {
        network.sources().iter().zip(&self.visits).flat_map(move |(source, visits)| {
            let rate = source.open_rate().unwrap_or(1.0) * visits[index];
            let priorities: f64 = match &source.priorities {
                Some(choice) => choice
                    .weighted()
                    .filter(|&(p, _)| priority_rank(network.class_of(p)))
                    .map(|(_, w)| w)
                    .sum(),
                None if priority_rank(network.class_of(0)) => 1.0,
                None => 0.0,
            };
            source.message_classes.weighted().map(move |(class, p)| (rate * priorities * p, source, class))
        })
    }

    /// The service mixture at node `index` over the messages of message class `class` (every
    /// class when `None`) and of the priority classes `priority_rank` accepts.
    pub fn mixture(
        &self,
        network: &Network,
        index: usize,
        class: Option<MessageClassId>,
        priority_rank: impl Fn(usize) -> bool,
    ) -> Mixture {
        let node = &network.nodes()[index];
        let mut mixture = Mixture::default();
        for (rate, source, stream_class) in self.at(network, index, priority_rank) {
            if rate > 0.0 && class.is_none_or(|c| c == stream_class) {
                mixture.add(rate, stream_moments(node, stream_class, source));
            }
        }
        mixture
    }

    /// The mixture of each priority class (0 the highest) at node `index`.
    pub fn per_priority(&self, network: &Network, index: usize) -> Vec<Mixture> {
        (0..network.priorities().len())
            .map(|rank| self.mixture(network, index, None, |r| r == rank))
            .collect()
    }

    /// The one service distribution every message reaching node `index` takes, when there is
    /// one: no per-byte part, and the same distribution for every class that arrives.
    fn common_service<'a>(&self, network: &'a Network, index: usize) -> Option<&'a Distribution> {
        let node = &network.nodes()[index];
        if node.per_byte != 0.0 {
            return None;
        }
        let mut services = self
            .at(network, index, |_| true)
            .filter(|&(rate, _, _)| rate > 0.0)
            .map(|(_, _, class)| node.service_for(class));
        let first = services.next().unwrap_or(&node.service);
        services.all(|service| service == first).then_some(first)
    }
}

/// The network with each node's service replaced by one distribution with the moments of the
/// mix of messages reaching it, where class or size makes the service vary; a node whose
/// messages all take one distribution keeps it (an exponential service stays exponential).
///
/// # Formula
/// E\[B\] = Σ w E\[B_w\] / Σ w and E\[B²\] = Σ w E\[B_w²\] / Σ w over the streams w (source, class)
/// visiting the node, with E\[B_w\] = E\[S_c\] + b E\[Z\], E\[B_w²\] = E\[S_c²\] + 2b E\[S_c\] E\[Z\] + b² E\[Z²\].
pub(super) fn with_effective_service(
    network: &Network,
    graphs: &[SourceFlow],
) -> Result<Network, SingularMatrix> {
    let plain = |node: &Node| node.per_byte == 0.0 && node.class_service.iter().all(Option::is_none);
    if network.nodes().iter().all(plain) {
        return Ok(network.clone());
    }
    let streams = Streams::of(graphs)?;
    let services = network
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| match streams.common_service(network, i) {
            Some(common) => common.clone(),
            None => moment_matched(streams.mixture(network, i, None, |_| true).moments(), &node.service),
        })
        .collect();
    Ok(network.with_services(services))
}

/// Whether every class with traffic among `classes` (rate, mean service) has the same mean
/// service, to rounding.
pub(super) fn one_mean(classes: impl Iterator<Item = (f64, f64)> + Clone) -> bool {
    let total: f64 = classes.clone().map(|(rate, _)| rate).sum();
    let mean = classes.clone().map(|(rate, service)| rate * service).sum::<f64>() / total;
    classes.clone().all(|(rate, service)| rate == 0.0 || (service - mean).abs() <= 1e-12 * mean)
}

/// A distribution with the given moments: deterministic without variance, else gamma (the
/// formulas here read only the two moments); `fallback` when no messages arrive.
fn moment_matched(moments: Moments, fallback: &Distribution) -> Distribution {
    let scv = moments.scv();
    let matched = if scv < 1e-12 {
        Distribution::deterministic(moments.mean)
    } else {
        Distribution::gamma(moments.mean, scv.sqrt().min(100.0))
    };
    matched.unwrap_or_else(|_| fallback.clone())
}
