//! The verdict (stable or not, the bottleneck, the headroom, the warnings) and the scenario
//! summarised: its nodes in Kendall notation with their load, and its sources.

use std::fmt::Write as _;

use super::markup::{HtmlTable, escape};
use crate::analytic::Verdict;
use crate::model::Arrivals;
use crate::report::series::clock_text;
use crate::report::{RunReport, Topology, number};

/// For load that follows the clock, the largest backlog the fluid approximation predicts: where,
/// how many messages, when and how long it takes to drain.
fn largest_fluid_backlog(result: &RunReport<'_>) -> Option<String> {
    let fluid = result.outcome.analysis.as_ref()?.fluid.as_ref()?.as_ref().ok()?;
    let peak = fluid.peaks().into_iter().max_by(|a, b| a.peak_backlog.total_cmp(&b.peak_backlog))?;
    if peak.peak_backlog < 1.0 {
        return Some("Peaks: no queue builds up in the fluid approximation.".to_owned());
    }
    let drain = peak.drain_s.map_or_else(
        || "not drained by the end of the run".to_owned(),
        |s| format!("drained {} later", clock_text(s)),
    );
    Some(format!(
        "Largest backlog: <strong>{}</strong>, about {} messages at {}, {drain} (fluid approximation; \
         the simulated queue over time is below).",
        escape(&peak.name),
        number(peak.peak_backlog),
        clock_text(peak.peak_at_s)
    ))
}

/// The verdict section: what theory and the simulation concluded, warnings included.
pub(super) fn verdict(result: &RunReport<'_>, out: &mut String) {
    out.push_str("<section>\n<h2>Verdict</h2>\n");
    let summary = &result.summary;
    match &result.outcome.analysis {
        Some(analysis) => {
            let system = &analysis.system;
            let undetermined =
                system.undetermined.as_ref().map(|reason| format!("Undetermined: {}.", escape(reason)));
            let (class, text) = if let Some(undetermined) = &undetermined {
                ("open", undetermined.as_str())
            } else if system.stable && summary.time_varying {
                (
                    "ok",
                    "Stable on average: over the observed window every unbounded queue is offered less \
                     than its capacity (ρ < 1). The load follows the clock, so queues build during its \
                     peaks (below).",
                )
            } else if system.stable {
                ("ok", "Stable: every unbounded queue is offered less than its capacity (ρ < 1).")
            } else {
                ("bad", "Unstable: some unbounded queue is offered at least its capacity (ρ ≥ 1).")
            };
            let _ = writeln!(out, "<p class=\"verdict {class}\">{text}</p>\n<ul>");
            if let Some(bottleneck) = &system.bottleneck {
                let rho = analysis.nodes.iter().find(|n| &n.name == bottleneck).map(|n| n.utilization);
                let rho = rho.map_or_else(String::new, |rho| format!(" at ρ = {}", number(rho)));
                let _ = writeln!(
                    out,
                    "<li>Bottleneck: <strong>{}</strong>{rho} (theory).</li>",
                    escape(bottleneck)
                );
            }
            if let Some(line) = largest_fluid_backlog(result) {
                let _ = writeln!(out, "<li>{line}</li>");
            }
            match (system.headroom, &system.headroom_reason) {
                (Some(headroom), _) if headroom < 1.0 => {
                    let _ = writeln!(
                        out,
                        "<li>Headroom: none; every arrival rate must fall to ×{headroom:.2} of today's \
                         for every unbounded queue to be stable.</li>"
                    );
                }
                (Some(headroom), _) => {
                    let most = system.max_throughput.map_or_else(String::new, |most| {
                        format!(
                            ": at most {} messages/s against {} today",
                            number(most),
                            number(system.offered_rate)
                        )
                    });
                    let _ = writeln!(
                        out,
                        "<li>Headroom: every arrival rate can grow ×{headroom:.2} before the first \
                         unbounded queue saturates{most}.</li>"
                    );
                }
                (None, Some(reason)) => {
                    let _ = writeln!(out, "<li>Headroom: none computed; {}.</li>", escape(reason));
                }
                (None, None) => {}
            }
            out.push_str("</ul>\n");
        }
        None => out.push_str(
            "<p class=\"verdict bad\">No theory for this network: the figures below rest on the \
             simulation alone.</p>\n",
        ),
    }
    if let Some(precision) = &summary.precision {
        let met = if precision.met { "met" } else { "NOT met (the maximum of replications stopped the run)" };
        let _ = writeln!(
            out,
            "<p>Precision target (95% CI within ±{}%): {met}.</p>",
            number(100.0 * precision.relative)
        );
    }
    if result.outcome.warnings.is_empty() {
        out.push_str("<p>No warnings.</p>\n");
    } else {
        out.push_str("<h3>Warnings</h3>\n<ul class=\"warnings\">\n");
        for warning in &result.outcome.warnings {
            let _ = writeln!(out, "<li>{}</li>", escape(&warning.to_string()));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The scenario section: a drawing of the network, a table of nodes and one of sources.
pub(super) fn render(result: &RunReport<'_>, out: &mut String) {
    out.push_str("<section>\n<h2>Scenario</h2>\n");
    let topology = Topology::new(&result.scenario.network, result.outcome.analysis.as_ref());
    super::graph::render(&topology, out);
    nodes(result, out);
    sources(result, out);
    out.push_str("</section>\n");
}

/// Each node in Kendall notation with its offered rate and load, theory beside the simulation.
fn nodes(result: &RunReport<'_>, out: &mut String) {
    let network = &result.scenario.network;
    let analysis = result.outcome.analysis.as_ref();
    let bottleneck = analysis.and_then(|a| a.system.bottleneck.as_deref());
    let mut table = HtmlTable::new(
        &[
            "node",
            "model",
            "servers",
            "capacity",
            "offered λ (/s)",
            "ρ theory",
            "ρ simulated [95% CI]",
            "verdict",
        ],
        2,
    );
    for (index, (node, entry)) in network.nodes().iter().zip(&result.summary.nodes).enumerate() {
        let theory = analysis.map(|a| &a.nodes[index]);
        let simulated = entry.metrics.get("utilization").and_then(|e| Some((e.mean?, e.ci95)));
        let simulated = simulated.map_or_else(
            || "-".to_owned(),
            |(mean, ci)| match ci {
                Some([low, high]) => format!("{} [{}, {}]", number(mean), number(low), number(high)),
                None => number(mean),
            },
        );
        let verdict = theory.map_or_else(
            || "-".to_owned(),
            |t| match t.verdict {
                Verdict::Stable => t.verdict.to_string(),
                _ => format!("<strong>{}</strong>", t.verdict),
            },
        );
        let class = (Some(node.name.as_str()) == bottleneck).then_some("bottleneck");
        table.row(
            class,
            vec![
                escape(&node.name),
                theory.map_or_else(|| "?".to_owned(), |t| escape(&t.model)),
                escape(&node.servers.to_string()),
                node.capacity.map_or_else(|| "unbounded".to_owned(), |k| k.to_string()),
                theory.map_or_else(|| "-".to_owned(), |t| number(t.arrival_rate)),
                theory.map_or_else(|| "-".to_owned(), |t| number(t.utilization)),
                simulated,
                verdict,
            ],
        );
    }
    out.push_str("<h3>Nodes</h3>\n");
    table.render(out);
    if bottleneck.is_some() {
        out.push_str(
            "<p class=\"note\">The bottleneck's row is highlighted. ρ = λ/(cμ), the load per server.</p>\n",
        );
    }
}

/// Each source: how its messages arrive and where they go first.
fn sources(result: &RunReport<'_>, out: &mut String) {
    let network = &result.scenario.network;
    let mut table = HtmlTable::new(&["source", "sends to", "arrivals", "rate (/s)"], 3);
    for source in network.sources() {
        let (arrivals, rate) = match &source.arrivals {
            Arrivals::Open { interarrival, .. } => {
                (format!("inter-arrival {interarrival}"), number(1.0 / interarrival.mean()))
            }
            Arrivals::Closed { population, think } => {
                (format!("{population} clients (request-reply), think time {think}"), "-".to_owned())
            }
        };
        let target = network.target_name(source.target);
        table.row(None, vec![escape(&source.name), escape(target), escape(&arrivals), rate]);
    }
    out.push_str("<h3>Sources</h3>\n");
    table.render(out);
}
