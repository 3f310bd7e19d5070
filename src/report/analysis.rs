//! The analysis.json contract and the `kendall analyze` table: theory without simulation.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::table::number;
use super::topology::Topology;
use crate::analytic::fluid::{Fluid, FluidError};
use crate::analytic::varying::WITHHELD;
use crate::analytic::{Analysis, Figure, RateBounds, Verdict};
use crate::model::{Metric, Network};

/// System-wide verdict in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEntry {
    /// Whether every unbounded queue is stable (ρ < 1).
    pub stable: bool,
    /// Why no closed form decides whether the system is stable (absent when one does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undetermined: Option<String>,
    /// The node with the highest utilisation.
    pub bottleneck: Option<String>,
    /// Factor by which all external arrival rates can grow before the first unbounded queue
    /// saturates; `null` with `headroom_reason` when there is none.
    pub headroom: Option<f64>,
    /// Why `headroom` is null.
    pub headroom_reason: Option<String>,
    /// External arrival rate at saturation, messages per second.
    pub max_throughput: Option<f64>,
    /// External arrival rate today, messages per second.
    pub offered_rate: f64,
    /// For a closed population, exact MVA for every population from 1 to the scenario's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub population_curve: Vec<PopulationPoint>,
}

/// One point of a closed population's MVA curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationPoint {
    /// Number of clients, N.
    pub clients: u32,
    /// Requests completed per second, X(N).
    pub throughput: f64,
    /// Response time per request, think time excluded, seconds, R(N).
    pub response_time: f64,
}

/// One node in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisNodeEntry {
    /// The node's name.
    pub name: String,
    /// Kendall notation of the model used.
    pub model: String,
    /// Messages offered per second (after upstream caps).
    pub arrival_rate: f64,
    /// Messages per second that would arrive with nothing upstream overloaded.
    pub demand_rate: f64,
    /// Offered load per server, λ/(cμ).
    pub utilization: f64,
    /// Messages completing service per second.
    pub throughput: f64,
    /// Whether ρ < 1.
    pub stable: bool,
    /// "stable", "saturated" (finite queue at ρ ≥ 1) or "unstable" (unbounded queue at ρ ≥ 1).
    pub verdict: Verdict,
    /// Queue growth in messages per second, λ − cμ (0 when stable).
    pub growth_rate: f64,
    /// The N of `time_to_fill`, messages.
    pub fill_target: f64,
    /// Seconds until the queue holds `fill_target` messages from empty; `null` when stable.
    pub time_to_fill: Option<f64>,
    /// Where the rates have no closed form (a blocking queue upstream or here has only bounds
    /// on its throughput), their bounds; `arrival_rate`, `utilization` and `throughput` are then
    /// the upper bounds, and the table and the page print the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<RateBounds>,
    /// Metric key to figure.
    pub metrics: BTreeMap<String, Figure>,
    /// Per priority class, highest first, for nodes with a priority discipline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<AnalysisClassEntry>,
    /// Per message class, when the network has several classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_classes: Vec<AnalysisNamedEntry>,
}

impl AnalysisNodeEntry {
    /// λ, ρ and throughput as the table and the page print them: each value, or the range of
    /// its [`bounds`](AnalysisNodeEntry::bounds) where it has no closed form.
    #[must_use]
    pub fn shown_rates(&self) -> [String; 3] {
        let shown = |value: f64, bounds: Option<[f64; 2]>| match bounds {
            Some(bounds) => {
                bounds.map(|bound| if bound.is_finite() { number(bound) } else { "-".to_owned() }).join("–")
            }
            None => number(value),
        };
        let bounds = self.bounds.as_ref();
        [
            shown(self.arrival_rate, bounds.map(|b| b.arrival_rate)),
            shown(self.utilization, bounds.map(|b| b.utilization)),
            shown(self.throughput, bounds.map(|b| b.throughput)),
        ]
    }
}

/// The entries of classes named `names`, one per list of figures.
fn message_class_entries<M: Metric>(
    names: &[String],
    figures: &[Vec<(M, Figure)>],
) -> Vec<AnalysisNamedEntry> {
    names
        .iter()
        .zip(figures)
        .map(|(name, figures)| AnalysisNamedEntry { name: name.clone(), metrics: figure_map(figures) })
        .collect()
}

/// One priority class of a node in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisClassEntry {
    /// The class's message priority (higher is more urgent).
    pub priority: u8,
    /// Metric key to figure.
    pub metrics: BTreeMap<String, Figure>,
}

/// One source, or one message class (at a node or network-wide), in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisNamedEntry {
    /// The source's or class's name.
    pub name: String,
    /// Metric key to figure.
    pub metrics: BTreeMap<String, Figure>,
}

/// The whole analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisFile {
    /// Scenario name.
    pub scenario: String,
    /// The network as the report draws it: its vertices and routes.
    pub graph: Topology,
    /// System-wide verdict.
    pub system: SystemEntry,
    /// Per node, in file order.
    pub nodes: Vec<AnalysisNodeEntry>,
    /// Per source, in file order.
    pub sources: Vec<AnalysisNamedEntry>,
    /// Per message class network-wide, when the network has several classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<AnalysisNamedEntry>,
    /// For a scenario whose load follows the clock, the fluid prediction of every node's
    /// backlog over the run; absent for a scenario with a steady state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_over_time: Option<LoadOverTimeEntry>,
}

/// The fluid prediction of load over time in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadOverTimeEntry {
    /// The method behind the figures (`null` when there are none).
    pub method: Option<String>,
    /// Whether the figures are the exact solution of the fluid model.
    pub exact: bool,
    /// The end of the prediction (warm-up plus duration), seconds; `null` when there is none.
    pub horizon_s: Option<f64>,
    /// Why there is no prediction, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Per node, in file order (empty when there is no prediction).
    pub nodes: Vec<FluidNodeEntry>,
}

/// One node's predicted backlog in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FluidNodeEntry {
    /// The node's name.
    pub name: String,
    /// The largest backlog, messages waiting (0 when the node never holds a queue).
    pub peak_backlog: f64,
    /// When the backlog first reaches its peak, seconds from the start.
    pub peak_at_s: f64,
    /// Seconds from the peak back to an empty queue; `null` when not drained by the horizon.
    pub drain_s: Option<f64>,
    /// The highest rate at which messages are offered to the node, per second.
    pub peak_arrival_rate: f64,
    /// Backlog growth at the horizon, messages per second (negative while draining).
    pub growth_rate: f64,
}

impl LoadOverTimeEntry {
    /// The entry of a prediction, or of the reason there is none.
    fn new(fluid: &Result<Fluid, FluidError>) -> Self {
        match fluid {
            Ok(fluid) => Self {
                method: Some(fluid.method().to_owned()),
                exact: fluid.exact(),
                horizon_s: Some(fluid.horizon_s()),
                reason: None,
                nodes: fluid
                    .peaks()
                    .into_iter()
                    .map(|peak| FluidNodeEntry {
                        name: peak.name,
                        peak_backlog: peak.peak_backlog,
                        peak_at_s: peak.peak_at_s,
                        drain_s: peak.drain_s,
                        peak_arrival_rate: peak.peak_arrival_rate,
                        growth_rate: peak.growth_rate,
                    })
                    .collect(),
            },
            Err(error) => Self {
                method: None,
                exact: false,
                horizon_s: None,
                reason: Some(error.to_string()),
                nodes: Vec::new(),
            },
        }
    }
}

/// Metric key to figure, for a node's or source's figures.
pub(super) fn figure_map<M: Metric>(figures: &[(M, Figure)]) -> BTreeMap<String, Figure> {
    figures.iter().map(|(metric, figure)| (metric.key().to_owned(), figure.clone())).collect()
}

impl AnalysisFile {
    /// The file for an analysis of the named scenario.
    #[must_use]
    pub fn new(scenario: &str, analysis: &Analysis, network: &Network) -> Self {
        let priorities = network.priorities();
        let system = &analysis.system;
        Self {
            scenario: scenario.to_owned(),
            graph: Topology::new(network, Some(analysis)),
            system: SystemEntry {
                stable: system.stable,
                undetermined: system.undetermined.clone(),
                bottleneck: system.bottleneck.clone(),
                headroom: system.headroom,
                headroom_reason: system.headroom_reason.clone(),
                max_throughput: system.max_throughput,
                offered_rate: system.offered_rate,
                population_curve: system
                    .population_curve
                    .iter()
                    .map(|&(clients, throughput, response_time)| PopulationPoint {
                        clients,
                        throughput,
                        response_time,
                    })
                    .collect(),
            },
            nodes: analysis
                .nodes
                .iter()
                .map(|node| AnalysisNodeEntry {
                    name: node.name.clone(),
                    model: node.model.clone(),
                    arrival_rate: node.arrival_rate,
                    demand_rate: node.demand_rate,
                    utilization: node.utilization,
                    throughput: node.throughput,
                    stable: node.stable,
                    verdict: node.verdict,
                    growth_rate: node.growth_rate,
                    fill_target: node.fill_target,
                    time_to_fill: node.time_to_fill,
                    bounds: node.bounds,
                    metrics: figure_map(&node.metrics),
                    classes: node
                        .priority_classes
                        .iter()
                        .zip(priorities)
                        .map(|(figures, &priority)| AnalysisClassEntry {
                            priority,
                            metrics: figure_map(figures),
                        })
                        .collect(),
                    message_classes: message_class_entries(network.message_classes(), &node.message_classes),
                })
                .collect(),
            sources: analysis
                .sources
                .iter()
                .map(|source| AnalysisNamedEntry {
                    name: source.name.clone(),
                    metrics: figure_map(&source.metrics),
                })
                .collect(),
            classes: message_class_entries(network.message_classes(), &analysis.message_classes),
            load_over_time: analysis.fluid.as_ref().map(LoadOverTimeEntry::new),
        }
    }
}

/// A figure as text: the value with its unit, "~" in front when approximate.
pub(super) fn figure_text(unit: &str, figure: &Figure) -> String {
    let approx = if figure.exact { "" } else { "~" };
    figure.value.map_or_else(|| "-".to_owned(), |v| format!("{approx}{}{unit}", number(v)))
}

/// The rows of a set of figures; those withheld for time-varying load are left out (the header
/// says so once). A reason or method the row above gave already reads "(as above)".
fn figure_rows<M: Metric>(out: &mut String, metrics: &BTreeMap<String, Figure>) {
    let mut previous = None;
    for metric in M::ALL {
        let key = metric.key();
        let Some(figure) = metrics.get(key) else { continue };
        if figure.value.is_none() && figure.reason.as_deref() == Some(WITHHELD) {
            continue;
        }
        let note = figure.reason.as_deref().unwrap_or(&figure.method);
        let shown = if previous == Some(note) && note.len() > 30 { "(as above)" } else { note };
        previous = Some(note);
        let _ = writeln!(out, "  {key:<24} {:>14}  {shown}", figure_text(metric.unit(), figure));
    }
}

/// A title and its figure rows, or nothing when every figure is withheld for time-varying load.
fn titled_rows<M: Metric>(out: &mut String, title: &str, metrics: &BTreeMap<String, Figure>) {
    let mut rows = String::new();
    figure_rows::<M>(&mut rows, metrics);
    if !rows.is_empty() {
        let _ = write!(out, "\n{title}\n{rows}");
    }
}

/// The lines that introduce the fluid prediction of a time-varying scenario.
fn load_header(out: &mut String, load: &LoadOverTimeEntry) {
    let _ = writeln!(
        out,
        "time-varying load: no steady state, so no closed-form waits; rates, utilisations, verdicts and headroom are averages over the observed window (peaks below)"
    );
    match (&load.method, load.horizon_s, &load.reason) {
        (Some(method), Some(horizon), _) => {
            let _ = writeln!(out, "load over time (fluid, 0s to {}s): {method}", number(horizon));
        }
        (_, _, reason) => {
            let _ =
                writeln!(out, "load over time (fluid): none ({})", reason.as_deref().unwrap_or("unknown"));
        }
    }
}

/// One node's line of the fluid prediction.
fn load_line(out: &mut String, fluid: &FluidNodeEntry, horizon_s: Option<f64>) {
    let offered = number(fluid.peak_arrival_rate);
    if fluid.peak_backlog <= 0.0 {
        let _ = writeln!(out, "  load over time (fluid): offered up to {offered}/s, never backlogged");
        return;
    }
    let drain = fluid.drain_s.map_or_else(
        || {
            let trend = if fluid.growth_rate > 0.0 {
                format!("; still growing by {}/s", number(fluid.growth_rate))
            } else {
                String::new()
            };
            format!("not drained by {}s{trend}", horizon_s.map_or_else(|| "-".to_owned(), number))
        },
        |drain| format!("drains in {}s", number(drain)),
    );
    let _ = writeln!(
        out,
        "  load over time (fluid): offered up to {offered}/s, peak backlog {} at {}s, {drain}",
        number(fluid.peak_backlog),
        number(fluid.peak_at_s)
    );
}

/// Renders the analysis as text for the terminal.
#[must_use]
pub fn render_analysis(file: &AnalysisFile) -> String {
    let mut out = String::new();
    let system = &file.system;
    let verdict = match (&system.undetermined, system.stable) {
        (Some(reason), _) => format!("the system's stability is undetermined: {reason}"),
        (None, true) => "the system is stable".to_owned(),
        (None, false) => "the system is UNSTABLE".to_owned(),
    };
    let _ = writeln!(out, "scenario {}: analysis without simulation; {verdict}", file.scenario);
    if let Some(bottleneck) = &system.bottleneck {
        let _ = writeln!(out, "bottleneck: {bottleneck}");
    }
    match (system.headroom, &system.headroom_reason) {
        (Some(headroom), _) => {
            let max = system.max_throughput.map_or_else(|| "-".to_owned(), number);
            let change = if headroom >= 1.0 {
                format!(
                    "all arrival rates can grow by a factor {} before a queue saturates",
                    number(headroom)
                )
            } else {
                format!(
                    "none: all arrival rates must fall to {} of today's before every queue is stable",
                    number(headroom)
                )
            };
            let offered = number(system.offered_rate);
            let _ = writeln!(out, "headroom: {change}; max throughput {max}/s (offered {offered}/s)");
        }
        (None, reason) => {
            let _ = writeln!(out, "headroom: none ({})", reason.as_deref().unwrap_or("unknown"));
        }
    }
    if !system.population_curve.is_empty() {
        let _ = writeln!(out, "closed population (exact MVA): clients, throughput, response time");
        for point in &system.population_curve {
            let _ = writeln!(
                out,
                "  N = {:<6} X = {}/s  R = {}s",
                point.clients,
                number(point.throughput),
                number(point.response_time)
            );
        }
    }
    if let Some(load) = &file.load_over_time {
        load_header(&mut out, load);
    }
    for (i, node) in file.nodes.iter().enumerate() {
        let [lambda, rho, throughput] = node.shown_rates();
        let per_second = |rate: String| if rate == "-" { rate } else { format!("{rate}/s") };
        let _ = writeln!(
            out,
            "\nnode {} [{}]: λ {}, ρ {rho}, throughput {}, {}",
            node.name,
            node.model,
            per_second(lambda),
            per_second(throughput),
            node.verdict
        );
        if let Some(fluid) = file.load_over_time.as_ref().and_then(|load| load.nodes.get(i)) {
            load_line(&mut out, fluid, file.load_over_time.as_ref().and_then(|load| load.horizon_s));
        }
        if let Some(time) = node.time_to_fill {
            let _ = writeln!(
                out,
                "  queue grows by {}/s: {} messages after {}s",
                number(node.growth_rate),
                number(node.fill_target),
                number(time)
            );
        }
        figure_rows::<crate::model::NodeMetric>(&mut out, &node.metrics);
        for class in &node.classes {
            let _ = writeln!(out, "  messages of priority {}:", class.priority);
            figure_rows::<crate::model::NodeClassMetric>(&mut out, &class.metrics);
        }
        for class in &node.message_classes {
            let _ = writeln!(out, "  messages of class {}:", class.name);
            figure_rows::<crate::model::NodeClassMetric>(&mut out, &class.metrics);
        }
    }
    for source in &file.sources {
        titled_rows::<crate::model::SourceMetric>(
            &mut out,
            &format!("source {}", source.name),
            &source.metrics,
        );
    }
    for class in &file.classes {
        let title = format!("class {} (end to end)", class.name);
        titled_rows::<crate::model::MessageClassMetric>(&mut out, &title, &class.metrics);
    }
    let _ = writeln!(out, "\n(~ marks an approximation; the rest is exact under the model's assumptions)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::analyze;
    use crate::analytic::fixtures::{TANDEM, analysis, scheduled, steps};

    #[test]
    fn a_time_varying_scenario_reports_its_load_over_time_and_a_steady_one_does_not() {
        let text = r#"
            [simulation]
            duration = "400s"
            warmup = "0s"
            [[source]]
            name = "s"
            to = "a"
            interarrival = { dist = "exponential", rate = 10.0 }
            [[node]]
            name = "a"
            servers = 2
            service = { dist = "exponential", mean = "0.1s" }
        "#;
        // 30/s over [100, 200) into cμ = 20/s: 1000 waiting at t = 200, empty 100 s later.
        let burst = steps(&[(0.0, 10.0), (100.0, 30.0), (200.0, 10.0)]);
        let scenario = scheduled(text, &[Some(burst)], &[]);
        let file = AnalysisFile::new("t", &analyze(&scenario, None).unwrap(), scenario.network());
        let load = file.load_over_time.as_ref().expect("a fluid prediction");
        assert_eq!(load.horizon_s, Some(400.0));
        assert_eq!(load.nodes[0].peak_backlog, 1000.0);
        assert_eq!(load.nodes[0].drain_s, Some(100.0));
        let json = serde_json::to_string(&file).unwrap();
        assert_eq!(serde_json::from_str::<AnalysisFile>(&json).unwrap(), file);
        let text = render_analysis(&file);
        assert!(text.contains("load over time (fluid, 0s to 400.0s)"), "{text}");
        assert!(
            text.contains("offered up to 30.00/s, peak backlog 1000 at 200.0s, drains in 100.0s"),
            "{text}"
        );
        // Withheld figures are said once, not once per metric.
        assert!(text.contains("time-varying load: no steady state, so no closed-form waits"), "{text}");
        assert!(!text.contains("mean_wait") && !text.contains(crate::analytic::varying::WITHHELD), "{text}");

        let steady = AnalysisFile::new("t", &analysis(TANDEM), scenario.network());
        assert!(!serde_json::to_string(&steady).unwrap().contains("load_over_time"));
        assert!(!render_analysis(&steady).contains("load over time"));
    }
}
