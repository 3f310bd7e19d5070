//! Subscriber latency: where every delivery leaves from one node, that node reports every
//! delivery as its subscribers' latency, exactly the sources' figures.

use kendall::model::NodeId;
use kendall::stats::{NodeMetric, SourceMetric};

use crate::support::{ScenarioBuilder, node_index, scenario, simulate, value};

/// Where every delivery leaves from one node, that node's subscriber latency is every source's
/// latency (the collector merges the sources' histograms instead of recording each delivery
/// twice): in every replication its mean and p99 equal the source's, over the same deliveries.
/// Where a second way out exists (the first node sends some messages out too), there is no sole
/// exit node.
#[test]
fn a_sole_exit_node_reports_every_delivery_as_its_subscribers() {
    let toml = ScenarioBuilder::simulated(2_000.0, 200.0, 3)
        .source("producer", "a", 0.5, "keys = { \"x\" = 0.5, \"y\" = 0.5 }")
        .node("a", 1, 0.5, "routes = [{ to = \"router\" }]")
        .exchange("router", "direct", &[r#"{ key = "x", to = "b" }"#, r#"{ key = "y", to = "b" }"#], "")
        .node("b", 1, 0.5, "")
        .toml();
    assert_eq!(scenario(&toml).network().sole_exit_node(), Some(NodeId(1)));
    let experiment = simulate(&toml);
    let b = node_index(&experiment, "b");
    for replication in &experiment.replications {
        let (node, source) = (&replication.nodes[b].metrics, &replication.sources[0].metrics);
        let mean = value(node, NodeMetric::SubscriberLatencyMean);
        assert!((mean - value(source, SourceMetric::LatencyMean)).abs() <= 1e-12 * mean);
        assert_eq!(value(node, NodeMetric::SubscriberLatencyP99), value(source, SourceMetric::LatencyP99));
    }
    let leaky =
        toml.replace("[{ to = \"router\" }]", "[{ to = \"router\", p = 0.9 }, { to = \"exit\", p = 0.1 }]");
    assert_eq!(scenario(&leaky).network().sole_exit_node(), None);
}
