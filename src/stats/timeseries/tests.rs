//! The recorder driven through the collector's observer calls, against figures worked by hand.

use std::path::Path;

use crate::engine::{MessageEnd, NodeState, Observer, RunEnd};
use crate::model::{MessageClassId, NodeId, NodeMetric, Scenario, Schedule, Shape, SourceId};
use crate::scenario::parse;
use crate::stats::{Collector, ReplicationResult};

const NODE: NodeId = NodeId(0);

/// One source into one server, over 5 s of warm-up and 20 s observed: intervals of 10 s end at
/// 10, 20 and 25 s (the last one short).
fn scenario(sample_every: Option<f64>) -> Scenario {
    let text = r#"
        [simulation]
        duration = "20s"
        warmup = "5s"
        [[source]]
        name = "clients"
        to = "server"
        interarrival = { dist = "exponential", rate = 1 }
        [[node]]
        name = "server"
        servers = 1
        service = { dist = "exponential", mean = "1s" }
    "#;
    let mut scenario = parse(text, "series", Path::new("series.toml")).expect("a valid scenario");
    scenario.settings.sample_every = sample_every;
    scenario
}

fn born(at: f64) -> MessageEnd {
    MessageEnd { source: SourceId(0), copy: false, class: MessageClassId(0), born: at }
}

fn state(in_system: u32, busy: u32) -> NodeState {
    NodeState { in_system, busy, blocked: 0 }
}

fn end(end_s: f64) -> RunEnd {
    RunEnd { events: 0, end_s, stopped_early: false, deadlocked: false }
}

/// A (born 2) and B (born 4) arrive; the warm-up ends at 5; A leaves at 6; C (born 8) is dropped;
/// D (born 12) arrives and waits; B, served from 6, leaves at 21; D at 24.
fn drive(collector: &mut Collector, sample: bool) {
    let sample = |collector: &mut Collector, now: f64, oldest: Option<f64>| {
        if sample {
            collector.sample(now, &[oldest]);
        }
    };
    collector.node_state(NODE, 2.0, state(1, 1));
    collector.node_state(NODE, 4.0, state(2, 1));
    collector.observation_start(5.0);
    collector.departure(NODE, 0.0, 4.0, 0, MessageClassId(0));
    collector.delivery(born(2.0), Some(NODE), 4.0);
    collector.node_state(NODE, 6.0, state(1, 1));
    collector.drop(NODE, born(8.0));
    sample(collector, 10.0, None);
    collector.node_state(NODE, 12.0, state(2, 1));
    sample(collector, 20.0, Some(12.0));
    collector.departure(NODE, 2.0, 17.0, 0, MessageClassId(0));
    collector.delivery(born(4.0), Some(NODE), 17.0);
    collector.node_state(NODE, 21.0, state(1, 1));
    collector.departure(NODE, 9.0, 12.0, 0, MessageClassId(0));
    collector.delivery(born(12.0), Some(NODE), 12.0);
    collector.node_state(NODE, 24.0, state(0, 0));
    sample(collector, 25.0, None);
}

fn run(sample_every: Option<f64>) -> ReplicationResult {
    let scenario = scenario(sample_every);
    let mut collector = Collector::new(&scenario.network, &scenario.settings);
    drive(&mut collector, sample_every.is_some());
    collector.finish(0, end(25.0))
}

fn close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} against {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual:?} against {expected:?}");
    }
}

#[test]
fn node_figures_are_time_averages_and_rates_over_each_interval() {
    let series = run(Some(10.0)).series.expect("a time series");
    assert_eq!(series.every_s, 10.0);
    assert_eq!(series.times_s, [10.0, 20.0, 25.0]);
    let node = &series.nodes[0];
    // [0, 10]: held 1 over 2..4, 2 over 4..6, 1 over 6..10: (2 + 4 + 4) / 10 = 1; busy 8 / 10.
    // [10, 20]: 1 over 10..12, 2 over 12..20: 18 / 10; busy 10 / 10.
    // [20, 25] (5 s): 2 over 20..21, 1 over 21..24: 5 / 5; busy 4 / 5.
    close(&node.in_system, &[1.0, 1.8, 1.0]);
    close(&node.busy, &[0.8, 1.0, 0.8]);
    close(&node.in_queue, &[0.2, 0.8, 0.2]);
    // One departure in the first interval, none in the second, two in the short last one.
    close(&node.throughput, &[0.1, 0.0, 0.4]);
    close(&node.drop_rate, &[0.1, 0.0, 0.0]);
    // At 20 s, D has waited since 12 s.
    close(&node.oldest_age, &[0.0, 8.0, 0.0]);
}

#[test]
fn latencies_count_in_the_interval_their_message_was_created() {
    let series = run(Some(10.0)).series.expect("a time series");
    let source = &series.sources[0];
    // A (4 s) and B (17 s, delivered in the third interval) were created in the first; D (12 s)
    // in the second; nothing created in the third was delivered.
    assert_eq!(source.latency_mean, [Some(10.5), Some(12.0), None]);
    let p99 = source.latency_p99.iter().map(|p| p.unwrap_or(f64::NAN)).collect::<Vec<_>>();
    // The 99th percentile of {4, 17} is 17 (rank ⌈0.99 × 2⌉ = 2), within the coarse
    // histogram's 3.2%.
    assert!((p99[0] - 17.0).abs() < 0.032 * 17.0 && (p99[1] - 12.0).abs() < 0.032 * 12.0, "{p99:?}");
    assert_eq!(source.latency_p99[2], None);
}

#[test]
fn the_warm_up_reset_leaves_the_series_alone_and_the_summary_as_without_it() {
    let with = run(Some(10.0));
    let without = run(None);
    assert_eq!(without.series, None);
    // The steady-state window [5, 25] is the same either way: 3 departures in 20 s.
    let throughput = with.nodes[0].metrics.get(NodeMetric::Throughput);
    assert_eq!(throughput, Some(3.0 / 20.0));
    let mut stripped = with.clone();
    stripped.series = None;
    assert_eq!(stripped, without);
}

#[test]
fn a_replication_that_stops_early_keeps_the_intervals_it_finished() {
    let scenario = scenario(Some(10.0));
    let mut collector = Collector::new(&scenario.network, &scenario.settings);
    collector.node_state(NODE, 2.0, state(1, 1));
    collector.sample(10.0, &[None]);
    collector.delivery(born(12.0), Some(NODE), 1.0);
    let series = collector.finish(0, RunEnd { stopped_early: true, ..end(13.0) }).series.unwrap();
    assert_eq!(series.times_s, [10.0]);
    close(&series.nodes[0].in_system, &[0.8]);
    // The delivery of a message created in the unfinished interval is not reported.
    assert_eq!(series.sources[0].latency_mean, [None]);
}

#[test]
fn utilisation_with_a_servers_schedule_is_over_the_servers_available() {
    // Two servers until 10 s, then one: both busy until 10 s, one until 15 s, then idle.
    let run = |scheduled: bool| {
        let mut scenario = scenario(None);
        scenario.settings.warmup_s = 0.0;
        let mut nodes = scenario.network.nodes().to_vec();
        nodes[0].servers = crate::model::Servers::Finite(2);
        if scheduled {
            let steps = Schedule::new(&[(0.0, 2.0), (10.0, 1.0)], Shape::Step, None).unwrap();
            nodes[0].servers_schedule = Some(steps);
        }
        let network = crate::model::Network::new(
            scenario.network.sources().to_vec(),
            nodes,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        )
        .unwrap();
        let mut collector = Collector::new(&network, &scenario.settings);
        collector.observation_start(0.0);
        if scheduled {
            collector.servers_changed(NODE, 0.0, 2);
        }
        collector.node_state(NODE, 0.0, state(2, 2));
        if scheduled {
            collector.servers_changed(NODE, 10.0, 1);
        }
        collector.node_state(NODE, 10.0, state(1, 1));
        collector.node_state(NODE, 15.0, state(0, 0));
        collector.finish(0, end(20.0)).nodes[0].metrics.get(NodeMetric::Utilization)
    };
    // Busy server-seconds 2 × 10 + 1 × 5 = 25 over available ones 2 × 10 + 1 × 10 = 30.
    assert_eq!(run(true), Some(25.0 / 30.0));
    // Without a schedule, as always: 25 / 2 / 20.
    assert_eq!(run(false), Some(25.0 / 2.0 / 20.0));
}
