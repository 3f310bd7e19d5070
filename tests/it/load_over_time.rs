//! Queue growth over time, against what theory says of it: a step into overload grows at
//! λ − cμ while it lasts and drains at cμ − λ after; an outage's backlog is λ × its length at its
//! end and drains at cμ − λ; the shipped Black Friday scenario's fluid prediction matches the
//! figures its comments quote, derived here by hand from the scenario and its trace, and the
//! simulated mean backlog at the peak.

use std::path::Path;

use kendall::experiment::{self, RunOutcome};
use kendall::scenario::{LoadedScenario, Overrides};
use kendall::stats::{Estimate, ReplicationResult, SeriesMetric, SeriesRow, SeriesScope};

use crate::support::{Family, scenario};

/// The comparisons with theory in this module (Bonferroni), failing by chance once in 100 runs.
const FAMILY: Family = Family { checks: 7, error: 0.01, precision: 0.05 };

fn simulate(toml: &str) -> RunOutcome {
    experiment::simulate(&scenario(toml), None, &|| {}).expect("thread pool")
}

/// The least-squares slope of each replication's mean messages held at node 0 over the
/// intervals ending in `[from, to]`, messages per second, reduced across replications.
fn slope(records: &[ReplicationResult], from: f64, to: f64) -> Option<Estimate> {
    let slopes: Vec<f64> = records
        .iter()
        .map(|record| {
            let series = record.series.as_ref().expect("a time series");
            let points: Vec<(f64, f64)> = series
                .times_s
                .iter()
                .zip(&series.nodes[0].in_system)
                .filter(|(time, _)| (from..=to).contains(*time))
                .map(|(&time, &held)| (time, held))
                .collect();
            let n = points.len() as f64;
            let (mean_t, mean_q) =
                points.iter().fold((0.0, 0.0), |(t, q), &(time, held)| (t + time / n, q + held / n));
            let covariance: f64 = points.iter().map(|&(t, q)| (t - mean_t) * (q - mean_q)).sum();
            let variance: f64 = points.iter().map(|&(t, _)| (t - mean_t).powi(2)).sum();
            covariance / variance
        })
        .collect();
    Estimate::from_values(&slopes)
}

/// The time-series row of `metric` at node `name` for the interval ending at `end_s`.
fn row<'a>(outcome: &'a RunOutcome, name: &str, metric: SeriesMetric, end_s: f64) -> &'a SeriesRow {
    let series = outcome.experiment.summary.series.as_ref().expect("a time series");
    series
        .rows
        .iter()
        .find(|row| {
            row.scope == SeriesScope::Node && row.name == name && row.metric == metric && row.end_s == end_s
        })
        .unwrap_or_else(|| panic!("no {metric:?} row of {name} ending at {end_s}"))
}

#[test]
fn a_step_into_overload_grows_at_lambda_minus_c_mu_and_drains_at_c_mu_minus_lambda() {
    // One server at μ = 10/s; λ = 5/s, then 15/s from 100 s to 300 s, then 5/s again. While
    // overloaded the queue grows at 15 − 10 = 5/s (it reaches about 1000 by 300 s, so it never
    // empties after the first seconds); after, it drains at 10 − 5 = 5/s and is not empty
    // before 500 s, past this run's end.
    let outcome = simulate(
        r#"
        [simulation]
        duration = "400s"
        warmup = "0s"
        replications = 30
        seed = 11
        sample_every = "10s"
        [[source]]
        name = "s"
        to = "n"
        schedule = [{ at = "0s", rate = 5 }, { at = "100s", rate = 15 }, { at = "300s", rate = 5 }]
        [[node]]
        name = "n"
        service = { dist = "exponential", mean = "100ms" }
        "#,
    );
    let records = &outcome.experiment.replications;
    FAMILY.assert_agrees("growth while overloaded (/s)", slope(records, 150.0, 300.0), 5.0, 0.0);
    FAMILY.assert_agrees("drain after the step (/s)", slope(records, 330.0, 400.0), -5.0, 0.0);
}

#[test]
fn an_outage_builds_lambda_times_its_length_and_drains_at_c_mu_minus_lambda() {
    // λ = 5/s into one server at μ = 10/s (M/M/1 at ρ 0.5: L = 1 before the outage). No
    // server from 100 s to 160 s: the backlog grows by λ·60 = 300 (the message in service at
    // 100 s still finishes, within 0.1 s). Over the last second of the outage, [159, 160], the
    // mean held is L + λ·59.5 = 298.5, less the one in service at 100 s (probability ρ = 0.5):
    // 298. The oldest waiting message at 160 s: when nobody waited at 100 s (probability
    // 1 − ρ² = 0.75) it is the first arrival after 100 s, 1/λ = 0.2 s later, aged 59.8 s; else
    // the head of the queue at 100 s, aged 60 s plus its wait so far (about 0.1-0.2 s): 59.9 s
    // within 0.05 s. Then it drains at 10 − 5 = 5/s, empty by about 220 s.
    let outcome = simulate(
        r#"
        [simulation]
        duration = "300s"
        warmup = "0s"
        replications = 30
        seed = 5
        sample_every = "1s"
        [[source]]
        name = "s"
        to = "n"
        interarrival = { dist = "exponential", rate = 5 }
        [[node]]
        name = "n"
        servers_schedule = [{ at = "0s", servers = 1 }, { at = "100s", servers = 0 }, { at = "160s", servers = 1 }]
        service = { dist = "exponential", mean = "100ms" }
        "#,
    );
    let held = row(&outcome, "n", SeriesMetric::InSystem, 160.0);
    FAMILY.assert_agrees("held over the outage's last second", held.estimate, 298.0, 0.5 / 298.0);
    let age = row(&outcome, "n", SeriesMetric::OldestAge, 160.0);
    FAMILY.assert_agrees("oldest waiting age at the outage's end (s)", age.estimate, 59.9, 0.05 / 59.9);
    let records = &outcome.experiment.replications;
    FAMILY.assert_agrees("drain after the outage (/s)", slope(records, 165.0, 205.0), -5.0, 0.0);
}

/// The times of the shipped trace's orders, seconds from its first, and the fraction of them
/// that are checkouts (the orders payments serves). Read here from the CSV, not by kendall.
fn partner_orders() -> (Vec<f64>, f64) {
    let text = std::fs::read_to_string("scenarios/traces/orders.csv").expect("the shipped trace");
    let seconds = |stamp: &str| {
        // 2025-11-28T09:00:10.414Z: every order is on the same day.
        let clock = &stamp[11..stamp.len() - 1];
        let mut parts = clock.split(':').map(|part| part.parse::<f64>().expect("a number"));
        let (h, m, s) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        3600.0 * h + 60.0 * m + s
    };
    let rows: Vec<(f64, &str)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let (time, key) = line.split_once(',').expect("time,key");
            (seconds(time), key)
        })
        .collect();
    let start = rows[0].0;
    let checkouts = rows.iter().filter(|(_, key)| *key == "checkout").count() as f64;
    (rows.iter().map(|(time, _)| time - start).collect(), checkouts / rows.len() as f64)
}

#[test]
fn black_friday_peaks_and_drains_as_its_comments_say() {
    // Payments: 2 consumers at 25/s until 2h10m, 5 until 3h. From 2h the web sends 105/s
    // through the checkout API (200/s, never a queue). The partners' orders go straight to the
    // exchange: the fluid takes the trace's orders counted per 60 s window, of which the
    // trace's share of checkouts goes to payments. The fluid backlog from 2h (empty before:
    // ρ < 1) grows by (105 − 50)·600 plus those checkouts in [2h, 2h10m): its peak, at 2h10m.
    // Then 5 consumers serve 125/s against 105/s (35/s from 2h30m) plus the partners'
    // checkouts: the drain ends where the cumulative surplus covers the peak.
    let (orders, checkout_share) = partner_orders();
    let in_window =
        |from: f64, to: f64| checkout_share * orders.iter().filter(|&&t| t >= from && t < to).count() as f64;
    let peak = 55.0 * 600.0 + in_window(7200.0, 7800.0);
    let mut backlog = peak;
    let mut t = 7800.0;
    let drained_at = loop {
        let web = if t < 9000.0 { 105.0 } else { 35.0 };
        let inflow = web + in_window(t, t + 60.0) / 60.0;
        let surplus = 125.0 - inflow;
        if backlog <= surplus * 60.0 {
            break t + backlog / surplus;
        }
        backlog -= surplus * 60.0;
        t += 60.0;
    };
    // The comments: "a peak of about 33 400 orders at 11:10", "gone around 11:32, some 22
    // minutes after the peak".
    assert!((peak - 33_400.0).abs() < 50.0, "hand-derived peak {peak}");
    assert!((drained_at - 7800.0 - 22.0 * 60.0).abs() < 60.0, "hand-derived drain {drained_at}");

    let path = Path::new("scenarios/black-friday.toml");
    let loaded = LoadedScenario::load(path, &Overrides::default()).expect("the shipped scenario");
    let outcome = experiment::simulate(loaded.scenario(), None, &|| {}).expect("thread pool");
    let analysis = outcome.analysis.as_ref().expect("an analysis");
    let fluid = analysis.fluid.as_ref().expect("a fluid prediction").as_ref().expect("solvable");
    let payments = fluid.peaks().into_iter().find(|peak| peak.name == "payments").expect("payments");
    assert!((payments.peak_backlog - peak).abs() < 1e-6 * peak, "fluid {} vs {peak}", payments.peak_backlog);
    assert!((payments.peak_at_s - 7800.0).abs() < 1e-9, "{}", payments.peak_at_s);
    let drain = payments.drain_s.expect("drained by the horizon");
    assert!((drain - (drained_at - 7800.0)).abs() < 1e-6 * drain, "fluid drain {drain}");

    // The simulated mean held over the minute after the peak against the fluid's mean over it.
    // The burst lasts far longer than the queue's relaxation time, so the fluid limit is
    // accurate to the stationary queue before the burst (about 2 messages: M/M/2 at ρ 0.6).
    let held = row(&outcome, "payments", SeriesMetric::InSystem, 7860.0);
    let theory = held.theory.expect("the fluid prediction beside the series");
    FAMILY.assert_agrees("payments held at the peak", held.estimate, theory, 2.0 / theory);
}
