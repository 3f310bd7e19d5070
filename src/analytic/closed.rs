//! Closed networks: a fixed population of request-reply clients, solved by Mean Value Analysis.
//!
//! Exact MVA needs a product-form network: every station a single FCFS server with exponential
//! service, or an infinite-server delay (any service distribution), no finite queue, no
//! expiry and no multicast. Multi-server stations use Seidmann's approximation (a queueing
//! station of demand D/c plus a delay of D(c − 1)/c), and everything is then labelled
//! approximate.

use super::linear::SingularMatrix;
use super::mva::{MvaKind, MvaPoint, MvaStation, mva};
use super::results::{Analysis, Figure, NodeAnalysis, SourceAnalysis, SystemAnalysis, Verdict};
use super::traffic::SourceFlow;
use crate::model::{Arrivals, Metric, Network, Node, NodeMetric, Servers, SourceMetric};

const METHOD: &str = "exact MVA (closed network)";
const APPROXIMATE: &str = "MVA with Seidmann's multi-server approximation";

/// Analyses a network whose only source is a closed population; any other mix of sources gets
/// figures without values, with the reason.
///
/// # Errors
/// When the routing has a loop without exit.
pub(super) fn analyze_closed(network: &Network) -> Result<Analysis, SingularMatrix> {
    let [source] = network.sources() else { return Ok(unsolved(network)) };
    let Arrivals::Closed { population, think } = &source.arrivals else { return Ok(unsolved(network)) };
    let graph = SourceFlow::new(network, source);
    let visits = graph.visits(&[])?;
    let nodes = network.nodes();
    let exact = nodes.iter().zip(&visits).all(|(node, &v)| v <= 1e-12 || is_product_form(node))
        && !graph.copies_messages();
    let stations: Vec<Vec<MvaStation>> =
        nodes.iter().zip(&visits).map(|(node, &v)| mva_stations(node, v * node.service.mean())).collect();
    let mut flat: Vec<MvaStation> = stations.iter().flatten().copied().collect();
    // Network delays on routes: a pure delay per request, visits × mean delay.
    let transit: f64 =
        graph.delays.iter().zip(&visits).map(|(delays, v)| v * delays.iter().map(|d| d.1).sum::<f64>()).sum();
    if transit > 0.0 {
        flat.push(MvaStation { demand: transit, kind: MvaKind::Delay });
    }
    let mut points = mva(&flat, think.mean(), *population);
    let population_curve = points.iter().map(|p| (p.population, p.throughput, p.response_time)).collect();
    let Some(point) = points.pop() else { return Ok(unsolved(network)) };
    let mut offset = 0;
    let node_analyses: Vec<NodeAnalysis> = nodes
        .iter()
        .zip(&visits)
        .zip(&stations)
        .map(|((node, &v), parts)| {
            let queue: f64 = point.queue_lengths[offset..offset + parts.len()].iter().sum();
            offset += parts.len();
            closed_node(node, v, queue, &point, exact)
        })
        .collect();
    let max_demand = nodes
        .iter()
        .zip(&visits)
        .map(|(node, &v)| node.servers.count().map_or(0.0, |c| v * node.service.mean() / f64::from(c)))
        .fold(0.0, f64::max);
    let bottleneck =
        node_analyses.iter().max_by(|a, b| a.utilization.total_cmp(&b.utilization)).map(|a| a.name.clone());
    let method = if exact { METHOD } else { APPROXIMATE };
    let source_metrics = SourceMetric::ALL
        .iter()
        .map(|&metric| {
            let figure = match metric {
                SourceMetric::Throughput => Figure::labelled(point.throughput, exact, method),
                SourceMetric::LatencyMean | SourceMetric::AllLatencyMean => {
                    Figure::labelled(point.response_time, exact, method)
                }
                SourceMetric::DeliveredFraction | SourceMetric::AllDeliveredFraction => {
                    Figure::labelled(1.0, exact, method)
                }
                _ => Figure::missing("none", "MVA gives means only"),
            };
            (metric, figure)
        })
        .collect();
    Ok(Analysis {
        system: SystemAnalysis {
            stable: true,
            undetermined: None,
            bottleneck,
            headroom: None,
            headroom_reason: Some(format!(
                "a closed population of {population} clients sets the load, not an arrival rate"
            )),
            max_throughput: (max_demand > 0.0).then(|| 1.0 / max_demand),
            offered_rate: point.throughput,
            population_curve,
        },
        nodes: node_analyses,
        sources: vec![SourceAnalysis { name: source.name.clone(), metrics: source_metrics }],
        message_classes: Vec::new(),
        fluid: None,
    })
}

/// Whether MVA is exact for this station.
fn is_product_form(node: &Node) -> bool {
    let plain = node.capacity.is_none() && node.ttl.is_none();
    match node.servers {
        Servers::Infinite => plain,
        Servers::Finite(c) => plain && c == 1 && node.service.is_exponential(),
    }
}

/// The MVA station(s) standing for a node of total demand `demand` per request.
fn mva_stations(node: &Node, demand: f64) -> Vec<MvaStation> {
    match node.servers {
        Servers::Infinite => vec![MvaStation { demand, kind: MvaKind::Delay }],
        Servers::Finite(1) => vec![MvaStation { demand, kind: MvaKind::Queueing }],
        Servers::Finite(c) => {
            let c = f64::from(c);
            vec![
                MvaStation { demand: demand / c, kind: MvaKind::Queueing },
                MvaStation { demand: demand * (c - 1.0) / c, kind: MvaKind::Delay },
            ]
        }
    }
}

/// A node's figures from the MVA solution: `visits` per request, `queue` messages held.
fn closed_node(node: &Node, visits: f64, queue: f64, point: &MvaPoint, exact: bool) -> NodeAnalysis {
    let method = if exact { METHOD } else { APPROXIMATE };
    let lambda = point.throughput * visits;
    let busy = lambda * node.service.mean();
    let utilization = node.servers.count().map_or(0.0, |c| busy / f64::from(c));
    let sojourn = if lambda > 0.0 { queue / lambda } else { node.service.mean() };
    let metrics = NodeMetric::ALL
        .iter()
        .map(|&metric| {
            let figure = match metric {
                NodeMetric::ArrivalRate | NodeMetric::Throughput => Figure::labelled(lambda, exact, method),
                NodeMetric::Utilization if node.servers == Servers::Infinite => {
                    Figure::missing(method, "undefined with infinitely many servers: see mean_in_system")
                }
                NodeMetric::Utilization => Figure::labelled(utilization, exact, method),
                NodeMetric::MeanInSystem => Figure::labelled(queue, exact, method),
                NodeMetric::MeanInQueue => Figure::labelled((queue - busy).max(0.0), exact, method),
                NodeMetric::MeanSojourn => Figure::labelled(sojourn, exact, method),
                NodeMetric::MeanWait => {
                    Figure::labelled((sojourn - node.service.mean()).max(0.0), exact, method)
                }
                NodeMetric::DropProbability | NodeMetric::ExpiredFraction | NodeMetric::QueueGrowthRate => {
                    Figure::labelled(0.0, exact, method)
                }
                _ => Figure::missing("none", "MVA gives means only"),
            };
            (metric, figure)
        })
        .collect();
    NodeAnalysis {
        name: node.name.clone(),
        model: format!("closed ·/{}/{}", node.service.kendall_letter(), node.servers),
        arrival_rate: lambda,
        demand_rate: lambda,
        utilization,
        throughput: lambda,
        stable: true,
        verdict: Verdict::Stable,
        growth_rate: 0.0,
        fill_target: 0.0,
        time_to_fill: None,
        bounds: None,
        metrics,
        priority_classes: Vec::new(),
        message_classes: Vec::new(),
    }
}

/// Figures without values for networks mixing closed populations with other sources.
fn unsolved(network: &Network) -> Analysis {
    let reason = "networks mixing a closed population with other sources are not solved analytically";
    let nodes = network
        .nodes()
        .iter()
        .map(|node| NodeAnalysis {
            name: node.name.clone(),
            model: "mixed".to_owned(),
            arrival_rate: 0.0,
            demand_rate: 0.0,
            utilization: 0.0,
            throughput: 0.0,
            stable: true,
            verdict: Verdict::Stable,
            growth_rate: 0.0,
            fill_target: 0.0,
            time_to_fill: None,
            bounds: None,
            metrics: NodeMetric::ALL.iter().map(|&m| (m, Figure::missing("none", reason))).collect(),
            priority_classes: Vec::new(),
            message_classes: Vec::new(),
        })
        .collect();
    let sources = network
        .sources()
        .iter()
        .map(|source| SourceAnalysis {
            name: source.name.clone(),
            metrics: SourceMetric::ALL.iter().map(|&m| (m, Figure::missing("none", reason))).collect(),
        })
        .collect();
    Analysis {
        system: SystemAnalysis {
            stable: true,
            undetermined: None,
            bottleneck: None,
            headroom: None,
            headroom_reason: Some(reason.to_owned()),
            max_throughput: None,
            offered_rate: 0.0,
            population_curve: Vec::new(),
        },
        nodes,
        sources,
        message_classes: Vec::new(),
        fluid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    #[test]
    fn one_client_sees_no_queueing() {
        // N = 1: R = D_cpu + D_disk = 0.2 + 0.3 = 0.5 s; X = 1/(Z + R) = 1/(1 + 0.5) = 2/3 per s.
        let text = r#"
            [[source]]
            name = "clients"
            to = "cpu"
            population = 1
            think = { dist = "exponential", mean = "1s" }
            [[node]]
            name = "cpu"
            service = { dist = "exponential", mean = "0.2s" }
            routes = [{ to = "disk" }]
            [[node]]
            name = "disk"
            service = { dist = "exponential", mean = "0.3s" }
        "#;
        let network = parse(text, "t", Path::new("t.toml")).unwrap().network;
        let analysis = analyze_closed(&network).unwrap();
        let throughput = analysis.sources[0].metric(SourceMetric::Throughput).unwrap();
        assert!(throughput.exact);
        assert!((throughput.value.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let latency = analysis.sources[0].metric(SourceMetric::LatencyMean).unwrap();
        assert!((latency.value.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(analysis.system.bottleneck.as_deref(), Some("disk"));
        assert!((analysis.system.max_throughput.unwrap() - 1.0 / 0.3).abs() < 1e-12);
        let [(clients, x, r)] = analysis.system.population_curve[..] else { panic!("one point for N = 1") };
        assert_eq!(clients, 1);
        assert!((x - 2.0 / 3.0).abs() < 1e-12 && (r - 0.5).abs() < 1e-12);
    }
}
