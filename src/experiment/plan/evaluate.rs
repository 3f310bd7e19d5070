//! Configurations and their verdicts: a configuration is made from the scenario by validated
//! variations, judged by exact theory where it has a figure, and simulated in batches.

use super::PlanOptions;
use super::{Candidate, PlanError};
use crate::analytic::{self, Analysis, Figure};
use crate::experiment::{Comparison, PrecisionReport, RunLength, Slo, SloCheck, SloScope, run_for};
use crate::model::{Network, Scenario, Servers};
use crate::scenario::{LoadedScenario, Variation, vary};
use crate::stats::{Estimate, Metric, NodeMetric, SourceMetric, Summary};

/// Servers for every node (network order) at a load factor on today's arrival rates.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Config {
    /// Servers per node, in network order.
    pub servers: Vec<Servers>,
    /// Factor on every open source's arrival rate.
    pub load: f64,
}

/// A simulated configuration's verdict.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome {
    /// Every SLO on every source or node it applies to.
    pub checks: Vec<SloCheck>,
    /// Whether every check is met.
    pub met: bool,
    /// The smallest relative slack of any check's worst CI side (negative when missed).
    pub margin: f64,
}

/// Makes, judges and simulates configurations of one scenario for a set of SLOs.
pub(super) struct Evaluator<'a> {
    loaded: &'a LoadedScenario,
    slos: &'a [Slo],
    run_length: RunLength,
    threads: Option<usize>,
    on_done: &'a (dyn Fn() + Sync),
    simulated: usize,
    precision_reports: Vec<PrecisionReport>,
    evaluated: Vec<Candidate>,
}

impl<'a> Evaluator<'a> {
    pub(super) fn new(
        loaded: &'a LoadedScenario,
        slos: &'a [Slo],
        options: &PlanOptions,
        on_done: &'a (dyn Fn() + Sync),
    ) -> Self {
        let (run_length, threads) = (options.run_length, options.threads);
        Self {
            loaded,
            slos,
            run_length,
            threads,
            on_done,
            simulated: 0,
            precision_reports: Vec::new(),
            evaluated: Vec::new(),
        }
    }

    /// How each simulated configuration's run ended under a precision target (empty without one).
    pub(super) fn precision_reports(&self) -> &[PrecisionReport] {
        &self.precision_reports
    }

    /// The scenario as loaded.
    pub(super) fn network(&self) -> &Network {
        self.loaded.scenario().network()
    }

    /// Today's servers, per node.
    pub(super) fn today(&self) -> Vec<Servers> {
        self.network().nodes().iter().map(crate::model::Node::servers).collect()
    }

    /// Configurations simulated so far.
    pub(super) fn simulated(&self) -> usize {
        self.simulated
    }

    /// Every configuration simulated so far with its verdict, handed over.
    pub(super) fn take_evaluated(&mut self) -> Vec<Candidate> {
        std::mem::take(&mut self.evaluated)
    }

    /// The scenario of `config`, through the checks of a scenario file.
    pub(super) fn scenario(&self, config: &Config) -> Result<Scenario, PlanError> {
        let mut edits = vec![format!("load={}", config.load)];
        for (node, servers) in self.network().nodes().iter().zip(&config.servers) {
            if node.servers() != *servers {
                let value = servers.count().map_or_else(|| "infinite".to_owned(), |c| c.to_string());
                edits.push(format!("node.{}.servers={value}", node.name()));
            }
        }
        let variations = edits.iter().map(|edit| edit.parse::<Variation>()).collect::<Result<Vec<_>, _>>()?;
        Ok(vary(self.loaded, &variations)?.into_scenario())
    }

    /// Theory for `config`.
    pub(super) fn analysis(&self, config: &Config) -> Result<Analysis, PlanError> {
        Ok(analytic::analyze(&self.scenario(config)?, None)?)
    }

    /// Whether an exact figure of theory misses some SLO in `config` (which simulation would
    /// then only confirm).
    pub(super) fn theory_misses(&self, config: &Config) -> Result<bool, PlanError> {
        let analysis = self.analysis(config)?;
        Ok(self.slos.iter().any(|slo| {
            figures(slo, &analysis).into_iter().any(|figure| match figure.value {
                Some(mean) if figure.exact => !slo.met_by(&Estimate { mean, ci95: None, samples: 1 }),
                _ => false,
            })
        }))
    }

    /// Simulates every configuration in one pool of replications (the same seeds for each:
    /// common random numbers) and judges each.
    pub(super) fn simulate(&mut self, configs: &[Config]) -> Result<Vec<Outcome>, PlanError> {
        let scenarios = configs.iter().map(|config| self.scenario(config)).collect::<Result<Vec<_>, _>>()?;
        let (experiments, reports) =
            run_for(&scenarios, &self.run_length, false, self.threads, self.on_done)?;
        self.precision_reports.extend(reports);
        self.simulated += configs.len();
        let outcomes: Vec<Outcome> =
            experiments.iter().map(|experiment| self.judge(&experiment.summary)).collect();
        self.evaluated.extend(configs.iter().zip(&outcomes).map(|(config, outcome)| Candidate {
            servers: config.servers.clone(),
            load: config.load,
            checks: outcome.checks.clone(),
            met: outcome.met,
        }));
        Ok(outcomes)
    }

    fn judge(&self, summary: &Summary) -> Outcome {
        let mut checks = Vec::new();
        let mut margin = f64::INFINITY;
        for slo in self.slos {
            for check in slo.evaluate(summary) {
                margin = margin.min(slack(slo, &check));
                checks.push(check);
            }
        }
        let met = checks.iter().all(|check| check.met);
        Outcome { checks, met, margin }
    }
}

/// The relative distance of a check's worst CI side from the threshold, positive on the good
/// side; minus infinity when the metric is undefined.
fn slack(slo: &Slo, check: &SloCheck) -> f64 {
    let Some(mean) = check.value else { return f64::NEG_INFINITY };
    let [low, high] = check.ci95.unwrap_or([mean; 2]);
    let scale = slo.threshold.abs().max(1e-12);
    match slo.comparison {
        Comparison::Below | Comparison::AtMost => (slo.threshold - high) / scale,
        Comparison::Above | Comparison::AtLeast => (low - slo.threshold) / scale,
    }
}

/// Theory's figures for the metric of `slo` on every source or node it applies to.
fn figures<'b>(slo: &Slo, analysis: &'b Analysis) -> Vec<&'b Figure> {
    match &slo.scope {
        SloScope::Sources | SloScope::Source(_) => {
            let Some(metric) = SourceMetric::from_key(&slo.metric) else { return Vec::new() };
            analysis
                .sources
                .iter()
                .filter(|source| in_scope(&slo.scope, &source.name))
                .filter_map(|source| source.metric(metric))
                .collect()
        }
        SloScope::Nodes | SloScope::Node(_) => {
            let Some(metric) = NodeMetric::from_key(&slo.metric) else { return Vec::new() };
            analysis
                .nodes
                .iter()
                .filter(|node| in_scope(&slo.scope, &node.name))
                .filter_map(|node| node.metric(metric))
                .collect()
        }
    }
}

fn in_scope(scope: &SloScope, name: &str) -> bool {
    match scope {
        SloScope::Source(named) | SloScope::Node(named) => named == name,
        SloScope::Sources | SloScope::Nodes => true,
    }
}
