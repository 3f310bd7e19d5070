//! Scenarios and helpers shared by the unit tests of the analysis of open networks.

use std::path::Path;

use super::{Analysis, analyze};
use crate::scenario::parse;

/// The network of the scenario `text`.
pub(crate) fn network(text: &str) -> crate::model::Network {
    parse(text, "t", Path::new("t.toml")).unwrap().network
}

/// The analysis of the scenario `text`.
pub(crate) fn analysis(text: &str) -> Analysis {
    analyze(&parse(text, "t", Path::new("t.toml")).unwrap(), None).unwrap()
}

/// A Poisson source into an M/M/1 node `a` then an M/M/2 node `b`: ρa = 0.5, ρb = 0.8.
pub(crate) const TANDEM: &str = r#"
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

/// The scenario `text` with the rate of source i following `rates[i]` (when given) and the
/// servers of node j following `servers[j]` (when given), built as the scenario parser does:
/// each scheduled source's mean gap is that of the observed window, each scheduled node has the
/// most servers its schedule gives.
pub(crate) fn scheduled(
    text: &str,
    rates: &[Option<crate::model::Schedule>],
    servers: &[Option<crate::model::Schedule>],
) -> crate::model::Scenario {
    use crate::model::{Arrivals, Distribution, Network, Pattern, Scenario, Servers};
    let scenario = parse(text, "t", Path::new("t.toml")).unwrap();
    let (from, to) = (scenario.settings.warmup_s(), scenario.settings.horizon_s());
    let network = &scenario.network;
    let mut sources = network.sources().to_vec();
    for (source, schedule) in sources.iter_mut().zip(rates) {
        if let Some(schedule) = schedule {
            let interarrival = Distribution::exponential(1.0 / schedule.mean_over(from, to)).unwrap();
            source.arrivals = Arrivals::Open { interarrival, pattern: Pattern::Scheduled(schedule.clone()) };
        }
    }
    let mut nodes = network.nodes().to_vec();
    for (node, schedule) in nodes.iter_mut().zip(servers) {
        if let Some(schedule) = schedule {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole numbers
            let most = schedule.max() as u32;
            node.servers = Servers::Finite(most);
            node.servers_schedule = Some(schedule.clone());
        }
    }
    let network = Network::new(
        sources,
        nodes,
        network.exchanges().to_vec(),
        network.keys().to_vec(),
        network.message_classes().to_vec(),
    )
    .unwrap();
    Scenario { network, ..scenario }
}

/// A step schedule through `points` (time in seconds, value).
pub(crate) fn steps(points: &[(f64, f64)]) -> crate::model::Schedule {
    crate::model::Schedule::new(points, crate::model::Shape::Step, None).unwrap()
}
