//! Distribution tables: which fields each family takes, and the validated distribution.

use toml::Spanned;

use super::problems::Problems;
use super::raw::RawDistribution;
use crate::model::Distribution;

/// The fields each family accepts, for error messages.
pub(super) fn accepted_fields(family: &str) -> Option<&'static [&'static str]> {
    Some(match family {
        "exponential" => &["rate", "mean"],
        "deterministic" => &["value", "mean"],
        "uniform" => &["min", "max"],
        "erlang" => &["k", "mean"],
        "gamma" | "lognormal" | "hyperexponential" | "weibull" => &["mean", "cv"],
        _ => return None,
    })
}

pub(super) fn distribution<V: Copy + Into<f64>>(
    raw: &Spanned<RawDistribution<V>>,
    context: &str,
    problems: &mut Problems,
) -> Option<Distribution> {
    let dist = raw.get_ref();
    let family = dist.dist.get_ref().as_str();
    let Some(accepted) = accepted_fields(family) else {
        problems.at(
            dist.dist.span(),
            format!("{context}: unknown distribution '{family}', expected one of exponential, deterministic, uniform, erlang, gamma, lognormal, hyperexponential, weibull"),
        );
        return None;
    };
    let given = [
        ("rate", dist.rate.is_some()),
        ("mean", dist.mean.is_some()),
        ("value", dist.value.is_some()),
        ("cv", dist.cv.is_some()),
        ("k", dist.k.is_some()),
        ("min", dist.min.is_some()),
        ("max", dist.max.is_some()),
    ];
    let stray: Vec<&str> =
        given.iter().filter(|(f, present)| *present && !accepted.contains(f)).map(|(f, _)| *f).collect();
    if !stray.is_empty() {
        let message = format!(
            "{context}: {family} does not take {}; it takes {}",
            stray.join(", "),
            accepted.join(", ")
        );
        problems.at(raw.span(), message);
        return None;
    }
    match build_distribution(family, dist) {
        Ok(built) => Some(built),
        Err(message) => {
            problems.at(raw.span(), format!("{context}: {message}"));
            None
        }
    }
}

fn build_distribution<V: Copy + Into<f64>>(
    family: &str,
    dist: &RawDistribution<V>,
) -> Result<Distribution, String> {
    let mean = dist.mean.map(Into::into);
    let needs = |what: &str| format!("{family} needs {what}");
    let built = match family {
        "exponential" => match (dist.rate, mean) {
            (Some(rate), None) => Distribution::exponential_rate(rate),
            (None, Some(mean)) => Distribution::exponential(mean),
            _ => return Err(needs("exactly one of rate (per second) or mean")),
        },
        "deterministic" => match (dist.value.map(Into::into), mean) {
            (Some(value), None) | (None, Some(value)) => Distribution::deterministic(value),
            _ => return Err(needs("exactly one of value or mean")),
        },
        "uniform" => match (dist.min, dist.max) {
            (Some(min), Some(max)) => Distribution::uniform(min.into(), max.into()),
            _ => return Err(needs("min and max")),
        },
        "erlang" => match (dist.k, mean) {
            (Some(k), Some(mean)) => match u32::try_from(k) {
                Ok(k) => Distribution::erlang(k, mean),
                Err(_) => return Err(format!("erlang needs k >= 1 phases, got {k}")),
            },
            _ => return Err(needs("k (phases) and mean")),
        },
        _ => {
            let (Some(mean), Some(cv)) = (mean, dist.cv) else { return Err(needs("mean and cv")) };
            match family {
                "gamma" => Distribution::gamma(mean, cv),
                "lognormal" => Distribution::lognormal(mean, cv),
                "hyperexponential" => Distribution::hyperexponential(mean, cv),
                _ => Distribution::weibull(mean, cv),
            }
        }
    };
    built.map_err(|error| error.to_string())
}
