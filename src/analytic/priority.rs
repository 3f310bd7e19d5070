//! Priority classes at a node: per-class waits by Cobham's formula (non-preemptive) and the
//! preemptive-resume formula, for M/G/1; Cobham's M/M/c form for several exponential workers.

use super::network::Figure;
use super::station::erlang_c;
use super::traffic::SourceFlow;
use crate::model::{ClassMetric, Discipline, Metric, Network, Node, Servers};

/// Messages per second of each priority class (0 the highest) arriving at node `index`, from
/// the sources' priority mixes and their visits (uncapped traffic equations).
fn class_rates(network: &Network, graphs: &[SourceFlow], index: usize) -> Vec<f64> {
    let mut rates = vec![0.0; network.priorities().len()];
    for (source, graph) in network.sources().iter().zip(graphs) {
        let Some(rate) = source.open_rate() else { continue };
        let visits = graph.visits(&[]).map_or(0.0, |v| v[index]);
        match &source.priorities {
            Some(choice) => {
                for (priority, p) in choice.weighted() {
                    rates[network.class_of(priority)] += rate * p * visits;
                }
            }
            None => rates[network.class_of(0)] += rate * visits,
        }
    }
    rates
}

/// Per-class figures of a node with a priority discipline (empty for FIFO nodes). `poisson`
/// says whether the node's arrivals are Poisson, which the formulas assume.
pub(super) fn class_figures(
    network: &Network,
    graphs: &[SourceFlow],
    index: usize,
    poisson: bool,
) -> Vec<Vec<(ClassMetric, Figure)>> {
    let node = &network.nodes()[index];
    if node.discipline == Discipline::Fifo {
        return Vec::new();
    }
    let rates = class_rates(network, graphs, index);
    let waits: Vec<Result<(&str, f64), String>> = if node.ttl.is_some() {
        rates
            .iter()
            .map(|_| Err("expiry (TTL) removes waiting messages: no closed form here".to_owned()))
            .collect()
    } else {
        class_waits(node, &rates)
    };
    let plain = poisson && node.capacity.is_none() && node.ttl.is_none();
    rates
        .iter()
        .zip(&waits)
        .map(|(&rate, wait)| {
            ClassMetric::ALL
                .iter()
                .map(|&metric| {
                    let figure = match (metric, wait) {
                        (ClassMetric::Throughput, _) => Figure::labelled(rate, plain, "traffic equations"),
                        (ClassMetric::MeanWait, Ok((method, wq))) => Figure::labelled(*wq, plain, method),
                        (ClassMetric::MeanSojourn, Ok((method, wq))) => {
                            Figure::labelled(wq + node.service.mean(), plain, method)
                        }
                        (ClassMetric::MeanWait | ClassMetric::MeanSojourn, Err(reason)) => {
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

/// Mean wait of each class, with the formula's name, or why there is none.
///
/// # Formula
/// σ_k = Σ_{i≤k} ρ_i; non-preemptive M/G/1 (Cobham): Wq_k = R/((1 − σ_{k−1})(1 − σ_k)) with
/// R = Σ_i λ_i E[S²]/2; preemptive-resume M/G/1: T_k = E[S]/(1 − σ_{k−1}) +
/// R_k/((1 − σ_{k−1})(1 − σ_k)) with R_k over classes 1..k, and the wait is T_k − E[S];
/// non-preemptive M/M/c: Wq_k = (C(c, a)/(cμ))/((1 − σ_{k−1})(1 − σ_k)), ρ_i = λ_i/(cμ).
fn class_waits(node: &Node, rates: &[f64]) -> Vec<Result<(&'static str, f64), String>> {
    let mean = node.service.mean();
    let second_moment = mean * mean * (1.0 + node.service.scv());
    let Servers::Finite(c) = node.servers else {
        return rates.iter().map(|_| Ok(("infinitely many workers", 0.0))).collect();
    };
    let capacity = f64::from(c) / mean;
    let total: f64 = rates.iter().sum();
    let mut sigma_before = 0.0;
    let mut residual_so_far = 0.0;
    rates
        .iter()
        .map(|&rate| {
            let sigma = sigma_before + rate / capacity;
            residual_so_far += rate * second_moment / 2.0;
            let stretch = (1.0 - sigma_before) * (1.0 - sigma);
            let result = if sigma >= 1.0 {
                Err(format!("this class and those above it offer ρ = {sigma:.4} ≥ 1: its queue grows"))
            } else {
                match (node.discipline, c) {
                    (Discipline::Preemptive, 1) => Ok((
                        "M/G/1 preemptive-resume priority",
                        mean / (1.0 - sigma_before) + residual_so_far / stretch - mean,
                    )),
                    (Discipline::Preemptive, _) => {
                        Err("preemptive priority with several workers has no closed form here".to_owned())
                    }
                    (_, 1) => Ok(("M/G/1 non-preemptive priority (Cobham)", total * second_moment / 2.0 / stretch)),
                    _ if node.service.is_exponential() => {
                        let load = total * mean;
                        Ok(("M/M/c non-preemptive priority (Cobham)", erlang_c(c, load) / capacity / stretch))
                    }
                    _ => Err("non-preemptive priority with several non-exponential workers has no closed form here".to_owned()),
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

    #[test]
    fn cobham_for_two_classes() {
        // λ1 = λ2 = 0.4, E[S] = 1, E[S²] = 2: R = 0.8 × 2 / 2 = 0.8.
        // Wq1 = 0.8/(1 × 0.6) = 1.3333; Wq2 = 0.8/(0.6 × 0.2) = 6.6667.
        // Check: the rate-weighted mean (1.3333 + 6.6667)/2 = 4 = M/M/1's ρ/(μ − λ) = 0.8/0.2.
        let waits = class_waits(&node("priority"), &[0.4, 0.4]);
        assert!((waits[0].as_ref().unwrap().1 - 0.8 / 0.6).abs() < 1e-12);
        assert!((waits[1].as_ref().unwrap().1 - 0.8 / 0.12).abs() < 1e-12);
    }

    #[test]
    fn preemptive_resume_for_two_classes() {
        // Class 1 sees an M/M/1 of its own: T1 = 1/(1 − 0.4) = 1.6667, wait 0.6667.
        // Class 2: T2 = 1/(1 − 0.4) + 0.8/(0.6 × 0.2) = 1.6667 + 6.6667 = 8.3333, wait 7.3333.
        let waits = class_waits(&node("preemptive"), &[0.4, 0.4]);
        assert!((waits[0].as_ref().unwrap().1 - (1.0 / 0.6 - 1.0)).abs() < 1e-12);
        assert!((waits[1].as_ref().unwrap().1 - (1.0 / 0.6 + 0.8 / 0.12 - 1.0)).abs() < 1e-12);
    }
}
