//! Resolving a variation's path in what the file says, and editing it there. Each edit carries
//! a position of its own past the end of any text, so that a problem the checks find at it names
//! its variation.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;

use super::{Variation, VariationError};
use crate::scenario::distributions::accepted_fields;
use crate::scenario::raw::{RawDistribution, RawNode, RawScenario, RawServers, RawSimulation, RawSource};
use crate::scenario::settings::Overrides;
use crate::scenario::units::Seconds;

/// Offset of the first variation's edits: variation i edits at `VIRTUAL_START + i`.
const VIRTUAL_START: usize = usize::MAX / 2;
/// Offset of a table edited by several variations.
const SHARED: usize = usize::MAX;

/// The fields of a node a variation can set, besides its service's parameters.
const NODE_FIELDS: [&str; 4] = ["servers", "capacity", "ttl", "per_byte"];
/// The fields of the `[simulation]` table a variation can set.
const SIMULATION_FIELDS: [&str; 6] =
    ["duration", "warmup", "replications", "seed", "max_in_system", "sample_every"];
/// The parameters of an inter-arrival distribution that set its mean, which a schedule sets
/// instead.
const MEAN_PARAMETERS: [&str; 3] = ["rate", "mean", "value"];
/// Every parameter of a distribution table.
const DISTRIBUTION_PARAMETERS: [&str; 7] = ["rate", "mean", "value", "cv", "k", "min", "max"];

/// The index of the variation whose edit is at `offset`, if it is one variation's.
pub(super) fn variation_at(offset: usize) -> Option<usize> {
    (VIRTUAL_START..SHARED).contains(&offset).then(|| offset - VIRTUAL_START)
}

/// Applies variation number `index` (counting every variation of the scenario) to the file's
/// contents; a duration, warm-up, replication count or seed it sets replaces the override.
pub(super) fn apply(
    raw: &mut RawScenario,
    overrides: &mut Overrides,
    variation: &Variation,
    index: usize,
) -> Result<(), VariationError> {
    let at = VIRTUAL_START + index;
    let span = at..at;
    let path = variation.path();
    let (kind, rest) = path.split_once('.').unwrap_or((path, ""));
    match kind {
        "load" if rest.is_empty() => scale_load(raw, variation, &span),
        "simulation" => edit_simulation(raw, overrides, variation, rest, span),
        "node" => {
            let (index, field) = find(&raw.node, rest, path, "node", |node: &RawNode| node.name.get_ref())?;
            edit_node(raw.node[index].get_mut(), field, variation, span)
        }
        "source" => {
            let (index, field) =
                find(&raw.source, rest, path, "source", |source: &RawSource| source.name.get_ref())?;
            edit_source(raw.source[index].get_mut(), field, variation, span)
        }
        _ => Err(path_error(path, "a path is load, simulation.FIELD, node.NAME.FIELD or source.NAME.FIELD")),
    }
}

/// Every numeric path of the scenario, in file order.
pub(in crate::scenario) fn numeric_paths(raw: &RawScenario) -> Vec<String> {
    let mut paths = vec!["load".to_owned()];
    paths.extend(SIMULATION_FIELDS.iter().map(|field| format!("simulation.{field}")));
    for node in &raw.node {
        let node = node.get_ref();
        paths.extend(
            node_fields(node).into_iter().map(|field| format!("node.{}.{field}", node.name.get_ref())),
        );
    }
    for source in &raw.source {
        let source = source.get_ref();
        paths.extend(
            source_fields(source)
                .into_iter()
                .map(|field| format!("source.{}.{field}", source.name.get_ref())),
        );
    }
    paths
}

/// A node's settable fields: [`NODE_FIELDS`] (but `servers` when they follow a schedule) and
/// its service's parameters.
fn node_fields(node: &RawNode) -> Vec<String> {
    let mut fields: Vec<String> = NODE_FIELDS
        .iter()
        .filter(|&&field| field != "servers" || node.servers_schedule.is_none())
        .map(|&field| field.to_owned())
        .collect();
    fields.extend(parameters("service", &node.service));
    fields
}

/// A source's settable fields: the parameters of the distributions it has (of its inter-arrival
/// distribution only those of its shape when a schedule sets the rate), and its population when
/// it is closed.
fn source_fields(source: &RawSource) -> Vec<String> {
    let mut fields = Vec::new();
    if let Some(interarrival) = &source.interarrival {
        let shape_only = |field: &String| {
            source.schedule.is_none() || !MEAN_PARAMETERS.iter().any(|p| field.ends_with(&format!(".{p}")))
        };
        fields.extend(parameters("interarrival", interarrival).into_iter().filter(shape_only));
    }
    if source.population.is_some() {
        fields.push("population".to_owned());
    }
    if let Some(think) = &source.think {
        fields.extend(parameters("think", think));
    }
    if let Some(size) = &source.size {
        fields.extend(parameters("size", size));
    }
    fields
}

/// `field.PARAM` for each parameter the distribution's family takes.
fn parameters<V>(field: &str, distribution: &Spanned<RawDistribution<V>>) -> Vec<String> {
    let family = distribution.get_ref().dist.get_ref();
    accepted_fields(family).unwrap_or(&[]).iter().map(|param| format!("{field}.{param}")).collect()
}

fn path_error(path: &str, reason: impl Into<String>) -> VariationError {
    VariationError::Path { path: path.to_owned(), reason: reason.into() }
}

/// The entity whose name starts `rest` (the longest, as names may hold dots), with the field
/// after its name.
fn find<'r, T>(
    entities: &[Spanned<T>],
    rest: &'r str,
    path: &str,
    kind: &str,
    name: impl Fn(&T) -> &String,
) -> Result<(usize, &'r str), VariationError> {
    let found = entities
        .iter()
        .enumerate()
        .filter_map(|(index, entity)| {
            let after = rest.strip_prefix(name(entity.get_ref()).as_str())?;
            Some((index, after.strip_prefix('.')?))
        })
        .min_by_key(|(_, field)| field.len());
    found.ok_or_else(|| {
        let names: Vec<&str> = entities.iter().map(|entity| name(entity.get_ref()).as_str()).collect();
        match names.iter().find(|&&known| known == rest) {
            Some(known) => path_error(path, format!("{kind} '{known}' needs a field after its name")),
            None => path_error(path, format!("unknown {kind}: the {kind}s are {}", names.join(", "))),
        }
    })
}

/// The variation's value read as a `T`, as a scenario file's value is: a number, or a string
/// such as "50ms" or "infinite".
fn value<T: DeserializeOwned>(variation: &Variation) -> Result<T, VariationError> {
    let text = variation.value();
    let parsed = text.parse::<toml::Value>().unwrap_or_else(|_| toml::Value::String(text.to_owned()));
    T::deserialize(parsed).map_err(|error| VariationError::Value {
        path: variation.path().to_owned(),
        value: text.to_owned(),
        reason: error.message().trim().replace('\n', " "),
    })
}

/// Multiplies the arrival rate of every open source by the variation's factor: its inter-arrival
/// distribution's and each point of its schedule.
fn scale_load(
    raw: &mut RawScenario,
    variation: &Variation,
    span: &Range<usize>,
) -> Result<(), VariationError> {
    let factor: f64 = value(variation)?;
    if !(factor.is_finite() && factor > 0.0) {
        return Err(VariationError::Value {
            path: variation.path().to_owned(),
            value: variation.value().to_owned(),
            reason: "a load factor must be a positive number (1 = the arrival rates in the file)".to_owned(),
        });
    }
    let divide = |field: &mut Option<Seconds>| *field = field.map(|seconds| Seconds(seconds.0 / factor));
    for source in &mut raw.source {
        for point in source.get_mut().schedule.iter_mut().flat_map(Spanned::get_mut) {
            edit_in(&mut point.get_mut().rate, span.clone(), |rate| {
                *rate *= factor;
                Ok(())
            })?;
        }
        if let Some(interarrival) = &mut source.get_mut().interarrival {
            edit_in(interarrival, span.clone(), |dist| {
                dist.rate = dist.rate.map(|rate| rate * factor);
                for field in [&mut dist.mean, &mut dist.value, &mut dist.min, &mut dist.max] {
                    divide(field);
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn edit_simulation(
    raw: &mut RawScenario,
    overrides: &mut Overrides,
    variation: &Variation,
    field: &str,
    span: Range<usize>,
) -> Result<(), VariationError> {
    let simulation =
        raw.simulation.get_or_insert_with(|| Spanned::new(span.clone(), RawSimulation::default()));
    let simulation = simulation.get_mut();
    match field {
        "duration" => (simulation.duration, overrides.duration_s) = (at(&span, value(variation)?), None),
        "warmup" => {
            (simulation.warmup, overrides.warmup_s) = (at(&span, value(variation)?), None);
            overrides.auto_warmup = false;
        }
        "replications" => {
            (simulation.replications, overrides.replications) = (at(&span, value(variation)?), None);
        }
        "seed" => (simulation.seed, overrides.seed) = (at(&span, value(variation)?), None),
        "max_in_system" => simulation.max_in_system = at(&span, value(variation)?),
        "sample_every" => simulation.sample_every = at(&span, value(variation)?),
        _ => {
            let reason = format!(
                "unknown field '{field}' of simulation: valid fields are {}",
                SIMULATION_FIELDS.join(", ")
            );
            return Err(path_error(variation.path(), reason));
        }
    }
    Ok(())
}

/// A field's new value, at the variation's position.
fn at<T>(span: &Range<usize>, value: T) -> Option<Spanned<T>> {
    Some(Spanned::new(span.clone(), value))
}

fn edit_node(
    node: &mut RawNode,
    field: &str,
    variation: &Variation,
    span: Range<usize>,
) -> Result<(), VariationError> {
    match field {
        "servers" if node.servers_schedule.is_some() => {
            let reason = format!(
                "node '{}' follows a servers_schedule, so it has no one number of servers to vary",
                node.name.get_ref()
            );
            return Err(path_error(variation.path(), reason));
        }
        "servers" => node.servers = Some(Spanned::new(span, value::<RawServers>(variation)?)),
        "capacity" => node.capacity = Some(Spanned::new(span, value(variation)?)),
        "ttl" => node.ttl = Some(Spanned::new(span, value(variation)?)),
        "per_byte" => node.per_byte = Some(Spanned::new(span, value(variation)?)),
        _ => match field.strip_prefix("service.") {
            Some(parameter) => {
                let what = format!("node '{}' field 'service'", node.name.get_ref());
                edit_distribution(&mut node.service, parameter, &what, variation, span)?;
            }
            None => {
                let reason = format!(
                    "unknown field '{field}' of node '{}': valid fields are {}",
                    node.name.get_ref(),
                    node_fields(node).join(", ")
                );
                return Err(path_error(variation.path(), reason));
            }
        },
    }
    Ok(())
}

fn edit_source(
    source: &mut RawSource,
    field: &str,
    variation: &Variation,
    span: Range<usize>,
) -> Result<(), VariationError> {
    if field == "population" {
        source.population = Some(Spanned::new(span, value(variation)?));
        return Ok(());
    }
    let name = source.name.get_ref().clone();
    let unknown = |source: &RawSource| {
        let reason = format!(
            "unknown field '{field}' of source '{name}': valid fields are {}",
            source_fields(source).join(", ")
        );
        path_error(variation.path(), reason)
    };
    let Some((table, parameter)) = field.split_once('.') else { return Err(unknown(source)) };
    if table == "interarrival" && source.schedule.is_some() && MEAN_PARAMETERS.contains(&parameter) {
        let reason = format!(
            "source '{name}' follows a schedule, which sets its rate: vary load=FACTOR to scale the schedule"
        );
        return Err(path_error(variation.path(), reason));
    }
    let what = format!("source '{name}' field '{table}'");
    match table {
        "interarrival" | "think" => {
            let slot = if table == "think" { &mut source.think } else { &mut source.interarrival };
            match slot {
                Some(distribution) => edit_distribution(distribution, parameter, &what, variation, span),
                None => Err(unknown(source)),
            }
        }
        "size" => match &mut source.size {
            Some(distribution) => edit_distribution(distribution, parameter, &what, variation, span),
            None => Err(unknown(source)),
        },
        _ => Err(unknown(source)),
    }
}

/// Sets one parameter of a distribution table; `mean` replaces `rate` and `value`, and `rate` or
/// `value` replaces `mean`, as they are alternative ways of giving it.
fn edit_distribution<V: Clone + DeserializeOwned>(
    distribution: &mut Spanned<RawDistribution<V>>,
    parameter: &str,
    what: &str,
    variation: &Variation,
    span: Range<usize>,
) -> Result<(), VariationError> {
    if !DISTRIBUTION_PARAMETERS.contains(&parameter) {
        let family = distribution.get_ref().dist.get_ref();
        let takes = accepted_fields(family).unwrap_or(&[]).join(", ");
        let reason = format!("unknown parameter '{parameter}' of {what}: {family} takes {takes}");
        return Err(path_error(variation.path(), reason));
    }
    edit_in(distribution, span, |dist| {
        match parameter {
            "rate" => (dist.rate, dist.mean) = (Some(value(variation)?), None),
            "mean" => (dist.mean, dist.rate, dist.value) = (Some(value(variation)?), None, None),
            "value" => (dist.value, dist.mean) = (Some(value(variation)?), None),
            "cv" => dist.cv = Some(value(variation)?),
            "k" => dist.k = Some(value(variation)?),
            "min" => dist.min = Some(value(variation)?),
            _ => dist.max = Some(value(variation)?),
        }
        Ok(())
    })
}

/// Edits a table in place and moves it to `span`, or to [`SHARED`] when another variation
/// edited it already.
fn edit_in<T: Clone>(
    field: &mut Spanned<T>,
    span: Range<usize>,
    edit: impl FnOnce(&mut T) -> Result<(), VariationError>,
) -> Result<(), VariationError> {
    let mut edited = field.get_ref().clone();
    edit(&mut edited)?;
    let at = if field.span().start >= VIRTUAL_START && field.span() != span { SHARED..SHARED } else { span };
    *field = Spanned::new(at, edited);
    Ok(())
}
