//! Analysis of a whole open network without simulating: traffic equations, per-node stability
//! and closed-form figures (each labelled exact or approximate, with its method), the bottleneck,
//! the headroom, and per-source end-to-end figures.

use super::classes::{message_class_figures, network_class_figures};
use super::fluid::Fluid;
use super::latency::analyze_sources;
use super::linear::SingularMatrix;
use super::node::analyze_node;
use super::results::{Analysis, AnalysisError, NodeAnalysis};
use super::service::{Streams, with_effective_service};
use super::shape::Shape;
use super::system::analyze_system;
use super::traffic::{SourceFlow, flows_of, source_flows};
use super::varying::{is_time_varying, window_average, withhold};
use crate::model::{Network, Scenario};

/// Analyses `scenario`'s network; `fill_target` is the N of "time until an unbounded queue
/// holds N" (default [`DEFAULT_FILL_TARGET`](super::DEFAULT_FILL_TARGET)).
///
/// A network whose load follows the clock (a scheduled or replayed source, a servers schedule)
/// has no steady state: its figures are withheld, its rates, utilisations, verdicts, bottleneck
/// and headroom are the averages over the observed window of the scenario's settings, and
/// [`Analysis::fluid`] predicts its load over the run (see [`Fluid`]).
///
/// # Errors
/// When the traffic equations are singular.
pub fn analyze(scenario: &Scenario, fill_target: Option<f64>) -> Result<Analysis, AnalysisError> {
    let network = scenario.network();
    if !is_time_varying(network) {
        return analyze_network(network, fill_target);
    }
    // Averaged after the mixed services are made one (which a schedule's averaging drops).
    let effective = with_effective_service(network, &source_flows(network))?;
    let mut analysis = analyze_network(&window_average(&effective, scenario.settings()), fill_target)?;
    withhold(&mut analysis);
    analysis.fluid = Some(Fluid::new(network, scenario.settings().horizon_s()));
    Ok(analysis)
}

/// The steady-state analysis of `network`.
fn analyze_network(network: &Network, fill_target: Option<f64>) -> Result<Analysis, AnalysisError> {
    let original = network;
    let effective = with_effective_service(network, &source_flows(network))?;
    let network = &effective;
    if network.sources().iter().any(|source| source.open_rate().is_none()) {
        return Ok(super::closed::analyze_closed(network)?);
    }
    let graphs = source_flows(network);
    let flow = flows_of(network, &graphs, 1.0)?;
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
            analysis.priority_classes = super::priority::class_figures(original, &streams, i, poisson);
            super::priority::with_class_means(original, &streams, i, &mut analysis);
            analysis.message_classes = message_class_figures(original, &streams, i, &analysis);
            analysis
        })
        .collect();
    let (sources, class_latencies) = analyze_sources(original, network, &streams, &flow, &graphs, &nodes)?;
    let system = analyze_system(network, &nodes, &demand, &flow)?;
    let classes = network_class_figures(original, &sources, &class_latencies);
    Ok(Analysis { system, nodes, sources, message_classes: classes, fluid: None })
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
