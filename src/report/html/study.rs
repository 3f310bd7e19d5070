//! The pages of a sweep and of a comparison: their table as the terminal prints it, their chart,
//! and how to reproduce them.

use std::fmt::Write as _;

use super::markup::escape;
use super::{Html, Run, close, open};
use crate::report::{CompareReport, Exporter, ReportError, SweepReport, Table, count, number};

/// A section holding a command's terminal table, verbatim.
pub(super) fn table<R>(heading: &str, result: &R, out: &mut String) -> Result<(), ReportError>
where
    Table: Exporter<R>,
{
    let text = String::from_utf8_lossy(&Table.render(result)?).into_owned();
    let _ = writeln!(
        out,
        "<section>\n<h2>{heading}</h2>\n<pre class=\"table\">{}</pre>\n</section>",
        escape(&text)
    );
    Ok(())
}

/// The warnings of a sweep or a comparison, as a section; nothing when there are none.
fn warnings(warnings: &[String], out: &mut String) {
    if warnings.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
    for warning in warnings {
        let _ = writeln!(out, "<li>{}</li>", escape(warning));
    }
    out.push_str("</ul>\n</section>\n");
}

impl Exporter<SweepReport> for Html {
    fn render(&self, result: &SweepReport) -> Result<Vec<u8>, ReportError> {
        let sweep = &result.sweep;
        let mut out = open(&format!("Sweep: {}", sweep.scenario));
        let _ = writeln!(
            out,
            "<p class=\"lead\">{} varying {}; {} of {}s each after {}s warm-up; seed {}.</p>",
            count(sweep.points.len() as u64, "point"),
            escape(&sweep.paths.join(", ")),
            count(sweep.replications, "replication"),
            number(sweep.duration),
            number(sweep.warmup),
            sweep.seed
        );
        warnings(&sweep.warnings, &mut out);
        table("Points", result, &mut out)?;
        self.charts(result, &result.charts(), &mut out)?;
        let run = Run {
            seed: sweep.seed.to_string(),
            replications: sweep.replications,
            wall_seconds: sweep.wall_seconds,
        };
        self.reproduce(&run, &mut out);
        Ok(close(out))
    }
}

impl Exporter<CompareReport> for Html {
    fn render(&self, result: &CompareReport) -> Result<Vec<u8>, ReportError> {
        let file = &result.file;
        let names: Vec<&str> = file.configurations.iter().map(|c| c.name.as_str()).collect();
        let mut out = open(&format!("Comparison: {}", names.join(" vs ")));
        let _ = writeln!(
            out,
            "<p class=\"lead\">{} against the baseline {}, {} each.</p>",
            count(file.configurations.len() as u64, "configuration"),
            escape(&file.baseline),
            count(file.replications, "replication")
        );
        warnings(&file.warnings, &mut out);
        table("Differences", result, &mut out)?;
        self.charts(result, &CompareReport::charts(), &mut out)?;
        let seeds: Vec<String> =
            file.configurations.iter().map(|c| format!("{} {}", c.name, c.seed)).collect();
        let run =
            Run { seed: seeds.join(", "), replications: file.replications, wall_seconds: file.wall_seconds };
        self.reproduce(&run, &mut out);
        Ok(close(out))
    }
}
