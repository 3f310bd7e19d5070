//! The fewest servers: hard bounds from theory, per-node bounds with every other node
//! unlimited, then every configuration of each total in increasing order (see the module
//! documentation of [`plan`](super)).

use super::bounds::{fewest_servers as floor_servers, offered_loads, utilization};
use super::evaluate::{Config, Evaluator, Outcome};
use super::{MAX_CANDIDATES, MAX_EXTRA_SERVERS, NodePlan, Plan, PlanError, PlanMode, PlanOptions};
use crate::model::Servers;

/// Most configurations of one total enumerated before theory filters them.
const MAX_ENUMERATED: usize = 100_000;

/// What a batch of simulations found.
struct Batch {
    /// The allocation meeting every SLO with the widest margin, if any, and its verdict.
    met: Option<(Vec<u32>, Outcome)>,
    /// The verdict with infinitely many servers everywhere, when it was in the batch.
    unlimited: Option<Outcome>,
}

/// The search state: which nodes are planned, their bounds, and what was simulated.
struct Search<'e, 'a> {
    evaluator: &'e mut Evaluator<'a>,
    today: Vec<Servers>,
    /// Indices of the nodes with finitely many servers today: the ones planned.
    planned: Vec<usize>,
    load: f64,
    offered: Vec<f64>,
    /// Allocations (servers per planned node) simulated and missed.
    missed: Vec<Vec<u32>>,
    /// The simulated allocation closest to meeting every SLO.
    closest: Option<(Vec<u32>, Outcome)>,
}

/// Finds the fewest servers in total that meet every SLO at `options.load`.
pub(super) fn fewest_servers(
    evaluator: &mut Evaluator<'_>,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let today = evaluator.today();
    let load = options.load;
    let analysis = evaluator.analysis(&Config { servers: today.clone(), load })?;
    let offered = offered_loads(evaluator.network(), &analysis);
    let planned: Vec<usize> = (0..today.len()).filter(|&node| today[node].count().is_some()).collect();
    let floor: Vec<u32> = planned
        .iter()
        .map(|&node| {
            let unbounded = evaluator.network().nodes()[node].has_unbounded_queue();
            let needed = floor_servers(offered[node], options.max_utilization, unbounded);
            needed.max(today[node].count().unwrap_or(0))
        })
        .collect();
    let mut search = Search { evaluator, today, planned, load, offered, missed: Vec::new(), closest: None };
    search.run(&floor)
}

impl Search<'_, '_> {
    fn run(&mut self, floor: &[u32]) -> Result<Plan, PlanError> {
        if let Some(met) = self.try_batch(vec![floor.to_vec()], None)?.met {
            return Ok(self.plan(Some(&met.0), met.1));
        }
        let mut unlimited = Some(self.config(&vec![None; floor.len()]));
        let mut bounds = floor.to_vec();
        let mut bounded = floor.len() == 1;
        let last = floor.iter().sum::<u32>() + MAX_EXTRA_SERVERS;
        let mut total = floor.iter().sum::<u32>() + 1;
        while total <= last {
            let mut candidates = self.candidates(&bounds, total)?;
            if !bounded && candidates.len() > floor.len() {
                let (unlimited_outcome, node_bounds) = self.node_bounds(unlimited.take(), floor)?;
                if let Some(outcome) = unlimited_outcome.filter(|outcome| !outcome.met) {
                    return Ok(self.unreachable(outcome));
                }
                let Some(node_bounds) = node_bounds else { return Ok(self.limit_hit()) };
                (bounds, bounded) = (node_bounds, true);
                total = total.max(bounds.iter().sum());
                candidates = self.candidates(&bounds, total)?;
            }
            if self.evaluator.simulated() + candidates.len() > MAX_CANDIDATES {
                return Ok(self.limit_hit());
            }
            let with = unlimited.take();
            let unlimited_first = with.is_some();
            let outcome = self.try_batch(candidates, with)?;
            if let Some(met) = outcome.met {
                return Ok(self.plan(Some(&met.0), met.1));
            }
            if let Some(outcome) = outcome.unlimited.filter(|outcome| unlimited_first && !outcome.met) {
                return Ok(self.unreachable(outcome));
            }
            total += 1;
        }
        Ok(self.limit_hit())
    }

    /// The plan when even infinitely many servers everywhere miss an SLO.
    fn unreachable(&self, unlimited: Outcome) -> Plan {
        let reason = format!(
            "even with infinitely many servers at every node, {}: the service times alone miss it",
            missed_list(&unlimited)
        );
        self.infeasible(unlimited, reason)
    }

    /// Per node, the fewest servers meeting every SLO while every other node has infinitely
    /// many (`None` when the limit is hit first), after simulating `unlimited` (infinitely many
    /// everywhere) when given, whose verdict comes first; when it misses, nothing more runs.
    fn node_bounds(
        &mut self,
        unlimited: Option<Config>,
        floor: &[u32],
    ) -> Result<(Option<Outcome>, Option<Vec<u32>>), PlanError> {
        let mut bounds = floor.to_vec();
        let mut open: Vec<usize> = (0..floor.len()).collect();
        let mut first = unlimited;
        let mut unlimited_outcome = None;
        while !open.is_empty() {
            for &position in &open {
                while bounds[position] <= floor[position] + MAX_EXTRA_SERVERS
                    && self.evaluator.theory_misses(&self.alone(floor.len(), position, bounds[position]))?
                {
                    bounds[position] += 1;
                }
            }
            if open.iter().any(|&position| bounds[position] > floor[position] + MAX_EXTRA_SERVERS) {
                return Ok((unlimited_outcome, None));
            }
            let mut configs: Vec<Config> = first.take().into_iter().collect();
            let leading = configs.len();
            configs.extend(open.iter().map(|&position| self.alone(floor.len(), position, bounds[position])));
            let mut outcomes = self.evaluator.simulate(&configs)?;
            if leading == 1 {
                let outcome = outcomes.remove(0);
                let met = outcome.met;
                unlimited_outcome = Some(outcome);
                if !met {
                    return Ok((unlimited_outcome, None));
                }
            }
            open = open.iter().zip(&outcomes).filter(|(_, outcome)| !outcome.met).map(|(&p, _)| p).collect();
            for &position in &open {
                bounds[position] += 1;
            }
        }
        Ok((unlimited_outcome, Some(bounds)))
    }

    /// Every allocation at or above `bounds` with `total` servers, in lexicographic order, less
    /// those simulated already and those whose exact theory misses an SLO.
    fn candidates(&self, bounds: &[u32], total: u32) -> Result<Vec<Vec<u32>>, PlanError> {
        let mut allocations = Vec::new();
        let extra = total - bounds.iter().sum::<u32>();
        distribute(bounds, extra, &mut bounds.to_vec(), 0, &mut allocations);
        let mut candidates = Vec::new();
        for allocation in allocations {
            if self.missed.contains(&allocation) {
                continue;
            }
            let config = self.config(&allocation.iter().copied().map(Some).collect::<Vec<_>>());
            if !self.evaluator.theory_misses(&config)? {
                candidates.push(allocation);
            }
        }
        Ok(candidates)
    }

    /// Simulates `allocations` together, after `unlimited` when given; the one meeting every
    /// SLO with the widest margin (the first on ties), if any, and the verdict of `unlimited`.
    fn try_batch(
        &mut self,
        allocations: Vec<Vec<u32>>,
        unlimited: Option<Config>,
    ) -> Result<Batch, PlanError> {
        let leading = usize::from(unlimited.is_some());
        let mut configs: Vec<Config> = unlimited.into_iter().collect();
        configs.extend(
            allocations
                .iter()
                .map(|allocation| self.config(&allocation.iter().copied().map(Some).collect::<Vec<_>>())),
        );
        if configs.is_empty() {
            return Ok(Batch { met: None, unlimited: None });
        }
        let mut outcomes = self.evaluator.simulate(&configs)?;
        let unlimited = (leading == 1).then(|| outcomes.remove(0));
        let mut best: Option<(Vec<u32>, Outcome)> = None;
        for (allocation, outcome) in allocations.into_iter().zip(outcomes) {
            let margin = outcome.margin;
            let wider = |than: &Outcome| margin > than.margin;
            if outcome.met && best.as_ref().is_none_or(|(_, b)| wider(b)) {
                best = Some((allocation, outcome));
            } else if !outcome.met {
                if self.closest.as_ref().is_none_or(|(_, c)| wider(c)) {
                    self.closest = Some((allocation.clone(), outcome));
                }
                self.missed.push(allocation);
            }
        }
        Ok(Batch { met: best, unlimited })
    }

    /// The configuration with `servers` per planned node (`None`: infinitely many).
    fn config(&self, servers: &[Option<u32>]) -> Config {
        let mut all = self.today.clone();
        for (&node, count) in self.planned.iter().zip(servers) {
            all[node] = count.map_or(Servers::Infinite, Servers::Finite);
        }
        Config { servers: all, load: self.load }
    }

    /// The planned node at `position` with `servers`, every other with infinitely many.
    fn alone(&self, planned: usize, position: usize, servers: u32) -> Config {
        let mut counts = vec![None; planned];
        counts[position] = Some(servers);
        self.config(&counts)
    }

    fn limit_hit(&mut self) -> Plan {
        let reason = format!(
            "the search limit was hit ({MAX_EXTRA_SERVERS} servers above the utilisation bounds or \
             {MAX_CANDIDATES} configurations simulated) before any configuration met every SLO"
        );
        match self.closest.take() {
            Some((_, outcome)) => self.infeasible(outcome, reason),
            None => {
                self.infeasible(Outcome { checks: Vec::new(), met: false, margin: f64::NEG_INFINITY }, reason)
            }
        }
    }

    fn infeasible(&self, outcome: Outcome, reason: String) -> Plan {
        let mut plan = self.plan(None, outcome);
        plan.reason = Some(reason);
        plan
    }

    /// The plan of `allocation` (none: infeasible) with the checks of `outcome`.
    fn plan(&self, allocation: Option<&[u32]>, outcome: Outcome) -> Plan {
        let needed =
            allocation.map(|a| self.config(&a.iter().copied().map(Some).collect::<Vec<_>>()).servers);
        let nodes = self
            .evaluator
            .network()
            .nodes()
            .iter()
            .enumerate()
            .map(|(index, node)| {
                let servers_needed = needed.as_ref().map(|servers| servers[index]);
                NodePlan {
                    name: node.name().to_owned(),
                    servers_today: self.today[index],
                    servers_needed,
                    utilization: servers_needed.and_then(|servers| utilization(self.offered[index], servers)),
                }
            })
            .collect();
        Plan {
            mode: PlanMode::FewestServers,
            feasible: allocation.is_some(),
            load: self.load,
            max_load: None,
            checks: outcome.checks,
            nodes,
            reason: None,
            simulated: 0,
            wall_seconds: 0.0,
        }
    }
}

/// Every way of adding `extra` servers to `bounds` from `position` on, in lexicographic order
/// (capped at [`MAX_ENUMERATED`]).
fn distribute(bounds: &[u32], extra: u32, current: &mut Vec<u32>, position: usize, out: &mut Vec<Vec<u32>>) {
    if out.len() >= MAX_ENUMERATED {
        return;
    }
    if position + 1 == bounds.len() {
        current[position] = bounds[position] + extra;
        out.push(current.clone());
        return;
    }
    for added in 0..=extra {
        current[position] = bounds[position] + added;
        distribute(bounds, extra - added, current, position + 1, out);
    }
}

/// The SLO checks an outcome misses, as "EXPR at NAME (VALUE)".
pub(super) fn missed_list(outcome: &Outcome) -> String {
    let missed: Vec<String> = outcome
        .checks
        .iter()
        .filter(|check| !check.met)
        .map(|check| match check.value {
            Some(value) => format!("'{}' misses at {} {} ({value:.4})", check.expr, check.scope, check.name),
            None => format!("'{}' has no value at {} {}", check.expr, check.scope, check.name),
        })
        .collect();
    missed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_of_a_total_are_every_way_in_lexicographic_order() {
        let mut out = Vec::new();
        distribute(&[2, 1], 2, &mut vec![0, 0], 0, &mut out);
        assert_eq!(out, vec![vec![2, 3], vec![3, 2], vec![4, 1]]);
        out.clear();
        distribute(&[5], 3, &mut vec![0], 0, &mut out);
        assert_eq!(out, vec![vec![8]]);
    }
}
