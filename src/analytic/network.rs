//! Analysis of a whole open network without simulating: traffic equations, per-node stability
//! and closed-form figures (each labelled exact or approximate, with its method), the bottleneck,
//! the headroom, and per-source end-to-end figures.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::classes::{message_class_figures, network_class_figures, source_sojourns};
use super::linear::{SingularMatrix, solve};
use super::service::{Streams, with_effective_service};
use super::station::{self, StationMetrics};
use super::traffic::{Flows, SourceFlow, flows, source_flows, vertex};
use crate::model::{ClassMetric, Discipline, ExchangeKind, Network, Node, Overflow, Servers, Target};
use crate::model::{MessageClassMetric, Metric, NodeMetric, SourceMetric};

/// Default number of messages for "time until the queue holds N" on an unbounded node.
pub const DEFAULT_FILL_TARGET: f64 = 1e6;

/// Largest factor searched for the headroom.
const MAX_HEADROOM: f64 = 1e15;

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
    pub(super) fn exact(value: f64, method: &str) -> Self {
        Self { value: finite(value), exact: true, method: method.to_owned(), reason: None }
    }

    pub(super) fn approximate(value: f64, method: &str) -> Self {
        Self { value: finite(value), exact: false, method: method.to_owned(), reason: None }
    }

    pub(super) fn labelled(value: f64, exact: bool, method: &str) -> Self {
        Self { value: finite(value), exact, method: method.to_owned(), reason: None }
    }

    pub(super) fn missing(method: &str, reason: impl Into<String>) -> Self {
        Self { value: None, exact: false, method: method.to_owned(), reason: Some(reason.into()) }
    }
}

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
    /// Offered load per worker, ρ = λ/(cμ); may exceed 1.
    pub utilization: f64,
    /// Messages completing service per second.
    pub throughput: f64,
    /// Whether ρ < 1.
    pub stable: bool,
    /// "stable", "saturated" (a finite channel at ρ ≥ 1, dropping) or "unstable" (an unbounded
    /// queue at ρ ≥ 1, growing without bound).
    pub verdict: &'static str,
    /// Rate at which the node's queue grows, λ − cμ messages per second (0 when stable).
    pub growth_rate: f64,
    /// Messages at which `time_to_fill` is measured: the capacity if bounded, else the user's N.
    pub fill_target: f64,
    /// Seconds until the queue holds `fill_target` messages, starting empty; `None` when stable.
    pub time_to_fill: Option<f64>,
    /// Per metric key, the theoretical figure.
    pub metrics: Vec<(NodeMetric, Figure)>,
    /// Per priority class (0 the highest), for nodes with a priority discipline.
    pub classes: Vec<Vec<(ClassMetric, Figure)>>,
    /// Per message class, when the network has several.
    pub message_classes: Vec<Vec<(ClassMetric, Figure)>>,
}

/// What theory says about the system as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemAnalysis {
    /// Whether every unbounded queue is stable.
    pub stable: bool,
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
    pub classes: Vec<Vec<(MessageClassMetric, Figure)>>,
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

/// Analyses `network`; `fill_target` is the N of "time until an unbounded queue holds N"
/// (default [`DEFAULT_FILL_TARGET`]).
///
/// # Errors
/// When the traffic equations are singular.
pub fn analyze(network: &Network, fill_target: Option<f64>) -> Result<Analysis, AnalysisError> {
    let original = network;
    let effective = with_effective_service(network, &source_flows(network))?;
    let network = &effective;
    if network.sources().iter().any(|source| source.open_rate().is_none()) {
        return Ok(super::closed::analyze_closed(network)?);
    }
    let flow = flows(network, 1.0)?;
    let graphs = source_flows(network);
    let streams = Streams::of(&graphs)?;
    let demand = demand_rates(network, &graphs)?;
    let shape = Shape::of(network, &flow, &graphs);
    let nodes: Vec<NodeAnalysis> = network
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let mut analysis = analyze_node(node, i, &flow, demand[i], &shape, fill_target);
            let poisson = shape.poisson_input[i] || shape.jackson[i];
            analysis.classes = super::priority::class_figures(original, &streams, i, poisson);
            super::priority::with_class_means(original, &streams, i, &mut analysis);
            analysis.message_classes = message_class_figures(original, &streams, i, &analysis);
            analysis
        })
        .collect();
    let (sources, class_latencies) = analyze_sources(original, network, &streams, &flow, &graphs, &nodes)?;
    let system = analyze_system(network, &nodes)?;
    let classes = network_class_figures(original, &sources, &class_latencies);
    Ok(Analysis { system, nodes, sources, classes })
}

/// Arrival rates at the nodes ignoring every cap: the linear traffic equations.
fn demand_rates(network: &Network, graphs: &[SourceFlow]) -> Result<Vec<f64>, SingularMatrix> {
    let mut rates = vec![0.0; network.nodes().len()];
    for (source, graph) in network.sources().iter().zip(graphs) {
        for (rate, v) in rates.iter_mut().zip(graph.visits(&[])?) {
            *rate += source.open_rate().unwrap_or(0.0) * v;
        }
    }
    Ok(rates)
}

/// Which nodes see Poisson arrivals, and which form a Jackson (product-form) sub-network.
/// Exchanges are transparent: splitting a Poisson stream by independent keys, or copying it,
/// gives Poisson streams.
struct Shape {
    /// The arrival process at the node is Poisson.
    poisson_input: Vec<bool>,
    /// The node and everything upstream of it are M/M/c with unbounded, stable queues fed by
    /// Poisson sources: product form holds, M/M/c results are exact even with feedback.
    jackson: Vec<bool>,
    /// The arrival SCV when the node is fed by exactly one renewal source and nothing else.
    single_source_scv: Vec<Option<f64>>,
    /// The node routes to a blocking channel, so its workers can be held up by it: no closed
    /// form accounts for that.
    blocked_downstream: Vec<bool>,
    /// The node receives several parts of a fork at once (batch arrivals).
    batched: Vec<bool>,
    /// The node's arrival rate is exact: no state-dependent balancer (shortest queue, power of
    /// two, least loaded) upstream, whose split depends on the queues.
    rate_exact: Vec<bool>,
}

impl Shape {
    fn of(network: &Network, flow: &Flows, graphs: &[SourceFlow]) -> Self {
        let n = network.nodes().len();
        let edges = edges(network, graphs);
        let reach = closure(&edges, |_| true);
        // Reached from a vertex without passing through a node (through exchanges only).
        let direct = closure(&edges, |via| via >= n);
        let markovian: Vec<bool> = network
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, node)| {
                node.service.is_exponential()
                    && node.has_unbounded_queue()
                    && flow.pass_fraction[i] >= 1.0
                    && !overloaded(node, flow.arrival_rate[i])
            })
            .collect();
        let feeders = |i: usize| -> Vec<&crate::model::Source> {
            network
                .sources()
                .iter()
                .zip(graphs)
                .filter(|(_, g)| g.entry.is_some_and(|e| e == i || direct[e][i]))
                .map(|(s, _)| s)
                .collect()
        };
        let fed_by_poisson = |i: usize| feeders(i).iter().all(|s| s.is_poisson());
        // Downstream of a balancer other than random, arrivals are not Poisson (round-robin
        // gives Erlang gaps; the others depend on the queues).
        let after = |pick: fn(ExchangeKind) -> bool| -> Vec<bool> {
            (0..n)
                .map(|i| network.exchanges().iter().enumerate().any(|(x, e)| pick(e.kind) && reach[n + x][i]))
                .collect()
        };
        let after_non_poisson = after(|kind| kind.is_balancer() && kind != ExchangeKind::Random);
        // Expiry removes an unknown share of a TTL node's messages before service.
        let after_ttl: Vec<bool> = (0..n)
            .map(|i| network.nodes().iter().enumerate().any(|(j, node)| node.ttl.is_some() && reach[j][i]))
            .collect();
        let rate_exact: Vec<bool> = after(ExchangeKind::is_state_dependent)
            .iter()
            .zip(&after_ttl)
            .map(|(&balanced, &expiring)| !balanced && !expiring)
            .collect();
        let mut poisson_input = vec![false; n];
        let mut jackson = vec![false; n];
        for i in 0..n {
            let upstream: Vec<usize> = (0..n).filter(|&j| j != i && reach[j][i]).collect();
            let upstream_ok = upstream.iter().all(|&j| markovian[j] && fed_by_poisson(j))
                && fed_by_poisson(i)
                && !after_non_poisson[i];
            poisson_input[i] = upstream_ok && !reach[i][i];
            jackson[i] = upstream_ok && markovian[i];
        }
        let single_source_scv = (0..n)
            .map(|i| {
                let fed_by_nodes = (0..n).any(|j| direct[j][i]);
                match (feeders(i).as_slice(), fed_by_nodes) {
                    ([only], false) => {
                        only.open_rate().map(|_| only.gap().scv() / round_robin_share(network, only, i))
                    }
                    _ => None,
                }
            })
            .collect();
        let blocked_downstream = network
            .nodes()
            .iter()
            .map(|node| {
                node.routing.branches().any(|route| {
                    matches!(route.target, Target::Node(next) if network.node(next).overflow == Overflow::Block)
                })
            })
            .collect();
        let batched = (0..n)
            .map(|i| {
                network.exchanges().iter().any(|exchange| {
                    exchange.kind == ExchangeKind::Fork
                        && exchange
                            .targets(None)
                            .iter()
                            .filter(|&&t| matches!(t, Target::Node(id) if id.index() == i))
                            .count()
                            > 1
                })
            })
            .collect();
        Self { poisson_input, jackson, single_source_scv, rate_exact, blocked_downstream, batched }
    }
}

/// The number of targets a source's round-robin exchange deals its messages to, when node
/// `index` is one of them (1 otherwise): each target then sees every n-th gap, a sum of n gaps,
/// whose SCV is the source's divided by n.
fn round_robin_share(network: &Network, source: &crate::model::Source, index: usize) -> f64 {
    match source.target {
        Target::Exchange(id) if network.exchange(id).kind == ExchangeKind::RoundRobin => {
            let targets = network.exchange(id).targets(None);
            if targets.contains(&Target::Node(crate::model::NodeId(u32::try_from(index).unwrap_or(u32::MAX))))
            {
                #[allow(clippy::cast_precision_loss)]
                let n = targets.len() as f64;
                n
            } else {
                1.0
            }
        }
        _ => 1.0,
    }
}

/// edges[i][j]: some source's messages can go from vertex i to vertex j in one hop (by a route,
/// a binding, or dead-lettering).
fn edges(network: &Network, graphs: &[SourceFlow]) -> Vec<Vec<bool>> {
    let vertices = network.nodes().len() + network.exchanges().len();
    let mut edges: Vec<Vec<bool>> = (0..vertices)
        .map(|i| (0..vertices).map(|j| graphs.iter().any(|g| g.copies[i][j] > 0.0)).collect())
        .collect();
    for (i, node) in network.nodes().iter().enumerate() {
        if let Some(j) = node.dead_letter.and_then(|target| vertex(network, target)) {
            edges[i][j] = true;
        }
    }
    edges
}

/// reach[i][j]: vertex j can be reached from vertex i in one or more hops, passing only through
/// intermediate vertices `k` with `through(k)` (Floyd-Warshall).
fn closure(edges: &[Vec<bool>], through: impl Fn(usize) -> bool) -> Vec<Vec<bool>> {
    let mut reach = edges.to_vec();
    let vertices = reach.len();
    for k in (0..vertices).filter(|&k| through(k)) {
        let through_k = reach[k].clone();
        for row in &mut reach {
            if row[k] {
                for (cell, &via) in row.iter_mut().zip(&through_k) {
                    *cell |= via;
                }
            }
        }
    }
    reach
}

fn overloaded(node: &Node, lambda: f64) -> bool {
    lambda >= node.capacity_rate()
}

/// The closed form chosen for a node, with its name and whether it is exact here.
struct Model {
    metrics: Option<StationMetrics>,
    method: String,
    exact: bool,
    notation: String,
    /// Which closed form the wait and sojourn percentiles have.
    quantiles: Quantiles,
}

/// Closed forms for percentiles.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quantiles {
    /// None known.
    None,
    /// M/M/c FCFS waiting-time distribution.
    Mmc(u32),
    /// Infinitely many workers: no wait; the sojourn is the service time.
    Delay {
        /// Whether the service time is exponential (its quantiles then have a closed form).
        exponential: bool,
    },
}

fn choose_model(node: &Node, index: usize, lambda: f64, shape: &Shape) -> Model {
    let mu = node.service_rate();
    let mean_s = node.service.mean();
    let scv_s = node.service.scv();
    let service_letter = node.service.kendall_letter();
    let capacity = node.capacity.map_or_else(String::new, |k| format!("/{k}"));
    // A join releases a message when its last part arrives: not a Poisson stream in general.
    let poisson =
        (shape.poisson_input[index] || shape.jackson[index]) && !shape.batched[index] && node.join.is_none();
    let arrival_letter = if poisson { "M" } else { "G" };
    let notation = format!("{arrival_letter}/{service_letter}/{}{capacity}", node.servers);
    let model = |metrics, method: &str, exact, quantiles| Model {
        metrics,
        method: method.to_owned(),
        exact,
        notation: notation.clone(),
        quantiles,
    };
    let exponential = node.service.is_exponential();
    if shape.blocked_downstream[index] || shape.batched[index] {
        return model(None, "none", false, Quantiles::None);
    }
    let Servers::Finite(c) = node.servers else {
        // G/G/∞: L = λE[S], W = E[S], Wq = 0 whatever the arrival process.
        let quantiles = Quantiles::Delay { exponential };
        return model(Some(station::mg_inf(lambda, mean_s)), "M/G/∞ (no waiting)", true, quantiles);
    };
    match node.capacity {
        Some(k) if node.overflow == Overflow::Block => {
            // One Poisson source that stops while the channel is full: a birth-death chain on
            // 0..=K+1, state K+1 meaning "full, and the source holds a message".
            let single_poisson = poisson && shape.single_source_scv[index] == Some(1.0);
            let metrics =
                station::mmck(lambda, mu, c, k + 1).filter(|_| single_poisson && exponential).map(|m| {
                    let held = m.drop_probability;
                    let throughput = lambda * (1.0 - held);
                    let in_system = m.mean_in_system - held;
                    let in_queue = m.mean_in_queue - held;
                    StationMetrics {
                        throughput,
                        utilization: throughput / (f64::from(c) * mu),
                        mean_wait: in_queue / throughput,
                        mean_sojourn: in_system / throughput,
                        mean_in_queue: in_queue,
                        mean_in_system: in_system,
                        prob_wait: m.prob_wait,
                        drop_probability: 0.0,
                    }
                });
            let exact = metrics.is_some();
            model(
                metrics,
                "M/M/c/K with its Poisson source blocked (birth-death on 0..K+1)",
                exact,
                Quantiles::None,
            )
        }
        // Erlang's loss formula is insensitive to the service distribution.
        Some(k) if k == c && poisson && node.ttl.is_none() => model(
            Some(station::erlang_loss(lambda, mu, c)),
            "Erlang B (M/G/c/c loss system)",
            true,
            Quantiles::None,
        ),
        Some(k) if exponential => {
            model(station::mmck(lambda, mu, c, k), "M/M/c/K birth-death", poisson, Quantiles::None)
        }
        Some(_) => model(None, "none", false, Quantiles::None),
        None if exponential && poisson => {
            let method = if shape.jackson[index] && !shape.poisson_input[index] {
                "Jackson product form, M/M/c (Erlang C)"
            } else {
                "M/M/c (Erlang C)"
            };
            // Priorities reorder the queue: the FCFS waiting-time distribution no longer applies
            // (the mean does, by the conservation law, as every class has the same service).
            let quantiles =
                if node.discipline == Discipline::Fifo { Quantiles::Mmc(c) } else { Quantiles::None };
            model(station::mmc(lambda, mu, c), method, true, quantiles)
        }
        None if poisson && c == 1 => {
            model(station::mg1(lambda, mean_s, scv_s), "M/G/1 Pollaczek-Khinchine", true, Quantiles::None)
        }
        None => {
            let (arrival_scv, assumed) =
                shape.single_source_scv[index].map_or((1.0, " (arrival SCV 1 assumed)"), |scv| (scv, ""));
            let arrival_scv = if poisson { 1.0 } else { arrival_scv };
            if c == 1 {
                model(
                    station::kingman(lambda, mean_s, arrival_scv, scv_s),
                    &format!("G/G/1 Kingman{assumed}"),
                    false,
                    Quantiles::None,
                )
            } else {
                let method = format!("G/G/c Allen-Cunneen{assumed}");
                let metrics = station::allen_cunneen(lambda, mean_s, c, arrival_scv, scv_s);
                model(metrics, &method, false, Quantiles::None)
            }
        }
    }
}

fn analyze_node(
    node: &Node,
    index: usize,
    flow: &Flows,
    demand: f64,
    shape: &Shape,
    fill_target: Option<f64>,
) -> NodeAnalysis {
    let lambda = flow.arrival_rate[index];
    let rho = lambda / node.capacity_rate();
    let stable = rho < 1.0;
    // A queue that TTL expiry keeps bounded does not fill up; a finite channel fills to its
    // capacity; an unbounded one grows forever.
    // A finite channel fills up to its capacity at λ − cμ, then drops; an unbounded queue grows
    // at that rate forever; a queue that TTL expiry keeps bounded does neither.
    let fills = !stable && (node.capacity.is_some() || node.ttl.is_none());
    let fill_rate = lambda - node.capacity_rate();
    let growth_rate = if node.has_unbounded_queue() && !stable { fill_rate } else { 0.0 };
    let target = node.capacity.map_or(fill_target.unwrap_or(DEFAULT_FILL_TARGET), f64::from);
    let time_to_fill = fills.then(|| station::time_to_reach(fill_rate, 0.0, target)).flatten();
    let verdict = match (stable, node.has_unbounded_queue()) {
        (true, _) => "stable",
        (false, false) => "saturated",
        (false, true) => "unstable",
    };
    let model = choose_model(node, index, lambda, shape);
    let flags = (shape.rate_exact[index], shape.blocked_downstream[index]);
    let metrics = node_figures(node, lambda, flow, index, &model, verdict, flags);
    NodeAnalysis {
        name: node.name.clone(),
        model: model.notation,
        arrival_rate: lambda,
        demand_rate: demand,
        utilization: rho,
        throughput: flow.throughput(index),
        stable,
        verdict,
        growth_rate,
        fill_target: target,
        time_to_fill,
        metrics,
        classes: Vec::new(),
        message_classes: Vec::new(),
    }
}

fn node_figures(
    node: &Node,
    lambda: f64,
    flow: &Flows,
    index: usize,
    model: &Model,
    verdict: &str,
    (rate_exact, blocked_downstream): (bool, bool),
) -> Vec<(NodeMetric, Figure)> {
    let traffic = "traffic equations";
    let unbounded = node.capacity.is_none();
    let busy = if unbounded {
        (lambda / node.capacity_rate()).min(1.0)
    } else {
        flow.throughput(index) / node.capacity_rate()
    };
    // An overloaded queue is busy all the time only asymptotically (it starts empty).
    let busy_exact = rate_exact && if unbounded { verdict == "stable" } else { model.exact };
    let growth = if verdict == "unstable" { lambda - node.capacity_rate() } else { 0.0 };
    let missing_reason = if verdict == "unstable" {
        if growth > 0.0 {
            format!("unstable: the queue grows by {growth:.6} messages/s, so it has no steady state")
        } else {
            "critically loaded (ρ = 1): no steady state; the queue grows like the square root of time"
                .to_owned()
        }
    } else {
        format!("no closed form for {} with these arrivals", model.notation)
    };
    let mut figures = Vec::with_capacity(NodeMetric::ALL.len());
    for &metric in NodeMetric::ALL {
        let value = |pick: fn(&StationMetrics) -> f64| model.metrics.as_ref().map(pick);
        let station_figure = |value: Option<f64>| match value {
            Some(v) => Figure::labelled(v, model.exact, &model.method),
            None => Figure::missing(&model.method, missing_reason.clone()),
        };
        let figure = match metric {
            // A blocking channel is offered only what its throttled senders get in.
            NodeMetric::ArrivalRate if node.overflow == Overflow::Block => {
                Figure::labelled(flow.throughput(index), rate_exact && model.exact, traffic)
            }
            NodeMetric::ArrivalRate => Figure::labelled(lambda, rate_exact, traffic),
            NodeMetric::DropProbability if node.overflow == Overflow::Block => {
                Figure::exact(0.0, "blocking channel (never drops)")
            }
            NodeMetric::BlockedFraction if node.servers == Servers::Infinite => {
                Figure::missing("none", "undefined with infinitely many workers")
            }
            NodeMetric::BlockedFraction if blocked_downstream => {
                Figure::missing("none", "blocking between nodes has no closed form here")
            }
            NodeMetric::BlockedFraction => Figure::exact(0.0, "no blocking channel downstream"),
            // Asymptotic: over a finite window from an empty start the mean growth is positive.
            NodeMetric::QueueGrowthRate => Figure::approximate(growth, "fluid limit λ − cμ"),
            NodeMetric::ExpiredFraction if node.ttl.is_none() => Figure::exact(0.0, "no TTL"),
            NodeMetric::Throughput | NodeMetric::Utilization if node.ttl.is_some() => Figure::missing(
                traffic,
                "expired messages leave without service; expiry (impatience) has no closed form here",
            ),
            _ if node.ttl.is_some() => Figure::missing(
                "none",
                "expired messages leave without service; expiry (impatience) has no closed form here",
            ),
            NodeMetric::Throughput => {
                Figure::labelled(flow.throughput(index), busy_exact && rate_exact, traffic)
            }
            NodeMetric::Utilization if node.servers == Servers::Infinite => {
                Figure::missing("λ/(cμ)", "undefined with infinitely many workers: see mean_in_system")
            }
            NodeMetric::Utilization => Figure::labelled(busy, busy_exact, "λ/(cμ)"),
            NodeMetric::DropProbability if unbounded => Figure::exact(0.0, "unbounded channel"),
            NodeMetric::DropProbability => station_figure(value(|m| m.drop_probability)),
            NodeMetric::MeanInSystem => station_figure(value(|m| m.mean_in_system)),
            NodeMetric::MeanInQueue => station_figure(value(|m| m.mean_in_queue)),
            NodeMetric::MeanWait | NodeMetric::MeanSojourn
                if node.discipline == Discipline::Preemptive && !node.service.is_exponential() =>
            {
                Figure::missing(
                    &model.method,
                    "preemption changes the mean wait of non-exponential service; see the per-class figures",
                )
            }
            NodeMetric::MeanWait | NodeMetric::MeanSojourn if node.overflow == Overflow::DropHead => {
                Figure::missing(
                    &model.method,
                    "drop-head pushes waiting messages out, so the waits of served messages have no closed form here",
                )
            }
            NodeMetric::MeanWait => station_figure(value(|m| m.mean_wait)),
            NodeMetric::WaitProbability => station_figure(value(|m| m.prob_wait)),
            NodeMetric::MeanSojourn => station_figure(value(|m| m.mean_sojourn)),
            NodeMetric::SubscriberLatencyMean | NodeMetric::SubscriberLatencyP99 => Figure::missing(
                "none",
                "the end-to-end latency of what exits here depends on the whole path; see the source's latency_mean",
            ),
            quantile => quantile_figure(node, lambda, model, quantile, &missing_reason),
        };
        figures.push((metric, figure));
    }
    figures
}

fn quantile_figure(
    node: &Node,
    lambda: f64,
    model: &Model,
    metric: NodeMetric,
    missing_reason: &str,
) -> Figure {
    let (p, sojourn) = match metric {
        NodeMetric::WaitP50 => (0.50, false),
        NodeMetric::WaitP95 => (0.95, false),
        NodeMetric::WaitP99 => (0.99, false),
        NodeMetric::SojournP50 => (0.50, true),
        NodeMetric::SojournP95 => (0.95, true),
        _ => (0.99, true),
    };
    let mu = node.service_rate();
    let value = match model.quantiles {
        Quantiles::None => {
            return Figure::missing(
                "none",
                format!("percentiles have a closed form only for M/M/c and M/M/∞; {missing_reason}"),
            );
        }
        Quantiles::Delay { exponential: true } if sojourn => {
            return Figure::exact(-(1.0_f64 - p).ln() / mu, "exponential service time");
        }
        Quantiles::Delay { .. } if sojourn => {
            return Figure::missing(
                "none",
                "the sojourn is the service time, whose quantiles are not tabulated here",
            );
        }
        Quantiles::Delay { .. } => return Figure::exact(0.0, "infinitely many workers"),
        Quantiles::Mmc(c) if sojourn => station::mmc_sojourn_quantile(lambda, mu, c, p),
        Quantiles::Mmc(c) => station::mmc_wait_quantile(lambda, mu, c, p),
    };
    match value {
        Some(v) => Figure::exact(v, "M/M/c FCFS waiting-time distribution"),
        None => Figure::missing("M/M/c FCFS waiting-time distribution", missing_reason),
    }
}

/// Every source's figures, and each source's mean latency per message class (when the network
/// has several). `original` is the network before its services were reduced to one per node.
fn analyze_sources(
    original: &Network,
    network: &Network,
    streams: &Streams,
    flow: &Flows,
    graphs: &[SourceFlow],
    nodes: &[NodeAnalysis],
) -> Result<(Vec<SourceAnalysis>, Vec<Vec<Figure>>), SingularMatrix> {
    let exchanges = network.exchanges().len();
    // Finite channels drop; an overloaded unbounded queue only delays (its backlog grows), so it
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
        let throughput =
            source.open_rate().unwrap_or(0.0) * Copies::solve(graph, &passed, &sojourns)?.delivered[entry];
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
        for class in original.class_ids().filter(|_| original.classes().len() > 1) {
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
    /// D_i: copies eventually dropped (full channels or unroutable).
    dropped: Vec<f64>,
    /// R_i: sum of the remaining latencies of the delivered copies (`None` when some node on the
    /// way has no mean sojourn).
    latency_sum: Option<Vec<f64>>,
    /// Whether every mean sojourn used was exact.
    exact: bool,
}

impl Copies {
    /// # Formula
    /// With A = I − Q F (F the expected copies between vertices, Q the pass fractions):
    /// A C = Q e_exit; A D = (1 − q) + u (u the unroutable drops);
    /// A R = W ∘ C + Q Σ_routes p·E[delay]·C_target (C_exit = 1).
    /// `sojourns` holds the mean sojourn at each node of the messages followed.
    fn solve(graph: &SourceFlow, pass: &[f64], sojourns: &[Option<Figure>]) -> Result<Self, SingularMatrix> {
        let vertices = graph.to_exit.len();
        let q = |i: usize| pass.get(i).copied().unwrap_or(1.0);
        let matrix = graph.pass_matrix(pass);
        let delivered = solve(matrix.clone(), (0..vertices).map(|i| q(i) * graph.to_exit[i]).collect())?;
        let dropped =
            solve(matrix.clone(), (0..vertices).map(|i| 1.0 - q(i) + graph.unroutable[i]).collect())?;
        // Only the vertices this source's messages reach count.
        let reached = graph.visits(&[])?;
        let mut exact = true;
        let mut weighted = Vec::with_capacity(vertices);
        for (i, c) in delivered.iter().enumerate() {
            if reached[i] <= 1e-12 {
                weighted.push(0.0);
                continue;
            }
            let in_transit: f64 = graph.delays[i]
                .iter()
                .map(|&(target, mean)| mean * target.map_or(1.0, |t| delivered[t]))
                .sum::<f64>()
                * q(i);
            let sojourn = sojourns.get(i).and_then(Option::as_ref);
            match sojourn {
                None => weighted.push(in_transit),
                Some(figure) => match figure.value {
                    Some(w) => {
                        exact &= figure.exact;
                        weighted.push(w * c + in_transit);
                    }
                    None if *c > 1e-12 => weighted.push(f64::NAN),
                    None => weighted.push(in_transit),
                },
            }
        }
        let latency_sum =
            if weighted.iter().any(|w| w.is_nan()) { None } else { Some(solve(matrix, weighted)?) };
        Ok(Self { delivered, dropped, latency_sum, exact })
    }

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
/// parts go to N single-worker exponential nodes of equal speed, each routing straight to the
/// join.
///
/// # Formula
/// Nelson-Tantawi: E[T_N] = (H_N/H_2 + (4/11)(1 − H_N/H_2)ρ) × ((12 − ρ)/8) / (μ − λ), with H_N
/// the harmonic numbers; exact for N = 2 (Flatto-Hahn), an approximation beyond. The join's own
/// latency onward is added.
fn fork_join_latency(
    network: &Network,
    source: &crate::model::Source,
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

/// Adds to the latency the time a message waits at its source when the blocking channel it
/// enters is full.
///
/// # Formula
/// A message finds the channel full with probability p_K/(1 − p_{K+1}) (the source produces
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

/// The time-averaged number of a source's messages held back by a full blocking channel: the
/// probability that its target is full with a message waiting outside (1 − admitted/offered).
fn source_blocking(network: &Network, flow: &Flows, nodes: &[NodeAnalysis], entry: usize) -> Figure {
    match network.nodes().get(entry) {
        Some(node) if node.overflow == Overflow::Block => {
            let exact = nodes[entry].metric(NodeMetric::Throughput).is_some_and(|f| f.exact);
            Figure::labelled(1.0 - flow.pass_fraction[entry], exact, "birth-death on 0..K+1")
        }
        _ => Figure::exact(0.0, "no blocking channel at the entry"),
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

fn analyze_system(network: &Network, nodes: &[NodeAnalysis]) -> Result<SystemAnalysis, SingularMatrix> {
    let stable = network.nodes().iter().zip(nodes).all(|(node, a)| !node.has_unbounded_queue() || a.stable);
    let bottleneck =
        nodes.iter().max_by(|a, b| a.utilization.total_cmp(&b.utilization)).map(|a| a.name.clone());
    let offered_rate: f64 = network.sources().iter().filter_map(crate::model::Source::open_rate).sum();
    let (headroom, headroom_reason) = headroom(network)?;
    let max_throughput = headroom.map(|h| h * offered_rate);
    Ok(SystemAnalysis {
        stable,
        bottleneck,
        headroom,
        headroom_reason,
        max_throughput,
        offered_rate,
        population_curve: Vec::new(),
    })
}

/// Whether some unbounded queue is at or beyond saturation with source rates scaled by `scale`.
fn saturated(network: &Network, scale: f64) -> Result<bool, SingularMatrix> {
    let flow = flows(network, scale)?;
    Ok(network
        .nodes()
        .iter()
        .zip(&flow.arrival_rate)
        .any(|(node, &lambda)| node.has_unbounded_queue() && lambda >= node.capacity_rate()))
}

/// The largest factor on every source's rate that keeps all unbounded queues below saturation,
/// found by doubling then bisection (saturation is monotone in the scale).
fn headroom(network: &Network) -> Result<(Option<f64>, Option<String>), SingularMatrix> {
    if network.nodes().iter().all(|node| !node.has_unbounded_queue()) {
        return Ok((
            None,
            Some("every channel is finite: overload drops messages instead of growing a queue".to_owned()),
        ));
    }
    let mut high = 1.0;
    while !saturated(network, high)? {
        high *= 2.0;
        if high > MAX_HEADROOM {
            return Ok((
                None,
                Some(
                    "no queue saturates at any load: each unbounded queue has infinitely many workers or sits behind finite channels"
                        .to_owned(),
                ),
            ));
        }
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if saturated(network, mid)? {
            high = mid;
        } else {
            low = mid;
        }
        if high - low <= high * 1e-15 {
            break;
        }
    }
    Ok((Some(high), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn analysis(text: &str) -> Analysis {
        analyze(&parse(text, "t", Path::new("t.toml")).unwrap().network, None).unwrap()
    }

    const TANDEM: &str = r#"
        [[source]]
        name = "s"
        to = "a"
        interarrival = { dist = "exponential", rate = 2.0 }
        [[node]]
        name = "a"
        service = { dist = "exponential", mean = "0.25s" }
        routes = [{ to = "b" }]
        [[node]]
        name = "b"
        servers = 2
        service = { dist = "exponential", mean = "0.8s" }
    "#;

    #[test]
    fn headroom_and_bottleneck_of_a_tandem() {
        // ρa = 2 × 0.25 = 0.5; ρb = 2 × 0.8 / 2 = 0.8. b saturates when the load grows by 1/0.8.
        let analysis = analysis(TANDEM);
        assert_eq!(analysis.system.bottleneck.as_deref(), Some("b"));
        assert!((analysis.system.headroom.unwrap() - 1.25).abs() < 1e-12);
        assert!((analysis.system.max_throughput.unwrap() - 2.5).abs() < 1e-12);
        assert!(analysis.system.stable);
    }

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

    #[test]
    fn an_overloaded_node_reports_growth_and_time_to_fill() {
        // λ = 3/s into cμ = 2/s: the queue grows by 1 message/s and holds 10^6 after 10^6 s.
        let text = TANDEM.replace("rate = 2.0", "rate = 3.0").replace("0.25s", "0.5s");
        let analysis = analysis(&text);
        let a = &analysis.nodes[0];
        assert_eq!(a.verdict, "unstable");
        assert!((a.growth_rate - 1.0).abs() < 1e-12);
        assert!((a.time_to_fill.unwrap() - 1e6).abs() < 1e-3);
        assert!(a.metric(NodeMetric::MeanWait).unwrap().value.is_none());
        // b receives what a can pass: 2/s, ρb = 2 × 0.8/2 = 0.8.
        assert!((analysis.nodes[1].arrival_rate - 2.0).abs() < 1e-12);
        assert!(!analysis.system.stable);
    }
}
