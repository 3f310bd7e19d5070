//! Charts: every chart a command draws, for a shipped scenario, checked for real content: the SVG
//! holds its title, axis labels, series names and one mark per point or bar; the PNG is
//! 1200x800 and not blank; `--no-charts` writes none. Runs are short: the content, not the
//! numbers, is under test.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use kendall::report::{CompareFile, DifferenceEntry, SummaryFile, SweepFile};

use crate::support::{kendall, run, temp, write_scenario};

const IOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/iot-pipeline.toml");
const MM1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mm1.toml");
const BLACK_FRIDAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/black-friday.toml");

/// The first series colour (fill of the bars and markers of the first series).
const FIRST: &str = "fill=\"#0072B2\"";
/// The bottleneck's colour.
const SECOND: &str = "fill=\"#D55E00\"";

pub(crate) fn svg(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join("charts").join(name)).unwrap_or_else(|_| panic!("charts/{name} is written"))
}

/// The text of every `<text>` element of an SVG, trimmed.
pub(crate) fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| element.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")))
        .map(|(text, _)| text.trim())
        .collect()
}

/// Asserts that some text of `svg` contains each fragment; a fragment in `=...` must be a whole text.
pub(crate) fn assert_holds(svg: &str, name: &str, fragments: &[&str]) {
    let texts = texts(svg);
    for fragment in fragments {
        let found = match fragment.strip_prefix('=') {
            Some(whole) => texts.contains(&whole),
            None => texts.iter().any(|text| text.contains(fragment)),
        };
        assert!(found, "{name} lacks {fragment:?} among {texts:?}");
    }
}

/// Decodes charts/NAME as a PNG; asserts it is 1200x800 and holds enough distinct colours to be
/// a drawing (text, several series, antialiasing), not a blank or single-colour image.
pub(crate) fn assert_png(dir: &Path, name: &str, min_colours: usize) {
    assert_png_sized(dir, name, (1200, 800), min_colours);
}

/// As [`assert_png`], for a chart of `size` pixels.
fn assert_png_sized(dir: &Path, name: &str, size: (u32, u32), min_colours: usize) {
    let file =
        fs::File::open(dir.join("charts").join(name)).unwrap_or_else(|_| panic!("charts/{name} is written"));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a bounded image")];
    let info = reader.next_frame(&mut pixels).expect("PNG data");
    assert_eq!((info.width, info.height), size, "{name}'s size");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{name} is RGB");
    let colours: HashSet<&[u8]> = pixels[..info.buffer_size()].chunks_exact(3).collect();
    assert!(colours.len() >= min_colours, "{name} holds {} colours", colours.len());
    let white = pixels.chunks_exact(3).filter(|p| *p == [255, 255, 255]).count();
    assert!(white < pixels.len() / 3, "{name} is not all white");
}

/// `kendall run` of iot-pipeline draws the utilisation per node (one bar per node, the
/// bottleneck in its own colour) and the latency distribution (eight percentiles per source).
#[test]
fn a_run_draws_utilisation_and_latency_distribution() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = run(Path::new(IOT), &out, &["--duration", "300s", "--warmup", "30s", "--replications", "2"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let summary: SummaryFile =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).expect("summary.json"))
            .expect("parses");

    let utilization = svg(&out, "utilization.svg");
    let mut fragments = vec![
        "iot-pipeline: utilisation per node",
        "utilisation ρ (fraction of servers busy)",
        "=node",
        "simulated ρ",
        "bottleneck",
        "95% CI of the mean",
        "target ρ = 0.8",
        "to ρ = 1 (theory)",
    ];
    fragments.extend(summary.nodes.iter().map(|node| node.name.as_str()));
    assert_holds(&utilization, "utilization.svg", &fragments);
    // One bar per node, plus one legend swatch per colour.
    let coloured = utilization.matches(FIRST).count() + utilization.matches(SECOND).count();
    assert_eq!(coloured, summary.nodes.len() + 2, "utilization.svg's bars");
    assert_eq!(utilization.matches(SECOND).count(), 2, "one bottleneck bar and its legend swatch");

    let distribution = svg(&out, "latency-distribution.svg");
    let mut fragments = vec![
        "iot-pipeline: end-to-end latency distribution",
        "end-to-end latency (",
        "percentile",
        "=p10",
        "=p50",
        "=p99",
        "=p99.9",
    ];
    fragments.extend(summary.sources.iter().map(|source| source.name.as_str()));
    assert_holds(&distribution, "latency-distribution.svg", &fragments);
    assert_eq!(
        distribution.matches("<circle").count(),
        8 * summary.sources.len(),
        "a point per percentile and source"
    );

    assert_png(&out, "utilization.png", 50);
    assert_png(&out, "latency-distribution.png", 50);
}

/// `kendall sweep` of the M/M/1 past saturation draws the mean and p99 of its one source at every
/// steady point with theory (exact), the SLO, ρ = 1 and the unstable point marked, not drawn.
#[test]
fn a_sweep_draws_latency_against_load() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .args(["sweep", MM1, "--vary", "load=0.5..1.2:8", "--slo", "latency_mean < 5s"])
        .args(["--duration", "500s", "--warmup", "50s", "--replications", "2", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let sweep: SweepFile =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).expect("sweep.json"))
            .expect("parses");
    let steady = sweep.points.iter().filter(|point| point.steady_state).count();
    assert!(steady > 2 && steady < sweep.points.len(), "the sweep crosses saturation");

    let chart = svg(&out, "latency-vs-load.svg");
    assert_holds(
        &chart,
        "latency-vs-load.svg",
        &[
            "mm1: end-to-end latency vs load",
            "load factor (× the scenario&apos;s arrival rates)",
            "end-to-end latency (",
            "clients mean",
            "clients p99",
            "clients mean, theory (exact)",
            "ρ = 1 at the bottleneck (theory)",
            "SLO latency_mean",
            "no steady state: not drawn",
        ],
    );
    // The mean's markers are circles (one per steady point, one in the legend); the p99's are
    // triangles, drawn as polygons with the CI bands (one band per metric here).
    assert_eq!(chart.matches("<circle").count(), steady + 1, "a mean per steady point");
    assert_eq!(chart.matches("<polygon").count(), steady + 1 + 2, "a p99 per steady point, and two bands");
    assert_png(&out, "latency-vs-load.png", 50);
}

/// `--no-charts` writes the data and no chart.
#[test]
fn no_charts_writes_none() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = run(Path::new(MM1), &out, &["--duration", "200s", "--replications", "2", "--no-charts"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(out.join("summary.json").exists());
    assert!(!out.join("charts").exists(), "no charts directory");
}

/// `kendall compare` draws each source's mean and p99 latency per configuration: one bar per
/// configuration and metric, and a `*` over each significant difference to the baseline.
#[test]
fn a_comparison_draws_latency_per_configuration() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = kendall()
        .args(["compare", MM1, "--set", "load=0.8"])
        .args(["--duration", "20000s", "--warmup", "1000s", "--replications", "4", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("kendall runs");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let compare: CompareFile =
        serde_json::from_str(&fs::read_to_string(out.join("compare.json")).expect("compare.json"))
            .expect("parses");
    let latency = |row: &&DifferenceEntry| row.metric == "latency_mean" || row.metric == "latency_p99";
    let rows: Vec<&DifferenceEntry> = compare.differences.iter().filter(latency).collect();
    assert_eq!(rows.len(), 2, "one source, two metrics, one configuration against the baseline");

    let chart = svg(&out, "comparison.svg");
    assert_holds(
        &chart,
        "comparison.svg",
        &[
            "mm1: end-to-end latency per configuration",
            "end-to-end latency (",
            "=source and metric",
            "=clients mean",
            "=clients p99",
            "mm1 (baseline)",
            "=load=0.8",
        ],
    );
    // Two bars per configuration, and its legend swatch.
    assert_eq!(chart.matches(FIRST).count(), 3, "the baseline's bars");
    assert_eq!(chart.matches(SECOND).count(), 3, "the variant's bars");
    let significant = rows.iter().filter(|row| row.significant).count();
    assert!(significant > 0, "a load of 0.8 against 1 changes the latency");
    assert_eq!(
        texts(&chart).iter().filter(|text| **text == "*").count(),
        significant,
        "a * per significant difference"
    );
    assert_png(&out, "comparison.png", 50);
}

/// A run past saturation (the shipped overload scenario) draws its latency percentiles under a
/// title that says there is no steady state, never as a steady-state distribution.
#[test]
fn a_run_past_saturation_says_its_latencies_have_no_steady_state() {
    let dir = temp();
    let out = dir.path().join("out");
    let overload = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/overload.toml");
    let output =
        run(Path::new(overload), &out, &["--duration", "100s", "--warmup", "10s", "--replications", "2"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let chart = svg(&out, "latency-distribution.svg");
    assert_holds(
        &chart,
        "latency-distribution.svg",
        &["=overload: end-to-end latency, NO STEADY STATE", "a transient that grows with the run length"],
    );
    assert!(!texts(&chart).contains(&"overload: end-to-end latency distribution"));
}

/// The number of points of every line drawn in `colour` at `width` with more than two points
/// (a legend's sample has two).
fn line_points(svg: &str, colour: &str, width: u32) -> Vec<usize> {
    let stroke = format!("stroke=\"{colour}\" stroke-width=\"{width}\" points=\"");
    svg.split("<polyline")
        .skip(1)
        .filter_map(|element| element.split_once(stroke.as_str()))
        .filter_map(|(_, rest)| rest.split_once('"'))
        .map(|(points, _)| points.split_whitespace().count())
        .filter(|&points| points > 2)
        .collect()
}

/// `kendall run` of black-friday (3h: the flash sale at 2h, payments' peak at 2h10m and its
/// drain by about 2h32m all inside) draws the queue over time: a panel per node (four, all
/// shown) with the mean of messages held as a line of one point per 1m interval, its p10-p90
/// band and the fluid approximation dashed, and the sources' arrival rate beneath.
#[test]
fn a_run_with_a_time_series_draws_the_queue_over_time() {
    let dir = temp();
    let out = dir.path().join("out");
    let output = run(Path::new(BLACK_FRIDAY), &out, &["--duration", "3h", "--replications", "3"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let summary: SummaryFile =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).expect("summary.json"))
            .expect("parses");
    assert_eq!(summary.nodes.len(), 4, "black-friday has four nodes, all drawn");

    let chart = svg(&out, "queue-over-time.svg");
    let mut fragments = vec![
        "black-friday: queue length over time",
        "=messages held",
        "=time (min)",
        "=arrivals (msg/s)",
        "arrival rate: messages created per second by all sources",
        "=mean messages held",
        "=p10-p90 across replications",
        "=fluid approximation",
        "mean over 3 replications (line), band p10-p90, one point per 1m interval",
    ];
    let names: Vec<String> = summary.nodes.iter().map(|node| format!("={}", node.name)).collect();
    fragments.extend(names.iter().map(String::as_str));
    assert_holds(&chart, "queue-over-time.svg", &fragments);
    // One mean line per node, a point per 1m interval of the 3h run.
    assert_eq!(line_points(&chart, "#0072B2", 2), vec![180; 4], "a mean line of 180 points per node");
    // 1200 wide, taller than 800 to give four panels room: 100 (title, caption) + 34 (legend)
    // + 200 (arrival rate) + 4 × 250.
    assert_png_sized(&out, "queue-over-time.png", (1200, 1334), 50);
}

/// A steadily overloaded node (M/M/1 at λ = 12/s, μ = 10/s) has no fluid prediction but the
/// analytic growth λ − cμ = 12 − 10 = 2 messages/s, dashed beside its messages held.
#[test]
fn an_overloaded_node_with_a_time_series_draws_its_growth() {
    let dir = temp();
    let scenario = write_scenario(
        &dir,
        "grow.toml",
        r#"
        name = "grow"
        [simulation]
        duration = "300s"
        warmup = "0s"
        replications = 2
        seed = 3
        sample_every = "10s"
        [[source]]
        name = "clients"
        to = "server"
        interarrival = { dist = "exponential", rate = 12 }
        [[node]]
        name = "server"
        service = { dist = "exponential", mean = "100ms" }
        "#,
    );
    let out = dir.path().join("out");
    let output = run(&scenario, &out, &[]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let chart = svg(&out, "queue-over-time.svg");
    assert_holds(
        &chart,
        "queue-over-time.svg",
        &[
            "grow: queue length over time",
            "=time (s)",
            "=analytic growth from empty at λ − cμ",
            "=server: analytic growth λ − cμ = 2.000/s",
        ],
    );
    assert!(!texts(&chart).contains(&"fluid approximation"), "no fluid for a steady overload");
    assert_eq!(line_points(&chart, "#0072B2", 2), vec![30], "a point per 10s interval of 300s");
    assert_png(&out, "queue-over-time.png", 50);
}
