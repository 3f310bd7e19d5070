//! Nodes: servers (a count, or a schedule of them), capacity, overflow, discipline, routes and
//! expiry.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::classes::class_service;
use super::distributions::distribution;
use super::exchanges::PROBABILITY_TOLERANCE;
use super::names::unknown_node;
use super::problems::Problems;
use super::raw::{RawNode, RawRoute, RawServers};
use super::schedules::{ScheduleField, schedule, without_schedule};
use super::settings::bounded_integer;
use crate::model::{Discipline, Node, Overflow, Route, Routing, Schedule, Servers, Shape, Target};

pub(super) fn convert_node(
    raw: &Spanned<RawNode>,
    names: &HashMap<String, Target>,
    classes: &[String],
    problems: &mut Problems,
) -> Option<Node> {
    let node = raw.get_ref();
    let context = format!("node '{}'", node.name.get_ref());
    let servers_schedule = servers_schedule(node, &context, problems);
    let servers = match &servers_schedule {
        Some(Some(schedule)) => Servers::Finite(most_servers(schedule)),
        _ => servers(node, &context, problems),
    };
    let capacity = capacity(node, &context, servers, problems);
    let overflow = overflow(node, &context, problems);
    let discipline = discipline(node, &context, problems);
    let service = distribution(&node.service, &format!("{context} field 'service'"), problems);
    let class_service = class_service(node, classes, &context, problems);
    let routing = routing(node.routes.as_deref().unwrap_or(&[]), raw.span(), &context, names, problems);
    let (ttl, dead_letter) = expiry(node, &context, names, problems);
    let join = match &node.join {
        None => Some(None),
        Some(field) => match names.get(field.get_ref()) {
            Some(&Target::Exchange(id)) => Some(Some(id)),
            _ => {
                let message = format!(
                    "{context} field 'join': '{}' is not an exchange; join names the fork exchange whose parts this node gathers",
                    field.get_ref()
                );
                problems.at(field.span(), message);
                None
            }
        },
    };
    Some(Node {
        name: node.name.get_ref().clone(),
        servers,
        servers_schedule: servers_schedule?,
        service: service?,
        capacity: capacity?,
        overflow: overflow?,
        discipline: discipline?,
        routing: routing?,
        ttl: ttl?,
        dead_letter: dead_letter?,
        join: join?,
        per_byte: node.per_byte.as_ref().map_or(0.0, |b| b.get_ref().0),
        class_service: class_service?,
    })
}

/// The node's TTL (positive) and dead-letter target (which needs a TTL).
fn expiry(
    node: &RawNode,
    context: &str,
    names: &HashMap<String, Target>,
    problems: &mut Problems,
) -> (Option<Option<f64>>, Option<Option<Target>>) {
    let ttl = match &node.ttl {
        None => Some(None),
        Some(field) if field.get_ref().0 > 0.0 => Some(Some(field.get_ref().0)),
        Some(field) => {
            problems.at(
                field.span(),
                format!("{context} field 'ttl' must be positive, got {}s", field.get_ref().0),
            );
            None
        }
    };
    let dead_letter = match &node.dead_letter {
        None => Some(None),
        Some(field) if node.ttl.is_none() => {
            problems.at(field.span(), format!("{context} field 'dead_letter': only expired messages are dead-lettered, so it needs a ttl"));
            None
        }
        Some(field) => match field.get_ref().as_str() {
            "exit" => Some(Some(Target::Exit)),
            name => match names.get(name) {
                Some(&target) => Some(Some(target)),
                None => {
                    problems.at(field.span(), unknown_node(context, "dead_letter", name, names));
                    None
                }
            },
        },
    };
    (ttl, dead_letter)
}

/// Most servers a node may have; more is better written `servers = "infinite"`.
const MAX_SERVERS: i64 = 1_000_000;

fn servers(node: &RawNode, context: &str, problems: &mut Problems) -> Servers {
    let Some(field) = &node.servers else { return Servers::Finite(1) };
    match *field.get_ref() {
        RawServers::Infinite => Servers::Infinite,
        RawServers::Count(count) => {
            let spanned = Spanned::new(field.span(), count);
            let what = format!("{context} field 'servers'");
            let count = bounded_integer(Some(&spanned), &what, 1, MAX_SERVERS, problems);
            Servers::Finite(count.and_then(|c| u32::try_from(c).ok()).unwrap_or(1))
        }
    }
}

/// The node's servers over time, when it gives `servers_schedule` (whole numbers, in steps,
/// at least one point with a server) instead of `servers`.
fn servers_schedule(node: &RawNode, context: &str, problems: &mut Problems) -> Option<Option<Schedule>> {
    let Some(list) = &node.servers_schedule else {
        without_schedule(node.repeat.as_ref(), context, "repeat", "servers_schedule", problems);
        return Some(None);
    };
    if let Some(servers) = &node.servers {
        let message = format!(
            "{context}: give either 'servers' or 'servers_schedule', not both (with a schedule the node has at most its largest count)"
        );
        problems.at(servers.span(), message);
        return None;
    }
    let field = ScheduleField { context, name: "servers_schedule", check: servers_problem };
    let schedule = schedule(&field, list, Shape::Step, node.repeat.as_ref(), problems)?;
    if schedule.max() == 0.0 {
        let message = format!(
            "{context} field 'servers_schedule' never has a server: at least one point needs servers > 0"
        );
        problems.at(list.span(), message);
        return None;
    }
    Some(Some(schedule))
}

/// Why a scheduled number of servers is refused, or `None`.
fn servers_problem(servers: f64) -> Option<String> {
    #[allow(clippy::cast_precision_loss)] // a small bound
    let whole = servers.fract() == 0.0 && (0.0..=MAX_SERVERS as f64).contains(&servers);
    (!whole).then(|| format!("'servers' must be a whole number from 0 to {MAX_SERVERS}, got {servers}"))
}

/// The largest count of a servers schedule (whole numbers within [`MAX_SERVERS`]).
fn most_servers(schedule: &Schedule) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked whole, 0..=10^6
    let most = schedule.max() as u32;
    most
}

fn capacity(node: &RawNode, context: &str, servers: Servers, problems: &mut Problems) -> Option<Option<u32>> {
    let Some(field) = &node.capacity else { return Some(None) };
    let Servers::Finite(servers) = servers else {
        let message = format!(
            "{context} field 'capacity': a node with infinitely many servers never queues; for a loss system write servers = K and capacity = K"
        );
        problems.at(field.span(), message);
        return None;
    };
    let what = format!("{context} field 'capacity'");
    let value = bounded_integer(Some(field), &what, 1, u32::MAX.into(), problems)?;
    let capacity = u32::try_from(value).ok()?;
    if capacity < servers {
        problems.at(
            field.span(),
            format!(
                "{what} ({capacity}) counts waiting and in-service messages, so it must be at least {} ({servers})",
                if node.servers_schedule.is_some() { "the servers_schedule's largest count" } else { "servers" }
            ),
        );
        return None;
    }
    Some(Some(capacity))
}

fn overflow(node: &RawNode, context: &str, problems: &mut Problems) -> Option<Overflow> {
    let Some(field) = &node.overflow else { return Some(Overflow::DropTail) };
    match field.get_ref().as_str() {
        "drop-tail" => Some(Overflow::DropTail),
        "drop-head" => Some(Overflow::DropHead),
        "block" => Some(Overflow::Block),
        other => {
            problems.at(
                field.span(),
                format!("{context} field 'overflow': unknown policy '{other}', expected \"drop-tail\", \"drop-head\" or \"block\""),
            );
            None
        }
    }
}

fn discipline(node: &RawNode, context: &str, problems: &mut Problems) -> Option<Discipline> {
    let Some(field) = &node.discipline else { return Some(Discipline::Fifo) };
    match field.get_ref().as_str() {
        "fifo" => Some(Discipline::Fifo),
        "priority" => Some(Discipline::Priority),
        "preemptive" => Some(Discipline::Preemptive),
        other => {
            problems.at(
                field.span(),
                format!("{context} field 'discipline': unknown discipline '{other}', expected \"fifo\", \"priority\" or \"preemptive\""),
            );
            None
        }
    }
}

fn routing(
    routes: &[Spanned<RawRoute>],
    node_span: Range<usize>,
    context: &str,
    names: &HashMap<String, Target>,
    problems: &mut Problems,
) -> Option<Routing> {
    let before = problems.len();
    let mut converted = Vec::with_capacity(routes.len());
    for raw in routes {
        let route = raw.get_ref();
        let target = match route.to.get_ref().as_str() {
            "exit" => Some(Target::Exit),
            name => names.get(name).copied(),
        };
        if target.is_none() {
            problems.at(route.to.span(), unknown_node(context, "routes.to", route.to.get_ref(), names));
        }
        let probability = match (&route.p, routes.len()) {
            (Some(p), _) => *p.get_ref(),
            (None, 1) => 1.0,
            (None, _) => {
                problems.at(
                    raw.span(),
                    format!("{context} field 'routes': with several routes each needs a probability p"),
                );
                continue;
            }
        };
        if !(probability > 0.0 && probability <= 1.0) {
            let span = route.p.as_ref().map_or(raw.span(), Spanned::span);
            problems.at(span, format!("{context} field 'routes.p' must be in (0, 1], got {probability}"));
        }
        if let Some(target) = target {
            let delay = route
                .delay
                .as_ref()
                .map(|raw| distribution(raw, &format!("{context} field 'routes.delay'"), problems));
            converted.push(Route { target, probability, delay: delay.flatten() });
        }
    }
    let total: f64 = converted.iter().map(|route| route.probability).sum();
    if problems.len() == before && !routes.is_empty() && (total - 1.0).abs() > PROBABILITY_TOLERANCE {
        let span = routes.first().map_or(node_span, Spanned::span);
        problems.at(span, format!("{context} field 'routes': probabilities must sum to 1, got {total}"));
    }
    (problems.len() == before).then(|| Routing::from_routes(converted))
}
