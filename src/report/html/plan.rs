//! The page of a plan: the verdict, the servers recommended per node, every SLO checked in the
//! plan, the chart, and how to reproduce the search.

use std::fmt::Write as _;

use super::markup::{HtmlTable, escape};
use super::{Html, Run, close, open};
use crate::experiment::PlanMode;
use crate::report::plan::unit;
use crate::report::{Exporter, PlanReport, ReportError, count, number};

impl Exporter<PlanReport> for Html {
    fn render(&self, result: &PlanReport) -> Result<Vec<u8>, ReportError> {
        let file = &result.file;
        let mut out = open(&format!("Capacity plan: {}", file.scenario));
        let question = match file.mode {
            PlanMode::FewestServers => {
                format!("the fewest servers meeting every SLO at load {} × today", file.load)
            }
            PlanMode::MaxLoad => "the highest load today's servers carry within every SLO".to_owned(),
        };
        let _ = writeln!(
            out,
            "<p class=\"lead\">Looked for {}; {} simulated, {} each; seed {}.</p>",
            escape(&question),
            count(file.simulated as u64, "configuration"),
            count(u64::from(file.replications), "replication"),
            file.seed
        );
        verdict(result, &mut out);
        nodes(result, &mut out);
        checks(result, &mut out);
        self.charts(result, &result.charts(), &mut out)?;
        let run = Run {
            seed: file.seed.to_string(),
            replications: file.replications,
            wall_seconds: file.wall_seconds,
        };
        self.reproduce(&run, &mut out);
        Ok(close(out))
    }
}

/// Feasible or not, and why not.
fn verdict(result: &PlanReport, out: &mut String) {
    let file = &result.file;
    let text = match (file.mode, file.max_load.flatten()) {
        _ if !file.feasible => format!(
            "Infeasible: {}.",
            escape(file.reason.as_deref().unwrap_or("no configuration met every SLO"))
        ),
        (PlanMode::MaxLoad, Some(load)) => format!(
            "Feasible up to {} × today's arrival rates with today's servers (bisection to 1%).",
            number(load)
        ),
        _ => "Feasible: the servers below meet every SLO.".to_owned(),
    };
    let class = if file.feasible { "ok" } else { "bad" };
    let _ = writeln!(out, "<section>\n<h2>Verdict</h2>\n<p class=\"verdict {class}\">{text}</p>\n</section>");
}

/// Each node's servers today and in the plan, with its utilisation in the plan.
fn nodes(result: &PlanReport, out: &mut String) {
    let file = &result.file;
    let servers = |count: Option<u32>| count.map_or_else(|| "∞".to_owned(), |c| c.to_string());
    let mut table = HtmlTable::new(&["node", "servers today", "servers needed", "ρ in the plan (theory)"], 1);
    for node in &file.nodes {
        let changed = file.feasible && node.servers_needed != node.servers_today;
        let needed = if file.feasible { servers(node.servers_needed) } else { "-".to_owned() };
        table.row(
            changed.then_some("bottleneck"),
            vec![
                escape(&node.name),
                servers(node.servers_today),
                if changed { format!("<strong>{needed}</strong>") } else { needed },
                node.utilization.map_or_else(|| "-".to_owned(), number),
            ],
        );
    }
    out.push_str("<section>\n<h2>Servers per node</h2>\n");
    table.render(out);
    out.push_str("<p class=\"note\">Highlighted: the nodes the plan resizes. plan.toml beside this page is the scenario with these servers.</p>\n</section>\n");
}

/// Every SLO on every source or node it applies to, in the plan.
fn checks(result: &PlanReport, out: &mut String) {
    let mut table = HtmlTable::new(&["SLO", "at", "value", "95% CI", "met"], 2);
    for check in &result.file.slos {
        let unit = unit(&check.metric, &check.scope);
        let value = check.value.map_or_else(|| "-".to_owned(), |v| format!("{}{unit}", number(v)));
        let ci =
            check.ci95.map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
        table.row(
            (!check.met).then_some("miss"),
            vec![
                escape(&check.expr),
                escape(&format!("{} {}", check.scope, check.name)),
                escape(&value),
                ci,
                if check.met { "yes".to_owned() } else { "<strong>no</strong>".to_owned() },
            ],
        );
    }
    out.push_str("<section>\n<h2>SLO checks</h2>\n");
    table.render(out);
    out.push_str("<p class=\"note\">An SLO counts as met only when the worst side of its 95% confidence interval meets it.</p>\n</section>\n");
}
