//! The stability map of a two-path sweep and the plan chart, with their places in report.html:
//! for mmc (M/M/c, λ = 3.4/s, mean service 1s), a grid of load × servers gets one cell per point
//! coloured by the bottleneck's ρ, the ρ = 1 frontier and the cells past saturation crossed
//! out; a plan gets the SLO metric against the servers, the SLO line and the recommended count,
//! and with --max-load the SLO metric against the load factor and the highest load found.
//! Runs are short: the content, not the numbers, is under test.

use std::fs;
use std::path::Path;

use kendall::report::SweepFile;
use serde_json::Value;

use crate::charts::{assert_holds, assert_png, svg, texts};
use crate::report_html::assert_self_contained;
use crate::support::{kendall, temp};

const MMC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.toml");

/// A short sweep's flags.
const SHORT: &[&str] = &["--duration", "500s", "--warmup", "50s", "--replications", "2", "--quiet"];

/// A plan's flags: enough replications for CIs that can tell a count that meets the SLO.
const PLAN: &[&str] = &["--duration", "2000s", "--warmup", "200s", "--replications", "10", "--quiet"];

/// Runs kendall with `arguments`, `flags` and `--out OUT`, asserting success.
fn kendall_ok(arguments: &[&str], flags: &[&str], out: &Path) {
    let output = kendall().args(arguments).args(flags).arg("--out").arg(out).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
}

/// The ρ written in each cell of a stability map ("ρ 0.85"), in drawing order.
fn cells(svg: &str) -> Vec<String> {
    texts(svg)
        .iter()
        .filter_map(|text| text.strip_prefix("ρ ").filter(|rho| rho.parse::<f64>().is_ok()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_sweep_of_load_and_servers_draws_a_stability_map() {
    let dir = temp();
    let out = dir.path().join("out");
    let vary = ["sweep", MMC, "--vary", "load=0.6..1.3:8", "--vary", "node.workers.servers=3,4,5,6"];
    kendall_ok(&vary, SHORT, &out);
    let sweep: SweepFile =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).expect("sweep.json"))
            .expect("parses");
    assert_eq!(sweep.points.len(), 8 * 4);

    let map = svg(&out, "stability-map.svg");
    assert_holds(
        &map,
        "stability-map.svg",
        &[
            "mmc: stability map over load × node.workers.servers",
            "load factor (× the scenario&apos;s arrival rates)",
            "=node.workers.servers (count)",
            "ρ of the bottleneck",
            "=workers",
            "no steady state",
            "ρ = 1 frontier",
            "=0.6",
            "=1.3",
            "=3",
            "=6",
        ],
    );
    // One cell per point, each showing theory's ρ = load · 3.4 / servers.
    let mut shown = cells(&map);
    let mut expected: Vec<String> = sweep
        .points
        .iter()
        .map(|p| {
            let rho = p.system.bottleneck_utilization.expect("M/M/c has theory");
            let formula = p.values["load"] * 3.4 / p.values["node.workers.servers"];
            assert!((rho - formula).abs() < 1e-9, "ρ = load · λ / (c μ)");
            format!("{rho:.2}")
        })
        .collect();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "one cell per point with its ρ");
    // Every point past saturation (ρ ≥ 1, e.g. load 0.9 on 3 servers: 0.9 · 3.4 / 3 = 1.02) or
    // without a steady state crossed out by two strokes; none else.
    let unstable = sweep
        .points
        .iter()
        .filter(|p| !p.steady_state || p.system.bottleneck_utilization.is_some_and(|rho| rho >= 1.0))
        .count();
    assert!((7..32).contains(&unstable), "the grid crosses saturation: {unstable}");
    let crosses = map.matches("opacity=\"0.8\" stroke=\"#C81E1E\" stroke-width=\"3\"").count();
    assert_eq!(crosses, 2 * unstable, "each unstable cell crossed out");
    // The frontier: black strokes 4 wide, besides the one in the key.
    let frontier = map.matches("stroke=\"#000000\" stroke-width=\"4\"").count();
    assert!(frontier > 1, "the ρ = 1 frontier is drawn");
    assert_png(&out, "stability-map.png", 50);

    let html = fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("mmc: stability map over"), "the map is inline in the sweep's page");
    assert!(html.contains("charts/stability-map.svg"), "the page names the map's file");
    assert_self_contained(&html);
}

#[test]
fn a_sweep_of_one_path_draws_no_map() {
    let dir = temp();
    let out = dir.path().join("out");
    kendall_ok(&["sweep", MMC, "--vary", "load=0.5,0.9"], SHORT, &out);
    assert!(out.join("charts/latency-vs-load.svg").exists(), "latency vs load is drawn");
    assert!(!out.join("charts/stability-map.svg").exists(), "no map for one path");
    assert!(!out.join("charts/stability-map.png").exists(), "no map for one path");
}

#[test]
fn a_plan_draws_the_slo_metric_against_servers_and_writes_its_page() {
    let dir = temp();
    let out = dir.path().join("out");
    kendall_ok(&["plan", MMC, "--load", "1.5", "--slo", "latency_p99 < 6s"], PLAN, &out);
    let plan: Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).expect("plan.json")).expect("parses");
    assert_eq!(plan["feasible"], Value::Bool(true), "{plan}");
    let needed = plan["nodes"][0]["servers_needed"].as_u64().expect("a count");
    // At load 1.5 the offered load is a = 1.5 · 3.4 = 5.1 erlangs: stable from 6 servers.
    assert_eq!(plan["nodes"][0]["fewest_stable"].as_u64(), Some(6));
    let evaluated = plan["evaluated"].as_array().expect("the configurations simulated");
    let counted = evaluated.iter().filter(|c| c["servers"][0].is_u64()).count();
    assert!(counted >= 1 && counted < evaluated.len(), "finite counts, and the unlimited configuration");

    let chart = svg(&out, "plan.svg");
    assert_holds(
        &chart,
        "plan.svg",
        &[
            "mmc: SLO metric against servers (plan)",
            "node workers: latency_p99 &lt; 6s",
            "servers at workers (count)",
            "latency_p99 (s)",
            "SLO latency_p99 &lt; 6s",
            &format!("=plan: {needed} servers"),
            "=today: 4",
            "ρ ≥ 1 below 6: unstable, not simulated",
            "jobs latency_p99",
        ],
    );
    // A marker (a fill and a ring) per configuration with a finite count, one in the legend.
    assert_eq!(chart.matches("<circle").count(), 2 * counted + 1, "a point per configuration simulated");
    assert_png(&out, "plan.png", 40);

    let html = fs::read_to_string(out.join("report.html")).expect("plan writes report.html");
    for heading in [
        "<h1>Capacity plan: mmc</h1>",
        "<h2>Verdict</h2>",
        "<h2>Servers per node</h2>",
        "<h2>SLO checks</h2>",
        "<h2>Charts</h2>",
        "<h2>Reproduce</h2>",
    ] {
        assert!(html.contains(heading), "report.html lacks {heading}");
    }
    assert!(html.contains("<p class=\"verdict ok\">Feasible"), "the verdict is stated");
    assert!(html.contains(&format!("<td><strong>{needed}</strong></td>")), "the servers needed are given");
    assert_eq!(html.matches("<svg ").count(), 1, "the chart inline");
    assert!(html.contains("kendall plan "), "the command line is given");
    assert!(html.contains("<dt>seed</dt><dd>1</dd>"), "the seed is given");
    assert_self_contained(&html);
}

#[test]
fn a_plan_for_the_highest_load_draws_the_slo_metric_against_load() {
    let dir = temp();
    let out = dir.path().join("out");
    kendall_ok(&["plan", MMC, "--max-load", "--slo", "latency_p99 < 20s"], SHORT, &out);
    assert!(!out.join("charts/plan.svg").exists(), "no resized node, no servers chart");
    let plan: Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).expect("plan.json")).expect("parses");
    let max_load = plan["max_load"].as_f64().expect("some load met the SLO");
    let loads = plan["evaluated"].as_array().expect("the loads simulated").len();
    assert!(loads >= 2, "the bisection simulated several loads: {plan}");

    let chart = svg(&out, "max-load.svg");
    assert_holds(
        &chart,
        "max-load.svg",
        &[
            "mmc: SLO metric against load, today&apos;s servers (plan --max-load)",
            "=latency_p99 &lt; 20s",
            "load factor (× today&apos;s arrival rates)",
            "latency_p99 (s)",
            "SLO latency_p99 &lt; 20s",
            "=today: 1 ×",
            &format!("=max load {} ×", kendall::report::number(max_load)),
            "jobs latency_p99",
        ],
    );
    // A marker (a fill and a ring) per load simulated, one in the legend.
    assert_eq!(chart.matches("<circle").count(), 2 * loads + 1, "a point per load simulated");
    assert_png(&out, "max-load.png", 40);
    let html = fs::read_to_string(out.join("report.html")).expect("plan writes report.html");
    assert!(html.contains("<h2>Charts</h2>") && html.contains("max-load.svg"), "the chart on the page");
}
