//! The key figures: each node's and source's simulated means with their 95% CIs beside theory,
//! as the terminal table has them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markup::{HtmlTable, escape};
use crate::analytic::Figure;
use crate::report::analysis::figure_text;
use crate::report::{EstimateEntry, SummaryFile, number};
use crate::stats::{ExchangeMetric, MessageClassMetric, Metric, NodeClassMetric, NodeMetric, SourceMetric};

/// One entity's figures, titled.
struct Figures<'a> {
    title: String,
    metrics: &'a BTreeMap<String, EstimateEntry>,
    analytic: &'a BTreeMap<String, Figure>,
    misses: &'a [String],
}

impl Figures<'_> {
    /// A table of the metrics measured or predicted; a metric whose CI misses exact theory is
    /// flagged.
    fn render<M: Metric>(&self, out: &mut String) {
        let mut table = HtmlTable::new(&["metric", "mean", "95% CI", "theory", "diff."], 1);
        for metric in M::ALL {
            let key = metric.key();
            let unit = metric.unit();
            let entry = self.metrics.get(key);
            let mean = entry.and_then(|e| e.mean);
            let figure = self.analytic.get(key).filter(|f| f.value.is_some());
            if mean.is_none() && figure.is_none() {
                continue; // nothing measured and nothing predicted
            }
            let ci = entry
                .and_then(|e| e.ci95)
                .map_or_else(String::new, |[low, high]| format!("[{}, {}]", number(low), number(high)));
            let miss = self.misses.iter().any(|m| m == key);
            let difference = match (mean, figure.and_then(|f| f.value)) {
                (Some(mean), Some(theory)) if theory != 0.0 => {
                    format!("{:+.1}%", 100.0 * (mean - theory) / theory)
                }
                _ => String::new(),
            };
            let flag = if miss { " (outside CI)" } else { "" };
            table.row(
                miss.then_some("miss"),
                vec![
                    escape(key),
                    mean.map_or_else(|| "-".to_owned(), |m| escape(&format!("{}{unit}", number(m)))),
                    ci,
                    figure.map_or_else(String::new, |f| escape(&figure_text(unit, f))),
                    format!("{difference}{flag}"),
                ],
            );
        }
        if table.is_empty() {
            return;
        }
        let _ = writeln!(out, "<div>\n<h3>{}</h3>", self.title);
        table.render(out);
        out.push_str("</div>\n");
    }
}

/// The section of key figures: per node (and its classes), per source, per message class and
/// per exchange.
pub(super) fn render(summary: &SummaryFile, out: &mut String) {
    out.push_str("<section>\n<h2>Key figures</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">Means over {} with their 95% confidence intervals, beside \
         theory; ~ marks an approximation; a highlighted row is an exact value the 95% CI misses \
         (about 1 metric in 20 by chance).</p>",
        crate::report::count(summary.replications, "replication")
    );
    out.push_str("<div class=\"tables\">\n");
    for node in &summary.nodes {
        let servers = node.servers.map_or_else(|| "∞".to_owned(), |c| c.to_string());
        let capacity = node.capacity.map_or_else(String::new, |k| format!(", capacity {k}"));
        let plural = if node.servers == Some(1) { "" } else { "s" };
        let title = format!("Node {} ({servers} server{plural}{capacity})", escape(&node.name));
        Figures { title, metrics: &node.metrics, analytic: &node.analytic, misses: &node.ci_misses }
            .render::<NodeMetric>(out);
        for class in &node.message_classes {
            let title = format!("Node {}, messages of class {}", escape(&node.name), escape(&class.name));
            Figures { title, metrics: &class.metrics, analytic: &class.analytic, misses: &class.ci_misses }
                .render::<NodeClassMetric>(out);
        }
    }
    for source in &summary.sources {
        let title = format!("Source {} (end to end)", escape(&source.name));
        Figures { title, metrics: &source.metrics, analytic: &source.analytic, misses: &source.ci_misses }
            .render::<SourceMetric>(out);
    }
    for class in &summary.classes {
        let title = format!("Class {} (end to end)", escape(&class.name));
        Figures { title, metrics: &class.metrics, analytic: &class.analytic, misses: &class.ci_misses }
            .render::<MessageClassMetric>(out);
    }
    let no_theory = BTreeMap::new();
    for exchange in &summary.exchanges {
        let title = format!("Exchange {} ({})", escape(&exchange.name), escape(&exchange.kind));
        Figures { title, metrics: &exchange.metrics, analytic: &no_theory, misses: &[] }
            .render::<ExchangeMetric>(out);
    }
    out.push_str("</div>\n</section>\n");
}
