//! Priority classes at a node: per-class waits by Cobham's formula (non-preemptive) and the
//! preemptive-resume formula, for M/G/1; Cobham's M/M/c form for several exponential servers.

use super::classes::Mixed;
use super::results::{Figure, NodeAnalysis};
use super::service::{Moments, Streams, one_mean};
use super::station::erlang_c;
use crate::model::{Discipline, Metric, Network, Node, NodeClassMetric, NodeMetric, Servers};

/// Per-class figures of a node with a priority discipline (empty for FIFO nodes). `poisson`
/// says whether the node's arrivals are Poisson, which the formulas assume.
pub(super) fn class_figures(
    network: &Network,
    streams: &Streams,
    index: usize,
    poisson: bool,
) -> Vec<Vec<(NodeClassMetric, Figure)>> {
    let node = &network.nodes()[index];
    if node.discipline == Discipline::Fifo {
        return Vec::new();
    }
    // Each priority class's arrival rate and service moments (classes of messages and sizes
    // mixed within it).
    let classes: Vec<(f64, Moments)> = streams
        .per_priority(network, index)
        .into_iter()
        .map(|mixture| (mixture.rate, mixture.moments()))
        .collect();
    let waits: Vec<Result<(&str, f64), String>> = if node.ttl.is_some() {
        classes
            .iter()
            .map(|_| Err("expiry (TTL) removes waiting messages: no closed form here".to_owned()))
            .collect()
    } else {
        class_waits(node, &classes)
    };
    let plain = poisson && node.capacity.is_none() && node.ttl.is_none();
    classes
        .iter()
        .zip(&waits)
        .map(|(&(rate, service), wait)| {
            NodeClassMetric::ALL
                .iter()
                .map(|&metric| {
                    let figure = match (metric, wait) {
                        (NodeClassMetric::Throughput, _) => {
                            Figure::labelled(rate, plain, "traffic equations")
                        }
                        (NodeClassMetric::MeanWait, Ok((method, wq))) => Figure::labelled(*wq, plain, method),
                        (NodeClassMetric::MeanSojourn, Ok((method, wq))) => {
                            Figure::labelled(wq + service.mean, plain, method)
                        }
                        (NodeClassMetric::MeanWait | NodeClassMetric::MeanSojourn, Err(reason)) => {
                            Figure::missing("none", reason.clone())
                        }
                        _ => Figure::missing("none", "per-class percentiles have no closed form here"),
                    };
                    (metric, figure)
                })
                .collect()
        })
        .collect()
}

/// Replaces a priority node's mean wait, sojourn and numbers waiting and held by the means over
/// its priority classes, when the classes' services differ: the FIFO figures, which the
/// conservation law carries over to priorities only for one common service, no longer hold.
///
/// # Formula
/// Wq = Σ_k λ_k Wq_k / λ, W = Σ_k λ_k W_k / λ, Lq = λ Wq, L = λ W (Little).
pub(super) fn with_class_means(
    network: &Network,
    streams: &Streams,
    index: usize,
    analysis: &mut NodeAnalysis,
) {
    if network.nodes()[index].discipline == Discipline::Fifo || analysis.priority_classes.is_empty() {
        return;
    }
    let rates: Vec<(f64, f64)> = streams
        .per_priority(network, index)
        .into_iter()
        .map(|mixture| (mixture.rate, mixture.moments().mean))
        .collect();
    if one_mean(rates.iter().copied()) {
        return;
    }
    let total: f64 = rates.iter().map(|(rate, _)| rate).sum();
    let class_mean = |metric: NodeClassMetric| -> Figure {
        let mut mixed = Mixed::default();
        for ((rate, _), figures) in
            rates.iter().zip(&analysis.priority_classes).filter(|((rate, _), _)| *rate > 0.0)
        {
            mixed.add(*rate, figures.iter().find(|(m, _)| *m == metric).map(|(_, f)| f));
        }
        mixed.mean("mean over the priority classes", "no message reaches the node")
    };
    let (wait, sojourn) = (class_mean(NodeClassMetric::MeanWait), class_mean(NodeClassMetric::MeanSojourn));
    let little = |figure: &Figure| match figure.value {
        Some(value) => {
            Figure::labelled(total * value, figure.exact, "Little's law over the priority classes")
        }
        None => figure.clone(),
    };
    for (metric, figure) in &mut analysis.metrics {
        *figure = match metric {
            NodeMetric::MeanWait => wait.clone(),
            NodeMetric::MeanSojourn => sojourn.clone(),
            NodeMetric::MeanInQueue => little(&wait),
            NodeMetric::MeanInSystem => little(&sojourn),
            NodeMetric::WaitP50
            | NodeMetric::WaitP95
            | NodeMetric::WaitP99
            | NodeMetric::SojournP50
            | NodeMetric::SojournP95
            | NodeMetric::SojournP99 => Figure::missing(
                "none",
                "percentiles under priorities with per-class service have no closed form here",
            ),
            _ => continue,
        };
    }
}

/// Mean wait of each class (given its arrival rate and service moments, highest priority
/// first), with the formula's name, or why there is none.
///
/// # Formula
/// ρ_i = λ_i E\[S_i\]/c, σ_k = Σ_{i≤k} ρ_i; non-preemptive M/G/1 (Cobham): Wq_k =
/// R/((1 − σ_{k−1})(1 − σ_k)) with R = Σ_i λ_i E\[S_i²\]/2; preemptive-resume M/G/1: T_k =
/// E\[S_k\]/(1 − σ_{k−1}) + R_k/((1 − σ_{k−1})(1 − σ_k)) with R_k over classes 1..k, and the wait
/// is T_k − E\[S_k\]; non-preemptive M/M/c (every class served at one rate μ): Wq_k =
/// (C(c, a)/(cμ))/((1 − σ_{k−1})(1 − σ_k)).
fn class_waits(node: &Node, classes: &[(f64, Moments)]) -> Vec<Result<(&'static str, f64), String>> {
    let Servers::Finite(c) = node.servers else {
        return classes.iter().map(|_| Ok(("infinitely many servers", 0.0))).collect();
    };
    let servers = f64::from(c);
    let residual: f64 = classes.iter().map(|(rate, service)| rate * service.square / 2.0).sum();
    let total: f64 = classes.iter().map(|(rate, _)| rate).sum();
    // The mean service over every class; M/M/c Cobham needs it to be every class's.
    let mean = classes.iter().map(|(rate, service)| rate * service.mean).sum::<f64>() / total;
    let one_rate = one_mean(classes.iter().map(|(rate, service)| (*rate, service.mean)));
    let mut sigma_before = 0.0;
    let mut residual_so_far = 0.0;
    classes
        .iter()
        .map(|&(rate, service)| {
            let sigma = sigma_before + rate * service.mean / servers;
            residual_so_far += rate * service.square / 2.0;
            let stretch = (1.0 - sigma_before) * (1.0 - sigma);
            let result = if sigma >= 1.0 {
                Err(format!("this class and those above it offer ρ = {sigma:.4} ≥ 1: its queue grows"))
            } else {
                match (node.discipline, c) {
                    (Discipline::Preemptive, 1) => Ok((
                        "M/G/1 preemptive-resume priority",
                        service.mean / (1.0 - sigma_before) + residual_so_far / stretch - service.mean,
                    )),
                    (Discipline::Preemptive, _) => {
                        Err("preemptive priority with several servers has no closed form here".to_owned())
                    }
                    (_, 1) => Ok(("M/G/1 non-preemptive priority (Cobham)", residual / stretch)),
                    _ if node.service.is_exponential() && one_rate => {
                        let load = total * mean;
                        Ok(("M/M/c non-preemptive priority (Cobham)", erlang_c(c, load) * mean / servers / stretch))
                    }
                    _ => Err("non-preemptive priority with several non-exponential servers has no closed form here".to_owned()),
                }
            };
            sigma_before = sigma;
            result
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn node(discipline: &str) -> Node {
        let text = format!(
            r#"
            [[source]]
            name = "s"
            to = "q"
            interarrival = {{ dist = "exponential", rate = 0.8 }}
            priority = {{ "1" = 0.5, "0" = 0.5 }}
            [[node]]
            name = "q"
            discipline = "{discipline}"
            service = {{ dist = "exponential", mean = "1s" }}
            "#
        );
        parse(&text, "t", Path::new("t.toml")).unwrap().network.nodes()[0].clone()
    }

    /// Exponential service with mean 1 s: E[S] = 1, E[S²] = 2.
    const EXP_1: Moments = Moments { mean: 1.0, square: 2.0 };

    #[test]
    fn cobham_with_a_service_time_per_class() {
        // Class 1: λ 0.4, exponential mean 0.5 (E[S²] = 0.5), ρ1 = 0.2; class 2: λ 0.4, mean 1
        // (E[S²] = 2), ρ2 = 0.4. R = 0.4 × 0.5/2 + 0.4 × 2/2 = 0.5.
        // Wq1 = 0.5/(1 × 0.8) = 0.625; Wq2 = 0.5/(0.8 × 0.4) = 1.5625.
        let fast = Moments { mean: 0.5, square: 0.5 };
        let waits = class_waits(&node("priority"), &[(0.4, fast), (0.4, EXP_1)]);
        assert!((waits[0].as_ref().unwrap().1 - 0.625).abs() < 1e-12);
        assert!((waits[1].as_ref().unwrap().1 - 1.5625).abs() < 1e-12);
    }

    #[test]
    fn cobham_for_two_classes() {
        // λ1 = λ2 = 0.4, E[S] = 1, E[S²] = 2: R = 0.8 × 2 / 2 = 0.8.
        // Wq1 = 0.8/(1 × 0.6) = 1.3333; Wq2 = 0.8/(0.6 × 0.2) = 6.6667.
        // Check: the rate-weighted mean (1.3333 + 6.6667)/2 = 4 = M/M/1's ρ/(μ − λ) = 0.8/0.2.
        let waits = class_waits(&node("priority"), &[(0.4, EXP_1), (0.4, EXP_1)]);
        assert!((waits[0].as_ref().unwrap().1 - 0.8 / 0.6).abs() < 1e-12);
        assert!((waits[1].as_ref().unwrap().1 - 0.8 / 0.12).abs() < 1e-12);
    }

    #[test]
    fn preemptive_resume_for_two_classes() {
        // Class 1 sees an M/M/1 of its own: T1 = 1/(1 − 0.4) = 1.6667, wait 0.6667.
        // Class 2: T2 = 1/(1 − 0.4) + 0.8/(0.6 × 0.2) = 1.6667 + 6.6667 = 8.3333, wait 7.3333.
        let waits = class_waits(&node("preemptive"), &[(0.4, EXP_1), (0.4, EXP_1)]);
        assert!((waits[0].as_ref().unwrap().1 - (1.0 / 0.6 - 1.0)).abs() < 1e-12);
        assert!((waits[1].as_ref().unwrap().1 - (1.0 / 0.6 + 0.8 / 0.12 - 1.0)).abs() < 1e-12);
    }
}
