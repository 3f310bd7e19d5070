//! What `kendall analyze` draws beside analysis.json: charts/utilization.svg and .png (theory's
//! ρ per node, the bottleneck, unstable nodes and the 0.8 target line with the headroom), a
//! self-contained report.html with the verdict, the nodes, the closed-form figures and, for
//! load that follows the clock, the fluid peaks; command.json, from which `kendall report`
//! rebuilds the page and the chart byte for byte.

use std::fs;
use std::path::Path;

use kendall::report::{AnalysisFile, number};

use crate::charts::{assert_holds, assert_png, svg};
use crate::report_html::assert_self_contained;
use crate::support::{ScenarioBuilder, kendall, temp, write_scenario};

const IOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/iot-pipeline.toml");
const BLACK_FRIDAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/black-friday.toml");
const OVERLOAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/overload.toml");

/// Runs `kendall analyze SCENARIO --out OUT EXTRA...` and returns report.html and analysis.json.
fn analyze(scenario: &str, out: &Path, extra: &[&str]) -> (String, AnalysisFile) {
    let output = kendall()
        .arg("analyze")
        .arg(scenario)
        .args(["--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let html = fs::read_to_string(out.join("report.html")).expect("report.html is written");
    let text = fs::read_to_string(out.join("analysis.json")).expect("analysis.json is written");
    (html, serde_json::from_str(&text).expect("analysis.json parses"))
}

#[test]
fn analyze_draws_theorys_utilisation_and_writes_a_self_contained_page() {
    let dir = temp();
    let out = dir.path().join("out");
    let (html, analysis) = analyze(IOT, &out, &[]);

    let chart = svg(&out, "utilization.svg");
    let mut fragments = vec![
        "iot-pipeline: utilisation per node (theory)",
        "=theory ρ",
        "=bottleneck",
        "target ρ = 0.8",
        "to ρ = 1 (theory)",
        "utilisation ρ",
        "=node",
    ];
    let names: Vec<String> = analysis.nodes.iter().map(|node| format!("={}", node.name)).collect();
    fragments.extend(names.iter().map(String::as_str));
    assert_holds(&chart, "utilization.svg", &fragments);
    assert!(!chart.contains("95% CI"), "theory has no confidence interval");
    assert_png(&out, "utilization.png", 50);

    assert!(html.starts_with("<!DOCTYPE html>"), "report.html is an HTML5 document");
    assert_self_contained(&html);
    for section in ["Verdict", "Scenario", "Closed-form figures", "Charts", "Reproduce"] {
        assert!(html.contains(&format!("<h2>{section}</h2>")), "report.html lacks the section {section}");
    }
    assert!(html.contains("<h3>Nodes</h3>"), "the nodes' table");
    assert_eq!(html.matches("<svg").count(), 1 + 1, "the drawing of the network and one inline chart");
    // iot-pipeline: 3 sources into ingest, a topic exchange (broker), 6 nodes, the exit.
    let graph = html.split("<svg class=\"graph\"").nth(1).expect("the network is drawn");
    let graph = graph.split("</svg>").next().unwrap_or_default();
    assert_eq!(graph.matches("<rect ").count(), 3 + 1 + 6 + 1, "one box per source, exchange, node, exit");
    for node in &analysis.nodes {
        assert!(graph.contains(&format!(">{}</text>", node.name)), "the drawing lacks {}", node.name);
    }
    assert!(graph.contains(&format!(">{}, ρ 0.83</text>", "M/M/6")), "storage's model and load");
    let bottleneck = analysis.system.bottleneck.as_deref().expect("iot-pipeline has a bottleneck");
    assert!(html.contains(&format!("Bottleneck: <strong>{bottleneck}</strong>")), "the verdict names it");
    assert!(html.contains("Headroom: every arrival rate can grow"), "the verdict gives the headroom");
    for node in &analysis.nodes {
        assert!(
            html.contains(&format!("<td class=\"text\">{}</td>", node.model)),
            "{} in Kendall notation",
            node.name
        );
    }
    assert!(html.contains("(~ marks an approximation"), "the closed forms as the terminal prints them");
    assert!(html.contains(env!("CARGO_PKG_VERSION")), "the version that reproduces it");
    assert!(html.contains("kendall analyze"), "the command line that reproduces it");

    let command: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("command.json")).expect("command.json")).unwrap();
    assert_eq!(command["command"], "analyze");
}

#[test]
fn analyze_without_charts_draws_nothing() {
    let dir = temp();
    let out = dir.path().join("out");
    let (html, _) = analyze(IOT, &out, &["--no-charts"]);
    assert!(!out.join("charts").exists(), "--no-charts writes no chart");
    assert_eq!(html.matches("<svg").count(), 1, "no chart on the page, only the drawing of the network");
    assert!(!html.contains("<h2>Charts</h2>"), "no charts section");
    assert!(html.contains("<h2>Verdict</h2>"), "the page is still written");
}

/// Black Friday's load follows the clock: the page gives each node's peak backlog as the fluid
/// approximation in analysis.json predicts it, and when it drains.
#[test]
fn analyze_shows_the_fluid_peaks_of_load_that_follows_the_clock() {
    let dir = temp();
    let out = dir.path().join("out");
    let (html, analysis) = analyze(BLACK_FRIDAY, &out, &["--no-charts"]);
    assert!(html.contains("<h2>Peaks of the load over time</h2>"), "the fluid section is on the page");
    assert!(html.contains("Stable on average"), "the verdict is an average over the window");
    let load = analysis.load_over_time.expect("black-friday's load follows the clock");
    let peaks: Vec<_> = load.nodes.iter().filter(|node| node.peak_backlog > 0.0).collect();
    assert!(!peaks.is_empty(), "some queue builds up on Black Friday");
    for peak in peaks {
        let drain = peak.drain_s.map_or_else(|| "not by the end".to_owned(), number);
        let row = format!(
            "<td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{drain}</td>",
            peak.name,
            number(peak.peak_arrival_rate),
            number(peak.peak_backlog),
            number(peak.peak_at_s)
        );
        assert!(html.contains(&row), "report.html lacks {row}");
    }
}

/// overload.toml offers its parser ρ = 1.25: the chart and the page mark it unstable.
#[test]
fn analyze_marks_unstable_nodes() {
    let dir = temp();
    let out = dir.path().join("out");
    let (html, _) = analyze(OVERLOAD, &out, &[]);
    assert_holds(
        &svg(&out, "utilization.svg"),
        "utilization.svg",
        &["=unstable", "=unstable (ρ ≥ 1)", "=parser"],
    );
    assert!(html.contains("class=\"verdict bad\">Unstable"), "the verdict says unstable");
    assert!(html.contains("<tr class=\"miss\"><td class=\"text\">parser</td>"), "the parser's row is marked");
}

/// `kendall report DIR` on an analysis's directory redraws its chart and page from analysis.json
/// and command.json, byte for byte.
#[test]
fn report_rebuilds_an_analysis_byte_for_byte() {
    let dir = temp();
    let out = dir.path().join("out");
    let (html, _) = analyze(IOT, &out, &[]);
    assert_rebuilt(&out, &html);
}

/// Removes the page and the charts of the analysis in `out`, runs `kendall report` on it and
/// asserts it wrote `html` and the same chart again.
fn assert_rebuilt(out: &Path, html: &str) {
    let chart = svg(out, "utilization.svg");
    fs::remove_dir_all(out.join("charts")).unwrap();
    fs::remove_file(out.join("report.html")).unwrap();
    let output = kendall().arg("report").arg(out).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(fs::read_to_string(out.join("report.html")).unwrap(), html);
    assert_eq!(svg(out, "utilization.svg"), chart);
}

/// A blocking queue b (capacity 2, one server of mean 1 s) fed 0.5/s by a source and 0.3/s by
/// node a (one server of mean 0.5 s), b routing to exit.
fn shared_blocking() -> String {
    ScenarioBuilder::new()
        .source("direct", "b", 0.5, "")
        .source("via", "a", 0.3, "")
        .node("a", 1, 0.5, "routes = [{ to = \"b\" }]")
        .node("b", 1, 1.0, "capacity = 2\noverflow = \"block\"\nroutes = [{ to = \"exit\" }]")
        .toml()
}

/// b's throughput has no closed form (a source and a node feed it): it carries at least what a
/// sends, 0.3/s (a waits while b is full and loses nothing), and at most min(offered 0.8/s,
/// cμ = 1/s) = 0.8/s. The table's node header, the page's node row, drawing and chart (a
/// whisker) and analysis.json give those bounds, and nothing prints the upper bound as if it
/// were b's rate; `kendall report` rebuilds the page and the chart byte for byte.
#[test]
fn a_node_with_only_bounds_shows_them_as_a_range_everywhere() {
    let dir = temp();
    let scenario = write_scenario(&dir, "shared.toml", &shared_blocking());
    let out = dir.path().join("out");
    let output = kendall()
        .arg("analyze")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8(output.stdout).unwrap();
    let html = fs::read_to_string(out.join("report.html")).expect("report.html is written");
    let file: AnalysisFile = serde_json::from_str(&fs::read_to_string(out.join("analysis.json")).unwrap())
        .expect("analysis.json parses");

    let b = file.nodes.iter().find(|node| node.name == "b").expect("node b");
    let bounds = b.bounds.expect("b's rates have bounds");
    for (what, [low, high]) in [("arrival rate", bounds.arrival_rate), ("throughput", bounds.throughput)] {
        assert!((low - 0.3).abs() < 1e-12 && (high - 0.8).abs() < 1e-12, "b's {what}: {low}..{high}");
    }
    for key in ["arrival_rate", "throughput"] {
        let figure = &b.metrics[key];
        assert_eq!(figure.value, None, "b's {key} is withheld");
        assert!(figure.reason.as_deref().unwrap().starts_with("no closed form: "), "{figure:?}");
    }

    let header = format!(
        "node b [M/M/1/2]: λ 0.3000–0.8000/s, ρ 0.3000–0.8000, throughput 0.3000–0.8000/s, {}\n",
        b.verdict
    );
    assert!(table.contains(&header), "the table lacks {header}: {table}");
    // a's servers are held by b, which a source also feeds: no closed form says where a
    // saturates, so its verdict is open (see crosscheck::senders_held_by_a_shared_blocking_queue).
    assert!(
        table.contains("node a [M/M/1]: λ 0.3000/s, ρ 0.1500, throughput 0.3000/s, undetermined\n"),
        "{table}"
    );
    for unmarked in ["λ 0.8000/s", "ρ 0.8000,", "throughput 0.8000/s"] {
        assert!(!table.contains(unmarked), "the table prints {unmarked}: {table}");
        assert!(!html.contains(unmarked), "the page prints {unmarked}");
    }
    let row = format!(
        "<td class=\"text\">b</td><td class=\"text\">M/M/1/2</td><td>0.3000–0.8000</td>\
         <td>0.3000–0.8000</td><td>0.3000–0.8000</td><td>{}</td>",
        b.verdict
    );
    assert!(html.contains(&row), "report.html lacks {row}");
    assert!(!html.contains("<td>0.8000</td>"), "the page prints b's upper bound unmarked");
    assert!(html.contains(&header), "the page's figures repeat the table's header");
    assert!(html.contains(">M/M/1/2, ρ 0.30–0.80</text>"), "the drawing gives b's range");
    let chart = svg(&out, "utilization.svg");
    assert_holds(&chart, "utilization.svg", &["=bounds (no closed form)", "=b"]);
    assert_rebuilt(&out, &html);
}
