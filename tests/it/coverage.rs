//! Coverage of the 95% confidence intervals: over many seeds, the fraction of runs whose interval
//! holds the exact value theory gives, per metric family (means, percentiles, probabilities,
//! rates). This is what the report's "outside CI" flag promises: an exact value outside the
//! interval about 1 time in 20 by chance.
//!
//! The light test runs textbook cases (M/M/1, M/M/4, M/M/2/10) over fixed seeds, a few hundred
//! replications in all, and asserts each family's coverage lies in a binomial band that its
//! sample size justifies. The heavy test (`cargo test --release --test it coverage -- --ignored
//! --nocapture`) runs the same cases and every shipped scenario with an exact figure over many
//! more seeds, asserts the 93-97% band the issue asks for, and prints the figures quoted in
//! README.md.
//!
//! # What is counted
//! Every figure `analyze` labels exact with a value, at nodes, sources, classes, against the
//! estimate of the same metric, through [`Estimate::misses`](kendall::stats::Estimate::misses) (the report's flag). An interval of
//! zero width that holds its value (a drop probability of 0 at an unbounded queue, a wait
//! percentile of 0 when most messages do not wait) cannot miss: it is counted apart, as
//! degenerate, so that it cannot inflate a family's coverage.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use kendall::analytic::{Analysis, Figure, analyze};
use kendall::experiment;
use kendall::model::{Metric, Scenario};
use kendall::scenario::{Overrides, load_with, parse_with};
use kendall::stats::{Bounded, EntitySummary, NodeMetric, Summary};

/// A family of metrics whose intervals are tallied together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MetricFamily {
    /// Mean times and time-averaged populations (wait, sojourn, latency, L, Lq).
    Mean,
    /// Percentiles of waits, sojourns and latencies.
    Percentile,
    /// Probabilities and fractions (utilisation, P(wait), drops, deliveries).
    Probability,
    /// Rates (arrival rate, throughput).
    Rate,
}

impl MetricFamily {
    fn of(key: &str) -> Self {
        if ["_p50", "_p95", "_p99"].iter().any(|suffix| key.ends_with(suffix)) {
            Self::Percentile
        } else if key.contains("mean") {
            Self::Mean
        } else if key.ends_with("rate") || key == "throughput" {
            Self::Rate
        } else {
            Self::Probability
        }
    }
}

/// Intervals checked and missed in one family.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    checked: u32,
    missed: u32,
    /// Intervals of zero width on their value, not counted in `checked`.
    degenerate: u32,
}

impl Tally {
    fn coverage(self) -> f64 {
        1.0 - f64::from(self.missed) / f64::from(self.checked.max(1))
    }
}

/// Tallies per family.
type Tallies = BTreeMap<MetricFamily, Tally>;

/// Adds the intervals of one summary against the exact figures of one entity.
fn tally_entity<M: Metric>(tallies: &mut Tallies, summary: &EntitySummary<M>, figures: &[(M, Figure)]) {
    for (metric, figure) in figures {
        let (Some(value), true) = (figure.value, figure.exact) else { continue };
        let Some(estimate) = summary.get(*metric).filter(|estimate| estimate.ci95.is_some()) else {
            continue;
        };
        let tally = tallies.entry(MetricFamily::of(metric.key())).or_default();
        if estimate.half_width() == 0.0 && !estimate.misses(value) {
            tally.degenerate += 1;
        } else {
            tally.checked += 1;
            tally.missed += u32::from(estimate.misses(value));
        }
    }
}

/// Adds every exact figure of `analysis` against `summary`.
fn tally_run(tallies: &mut Tallies, analysis: &Analysis, summary: &Summary) {
    for (i, node) in analysis.nodes.iter().enumerate() {
        tally_entity(tallies, &summary.nodes[i], &node.metrics);
        for (classes, figures) in [
            (&summary.node_priority_classes[i], &node.priority_classes),
            (&summary.node_message_classes[i], &node.message_classes),
        ] {
            for (class, figures) in classes.iter().zip(figures) {
                tally_entity(tallies, class, figures);
            }
        }
    }
    for (source, summary) in analysis.sources.iter().zip(&summary.sources) {
        tally_entity(tallies, summary, &source.metrics);
    }
    for (class, figures) in summary.message_classes.iter().zip(&analysis.message_classes) {
        tally_entity(tallies, class, figures);
    }
}

/// Runs `scenario_for(seed)` for every seed and tallies its intervals against its theory.
fn coverage(seeds: std::ops::Range<u64>, scenario_for: impl Fn(u64) -> Scenario) -> Tallies {
    let mut tallies = Tallies::new();
    let analysis = analyze(&scenario_for(seeds.start), None).expect("solvable");
    for seed in seeds {
        let experiment = experiment::run(&scenario_for(seed), None, &|| {}).expect("thread pool");
        assert_eq!(experiment.stopped_early(), 0, "seed {seed}: a replication stopped early");
        tally_run(&mut tallies, &analysis, &experiment.summary);
    }
    tallies
}

/// A textbook case, as scenario text with its seed given apart.
struct Case {
    name: &'static str,
    toml: &'static str,
}

/// M/M/1 at ρ 0.8, the case of the issue: 10 replications of 20 000 s.
const MM1: Case = Case {
    name: "M/M/1 rho 0.8",
    toml: r#"
[simulation]
duration = "20000s"
warmup = "1000s"
replications = 10
[[source]]
name = "arrivals"
to = "station"
interarrival = { dist = "exponential", rate = 0.8 }
[[node]]
name = "station"
servers = 1
service = { dist = "exponential", mean = "1s" }
"#,
};

/// M/M/4 at ρ 0.85 (scenarios/mmc.toml, shorter).
const MM4: Case = Case {
    name: "M/M/4 rho 0.85",
    toml: r#"
[simulation]
duration = "10000s"
warmup = "1000s"
replications = 10
[[source]]
name = "jobs"
to = "workers"
interarrival = { dist = "exponential", rate = 3.4 }
[[node]]
name = "workers"
servers = 4
service = { dist = "exponential", mean = "1s" }
"#,
};

/// M/M/2/10 offered 1.1 times its capacity (scenarios/bounded-buffer.toml, shorter).
const MM2_10: Case = Case {
    name: "M/M/2/10 overloaded",
    toml: r#"
[simulation]
duration = "5000s"
warmup = "500s"
replications = 10
[[source]]
name = "producer"
to = "consumer"
interarrival = { dist = "exponential", rate = 2.2 }
[[node]]
name = "consumer"
servers = 2
service = { dist = "exponential", mean = "1s" }
capacity = 10
overflow = "drop-tail"
"#,
};

/// The textbook cases.
const CASES: [Case; 3] = [MM1, MM4, MM2_10];

fn textbook(case: &Case, seed: u64) -> Scenario {
    let overrides = Overrides { seed: Some(seed), ..Overrides::default() };
    parse_with(case.toml, "coverage", Path::new("coverage.toml"), &overrides).expect("a valid case")
}

fn shipped(file: &str, seed: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
    let overrides = Overrides { seed: Some(seed), ..Overrides::default() };
    load_with(&path, &overrides).unwrap_or_else(|error| panic!("{error}"))
}

/// The tallies as a table, one line per family.
fn table(title: &str, tallies: &Tallies) -> String {
    let mut text = format!("{title}\n");
    for (family, tally) in tallies {
        let _ = writeln!(
            text,
            "  {family:<12?} {:>6.2}%  ({} of {} intervals missed; {} of zero width)",
            100.0 * tally.coverage(),
            tally.missed,
            tally.checked,
            tally.degenerate
        );
    }
    text
}

fn add(total: &mut Tallies, tallies: &Tallies) {
    for (family, tally) in tallies {
        let sum = total.entry(*family).or_default();
        sum.checked += tally.checked;
        sum.missed += tally.missed;
        sum.degenerate += tally.degenerate;
    }
}

/// The band a family's coverage must lie in when `runs` independent runs measured it: 95%
/// ± 3.29 standard deviations (a two-sided 99.9% band). A run's fraction of intervals covered,
/// X, lies in [0, 1] with mean p, so Var X ≤ p(1 − p) however correlated the run's intervals
/// are (the mean and the sojourn miss together), and the mean over runs has a standard
/// deviation of at most √(p(1 − p)/runs).
fn band(runs: u32) -> (f64, f64) {
    let spread = 3.29 * (0.95 * 0.05 / f64::from(runs)).sqrt();
    (0.95 - spread, 0.95 + spread)
}

/// Runs per family, each a seed of a case in which the family had an interval.
fn runs_per_family(per_case: &[(Tallies, u32)]) -> BTreeMap<MetricFamily, u32> {
    let mut runs = BTreeMap::new();
    for (tallies, seeds) in per_case {
        for family in tallies.keys() {
            *runs.entry(*family).or_default() += seeds;
        }
    }
    runs
}

/// Asserts every family's coverage over `per_case` (each case's tallies and its number of
/// runs) lies within `limits(runs)`.
fn assert_coverage(per_case: &[(Tallies, u32)], limits: impl Fn(u32) -> (f64, f64)) {
    let mut total = Tallies::new();
    per_case.iter().for_each(|(tallies, _)| add(&mut total, tallies));
    println!("{}", table("all", &total));
    for (family, runs) in runs_per_family(per_case) {
        let (low, high) = limits(runs);
        let coverage = total[&family].coverage();
        assert!(
            (low..=high).contains(&coverage),
            "{family:?}: coverage {:.2}% over {runs} runs, outside [{:.2}%, {:.2}%]",
            100.0 * coverage,
            100.0 * low,
            100.0 * high
        );
    }
}

/// The light experiment: the textbook cases with 5 replications each (half the heavy test's
/// runs), over 40 fixed seeds: 600 replications in all, 120 runs, so that each family's
/// coverage must lie within 95% ± 6.5%.
#[test]
fn intervals_cover_exact_values_about_95_percent_of_the_time() {
    const SEEDS: u64 = 40;
    let per_case: Vec<(Tallies, u32)> = CASES
        .iter()
        .map(|case| {
            let short = |seed| {
                let overrides = Overrides { seed: Some(seed), replications: Some(5), ..Overrides::default() };
                parse_with(case.toml, "coverage", Path::new("coverage.toml"), &overrides)
                    .expect("a valid case")
            };
            let tallies = coverage(1..SEEDS + 1, short);
            println!("{}", table(case.name, &tallies));
            (tallies, u32::try_from(SEEDS).expect("a few"))
        })
        .collect();
    assert_coverage(&per_case, band);
}

/// Simulated events that a shipped scenario's seeds may take in the heavy test, in all.
const SHIPPED_EVENTS: u64 = 100_000_000;

/// The heavy experiment: every textbook case over 400 seeds, and every shipped scenario with
/// an exact figure over as many seeds as [`SHIPPED_EVENTS`] allows (10 to 400), each with its
/// own settings. Every family's coverage must lie in 93-97%.
#[test]
#[ignore = "heavy: about twenty minutes in release; run with --ignored"]
fn heavy_coverage_is_within_93_to_97_percent() {
    const SEEDS: u64 = 400;
    let mut per_case = Vec::new();
    for case in &CASES {
        let tallies = coverage(1..SEEDS + 1, |seed| textbook(case, seed));
        println!("{}", table(case.name, &tallies));
        per_case.push((tallies, u32::try_from(SEEDS).expect("a few hundred")));
    }
    for file in shipped_files() {
        let first = experiment::run(&shipped(&file, 1), None, &|| {}).expect("thread pool");
        if first.stopped_early() > 0 {
            println!("{file}: overloaded, no steady state to cover\n");
            continue;
        }
        let analysis = analyze(&shipped(&file, 1), None).expect("solvable");
        let mut probe = Tallies::new();
        tally_run(&mut probe, &analysis, &first.summary);
        if probe.values().all(|tally| tally.checked == 0) {
            println!("{file}: no exact figure with a random interval\n");
            continue;
        }
        let seeds = (SHIPPED_EVENTS / first.events.max(1)).clamp(10, 400);
        let tallies = coverage(1..seeds + 1, |seed| shipped(&file, seed));
        println!("{}", table(&format!("{file} ({seeds} seeds)"), &tallies));
        per_case.push((tallies, u32::try_from(seeds).expect("a few hundred")));
    }
    assert_coverage(&per_case, |_| (0.93, 0.97));
}

/// The shipped scenario files, sorted.
fn shipped_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    files
}

/// Asserts every interval of `entities` lies within its metric's range; returns how many
/// intervals the unclamped t interval would have taken outside it (those at a bound).
fn assert_within_range<M: Bounded + std::fmt::Debug>(entities: &[EntitySummary<M>]) -> usize {
    let mut at_bound = 0;
    for entity in entities {
        for (metric, estimate) in &entity.estimates {
            let Some([low, high]) = estimate.and_then(|estimate| estimate.ci95) else { continue };
            let (least, most) = metric.bounds();
            assert!(
                least <= low && high <= most,
                "{} {metric:?}: [{low}, {high}] outside [{least}, {most}]",
                entity.name
            );
            at_bound += usize::from(low == least || high == most);
        }
    }
    at_bound
}

/// With 2 replications the t quantile is 12.7: an unclamped interval of a utilisation read
/// [−1.1, 1.8]. Every interval stays within what its metric can take: fractions in [0, 1],
/// times, rates and counts at least 0.
#[test]
fn intervals_stay_within_each_metric_range() {
    let mut at_bound = 0;
    for case in &CASES {
        for seed in 1..=5 {
            let overrides = Overrides {
                seed: Some(seed),
                replications: Some(2),
                duration_s: Some(20.0),
                warmup_s: Some(0.0),
                ..Overrides::default()
            };
            let scenario =
                parse_with(case.toml, "range", Path::new("range.toml"), &overrides).expect("a valid case");
            let summary = experiment::run(&scenario, None, &|| {}).expect("thread pool").summary;
            at_bound += assert_within_range(&summary.nodes) + assert_within_range(&summary.sources);
        }
    }
    // The test bites: short runs of two replications take many intervals to a bound.
    assert!(at_bound >= 10, "only {at_bound} intervals reached a bound");
}

/// Why percentiles are pooled: M/M/1 at ρ 0.75 (λ 0.75, μ 1) in 100 short replications of
/// 500 s, about 375 waits each. The waits are strongly correlated, so one replication's 99th
/// percentile is biased low (most replications see no long excursion): their mean falls more
/// than 10% below the exact p99 of the wait, −ln(0.01/ρ)/(μ − λ) = 17.27 s, in every seed, and
/// an interval around it would miss. The pooled quantile reads all 37 500 waits, and its
/// sectioning interval holds the exact value in at least 7 of 10 seeds (at 95% coverage, 6 or
/// fewer happen with probability 1e-3).
#[test]
fn pooled_percentiles_of_short_replications_are_not_biased() {
    let case = r#"
[simulation]
duration = "500s"
warmup = "50s"
replications = 100
[[source]]
name = "arrivals"
to = "station"
interarrival = { dist = "exponential", rate = 0.75 }
[[node]]
name = "station"
servers = 1
service = { dist = "exponential", mean = "1s" }
"#;
    let exact = (0.75f64 / 0.01).ln() / 0.25;
    let mut covered = 0;
    for seed in 1..=10 {
        let overrides = Overrides { seed: Some(seed), ..Overrides::default() };
        let scenario = parse_with(case, "short", Path::new("short.toml"), &overrides).expect("a valid case");
        let experiment = experiment::run(&scenario, None, &|| {}).expect("thread pool");
        let sections: Vec<f64> = experiment
            .replications
            .iter()
            .filter_map(|r| r.nodes[0].metrics.get(NodeMetric::WaitP99))
            .collect();
        #[allow(clippy::cast_precision_loss)] // 100 replications
        let mean_of_sections = sections.iter().sum::<f64>() / sections.len() as f64;
        assert!(mean_of_sections < 0.9 * exact, "seed {seed}: replications' mean p99 {mean_of_sections}");
        let pooled = experiment.summary.nodes[0].get(NodeMetric::WaitP99).expect("a p99");
        covered += u32::from(!pooled.misses(exact));
    }
    assert!(covered >= 7, "the pooled p99's interval held {exact} in {covered} of 10 seeds");
}
