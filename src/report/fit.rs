//! `kendall fit`: the table and JSON of a [`FitReport`], and the lines to paste into a scenario.

use std::fmt::Write as _;

use serde::Serialize;

use super::exporter::{Exporter, Json};
use super::files::{ReportError, pretty_json};
use super::table::{count, number};
use crate::trace::{Correlation, FamilyFit, FitReport, Fitted, SampleSummary, Stationarity};

/// A duration as a scenario file writes it, four significant digits with a unit (`"4.200ms"`).
#[must_use]
pub fn duration_text(seconds: f64) -> String {
    let (value, unit) = match seconds {
        s if s >= 1e5 => (s / 3600.0, "h"),
        s if s >= 1.0 || s == 0.0 => (s, "s"),
        s if s >= 1e-3 => (s * 1e3, "ms"),
        s if s >= 1e-6 => (s * 1e6, "us"),
        s => (s * 1e9, "ns"),
    };
    format!("{}{unit}", number(value))
}

/// A point in time of a schedule: whole hours or minutes when it is one, else as [`duration_text`].
fn at_text(seconds: f64) -> String {
    if seconds > 0.0 && seconds % 3600.0 == 0.0 {
        format!("{}h", seconds / 3600.0)
    } else if seconds > 0.0 && seconds % 60.0 == 0.0 {
        format!("{}m", seconds / 60.0)
    } else {
        duration_text(seconds)
    }
}

/// `fitted` in scenario syntax, by mean and cv: `{ dist = "gamma", mean = "4.200ms", cv = 1.300 }`.
#[must_use]
pub fn scenario_distribution(fitted: &Fitted) -> String {
    let family = fitted.family().name();
    let mean = duration_text(fitted.mean());
    match fitted {
        Fitted::Exponential { .. } => format!("{{ dist = \"{family}\", mean = \"{mean}\" }}"),
        _ => format!("{{ dist = \"{family}\", mean = \"{mean}\", cv = {} }}", number(fitted.cv())),
    }
}

/// The rate schedule of `rates` in scenario syntax: one point per window, at its start.
#[must_use]
pub fn scenario_schedule(rates: &Stationarity) -> String {
    let points: Vec<String> = rates
        .windows
        .iter()
        .map(|window| {
            format!("  {{ at = \"{}\", rate = {} }},", at_text(window.start_s), number(window.rate))
        })
        .collect();
    format!("schedule = [\n{}\n]", points.join("\n"))
}

/// What to paste into a scenario: the best family as the source's `interarrival` (or as a node's
/// `service` for a column), and the rate schedule when the rate varies.
#[must_use]
pub fn paste_lines(report: &FitReport) -> Vec<String> {
    let field = if report.column.is_some() { "service" } else { "interarrival" };
    let mut lines = vec![format!("{field} = {}", scenario_distribution(&report.best_fit().fitted))];
    if let Some(rates) = report.rates.as_ref().filter(|_| report.rate_varies()) {
        lines.push(scenario_schedule(rates));
    }
    lines
}

/// The JSON document of `kendall fit --format json`: the report and the lines to paste.
#[derive(Debug, Serialize)]
struct FitFile<'a> {
    #[serde(flatten)]
    report: &'a FitReport,
    paste: Vec<String>,
}

impl Exporter<FitReport> for Json {
    fn render(&self, report: &FitReport) -> Result<Vec<u8>, ReportError> {
        Ok(pretty_json(&FitFile { report, paste: paste_lines(report) }))
    }
}

impl Exporter<FitReport> for super::Table {
    fn render(&self, report: &FitReport) -> Result<Vec<u8>, ReportError> {
        Ok(render_fit(report).into_bytes())
    }
}

/// "p = 0.0123", or "p < 1e-300" when it underflows.
fn p_text(p: f64) -> String {
    if p < 1e-300 { "p < 1e-300".to_owned() } else { format!("p = {}", number(p)) }
}

/// The table `kendall fit` prints.
#[must_use]
pub fn render_fit(report: &FitReport) -> String {
    let mut out = String::new();
    let what =
        report.column.as_ref().map_or_else(|| "gaps".to_owned(), |column| format!("column '{column}'"));
    let _ = writeln!(out, "trace {}: {}", report.path.display(), count(report.messages as u64, "message"));
    if let (Some(span), Some(rate)) = (report.span_s, report.rate) {
        let _ = writeln!(out, "span {}, overall rate {}/s", duration_text(span), number(rate));
    }
    if let Some(rates) = &report.rates {
        render_rates(&mut out, rates);
    }
    render_sample(&mut out, report, &what);
    let _ = writeln!(
        out,
        "\n  {:<17} {:<32} {:>10} {:>7} {:>12} {:>12} {:>8} {:>9}",
        "family", "maximum-likelihood parameters", "mean", "cv", "log-lik", "AIC", "KS D", "KS p"
    );
    for fit in &report.fits {
        render_family(&mut out, fit, fit.fitted.family() == report.best);
    }
    let _ = writeln!(
        out,
        "best by AIC: {} (KS p-values are optimistic: the parameters were fitted to the same {})",
        report.best.name(),
        if report.scaled.is_some() { "gaps in scaled time" } else { &what }
    );
    let target = if report.column.is_some() { "a node" } else { "the source" };
    let _ = writeln!(out, "\npaste into {target} of a scenario:");
    for line in paste_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn render_rates(out: &mut String, rates: &Stationarity) {
    let _ = writeln!(out, "\nrate per {} window:", at_text(rates.window_s));
    let _ = writeln!(out, "  {:>10} {:>10} {:>9} {:>10}", "from", "to", "messages", "rate/s");
    for window in &rates.windows {
        let _ = writeln!(
            out,
            "  {:>10} {:>10} {:>9} {:>10}",
            at_text(window.start_s),
            at_text(window.end_s),
            window.count,
            number(window.rate)
        );
    }
    let verdict = if rates.stationary { "a constant rate is accepted" } else { "the rate varies" };
    let _ = writeln!(
        out,
        "  {verdict}: chi-square dispersion {} on {} degrees of freedom, {} (counts' variance taken as {} x Poisson's, the gaps' cv²)",
        number(rates.chi_square),
        rates.degrees_of_freedom,
        p_text(rates.p_value),
        number(rates.variance_factor)
    );
}

fn render_sample(out: &mut String, report: &FitReport, what: &str) {
    render_summary(out, &format!("\n{what}"), &report.sample);
    if let Some(scaled) = &report.scaled {
        render_summary(
            out,
            "in scaled time (each gap stretched by its window's rate, as a schedule would run it)",
            scaled,
        );
    }
    if report.zeros > 0 {
        let _ = writeln!(
            out,
            "  {} of 0 left out of the fits (every family is of positive durations)",
            count(report.zeros as u64, "value")
        );
    }
}

fn render_summary(out: &mut String, title: &str, sample: &SampleSummary) {
    let _ = writeln!(
        out,
        "{title}: {} values, mean {}, cv {}",
        sample.count,
        duration_text(sample.mean_s),
        number(sample.cv)
    );
    if let Some(lag1) = &sample.lag1 {
        let meaning = match lag1.correlation {
            Correlation::Independent => "inside the band: consistent with independent values",
            Correlation::Positive => {
                "above the band: long values follow long ones (bursts cluster), so a fit of independent values understates queueing"
            }
            Correlation::Negative => "below the band: long and short values alternate",
        };
        let _ = writeln!(
            out,
            "  lag-1 autocorrelation {} (95% band ±{}): {meaning}",
            number(lag1.r),
            number(lag1.band)
        );
    }
}

fn render_family(out: &mut String, fit: &FamilyFit, best: bool) {
    let parameters: Vec<String> =
        fit.fitted.parameters().iter().map(|(name, value)| format!("{name} {}", number(*value))).collect();
    let _ = writeln!(
        out,
        "{} {:<17} {:<32} {:>10} {:>7} {:>12} {:>12} {:>8} {:>9}",
        if best { "*" } else { " " },
        fit.fitted.family().name(),
        parameters.join(", "),
        duration_text(fit.mean_s),
        number(fit.cv),
        number(fit.log_likelihood),
        number(fit.aic),
        number(fit.goodness.ks_d),
        number(fit.goodness.p_value)
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::{LoadedScenario, Overrides};

    /// A scenario with `line` in its source, as `kendall check` would load it.
    fn load(line: &str) -> Result<LoadedScenario, String> {
        let text = format!(
            "[[source]]\nname = \"s\"\nto = \"n\"\n{line}\n[[node]]\nname = \"n\"\nservice = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
        );
        LoadedScenario::parse(&text, "t", Path::new("t.toml"), &Overrides::default())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn durations_read_back() {
        for (seconds, text) in
            [(4.2e-3, "4.200ms"), (1.5, "1.500s"), (2.5e-7, "250.0ns"), (3.6e6, "1000h"), (0.0, "0s")]
        {
            assert_eq!(duration_text(seconds), text);
            let back = crate::scenario::parse_duration(text).unwrap();
            assert!((back - seconds).abs() <= 1e-12 * seconds, "{text}");
        }
        assert_eq!(at_text(600.0), "10m");
        assert_eq!(at_text(7200.0), "2h");
    }

    #[test]
    fn every_family_pastes_as_a_scenario_accepts() {
        let fitted = [
            Fitted::Exponential { rate: 250.0 },
            Fitted::Gamma { shape: 0.6, scale: 0.007 },
            Fitted::Lognormal { mu: -5.0, sigma: 1.2 },
            Fitted::Weibull { shape: 0.8, scale: 0.004 },
            Fitted::Hyperexponential { p: 0.5, mean: 0.004 },
            Fitted::Hyperexponential { p: 0.9, mean: 0.004 },
        ];
        for fitted in fitted {
            let line = format!("interarrival = {}", scenario_distribution(&fitted));
            let loaded = load(&line).unwrap_or_else(|error| panic!("{line}: {error}"));
            let interarrival = loaded.scenario().network().sources()[0].arrivals.clone();
            let crate::model::Arrivals::Open { interarrival, .. } = interarrival else { panic!("open") };
            assert!((interarrival.mean() / fitted.mean() - 1.0).abs() < 1e-3, "{line}");
            assert!((interarrival.scv().sqrt() / fitted.cv() - 1.0).abs() < 1e-3, "{line}");
        }
    }
}
