//! Large networks: the traffic equations of 10 000 nodes are solved right (rates known by hand),
//! and a 50 000-node chain is checked without a deep stack or a table of all pairs of nodes.
//! Timings are a benchmark, not a test: `cargo bench --bench analysis`.

use std::fmt::Write as _;

use crate::support::{analysis, kendall, temp, write_scenario};

/// A source of `rate` per second into node n0, then the nodes given by `routes(i)` (the TOML
/// of node i's `routes`, or `None` for none), each an M/M/1 with a 1 ms mean service.
fn network(nodes: usize, rate: f64, routes: impl Fn(usize) -> Option<String>) -> String {
    let mut text = format!(
        "[[source]]\nname = \"s\"\nto = \"n0\"\ninterarrival = {{ dist = \"exponential\", rate = {rate} }}\n"
    );
    for i in 0..nodes {
        let _ = write!(
            text,
            "[[node]]\nname = \"n{i}\"\nservice = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
        );
        if let Some(routes) = routes(i) {
            let _ = writeln!(text, "routes = [{routes}]");
        }
    }
    text
}

fn assert_rate(what: &str, actual: f64, expected: f64) {
    assert!((actual - expected).abs() <= 1e-9 * expected, "{what}: {actual} vs {expected}");
}

#[test]
fn a_ring_of_ten_thousand_nodes_doubles_the_rate() {
    // n0 → n1 → … → n9999, which sends half back to n0 and half out: every node is on one loop
    // of 10 000 (solved iteratively). λ_i = γ + λ_9999/2 with λ_9999 = λ_0 gives λ_i = 2γ = 2/s.
    let n = 10_000;
    let text = network(n, 1.0, |i| {
        Some(if i + 1 < n {
            format!("{{ to = \"n{}\" }}", i + 1)
        } else {
            r#"{ to = "n0", p = 0.5 }, { to = "exit", p = 0.5 }"#.to_owned()
        })
    });
    let analysis = analysis(&text);
    for node in &analysis.nodes {
        assert_rate(&node.name, node.arrival_rate, 2.0);
    }
    // ρ = 2 × 0.001 at each node: the load can grow 500-fold.
    assert_rate("headroom", analysis.system.headroom.unwrap(), 500.0);
}

#[test]
fn a_binary_tree_of_ten_thousand_nodes_halves_the_rate_per_level() {
    // Node i sends half to 2i + 1 and half to 2i + 2 (exit where there is none), so a node at
    // depth d = ⌊log2(i + 1)⌋ gets γ / 2^d, γ = 512/s.
    let n = 10_000;
    let text = network(n, 512.0, |i| {
        let child = |k: usize| if k < n { format!("\"n{k}\"") } else { "\"exit\"".to_owned() };
        Some(format!("{{ to = {}, p = 0.5 }}, {{ to = {}, p = 0.5 }}", child(2 * i + 1), child(2 * i + 2)))
    });
    let analysis = analysis(&text);
    for (i, node) in analysis.nodes.iter().enumerate() {
        let depth = (i + 1).ilog2();
        assert_rate(&node.name, node.arrival_rate, 512.0 / f64::from(2_u32.pow(depth)));
    }
    // The root is the bottleneck: ρ = 512 × 0.001, so the load can grow by 1/0.512.
    assert_eq!(analysis.system.bottleneck.as_deref(), Some("n0"));
    assert_rate("headroom", analysis.system.headroom.unwrap(), 1.0 / 0.512);
}

#[test]
fn a_random_graph_of_ten_thousand_nodes_conserves_flow() {
    // Three routes of p = 0.3 to pseudo-random nodes and 0.1 out: one large loop. The solution
    // must satisfy λ_j = γ [j = 0] + Σ_i 0.3 λ_i (i → j), and the total out is γ (Σ 0.1 λ_i = γ).
    let n = 10_000;
    let targets = |i: usize| [13_usize, 14, 15].map(|k| (i * 7919 + k) % n);
    let text = network(n, 3.0, |i| {
        let [a, b, c] = targets(i);
        Some(format!(
            "{{ to = \"n{a}\", p = 0.3 }}, {{ to = \"n{b}\", p = 0.3 }}, {{ to = \"n{c}\", p = 0.3 }}, {{ to = \"exit\", p = 0.1 }}"
        ))
    });
    let analysis = analysis(&text);
    let lambda: Vec<f64> = analysis.nodes.iter().map(|node| node.arrival_rate).collect();
    let mut inflow = vec![0.0; n];
    inflow[0] = 3.0;
    for (i, &rate) in lambda.iter().enumerate() {
        targets(i).iter().for_each(|&j| inflow[j] += 0.3 * rate);
    }
    for (j, (&computed, &balance)) in lambda.iter().zip(&inflow).enumerate() {
        assert!((computed - balance).abs() <= 1e-9 * computed.max(1.0), "n{j}: {computed} vs {balance}");
    }
    assert_rate("flow out", 0.1 * lambda.iter().sum::<f64>(), 3.0);
}

#[test]
fn a_chain_of_fifty_thousand_nodes_is_checked() {
    // Once aborted: a table of all pairs of nodes (20 GB), or a stack overflow.
    let n = 50_000;
    let text = network(n, 1.0, |i| (i + 1 < n).then(|| format!("{{ to = \"n{}\" }}", i + 1)));
    let dir = temp();
    let path = write_scenario(&dir, "chain.toml", &text);
    let output = kendall().arg("check").arg(&path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("n49999"), "the last node is described");
}

/// Runs `kendall check` on `text` and returns its exit status and standard error.
fn check(name: &str, text: &str) -> (Option<i32>, String) {
    let dir = temp();
    let path = write_scenario(&dir, name, text);
    let output = kendall().arg("check").arg(&path).output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_file_beyond_32_mib_is_refused_before_parsing() {
    // A valid scenario padded with a comment to 32 MiB + 1 byte.
    let mut text = network(1, 1.0, |_| None);
    text.push('#');
    text.push_str(&"x".repeat((32 << 20) + 1 - text.len() - 1));
    text.push('\n');
    let (code, stderr) = check("huge.toml", &text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("huge.toml:1:1:"), "{stderr}");
    assert!(stderr.contains("33554433 bytes, more than the limit of 33554432 bytes (32 MiB)"), "{stderr}");
}

#[test]
fn more_than_100_000_nodes_are_refused() {
    let (code, stderr) = check("many.toml", &network(100_001, 1.0, |_| None));
    assert_eq!(code, Some(2), "{stderr}");
    // Named at the first node beyond the limit: the source takes 4 lines, each node 3.
    assert!(stderr.contains(&format!("many.toml:{}:1:", 4 + 3 * 100_000 + 1)), "{stderr}");
    assert!(
        stderr.contains("declares 100001 nodes and exchanges, more than the limit of 100000"),
        "{stderr}"
    );
}
