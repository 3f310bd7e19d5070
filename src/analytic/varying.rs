//! Time-varying load: a source whose rate follows a schedule or replays a trace, or a node whose
//! servers follow a schedule. Such a network has no steady state, so the steady-state closed
//! forms do not hold: every figure is withheld with a reason, the verdict, bottleneck and
//! headroom are those of the averages over the observed window, and the fluid prediction
//! ([`Fluid`](super::fluid::Fluid)) says what happens over time.

use super::results::{Analysis, Figure};
use crate::model::{Distribution, Network, Settings};

/// Why a time-varying network's figures are withheld.
pub const WITHHELD: &str = "time-varying load: no steady state; see the fluid prediction";

/// Whether some source's rate or some node's servers follow the clock.
#[must_use]
pub fn is_time_varying(network: &Network) -> bool {
    network.sources().iter().any(|source| source.schedule().is_some() || source.replay().is_some())
        || network.nodes().iter().any(|node| node.servers_schedule().is_some())
}

/// `network` with every servers schedule replaced by its mean over the observed window
/// `[warmup, warmup + duration]` of `settings`: each such node keeps its most servers, c_max,
/// and serves c_max/c̄ times slower (same family of distribution), so that its capacity is
/// c̄μ and its utilisation λ/(c̄μ), λ being the window's mean rate (as the sources' mean
/// inter-arrival times already are). Per-class and per-byte service times are dropped: pass a
/// network whose services were already made one per node.
pub(super) fn window_average(network: &Network, settings: &Settings) -> Network {
    let (from, to) = (settings.warmup_s(), settings.horizon_s());
    let services = network
        .nodes()
        .iter()
        .map(|node| {
            let (Some(schedule), Some(most)) = (node.servers_schedule(), node.servers().count()) else {
                return node.service().clone();
            };
            let mean = schedule.mean_over(from, to);
            // No server at all over the window: a capacity too small to matter.
            let factor = if mean > 0.0 { f64::from(most) / mean } else { 1e12 };
            slowed(node.service(), factor)
        })
        .collect();
    network.with_services(services)
}

/// `service` with its mean multiplied by `factor`, keeping its Kendall letter (M, D, Ek or G)
/// and coefficient of variation.
fn slowed(service: &Distribution, factor: f64) -> Distribution {
    let mean = service.mean() * factor;
    let scv = service.scv();
    let letter = service.kendall_letter();
    let scaled = if service.is_exponential() {
        Distribution::exponential(mean)
    } else if letter == "D" {
        Distribution::deterministic(mean)
    } else if let Some(k) = letter.strip_prefix('E').and_then(|k| k.parse().ok()) {
        Distribution::erlang(k, mean)
    } else {
        Distribution::gamma(mean, scv.sqrt())
    };
    scaled.unwrap_or_else(|_| service.clone())
}

/// Withholds every figure of `analysis` (per node, class, source and message class) with the
/// reason [`WITHHELD`]: none holds without a steady state.
pub(super) fn withhold(analysis: &mut Analysis) {
    let withheld = || Figure::missing("none", WITHHELD);
    for node in &mut analysis.nodes {
        node.metrics.iter_mut().for_each(|(_, figure)| *figure = withheld());
        for class in node.priority_classes.iter_mut().chain(&mut node.message_classes) {
            class.iter_mut().for_each(|(_, figure)| *figure = withheld());
        }
    }
    for source in &mut analysis.sources {
        source.metrics.iter_mut().for_each(|(_, figure)| *figure = withheld());
    }
    for class in &mut analysis.message_classes {
        class.iter_mut().for_each(|(_, figure)| *figure = withheld());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::fixtures::{TANDEM, analysis, scheduled, steps};
    use crate::analytic::{Verdict, analyze};
    use crate::model::NodeMetric;

    /// One Poisson source into an M/M/2 node (μ = 10/s), observed over [100, 500].
    const NODE: &str = r#"
        [simulation]
        duration = "400s"
        warmup = "100s"
        [[source]]
        name = "s"
        to = "a"
        interarrival = { dist = "exponential", rate = 10.0 }
        [[node]]
        name = "a"
        servers = 2
        service = { dist = "exponential", mean = "0.1s" }
    "#;

    #[test]
    fn a_time_varying_network_has_no_steady_state_figures_and_window_average_loads() {
        // 10/s, 30/s over [100, 200), 10/s: over the window [100, 500] the mean rate is
        // (30 × 100 + 10 × 300)/400 = 15/s, so ρ = 15/20 = 0.75.
        let burst = steps(&[(0.0, 10.0), (100.0, 30.0), (200.0, 10.0)]);
        let analysis = analyze(&scheduled(NODE, &[Some(burst)], &[]), None).unwrap();
        let node = &analysis.nodes[0];
        assert!((node.arrival_rate - 15.0).abs() < 1e-12);
        assert!((node.utilization - 0.75).abs() < 1e-12);
        assert_eq!(node.verdict, Verdict::Stable);
        let source_figures = analysis.sources.iter().flat_map(|source| source.metrics.iter().map(|(_, f)| f));
        for figure in node.metrics.iter().map(|(_, f)| f).chain(source_figures) {
            assert_eq!((figure.value, figure.reason.as_deref()), (None, Some(WITHHELD)), "{figure:?}");
        }
        assert!(node.metric(NodeMetric::MeanWait).is_some());
        let fluid = analysis.fluid.unwrap().unwrap();
        assert!((fluid.peaks()[0].peak_backlog - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn a_servers_schedule_counts_its_mean_over_the_window() {
        // One server but none over [200, 300): 0.75 on average over [100, 500]; 5/s into
        // 0.75 × 10/s gives ρ = 2/3, and the bottleneck and headroom use it: 7.5/5 = 1.5.
        let text = NODE.replace("servers = 2", "servers = 1");
        let servers = steps(&[(0.0, 1.0), (200.0, 0.0), (300.0, 1.0)]);
        let scenario = scheduled(&text, &[Some(steps(&[(0.0, 5.0)]))], &[Some(servers)]);
        let analysis = analyze(&scenario, None).unwrap();
        assert!((analysis.nodes[0].utilization - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(analysis.nodes[0].model, "M/M/1");
        assert!((analysis.system.headroom.unwrap() - 1.5).abs() < 1e-9);
        assert_eq!(analysis.system.bottleneck.as_deref(), Some("a"));
    }

    #[test]
    fn a_steady_overload_reports_the_same_growth_in_the_analysis_and_the_fluid() {
        // 30/s into cμ = 20/s throughout: λ − cμ = 10/s both ways.
        let analysis = analyze(&scheduled(NODE, &[Some(steps(&[(0.0, 30.0)]))], &[]), None).unwrap();
        assert_eq!(analysis.nodes[0].verdict, Verdict::Unstable);
        assert!((analysis.nodes[0].growth_rate - 10.0).abs() < 1e-12);
        let fluid = analysis.fluid.unwrap().unwrap();
        assert!((fluid.peaks()[0].growth_rate - 10.0).abs() < 1e-12);
    }

    #[test]
    fn a_steady_network_has_no_fluid_prediction() {
        assert_eq!(analysis(TANDEM).fluid, None);
    }
}
