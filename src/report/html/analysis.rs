//! The page of an analysis (theory without simulation): the verdict, the nodes with their load,
//! for load that follows the clock the fluid approximation's peaks, the chart, every closed-form
//! figure as the terminal prints it, and how to reproduce it.

use std::fmt::Write as _;

use super::markup::{HtmlTable, escape};
use super::study::table;
use super::{Html, close, open};
use crate::report::analysis::LoadOverTimeEntry;
use crate::report::{AnalysisFile, Exporter, ReportError, StudyReport, SystemEntry, number};

impl Exporter<StudyReport> for Html {
    fn render(&self, result: &StudyReport) -> Result<Vec<u8>, ReportError> {
        let file = &result.analysis;
        let mut out = open(&format!("Analysis: {}", file.scenario));
        out.push_str(
            "<p class=\"lead\">Theory without simulation: the traffic equations, and the closed forms \
             of each node's model where it has them.</p>\n",
        );
        verdict(file, &mut out);
        nodes(file, &mut out);
        if let Some(load) = &file.load_over_time {
            peaks(load, &file.system, &mut out);
        }
        self.charts(result, &StudyReport::charts(), &mut out)?;
        table("Closed-form figures", result, &mut out)?;
        self.reproduce_analysis(&mut out);
        Ok(close(out))
    }
}

/// Stable or not, the bottleneck and the headroom.
fn verdict(file: &AnalysisFile, out: &mut String) {
    let system = &file.system;
    let undetermined =
        system.undetermined.as_ref().map(|reason| format!("Undetermined: {}.", escape(reason)));
    let (class, text) = match (system.stable, file.load_over_time.is_some()) {
        (false, _) if undetermined.is_some() => ("open", undetermined.as_deref().unwrap_or_default()),
        (true, true) => (
            "ok",
            "Stable on average: over the observed window every unbounded queue is offered less than \
             its capacity (ρ < 1). The load follows the clock, so queues build during its peaks (below).",
        ),
        (true, false) => ("ok", "Stable: every unbounded queue is offered less than its capacity (ρ < 1)."),
        (false, _) => ("bad", "Unstable: some unbounded queue is offered at least its capacity (ρ ≥ 1)."),
    };
    let _ = writeln!(out, "<section>\n<h2>Verdict</h2>\n<p class=\"verdict {class}\">{text}</p>\n<ul>");
    if let Some(bottleneck) = &system.bottleneck {
        let node = file.nodes.iter().find(|n| &n.name == bottleneck);
        let rho = node.map_or_else(String::new, |node| format!(" at ρ = {}", node.shown_rates()[1]));
        let _ = writeln!(out, "<li>Bottleneck: <strong>{}</strong>{rho}.</li>", escape(bottleneck));
    }
    let _ = writeln!(out, "<li>{}</li>\n</ul>\n</section>", headroom(system));
}

/// The headroom sentence: how far every arrival rate can grow, or must fall.
fn headroom(system: &SystemEntry) -> String {
    match (system.headroom, &system.headroom_reason) {
        (Some(headroom), _) if headroom < 1.0 => format!(
            "Headroom: none; every arrival rate must fall to ×{headroom:.2} of today's for every \
             unbounded queue to be stable."
        ),
        (Some(headroom), _) => {
            let most = system.max_throughput.map_or_else(String::new, |most| {
                format!(": at most {} messages/s against {} today", number(most), number(system.offered_rate))
            });
            format!(
                "Headroom: every arrival rate can grow ×{headroom:.2} before the first unbounded queue \
                 saturates{most}."
            )
        }
        (None, reason) => {
            format!("Headroom: none computed; {}.", escape(reason.as_deref().unwrap_or("no reason given")))
        }
    }
}

/// The drawing of the network, then each node in Kendall notation with its load and verdict,
/// the bottleneck highlighted.
fn nodes(file: &AnalysisFile, out: &mut String) {
    let mut table = HtmlTable::new(&["node", "model", "λ (/s)", "ρ", "throughput (/s)", "verdict"], 2);
    for node in &file.nodes {
        let class = if node.verdict.overloaded() {
            Some("miss")
        } else if file.system.bottleneck.as_deref() == Some(node.name.as_str()) {
            Some("bottleneck")
        } else {
            None
        };
        let [lambda, rho, throughput] = node.shown_rates();
        table.row(
            class,
            vec![
                escape(&node.name),
                escape(&node.model),
                lambda,
                rho,
                throughput,
                escape(&node.verdict.to_string()),
            ],
        );
    }
    out.push_str("<section>\n<h2>Scenario</h2>\n");
    super::graph::render(&file.graph, out);
    out.push_str("<h3>Nodes</h3>\n");
    table.render(out);
    out.push_str(
        "<p class=\"note\">Highlighted: the bottleneck, and in red any node with no steady state.</p>\n\
         </section>\n",
    );
}

/// For load that follows the clock, the fluid approximation's largest backlog at each node.
fn peaks(load: &LoadOverTimeEntry, system: &SystemEntry, out: &mut String) {
    out.push_str("<section>\n<h2>Peaks of the load over time</h2>\n");
    let (Some(method), Some(horizon)) = (&load.method, load.horizon_s) else {
        let reason = load.reason.as_deref().unwrap_or("no reason given");
        let _ = writeln!(out, "<p>No fluid prediction: {}.</p>\n</section>", escape(reason));
        return;
    };
    let _ = writeln!(
        out,
        "<p>Rates, utilisations, verdicts and headroom above are averages over the observed window \
         (offered {}/s on average). Through the peaks, each node's backlog from 0s to {}s by {}:</p>",
        number(system.offered_rate),
        number(horizon),
        escape(method)
    );
    let mut table = HtmlTable::new(
        &["node", "peak offered (/s)", "peak backlog (messages)", "at (s)", "drained after (s)"],
        1,
    );
    for node in &load.nodes {
        let backlogged = node.peak_backlog > 0.0;
        let drain = match node.drain_s {
            _ if !backlogged => "-".to_owned(),
            Some(drain) => number(drain),
            None => "not by the end".to_owned(),
        };
        table.row(
            backlogged.then_some("bottleneck"),
            vec![
                escape(&node.name),
                number(node.peak_arrival_rate),
                if backlogged { number(node.peak_backlog) } else { "never backlogged".to_owned() },
                if backlogged { number(node.peak_at_s) } else { "-".to_owned() },
                drain,
            ],
        );
    }
    table.render(out);
    out.push_str("</section>\n");
}

impl Html {
    /// The command line and version that reproduce an analysis (which draws nothing at random).
    fn reproduce_analysis(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "<section>\n<h2>Reproduce</h2>\n<p>Run from the directory it was run in, with the same \
             version of kendall, this gives the same figures (an analysis draws nothing at random):</p>\n\
             <pre>{}</pre>\n<dl>\n<dt>kendall version</dt><dd>{}</dd>\n</dl>\n</section>",
            escape(&self.command),
            escape(&self.version)
        );
    }
}
