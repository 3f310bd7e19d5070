//! Deadlock: a cycle of full blocking channels freezes for ever; the engine must see it when it
//! forms, stop there and report it, even while the rest of the network keeps running.

use kendall::experiment::Experiment;

use crate::support::{ScenarioBuilder, node_index, run, simulate, temp, write_scenario};

/// The fields of a blocking node of capacity 1 that sends 90% of its messages to `peer` and lets
/// the rest exit.
fn cycle(peer: &str) -> String {
    format!(
        "capacity = 1\noverflow = \"block\"\nroutes = [{{ to = \"{peer}\", p = 0.9 }}, {{ to = \"exit\", p = 0.1 }}]"
    )
}

/// Asserts that every replication deadlocked and stopped there, before the horizon `duration_s`,
/// without stopping early.
fn assert_all_deadlocked(experiment: &Experiment, duration_s: f64) {
    assert_eq!(experiment.deadlocked(), experiment.replications.len());
    for replication in &experiment.replications {
        println!("replication {}: deadlocked after {:.3}s", replication.index, replication.observed_s);
        assert!(replication.deadlocked && !replication.stopped_early, "replication {}", replication.index);
        assert!(replication.observed_s < duration_s, "replication {} ran to the horizon", replication.index);
    }
}

/// Two blocking nodes of capacity 1 that route to each other with probability 0.9 (else to
/// exit), fed by a Poisson source: as soon as each holds a finished message bound for the other,
/// neither can move, and the source, finding a full, holds its message too. From every state
/// that deadlock is reached with positive probability within a bounded time, so the time to it
/// has a geometric tail, and with services of 1 s it comes within seconds; over 1e5 s every
/// replication deadlocks (a replication that did not would reach the horizon and fail the test).
/// The engine must then report it and stop at the time of the deadlock instead of running an
/// empty calendar to the horizon; `kendall run` exits 0 with a warning that names it.
#[test]
fn a_cycle_of_full_blocking_channels_deadlocks_and_is_reported() {
    let duration_s = 100_000.0;
    let toml = ScenarioBuilder::simulated(duration_s, 0.0, 4)
        .source("producer", "a", 0.5, "")
        .node("a", 1, 1.0, &cycle("b"))
        .node("b", 1, 1.0, &cycle("a"))
        .toml();
    let experiment = simulate(&toml);
    assert_all_deadlocked(&experiment, duration_s);
    for replication in &experiment.replications {
        assert!(
            replication.observed_s > 0.0,
            "replication {}: observed {}s",
            replication.index,
            replication.observed_s
        );
        // Frozen: each node holds its one message, and its worker holds it blocked.
        for node in &replication.nodes {
            assert_eq!(node.counts.in_system_end, 1, "replication {}: {:?}", replication.index, node.counts);
        }
    }

    let dir = temp();
    let file = write_scenario(&dir, "deadlock.toml", &toml);
    let output = run(&file, &dir.path().join("out"), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("deadlocked"), "stderr: {stderr}");
}

/// The same frozen cycle beside a part of the network that keeps running: a second source feeds
/// an unrelated node, so the calendar never runs dry. The cycle can never move again, so the
/// engine must still see the deadlock when it forms (not run the live part to the horizon), and
/// stop there with both cycle nodes holding their one message each, their workers blocked.
#[test]
fn a_deadlock_is_found_while_the_rest_of_the_network_runs() {
    let duration_s = 100_000.0;
    let toml = ScenarioBuilder::simulated(duration_s, 0.0, 4)
        .source("producer", "a", 0.5, "")
        .source("bystander", "c", 0.5, "")
        .node("a", 1, 1.0, &cycle("b"))
        .node("b", 1, 1.0, &cycle("a"))
        .node("c", 1, 1.0, "")
        .toml();
    let experiment = simulate(&toml);
    assert_all_deadlocked(&experiment, duration_s);
    for replication in &experiment.replications {
        for name in ["a", "b"] {
            let node = &replication.nodes[node_index(&experiment, name)];
            assert_eq!(
                node.counts.in_system_end, 1,
                "replication {} node {name}: {:?}",
                replication.index, node.counts
            );
        }
    }
}
