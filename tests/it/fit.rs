//! `kendall fit` and trace files: maximum-likelihood fits recover the parameters of samples
//! drawn at a fixed seed (within 4 standard errors, from the Fisher information), AIC picks the
//! family the sample came from, the lag-1 band and the stationarity test judge as they should,
//! RFC 3339 timestamps read exactly, the printed line is a scenario kendall accepts, and a bad
//! trace exits 2 naming file, line and column.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Weibull};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;
use statrs::function::gamma::digamma;
use tempfile::TempDir;

use kendall::trace::{Correlation, Family, Fitted, SampleSummary, Stationarity, Trace, fit_arrivals};

use crate::support::{kendall, temp, write_scenario};

const N: usize = 5000;

fn draw(distribution: &impl Distribution<f64>, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..N).map(|_| distribution.sample(&mut rng)).collect()
}

/// A balanced-means hyperexponential: with probability p an exponential of rate 2p/mean, else
/// one of rate 2(1 − p)/mean.
fn hyperexponential(p: f64, mean: f64, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (fast, slow) = (Exp::new(2.0 * p / mean).unwrap(), Exp::new(2.0 * (1.0 - p) / mean).unwrap());
    let coin = rand_distr::Bernoulli::new(p).unwrap();
    (0..N)
        .map(|_| if coin.sample(&mut rng) { fast.sample(&mut rng) } else { slow.sample(&mut rng) })
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn n() -> f64 {
    N as f64
}

fn assert_within(what: &str, estimate: f64, truth: f64, standard_error: f64) {
    assert!(
        (estimate - truth).abs() <= 4.0 * standard_error,
        "{what}: {estimate} is more than 4 standard errors ({standard_error}) from {truth}"
    );
}

fn parameters(fitted: &Fitted) -> Vec<f64> {
    fitted.parameters().iter().map(|(_, value)| *value).collect()
}

#[test]
fn exponential_rate_is_recovered() {
    // λ̂ = 1/x̄ has asymptotic variance λ²/n (Fisher information 1/λ² per value).
    let rate = 250.0;
    let fitted = Family::Exponential.fit(&draw(&Exp::new(rate).unwrap(), 1)).unwrap();
    assert_within("rate", parameters(&fitted)[0], rate, rate / n().sqrt());
}

#[test]
fn gamma_shape_and_scale_are_recovered() {
    // Fisher information per value for (k, θ): [[ψ'(k), 1/θ], [1/θ, k/θ²]], determinant
    // (kψ'(k) − 1)/θ²; so Var(k̂) = k/(n(kψ'(k) − 1)) and Var(θ̂) = ψ'(k)θ²/(n(kψ'(k) − 1)).
    // ψ' here is a central difference of statrs' digamma, independent of the fit's own.
    for (shape, scale, seed) in [(0.6, 0.01, 2), (4.0, 0.5, 3)] {
        let fitted = Family::Gamma.fit(&draw(&Gamma::new(shape, scale).unwrap(), seed)).unwrap();
        let trigamma = (digamma(shape + 1e-5) - digamma(shape - 1e-5)) / 2e-5;
        let determinant = shape * trigamma - 1.0;
        let got = parameters(&fitted);
        assert_within("gamma shape", got[0], shape, (shape / (n() * determinant)).sqrt());
        assert_within("gamma scale", got[1], scale, (trigamma * scale * scale / (n() * determinant)).sqrt());
    }
}

#[test]
fn lognormal_parameters_are_recovered() {
    // μ̂ and σ̂ are the mean and (1/n) standard deviation of ln x: se(μ̂) = σ/√n, se(σ̂) = σ/√(2n).
    let (mu, sigma) = (-4.0, 1.27);
    let fitted = Family::Lognormal.fit(&draw(&LogNormal::new(mu, sigma).unwrap(), 4)).unwrap();
    let got = parameters(&fitted);
    assert_within("lognormal mu", got[0], mu, sigma / n().sqrt());
    assert_within("lognormal sigma", got[1], sigma, sigma / (2.0 * n()).sqrt());
}

#[test]
fn weibull_shape_and_scale_are_recovered() {
    // Fisher information for (λ, k) has determinant π²/(6λ²), so Var(k̂) = 6k²/(π²n) and
    // Var(λ̂) = λ²(1 + 6(1 − γ)²/π²)/(k²n), γ Euler's constant.
    let euler: f64 = 0.577_215_664_901_532_9;
    let pi2 = std::f64::consts::PI.powi(2);
    for (shape, scale, seed) in [(0.7, 2.0, 5), (2.5, 0.003, 6)] {
        let fitted = Family::Weibull.fit(&draw(&Weibull::new(scale, shape).unwrap(), seed)).unwrap();
        let got = parameters(&fitted);
        assert_within("weibull shape", got[0], shape, (6.0 * shape * shape / (pi2 * n())).sqrt());
        let scale_variance =
            scale * scale * (1.0 + 6.0 * (1.0 - euler).powi(2) / pi2) / (shape * shape * n());
        assert_within("weibull scale", got[1], scale, scale_variance.sqrt());
    }
}

#[test]
fn hyperexponential_parameters_are_recovered() {
    // No closed form: the standard errors are those of the observed information, the inverse of
    // minus the Hessian of the log-likelihood in (p, mean) at the estimate (central differences).
    let (p, mean) = (0.85, 0.02);
    let sample = hyperexponential(p, mean, 7);
    let fitted = Family::Hyperexponential.fit(&sample).unwrap();
    let got = parameters(&fitted);
    let likelihood = |q: f64, m: f64| Fitted::Hyperexponential { p: q, mean: m }.log_likelihood(&sample);
    let (hp, hm) = (1e-4, 1e-4 * got[1]);
    let (q, m) = (got[0], got[1]);
    let centre = likelihood(q, m);
    let pp = (likelihood(q + hp, m) - 2.0 * centre + likelihood(q - hp, m)) / (hp * hp);
    let mm = (likelihood(q, m + hm) - 2.0 * centre + likelihood(q, m - hm)) / (hm * hm);
    let pm = (likelihood(q + hp, m + hm) - likelihood(q + hp, m - hm) - likelihood(q - hp, m + hm)
        + likelihood(q - hp, m - hm))
        / (4.0 * hp * hm);
    let determinant = pp * mm - pm * pm;
    assert!(pp < 0.0 && determinant > 0.0, "the estimate is a maximum");
    assert_within("hyperexponential p", q, p, (-mm / determinant).sqrt());
    assert_within("hyperexponential mean", m, mean, (-pp / determinant).sqrt());
}

fn best(sample: &[f64]) -> Family {
    let mut fits: Vec<(Family, f64)> = Family::ALL
        .iter()
        .filter_map(|family| {
            family
                .fit(sample)
                .map(|f| (*family, 2.0 * family.parameters() as f64 - 2.0 * f.log_likelihood(sample)))
        })
        .collect();
    fits.sort_by(|a, b| a.1.total_cmp(&b.1));
    fits[0].0
}

#[test]
fn aic_picks_the_family_of_the_sample() {
    let cv2_sigma = 5.0_f64.ln().sqrt(); // lognormal cv 2: σ² = ln(1 + cv²)
    assert_eq!(best(&draw(&LogNormal::new(0.0, cv2_sigma).unwrap(), 11)), Family::Lognormal);
    assert_eq!(best(&draw(&Exp::new(3.0).unwrap(), 12)), Family::Exponential);
    assert_eq!(best(&draw(&Gamma::new(4.0, 1.0).unwrap(), 13)), Family::Gamma);
    assert_eq!(best(&draw(&Weibull::new(1.0, 3.0).unwrap(), 14)), Family::Weibull);
    assert_eq!(best(&hyperexponential(0.95, 1.0, 15)), Family::Hyperexponential);
}

#[test]
fn lag1_band_separates_independent_from_correlated_gaps() {
    let independent = SampleSummary::new(&draw(&Exp::new(1.0).unwrap(), 21)).lag1.unwrap();
    assert!((independent.band - 1.96 / n().sqrt()).abs() < 1e-15);
    assert_eq!(independent.correlation, Correlation::Independent, "r = {}", independent.r);
    // An AR(1) log-gap with coefficient 0.6: gaps e^(yᵢ), yᵢ = 0.6 yᵢ₋₁ + εᵢ, correlated far
    // beyond the band (r₁ of the gaps about 0.5).
    let noise = draw(&rand_distr::Normal::new(0.0, 0.5).unwrap(), 22);
    let mut y = 0.0;
    let correlated: Vec<f64> = noise
        .iter()
        .map(|e| {
            y = 0.6 * y + e;
            y.exp()
        })
        .collect();
    let lag1 = SampleSummary::new(&correlated).lag1.unwrap();
    assert_eq!(lag1.correlation, Correlation::Positive, "r = {}", lag1.r);
    assert!(lag1.r > 4.0 * lag1.band);
}

/// Arrival times of a Poisson process of rate 1, at rate × `burst` from a third to two thirds
/// of `span` seconds.
fn arrivals(span: f64, burst: f64, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let exp = Exp::new(1.0).unwrap();
    let rate = |t: f64| if t >= span / 3.0 && t < 2.0 * span / 3.0 { burst } else { 1.0 };
    let mut times = Vec::new();
    // Thinning at the largest rate: exact for a piecewise constant rate.
    let top = burst.max(1.0);
    let mut t: f64 = exp.sample(&mut rng) / top;
    let uniform = rand_distr::Uniform::new(0.0, 1.0).unwrap();
    while t < span {
        if uniform.sample(&mut rng) * top < rate(t) {
            times.push(t);
        }
        t += exp.sample(&mut rng) / top;
    }
    times
}

fn cv(times: &[f64]) -> f64 {
    let gaps: Vec<f64> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    SampleSummary::new(&gaps).cv
}

#[test]
fn stationarity_rejects_a_burst_and_accepts_a_poisson_trace() {
    let poisson = arrivals(3000.0, 1.0, 31);
    let steady = Stationarity::new(&poisson, 300.0, cv(&poisson));
    assert_eq!(steady.windows.len(), 10);
    assert!(steady.stationary, "p = {}", steady.p_value);
    let bursty = arrivals(3000.0, 3.0, 32);
    let burst = Stationarity::new(&bursty, 300.0, cv(&bursty));
    assert!(!burst.stationary && burst.p_value < 1e-10, "p = {}", burst.p_value);
    // The burst's windows (1000 s to 2000 s) run at about 3/s: within 4 Poisson standard errors
    // √(3·300)/300 of 3 where a window lies wholly inside it.
    for window in burst.windows.iter().filter(|w| w.start_s >= 1000.0 && w.end_s <= 2000.0) {
        assert!((window.rate - 3.0).abs() < 4.0 * (900.0_f64).sqrt() / 300.0, "{window:?}");
    }
}

#[test]
fn bursty_but_stationary_gaps_are_not_a_varying_rate() {
    // Hyperexponential gaps of cv 3 (p = 0.9): their counts per window vary about 9 times as
    // much as a Poisson process's, and the test scales its variance by the gaps' cv² for that.
    let gaps = hyperexponential(0.9, 1.0, 33);
    let times: Vec<f64> = gaps
        .iter()
        .scan(0.0, |t, gap| {
            *t += gap;
            Some(*t)
        })
        .collect();
    let test = Stationarity::new(&times, 500.0, cv(&times));
    assert!(test.variance_factor > 4.0, "{}", test.variance_factor);
    assert!(test.stationary, "p = {}", test.p_value);
}

fn write_trace(dir: &TempDir, name: &str, contents: &str) -> PathBuf {
    write_scenario(dir, name, contents)
}

fn gap_trace(times: &[f64]) -> String {
    let mut text = "gap,key\n".to_owned();
    let mut before = 0.0;
    for (i, t) in times.iter().enumerate() {
        let _ = writeln!(text, "{},k{}", t - before, i % 3);
        before = *t;
    }
    text
}

#[test]
fn a_burst_is_fitted_in_scaled_time() {
    // A non-homogeneous Poisson trace has exponential gaps in scaled time, cv 1 with standard
    // error 1/√n (delta method on s/x̄ with the exponential's moments μ₃ = 2, μ₄ = 9), while its
    // raw gaps are over-dispersed by the change of rate. Windows of 250 s meet the burst's ends.
    let dir = temp();
    let path = write_trace(&dir, "burst.csv", &gap_trace(&arrivals(3000.0, 3.0, 41)));
    let report = fit_arrivals(&path, Some(250.0)).unwrap();
    assert!(report.rate_varies());
    let scaled = report.scaled.unwrap();
    #[allow(clippy::cast_precision_loss)]
    let se = 1.0 / (scaled.count as f64).sqrt();
    assert!((scaled.cv - 1.0).abs() < 4.0 * se, "scaled cv {}", scaled.cv);
    assert!(report.sample.cv - 1.0 > 4.0 * se, "raw cv {}", report.sample.cv);
}

#[test]
fn rfc3339_timestamps_give_exact_seconds() {
    let dir = temp();
    let path = write_trace(
        &dir,
        "stamps.csv",
        "time,key\n2025-11-28T09:00:00.250Z,a\n2025-11-28T10:00:00.5+01:00,b\n2025-11-28T04:00:01.125-05:00,a\n2025-11-28T09:01:00Z,c\n",
    );
    let trace = Trace::read(&path).unwrap();
    assert_eq!(trace.times(), [0.0, 0.25, 0.875, 59.75]);
    assert_eq!(trace.keys().unwrap(), ["a", "b", "a", "c"]);
}

#[derive(Deserialize)]
struct FitJson {
    best: String,
    paste: Vec<String>,
    messages: usize,
}

fn fit_cli(path: &Path, extra: &[&str]) -> std::process::Output {
    kendall().arg("fit").arg(path).args(extra).output().expect("kendall runs")
}

/// `kendall check` of a scenario whose source (or node) takes `lines`.
fn check_with(dir: &TempDir, source_lines: &str, service: &str) {
    let text = format!(
        "[[source]]\nname = \"orders\"\nto = \"shop\"\n{source_lines}\n\n[[node]]\nname = \"shop\"\nservice = {service}\n"
    );
    let path = write_scenario(dir, "pasted.toml", &text);
    let output = kendall().arg("check").arg(&path).output().expect("kendall runs");
    assert!(output.status.success(), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn the_printed_line_is_a_scenario_kendall_accepts() {
    let dir = temp();
    let times: Vec<f64> = arrivals(2000.0, 1.0, 51);
    let mut text = "time,service\n".to_owned();
    let services = draw(&Gamma::new(2.0, 0.2).unwrap(), 52);
    for (t, s) in times.iter().zip(&services) {
        let _ = writeln!(text, "{t},{s}");
    }
    let path = write_trace(&dir, "trace.csv", &text);
    let output = fit_cli(&path, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout.lines().find(|l| l.starts_with("interarrival = {")).expect("an interarrival line");
    assert!(stdout.contains("a constant rate is accepted"), "{stdout}");
    check_with(&dir, line, "{ dist = \"exponential\", mean = \"0.5s\" }");

    let output = fit_cli(&path, &["--column", "service", "--format", "json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: FitJson = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json.messages, times.len());
    assert_eq!(json.best, "gamma");
    let service = json.paste[0].strip_prefix("service = ").expect("a service line");
    check_with(&dir, "interarrival = { dist = \"exponential\", rate = 1 }", service);
}

#[test]
fn a_varying_rate_prints_a_schedule() {
    let dir = temp();
    let path = write_trace(&dir, "burst.csv", &gap_trace(&arrivals(3000.0, 3.0, 61)));
    let output = fit_cli(&path, &["--window", "5m", "--format", "json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: FitJson = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json.paste.len(), 2);
    let schedule = &json.paste[1];
    assert!(schedule.starts_with("schedule = [\n  { at = \"0s\", rate = "), "{schedule}");
    assert_eq!(schedule.matches("{ at = ").count(), 10, "{schedule}");
    // The schedule is valid TOML, its points 5 minutes apart.
    let value: toml::Table = toml::from_str(schedule).unwrap();
    let points = value["schedule"].as_array().unwrap();
    assert_eq!(points[1]["at"].as_str(), Some("5m"));
    assert!(points[4]["rate"].as_float().unwrap() > 2.0);
}

#[test]
fn the_shipped_trace_reads() {
    let trace = Trace::read(Path::new("scenarios/traces/orders.csv")).unwrap();
    assert!((3000..=6000).contains(&trace.len()));
    assert!(trace.keys().is_some());
    let report = fit_arrivals(Path::new("scenarios/traces/orders.csv"), None).unwrap();
    assert!(report.rate_varies());
}

fn assert_bad_trace(contents: Option<&str>, extra: &[&str], fragments: &[&str]) {
    let dir = temp();
    let path = match contents {
        Some(contents) => write_trace(&dir, "bad.csv", contents),
        None => dir.path().join("missing.csv"),
    };
    let output = fit_cli(&path, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    assert!(stderr.contains(&path.display().to_string()), "stderr lacks the path: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "stderr lacks {fragment:?}: {stderr}");
    }
}

#[test]
fn bad_traces_exit_2_naming_file_line_and_column() {
    assert_bad_trace(None, &[], &["cannot read trace"]);
    assert_bad_trace(Some(""), &[], &["line 1: no 'time' or 'gap' column; the header is empty"]);
    assert_bad_trace(
        Some("when,key\n1,a\n2,b\n"),
        &[],
        &["line 1: no 'time' or 'gap' column; the header is 'when', 'key'"],
    );
    assert_bad_trace(
        Some("time\n2025-11-28T09:00:00Z\n\n2025-11-28T09:00:01Z\n12:03\n"),
        &[],
        &["line 5, column 'time': '12:03' is neither seconds nor an RFC 3339 timestamp"],
    );
    assert_bad_trace(
        Some("time,key\n1,a\n4.0,b\n3.2,a\n"),
        &[],
        &["line 4, column 'time': 3.2 is earlier than the previous time 4.0 (times must not decrease)"],
    );
    assert_bad_trace(Some("time\n1\n"), &[], &["holds 1 message, and a trace needs at least 2"]);
    assert_bad_trace(
        Some("time,service\n1,0.5\n2,fast\n"),
        &["--column", "service"],
        &["line 3, column 'service': 'fast'"],
    );
    assert_bad_trace(
        Some("time\n0\n1\n2\n"),
        &["--window", "2s"],
        &["a window of 2.000 s leaves fewer than 2 windows", "give a window under 1.333 s"],
    );
    assert_bad_trace(
        Some("time\n5\n5\n5\n"),
        &[],
        &["0 of the 2 values are positive, and fitting needs at least 2"],
    );
}
