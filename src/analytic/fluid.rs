//! The fluid prediction of load over time: every node's backlog as a deterministic flow, for
//! sources whose rate follows a schedule and nodes whose servers do.
//!
//! # Model
//! Each node i receives fluid at rate aᵢ(t) (the sources' current rates through the routing,
//! every copy of a fanout or topic exchange counted, a balancer's share 1/n to each target)
//! and serves it at most at sᵢ(t) = cᵢ(t) μᵢ, c from its servers schedule and 1/μ its mean
//! service time. Its backlog q (messages waiting) follows
//!
//! q′ = aᵢ − sᵢ while q > 0, and q′ = max(aᵢ − sᵢ, 0) at q = 0,
//!
//! and its outflow dᵢ = sᵢ while q > 0, else min(aᵢ, sᵢ), is routed on at once. A finite queue
//! holds at most K − c waiting and drops the excess. Busy servers are dᵢ/μᵢ (all c while a
//! queue waits); messages held are q plus the busy servers.
//!
//! # Method
//! Exact for piecewise-constant inputs: between two changes of any schedule the rates are
//! constant, so every backlog is linear in time; the rates of the whole network are solved at
//! the start of each stretch (the capped traffic equations, iterated to rounding error) and
//! the stretch is cut where a queue empties or fills its capacity, where the rates change.
//! A linear schedule is cut into [`LINEAR_STEPS`] steps per segment, each at the exact mean
//! rate over it: arrivals are then exact at every step's end and a backlog is within
//! (rate slope × step²)/8 messages of the exact fluid.
//!
//! # When it is too optimistic
//! The fluid ignores randomness: a node whose mean load stays below its capacity never holds a
//! queue in it, while a real one holds the stochastic queue of its steady state (what M/M/c
//! gives, large when ρ is near 1). The prediction is good when the backlog it predicts is large
//! compared with that stochastic queue: long bursts well above capacity, outages. It is too
//! optimistic for short bursts, for loads that only just exceed capacity, and when ρ is near 1
//! before a burst (the queue already present adds to the peak and slows the drain). It also
//! treats route delays as instant, and when messages of several sources leave one node and are
//! routed differently by key, splits that node's outflow in the sources' average mix.

use thiserror::Error;

use super::linear::SingularMatrix;
use super::scc::components;
use super::service::with_effective_service;
use super::traffic::{SourceFlow, source_flows};
use crate::model::{Network, Overflow, Replay, Schedule, Servers, Shape, Source};

/// Steps per segment of a linear schedule.
pub const LINEAR_STEPS: usize = 200;

/// Most stretches of constant input over the horizon before the prediction is refused.
const MAX_STRETCHES: usize = 2_000_000;

/// Iterations of the network's rate fixed point before giving up on convergence.
const MAX_ITERATIONS: usize = 10_000;

/// Relative change below which the rate fixed point has converged.
const CONVERGED: f64 = 1e-14;

/// Why a network has no fluid prediction.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FluidError {
    /// A source is a closed population, whose rate depends on the network.
    #[error("source {0} is a closed population: the fluid prediction needs open sources")]
    Closed(String),
    /// A node blocks its senders when full, which the fluid does not model.
    #[error("node {0} blocks its senders when full: the fluid prediction does not model backpressure")]
    Blocking(String),
    /// A node expires messages, which the fluid does not model.
    #[error("node {0} expires messages (ttl): the fluid prediction does not model expiry")]
    Expiry(String),
    /// The horizon is not a positive number of seconds.
    #[error("the horizon must be a positive number of seconds, got {0}")]
    NoHorizon(f64),
    /// The schedules change too often over the horizon.
    #[error("the schedules change more than {MAX_STRETCHES} times before the horizon")]
    TooManyChanges,
    /// The routing has a loop without exit.
    #[error("the traffic equations are singular: some loop of routes never exits")]
    Singular(#[from] SingularMatrix),
}

/// One node's predicted state at an instant, or its time average over an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluidState {
    /// Messages held: waiting plus in service.
    pub in_system: f64,
    /// Messages waiting (the backlog q).
    pub in_queue: f64,
    /// Busy servers.
    pub busy: f64,
    /// Messages served per second (the outflow).
    pub throughput: f64,
    /// Messages offered per second.
    pub arrival_rate: f64,
    /// Messages dropped per second by a full finite queue.
    pub drop_rate: f64,
}

impl FluidState {
    /// The value of a time-series metric by its key (`in_system`, `in_queue`, `busy`,
    /// `throughput`, `arrival_rate` or `drop_rate`); `None` for any other key.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<f64> {
        match key {
            "in_system" => Some(self.in_system),
            "in_queue" => Some(self.in_queue),
            "busy" => Some(self.busy),
            "throughput" => Some(self.throughput),
            "arrival_rate" => Some(self.arrival_rate),
            "drop_rate" => Some(self.drop_rate),
            _ => None,
        }
    }
}

/// The headline figures of one node's predicted backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct FluidPeak {
    /// The node's name.
    pub name: String,
    /// The largest backlog, messages waiting (0 when the node never holds a queue).
    pub peak_backlog: f64,
    /// When the backlog first reaches its peak, seconds from the start (0 when it never
    /// holds a queue).
    pub peak_at_s: f64,
    /// Seconds from the peak until the backlog is back to 0; `None` when it is not by the
    /// horizon.
    pub drain_s: Option<f64>,
    /// The highest rate at which messages are offered to the node, per second.
    pub peak_arrival_rate: f64,
    /// The backlog's growth at the horizon, messages per second: λ − cμ for a queue still
    /// overloaded then (as the steady-state growth rate), negative while it drains, 0 otherwise.
    pub growth_rate: f64,
}

/// A stretch of time over which every node's rates are constant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stretch {
    /// Start, seconds.
    start: f64,
    /// End, seconds.
    end: f64,
}

/// One node's rates over a stretch, with its backlog at the start.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    /// Messages waiting at the start of the stretch.
    backlog: f64,
    /// Backlog change per second.
    slope: f64,
    /// Messages offered per second.
    inflow: f64,
    /// Messages served per second.
    outflow: f64,
    /// Messages dropped per second.
    dropped: f64,
    /// Busy servers.
    busy: f64,
}

/// The fluid prediction of every node's load over [0, horizon]: a piecewise-linear backlog per
/// node, queried at an instant ([`Fluid::at`]) or averaged over an interval
/// ([`Fluid::mean_over`]), with each node's peak and drain ([`Fluid::peaks`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Fluid {
    /// Node names, in network order.
    names: Vec<String>,
    /// The end of the prediction, seconds.
    horizon_s: f64,
    /// Whether the solution is the exact fluid of the network (see [`Fluid::exact`]).
    exact: bool,
    /// The stretches of constant rates, in time order, covering [0, horizon].
    stretches: Vec<Stretch>,
    /// `rates[k * nodes + i]`: node i over stretch k.
    rates: Vec<Rates>,
}

impl Fluid {
    /// Predicts `network`'s load from an empty start until `horizon_s` seconds.
    ///
    /// # Errors
    /// When a source is closed, a node blocks its senders or expires messages, the schedules
    /// change too often, or the routing has a loop without exit.
    pub fn new(network: &Network, horizon_s: f64) -> Result<Self, FluidError> {
        if !(horizon_s > 0.0 && horizon_s.is_finite()) {
            return Err(FluidError::NoHorizon(horizon_s));
        }
        check(network)?;
        let effective = with_effective_service(network, &source_flows(network))?;
        let routing = FluidRouting::new(&effective)?;
        let grid = grid(&effective, horizon_s)?;
        let inputs = Inputs::new(&effective, &routing);
        let mut fluid = Self {
            names: effective.nodes().iter().map(|node| node.name().to_owned()).collect(),
            horizon_s,
            exact: routing.exact && !has_linear_schedule(&effective),
            stretches: Vec::with_capacity(grid.len()),
            rates: Vec::new(),
        };
        let mut backlog = vec![0.0; fluid.names.len()];
        for window in grid.windows(2) {
            fluid.integrate(&inputs, &routing, (window[0], window[1]), &mut backlog);
        }
        Ok(fluid)
    }

    /// The end of the prediction, seconds.
    #[must_use]
    pub fn horizon_s(&self) -> f64 {
        self.horizon_s
    }

    /// Whether the solution is the exact fluid limit of the network: every schedule piecewise
    /// constant (a linear one is integrated in steps) and every node's outflow routed the same
    /// way whatever source its messages came from.
    #[must_use]
    pub fn exact(&self) -> bool {
        self.exact
    }

    /// The method, as a figure's label.
    #[must_use]
    pub fn method(&self) -> &'static str {
        if self.exact {
            "fluid approximation, integrated exactly"
        } else {
            "fluid approximation, linear schedules integrated in steps"
        }
    }

    /// The node names, in network order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Node `node`'s predicted state at time `t` seconds (clamped to [0, horizon]; rates are
    /// those just after `t`).
    ///
    /// # Panics
    /// When `node` is not a node index of the network.
    #[must_use]
    pub fn at(&self, node: usize, t: f64) -> FluidState {
        let t = t.clamp(0.0, self.horizon_s);
        let k = self.stretches.partition_point(|s| s.start <= t).saturating_sub(1);
        let rates = self.rates(k, node);
        let queue = (rates.backlog + rates.slope * (t - self.stretches[k].start)).max(0.0);
        state(rates, queue)
    }

    /// Node `node`'s predicted state averaged over `[from, to]` seconds (clamped to
    /// [0, horizon]): what a time series reports for the interval ending at `to`. An empty
    /// interval gives the state at `from`.
    ///
    /// # Panics
    /// When `node` is not a node index of the network.
    #[must_use]
    pub fn mean_over(&self, node: usize, from: f64, to: f64) -> FluidState {
        let (from, to) = (from.clamp(0.0, self.horizon_s), to.clamp(0.0, self.horizon_s));
        if to <= from {
            return self.at(node, from);
        }
        let first = self.stretches.partition_point(|s| s.end <= from);
        let mut total = FluidState {
            in_system: 0.0,
            in_queue: 0.0,
            busy: 0.0,
            throughput: 0.0,
            arrival_rate: 0.0,
            drop_rate: 0.0,
        };
        for (k, stretch) in self.stretches.iter().enumerate().skip(first) {
            if stretch.start >= to {
                break;
            }
            let rates = self.rates(k, node);
            let (a, b) = (from.max(stretch.start), to.min(stretch.end));
            let queue_at = |t: f64| (rates.backlog + rates.slope * (t - stretch.start)).max(0.0);
            let part = state(rates, 0.5 * (queue_at(a) + queue_at(b)));
            let length = b - a;
            total.in_system += part.in_system * length;
            total.in_queue += part.in_queue * length;
            total.busy += part.busy * length;
            total.throughput += part.throughput * length;
            total.arrival_rate += part.arrival_rate * length;
            total.drop_rate += part.drop_rate * length;
        }
        let length = to - from;
        FluidState {
            in_system: total.in_system / length,
            in_queue: total.in_queue / length,
            busy: total.busy / length,
            throughput: total.throughput / length,
            arrival_rate: total.arrival_rate / length,
            drop_rate: total.drop_rate / length,
        }
    }

    /// Every node's peak backlog, when it is reached and how long it takes to drain, in
    /// network order.
    #[must_use]
    pub fn peaks(&self) -> Vec<FluidPeak> {
        (0..self.names.len()).map(|node| self.peak(node)).collect()
    }

    /// Node `node`'s peak backlog and drain.
    fn peak(&self, node: usize) -> FluidPeak {
        let (mut peak, mut peak_at, mut peak_rate) = (0.0, 0.0, 0.0_f64);
        for (k, stretch) in self.stretches.iter().enumerate() {
            let rates = self.rates(k, node);
            peak_rate = peak_rate.max(rates.inflow);
            let end = (rates.backlog + rates.slope * (stretch.end - stretch.start)).max(0.0);
            if end > peak {
                (peak, peak_at) = (end, stretch.end);
            }
        }
        let drain = self.stretches.iter().enumerate().find_map(|(k, stretch)| {
            let rates = self.rates(k, node);
            (stretch.end >= peak_at && rates.slope < 0.0)
                .then(|| stretch.start.max(peak_at) + rates.backlog / -rates.slope)
                .filter(|&empty| rates.backlog > 0.0 && empty <= stretch.end * (1.0 + 1e-12))
        });
        let drain_s =
            if peak > 0.0 { drain.map(|empty| empty.min(self.horizon_s) - peak_at) } else { Some(0.0) };
        let last = self.stretches.len().saturating_sub(1);
        FluidPeak {
            name: self.names[node].clone(),
            peak_backlog: peak,
            peak_at_s: peak_at,
            drain_s,
            peak_arrival_rate: peak_rate,
            growth_rate: self.rates.get(last * self.names.len() + node).map_or(0.0, |r| r.slope),
        }
    }

    /// Node `node`'s rates over stretch `k`.
    fn rates(&self, k: usize, node: usize) -> &Rates {
        &self.rates[k * self.names.len() + node]
    }

    /// Integrates over `[from, to]`, over which the inputs are constant, from `backlog`, cutting
    /// it where a queue empties or fills.
    fn integrate(
        &mut self,
        inputs: &Inputs,
        routing: &FluidRouting,
        (from, to): (f64, f64),
        backlog: &mut [f64],
    ) {
        let (injected, capacity, room) = inputs.over(from, to);
        for (q, &room) in backlog.iter_mut().zip(&room) {
            *q = q.min(room); // servers added take waiting messages into service
        }
        let mut t = from;
        while t < to {
            let rates = routing.rates(&injected, &capacity, &room, backlog, &inputs.service_rate);
            let mut end = to;
            for (rate, &room) in rates.iter().zip(&room) {
                if rate.slope < 0.0 {
                    end = end.min(t + rate.backlog / -rate.slope);
                } else if rate.slope > 0.0 {
                    end = end.min(t + (room - rate.backlog) / rate.slope);
                }
            }
            let end = end.max(t).min(to);
            for ((q, rate), &room) in backlog.iter_mut().zip(&rates).zip(&room) {
                let reach = if rate.slope < 0.0 {
                    rate.backlog / -rate.slope
                } else {
                    (room - rate.backlog) / rate.slope
                };
                *q = if rate.slope != 0.0 && t + reach <= end * (1.0 + 1e-12) {
                    if rate.slope < 0.0 { 0.0 } else { room }
                } else {
                    (rate.backlog + rate.slope * (end - t)).clamp(0.0, room)
                };
            }
            if end > t {
                self.stretches.push(Stretch { start: t, end });
                self.rates.extend(rates);
            }
            t = end;
        }
    }
}

/// A node's state from its rates over a stretch and its backlog.
fn state(rates: &Rates, queue: f64) -> FluidState {
    FluidState {
        in_system: queue + rates.busy,
        in_queue: queue,
        busy: rates.busy,
        throughput: rates.outflow,
        arrival_rate: rates.inflow,
        drop_rate: rates.dropped,
    }
}

/// Refuses the networks the fluid does not model.
fn check(network: &Network) -> Result<(), FluidError> {
    if let Some(source) = network.sources().iter().find(|source| source.open_rate().is_none()) {
        return Err(FluidError::Closed(source.name().to_owned()));
    }
    for node in network.nodes() {
        if node.capacity().is_some() && node.overflow == Overflow::Block {
            return Err(FluidError::Blocking(node.name().to_owned()));
        }
        if node.ttl().is_some() {
            return Err(FluidError::Expiry(node.name().to_owned()));
        }
    }
    Ok(())
}

/// A source's rate over time, when it varies: its schedule, or the counted rates of a trace it
/// replays exactly.
fn source_schedule(source: &Source) -> Option<&Schedule> {
    source.schedule().or_else(|| source.replay().and_then(Replay::rate_schedule))
}

/// Whether some source's rate is interpolated linearly.
fn has_linear_schedule(network: &Network) -> bool {
    network.sources().iter().filter_map(Source::schedule).any(|schedule| schedule.shape() == Shape::Linear)
}

/// The times at which some input changes, from 0 to `horizon` (both included), with the steps
/// of linear schedules.
fn grid(network: &Network, horizon: f64) -> Result<Vec<f64>, FluidError> {
    let schedules = network
        .sources()
        .iter()
        .filter_map(source_schedule)
        .chain(network.nodes().iter().filter_map(|node| node.servers_schedule()));
    let mut times = vec![0.0, horizon];
    for schedule in schedules {
        changes(schedule, horizon, &mut times)?;
    }
    times.sort_by(f64::total_cmp);
    times.dedup();
    Ok(times)
}

/// Appends the times in (0, horizon) at which `schedule` changes, with [`LINEAR_STEPS`] steps
/// per segment when it is linear.
fn changes(schedule: &Schedule, horizon: f64, times: &mut Vec<f64>) -> Result<(), FluidError> {
    let steps = if schedule.shape() == Shape::Linear { LINEAR_STEPS } else { 1 };
    let mut t = 0.0;
    while t < horizon {
        let next = schedule.next_change(t);
        let end = next.unwrap_or(horizon).min(horizon);
        if next.is_some() {
            #[allow(clippy::cast_precision_loss)] // at most LINEAR_STEPS
            times.extend((1..steps).map(|step| t + (end - t) * step as f64 / steps as f64));
        }
        if next.is_none() {
            break;
        }
        times.push(end);
        t = end;
        if times.len() > MAX_STRETCHES {
            return Err(FluidError::TooManyChanges);
        }
    }
    Ok(())
}

/// What the network's inputs are over time: the sources' rates and the nodes' servers.
struct Inputs<'a> {
    network: &'a Network,
    /// Per source, the expected arrivals at each node per message it creates.
    entry: Vec<Vec<(usize, f64)>>,
    /// Per node, the service rate of one server, μ.
    service_rate: Vec<f64>,
}

impl<'a> Inputs<'a> {
    fn new(network: &'a Network, routing: &FluidRouting) -> Self {
        Self {
            network,
            entry: routing.entry.clone(),
            service_rate: network.nodes().iter().map(crate::model::Node::service_rate).collect(),
        }
    }

    /// Over `[from, to]`: the messages injected per second at each node, each node's capacity
    /// cμ (infinite with infinitely many servers) and the room in its queue, K − c (infinite
    /// when unbounded).
    fn over(&self, from: f64, to: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let nodes = self.network.nodes();
        let mut injected = vec![0.0; nodes.len()];
        for (source, entry) in self.network.sources().iter().zip(&self.entry) {
            let rate = match (source_schedule(source), source.replay()) {
                (Some(schedule), _) => schedule.mean_over(from, to),
                (None, Some(replay)) => replay.rate(),
                (None, None) => source.open_rate().unwrap_or(0.0),
            };
            for &(node, copies) in entry {
                injected[node] += rate * copies;
            }
        }
        let servers: Vec<Option<f64>> = nodes
            .iter()
            .map(|node| match (node.servers_schedule(), node.servers()) {
                (Some(schedule), _) => Some(schedule.value_at(from).floor()),
                (None, Servers::Finite(c)) => Some(f64::from(c)),
                (None, Servers::Infinite) => None,
            })
            .collect();
        let capacity = servers
            .iter()
            .zip(&self.service_rate)
            .map(|(c, mu)| c.map_or(f64::INFINITY, |c| c * mu))
            .collect();
        let room = nodes
            .iter()
            .zip(&servers)
            .map(|(node, c)| match (node.capacity(), c) {
                (Some(k), Some(c)) => (f64::from(k) - c).max(0.0),
                _ => f64::INFINITY,
            })
            .collect();
        (injected, capacity, room)
    }
}

/// Where fluid goes: from the sources into the nodes, and from each node to the next,
/// exchanges passed through at once.
struct FluidRouting {
    /// Per source, the expected arrivals at each node per message it creates.
    entry: Vec<Vec<(usize, f64)>>,
    /// Per node, the expected arrivals at each node per message it serves.
    out: Vec<Vec<(usize, f64)>>,
    /// Whether every node routes the same way whatever the source of its messages, with no
    /// route delay.
    exact: bool,
}

impl FluidRouting {
    fn new(network: &Network) -> Result<Self, SingularMatrix> {
        let n = network.nodes().len();
        let graphs = source_flows(network);
        let mut entry = Vec::with_capacity(graphs.len());
        let mut rows: Vec<Vec<Vec<(usize, f64)>>> = Vec::with_capacity(graphs.len());
        let mut weights: Vec<Vec<f64>> = Vec::with_capacity(graphs.len());
        for (source, graph) in network.sources().iter().zip(&graphs) {
            let reach = reach(graph, n);
            entry.push(graph.entry.map_or_else(Vec::new, |e| reach[e].clone()));
            rows.push(
                (0..n)
                    .map(|i| {
                        combine(graph.copies.row(i).iter().map(|&(k, copies)| (copies, reach[k].as_slice())))
                    })
                    .collect(),
            );
            let rate = source.open_rate().unwrap_or(0.0);
            weights.push(graph.visits(&[])?.iter().take(n).map(|v| rate * v.max(0.0)).collect());
        }
        let mut exact = graphs.iter().all(|graph| graph.delays.iter().all(Vec::is_empty));
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let total: f64 = weights.iter().map(|w| w[i]).sum();
            #[allow(clippy::cast_precision_loss)] // a handful of sources
            let share = |s: usize| if total > 0.0 { weights[s][i] / total } else { 1.0 / rows.len() as f64 };
            let row = combine((0..rows.len()).map(|s| (share(s), rows[s][i].as_slice())));
            exact &= !(0..rows.len()).filter(|&s| weights[s][i] > 0.0).any(|s| differs(&rows[s][i], &row));
            out.push(row);
        }
        Ok(Self { entry, out, exact })
    }

    /// Every node's rates with `backlog` waiting, `injected` arriving from the sources, each
    /// node serving at most `capacity` and holding at most `room` waiting.
    fn rates(
        &self,
        injected: &[f64],
        capacity: &[f64],
        room: &[f64],
        backlog: &[f64],
        service_rate: &[f64],
    ) -> Vec<Rates> {
        let n = injected.len();
        let inflow = |outflow: &[f64]| {
            let mut inflow = injected.to_vec();
            for (row, &d) in self.out.iter().zip(outflow) {
                for &(j, copies) in row {
                    inflow[j] += d * copies;
                }
            }
            inflow
        };
        let serve = |inflow: &[f64]| -> Vec<f64> {
            (0..n).map(|i| if backlog[i] > 0.0 { capacity[i] } else { inflow[i].min(capacity[i]) }).collect()
        };
        // From nothing served upwards: exact after as many rounds as the longest path when
        // the routing has no loop, geometric convergence around a loop.
        let mut outflow = vec![0.0; n];
        for _ in 0..MAX_ITERATIONS {
            let next = serve(&inflow(&outflow));
            let change = next
                .iter()
                .zip(&outflow)
                .map(|(a, b)| (a - b).abs() / a.abs().max(1e-300))
                .fold(0.0, f64::max);
            outflow = next;
            if change < CONVERGED {
                break;
            }
        }
        let inflow = inflow(&outflow);
        (0..n)
            .map(|i| {
                let growth = inflow[i] - outflow[i];
                let full = backlog[i] >= room[i] && growth > 0.0;
                Rates {
                    backlog: backlog[i],
                    slope: if full { 0.0 } else { growth },
                    inflow: inflow[i],
                    outflow: outflow[i],
                    dropped: if full { growth } else { 0.0 },
                    busy: if service_rate[i] > 0.0 { outflow[i] / service_rate[i] } else { 0.0 },
                }
            })
            .collect()
    }
}

/// Per vertex of `graph`, the expected arrivals at each of the `n` nodes per message sent to
/// it (by node, without zeros), passing through exchanges (which never loop among themselves)
/// at once.
fn reach(graph: &SourceFlow, n: usize) -> Vec<Vec<(usize, f64)>> {
    let vertices = graph.to_exit.len();
    let mut reach = vec![Vec::new(); vertices];
    // Each component after those it reaches: an exchange's targets are known before it.
    let successors = |v: usize| graph.copies.row(v).iter().map(|&(w, _)| w).filter(move |_| v >= n);
    for component in components(vertices, successors) {
        for v in component {
            reach[v] = if v < n {
                vec![(v, 1.0)]
            } else {
                combine(graph.copies.row(v).iter().map(|&(w, copies)| (copies, reach[w].as_slice())))
            };
        }
    }
    reach
}

/// Σ weight × row over `terms`, each row sparse (by index, without zeros): the result likewise.
fn combine<'a>(terms: impl Iterator<Item = (f64, &'a [(usize, f64)])>) -> Vec<(usize, f64)> {
    let mut sum: Vec<(usize, f64)> =
        terms.flat_map(|(weight, row)| row.iter().map(move |&(j, x)| (j, weight * x))).collect();
    sum.sort_by_key(|&(j, _)| j);
    let mut merged: Vec<(usize, f64)> = Vec::with_capacity(sum.len());
    for (j, x) in sum {
        match merged.last_mut() {
            Some(last) if last.0 == j => last.1 += x,
            _ => merged.push((j, x)),
        }
    }
    merged.retain(|&(_, x)| x != 0.0);
    merged
}

/// Whether two sparse rows differ anywhere by more than 1e-12 (relative to 1 + |b|).
fn differs(a: &[(usize, f64)], b: &[(usize, f64)]) -> bool {
    let at =
        |row: &[(usize, f64)], j: usize| row.binary_search_by_key(&j, |&(k, _)| k).map_or(0.0, |i| row[i].1);
    a.iter().chain(b).any(|&(j, _)| {
        let (x, y) = (at(a, j), at(b, j));
        (x - y).abs() > 1e-12 * (1.0 + y.abs())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::{scheduled, steps};
    use crate::model::Schedule;

    /// One source into `tables` (TOML) observed for 500 s without warm-up.
    fn text(to: &str, tables: &str) -> String {
        format!(
            r#"
            [simulation]
            duration = "500s"
            warmup = "0s"
            [[source]]
            name = "s"
            to = "{to}"
            interarrival = {{ dist = "exponential", rate = 10.0 }}
            {tables}
            "#
        )
    }

    fn node(name: &str, servers: u32, mean: &str, extra: &str) -> String {
        format!(
            "[[node]]\nname = \"{name}\"\nservers = {servers}\nservice = {{ dist = \"exponential\", mean = \"{mean}\" }}\n{extra}\n"
        )
    }

    fn fluid(text: &str, rate: Schedule, servers: &[Option<Schedule>]) -> Fluid {
        let scenario = scheduled(text, &[Some(rate)], servers);
        Fluid::new(scenario.network(), scenario.settings().horizon_s()).unwrap()
    }

    fn close(what: &str, got: f64, expected: f64) {
        assert!(
            (got - expected).abs() <= 1e-9 * (1.0 + expected.abs()),
            "{what}: {got}, expected {expected}"
        );
    }

    /// 10/s, then 30/s over [100, 200), then 10/s again.
    fn burst() -> Schedule {
        steps(&[(0.0, 10.0), (100.0, 30.0), (200.0, 10.0)])
    }

    #[test]
    fn a_burst_above_capacity_builds_a_backlog_that_drains_at_the_spare_capacity() {
        // c = 2, μ = 10/s: cμ = 20/s. During the burst q′ = 30 − 20 = 10/s for 100 s: 1000 at
        // t = 200; then q′ = 10 − 20 = −10/s: empty 100 s later, at t = 300.
        let fluid = fluid(&text("a", &node("a", 2, "0.1s", "")), burst(), &[]);
        assert!(fluid.exact());
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 1000.0);
        close("peak at", peak.peak_at_s, 200.0);
        close("drain", peak.drain_s.unwrap(), 100.0);
        close("growth at the end", peak.growth_rate, 0.0);
        close("offered at most", peak.peak_arrival_rate, 30.0);
        let during = fluid.at(0, 150.0);
        close("queue", during.in_queue, 500.0);
        close("busy", during.busy, 2.0);
        close("held", during.in_system, 502.0);
        close("served", during.throughput, 20.0);
        close("offered", during.arrival_rate, 30.0);
        close("draining", fluid.at(0, 250.0).in_queue, 500.0);
        let after = fluid.at(0, 350.0);
        close("empty", after.in_queue, 0.0);
        close("busy after", after.busy, 1.0);
        close("served after", after.throughput, 10.0);
        // The mean of a linear rise from 0 to 1000 is 500; [150, 250] straddles the peak.
        close("mean queue", fluid.mean_over(0, 100.0, 200.0).in_queue, 500.0);
        close("mean around the peak", fluid.mean_over(0, 150.0, 250.0).in_queue, 750.0);
        close("mean throughput", fluid.mean_over(0, 50.0, 150.0).throughput, 15.0);
    }

    #[test]
    fn an_outage_piles_up_arrivals_then_drains_at_the_spare_capacity() {
        // c = 1, μ = 10/s, 5/s: no server over [100, 160] holds 5 × 60 = 300 messages, which
        // drain at cμ − λ = 5/s: 60 s.
        let text = text("a", &node("a", 1, "0.1s", ""));
        let servers = steps(&[(0.0, 1.0), (100.0, 0.0), (160.0, 1.0)]);
        let fluid = fluid(&text, steps(&[(0.0, 5.0)]), &[Some(servers)]);
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 300.0);
        close("peak at", peak.peak_at_s, 160.0);
        close("drain", peak.drain_s.unwrap(), 60.0);
        let outage = fluid.at(0, 130.0);
        close("queue", outage.in_queue, 150.0);
        close("busy", outage.busy, 0.0);
        close("served", outage.throughput, 0.0);
        close("busy before", fluid.at(0, 50.0).busy, 0.5);
    }

    #[test]
    fn an_overloaded_node_caps_the_flow_into_the_next() {
        // a: c = 1, μ = 10/s; b: c = 1, μ = 8/s. The burst of 15/s over [100, 200) (5/s
        // otherwise) grows a at 5/s to 500 at t = 200, and a drains at 5/s until t = 300,
        // passing 10/s all along: b grows at 10 − 8 = 2/s over [100, 300] to 400 (not at
        // 15 − 8 = 7/s), then drains at 8 − 5 = 3/s: 400/3 s.
        let tables = node("a", 1, "0.1s", "routes = [{ to = \"b\" }]") + &node("b", 1, "0.125s", "");
        let rate = steps(&[(0.0, 5.0), (100.0, 15.0), (200.0, 5.0)]);
        let fluid = fluid(&text("a", &tables), rate, &[]);
        let [a, b] = fluid.peaks().try_into().unwrap();
        close("a peak", a.peak_backlog, 500.0);
        close("a drain", a.drain_s.unwrap(), 100.0);
        close("b peak", b.peak_backlog, 400.0);
        close("b peak at", b.peak_at_s, 300.0);
        close("b drain", b.drain_s.unwrap(), 400.0 / 3.0);
        close("b offered", fluid.at(1, 150.0).arrival_rate, 10.0);
        close("b offered while a drains", fluid.at(1, 250.0).arrival_rate, 10.0);
    }

    #[test]
    fn feedback_returns_only_what_a_backlogged_node_serves() {
        // Half of what a serves (μ = 15/s) comes back. At 5/s: λ = 5/(1 − 0.5) = 10 < 15.
        // During a burst of 10/s a is backlogged and serves 15/s, so it receives
        // 10 + 0.5 × 15 = 17.5/s and grows at 2.5/s, to 250 at t = 200; at 5/s again it
        // receives 5 + 7.5 = 12.5/s and drains at 2.5/s: 100 s.
        let tables = node(
            "a",
            1,
            "0.0666666666666666667s",
            "routes = [{ to = \"a\", p = 0.5 }, { to = \"exit\", p = 0.5 }]",
        );
        let rate = steps(&[(0.0, 5.0), (100.0, 10.0), (200.0, 5.0)]);
        let fluid = fluid(&text("a", &tables), rate, &[]);
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 250.0);
        close("drain", peak.drain_s.unwrap(), 100.0);
        close("offered", fluid.at(0, 150.0).arrival_rate, 17.5);
        close("offered before", fluid.at(0, 50.0).arrival_rate, 10.0);
    }

    #[test]
    fn a_linear_ramp_is_integrated_exactly_at_its_steps() {
        // λ(t) rises linearly from 0 to 20/s at t = 100 and falls back to 0 at t = 200, into
        // c = 1, μ = 10/s. The queue starts at t = 50 (λ = 10) and peaks at t = 150 (λ = 10
        // again): q = ∫₅₀¹⁵⁰ (λ − 10) dt = (1500 − 500) − 1000 = 500. At t = 200 it holds
        // 500 + 250 − 500 = 250, then drains at 10/s until t = 225: 75 s after the peak.
        // Each step's arrivals are exact and the queue never empties in between, so these
        // hold to rounding.
        let rate = Schedule::new(&[(0.0, 0.0), (100.0, 20.0), (200.0, 0.0)], Shape::Linear, None).unwrap();
        let fluid = fluid(&text("a", &node("a", 1, "0.1s", "")), rate, &[]);
        assert!(!fluid.exact());
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 500.0);
        close("peak at", peak.peak_at_s, 150.0);
        close("drain", peak.drain_s.unwrap(), 75.0);
        close("at 200", fluid.at(0, 200.0).in_queue, 250.0);
    }

    #[test]
    fn a_fanout_copies_the_burst_to_each_subscriber() {
        // Each node gets every message: p (μ = 20/s) grows at 30 − 20 = 10/s during the burst,
        // to 1000 at t = 200, then drains at 10/s; q (μ = 40/s) never queues.
        let tables =
            "[[exchange]]\nname = \"x\"\ntype = \"fanout\"\nbindings = [{ to = \"p\" }, { to = \"q\" }]\n"
                .to_owned()
                + &node("p", 1, "0.05s", "")
                + &node("q", 1, "0.025s", "");
        let fluid = fluid(&text("x", &tables), burst(), &[]);
        let [p, q] = fluid.peaks().try_into().unwrap();
        close("p peak", p.peak_backlog, 1000.0);
        close("p drain", p.drain_s.unwrap(), 100.0);
        close("q peak", q.peak_backlog, 0.0);
        close("q served", fluid.at(1, 150.0).throughput, 30.0);
        close("q busy", fluid.at(1, 150.0).busy, 0.75);
    }

    #[test]
    fn a_steady_overload_grows_at_lambda_minus_c_mu_to_the_horizon() {
        // 30/s into cμ = 20/s for the whole 500 s: 5000 at the end, growing by 10/s.
        let fluid = fluid(&text("a", &node("a", 2, "0.1s", "")), steps(&[(0.0, 30.0)]), &[]);
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 5000.0);
        close("peak at", peak.peak_at_s, 500.0);
        assert_eq!(peak.drain_s, None);
        close("growth", peak.growth_rate, 10.0);
    }

    #[test]
    fn a_finite_queue_fills_to_its_room_and_drops_the_excess() {
        // K = 102, c = 2: at most 100 wait. The burst's 10/s excess fills that in 10 s, then is
        // dropped at 10/s until t = 200; the queue then drains at 10/s, empty at t = 210, 100 s
        // after it first filled.
        let fluid = fluid(&text("a", &node("a", 2, "0.1s", "capacity = 102")), burst(), &[]);
        let [peak] = fluid.peaks().try_into().unwrap();
        close("peak", peak.peak_backlog, 100.0);
        close("peak at", peak.peak_at_s, 110.0);
        close("drain", peak.drain_s.unwrap(), 100.0);
        close("drops", fluid.at(0, 150.0).drop_rate, 10.0);
        close("held", fluid.at(0, 150.0).in_system, 102.0);
    }

    #[test]
    fn expiry_and_backpressure_are_refused_with_the_node() {
        let expiring = text("a", &node("a", 1, "0.1s", "ttl = \"5s\""));
        let scenario = scheduled(&expiring, &[Some(burst())], &[]);
        assert_eq!(Fluid::new(scenario.network(), 500.0), Err(FluidError::Expiry("a".to_owned())));
        let tables = node("a", 1, "0.1s", "routes = [{ to = \"b\" }]")
            + &node("b", 1, "0.1s", "capacity = 5\noverflow = \"block\"");
        let scenario = scheduled(&text("a", &tables), &[Some(burst())], &[]);
        assert_eq!(Fluid::new(scenario.network(), 500.0), Err(FluidError::Blocking("b".to_owned())));
    }
}
