//! One node's figures: the closed form that fits its arrivals and its queue, its stability
//! verdict, and each metric's figure, labelled exact or approximate.

use super::blocking::Unknown;
use super::results::{Figure, NodeAnalysis, RateBounds, Verdict};
use super::shape::Shape;
use super::station::{self, StationMetrics};
use super::traffic::Flows;
use crate::format::number;
use crate::model::{Discipline, Metric, Node, NodeMetric, Overflow, Servers};

/// Default number of messages for "time until the queue holds N" on an unbounded node.
pub const DEFAULT_FILL_TARGET: f64 = 1e6;

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
    /// Infinitely many servers: no wait; the sojourn is the service time.
    Delay {
        /// Whether the service time is exponential (its quantiles then have a closed form).
        exponential: bool,
    },
}

/// The closed form that fits node `index`, offered `lambda` messages per second.
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
    if shape.blocked_downstream[index] || shape.batched[index] || shape.pooled[index] {
        return model(None, "none", false, Quantiles::None);
    }
    let Servers::Finite(c) = node.servers else {
        // G/G/∞: L = λE[S], W = E[S], Wq = 0 whatever the arrival process.
        let quantiles = Quantiles::Delay { exponential };
        return model(Some(station::mg_inf(lambda, mean_s)), "M/G/∞ (no waiting)", true, quantiles);
    };
    match node.capacity {
        Some(k) if node.overflow == Overflow::Block => {
            // One Poisson source that stops while the queue is full: a birth-death chain on
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

/// Node `index`'s figures (without its per-class ones), from the flows, its arrival rate
/// `demand` were nothing capped upstream, and the shape of its arrivals; `fill_target` as for
/// [`super::analyze`].
pub(super) fn analyze_node(
    node: &Node,
    index: usize,
    flow: &Flows,
    demand: f64,
    shape: &Shape,
    fill_target: Option<f64>,
) -> NodeAnalysis {
    let lambda = flow.arrival_rate[index];
    // cμ, or less for a sender held by a blocking queue where `held_saturation` says.
    let saturation = flow.saturation[index];
    let rho = lambda / saturation;
    let verdict = match (rho < 1.0, node.has_unbounded_queue()) {
        (_, true) if undetermined(node, index, flow, shape) => Verdict::Undetermined,
        (true, _) => Verdict::Stable,
        (false, false) => Verdict::Saturated,
        (false, true) => Verdict::Unstable,
    };
    let stable = verdict == Verdict::Stable;
    // A finite queue fills up to its capacity at λ − cμ, then drops; an unbounded one grows
    // at that rate forever; a queue that TTL expiry keeps bounded does neither.
    let over = matches!(verdict, Verdict::Saturated | Verdict::Unstable);
    let fills = over && (node.capacity.is_some() || node.ttl.is_none());
    let fill_rate = lambda - saturation;
    let growth_rate = if verdict == Verdict::Unstable { fill_rate } else { 0.0 };
    let target = node.capacity.map_or(fill_target.unwrap_or(DEFAULT_FILL_TARGET), f64::from);
    let time_to_fill = fills.then(|| station::time_to_reach(fill_rate, 0.0, target)).flatten();
    let mut model = choose_model(node, index, lambda, shape);
    if flow.unknown[index].is_some() {
        // Computed at the upper bound of its arrival rate: no figure of its own holds.
        (model.metrics, model.exact, model.quantiles) = (None, false, Quantiles::None);
    }
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
        bounds: flow.unknown[index].as_ref().map(|unknown| RateBounds {
            arrival_rate: [unknown.arrival.0, unknown.arrival.1],
            utilization: [unknown.arrival.0 / saturation, unknown.arrival.1 / saturation],
            throughput: [unknown.throughput.0, unknown.throughput.1],
        }),
        metrics,
        priority_classes: Vec::new(),
        message_classes: Vec::new(),
    }
}

/// Whether no closed form decides if node `index`'s unbounded queue keeps up: its servers are
/// held by a blocking queue downstream and it looks stable against cμ (it saturates below cμ,
/// where only `held_saturation`'s case says exactly), or its arrival rate has only bounds, the
/// upper one past where it saturates and the lower one short of it.
fn undetermined(node: &Node, index: usize, flow: &Flows, shape: &Shape) -> bool {
    let saturation = flow.saturation[index];
    let held_unsolved = shape.blocked_downstream[index] && saturation >= node.capacity_rate();
    let lambda = flow.arrival_rate[index];
    match &flow.unknown[index] {
        Some(unknown) if lambda >= saturation => unknown.arrival.0 < saturation,
        _ => held_unsolved && lambda < saturation,
    }
}

/// Every metric's figure at a node, from its model and verdict; `rate_exact` says whether its
/// arrival rate is exact, `blocked_downstream` whether a blocking queue can hold its servers.
fn node_figures(
    node: &Node,
    lambda: f64,
    flow: &Flows,
    index: usize,
    model: &Model,
    verdict: Verdict,
    (rate_exact, blocked_downstream): (bool, bool),
) -> Vec<(NodeMetric, Figure)> {
    let traffic = "traffic equations";
    let unbounded = node.capacity.is_none();
    let busy = if unbounded && flow.saturation[index] < node.capacity_rate() {
        lambda.min(flow.saturation[index]) / node.capacity_rate()
    } else if unbounded {
        (lambda / node.capacity_rate()).min(1.0)
    } else {
        flow.throughput(index) / node.capacity_rate()
    };
    // An overloaded queue is busy all the time only asymptotically (it starts empty).
    // A server held by a full blocking queue downstream is busy longer than its service.
    let busy_exact =
        rate_exact && !blocked_downstream && if unbounded { verdict == Verdict::Stable } else { model.exact };
    let growth = if verdict == Verdict::Unstable { lambda - flow.saturation[index] } else { 0.0 };
    let missing_reason = if verdict == Verdict::Unstable {
        if growth > 0.0 {
            format!("unstable: the queue grows by {} messages/s, so it has no steady state", number(growth))
        } else {
            "critically loaded (ρ = 1): no steady state; the queue grows like the square root of time"
                .to_owned()
        }
    } else if let Some(unknown) = &flow.unknown[index] {
        unknown.reason.clone()
    } else if blocked_downstream {
        format!(
            "no closed form: its servers wait while a blocking queue downstream is full, so it is not a plain {}",
            model.notation
        )
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
        let rate =
            matches!(metric, NodeMetric::ArrivalRate | NodeMetric::Throughput | NodeMetric::Utilization);
        if let Some(unknown) = flow.unknown[index].as_ref().filter(|_| rate) {
            figures.push((metric, unknown_rate(node, metric, unknown)));
            continue;
        }
        let figure = match metric {
            // A blocking queue is offered only what its throttled senders get in.
            NodeMetric::ArrivalRate if node.overflow == Overflow::Block => {
                Figure::labelled(flow.throughput(index), rate_exact && model.exact, traffic)
            }
            NodeMetric::ArrivalRate => Figure::labelled(lambda, rate_exact, traffic),
            NodeMetric::DropProbability if node.overflow == Overflow::Block => {
                Figure::exact(0.0, "blocking queue (never drops)")
            }
            NodeMetric::BlockedFraction if node.servers == Servers::Infinite => {
                Figure::missing("none", "undefined with infinitely many servers")
            }
            NodeMetric::BlockedFraction if blocked_downstream => {
                Figure::missing("none", "blocking between nodes has no closed form here")
            }
            NodeMetric::BlockedFraction => Figure::exact(0.0, "no blocking queue downstream"),
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
                Figure::missing("λ/(cμ)", "undefined with infinitely many servers: see mean_in_system")
            }
            NodeMetric::Utilization => Figure::labelled(busy, busy_exact, "λ/(cμ)"),
            NodeMetric::DropProbability if unbounded => Figure::exact(0.0, "unbounded queue"),
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

/// A rate figure of a node whose rates have no closed form: withheld, with its bounds.
fn unknown_rate(node: &Node, metric: NodeMetric, unknown: &Unknown) -> Figure {
    let blocking = node.overflow == Overflow::Block;
    let ((low, high), unit) = match metric {
        // A blocking queue is offered only what its throttled senders get in.
        NodeMetric::ArrivalRate if !blocking => (unknown.arrival, "/s"),
        NodeMetric::Utilization if blocking || node.capacity.is_some() => {
            let (low, high) = unknown.throughput;
            ((low / node.capacity_rate(), high / node.capacity_rate()), "")
        }
        NodeMetric::Utilization => {
            let (low, high) = unknown.arrival;
            (((low / node.capacity_rate()).min(1.0), (high / node.capacity_rate()).min(1.0)), "")
        }
        _ => (unknown.throughput, "/s"),
    };
    Figure::missing(
        "traffic equations",
        format!("{}; between {}{unit} and {}{unit}", unknown.reason, number(low), number(high)),
    )
}

/// Why a node whose means theory gives has no closed-form percentiles, read off its discipline
/// and its Kendall notation (`A/S/c` or `A/S/c/K`).
fn no_percentiles(node: &Node, notation: &str) -> String {
    let mut parts = notation.split('/');
    let (arrivals, service) = (parts.next(), parts.next());
    let bounded = notation.split('/').count() > 3;
    let why = if node.discipline != Discipline::Fifo {
        format!("it serves by {} instead", node.discipline.name())
    } else if bounded {
        "its queue is bounded".to_owned()
    } else if arrivals != Some("M") {
        "its arrivals are not Poisson".to_owned()
    } else if service != Some("M") {
        "its service times are not exponential".to_owned()
    } else {
        "its model is not one of them".to_owned()
    };
    format!("{notation}: {why}")
}

/// A wait or sojourn percentile's figure, when the model has a closed form for it.
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
            let why = if model.metrics.is_some() {
                no_percentiles(node, &model.notation)
            } else {
                missing_reason.to_owned()
            };
            return Figure::missing(
                "none",
                format!(
                    "percentiles have a closed form only for first-come-first-served M/M/c and M/M/∞; {why}"
                ),
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
        Quantiles::Delay { .. } => return Figure::exact(0.0, "infinitely many servers"),
        Quantiles::Mmc(c) if sojourn => station::mmc_sojourn_quantile(lambda, mu, c, p),
        Quantiles::Mmc(c) => station::mmc_wait_quantile(lambda, mu, c, p),
    };
    match value {
        Some(v) => Figure::exact(v, "M/M/c FCFS waiting-time distribution"),
        None => Figure::missing("M/M/c FCFS waiting-time distribution", missing_reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::{TANDEM, analysis};

    #[test]
    fn an_overloaded_node_reports_growth_and_time_to_fill() {
        // λ = 3/s into cμ = 2/s: the queue grows by 1 message/s and holds 10^6 after 10^6 s.
        let text = TANDEM.replace("rate = 2.0", "rate = 3.0").replace("0.25s", "0.5s");
        let analysis = analysis(&text);
        let a = &analysis.nodes[0];
        assert_eq!(a.verdict, Verdict::Unstable);
        assert!((a.growth_rate - 1.0).abs() < 1e-12);
        assert!((a.time_to_fill.unwrap() - 1e6).abs() < 1e-3);
        assert!(a.metric(NodeMetric::MeanWait).unwrap().value.is_none());
        // b receives what a can pass: 2/s, ρb = 2 × 0.8/2 = 0.8.
        assert!((analysis.nodes[1].arrival_rate - 2.0).abs() < 1e-12);
        assert!(!analysis.system.stable);
    }
}
