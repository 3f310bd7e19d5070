//! Single-station closed forms: Erlang B and C, M/M/c and its quantiles, M/M/c/K, M/M/c/c,
//! M/G/1, M/G/∞, and the Kingman and Allen-Cunneen approximations.

/// Steady-state metrics of one station.
///
/// Times are in seconds, rates per second and lengths in messages. Waits and sojourns are those
/// of admitted messages; dropped messages never enter the station.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationMetrics {
    /// Rate at which messages enter (and, in steady state, leave) the station, per second.
    pub throughput: f64,
    /// Fraction of time each server is busy: throughput × E\[S\] / c.
    pub utilization: f64,
    /// Mean time an admitted message waits before its service starts (Wq), in seconds.
    pub mean_wait: f64,
    /// Mean time an admitted message spends in the station, wait plus service (W), in seconds.
    pub mean_sojourn: f64,
    /// Mean number of messages waiting, not counting those in service (Lq).
    pub mean_in_queue: f64,
    /// Mean number of messages in the station, waiting or in service (L).
    pub mean_in_system: f64,
    /// Probability that an admitted message has to wait for a server.
    pub prob_wait: f64,
    /// Probability that an arriving message is dropped because the station is full.
    pub drop_probability: f64,
}

/// Relative width at which the quantile bisection stops.
const QUANTILE_TOLERANCE: f64 = 1e-13;

/// Upper bound on bisection steps: enough to shrink any bracket to the tolerance.
const MAX_BISECTIONS: u32 = 200;

/// Upper bound on bracket doublings; the sojourn tail is at most (1 + x) e^(−x), so a few suffice.
const MAX_DOUBLINGS: u32 = 64;

/// Erlang B: the probability that an arrival finds all `servers` busy in M/M/c/c (blocking).
///
/// `offered_load` is a = lambda/mu in erlangs. A non-positive load gives 0 (1 with no servers), an
/// infinite load gives 1, and a NaN load gives NaN. Exact for M/G/c/c as well (insensitivity).
///
/// # Formula
///
/// The stable recursion, with no factorials, linear in c:
///
/// ```text
/// B(0) = 1,  B(k) = a B(k−1) / (k + a B(k−1))
/// ```
#[must_use]
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    erlang_b_with_complement(servers, offered_load).0
}

/// Erlang C: the probability that an arrival has to wait in a stable M/M/c queue.
///
/// `offered_load` is a = lambda/mu in erlangs. Returns 1 when rho = a/c ≥ 1 (or there are no
/// servers), 0 for a non-positive load, and NaN for a NaN load.
///
/// # Formula
///
/// ```text
/// C(c, a) = B(c, a) / (1 − rho (1 − B(c, a)))
/// ```
///
/// evaluated as c B / ((c − a) + a B), which keeps its precision as rho approaches 1.
#[must_use]
pub fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    let c = f64::from(servers);
    if servers == 0 || offered_load >= c {
        return 1.0;
    }
    if offered_load <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(servers, offered_load);
    c * b / ((c - offered_load) + offered_load * b)
}

/// M/M/c with FCFS and unlimited waiting room; M/M/1 is `servers` = 1.
///
/// Returns `None` when the queue is unstable (rho = lambda/(c mu) ≥ 1) or the input is invalid
/// (`lambda` negative or not finite, `mu` not positive and finite, no servers).
///
/// # Formula
///
/// ```text
/// Wq = C(c, a) / (c mu − lambda)    P(wait) = C(c, a)
/// W  = Wq + 1/mu                    Lq = lambda Wq,  L = Lq + a
/// ```
///
/// For c = 1: L = rho/(1 − rho) and W = 1/(mu − lambda).
#[must_use]
pub fn mmc(lambda: f64, mu: f64, servers: u32) -> Option<StationMetrics> {
    let tail = MmcTail::new(lambda, mu, servers)?;
    let mean_wait = tail.prob_wait / tail.decay;
    Some(lossless(lambda, 1.0 / mu, f64::from(servers), mean_wait, tail.prob_wait))
}

/// The `p`-quantile of the FCFS wait before service in M/M/c, in seconds.
///
/// Returns `None` when [`mmc`] would, or when `p` is not in \[0, 1).
///
/// # Formula
///
/// ```text
/// P(Wq > t) = C exp(−(c mu − lambda) t)
/// t_p = 0                                   if p ≤ 1 − C
///     = ln(C / (1 − p)) / (c mu − lambda)   otherwise
/// ```
#[must_use]
pub fn mmc_wait_quantile(lambda: f64, mu: f64, servers: u32, p: f64) -> Option<f64> {
    let tail = MmcTail::new(lambda, mu, servers)?;
    let exceed = exceedance(p)?;
    if exceed >= tail.prob_wait {
        return Some(0.0);
    }
    Some((tail.prob_wait.ln() - exceed.ln()) / tail.decay)
}

/// The `p`-quantile of the FCFS sojourn (wait plus service) in M/M/c, in seconds.
///
/// Returns `None` when [`mmc`] would, or when `p` is not in \[0, 1). Found by bracketing and
/// bisection to about 1e-12 relative; for c = 1 it is −ln(1 − p)/(mu − lambda).
///
/// # Formula
///
/// With C = C(c, a), theta = c mu − lambda, E ~ Exp(theta) and S ~ Exp(mu):
///
/// ```text
/// P(T > t)     = (1 − C) e^(−mu t) + C P(E + S > t)
/// P(E + S > t) = (theta e^(−mu t) − mu e^(−theta t)) / (theta − mu)   (theta ≠ mu)
///              = (1 + mu t) e^(−mu t)                                  (theta = mu)
/// ```
///
/// P(E + S > t) is evaluated in a form without cancellation when theta is close to mu.
#[must_use]
pub fn mmc_sojourn_quantile(lambda: f64, mu: f64, servers: u32, p: f64) -> Option<f64> {
    let tail = MmcTail::new(lambda, mu, servers)?;
    let exceed = exceedance(p)?;
    if exceed >= 1.0 {
        return Some(0.0);
    }
    let scale = 1.0 / tail.mu.min(tail.decay);
    Some(invert_tail(|t| tail.sojourn_exceedance(t), exceed, scale))
}

/// M/M/c/K: `servers` servers and room for `capacity` messages in all (K ≥ c), arrivals that find
/// the station full being dropped.
///
/// Exact for any load, rho > 1 included, since a finite station is always stable. Computed by
/// ratios of successive state probabilities with rescaling, so c = 1000 and K = 5000 are fine; the
/// cost is linear in K. Returns `None` only for invalid input: `lambda` or `mu` not positive and
/// finite, lambda/mu overflowing, no servers, or K < c.
///
/// # Formula
///
/// ```text
/// p_n ∝ a^n / n!               for n ≤ c
///     ∝ a^n / (c! c^(n−c))     for c < n ≤ K
/// drop = p_K                   throughput = lambda (1 − p_K)
/// L  = Σ n p_n                 W  = L / throughput
/// Lq = Σ (n − c)⁺ p_n          Wq = Lq / throughput
/// P(admitted message waits) = Σ_{c ≤ n < K} p_n / (1 − p_K)
/// ```
///
/// For c = 1: `p_K = (1 − rho) rho^K / (1 − rho^(K+1))`.
#[must_use]
pub fn mmck(lambda: f64, mu: f64, servers: u32, capacity: u32) -> Option<StationMetrics> {
    let offered = lambda / mu;
    let valid = is_rate(lambda) && is_rate(mu) && offered.is_finite();
    if !valid || servers == 0 || capacity < servers {
        return None;
    }
    let sums = BirthDeathSums::new(offered, servers, capacity);
    let total = sums.admitted + sums.blocked;
    let throughput = lambda * (sums.admitted / total);
    let mean_in_queue = sums.in_queue / total;
    let mean_in_system = sums.in_system / total;
    Some(StationMetrics {
        throughput,
        utilization: throughput / mu / f64::from(servers),
        mean_wait: mean_in_queue / throughput,
        mean_sojourn: mean_in_system / throughput,
        mean_in_queue,
        mean_in_system,
        prob_wait: sums.waiting / sums.admitted,
        drop_probability: sums.blocked / total,
    })
}

/// M/M/c/c, the Erlang loss system: no waiting room, arrivals that find every server busy are
/// dropped. Exact for any service distribution with mean 1/`mu` (insensitivity).
///
/// Expects `lambda` ≥ 0 and `mu` > 0, both finite; with no servers every arrival is dropped.
///
/// # Formula
///
/// ```text
/// drop = B(c, a)     throughput = lambda (1 − B)     L = a (1 − B)
/// W = 1/mu           Wq = Lq = 0
/// ```
///
/// 1 − B is carried through the recursion as c / (c + a B(c − 1)), so the throughput keeps its
/// precision when almost every arrival is dropped.
#[must_use]
pub fn erlang_loss(lambda: f64, mu: f64, servers: u32) -> StationMetrics {
    let (blocking, admitted) = erlang_b_with_complement(servers, lambda / mu);
    let throughput = lambda * admitted;
    let busy = throughput / mu;
    StationMetrics {
        throughput,
        // With no servers nothing is busy; max(1) only avoids 0/0.
        utilization: busy / f64::from(servers.max(1)),
        mean_wait: 0.0,
        mean_sojourn: 1.0 / mu,
        mean_in_queue: 0.0,
        mean_in_system: busy,
        prob_wait: 0.0,
        drop_probability: blocking,
    }
}

/// M/G/1 by the Pollaczek-Khinchine formula, from the mean service time in seconds and its SCV.
///
/// Exact. M/D/1 is `service_scv` = 0, M/E<sub>k</sub>/1 is 1/k and M/M/1 is 1. Returns `None` when unstable
/// (rho = lambda E\[S\] ≥ 1) or for invalid input (negative or non-finite values, E\[S\] ≤ 0).
///
/// # Formula
///
/// ```text
/// Wq = lambda E[S²] / (2 (1 − rho)) = rho E[S] (1 + Cs²) / (2 (1 − rho))
/// ```
///
/// The probability of waiting is rho (Poisson arrivals see time averages).
#[must_use]
pub fn mg1(lambda: f64, mean_service: f64, service_scv: f64) -> Option<StationMetrics> {
    if !is_non_negative(service_scv) {
        return None;
    }
    single_server(lambda, mean_service, 0.5 * (1.0 + service_scv))
}

/// M/G/∞: a server for every message, so nobody waits.
///
/// Exact for any service distribution. Expects `lambda` ≥ 0 and `mean_service` > 0, both finite.
/// `utilization` is 0, the busy fraction of infinitely many servers; the mean number of busy
/// servers is `mean_in_system`.
///
/// # Formula
///
/// ```text
/// L = lambda E[S],  W = E[S],  Lq = Wq = 0
/// ```
#[must_use]
pub fn mg_inf(lambda: f64, mean_service: f64) -> StationMetrics {
    lossless(lambda, mean_service, f64::INFINITY, 0.0, 0.0)
}

/// Kingman's G/G/1 approximation, from the SCVs of inter-arrival and service times.
///
/// Approximate (heavy-traffic); exact for M/M/1 and, with `arrival_scv` = 1, equal to M/G/1.
/// The probability of waiting is approximated by rho. Returns `None` when unstable
/// (rho = lambda E\[S\] ≥ 1) or for invalid input.
///
/// # Formula
///
/// ```text
/// Wq ≈ (rho / (1 − rho)) ((Ca² + Cs²) / 2) E[S]
/// ```
#[must_use]
pub fn kingman(lambda: f64, mean_service: f64, arrival_scv: f64, service_scv: f64) -> Option<StationMetrics> {
    if !(is_non_negative(arrival_scv) && is_non_negative(service_scv)) {
        return None;
    }
    single_server(lambda, mean_service, 0.5 * (arrival_scv + service_scv))
}

/// The Allen-Cunneen G/G/c approximation, from the SCVs of inter-arrival and service times.
///
/// Approximate; exact for M/M/c (Ca² = Cs² = 1). The probability of waiting is approximated by
/// Erlang C. Returns `None` when unstable (rho = lambda E\[S\] / c ≥ 1) or for invalid input.
///
/// # Formula
///
/// ```text
/// Wq ≈ (C(c, a) / (c mu − lambda)) (Ca² + Cs²) / 2,   mu = 1/E[S],  a = lambda E[S]
/// ```
#[must_use]
pub fn allen_cunneen(
    lambda: f64,
    mean_service: f64,
    servers: u32,
    arrival_scv: f64,
    service_scv: f64,
) -> Option<StationMetrics> {
    if !(is_non_negative(arrival_scv) && is_non_negative(service_scv) && is_rate(mean_service)) {
        return None;
    }
    let tail = MmcTail::new(lambda, 1.0 / mean_service, servers)?;
    let mean_wait = 0.5 * (arrival_scv + service_scv) * tail.prob_wait / tail.decay;
    Some(lossless(lambda, mean_service, f64::from(servers), mean_wait, tail.prob_wait))
}

/// Time in seconds for a fluid level to grow from `initial` to `target` at `growth_rate` per
/// second, for example the backlog of an overloaded queue, which grows at lambda − c mu.
///
/// Zero when the target is already reached. Returns `None` when it never is (`growth_rate` ≤ 0
/// and `target` > `initial`) or an input is not finite.
///
/// # Formula
///
/// ```text
/// t = (target − initial) / growth_rate
/// ```
#[must_use]
pub fn time_to_reach(growth_rate: f64, initial: f64, target: f64) -> Option<f64> {
    if !(growth_rate.is_finite() && initial.is_finite() && target.is_finite()) {
        return None;
    }
    if target <= initial {
        return Some(0.0);
    }
    (growth_rate > 0.0).then(|| (target - initial) / growth_rate)
}

/// A positive, finite rate or mean.
fn is_rate(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// A non-negative, finite arrival rate or squared coefficient of variation.
fn is_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// The exceedance probability 1 − p of a quantile level `p` in \[0, 1).
fn exceedance(p: f64) -> Option<f64> {
    (0.0..1.0).contains(&p).then_some(1.0 - p)
}

/// Erlang B and its complement 1 − B, both from the recursion so that neither loses precision.
fn erlang_b_with_complement(servers: u32, offered_load: f64) -> (f64, f64) {
    if servers == 0 || offered_load == f64::INFINITY {
        return (1.0, 0.0);
    }
    if offered_load <= 0.0 {
        return (0.0, 1.0);
    }
    (1..=servers).fold((1.0, 0.0), |(previous, _), k| {
        let k = f64::from(k);
        let carried = offered_load * previous;
        (carried / (k + carried), k / (k + carried))
    })
}

/// Metrics of a station that drops nothing, from its mean wait, by Little's law.
fn lossless(lambda: f64, mean_service: f64, servers: f64, mean_wait: f64, prob_wait: f64) -> StationMetrics {
    let busy = lambda * mean_service;
    StationMetrics {
        throughput: lambda,
        utilization: busy / servers,
        mean_wait,
        mean_sojourn: mean_wait + mean_service,
        mean_in_queue: lambda * mean_wait,
        mean_in_system: lambda * mean_wait + busy,
        prob_wait,
        drop_probability: 0.0,
    }
}

/// A single-server station whose wait is rho/(1 − rho) × `variability` × E\[S\].
fn single_server(lambda: f64, mean_service: f64, variability: f64) -> Option<StationMetrics> {
    if !(is_non_negative(lambda) && is_rate(mean_service)) {
        return None;
    }
    let rho = lambda * mean_service;
    if rho >= 1.0 {
        return None;
    }
    let mean_wait = rho * mean_service * variability / (1.0 - rho);
    Some(lossless(lambda, mean_service, 1.0, mean_wait, rho))
}

/// The waiting-time tail of a stable M/M/c queue: P(Wq > t) = `prob_wait` e^(−`decay` t).
struct MmcTail {
    /// Erlang C.
    prob_wait: f64,
    /// theta = c mu − lambda, per second.
    decay: f64,
    /// Service rate, per second.
    mu: f64,
}

impl MmcTail {
    /// The tail of a valid, stable M/M/c queue, or `None`.
    fn new(lambda: f64, mu: f64, servers: u32) -> Option<Self> {
        if !(is_non_negative(lambda) && is_rate(mu)) || servers == 0 {
            return None;
        }
        let c = f64::from(servers);
        let offered = lambda / mu;
        if offered >= c {
            return None;
        }
        Some(Self { prob_wait: erlang_c(servers, offered), decay: mu * (c - offered), mu })
    }

    /// P(T > t) for the sojourn T: an Exp(mu) service after the wait.
    fn sojourn_exceedance(&self, t: f64) -> f64 {
        (1.0 - self.prob_wait) * (-self.mu * t).exp()
            + self.prob_wait * two_phase_exceedance(self.mu, self.decay, t)
    }
}

/// P(E₁ + E₂ > t) for independent exponentials of rates `r1` and `r2`, symmetric in the rates.
///
/// With s = min rate and d = |r1 − r2| it is e^(−s t) (1 + s t h(d t)), h(x) = (1 − e^(−x))/x and
/// h(0) = 1: no cancellation as d → 0 and no overflow for large t.
fn two_phase_exceedance(r1: f64, r2: f64, t: f64) -> f64 {
    let (slow, fast) = (r1.min(r2), r1.max(r2));
    let x = (fast - slow) * t;
    let h = if x > 0.0 { -(-x).exp_m1() / x } else { 1.0 };
    (-slow * t).exp() * (1.0 + slow * t * h)
}

/// The t ≥ 0 at which a continuous, decreasing `tail` with tail(0) = 1 falls to `level` in (0, 1).
///
/// Doubles an upper bracket from `scale`, then bisects to a relative width of
/// [`QUANTILE_TOLERANCE`].
fn invert_tail(tail: impl Fn(f64) -> f64, level: f64, scale: f64) -> f64 {
    let (mut low, mut high) = (0.0, scale);
    for _ in 0..MAX_DOUBLINGS {
        if tail(high) <= level {
            break;
        }
        (low, high) = (high, 2.0 * high);
    }
    for _ in 0..MAX_BISECTIONS {
        if high - low <= QUANTILE_TOLERANCE * high {
            break;
        }
        let middle = 0.5 * (low + high);
        if tail(middle) > level {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

/// Sums over the unnormalised M/M/c/K state probabilities, kept rescaled so that the largest
/// weight seen so far is 1 (no overflow for any finite offered load).
#[derive(Default)]
struct BirthDeathSums {
    /// `Σ p_n` over n < K: arrivals that are admitted.
    admitted: f64,
    /// `p_K`: arrivals that are dropped.
    blocked: f64,
    /// `Σ p_n` over c ≤ n < K: admitted arrivals that wait.
    waiting: f64,
    /// `Σ n p_n`.
    in_system: f64,
    /// `Σ (n − c)⁺ p_n`.
    in_queue: f64,
}

impl BirthDeathSums {
    /// Walks the chain from n = 0 to K with `p_n / p_(n−1) = a / min(n, c)`.
    fn new(offered: f64, servers: u32, capacity: u32) -> Self {
        let mut sums = Self::default();
        let mut weight = 1.0;
        sums.add(0, weight, servers, capacity);
        for n in 1..=capacity {
            weight *= offered / f64::from(n.min(servers));
            if weight > 1.0 {
                sums.rescale(weight);
                weight = 1.0;
            }
            sums.add(n, weight, servers, capacity);
        }
        sums
    }

    /// Adds state `n` with unnormalised probability `weight`.
    fn add(&mut self, n: u32, weight: f64, servers: u32, capacity: u32) {
        self.in_system += f64::from(n) * weight;
        self.in_queue += f64::from(n.saturating_sub(servers)) * weight;
        if n == capacity {
            self.blocked += weight;
        } else {
            self.admitted += weight;
            if n >= servers {
                self.waiting += weight;
            }
        }
    }

    /// Divides every sum by `factor`.
    fn rescale(&mut self, factor: f64) {
        for sum in [
            &mut self.admitted,
            &mut self.blocked,
            &mut self.waiting,
            &mut self.in_system,
            &mut self.in_queue,
        ] {
            *sum /= factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let tolerance = relative * expected.abs().max(f64::MIN_POSITIVE);
        assert!((actual - expected).abs() <= tolerance, "{actual} vs {expected} (relative {relative})");
    }

    fn assert_metrics_close(actual: &StationMetrics, expected: &StationMetrics, relative: f64) {
        assert_close(actual.throughput, expected.throughput, relative);
        assert_close(actual.utilization, expected.utilization, relative);
        assert_close(actual.mean_wait, expected.mean_wait, relative);
        assert_close(actual.mean_sojourn, expected.mean_sojourn, relative);
        assert_close(actual.mean_in_queue, expected.mean_in_queue, relative);
        assert_close(actual.mean_in_system, expected.mean_in_system, relative);
        assert_close(actual.prob_wait, expected.prob_wait, relative);
        assert_close(actual.drop_probability, expected.drop_probability, relative);
    }

    fn assert_finite(metrics: &StationMetrics) {
        let fields = [
            metrics.throughput,
            metrics.utilization,
            metrics.mean_wait,
            metrics.mean_sojourn,
            metrics.mean_in_queue,
            metrics.mean_in_system,
            metrics.prob_wait,
            metrics.drop_probability,
        ];
        assert!(fields.iter().all(|x| x.is_finite()), "{metrics:?}");
    }

    /// a^k / k!, the Poisson term of the factorial formulas.
    fn poisson_term(a: f64, k: u32) -> f64 {
        (1..=k).map(|j| a / f64::from(j)).product()
    }

    /// Erlang B by its defining formula (a^c/c!) / Σ_{k=0..c} a^k/k!.
    fn erlang_b_by_factorials(c: u32, a: f64) -> f64 {
        poisson_term(a, c) / (0..=c).map(|k| poisson_term(a, k)).sum::<f64>()
    }

    /// Erlang C by its defining formula: with P = (a^c/c!) c/(c − a),
    /// C = P / (Σ_{k=0..c−1} a^k/k! + P).
    fn erlang_c_by_factorials(c: u32, a: f64) -> f64 {
        let waiting = poisson_term(a, c) * f64::from(c) / (f64::from(c) - a);
        waiting / ((0..c).map(|k| poisson_term(a, k)).sum::<f64>() + waiting)
    }

    /// Erlang B from the top-down series 1/B = Σ_{m=0..c} c! / ((c − m)! a^m), summed from the
    /// m = 0 end, unlike the recursion, which starts from B(0).
    fn erlang_b_by_series(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for m in 1..=c {
            term *= f64::from(c - m + 1) / a;
            sum += term;
        }
        1.0 / sum
    }

    #[test]
    fn erlang_b_matches_published_tables() {
        // Erlang B tables print 0.01838 for c = 10, a = 5; allow half a unit in the last digit.
        assert!((erlang_b(10, 5.0) - 0.018_38).abs() <= 5e-6);
        // By hand: Σ_{k=0..5} 2^k/k! = 1 + 2 + 2 + 4/3 + 2/3 + 4/15 = 109/15 and 2^5/5! = 4/15,
        // so B(5, 2) = 4/109.
        assert_close(erlang_b(5, 2.0), 4.0 / 109.0, 1e-14);
        // By hand: B(1, a) = a / (1 + a).
        assert_close(erlang_b(1, 3.0), 0.75, 1e-15);
    }

    #[test]
    fn erlang_b_agrees_with_factorial_formula() {
        for (c, a) in [(1, 0.5), (3, 2.0), (10, 5.0), (20, 15.0), (15, 40.0)] {
            assert_close(erlang_b(c, a), erlang_b_by_factorials(c, a), 1e-13);
        }
    }

    #[test]
    fn erlang_b_is_stable_for_a_thousand_servers() {
        for a in [950.0, 1200.0, 1e12] {
            assert_close(erlang_b(1000, a), erlang_b_by_series(1000, a), 1e-12);
        }
        // With a = 1e12 nearly everything is blocked: 1/B = 1 + c/a + O((c/a)^2).
        assert_close(erlang_b(1000, 1e12), 1.0 / (1.0 + 1e-9), 1e-15);
        let tiny = erlang_b(1000, 1e-12);
        assert!((0.0..1e-300).contains(&tiny));
        assert!(erlang_b(1000, 1e300) <= 1.0);
    }

    #[test]
    fn erlang_b_edge_loads() {
        assert_close(erlang_b(0, 3.0), 1.0, 0.0);
        assert_close(erlang_b(4, 0.0), 0.0, 0.0);
        assert_close(erlang_b(4, f64::INFINITY), 1.0, 0.0);
    }

    #[test]
    fn erlang_c_matches_hand_computation() {
        // By hand: B(2, 1) = (1/2) / (1 + 1 + 1/2) = 1/5 and rho = 1/2, so
        // C = (1/5) / (1 − (1/2)(4/5)) = (1/5) / (3/5) = 1/3.
        assert_close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-15);
        // M/M/1: the probability of waiting is rho.
        assert_close(erlang_c(1, 0.7), 0.7, 1e-15);
    }

    #[test]
    fn erlang_c_agrees_with_factorial_formula() {
        for (c, a) in [(2, 1.5), (5, 3.5), (10, 8.0), (20, 19.9)] {
            assert_close(erlang_c(c, a), erlang_c_by_factorials(c, a), 1e-12);
        }
    }

    #[test]
    fn erlang_c_is_one_when_saturated_and_zero_without_load() {
        assert_close(erlang_c(3, 3.0), 1.0, 0.0);
        assert_close(erlang_c(3, 7.0), 1.0, 0.0);
        assert_close(erlang_c(0, 1.0), 1.0, 0.0);
        assert_close(erlang_c(3, 0.0), 0.0, 0.0);
    }

    #[test]
    fn mm1_textbook_identities() {
        // M/M/1, lambda = 3, mu = 4, rho = 3/4: L = rho/(1 − rho) = 3, W = 1/(mu − lambda) = 1,
        // Wq = rho/(mu − lambda) = 3/4, Lq = lambda Wq = 9/4, P(wait) = rho.
        let expected = StationMetrics {
            throughput: 3.0,
            utilization: 0.75,
            mean_wait: 0.75,
            mean_sojourn: 1.0,
            mean_in_queue: 2.25,
            mean_in_system: 3.0,
            prob_wait: 0.75,
            drop_probability: 0.0,
        };
        assert_metrics_close(&mmc(3.0, 4.0, 1).expect("stable"), &expected, 1e-14);
    }

    #[test]
    fn mm2_matches_its_closed_form() {
        // M/M/2 with rho = 1/2: L = 2 rho / (1 − rho²) = 4/3 and, with C = 1/3,
        // Wq = C / (2 mu − lambda) = 1/3.
        let metrics = mmc(1.0, 1.0, 2).expect("stable");
        assert_close(metrics.mean_in_system, 4.0 / 3.0, 1e-14);
        assert_close(metrics.mean_wait, 1.0 / 3.0, 1e-14);
        assert_close(metrics.mean_sojourn, 4.0 / 3.0, 1e-14);
    }

    #[test]
    fn mmc_rejects_unstable_and_invalid_input() {
        assert_eq!(mmc(4.0, 4.0, 1), None);
        assert_eq!(mmc(10.0, 1.0, 10), None);
        assert_eq!(mmc(-1.0, 1.0, 1), None);
        assert_eq!(mmc(1.0, 0.0, 1), None);
        assert_eq!(mmc(1.0, 2.0, 0), None);
        assert_eq!(mmc(f64::NAN, 2.0, 1), None);
        assert_eq!(mmc_wait_quantile(1.0, 2.0, 1, 1.0), None);
        assert_eq!(mmc_sojourn_quantile(1.0, 2.0, 1, -0.1), None);
    }

    #[test]
    fn mmc_without_traffic_has_no_wait() {
        let metrics = mmc(0.0, 2.0, 3).expect("stable");
        assert_close(metrics.mean_wait, 0.0, 0.0);
        assert_close(metrics.mean_sojourn, 0.5, 1e-15);
    }

    #[test]
    fn wait_quantile_follows_the_exponential_tail() {
        // M/M/1, lambda = 3, mu = 4: P(Wq > t) = rho e^(−(mu − lambda) t) with rho = 3/4.
        assert_close(mmc_wait_quantile(3.0, 4.0, 1, 0.2).expect("stable"), 0.0, 0.0);
        let t = mmc_wait_quantile(3.0, 4.0, 1, 0.9).expect("stable");
        assert_close(0.75 * (-t).exp(), 0.1, 1e-13);
        // M/M/2, lambda = mu = 1: C = 1/3 (above) and c mu − lambda = 1.
        let t = mmc_wait_quantile(1.0, 1.0, 2, 0.99).expect("stable");
        assert_close((1.0_f64 / 3.0 / 0.01).ln(), t, 1e-13);
    }

    #[test]
    fn sojourn_quantile_of_mm1_is_exponential() {
        // M/M/1 sojourn is Exp(mu − lambda), so its p-quantile is −ln(1 − p)/(mu − lambda).
        for (lambda, mu) in [(3.0, 4.0), (0.1, 1.0), (0.999, 1.0)] {
            for p in [0.01, 0.5, 0.9, 0.999_999] {
                let t = mmc_sojourn_quantile(lambda, mu, 1, p).expect("stable");
                assert_close(t, -(1.0 - p).ln() / (mu - lambda), 1e-11);
            }
        }
    }

    /// P(T > t) for the M/M/c sojourn, term by term as in the textbook form (theta ≠ mu).
    fn sojourn_tail_textbook(c_prob: f64, mu: f64, theta: f64, t: f64) -> f64 {
        let two_phase = (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu);
        (1.0 - c_prob) * (-mu * t).exp() + c_prob * two_phase
    }

    #[test]
    fn sojourn_quantile_hits_the_requested_level() {
        // (lambda, mu, c): theta = c mu − lambda above and below mu.
        for (lambda, mu, c) in [(3.0, 2.0, 3), (3.5, 1.0, 4), (40.0, 0.5, 100)] {
            let c_prob = erlang_c_by_factorials(c, lambda / mu);
            let theta = f64::from(c) * mu - lambda;
            for p in [0.1, 0.5, 0.95, 0.9999] {
                let t = mmc_sojourn_quantile(lambda, mu, c, p).expect("stable");
                assert_close(sojourn_tail_textbook(c_prob, mu, theta, t), 1.0 - p, 1e-10);
            }
        }
    }

    #[test]
    fn sojourn_quantile_handles_equal_rates() {
        // lambda = mu = 1, c = 2: theta = 2 − 1 = mu, so P(E + S > t) = (1 + t) e^(−t) and, with
        // C = 1/3, P(T > t) = (2/3) e^(−t) + (1/3)(1 + t) e^(−t) = e^(−t) (1 + t/3).
        let t = mmc_sojourn_quantile(1.0, 1.0, 2, 0.9).expect("stable");
        assert_close((-t).exp() * (1.0 + t / 3.0), 0.1, 1e-12);
        // Nearly equal rates give nearly the same quantile: no cancellation blow-up.
        let near = mmc_sojourn_quantile(1.0 - 1e-9, 1.0, 2, 0.9).expect("stable");
        assert_close(near, t, 1e-8);
    }

    #[test]
    fn sojourn_quantile_of_zero_is_zero() {
        assert_close(mmc_sojourn_quantile(1.0, 2.0, 3, 0.0).expect("stable"), 0.0, 0.0);
    }

    #[test]
    fn extreme_sizes_and_rates_stay_finite() {
        let big = mmc(900e12, 1e12, 1000).expect("stable");
        assert_finite(&big);
        assert_close(big.utilization, 0.9, 1e-12);
        let slow = mmc(0.5e-12, 1e-12, 1).expect("stable");
        // M/M/1: W = 1/(mu − lambda) = 2e12 s.
        assert_close(slow.mean_sojourn, 2e12, 1e-12);
        for (lambda, mu, c) in [(900e12, 1e12, 1000), (0.5e-12, 1e-12, 1), (999.999, 1.0, 1000)] {
            assert_finite(&mmc(lambda, mu, c).expect("stable"));
            assert!(mmc_wait_quantile(lambda, mu, c, 0.99).expect("stable").is_finite());
            assert!(mmc_sojourn_quantile(lambda, mu, c, 0.99).expect("stable").is_finite());
        }
        assert_finite(&mmck(1.5e15, 1e12, 1000, 5000).expect("valid"));
        assert_finite(&mmck(1e-12, 1e12, 1000, 5000).expect("valid"));
        assert_finite(&mmck(1e12, 1e-12, 1000, 5000).expect("valid"));
        assert_finite(&erlang_loss(1e12, 1e-12, 1000));
        assert_finite(&allen_cunneen(900e12, 1e-12, 1000, 2.0, 0.5).expect("stable"));
    }

    #[test]
    fn mmck_with_huge_capacity_approaches_mmc() {
        // The truncated tail weighs rho^(K − c), about 0.75^5000 here: far below rounding.
        for (lambda, mu, c) in [(3.0, 4.0, 1), (3.0, 4.0, 2), (45.0, 1.0, 50)] {
            let finite = mmck(lambda, mu, c, 5000).expect("valid");
            assert!(finite.drop_probability < 1e-200);
            let infinite = mmc(lambda, mu, c).expect("stable");
            let expected = StationMetrics { drop_probability: finite.drop_probability, ..infinite };
            assert_metrics_close(&finite, &expected, 1e-10);
        }
    }

    #[test]
    fn mmck_without_waiting_room_is_erlang_loss() {
        for (lambda, mu, c) in [(8.0, 1.0, 10), (3.0, 2.0, 1), (120.0, 0.1, 1000)] {
            let finite = mmck(lambda, mu, c, c).expect("valid");
            assert_metrics_close(&finite, &erlang_loss(lambda, mu, c), 1e-11);
        }
    }

    #[test]
    fn erlang_loss_matches_factorial_formula() {
        // M/M/10/10 with a = 8: B from the factorial formula; throughput lambda (1 − B).
        let blocking = erlang_b_by_factorials(10, 8.0);
        let metrics = erlang_loss(8.0, 1.0, 10);
        assert_close(metrics.drop_probability, blocking, 1e-13);
        assert_close(metrics.throughput, 8.0 * (1.0 - blocking), 1e-13);
        assert_close(metrics.mean_sojourn, 1.0, 0.0);
        // Overloaded: throughput tends to c mu = 1000 per second.
        assert_close(erlang_loss(1e12, 1.0, 1000).throughput, 1000.0, 1e-8);
        // No servers: everything is dropped.
        let none = erlang_loss(5.0, 1.0, 0);
        assert_close(none.drop_probability, 1.0, 0.0);
        assert_finite(&none);
    }

    /// M/M/1/K closed forms for rho ≠ 1 (Gross & Harris, Fundamentals of Queueing Theory):
    /// `p_0 = (1 − rho)/(1 − rho^(K+1))`, `p_K = p_0 rho^K` and
    /// `L = rho/(1 − rho) − (K + 1) rho^(K+1)/(1 − rho^(K+1))`.
    fn mm1k_closed_form(rho: f64, capacity: i32) -> (f64, f64, f64) {
        let norm = 1.0 - rho.powi(capacity + 1);
        let p0 = (1.0 - rho) / norm;
        let in_system = rho / (1.0 - rho) - f64::from(capacity + 1) * rho.powi(capacity + 1) / norm;
        (p0, p0 * rho.powi(capacity), in_system)
    }

    #[test]
    fn mm1k_matches_closed_form() {
        for rho in [0.3, 0.8, 1.25, 2.0] {
            let (p0, p_full, in_system) = mm1k_closed_form(rho, 5);
            let metrics = mmck(rho, 1.0, 1, 5).expect("valid");
            assert_close(metrics.drop_probability, p_full, 1e-13);
            assert_close(metrics.mean_in_system, in_system, 1e-13);
            assert_close(metrics.throughput, rho * (1.0 - p_full), 1e-13);
            // An admitted arrival waits unless it finds the station empty.
            assert_close(metrics.prob_wait, (1.0 - p0 - p_full) / (1.0 - p_full), 1e-13);
        }
        // rho = 1: all K + 1 states are equally likely, so p_K = 1/(K + 1) and L = K/2.
        let metrics = mmck(1.0, 1.0, 1, 5).expect("valid");
        assert_close(metrics.drop_probability, 1.0 / 6.0, 1e-14);
        assert_close(metrics.mean_in_system, 2.5, 1e-14);
    }

    #[test]
    fn mmck_overloaded_with_many_servers() {
        // c = 1000, K = 5000, rho = 1.5: the mass sits near K, where K − n is geometric with
        // ratio 1/rho, so every server is busy (throughput c mu = 1000), the drop probability is
        // 1 − 1000/1500 = 1/3 and L = K − (1/rho)/(1 − 1/rho) = 5000 − 2.
        let metrics = mmck(1500.0, 1.0, 1000, 5000).expect("valid");
        assert_close(metrics.throughput, 1000.0, 1e-10);
        assert_close(metrics.drop_probability, 1.0 / 3.0, 1e-10);
        assert_close(metrics.mean_in_system, 4998.0, 1e-10);
        assert_close(metrics.prob_wait, 1.0, 1e-10);
    }

    #[test]
    fn mmck_rejects_invalid_input() {
        assert_eq!(mmck(1.0, 1.0, 3, 2), None);
        assert_eq!(mmck(0.0, 1.0, 1, 2), None);
        assert_eq!(mmck(1.0, -1.0, 1, 2), None);
        assert_eq!(mmck(1.0, 1.0, 0, 2), None);
        assert_eq!(mmck(f64::INFINITY, 1.0, 1, 2), None);
    }

    #[test]
    fn mg1_with_exponential_service_is_mm1() {
        let expected = mmc(3.0, 4.0, 1).expect("stable");
        assert_metrics_close(&mg1(3.0, 0.25, 1.0).expect("stable"), &expected, 1e-14);
    }

    #[test]
    fn md1_waits_half_as_long_as_mm1() {
        // M/D/1: Wq = rho E[S] / (2 (1 − rho)); lambda = 0.5, E[S] = 1 gives 0.5 / 1 = 0.5.
        let metrics = mg1(0.5, 1.0, 0.0).expect("stable");
        assert_close(metrics.mean_wait, 0.5, 1e-15);
        assert_close(metrics.mean_sojourn, 1.5, 1e-15);
        assert_close(metrics.mean_in_queue, 0.25, 1e-15);
        assert_eq!(mg1(1.0, 1.0, 0.0), None);
        assert_eq!(mg1(0.5, 1.0, -1.0), None);
    }

    #[test]
    fn mg_inf_has_no_wait() {
        // L = lambda E[S] = 7 × 3 = 21, W = E[S].
        let metrics = mg_inf(7.0, 3.0);
        assert_close(metrics.mean_in_system, 21.0, 1e-15);
        assert_close(metrics.mean_sojourn, 3.0, 0.0);
        assert_close(metrics.mean_wait, 0.0, 0.0);
        assert_finite(&metrics);
    }

    #[test]
    fn kingman_with_poisson_arrivals_and_exponential_service_is_mm1() {
        let expected = mmc(3.0, 4.0, 1).expect("stable");
        assert_metrics_close(&kingman(3.0, 0.25, 1.0, 1.0).expect("stable"), &expected, 1e-14);
        // Deterministic arrivals and service: Wq = 0.
        assert_close(kingman(3.0, 0.25, 0.0, 0.0).expect("stable").mean_wait, 0.0, 0.0);
        assert_eq!(kingman(4.0, 0.25, 1.0, 1.0), None);
    }

    #[test]
    fn allen_cunneen_is_exact_for_mmc_and_scales_with_variability() {
        let exact = mmc(5.0, 2.0, 3).expect("stable");
        let approximate = allen_cunneen(5.0, 0.5, 3, 1.0, 1.0).expect("stable");
        assert_metrics_close(&approximate, &exact, 1e-14);
        // (Ca² + Cs²)/2 = (3 + 1)/2 doubles the M/M/c wait.
        let bursty = allen_cunneen(5.0, 0.5, 3, 3.0, 1.0).expect("stable");
        assert_close(bursty.mean_wait, 2.0 * exact.mean_wait, 1e-14);
        assert_eq!(allen_cunneen(6.0, 0.5, 3, 1.0, 1.0), None);
        assert_eq!(allen_cunneen(1.0, 0.0, 3, 1.0, 1.0), None);
    }

    #[test]
    fn time_to_reach_a_level() {
        // Growth 2 per second from 10 to 30: 20 / 2 = 10 s.
        assert_eq!(time_to_reach(2.0, 10.0, 30.0), Some(10.0));
        assert_eq!(time_to_reach(-1.0, 10.0, 5.0), Some(0.0));
        assert_eq!(time_to_reach(0.0, 10.0, 30.0), None);
        assert_eq!(time_to_reach(-1.0, 10.0, 30.0), None);
        assert_eq!(time_to_reach(f64::NAN, 10.0, 30.0), None);
    }
}
