//! Theory on the command line: `kendall analyze` writes analysis.json with every contract field,
//! takes `--fill`, rejects bad files; `kendall run` puts theory beside the simulation in
//! summary.json and warns about an overloaded node before simulating.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use kendall::analytic::{Figure, Verdict, analyze};
use kendall::model::Metric;
use kendall::report::{AnalysisFile, EstimateEntry, SummaryFile};
use kendall::stats::{NodeMetric, SourceMetric};
use serde_json::Value;

use crate::support::{
    ScenarioBuilder, analyze_cli, assert_close, assert_json_sane, kendall, one_node, temp, write_scenario,
};

const MICROSERVICES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/microservices.toml");

/// `kendall analyze scenarios/microservices.toml --out DIR` writes DIR/analysis.json with every
/// contract field. Traffic by hand (the scenario's comment): gateway 40 + 20 = 60/s (4 workers
/// of 50 ms: rho 0.75), catalog 0.3 × 60 = 18/s (2 of 40 ms: 0.36), orders = db = 0.7 × 60/0.9 =
/// 46.667/s (8 of 150 ms: 0.875; 1 of 15 ms: 0.7). The bottleneck is orders; it saturates when
/// the load grows by 1/0.875 = 8/7, at 60 × 8/7 = 68.571 messages/s.
#[test]
fn analyze_writes_analysis_json() {
    let dir = temp();
    let out = dir.path().join("out");
    let output =
        kendall().arg("analyze").arg(MICROSERVICES).arg("--out").arg(&out).output().expect("kendall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "a stable scenario gives no warning");
    assert!(stdout.contains("bottleneck: orders"), "{stdout}");
    assert!(stdout.contains("analysis.json"), "the table names the file written: {stdout}");

    let text = fs::read_to_string(out.join("analysis.json")).expect("analysis.json is written");
    let json: Value = serde_json::from_str(&text).expect("analysis.json is JSON");
    assert_json_sane("microservices", &json, "");
    assert_eq!(json["scenario"], "microservices");
    for key in ["stable", "bottleneck", "headroom", "max_throughput"] {
        assert!(json["system"].get(key).is_some(), "system.{key} is missing");
    }
    let nodes = json["nodes"].as_array().expect("a list of nodes");
    assert_eq!(nodes.len(), 4);
    for node in nodes {
        for key in ["name", "arrival_rate", "utilization", "stable", "growth_rate", "metrics"] {
            assert!(node.get(key).is_some(), "node field {key} is missing: {node}");
        }
        assert_eq!(node["growth_rate"], 0.0, "a stable node does not grow: {node}");
        for metric in NodeMetric::ALL {
            let figure = &node["metrics"][metric.key()];
            for key in ["value", "exact", "method"] {
                assert!(figure.get(key).is_some(), "{} {}.{key} is missing", node["name"], metric.key());
            }
        }
    }
    let sources = json["sources"].as_array().expect("a list of sources");
    assert_eq!(sources.len(), 2);
    for source in sources {
        assert!(source.get("name").is_some());
        for metric in SourceMetric::ALL {
            let figure = &source["metrics"][metric.key()];
            for key in ["value", "exact", "method"] {
                assert!(figure.get(key).is_some(), "{} {}.{key} is missing", source["name"], metric.key());
            }
        }
    }

    let file: AnalysisFile = serde_json::from_str(&text).expect("analysis.json is an AnalysisFile");
    assert!(file.system.stable);
    assert_eq!(file.system.bottleneck.as_deref(), Some("orders"));
    let headroom = file.system.headroom.expect("a headroom");
    assert!((headroom - 8.0 / 7.0).abs() <= 1e-12, "{headroom}");
    let max = file.system.max_throughput.expect("a maximum throughput");
    assert!((max - 480.0 / 7.0).abs() <= 1e-10, "{max}");
    let orders_rate = 0.7 * 60.0 / 0.9;
    for (entry, (name, lambda, rho)) in file.nodes.iter().zip([
        ("gateway", 60.0, 0.75),
        ("catalog", 18.0, 0.36),
        ("orders", orders_rate, 0.875),
        ("db", orders_rate, 0.7),
    ]) {
        assert_eq!(entry.name, name);
        assert_close(&format!("{name} lambda"), entry.arrival_rate, lambda);
        assert_close(&format!("{name} rho"), entry.utilization, rho);
        assert!(entry.stable && entry.verdict == Verdict::Stable);
        assert!(entry.metrics["mean_wait"].exact, "{name}: a Jackson network");
    }
    assert_eq!(file.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["web", "mobile"]);
}

/// `--fill N` changes the time until an overloaded queue holds N messages: 5/s into c mu = 4/s
/// grows by 1/s (see
/// [`crate::headroom::growth_rate_and_time_to_fill_of_an_overloaded_node_by_hand`]). An invalid N
/// is bad input.
#[test]
fn analyze_fill_flag() {
    let dir = temp();
    let path = write_scenario(
        &dir,
        "overloaded.toml",
        &one_node(5.0, "servers = 2\nservice = { dist = \"exponential\", mean = \"0.5s\" }"),
    );
    let out = dir.path().join("out");
    for (extra, fill) in [(&[][..], 1e6), (&["--fill", "500"][..], 500.0)] {
        let output = analyze_cli(&path, &out, extra);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let file: AnalysisFile = serde_json::from_slice(&output.stdout).expect("an AnalysisFile");
        let n = &file.nodes[0];
        assert_eq!((n.verdict, n.growth_rate), (Verdict::Unstable, 1.0));
        assert_close("N", n.fill_target, fill);
        assert_close("time to fill", n.time_to_fill.expect("a time to fill"), fill);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("node 'n'") && stderr.contains("rho = 1.250"), "{stderr}");
    }
    for bad in ["0", "-3", "abc", "inf"] {
        let output = analyze_cli(&path, &dir.path().join("bad"), &["--fill", bad]);
        assert_eq!(output.status.code(), Some(2), "--fill {bad}");
        assert!(!dir.path().join("bad").exists());
    }
}

/// `kendall analyze` on a bad file exits 2, says what is wrong and where, and writes nothing.
#[test]
fn analyze_rejects_bad_files() {
    let dir = temp();
    let cases = [
        ("malformed.toml", "[[node]\nname = \"x\"\n", &["malformed.toml"][..]),
        (
            "unknown.toml",
            "[[source]]\nname = \"s\"\nto = \"n\"\ninterarrival = { dist = \"exponential\", rate = 1.0 }\n\n[[node]]\nname = \"n\"\nservice = { dist = \"exponential\", mean = \"1s\" }\nspeed = 3\n",
            &["unknown.toml", "speed"][..],
        ),
        (
            "zero_servers.toml",
            "[[source]]\nname = \"s\"\nto = \"n\"\ninterarrival = { dist = \"exponential\", rate = 1.0 }\n\n[[node]]\nname = \"n\"\nservers = 0\nservice = { dist = \"exponential\", mean = \"1s\" }\n",
            &["zero_servers.toml", "servers"][..],
        ),
    ];
    for (name, contents, fragments) in cases {
        let path = write_scenario(&dir, name, contents);
        let out = dir.path().join(format!("out-{name}"));
        let output =
            kendall().arg("analyze").arg(&path).arg("--out").arg(&out).output().expect("kendall runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{name}: stderr lacks {fragment:?}: {stderr}");
        }
        assert!(output.stdout.is_empty(), "{name}");
        assert!(!out.exists(), "{name}: an output directory was created for a bad input");
    }
    let missing = dir.path().join("missing.toml");
    let output =
        kendall().arg("analyze").arg(&missing).arg("--out").arg(dir.path()).output().expect("kendall runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));
}

/// `kendall run` puts theory beside the simulation: every node and source of summary.json has an
/// `analytic` entry per metric (value, exact, method) and a `ci_misses` list, which names exactly
/// the metrics whose 95% CI misses an exact analytic value (recomputed here). The table shows a
/// theory column.
#[test]
fn run_writes_theory_into_summary_json() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .arg("run")
        .arg(MICROSERVICES)
        .args(["--duration", "200s", "--warmup", "20s", "--replications", "3", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("theory") && stdout.contains("diff"), "{stdout}");

    let text = fs::read_to_string(out.join("summary.json")).expect("summary.json is written");
    let json: Value = serde_json::from_str(&text).expect("summary.json is JSON");
    for (list, keys) in [
        ("nodes", NodeMetric::ALL.iter().map(|m| m.key()).collect::<Vec<_>>()),
        ("sources", SourceMetric::ALL.iter().map(|m| m.key()).collect::<Vec<_>>()),
    ] {
        for entry in json[list].as_array().expect("a list") {
            assert!(entry["ci_misses"].is_array(), "{list}: no ci_misses list: {entry}");
            for key in &keys {
                let figure = &entry["analytic"][key];
                for field in ["value", "exact", "method"] {
                    assert!(figure.get(field).is_some(), "{list} {} analytic {key}.{field}", entry["name"]);
                }
            }
        }
    }
    assert_json_sane("summary.json analytic", &json, "");

    let summary: SummaryFile = serde_json::from_str(&text).expect("summary.json is a SummaryFile");
    let analysis =
        analyze(&kendall::scenario::load(Path::new(MICROSERVICES)).expect("valid"), None).expect("solvable");
    let misses = |metrics: &BTreeMap<String, EstimateEntry>, analytic: &BTreeMap<String, Figure>| {
        analytic
            .iter()
            .filter(|(key, figure)| {
                let (Some(value), true, Some([low, high])) =
                    (figure.value, figure.exact, metrics.get(*key).and_then(|e| e.ci95))
                else {
                    return false;
                };
                // The library's slack for intervals of zero width: 1e-9 relative.
                let slack = 1e-9 * value.abs();
                value < low - slack || value > high + slack
            })
            .map(|(key, _)| key.clone())
            .collect::<Vec<_>>()
    };
    for (entry, theory) in summary.nodes.iter().zip(&analysis.nodes) {
        let expected: BTreeMap<String, Figure> =
            theory.metrics.iter().map(|(m, f)| (m.key().to_owned(), f.clone())).collect();
        assert_eq!(entry.analytic, expected, "node {}: summary.json's theory is analyze's", entry.name);
        assert_eq!(entry.ci_misses, misses(&entry.metrics, &entry.analytic), "node {}", entry.name);
    }
    for (entry, theory) in summary.sources.iter().zip(&analysis.sources) {
        let expected: BTreeMap<String, Figure> =
            theory.metrics.iter().map(|(m, f)| (m.key().to_owned(), f.clone())).collect();
        assert_eq!(entry.analytic, expected, "source {}", entry.name);
        assert_eq!(entry.ci_misses, misses(&entry.metrics, &entry.analytic), "source {}", entry.name);
    }
}

/// `kendall run` on an overloaded scenario warns before simulating, naming the node and its rho
/// (1.5/s into one worker of mean 1 s: rho = 1.5, growing by 0.5/s).
#[test]
fn run_warns_about_an_overloaded_node() {
    let dir = temp();
    let toml = ScenarioBuilder::settings("max_in_system = 200")
        .source("clients", "server", 1.5, "")
        .node("server", 1, 1.0, "")
        .toml();
    let path = write_scenario(&dir, "overload.toml", &toml);
    let output = kendall()
        .arg("run")
        .arg(&path)
        .args(["--duration", "1000s", "--replications", "2", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("kendall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: node 'server' is unstable: rho = 1.500"), "{stderr}");
    assert!(stderr.contains("0.5"), "the growth rate: {stderr}");
}
