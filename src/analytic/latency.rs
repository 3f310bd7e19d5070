//! Each source's end-to-end figures: throughput, the fraction of its messages delivered, the
//! time it is held back by a full queue, and its latency (through forks and joins too).

use super::classes::source_sojourns;
use super::linear::SingularMatrix;
use super::results::{Figure, NodeAnalysis, SourceAnalysis};
use super::service::Streams;
use super::sparse::solve_sparse;
use super::traffic::{Flows, SourceFlow};
use crate::format::number;
use crate::model::{Discipline, ExchangeKind, Metric, Network, Node, NodeMetric, Overflow, Servers};
use crate::model::{Source, SourceMetric, Target};

/// Every source's figures, and each source's mean latency per message class (when the network
/// has several). `original` is the network before its services were reduced to one per node.
pub(super) fn analyze_sources(
    original: &Network,
    network: &Network,
    streams: &Streams,
    flow: &Flows,
    graphs: &[SourceFlow],
    nodes: &[NodeAnalysis],
) -> Result<(Vec<SourceAnalysis>, Vec<Vec<Figure>>), SingularMatrix> {
    let exchanges = network.exchanges().len();
    // Finite queues drop; an overloaded unbounded queue only delays (its backlog grows), so it
    // lowers the throughput but not the fraction of messages that are eventually delivered.
    let kept: Vec<f64> = network
        .nodes()
        .iter()
        .zip(&flow.pass_fraction)
        .map(
            |(node, &pass)| {
                if node.capacity.is_some() && node.overflow != Overflow::Block { pass } else { 1.0 }
            },
        )
        .chain(std::iter::repeat_n(1.0, exchanges))
        .collect();
    let passed = flow.vertex_pass(exchanges);
    let mut sources = Vec::with_capacity(network.sources().len());
    let mut class_latencies = Vec::with_capacity(network.sources().len());
    for (source, graph) in network.sources().iter().zip(graphs) {
        let Some(entry) = graph.entry else { continue };
        let v = graph.visits(&[])?;
        let visited: Vec<usize> = (0..nodes.len()).filter(|&i| v[i] > 1e-12).collect();
        let drops_exact =
            visited.iter().all(|&i| nodes[i].metric(NodeMetric::DropProbability).is_some_and(|f| f.exact));
        let all_stable =
            visited.iter().all(|&i| nodes[i].stable || !network.nodes()[i].has_unbounded_queue());
        let rates_exact =
            visited.iter().all(|&i| nodes[i].metric(NodeMetric::Throughput).is_some_and(|f| f.exact));
        let sojourns = source_sojourns(original, network, streams, source, None, nodes);
        let copies = Copies::solve(graph, &kept, &sojourns)?;
        let delivered_passed = if passed == kept {
            copies.delivered[entry]
        } else {
            Copies::solve(graph, &passed, &sojourns)?.delivered[entry]
        };
        let throughput = source.open_rate().unwrap_or(0.0) * delivered_passed;
        let lower =
            flow.pass_lower.iter().copied().chain(std::iter::repeat_n(1.0, exchanges)).collect::<Vec<_>>();
        let throttled = network.nodes().get(entry).filter(|node| node.overflow == Overflow::Block);
        let throughput_unknown =
            if let Some(unknown) = throttled.and(flow.unknown.get(entry)).and_then(Option::as_ref) {
                Some(format!(
                    "{}; at most its rate, {}/s",
                    unknown.reason,
                    number(source.open_rate().unwrap_or(0.0))
                ))
            } else if lower != passed {
                let least = source.open_rate().unwrap_or(0.0)
                    * Copies::solve(graph, &lower, &sojourns)?.delivered[entry];
                let unknown = visited.iter().find_map(|&i| flow.unknown[i].as_ref());
                (least < throughput * (1.0 - 1e-12)).then(|| {
                    let why = unknown.map_or("no closed form", |u| u.reason.as_str());
                    format!("{why}; between {}/s and {}/s", number(least), number(throughput))
                })
            } else {
                None
            };
        let multicast = graph.copies_messages();
        let delivered = copies.delivered_fraction(entry);
        let hold = |latency: Figure| with_entry_hold(latency, network, flow, entry, source.open_rate());
        let forked = fork_join_latency(network, source, graph, &copies, nodes, &sojourns)?;
        let latency = match &forked {
            Some(latency) => latency.clone(),
            None => hold(copies.latency(entry, &visited, &sojourns, nodes)),
        };
        // Per message class, when there are several: the same with the class's own sojourns.
        let mut latencies = Vec::new();
        for class in original.class_ids().filter(|_| original.message_classes().len() > 1) {
            latencies.push(if forked.is_some() {
                Figure::missing("none", "per-class latency through a fork/join has no closed form here")
            } else {
                let sojourns = source_sojourns(original, network, streams, source, Some(class), nodes);
                hold(Copies::solve(graph, &kept, &sojourns)?.latency(entry, &visited, &sojourns, nodes))
            });
        }
        class_latencies.push(latencies);
        let mut metrics = Vec::with_capacity(SourceMetric::ALL.len());
        for &metric in SourceMetric::ALL {
            let figure = match metric {
                SourceMetric::Throughput if throughput_unknown.is_some() => {
                    Figure::missing("traffic equations", throughput_unknown.clone().unwrap_or_default())
                }
                SourceMetric::Throughput => Figure::labelled(
                    throughput,
                    drops_exact && all_stable && rates_exact,
                    "traffic equations",
                ),
                SourceMetric::DeliveredFraction => {
                    Figure::labelled(delivered, drops_exact, "absorption probabilities (expected copies)")
                }
                SourceMetric::LatencyMean => latency.clone(),
                SourceMetric::BlockedFraction => source_blocking(network, flow, nodes, entry),
                SourceMetric::AllDeliveredFraction
                | SourceMetric::AllLatencyMean
                | SourceMetric::AllLatencyP99
                    if multicast =>
                {
                    Figure::missing(
                        "none",
                        "delivery to every copy of a multicast message has no closed form here",
                    )
                }
                SourceMetric::AllDeliveredFraction => {
                    Figure::labelled(delivered, drops_exact, "absorption probabilities (expected copies)")
                }
                SourceMetric::AllLatencyMean => latency.clone(),
                quantile if multicast => {
                    let _ = quantile;
                    Figure::missing("none", "percentiles of multicast copies have no closed form here")
                }
                quantile => latency_quantile(network, &v, &visited, nodes, quantile),
            };
            metrics.push((metric, figure));
        }
        sources.push(SourceAnalysis { name: source.name.clone(), metrics });
    }
    Ok((sources, class_latencies))
}

/// Expected copies delivered and dropped, and their summed latency, per message at each vertex.
struct Copies {
    /// C_i: copies eventually delivered.
    delivered: Vec<f64>,
    /// D_i: copies eventually dropped (full queues or unroutable).
    dropped: Vec<f64>,
    /// R_i: sum of the remaining latencies of the delivered copies (`None` when some node on the
    /// way has no mean sojourn).
    latency_sum: Option<Vec<f64>>,
    /// Whether every mean sojourn used was exact.
    exact: bool,
}

impl Copies {
    /// The copies of one source's messages from every vertex, passing each with the fraction
    /// `pass`.
    ///
    /// # Formula
    /// With A = I − Q F (F the expected copies between vertices, Q the pass fractions):
    /// A C = Q e_exit; A D = (1 − q) + u (u the unroutable drops);
    /// A R = W ∘ C + Q Σ_routes p·E\[delay\]·C_target (C_exit = 1).
    /// `sojourns` holds the mean sojourn at each node of the messages followed.
    fn solve(graph: &SourceFlow, pass: &[f64], sojourns: &[Option<Figure>]) -> Result<Self, SingularMatrix> {
        let vertices = graph.to_exit.len();
        let q = |i: usize| pass.get(i).copied().unwrap_or(1.0);
        let matrix = graph.passed(pass);
        let delivered =
            solve_sparse(&matrix, &(0..vertices).map(|i| q(i) * graph.to_exit[i]).collect::<Vec<_>>())?;
        let dropped = solve_sparse(
            &matrix,
            &(0..vertices).map(|i| 1.0 - q(i) + graph.unroutable[i]).collect::<Vec<_>>(),
        )?;
        // Only the vertices this source's messages reach count.
        let reached = graph.visits(&[])?;
        // Each vertex's term of W ∘ C + Q Σ p·E[delay]·C_target, with whether its sojourn is
        // exact; none at all when copies are delivered through a node without a mean sojourn.
        let terms: Option<Vec<(f64, bool)>> = (0..vertices)
            .map(|i| {
                if reached[i] <= 1e-12 {
                    return Some((0.0, true));
                }
                let in_transit: f64 = graph.delays[i]
                    .iter()
                    .map(|&(target, mean)| mean * target.map_or(1.0, |t| delivered[t]))
                    .sum::<f64>()
                    * q(i);
                match sojourns.get(i).and_then(Option::as_ref) {
                    None => Some((in_transit, true)),
                    Some(Figure { value: Some(w), exact, .. }) => {
                        Some((w * delivered[i] + in_transit, *exact))
                    }
                    Some(_) if delivered[i] > 1e-12 => None,
                    Some(_) => Some((in_transit, true)),
                }
            })
            .collect();
        let exact = terms.iter().flatten().all(|&(_, exact)| exact);
        let latency_sum = terms
            .map(|terms| solve_sparse(&matrix, &terms.into_iter().map(|(term, _)| term).collect::<Vec<_>>()))
            .transpose()?;
        Ok(Self { delivered, dropped, latency_sum, exact })
    }

    /// The fraction of the copies leaving vertex `entry` that are delivered.
    fn delivered_fraction(&self, entry: usize) -> f64 {
        let total = self.delivered[entry] + self.dropped[entry];
        if total > 0.0 { self.delivered[entry] / total } else { 0.0 }
    }

    /// Mean latency per delivered copy, R/C at the entry; exact when every sojourn on the way is
    /// exact and nothing is dropped.
    fn latency(
        &self,
        entry: usize,
        visited: &[usize],
        sojourns: &[Option<Figure>],
        nodes: &[NodeAnalysis],
    ) -> Figure {
        let method = "Σ visits × W (Little)";
        let Some(sums) = &self.latency_sum else {
            let reasons: Vec<String> = visited
                .iter()
                .filter_map(|&i| {
                    let figure = sojourns[i].as_ref()?;
                    figure.value.is_none().then(|| {
                        format!("node '{}': {}", nodes[i].name, figure.reason.clone().unwrap_or_default())
                    })
                })
                .collect();
            return Figure::missing(method, format!("no mean sojourn at {}", reasons.join("; ")));
        };
        // Drops bias which messages get through, except through a single node.
        let lossless = self.dropped[entry] < 1e-12 || visited.len() == 1;
        Figure::labelled(sums[entry] / self.delivered[entry], self.exact && lossless, method)
    }
}

/// The mean latency of a source whose messages are forked into parallel branches and joined.
///
/// Returns `None` when no fork is on the way (the general formula applies), a figure without
/// value when there is one but not the canonical case: a Poisson source into a fork whose N
/// parts go to N single-server exponential nodes of equal speed, each routing straight to the
/// join.
///
/// # Formula
/// Nelson-Tantawi: E\[T_N\] = (H_N/H_2 + (4/11)(1 − H_N/H_2)ρ) × ((12 − ρ)/8) / (μ − λ), with H_N
/// the harmonic numbers; exact for N = 2 (Flatto-Hahn), an approximation beyond. The join's own
/// latency onward is added.
fn fork_join_latency(
    network: &Network,
    source: &Source,
    graph: &SourceFlow,
    copies: &Copies,
    nodes: &[NodeAnalysis],
    sojourns: &[Option<Figure>],
) -> Result<Option<Figure>, SingularMatrix> {
    let method = "fork/join (Nelson-Tantawi)";
    let reached = graph.visits(&[])?;
    let n = network.nodes().len();
    let forks: Vec<usize> = (0..network.exchanges().len())
        .filter(|&x| network.exchanges()[x].kind == ExchangeKind::Fork && reached[n + x] > 1e-12)
        .collect();
    if forks.is_empty() {
        return Ok(None);
    }
    let missing = || {
        Figure::missing(
            method,
            "fork/join latency has a closed form only for one Poisson source into identical M/M/1 branches joined directly",
        )
    };
    let (Some(entry), [fork], Some(lambda), true) =
        (graph.entry, forks.as_slice(), source.open_rate(), source.is_poisson())
    else {
        return Ok(Some(missing()));
    };
    let exchange = &network.exchanges()[*fork];
    let branches: Vec<&Node> = exchange
        .bindings
        .iter()
        .filter_map(|binding| match binding.target {
            Target::Node(id) => Some(network.node(id)),
            _ => None,
        })
        .collect();
    let join = branches.first().and_then(|b| match b.routing.branches().next().map(|r| r.target) {
        Some(Target::Node(id)) if network.node(id).join.is_some() => Some(id),
        _ => None,
    });
    let mu = branches.first().map_or(0.0, |b| b.service_rate());
    let canonical = entry == n + fork
        && exchange.parts == 1
        && branches.len() == exchange.bindings.len()
        && branches.len() >= 2
        && join.is_some()
        && branches.iter().all(|b| {
            b.servers == Servers::Finite(1)
                && b.service.is_exponential()
                && (b.service_rate() - mu).abs() <= 1e-12 * mu
                && b.has_unbounded_queue()
                && b.discipline == Discipline::Fifo
                && b.routing.branches().count() == 1
                && b.routing.branches().all(|r| r.delay.is_none() && Some(r.target) == join.map(Target::Node))
        });
    let (true, Some(join)) = (canonical, join) else { return Ok(Some(missing())) };
    let rho = lambda / mu;
    if rho >= 1.0 {
        return Ok(Some(Figure::missing(method, "the branches are unstable")));
    }
    #[allow(clippy::cast_precision_loss)]
    let harmonic = |k: usize| (1..=k).map(|i| 1.0 / i as f64).sum::<f64>();
    let ratio = harmonic(branches.len()) / harmonic(2);
    let synchronised = (ratio + 4.0 / 11.0 * (1.0 - ratio) * rho) * (12.0 - rho) / 8.0 / (mu - lambda);
    let onward = copies.latency(join.index(), &[join.index()], sojourns, nodes);
    let Some(after) = onward.value else { return Ok(Some(missing())) };
    let exact = branches.len() == 2 && onward.exact;
    Ok(Some(Figure::labelled(synchronised + after, exact, method)))
}

/// Adds to the latency the time a message waits at its source when the blocking queue it
/// enters is full.
///
/// # Formula
/// A message finds the queue full with probability p_K/(1 − p_{K+1}) (the source produces
/// only in states 0..K), then waits for the next of c departures, 1/(cμ); with
/// p_K = p_{K+1} cμ/λ this is p_{K+1}/(λ(1 − p_{K+1})).
fn with_entry_hold(
    latency: Figure,
    network: &Network,
    flow: &Flows,
    entry: usize,
    rate: Option<f64>,
) -> Figure {
    let (Some(node), Some(lambda), Some(mean)) = (network.nodes().get(entry), rate, latency.value) else {
        return latency;
    };
    if node.overflow != Overflow::Block {
        return latency;
    }
    let held = 1.0 - flow.pass_fraction[entry];
    let hold = if held > 0.0 { held / (lambda * (1.0 - held)) } else { 0.0 };
    Figure {
        value: Some(mean + hold),
        method: format!("{} + time held at the source", latency.method),
        ..latency
    }
}

/// The time-averaged number of a source's messages held back by a full blocking queue: the
/// probability that its target is full with a message waiting outside (1 − admitted/offered).
fn source_blocking(network: &Network, flow: &Flows, nodes: &[NodeAnalysis], entry: usize) -> Figure {
    match network.nodes().get(entry) {
        Some(node) if node.overflow == Overflow::Block && flow.unknown[entry].is_some() => {
            Figure::missing("none", flow.unknown[entry].as_ref().map_or("", |u| u.reason.as_str()))
        }
        Some(node) if node.overflow == Overflow::Block => {
            let exact = nodes[entry].metric(NodeMetric::Throughput).is_some_and(|f| f.exact);
            Figure::labelled(1.0 - flow.pass_fraction[entry], exact, "birth-death on 0..K+1")
        }
        _ => Figure::exact(0.0, "no blocking queue at the entry"),
    }
}

/// Latency percentiles: exact only when the message visits one M/M/c node exactly once.
fn latency_quantile(
    network: &Network,
    v: &[f64],
    visited: &[usize],
    nodes: &[NodeAnalysis],
    metric: SourceMetric,
) -> Figure {
    let node_metric = match metric {
        SourceMetric::LatencyP50 => NodeMetric::SojournP50,
        SourceMetric::LatencyP95 => NodeMetric::SojournP95,
        _ => NodeMetric::SojournP99,
    };
    match visited {
        [only] if (v[*only] - 1.0).abs() < 1e-12 && network.nodes()[*only].capacity.is_none() => nodes[*only]
            .metric(node_metric)
            .cloned()
            .unwrap_or_else(|| Figure::missing("none", "no node figure")),
        _ => Figure::missing(
            "none",
            "end-to-end percentiles have a closed form only through a single M/M/c node",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::{TANDEM, analysis};

    #[test]
    fn tandem_latency_is_the_sum_of_sojourns() {
        // a: M/M/1, W = 1/(4 − 2) = 0.5 s. b: M/M/2 with a = 1.6, ρ = 0.8:
        // Erlang C(2, 1.6) = 2ρ²/(1 + ρ) = 1.28/1.8 = 0.711111; Wq = C/(2 × 1.25 − 2) = 1.422222 s;
        // W = 1.422222 + 0.8 = 2.222222 s. Latency = 0.5 + 2.222222 = 2.722222 s (Burke: b's input is Poisson).
        let analysis = analysis(TANDEM);
        let latency = analysis.sources[0].metric(SourceMetric::LatencyMean).unwrap();
        assert!(latency.exact);
        assert!((latency.value.unwrap() - (0.5 + 0.8 + 0.711_111_111_111_111_1 / 0.5)).abs() < 1e-9);
    }
}
