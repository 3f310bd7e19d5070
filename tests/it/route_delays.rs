//! Route delays: a deterministic delay on a route adds exactly its value to every message's
//! latency, under common random numbers.
//!
//! # Tolerances
//! One Bonferroni family with the other feature tests, [`FEATURES`] (see
//! [`Family`](crate::support::Family)): every simulated mean is compared with theory through an
//! interval over its 42 checks; every 95% half-width must also be at most 2% of the theory value,
//! so that a loose interval cannot hide a wrong simulator. Seed 1 everywhere, never re-seeded to
//! pass.
//! Figures the library computes without simulating (`analyze`) are compared with ours to
//! [`EXACT`](crate::support::EXACT) relative: rounding only.

use kendall::stats::SourceMetric;

use crate::support::{FEATURES, ScenarioBuilder, analysis, assert_analyzed, simulate, source_figure, value};

/// A Poisson source (λ = 0.5/s) into q (M/M/1, μ = 1/s), which routes to r (one worker,
/// exponential, mean 0.8 s) over a route with `delay` (a TOML distribution, or nothing).
fn delayed_tandem(warmup_s: f64, delay: Option<&str>) -> String {
    let delay = delay.map_or_else(String::new, |delay| format!(", delay = {delay}"));
    ScenarioBuilder::simulated(50_000.0, warmup_s, 20)
        .source("producer", "q", 0.5, "")
        .node("q", 1, 1.0, &format!("routes = [{{ to = \"r\"{delay} }}]"))
        .node("r", 1, 0.8, "")
        .toml()
}

/// Route delays: q → r with a deterministic delay of d = 0.75 s, against the same route without
/// delay, same seed.
///
/// Theory: a deterministic delay shifts the Poisson output of q (Burke) by d, which leaves it
/// Poisson, so the latency is W_q + d + W_r = 1/(1 − 0.5) + 0.75 + 1/(1.25 − 0.5)
/// = 2 + 0.75 + 1.333333 = 4.083333 s, `analyze`'s figure to 1e-9 (and 3.333333 s without the
/// delay).
///
/// Common random numbers make more than that provable. Source arrivals, q's and r's services
/// and q's routing each draw from their own stream, and a deterministic delay draws nothing that
/// another entity uses, so q's sample path is the same in both runs and r's is the same shifted
/// by d: every message's latency grows by exactly d, up to rounding of the event times (about
/// 1e-12 s per addition near t = 5e4 s). The two runs do not deliver the same messages in the
/// same window, though: with the delay, the messages leaving q during the last d seconds are
/// still in transit at the horizon, and those that left q just before the warm-up ends are
/// delivered after it. Shifting the delayed run's warm-up by d makes the windows match: a
/// message is delivered at time t + d in the window [W + d, W + d + T] exactly when it is
/// delivered at t in [W, W + T] without the delay. So per replication, the delivered counts are
/// equal and the mean latencies differ by d, to 1e-8 s (rounding: each of r's event times is a
/// chain of additions within a busy period, each rounding at most 1.8e-12 s; the sums of about
/// 2.5e4 latencies round to a relative 2.5e4 · 1.1e-16 each).
///
/// 1 CI check: the delayed run's latency.
#[test]
fn a_route_delay_adds_exactly_its_value_to_the_latency() {
    let (lambda, delay_s, warmup_s): (f64, f64, f64) = (0.5, 0.75, 1000.0);
    let latency = 1.0 / (1.0 - lambda) + delay_s + 1.0 / (1.25 - lambda);
    assert!((latency - 4.083_333).abs() < 1e-6, "{latency}");
    let deterministic = format!("{{ dist = \"deterministic\", value = {delay_s:?} }}");
    let theory = analysis(&delayed_tandem(warmup_s, Some(&deterministic)));
    assert_analyzed(
        "route delay analyze latency",
        source_figure(&theory, SourceMetric::LatencyMean),
        latency,
    );

    // 4 events per message (the transit included): 20 × 5.1e4 s × 2 = 2e6 events per run.
    let plain = simulate(&delayed_tandem(warmup_s, None));
    let delayed = simulate(&delayed_tandem(warmup_s + delay_s, Some(&deterministic)));
    FEATURES.assert_mean(
        "route delay latency",
        delayed.summary.sources[0].get(SourceMetric::LatencyMean),
        latency,
    );
    for (without, with) in plain.replications.iter().zip(&delayed.replications) {
        let context = format!("replication {}", with.index);
        let (without_source, with_source) = (&without.sources[0], &with.sources[0]);
        assert_eq!(without_source.delivered, with_source.delivered, "{context}");
        let difference = value(&with_source.metrics, SourceMetric::LatencyMean)
            - value(&without_source.metrics, SourceMetric::LatencyMean);
        println!("{context}: latency difference − d = {:.3e} s", difference - delay_s);
        assert!((difference - delay_s).abs() <= 1e-8, "{context}: difference {difference}");
    }
}
