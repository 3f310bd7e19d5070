//! How a state-dependent balancer (shortest-queue, least-loaded, power-of-two) splits its
//! traffic over targets of unequal capacity, in the steady state or at saturation.
//!
//! Over equal targets every balancer splits evenly (by symmetry), and round-robin and random
//! split evenly whatever the targets. Over unequal ones the queues decide the split, which no
//! closed form gives below saturation; what theory does give is where the targets saturate, and
//! the shares here are chosen to saturate exactly there, so the stability verdict and the
//! headroom built on them are exact (when the balancer is its targets' only input) while the
//! per-target rates are approximate.

use crate::model::{ExchangeKind, Network, Target};

/// The share of each of `targets` in what a balancer of `kind` sends, when the targets are
/// nodes of finite positive capacity, not all equal, and the balancer is state-dependent;
/// `None` otherwise (the even split then holds).
///
/// Shortest-queue, least-loaded, and power-of-two over two targets (where it is shortest-queue)
/// pool their targets ([`pooled`]); power-of-two over more samples a pair per message
/// ([`sampled`]).
pub(super) fn balancer_shares(network: &Network, kind: ExchangeKind, targets: &[Target]) -> Option<Vec<f64>> {
    let sampled_pairs = kind == ExchangeKind::PowerOfTwo && targets.len() > 2;
    let pools =
        matches!(kind, ExchangeKind::ShortestQueue | ExchangeKind::LeastLoaded | ExchangeKind::PowerOfTwo);
    if !pools {
        return None;
    }
    let capacities = unequal_capacities(network, targets)?;
    if sampled_pairs { Some(sampled(&capacities)) } else { pooled(&capacities) }
}

/// Shares in proportion to each target's capacity cμ (`None` when their sum overflows).
///
/// # Formula
/// share_t = c_t μ_t / Σ cμ: every target then has the pool's ρ = λ / Σ cμ, so the pool
/// saturates at its summed capacity, as a work-conserving balancer does (a slow target's queue
/// grows, and it is sent less).
fn pooled(capacities: &[f64]) -> Option<Vec<f64>> {
    let total: f64 = capacities.iter().sum();
    total.is_finite().then(|| capacities.iter().map(|c| c / total).collect())
}

/// Shares for power-of-two over n > 2 targets of the given capacities: the most balanced split
/// that gives every set of targets the messages that must go to it.
///
/// # Why the pooled capacity is not the limit
/// Each message samples two distinct targets and joins the shorter queue, so it never sees the
/// others: it can wait at a busy pair while an unsampled server idles (not work-conserving). A
/// set S of k targets receives at least the messages whose pair lies in S, a fraction
/// p(k) = k(k − 1)/(n(n − 1)), whatever the queues. By Foss and Chernova (Queueing Systems 29,
/// 1998, for station-dependent service rates), the balancer is stable exactly when
/// λ p(|S|) < Σ_S cμ for every S, which can be far below the pool's Σcμ (n = 3, cμ = 10, 0.1,
/// 0.1: the two slow ones take λ/3 and saturate at λ = 0.6, the pool at 10.2).
///
/// # Formula
/// Among the sets of k targets the k slowest need the most, so only they matter. With the
/// targets sorted by cμ ascending, points (C_k, p(k)) where C_k is the summed cμ of the k
/// slowest: the least concave majorant of these points, from (0, 0) to (C_n, 1), splits the
/// targets into levels, and every target of a level gets ρ/λ equal to the slope of its segment,
/// share_t = slope × c_t μ_t. The first (steepest) slope is max_k p(k)/C_k, so max ρ < 1 is
/// exactly the stability condition, and each level gets at least what must go to it. The shares
/// do not depend on λ (every p(k) scales with it), so they serve the linear traffic equations.
fn sampled(capacities: &[f64]) -> Vec<f64> {
    let n = capacities.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| capacities[a].total_cmp(&capacities[b]));
    #[allow(clippy::cast_precision_loss)]
    let pairs = (n * (n - 1)) as f64;
    #[allow(clippy::cast_precision_loss)]
    let must_take = |k: usize| (k * k.saturating_sub(1)) as f64 / pairs;
    let mut summed = vec![0.0; n + 1];
    for (k, &target) in order.iter().enumerate() {
        summed[k + 1] = summed[k] + capacities[target];
    }
    let mut shares = vec![0.0; n];
    for (start, end) in concave_majorant(&summed, must_take) {
        let slope = (must_take(end) - must_take(start)) / (summed[end] - summed[start]);
        for &target in &order[start..end] {
            shares[target] = slope * capacities[target];
        }
    }
    shares
}

/// The segments (as index pairs) of the least concave majorant of the points (x_k, y(k)),
/// k = 0..x.len(), x strictly increasing; collinear points are merged into one segment.
fn concave_majorant(x: &[f64], y: impl Fn(usize) -> f64) -> Vec<(usize, usize)> {
    let mut hull: Vec<usize> = Vec::with_capacity(x.len());
    for k in 0..x.len() {
        while let [.., a, b] = hull[..] {
            // b lies on or below the chord from a to k: drop it.
            let cross = (x[b] - x[a]) * (y(k) - y(a)) - (y(b) - y(a)) * (x[k] - x[a]);
            if cross < 0.0 {
                break;
            }
            hull.pop();
        }
        hull.push(k);
    }
    hull.windows(2).map(|pair| (pair[0], pair[1])).collect()
}

/// Each target's capacity rate cμ, when every target is a node of finite positive capacity and
/// they are not all equal.
fn unequal_capacities(network: &Network, targets: &[Target]) -> Option<Vec<f64>> {
    let capacities: Vec<f64> = targets
        .iter()
        .map(|&target| match target {
            Target::Node(id) => Some(network.node(id).capacity_rate()).filter(|c| c.is_finite() && *c > 0.0),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let unequal = capacities.iter().any(|&c| (c - capacities[0]).abs() > 1e-12 * capacities[0]);
    unequal.then_some(capacities)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn two_slow_servers_take_every_pair_of_theirs() {
        // n = 3: the slow pair must take p(2) = 1/3 of the messages, ρ/λ = (1/3)/0.2 = 5/3
        // there, above the pool's 1/10.2; the fast one takes the other 2/3.
        let shares = sampled(&[10.0, 0.1, 0.1]);
        assert!(close(&shares, &[2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0]), "{shares:?}");
    }

    #[test]
    fn servers_close_enough_in_speed_are_pooled() {
        // cμ = 1, 2, 3, 4: p(k)/C_k = 0, (1/6)/3, (1/2)/6, 1/10, largest for k = 4: pooled.
        let shares = sampled(&[4.0, 1.0, 3.0, 2.0]);
        assert!(close(&shares, &[0.4, 0.1, 0.3, 0.2]), "{shares:?}");
    }

    #[test]
    fn a_tie_between_the_slow_pair_and_the_pool_pools() {
        // cμ = 2, 0.5, 0.5: (1/3)/1 = 1/3 = 1/3: one level, in proportion to cμ.
        let shares = sampled(&[2.0, 0.5, 0.5]);
        assert!(close(&shares, &[2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0]), "{shares:?}");
    }

    /// Every subset S of targets, by brute force: the shares give S at least p(|S|), sum to 1,
    /// and the largest ρ/λ equals max_S p(|S|)/Σ_S cμ (Foss and Chernova's condition).
    #[test]
    fn the_shares_meet_every_subsets_must_take_and_saturate_at_the_exact_condition() {
        let cases: [&[f64]; 5] = [
            &[1.0, 7.0, 0.3, 2.0, 2.0, 9.0],
            &[0.01, 0.02, 5.0, 5.0, 5.0],
            &[3.0, 1.0, 1.0, 1.0, 0.2, 8.0, 8.0],
            &[1e-3, 1.0, 1e3],
            &[0.5, 0.25, 0.125, 0.0625, 4.0, 2.0, 1.0, 0.03],
        ];
        for capacities in cases {
            let n = capacities.len();
            let shares = sampled(capacities);
            assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{capacities:?}: {shares:?}");
            let mut worst = 0.0_f64;
            for set in 1_u32..(1 << n) {
                let members: Vec<usize> = (0..n).filter(|&i| set & (1 << i) != 0).collect();
                let k = members.len();
                #[allow(clippy::cast_precision_loss)]
                let must = (k * (k - 1)) as f64 / (n * (n - 1)) as f64;
                let share: f64 = members.iter().map(|&i| shares[i]).sum();
                assert!(share >= must - 1e-12, "{capacities:?}, set {members:?}: {share} < {must}");
                worst = worst.max(must / members.iter().map(|&i| capacities[i]).sum::<f64>());
            }
            let highest = (0..n).map(|i| shares[i] / capacities[i]).fold(0.0, f64::max);
            assert!((highest - worst).abs() < 1e-12 * worst, "{capacities:?}: {highest} vs {worst}");
        }
    }
}
