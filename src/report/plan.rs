//! The planner's outputs: plan.json, the plan table, and plan.toml, the recommended scenario
//! ready to run (the original file with the servers edited in place and a header saying what
//! it is).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use toml::Spanned;

use super::chart::{ImageFormat, MaxLoadChart, PlanChart, has_max_load_chart, has_plan_chart};
use super::exporter::{Exporter, Json, Table};
use super::files::{ReportError, pretty_json};
use super::sweep::SloEntry;
use super::table::number;
use crate::experiment::{Candidate, NodePlan, Plan, PlanMode, Slo};
use crate::model::{Scenario, Servers};
use crate::scenario::{self, ScenarioError};
use crate::stats::{Metric, NodeMetric, SourceMetric};

/// The plan.json document: everything the plan's table, chart and page show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The scenario's name.
    pub scenario: String,
    /// What was looked for.
    pub mode: PlanMode,
    /// Master seed of every configuration (common random numbers).
    pub seed: u64,
    /// Replications per configuration, as the scenario gives them.
    pub replications: u32,
    /// Whether some configuration met every SLO.
    pub feasible: bool,
    /// The load factor (on today's arrival rates) of the plan.
    pub load: f64,
    /// Every SLO on every source or node it applies to, in the plan.
    pub slos: Vec<SloEntry>,
    /// Every node, in network order.
    pub nodes: Vec<PlanNodeEntry>,
    /// With `--max-load` only: the highest load factor at which every SLO held (null when none
    /// did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_load: Option<Option<f64>>,
    /// Why no plan was found, when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every configuration simulated, in the order simulated.
    pub evaluated: Vec<CandidateEntry>,
    /// Configurations simulated.
    pub simulated: usize,
    /// Wall-clock time of the search, seconds.
    pub wall_seconds: f64,
}

/// One configuration the planner simulated, in plan.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateEntry {
    /// Servers per node, in the order of [`PlanFile::nodes`] (null: infinitely many).
    pub servers: Vec<Option<u32>>,
    /// Factor on today's arrival rates.
    pub load: f64,
    /// Whether every SLO held.
    pub met: bool,
    /// Every SLO on every source or node it applies to.
    pub slos: Vec<SloEntry>,
}

impl From<&Candidate> for CandidateEntry {
    fn from(candidate: &Candidate) -> Self {
        Self {
            servers: candidate.servers.iter().map(|servers| servers.count()).collect(),
            load: candidate.load,
            met: candidate.met,
            slos: candidate.checks.iter().map(SloEntry::from).collect(),
        }
    }
}

/// One node of plan.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanNodeEntry {
    /// The node's name.
    pub name: String,
    /// Servers in the scenario file (null: infinitely many).
    pub servers_today: Option<u32>,
    /// Servers in the plan (null: infinitely many, or no plan).
    pub servers_needed: Option<u32>,
    /// Utilisation in the plan at its load, from theory (null without a figure).
    pub utilization: Option<f64>,
    /// The fewest servers with which theory calls the node stable at the plan's load (null for
    /// a node with a capacity, always stable, or with infinitely many servers).
    pub fewest_stable: Option<u32>,
}

impl From<&NodePlan> for PlanNodeEntry {
    fn from(node: &NodePlan) -> Self {
        Self {
            name: node.name.clone(),
            servers_today: node.servers_today.count(),
            servers_needed: node.servers_needed.and_then(Servers::count),
            utilization: node.utilization,
            fewest_stable: node.fewest_stable,
        }
    }
}

/// Why plan.toml could not be made.
#[derive(Debug, Error)]
pub enum PlanTomlError {
    /// The original file no longer reads as a scenario.
    #[error("cannot edit the servers of {}: {message}", path.display())]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// The TOML error.
        message: String,
    },
    /// The edited file does not load as the planned scenario (a bug, never expected).
    #[error("the recommended scenario does not load")]
    Invalid(#[source] Box<ScenarioError>),
    /// The edited file loads with other servers than planned at a node (a bug, never expected).
    #[error("the recommended scenario has other servers than planned at node '{0}'")]
    Servers(String),
}

/// The results of `kendall plan`, ready to export.
#[derive(Debug, Clone)]
pub struct PlanReport {
    /// The plan.json document.
    pub file: PlanFile,
    /// plan.toml: the recommended scenario.
    pub toml: String,
}

impl PlanReport {
    /// The report of `plan` for `scenario`, loaded from `text` at `path`.
    ///
    /// # Errors
    /// When the servers cannot be edited into `text`, or the result does not load as the plan.
    pub fn new(
        scenario: &Scenario,
        plan: &Plan,
        slos: &[Slo],
        text: &str,
        path: &Path,
    ) -> Result<Self, PlanTomlError> {
        let file = PlanFile {
            scenario: scenario.name().to_owned(),
            mode: plan.mode,
            seed: scenario.settings().seed(),
            replications: scenario.settings().replications(),
            feasible: plan.feasible,
            load: plan.load,
            slos: plan.checks.iter().map(SloEntry::from).collect(),
            nodes: plan.nodes.iter().map(PlanNodeEntry::from).collect(),
            max_load: (plan.mode == PlanMode::MaxLoad).then_some(plan.max_load),
            reason: plan.reason.clone(),
            evaluated: plan.evaluated.iter().map(CandidateEntry::from).collect(),
            simulated: plan.simulated,
            wall_seconds: plan.wall_seconds,
        };
        let toml = recommended_toml(scenario, plan, slos, text, path)?;
        Ok(Self { file, toml })
    }

    /// The files of a plan's output directory, by name.
    #[must_use]
    pub fn files() -> [(&'static str, &'static dyn Exporter<Self>); 2] {
        [("plan.json", &Json), ("plan.toml", &PlanToml)]
    }

    /// The charts of this plan, by name under the output directory (skipped with
    /// `--no-charts`): the SLO metric against each resized node's servers, when servers were
    /// searched for; against the load factor, with `--max-load`.
    #[must_use]
    pub fn charts(&self) -> Vec<(&'static str, &'static dyn Exporter<Self>)> {
        if has_plan_chart(self) {
            vec![
                ("charts/plan.svg", &PlanChart(ImageFormat::Svg)),
                ("charts/plan.png", &PlanChart(ImageFormat::Png)),
            ]
        } else if has_max_load_chart(self) {
            vec![
                ("charts/max-load.svg", &MaxLoadChart(ImageFormat::Svg)),
                ("charts/max-load.png", &MaxLoadChart(ImageFormat::Png)),
            ]
        } else {
            Vec::new()
        }
    }
}

/// plan.toml: the recommended scenario.
#[derive(Debug, Clone, Copy)]
pub struct PlanToml;

impl Exporter<PlanReport> for PlanToml {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        Ok(result.toml.clone().into_bytes())
    }
}

impl Exporter<PlanReport> for Json {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&result.file))
    }
}

impl Exporter<PlanReport> for Table {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        Ok(render_plan(result).into_bytes())
    }
}

/// The plan as text: what was asked, the verdict, one line per node, one per SLO check.
pub(super) fn render_plan(report: &PlanReport) -> String {
    let file = &report.file;
    let mut out = String::new();
    let question = match file.mode {
        PlanMode::FewestServers => {
            format!("the fewest servers meeting every SLO at load {} × today", file.load)
        }
        PlanMode::MaxLoad => "the highest load today's servers carry within every SLO".to_owned(),
    };
    let _ = writeln!(out, "plan for {}: {question}", file.scenario);
    let verdict = match (file.mode, file.max_load.flatten()) {
        (_, _) if !file.feasible => format!("infeasible: {}", file.reason.as_deref().unwrap_or("")),
        (PlanMode::MaxLoad, Some(load)) => {
            format!("max load {} × today's arrival rates (bisection to 1%)", number(load))
        }
        _ => "feasible".to_owned(),
    };
    let _ = writeln!(
        out,
        "{verdict}\n{} configurations simulated in {:.1}s\n",
        file.simulated, file.wall_seconds
    );
    let _ = writeln!(
        out,
        "{:<20} {:>13} {:>14} {:>11}",
        "node", "servers today", "servers needed", "utilization"
    );
    for node in &file.nodes {
        let servers = |count: Option<u32>| count.map_or_else(|| "∞".to_owned(), |c| c.to_string());
        let needed = if file.feasible { servers(node.servers_needed) } else { "-".to_owned() };
        let rho = node.utilization.map_or_else(|| "-".to_owned(), number);
        let _ = writeln!(out, "{:<20} {:>13} {needed:>14} {rho:>11}", node.name, servers(node.servers_today));
    }
    let _ = writeln!(out, "\n{:<32} {:<22} {:>12}  {:<24} met", "slo", "at", "value", "95% CI");
    for check in &file.slos {
        let unit = unit(&check.metric, &check.scope);
        let value = check.value.map_or_else(|| "-".to_owned(), |v| format!("{}{unit}", number(v)));
        let ci =
            check.ci95.map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
        let met = if check.met { "yes" } else { "no" };
        let at = format!("{} {}", check.scope, check.name);
        let _ = writeln!(out, "{:<32} {at:<22} {value:>12}  {ci:<24} {met}", check.expr);
    }
    out
}

/// The unit of a metric of a source or node.
pub(super) fn unit(metric: &str, scope: &str) -> &'static str {
    let unit = if scope == "source" {
        SourceMetric::from_key(metric).map(SourceMetric::unit)
    } else {
        NodeMetric::from_key(metric).map(NodeMetric::unit)
    };
    unit.unwrap_or("")
}

/// What plan.toml needs of the original file: where each node's name and servers are.
#[derive(Deserialize)]
struct FileNodes {
    #[serde(default)]
    node: Vec<FileNode>,
}

#[derive(Deserialize)]
struct FileNode {
    name: Spanned<String>,
    servers: Option<Spanned<toml::Value>>,
}

/// `text` with the plan's servers edited in place and a header saying what it is; checked to
/// load as the planned scenario.
fn recommended_toml(
    scenario: &Scenario,
    plan: &Plan,
    slos: &[Slo],
    text: &str,
    path: &Path,
) -> Result<String, PlanTomlError> {
    let parse = |message: String| PlanTomlError::Parse { path: path.to_owned(), message };
    let nodes: FileNodes = toml::from_str(text).map_err(|error| parse(error.message().to_owned()))?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut changes = Vec::new();
    for node in &plan.nodes {
        let Some(needed) = node.servers_needed.filter(|needed| *needed != node.servers_today) else {
            continue;
        };
        let value = needed.count().map_or_else(|| "\"infinite\"".to_owned(), |c| c.to_string());
        let entry = nodes
            .node
            .iter()
            .find(|entry| *entry.name.get_ref() == node.name)
            .ok_or_else(|| parse(format!("no [[node]] named '{}'", node.name)))?;
        edits.push(match &entry.servers {
            Some(servers) => (servers.span().start, servers.span().end, value),
            None => insertion(text, entry.name.span().end, &value),
        });
        changes.push(format!("{} {} -> {needed}", node.name, node.servers_today));
    }
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut body = text.to_owned();
    for (start, end, replacement) in edits {
        body.replace_range(start..end, &replacement);
    }
    let toml = format!("{}{body}", header(scenario, plan, slos, path, &changes));
    let loaded = scenario::parse(&toml, scenario.name(), path)
        .map_err(|error| PlanTomlError::Invalid(Box::new(error)))?;
    for (node, planned) in loaded.network().nodes().iter().zip(&plan.nodes) {
        if planned.servers_needed.is_some_and(|needed| node.servers() != needed) {
            return Err(PlanTomlError::Servers(planned.name.clone()));
        }
    }
    Ok(toml)
}

/// Where and what to insert for a node without a `servers` field: a line after its name's
/// line, or `, servers = N` after the name in an inline table.
fn insertion(text: &str, name_end: usize, value: &str) -> (usize, usize, String) {
    let line_end = text[name_end..].find('\n').map_or(text.len(), |offset| name_end + offset);
    let rest = text[name_end..line_end].trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        (line_end, line_end, format!("\nservers = {value}"))
    } else {
        (name_end, name_end, format!(", servers = {value}"))
    }
}

/// The comment header of plan.toml.
fn header(scenario: &Scenario, plan: &Plan, slos: &[Slo], path: &Path, changes: &[String]) -> String {
    let expressions: Vec<&str> = slos.iter().map(|slo| slo.expr.as_str()).collect();
    let mut lines = vec![format!(
        "plan.toml: written by `kendall plan` from {} (scenario {}), for the SLOs: {}.",
        path.display(),
        scenario.name(),
        expressions.join("; ")
    )];
    let load = plan.load;
    match (plan.mode, plan.feasible) {
        (_, false) => lines.push(format!(
            "No configuration met every SLO ({}); this is the scenario as it was.",
            plan.reason.as_deref().unwrap_or("")
        )),
        (PlanMode::MaxLoad, true) => lines.push(format!(
            "Today's servers meet every SLO up to {} × today's arrival rates; the servers are unchanged.",
            number(load)
        )),
        (PlanMode::FewestServers, true) => {
            lines.push(format!(
                "The fewest servers meeting every SLO at {load} × today's arrival rates: {}.",
                if changes.is_empty() { "today's servers already do".to_owned() } else { changes.join(", ") }
            ));
            if (load - 1.0).abs() > f64::EPSILON {
                lines.push(format!(
                    "Arrival rates below are today's: `kendall sweep plan.toml --vary load={load}` checks the plan."
                ));
            }
        }
    }
    lines.iter().map(|line| format!("# {line}\n")).collect::<String>() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_servers_field_goes_on_the_line_after_the_name() {
        let text = "[[node]]\nname = \"a\"   # the worker pool\nservice = 1\n";
        let name_end = text.find("\"a\"").unwrap() + 3;
        let (at, until, insert) = insertion(text, name_end, "3");
        assert_eq!((at, until), (text.find("\nservice").unwrap(), at));
        let mut edited = text.to_owned();
        edited.replace_range(at..until, &insert);
        assert_eq!(edited, "[[node]]\nname = \"a\"   # the worker pool\nservers = 3\nservice = 1\n");
        let inline = "node = [{ name = \"a\", service = 1 }]\n";
        let name_end = inline.find("\"a\"").unwrap() + 3;
        let (at, _, insert) = insertion(inline, name_end, "3");
        let mut edited = inline.to_owned();
        edited.insert_str(at, &insert);
        assert_eq!(edited, "node = [{ name = \"a\", servers = 3, service = 1 }]\n");
    }
}
