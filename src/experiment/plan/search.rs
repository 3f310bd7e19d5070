//! The fewest servers: hard bounds from theory, per-node bounds with every other node
//! unlimited, then every configuration of each total in increasing order (see the module
//! documentation of [`plan`](super)).

use super::bounds::{fewest_servers as floor_servers, fewest_stable, offered_loads, utilization};
use super::evaluate::{Config, Evaluator, Outcome};
use super::{MAX_CANDIDATES, MAX_EXTRA_SERVERS, NodePlan, Plan, PlanError, PlanMode, PlanOptions};
use crate::model::Servers;
use crate::stats::{Metric, NodeMetric, SourceMetric};

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
    /// The most servers each planned node may have: its capacity, if it has one.
    ceiling: Vec<Option<u32>>,
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
    let ceiling = planned.iter().map(|&node| evaluator.network().nodes()[node].capacity()).collect();
    let mut search =
        Search { evaluator, today, planned, ceiling, load, offered, missed: Vec::new(), closest: None };
    search.run(&floor)
}

impl Search<'_, '_> {
    fn run(&mut self, floor: &[u32]) -> Result<Plan, PlanError> {
        if let Some(position) = (0..floor.len()).find(|&p| !self.allowed(p, floor[p])) {
            let node = self.evaluator.network().nodes()[self.planned[position]].name().to_owned();
            let reason = format!(
                "node {node} needs {} servers to keep its utilisation within the cap, more than its capacity of {}",
                floor[position],
                self.ceiling[position].unwrap_or(u32::MAX)
            );
            return Ok(self
                .infeasible(Outcome { checks: Vec::new(), met: false, margin: f64::NEG_INFINITY }, reason));
        }
        let unlimited = self.config(&vec![None; floor.len()]);
        let first = self.try_batch(vec![floor.to_vec()], Some(unlimited))?;
        if let Some(met) = first.met {
            return Ok(self.plan(Some(&met.0), met.1));
        }
        let unlimited = first.unlimited.expect("the first batch simulates the unlimited configuration");
        if !unlimited.met || floor.is_empty() {
            let reason = format!(
                "even with as many servers as every node may have (infinitely many, or its capacity), {}: \
                 the service times alone miss it",
                missed_list(&unlimited)
            );
            return Ok(self.infeasible(unlimited, reason));
        }
        let mut bounds = floor.to_vec();
        let mut bounded = floor.len() == 1;
        let last = floor.iter().sum::<u32>() + MAX_EXTRA_SERVERS;
        let mut total = floor.iter().sum::<u32>() + 1;
        while total <= last {
            let mut candidates = self.candidates(&bounds, total)?;
            if !bounded && candidates.len() > floor.len() {
                let Some(node_bounds) = self.node_bounds(floor)? else { return Ok(self.limit_hit()) };
                (bounds, bounded) = (node_bounds, true);
                total = total.max(bounds.iter().sum());
                candidates = self.candidates(&bounds, total)?;
            }
            if self.evaluator.simulated() + candidates.len() > MAX_CANDIDATES {
                return Ok(self.limit_hit());
            }
            if let Some(met) = self.try_batch(candidates, None)?.met {
                return Ok(self.plan(Some(&met.0), met.1));
            }
            total += 1;
        }
        Ok(self.limit_hit())
    }

    /// Per node, the fewest servers meeting every SLO while every other node has infinitely
    /// many; `None` when the limit is hit first.
    fn node_bounds(&mut self, floor: &[u32]) -> Result<Option<Vec<u32>>, PlanError> {
        let mut bounds = floor.to_vec();
        let mut open: Vec<usize> = (0..floor.len()).collect();
        while !open.is_empty() {
            for &position in &open {
                while self.allowed(position, bounds[position])
                    && bounds[position] <= floor[position] + MAX_EXTRA_SERVERS
                    && self.evaluator.theory_misses(&self.alone(floor.len(), position, bounds[position]))?
                {
                    bounds[position] += 1;
                }
            }
            if open.iter().any(|&position| {
                !self.allowed(position, bounds[position])
                    || bounds[position] > floor[position] + MAX_EXTRA_SERVERS
            }) {
                return Ok(None);
            }
            let configs: Vec<Config> =
                open.iter().map(|&position| self.alone(floor.len(), position, bounds[position])).collect();
            let outcomes = self.evaluator.simulate(&configs)?;
            open = open.iter().zip(&outcomes).filter(|(_, outcome)| !outcome.met).map(|(&p, _)| p).collect();
            for &position in &open {
                bounds[position] += 1;
            }
        }
        Ok(Some(bounds))
    }

    /// Every allocation at or above `bounds` with `total` servers, in lexicographic order, less
    /// those simulated already and those whose exact theory misses an SLO.
    fn candidates(&self, bounds: &[u32], total: u32) -> Result<Vec<Vec<u32>>, PlanError> {
        let mut allocations = Vec::new();
        let extra = total - bounds.iter().sum::<u32>();
        distribute(bounds, extra, &mut bounds.to_vec(), 0, &mut allocations);
        let mut candidates = Vec::new();
        for allocation in allocations {
            let within =
                allocation.iter().enumerate().all(|(position, &servers)| self.allowed(position, servers));
            if !within || self.missed.contains(&allocation) {
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

    /// Whether the planned node at `position` may have `servers` (no more than its capacity).
    fn allowed(&self, position: usize, servers: u32) -> bool {
        self.ceiling[position].is_none_or(|ceiling| servers <= ceiling)
    }

    /// The configuration with `servers` per planned node (`None`: as many as it may have,
    /// infinitely many without a capacity).
    fn config(&self, servers: &[Option<u32>]) -> Config {
        let mut all = self.today.clone();
        for ((&node, count), ceiling) in self.planned.iter().zip(servers).zip(&self.ceiling) {
            all[node] = count.or(*ceiling).map_or(Servers::Infinite, Servers::Finite);
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
                    fewest_stable: fewest_stable(node, self.offered[index]),
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
            evaluated: Vec::new(),
            wall_seconds: 0.0,
            warnings: Vec::new(),
        }
    }
}

/// Every way of adding `extra` servers to `bounds` from `position` on, in lexicographic order
/// (capped at [`MAX_ENUMERATED`]).
fn distribute(bounds: &[u32], extra: u32, current: &mut Vec<u32>, position: usize, out: &mut Vec<Vec<u32>>) {
    if out.len() >= MAX_ENUMERATED || bounds.is_empty() {
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
            Some(value) => {
                let unit = if check.scope == "source" {
                    SourceMetric::from_key(&check.metric).map(SourceMetric::unit)
                } else {
                    NodeMetric::from_key(&check.metric).map(NodeMetric::unit)
                };
                let unit = unit.unwrap_or("");
                format!("'{}' misses at {} {} ({value:.4}{unit})", check.expr, check.scope, check.name)
            }
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
