//! report.html: the capacity-review page of a run, one self-contained file (style and charts
//! inline, no script, nothing fetched) that reads the same in any browser and printed to PDF.
//! It lays out what the run concluded, section by section: the verdict, the scenario, the key
//! figures beside theory, the queue over time (with a time series), the charts, and how to
//! reproduce the run.

mod analysis;
mod figures;
mod graph;
mod markup;
mod plan;
mod queue;
mod scenario;
mod study;

use std::fmt::Write as _;

pub use markup::shell_command;
use markup::{STYLE, escape};

use super::{Exporter, ReportError, RunReport, count, number};

/// report.html of a run: built with the command line that reproduces it, and with or without the
/// run's charts (`--no-charts`).
#[derive(Debug, Clone)]
pub struct Html {
    command: String,
    charts: bool,
    version: String,
}

impl Html {
    /// The page of a run started by `command` (as a shell would read it back, see
    /// [`shell_command`]) with this version of kendall, with the run's charts inline when `charts`.
    #[must_use]
    pub fn new(command: String, charts: bool) -> Self {
        Self { command, charts, version: env!("CARGO_PKG_VERSION").to_owned() }
    }

    /// The same page of a command run with kendall `version` (redrawn by another one).
    #[must_use]
    pub fn run_with(self, version: String) -> Self {
        Self { version, ..self }
    }
}

impl Exporter<RunReport<'_>> for Html {
    fn render(&self, result: &RunReport<'_>) -> Result<Vec<u8>, ReportError> {
        let mut out = open(&format!("Capacity review: {}", result.summary.scenario));
        header(result, &mut out);
        scenario::verdict(result, &mut out);
        scenario::render(result, &mut out);
        figures::render(&result.summary, &mut out);
        queue::render(result, self.charts, &mut out)?;
        self.charts(result, &RunReport::charts(), &mut out)?;
        let summary = &result.summary;
        let run = Run {
            seed: summary.seed.to_string(),
            replications: summary.replications,
            wall_seconds: summary.wall_seconds,
        };
        self.reproduce(&run, &mut out);
        Ok(close(out))
    }
}

/// The beginning of a page titled `title`: its head with the style sheet, and the title.
fn open(title: &str) -> String {
    let title = escape(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    )
}

/// The page begun by [`open`], closed, as bytes.
fn close(mut out: String) -> Vec<u8> {
    out.push_str("</body>\n</html>\n");
    out.into_bytes()
}

/// The line under the title: how long and how often the scenario was simulated.
fn header(result: &RunReport<'_>, out: &mut String) {
    let summary = &result.summary;
    let warmup = if summary.warmup_auto.is_some() {
        format!("an automatic warm-up (MSER-5, mean {}s)", number(summary.warmup))
    } else {
        format!("{}s warm-up", number(summary.warmup))
    };
    let _ = writeln!(
        out,
        "<p class=\"lead\">{} of {}s simulated after {warmup}; seed {}; {} events.</p>",
        count(summary.replications, "replication"),
        number(summary.duration),
        summary.seed,
        summary.events
    );
}

/// What reproduces a command's results besides its command line.
struct Run {
    /// The seed, or the seeds of several configurations.
    seed: String,
    /// Replications per scenario.
    replications: u32,
    /// Wall-clock time of the command, seconds.
    wall_seconds: f64,
}

impl Html {
    /// Every SVG chart of `charts` drawn from `result`, inline, unless the page is without charts
    /// or there is none.
    fn charts<R: ?Sized>(
        &self,
        result: &R,
        charts: &[(&str, &dyn Exporter<R>)],
        out: &mut String,
    ) -> Result<(), ReportError> {
        if !self.charts || charts.is_empty() {
            return Ok(());
        }
        out.push_str("<section>\n<h2>Charts</h2>\n");
        for (name, exporter) in charts.iter().filter(|(name, _)| name.ends_with(".svg")) {
            // An SVG document without an XML declaration (as plotters writes it) is an element.
            let svg = String::from_utf8_lossy(&exporter.render(result)?).into_owned();
            let _ = writeln!(
                out,
                "<figure>\n{svg}\n<figcaption>Also in {name} and as PNG beside it.</figcaption>\n</figure>"
            );
        }
        out.push_str("</section>\n");
        Ok(())
    }

    /// The command line, version and seed that reproduce the results.
    fn reproduce(&self, run: &Run, out: &mut String) {
        let _ = writeln!(
            out,
            "<section>\n<h2>Reproduce</h2>\n<p>Run from the directory it was run in, with the same \
             version of kendall, this gives the same figures (the seed fixes every random stream):</p>\n\
             <pre>{}</pre>\n<dl>\n<dt>kendall version</dt><dd>{}</dd>\n<dt>seed</dt><dd>{}</dd>\n\
             <dt>replications</dt><dd>{}</dd>\n<dt>wall-clock time</dt><dd>{:.2}s</dd>\n</dl>\n</section>",
            escape(&self.command),
            escape(&self.version),
            escape(&run.seed),
            run.replications,
            run.wall_seconds
        );
    }
}
