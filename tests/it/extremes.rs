//! Extreme rates and service times: the analysis works in ratios, so nothing overflows or
//! underflows, and the figures are printed in engineering notation (no 300-digit numbers).
//! Reference values are exact: one M/M/1 node, where ρ = λ E[S], the headroom is 1/ρ and the
//! largest throughput is μ = 1/E[S].

use crate::support::{analysis, kendall, one_node, temp, write_scenario};

/// One Poisson source of `rate` per second into one M/M/1 node of mean service `mean_s`.
fn mm1(rate: f64, mean_s: f64) -> String {
    one_node(rate, &format!("service = {{ dist = \"exponential\", mean = {mean_s:e} }}"))
}

fn assert_relative(what: &str, actual: Option<f64>, expected: f64) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((actual - expected).abs() <= 1e-12 * expected, "{what}: {actual:e} vs {expected:e}");
}

/// Standard output of `kendall COMMAND` on `text`, which must end in status `code`.
fn output(command: &str, text: &str) -> String {
    let dir = temp();
    let path = write_scenario(&dir, "extreme.toml", text);
    let out = dir.path().join("out");
    let mut cmd = kendall();
    cmd.arg(command).arg(&path);
    if command == "analyze" {
        cmd.arg("--no-charts").arg("--quiet").arg("--out").arg(&out);
    }
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// No number of more than 12 digits, and no rate printed as 0.000000.
fn assert_readable(text: &str) {
    let longest = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest <= 12, "a number of {longest} digits in:\n{text}");
    assert!(!text.contains("0.000000/s"), "{text}");
}

#[test]
fn a_huge_rate_into_a_slow_server() {
    // λ = 1e308/s into μ = 2/s: ρ = 5e307, the load must shrink to 2/1e308, and the node
    // serves at most 2/s.
    let text = mm1(1e308, 0.5);
    let analysis = analysis(&text);
    let node = &analysis.nodes[0];
    assert_relative("utilisation", Some(node.utilization), 5e307);
    assert_relative("throughput", Some(node.throughput), 2.0);
    assert_relative("headroom", analysis.system.headroom, 2e-308);
    assert_relative("max throughput", analysis.system.max_throughput, 2.0);
    let printed = output("analyze", &text);
    assert_readable(&printed);
    assert!(printed.contains("max throughput 2.000/s"), "{printed}");
}

#[test]
fn a_huge_mean_service() {
    // E[S] = 1e308 s: μ = 1e-308/s (subnormal), ρ = 1e308, headroom and max throughput 1e-308.
    let text = mm1(1.0, 1e308);
    let analysis = analysis(&text);
    assert_relative("utilisation", Some(analysis.nodes[0].utilization), 1e308);
    assert_relative("headroom", analysis.system.headroom, 1e-308);
    assert_relative("max throughput", analysis.system.max_throughput, 1e-308);
    let printed = output("analyze", &text);
    assert_readable(&printed);
    assert!(printed.contains("max throughput 10.00e-309/s"), "{printed}");
}

#[test]
fn a_tiny_mean_service() {
    // E[S] = 1e-300 s at 1/s: ρ = 1e-300, and the load can grow 1e300-fold (not "never").
    let text = mm1(1.0, 1e-300);
    let analysis = analysis(&text);
    assert_relative("utilisation", Some(analysis.nodes[0].utilization), 1e-300);
    assert_relative("headroom", analysis.system.headroom, 1e300);
    assert_relative("max throughput", analysis.system.max_throughput, 1e300);
    assert_eq!(analysis.system.headroom_reason, None);
    let printed = output("analyze", &text);
    assert_readable(&printed);
    assert!(printed.contains("max throughput 1.000e300/s"), "{printed}");
}

#[test]
fn check_prints_extreme_loads_in_engineering_notation() {
    let printed = output("check", &mm1(1e308, 0.5));
    assert!(printed.contains("would simulate more than 1e308 messages"), "{printed}");
    let warned = output("analyze", &mm1(1e308, 0.5));
    assert!(warned.contains("(λ = 100.0e306/s, cμ = 2.000/s)"), "cμ is not λ − growth: {warned}");
    assert!(printed.contains("exponential(mean 1e-308s, rate 1e308/s)"), "{printed}");
    assert!(printed.contains("source s: 100.0e306 messages/s"), "{printed}");
    assert!(printed.contains("offered λ 100.0e306/s, ρ 50.00e306"), "{printed}");
    let printed = output("check", &mm1(1.0, 1e-300));
    assert!(printed.contains("offered λ 1.000/s, ρ 1.000e-300"), "{printed}");
}
