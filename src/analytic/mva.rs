//! Exact Mean Value Analysis of a single-class closed queueing network.

/// One station of a closed network, as MVA sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MvaStation {
    /// Service demand D = visits per cycle × mean service time, in seconds.
    pub demand: f64,
    /// Whether messages queue for the station or are served at once.
    pub kind: MvaKind,
}

/// How a station treats the messages that reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MvaKind {
    /// A single FCFS (or processor-sharing) server: messages wait behind those already there.
    Queueing,
    /// An infinite-server (pure delay) station: every message is served at once.
    Delay,
}

/// The network's solution at one population.
#[derive(Debug, Clone, PartialEq)]
pub struct MvaPoint {
    /// Number of messages circulating, n.
    pub population: u32,
    /// System throughput X(n), cycles per second.
    pub throughput: f64,
    /// Response time per cycle, the sum of residence times, excluding think time, in seconds.
    pub response_time: f64,
    /// Mean number of messages at each station, in the order of the input stations.
    pub queue_lengths: Vec<f64>,
}

/// Exact single-class MVA: one point for each population n = 1..=`population`.
///
/// `think_time` Z (seconds) is spent outside the stations between cycles. Demands and Z must be
/// finite and non-negative, with Z + Σ D > 0; otherwise, or for a population of 0, the result is
/// empty. Memory grows as population × stations.
///
/// # Formula
///
/// ```text
/// Q_k(0) = 0, and for n = 1..N:
/// R_k(n) = D_k (1 + Q_k(n − 1))    at a queueing station
/// R_k(n) = D_k                     at a delay station
/// X(n)   = n / (Z + Σ_k R_k(n))
/// Q_k(n) = X(n) R_k(n)
/// ```
#[must_use]
pub fn mva(stations: &[MvaStation], think_time: f64, population: u32) -> Vec<MvaPoint> {
    if !is_solvable(stations, think_time) {
        return Vec::new();
    }
    let mut points: Vec<MvaPoint> = Vec::new();
    let mut queues = vec![0.0; stations.len()];
    for n in 1..=population {
        let point = step(stations, think_time, n, &queues);
        queues.clone_from(&point.queue_lengths);
        points.push(point);
    }
    points
}

/// Whether the demands and think time are finite, non-negative and give a positive cycle time.
fn is_solvable(stations: &[MvaStation], think_time: f64) -> bool {
    let valid = |x: f64| x.is_finite() && x >= 0.0;
    let total: f64 = stations.iter().map(|station| station.demand).sum();
    valid(think_time) && stations.iter().all(|station| valid(station.demand)) && think_time + total > 0.0
}

/// One MVA step: population `n` from the queue lengths at population n − 1.
fn step(stations: &[MvaStation], think_time: f64, n: u32, previous: &[f64]) -> MvaPoint {
    let residence: Vec<f64> =
        stations.iter().zip(previous).map(|(station, &queue)| station.residence(queue)).collect();
    let response_time: f64 = residence.iter().sum();
    let throughput = f64::from(n) / (think_time + response_time);
    let queue_lengths = residence.iter().map(|time| throughput * time).collect();
    MvaPoint { population: n, throughput, response_time, queue_lengths }
}

impl MvaStation {
    /// Residence time per cycle of an arrival that finds `queue` messages here on average.
    fn residence(&self, queue: f64) -> f64 {
        match self.kind {
            MvaKind::Queueing => self.demand * (1.0 + queue),
            MvaKind::Delay => self.demand,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() <= 1e-12 * expected.abs(), "{actual} vs {expected}");
    }

    fn queueing(demand: f64) -> MvaStation {
        MvaStation { demand, kind: MvaKind::Queueing }
    }

    #[test]
    fn two_queueing_stations_by_hand() {
        // D = (1, 2) s, Z = 1 s.
        // n = 1: R = (1, 2), sum 3, X = 1/(1 + 3) = 1/4, Q = (1/4, 1/2).
        // n = 2: R = (1 × 5/4, 2 × 3/2) = (5/4, 3), sum 17/4, X = 2/(1 + 17/4) = 8/21,
        //        Q = (5/4 × 8/21, 3 × 8/21) = (10/21, 8/7).
        let points = mva(&[queueing(1.0), queueing(2.0)], 1.0, 2);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].population, 1);
        assert_close(points[0].throughput, 0.25);
        assert_close(points[0].response_time, 3.0);
        assert_close(points[0].queue_lengths[0], 0.25);
        assert_close(points[0].queue_lengths[1], 0.5);
        assert_eq!(points[1].population, 2);
        assert_close(points[1].throughput, 8.0 / 21.0);
        assert_close(points[1].response_time, 4.25);
        assert_close(points[1].queue_lengths[0], 10.0 / 21.0);
        assert_close(points[1].queue_lengths[1], 8.0 / 7.0);
    }

    #[test]
    fn queueing_and_delay_station_by_hand() {
        // D = (1 s queueing, 2 s delay), Z = 0.
        // n = 1: R = (1, 2), X = 1/3, Q = (1/3, 2/3).
        // n = 2: R = (1 × 4/3, 2) = (4/3, 2), sum 10/3, X = 2/(10/3) = 3/5, Q = (4/5, 6/5).
        let stations = [queueing(1.0), MvaStation { demand: 2.0, kind: MvaKind::Delay }];
        let last = mva(&stations, 0.0, 2).pop().expect("two points");
        assert_close(last.throughput, 0.6);
        assert_close(last.response_time, 10.0 / 3.0);
        assert_close(last.queue_lengths[0], 0.8);
        assert_close(last.queue_lengths[1], 1.2);
    }

    #[test]
    fn single_queueing_station_saturates_at_one_over_demand() {
        // With Z = 0 all n messages sit at the one station, Q(n) = n, so X(n) = n/(D n) = 1/D.
        let points = mva(&[queueing(0.5)], 0.0, 50);
        assert_eq!(points.len(), 50);
        assert_close(points[49].throughput, 2.0);
        assert_close(points[49].queue_lengths[0], 50.0);
    }

    #[test]
    fn bottleneck_bounds_throughput_and_population_is_conserved() {
        // Asymptotic bound X(N) ≤ 1/D_max = 2; every message is somewhere: Σ Q + X Z = n.
        let stations = [queueing(0.5), queueing(0.2), MvaStation { demand: 0.3, kind: MvaKind::Delay }];
        let points = mva(&stations, 1.0, 200);
        for point in &points {
            assert!(point.throughput <= 2.0);
            let total: f64 = point.queue_lengths.iter().sum::<f64>() + point.throughput * 1.0;
            assert_close(total, f64::from(point.population));
        }
        assert!((points[199].throughput - 2.0).abs() < 1e-9);
    }

    #[test]
    fn degenerate_input_gives_no_points() {
        assert!(mva(&[queueing(1.0)], 0.0, 0).is_empty());
        assert!(mva(&[], 0.0, 3).is_empty());
        assert!(mva(&[queueing(0.0)], 0.0, 3).is_empty());
        assert!(mva(&[queueing(-1.0)], 2.0, 3).is_empty());
        assert!(mva(&[queueing(f64::NAN)], 2.0, 3).is_empty());
        // Think time alone is a valid (if dull) network: X(n) = n / Z.
        assert_close(mva(&[], 4.0, 2)[1].throughput, 0.5);
    }
}
