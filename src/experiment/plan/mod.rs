//! The SLO capacity planner behind `kendall plan`: the fewest servers that meet every
//! service-level objective at a given load, or the highest load today's servers sustain.
//!
//! # How the fewest servers are found
//!
//! A *configuration* is a number of servers for every node with finitely many (nodes with
//! infinitely many are left as they are). A node with a capacity K (waiting plus in service)
//! may have at most K servers; "infinitely many servers" below means K there. The search assumes that every SLO is **monotone in
//! each node's servers**: adding a worker anywhere never makes a latency, wait, drop or
//! utilisation worse. That holds for the FCFS and priority queues kendall models (more workers
//! mean stochastically shorter waits everywhere downstream). Under it:
//!
//! 1. *Hard lower bounds* from theory: a node needs at least `ceil(a/U)` servers for its
//!    offered load `a = λ/μ` (at the planning load, with nothing dropped upstream) to stay at or
//!    below the utilisation cap `U` (and `floor(a) + 1` for stability when `U = 1`), and never
//!    fewer than today.
//! 2. If that configuration (the *floor*) meets every SLO, it is the answer: no node can go
//!    lower. It runs in one batch with the configuration that has infinitely many servers at
//!    every node: when even that one misses an SLO, nothing can meet it (infeasible).
//! 3. *Search by total*: totals are tried in increasing order from the floor's plus one; at
//!    each, every configuration at or above the per-node bounds (at first the floor) with that
//!    total is a candidate, simulated in one batch. The first total at which some candidate
//!    meets every SLO is the minimum, because every feasible configuration is at or above the
//!    bounds and every smaller total was tried in full. Among the candidates that meet, the one
//!    with the widest margin (the smallest relative slack over all SLOs, largest) is chosen;
//!    ties go to the first in lexicographic order, so the choice is deterministic.
//! 4. *Per-node bounds*, computed once a total has more candidates than there are nodes: for
//!    each node, the fewest servers that meet every SLO while every other node has infinitely
//!    many. By monotonicity every feasible configuration has at least that many at the node,
//!    since giving the other nodes more can only help; the enumeration then starts from them.
//!
//! Theory prunes without simulating: a candidate whose *exact* figure (M/M/c, Jackson
//! networks, M/G/∞) misses an SLO is discarded. Every other verdict is the simulation's: an
//! SLO counts as met only when the worst side of its 95% confidence interval meets it
//! ([`Slo::evaluate`]). All candidates of a round run as one pool of replications
//! ([`run_all`](super::run_all)) with the same seeds (common random numbers), so they are
//! compared on the same arrivals.
//!
//! The search is exact under monotonicity, up to simulation noise: a configuration whose true
//! value is within its CI of the threshold is judged missed (the plan may then need one more
//! server than the truth), and a missed SLO passes on a CI that happens to lie entirely on the
//! good side with probability below 2.5% per check. It stops, reporting the plan infeasible,
//! after [`MAX_EXTRA_SERVERS`] servers above the hard bounds or [`MAX_CANDIDATES`] simulated
//! configurations.
//!
//! # How the highest load is found
//!
//! With today's servers, the SLOs are monotone in the load factor (more arrivals never help).
//! The upper end starts at theory's headroom, the factor at which the first unbounded queue
//! saturates (or the factor at which a node reaches the utilisation cap, when lower); the load
//! is then bisected until the interval is within 1% of its upper end. The reported load met
//! every SLO in simulation; the true limit lies below the upper end.

mod bounds;
mod evaluate;
mod headroom;
mod search;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{ExperimentError, RunLength, Slo, SloCheck, SloError, Warning};
use crate::analytic::AnalysisError;
use crate::format;
use crate::model::Servers;
use crate::scenario::{
    LoadedScenario, MAX_MESSAGES, ScenarioError, Variation, VariationError, Workload, vary,
};
use evaluate::Evaluator;

/// Most servers the search adds, in total, above the hard lower bounds.
pub const MAX_EXTRA_SERVERS: u32 = 64;

/// Most configurations the search simulates.
pub const MAX_CANDIDATES: usize = 256;

/// What the planner looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    /// The fewest servers in total that meet every SLO at the planning load.
    FewestServers,
    /// With today's servers, the highest load factor at which every SLO still holds.
    MaxLoad,
}

/// The planner's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanOptions {
    /// What to look for.
    pub mode: PlanMode,
    /// Factor on every open source's arrival rate (1 = today), for [`PlanMode::FewestServers`].
    pub load: f64,
    /// Highest utilisation any node may have, in (0, 1]; 1 asks for stability only.
    pub max_utilization: f64,
    /// How many replications each configuration runs.
    pub run_length: RunLength,
    /// Worker threads for the replications (`None`: one per core).
    pub threads: Option<usize>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            mode: PlanMode::FewestServers,
            load: 1.0,
            max_utilization: 1.0,
            run_length: RunLength::Fixed,
            threads: None,
        }
    }
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    /// The node's name.
    pub name: String,
    /// Its servers in the scenario file.
    pub servers_today: Servers,
    /// Its servers in the plan; `None` when no plan meets the SLOs.
    pub servers_needed: Option<Servers>,
    /// Its utilisation ρ = λ/(cμ) in the plan at the plan's load, from theory; `None` without
    /// a figure (infinitely many servers, or no plan).
    pub utilization: Option<f64>,
    /// The fewest servers with which theory calls the node stable at the plan's load (ρ < 1):
    /// fewer leave its unbounded queue growing; `None` for a node with a capacity (always
    /// stable) or with infinitely many servers.
    pub fewest_stable: Option<u32>,
}

/// A configuration the planner simulated, with its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Servers per node, in network order.
    pub servers: Vec<Servers>,
    /// Factor on today's arrival rates.
    pub load: f64,
    /// Every SLO judged on every source or node it applies to.
    pub checks: Vec<SloCheck>,
    /// Whether every check is met.
    pub met: bool,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What was looked for.
    pub mode: PlanMode,
    /// Whether some configuration met every SLO.
    pub feasible: bool,
    /// The load factor of the plan: the one asked for, or the highest found in
    /// [`PlanMode::MaxLoad`].
    pub load: f64,
    /// In [`PlanMode::MaxLoad`], the highest load factor at which every SLO held (`None` when
    /// none did); always `None` otherwise.
    pub max_load: Option<f64>,
    /// Every SLO judged on every source or node it applies to, in the plan (or, when
    /// infeasible, in the configuration that shows why).
    pub checks: Vec<SloCheck>,
    /// Every node, in network order.
    pub nodes: Vec<NodePlan>,
    /// Why no plan was found, when none was.
    pub reason: Option<String>,
    /// Configurations simulated.
    pub simulated: usize,
    /// Every configuration simulated, in the order simulated.
    pub evaluated: Vec<Candidate>,
    /// Wall-clock time of the search, seconds.
    pub wall_seconds: f64,
    /// What the user should know (configurations that missed a precision target).
    pub warnings: Vec<Warning>,
}

/// Why the planner could not run.
#[derive(Debug, Error)]
pub enum PlanError {
    /// An SLO names a source or node the scenario does not have.
    #[error(transparent)]
    Slo(#[from] SloError),
    /// A configuration could not be made from the scenario (e.g. servers above a capacity).
    #[error(transparent)]
    Variation(#[from] VariationError),
    /// The traffic equations have no solution.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// The simulations could not run.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// A configuration would simulate more than [`MAX_MESSAGES`] messages (at the field that
    /// sets the work, naming the load).
    #[error(transparent)]
    Workload(ScenarioError),
    /// No SLO was given.
    #[error("no SLO given: plan needs at least one --slo")]
    NoSlo,
    /// An option is out of range.
    #[error("invalid {name} '{value}': {expected}")]
    Option {
        /// The option.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
}

/// Plans the servers of `loaded` for `slos` as `options` say, calling `on_done` after each
/// simulated replication. Everything is validated before anything runs.
///
/// # Errors
/// No SLO, an SLO naming an unknown source or node, an option out of range, a configuration
/// the scenario's checks refuse, singular traffic equations, or no thread pool.
pub fn plan(
    loaded: &LoadedScenario,
    slos: &[Slo],
    options: &PlanOptions,
    on_done: &(dyn Fn() + Sync),
) -> Result<Plan, PlanError> {
    validate(loaded, slos, options)?;
    let started = Instant::now();
    let mut evaluator = Evaluator::new(loaded, slos, options, on_done);
    let mut plan = match options.mode {
        PlanMode::FewestServers => search::fewest_servers(&mut evaluator, options)?,
        PlanMode::MaxLoad => headroom::max_load(&mut evaluator, options)?,
    };
    plan.simulated = evaluator.simulated();
    plan.evaluated = evaluator.take_evaluated();
    plan.warnings.extend(Warning::imprecise(evaluator.precision_reports()));
    plan.wall_seconds = started.elapsed().as_secs_f64();
    Ok(plan)
}

/// Refuses, before anything runs, a plan whose configurations would each simulate more than
/// [`MAX_MESSAGES`] messages; returns the messages one configuration may simulate. Every
/// configuration the search simulates has the same arrivals at a given load (servers change
/// how they are served, not how many there are), so one is checked at the highest load the
/// search may try: the planning load (`options.load`), or with [`PlanMode::MaxLoad`] the top
/// of the bisection's range (theory's headroom, the load at which a node reaches the
/// utilisation cap, or 1000 times today's when no queue ever saturates). The configurations
/// are checked one by one, not summed as a sweep's points are: how many the search simulates
/// depends on what the simulations find (at most [`MAX_CANDIDATES`] for the fewest servers,
/// about ten bisection steps for the highest load).
///
/// # Errors
/// [`PlanError::Workload`] at the field of `loaded` that sets the work, naming the load and
/// its flag; a variation or analysis error when the configuration at that load cannot be made
/// or solved.
pub fn check_workload(loaded: &LoadedScenario, options: &PlanOptions) -> Result<f64, PlanError> {
    let (load, what, advice) = match options.mode {
        PlanMode::FewestServers if options.load == 1.0 => {
            (1.0, "every configuration the plan simulates at today's load would simulate".to_owned(), "")
        }
        PlanMode::FewestServers => (
            options.load,
            format!(
                "every configuration the plan simulates at --load {} would simulate",
                format::number(options.load)
            ),
            "plan for a lower --load, ",
        ),
        PlanMode::MaxLoad => {
            let top = headroom::search_top(&Evaluator::new(loaded, &[], options, &|| {}), options)?;
            let what = format!(
                "the search of --max-load may simulate up to {} times today's load ({}), where one configuration would simulate",
                format::number(top.load),
                top.why
            );
            (top.load, what, "")
        }
    };
    let variation: Variation = format!("load={load}").parse()?;
    let scenario = vary(loaded, &[variation])?.into_scenario();
    let workload = Workload::new(&scenario, options.run_length.most_replications(&scenario));
    let messages = workload.messages();
    if messages <= MAX_MESSAGES {
        return Ok(messages);
    }
    Err(PlanError::Workload(loaded.workload_error(&format!(
        "{what} {workload}, more than kendall's limit of {MAX_MESSAGES:e} per configuration (hours of computing): {advice}shorten the duration, lower the rates or run fewer replications"
    ))))
}

fn validate(loaded: &LoadedScenario, slos: &[Slo], options: &PlanOptions) -> Result<(), PlanError> {
    if slos.is_empty() {
        return Err(PlanError::NoSlo);
    }
    for slo in slos {
        slo.check_names(loaded.scenario().network())?;
    }
    if !(options.load.is_finite() && options.load > 0.0) {
        return Err(PlanError::Option { name: "load", value: options.load, expected: "a positive factor" });
    }
    let cap = options.max_utilization;
    if !(cap > 0.0 && cap <= 1.0) {
        return Err(PlanError::Option {
            name: "max utilization",
            value: cap,
            expected: "a fraction in (0, 1]",
        });
    }
    Ok(())
}
