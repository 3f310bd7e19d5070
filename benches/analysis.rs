//! Analysis of large networks: the time to parse and validate (what `kendall check` does before
//! printing) and to analyse (`kendall analyze` before writing its files) networks of 500 to
//! 10 000 nodes with a few routes each. Run with `cargo bench --bench analysis` (or
//! `cargo bench --bench analysis -- random` for the random graphs only).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use kendall::analytic::analyze;

/// A source of 1 message/s into node n0, then `nodes` M/M/1 nodes of mean service 1 ms whose
/// routes `routes(i)` gives (TOML, `None` for none).
fn network(nodes: usize, routes: impl Fn(usize) -> Option<String>) -> String {
    let mut text = String::from(
        "[[source]]\nname = \"s\"\nto = \"n0\"\ninterarrival = { dist = \"exponential\", rate = 1.0 }\n",
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

/// A chain n0 → n1 → … → exit.
fn chain(nodes: usize) -> String {
    network(nodes, |i| (i + 1 < nodes).then(|| format!("{{ to = \"n{}\" }}", i + 1)))
}

/// Three routes of p = 0.3 per node to pseudo-random nodes, 0.1 out: one large loop.
fn random(nodes: usize) -> String {
    network(nodes, |i| {
        let targets = [13_usize, 14, 15].map(|k| (i * 7919 + k) % nodes);
        let routes: Vec<String> = targets.iter().map(|t| format!("{{ to = \"n{t}\", p = 0.3 }}")).collect();
        Some(format!("{}, {{ to = \"exit\", p = 0.1 }}", routes.join(", ")))
    })
}

/// Parses, then analyses, `text`, printing both times.
fn measure(name: &str, text: &str) {
    let started = Instant::now();
    let scenario =
        kendall::scenario::parse(text, name, Path::new(name)).expect("benchmark scenario is valid");
    let parsed = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let analysis = analyze(&scenario, None).expect("solvable");
    let analysed = started.elapsed().as_secs_f64();
    println!(
        "{name:<14} {:>6} nodes: parse and check {parsed:>7.3}s, analyse {analysed:>7.3}s (headroom {:.4})",
        analysis.nodes.len(),
        analysis.system.headroom.unwrap_or(f64::NAN)
    );
}

/// Runs every benchmark, or those whose name contains the first argument.
fn main() {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-')).unwrap_or_default();
    for nodes in [500, 1000, 2000, 10_000] {
        for (kind, text) in [("chain", chain(nodes)), ("random", random(nodes))] {
            let name = format!("{kind}-{nodes}");
            if name.contains(filter.as_str()) {
                measure(&name, &text);
            }
        }
    }
}
