//! The system as a whole: whether every unbounded queue is stable, the bottleneck, and the
//! headroom before the first unbounded queue saturates.

use super::linear::SingularMatrix;
use super::results::{NodeAnalysis, SystemAnalysis};
use super::traffic::flows;
use crate::model::{Network, Source};

/// Largest factor searched for the headroom.
const MAX_HEADROOM: f64 = 1e15;

/// The system-wide figures, from the nodes' own.
pub(super) fn analyze_system(
    network: &Network,
    nodes: &[NodeAnalysis],
) -> Result<SystemAnalysis, SingularMatrix> {
    let stable = network.nodes().iter().zip(nodes).all(|(node, a)| !node.has_unbounded_queue() || a.stable);
    let bottleneck =
        nodes.iter().max_by(|a, b| a.utilization.total_cmp(&b.utilization)).map(|a| a.name.clone());
    let offered_rate: f64 = network.sources().iter().filter_map(Source::open_rate).sum();
    let (headroom, headroom_reason) = headroom(network)?;
    let max_throughput = headroom.map(|h| h * offered_rate);
    Ok(SystemAnalysis {
        stable,
        bottleneck,
        headroom,
        headroom_reason,
        max_throughput,
        offered_rate,
        population_curve: Vec::new(),
    })
}

/// Whether some unbounded queue is at or beyond saturation with source rates scaled by `scale`.
fn saturated(network: &Network, scale: f64) -> Result<bool, SingularMatrix> {
    let flow = flows(network, scale)?;
    Ok(network
        .nodes()
        .iter()
        .zip(&flow.arrival_rate)
        .any(|(node, &lambda)| node.has_unbounded_queue() && lambda >= node.capacity_rate()))
}

/// The largest factor on every source's rate that keeps all unbounded queues below saturation,
/// found by doubling then bisection (saturation is monotone in the scale).
fn headroom(network: &Network) -> Result<(Option<f64>, Option<String>), SingularMatrix> {
    if network.nodes().iter().all(|node| !node.has_unbounded_queue()) {
        return Ok((
            None,
            Some("every queue is finite: overload drops messages instead of growing one".to_owned()),
        ));
    }
    let mut high = 1.0;
    while !saturated(network, high)? {
        high *= 2.0;
        if high > MAX_HEADROOM {
            return Ok((
                None,
                Some(
                    "no queue saturates at any load: each unbounded queue has infinitely many servers or sits behind bounded queues"
                        .to_owned(),
                ),
            ));
        }
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if saturated(network, mid)? {
            high = mid;
        } else {
            low = mid;
        }
        if high - low <= high * 1e-15 {
            break;
        }
    }
    Ok((Some(high), None))
}

#[cfg(test)]
mod tests {
    use crate::analytic::fixtures::{TANDEM, analysis};

    #[test]
    fn headroom_and_bottleneck_of_a_tandem() {
        // ρa = 2 × 0.25 = 0.5; ρb = 2 × 0.8 / 2 = 0.8. b saturates when the load grows by 1/0.8.
        let analysis = analysis(TANDEM);
        assert_eq!(analysis.system.bottleneck.as_deref(), Some("b"));
        assert!((analysis.system.headroom.unwrap() - 1.25).abs() < 1e-12);
        assert!((analysis.system.max_throughput.unwrap() - 2.5).abs() < 1e-12);
        assert!(analysis.system.stable);
    }
}
