//! The highest load today's servers sustain under the SLOs: bisection on the load factor from
//! theory's headroom (see the module documentation of [`plan`](super)).

use super::bounds::{fewest_stable, offered_loads, utilization};
use super::evaluate::{Config, Evaluator, Outcome};
use super::search::missed_list;
use super::{NodePlan, Plan, PlanError, PlanMode, PlanOptions};
use crate::model::Servers;

/// Relative width at which the bisection stops: the answer is within 1% of the true limit.
const TOLERANCE: f64 = 0.01;

/// Highest load factor tried when no queue ever saturates and no utilisation cap binds.
const MAX_LOAD: f64 = 1000.0;

/// The bisection gives up (infeasible) when the upper end falls below this fraction of where
/// it started.
const LOWEST_FRACTION: f64 = 1e-3;

/// The top of the search's range: the highest load factor it may simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Top {
    /// The load factor.
    pub load: f64,
    /// Whether the top itself may be simulated: where a utilisation cap (or the search's own
    /// limit) sets it, not at saturation, where the search only comes within 1% of it.
    pub allowed: bool,
    /// What sets it, for messages: "theory's headroom, where the first queue saturates"...
    pub why: &'static str,
}

/// The top of the search's range for today's servers (see [`top`]).
pub(super) fn search_top(evaluator: &Evaluator<'_>, options: &PlanOptions) -> Result<Top, PlanError> {
    let today = evaluator.today();
    let analysis = evaluator.analysis(&Config { servers: today.clone(), load: 1.0 })?;
    let offered = offered_loads(evaluator.network(), &analysis);
    Ok(top(&today, &offered, analysis.system.headroom, options))
}

/// The top of the search's range for `today`'s servers and their `offered` loads: theory's
/// `headroom`, or the load at which a node reaches the utilisation cap when lower, or
/// [`MAX_LOAD`] when neither binds.
fn top(today: &[Servers], offered: &[f64], headroom: Option<f64>, options: &PlanOptions) -> Top {
    let capped = if options.max_utilization < 1.0 {
        today
            .iter()
            .zip(offered)
            .filter_map(|(servers, &a)| utilization(a, *servers).filter(|&rho| rho > 0.0))
            .map(|rho| options.max_utilization / rho)
            .fold(f64::INFINITY, f64::min)
    } else {
        f64::INFINITY
    };
    let saturation = headroom.unwrap_or(f64::INFINITY);
    if capped < saturation {
        Top { load: capped, allowed: true, why: "where a node reaches --max-utilization" }
    } else if saturation.is_finite() {
        Top { load: saturation, allowed: false, why: "theory's headroom, where the first queue saturates" }
    } else {
        Top { load: MAX_LOAD, allowed: true, why: "the search's own limit, as no queue ever saturates" }
    }
}

/// Finds the highest load factor at which every SLO holds with today's servers.
pub(super) fn max_load(evaluator: &mut Evaluator<'_>, options: &PlanOptions) -> Result<Plan, PlanError> {
    let today = evaluator.today();
    let analysis = evaluator.analysis(&Config { servers: today.clone(), load: 1.0 })?;
    let offered = offered_loads(evaluator.network(), &analysis);
    let Top { load: top, allowed: top_allowed, .. } =
        self::top(&today, &offered, analysis.system.headroom, options);
    let at = |load: f64| Config { servers: today.clone(), load };
    let mut met: Option<(f64, Outcome)> = None;
    let mut missed: Option<(f64, Outcome)> = None;
    if top_allowed && !evaluator.theory_misses(&at(top))? {
        let outcome = evaluator.simulate(&[at(top)])?.remove(0);
        if outcome.met {
            met = Some((top, outcome));
        } else {
            missed = Some((top, outcome));
        }
    }
    let (mut low, mut high) = (0.0, top);
    while met.as_ref().is_none_or(|(load, _)| *load < top) && high - low > TOLERANCE * high {
        if low == 0.0 && high < LOWEST_FRACTION * top {
            break;
        }
        let middle = f64::midpoint(low, high);
        if evaluator.theory_misses(&at(middle))? {
            high = middle;
            continue;
        }
        let outcome = evaluator.simulate(&[at(middle)])?.remove(0);
        if outcome.met {
            low = middle;
            met = Some((middle, outcome));
        } else {
            high = middle;
            missed = Some((middle, outcome));
        }
    }
    let (load, max_load, outcome, reason) = match (met, missed) {
        (Some((load, outcome)), _) => (load, Some(load), outcome, None),
        (None, missed) => {
            let (load, outcome) = match missed {
                Some(missed) => missed,
                None => (high, evaluator.simulate(&[at(high)])?.remove(0)),
            };
            let reason =
                format!("no load down to {high:.4} times today's meets every SLO: {}", missed_list(&outcome));
            (load, None, outcome, Some(reason))
        }
    };
    let nodes = evaluator
        .network()
        .nodes()
        .iter()
        .zip(&today)
        .zip(&offered)
        .map(|((node, &servers), &a)| NodePlan {
            name: node.name().to_owned(),
            servers_today: servers,
            servers_needed: Some(servers),
            utilization: utilization(a * load, servers),
            fewest_stable: fewest_stable(node, a * load),
        })
        .collect();
    Ok(Plan {
        mode: PlanMode::MaxLoad,
        feasible: max_load.is_some(),
        load,
        max_load,
        checks: outcome.checks,
        nodes,
        reason,
        simulated: 0,
        evaluated: Vec::new(),
        wall_seconds: 0.0,
        warnings: Vec::new(),
    })
}
