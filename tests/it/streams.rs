//! Random streams keyed by entity name (issue 8): a variant of a scenario that adds an unrelated
//! part (its own source feeding its own exchange and node, listed first so that every other
//! entity's index shifts) leaves every other entity's figures bit-identical, because each stream
//! is keyed by (seed, replication, purpose, name) and the added part neither feeds nor is fed by
//! the rest.

use kendall::experiment::Experiment;
use kendall::stats::{EntitySummary, Estimate, Metric, MetricValues, NodeReplication};

use crate::support::{ScenarioBuilder, simulate};

/// A network that draws from every purpose: a source with routing keys and priorities into a
/// direct exchange; a priority node with probabilistic routes, one of them delayed, into a
/// shortest-queue exchange over two nodes and a finite, dropping audit node.
const BASE: &str = r#"
[[source]]
name = "orders"
to = "router"
interarrival = { dist = "exponential", rate = 2.0 }
keys = { "eu" = 0.6, "us" = 0.4 }
priority = { "1" = 0.3, "0" = 0.7 }

[[exchange]]
name = "router"
type = "direct"
bindings = [{ key = "eu", to = "eu" }, { key = "us", to = "spread" }]

[[exchange]]
name = "spread"
type = "shortest-queue"
bindings = [{ to = "w1" }, { to = "w2" }]

[[node]]
name = "eu"
servers = 2
discipline = "priority"
service = { dist = "lognormal", mean = "0.8s", cv = 1.2 }
routes = [{ to = "audit", p = 0.3, delay = { dist = "exponential", mean = "0.1s" } }, { to = "exit", p = 0.7 }]

[[node]]
name = "w1"
service = { dist = "exponential", mean = "1s" }

[[node]]
name = "w2"
service = { dist = "exponential", mean = "1s" }

[[node]]
name = "audit"
capacity = 3
service = { dist = "exponential", mean = "0.5s" }
"#;

/// The unrelated part, listed before everything else: a source into a random exchange over one
/// node.
const ADDED: &str = r#"
[[source]]
name = "noise"
to = "scatter"
interarrival = { dist = "exponential", rate = 3.0 }

[[exchange]]
name = "scatter"
type = "random"
bindings = [{ to = "extra" }]

[[node]]
name = "extra"
servers = 4
service = { dist = "exponential", mean = "1s" }
"#;

/// Each value's bits, so that equality is bit-identity (values are finite or absent).
fn bits<M: Metric>(values: &MetricValues<M>) -> Vec<(M, Option<u64>)> {
    values.iter().map(|(metric, value)| (metric, value.map(f64::to_bits))).collect()
}

/// The bits of every estimate of an entity's summary: mean and interval ends.
fn estimate_bits<M: Metric>(entity: &EntitySummary<M>) -> Vec<(M, Option<[u64; 3]>)> {
    let bits = |estimate: Estimate| {
        let [low, high] = estimate.ci95.expect("several replications");
        [estimate.mean.to_bits(), low.to_bits(), high.to_bits()]
    };
    entity.estimates.iter().map(|&(metric, estimate)| (metric, estimate.map(bits))).collect()
}

/// Asserts that every node, source and exchange of `base` has bit-identical figures in `variant`,
/// in every replication and in the summary, matched by name.
fn assert_same_figures(base: &Experiment, variant: &Experiment) {
    assert_eq!(base.replications.len(), variant.replications.len());
    let position = |names: Vec<&str>, name: &str| {
        names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name} is in the variant"))
    };
    let (summary, varied) = (&base.summary, &variant.summary);
    let mut compared = 0;
    for (i, node) in summary.nodes.iter().enumerate() {
        let j = position(varied.nodes.iter().map(|n| n.name.as_str()).collect(), &node.name);
        assert_eq!(estimate_bits(node), estimate_bits(&varied.nodes[j]), "node {}", node.name);
        for (one, other) in base.replications.iter().zip(&variant.replications) {
            let (a, b) = (&one.nodes[i], &other.nodes[j]);
            assert_eq!(bits(&a.metrics), bits(&b.metrics), "node {} replication {}", node.name, one.index);
            assert_eq!(a.counts, b.counts, "node {} replication {}", node.name, one.index);
            let classes = |r: &NodeReplication| r.priority_classes.iter().map(bits).collect::<Vec<_>>();
            assert_eq!(classes(a), classes(b), "node {} replication {}", node.name, one.index);
            compared += 1;
        }
    }
    for (i, source) in summary.sources.iter().enumerate() {
        let j = position(varied.sources.iter().map(|s| s.name.as_str()).collect(), &source.name);
        assert_eq!(estimate_bits(source), estimate_bits(&varied.sources[j]), "source {}", source.name);
        for (one, other) in base.replications.iter().zip(&variant.replications) {
            let (a, b) = (&one.sources[i], &other.sources[j]);
            assert_eq!(
                bits(&a.metrics),
                bits(&b.metrics),
                "source {} replication {}",
                source.name,
                one.index
            );
            assert_eq!((a.delivered, a.dropped), (b.delivered, b.dropped), "source {}", source.name);
            compared += 1;
        }
    }
    for (i, exchange) in summary.exchanges.iter().enumerate() {
        let j = position(varied.exchanges.iter().map(|x| x.name.as_str()).collect(), &exchange.name);
        assert_eq!(
            estimate_bits(exchange),
            estimate_bits(&varied.exchanges[j]),
            "exchange {}",
            exchange.name
        );
        for (one, other) in base.replications.iter().zip(&variant.replications) {
            let (a, b) = (&one.exchanges[i], &other.exchanges[j]);
            assert_eq!(
                bits(&a.metrics),
                bits(&b.metrics),
                "exchange {} replication {}",
                exchange.name,
                one.index
            );
            assert_eq!((a.routed, a.unroutable), (b.routed, b.unroutable), "exchange {}", exchange.name);
            compared += 1;
        }
    }
    // 4 nodes, 1 source and 2 exchanges, in each of 3 replications.
    assert_eq!(compared, 7 * 3);
}

#[test]
fn an_unrelated_node_leaves_every_other_figure_bit_identical() {
    let settings = ScenarioBuilder::simulated(2000.0, 100.0, 3).toml();
    let base = simulate(&format!("{settings}{BASE}"));
    let variant = simulate(&format!("{settings}{ADDED}{BASE}"));
    assert_eq!(variant.summary.nodes[0].name, "extra", "the added node comes first, shifting the others");
    assert!(variant.events > base.events);
    assert_same_figures(&base, &variant);
}
