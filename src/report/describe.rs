//! `kendall check`: what kendall understood of a scenario, in words.

use std::fmt::Write as _;

use super::table::number;
use crate::analytic::Analysis;
use crate::model::{Arrivals, ExchangeKind, Network, Scenario, Schedule, Unroutable};

/// `value` with `decimals` decimals between 10⁻³ and 10⁶ (and at 0), in engineering notation
/// beyond: no 300-digit rate, and no tiny one printed as 0.000000.
fn fixed(value: f64, decimals: usize) -> String {
    if value == 0.0 || (1e-3..1e6).contains(&value.abs()) {
        format!("{value:.decimals$}")
    } else {
        number(value)
    }
}

/// A schedule's points, `VALUE UNIT from Ts`, with its shape and how it ends.
fn describe_schedule(schedule: &Schedule, unit: &str) -> String {
    let points: Vec<String> =
        schedule.points().map(|(at, value)| format!("{value}{unit} at {at}s")).collect();
    let end = schedule
        .period()
        .map_or_else(|| "the last held for ever".to_owned(), |period| format!("repeating every {period}s"));
    format!("{} ({}, {end})", points.join(", "), schedule.shape().name())
}

fn describe_sources(out: &mut String, network: &Network) {
    for source in network.sources() {
        let _ = match &source.arrivals {
            Arrivals::Open { interarrival, .. } => writeln!(
                out,
                "source {}: {} messages/s{} to {}, inter-arrival {interarrival}",
                source.name,
                fixed(1.0 / interarrival.mean(), 6),
                if source.schedule().is_some() {
                    " (the schedule's mean over the observed window)"
                } else {
                    ""
                },
                network.target_name(source.target),
            ),
            Arrivals::Closed { population, think } => writeln!(
                out,
                "source {}: {population} clients (request-reply) to {}, think time {think}",
                source.name,
                network.target_name(source.target),
            ),
        };
        if let Some(schedule) = source.schedule() {
            let _ = writeln!(out, "  rate schedule: {}", describe_schedule(schedule, "/s"));
        }
        if let Some(replay) = source.replay() {
            let times = replay.times();
            let _ = writeln!(
                out,
                "  replays a trace: {} messages over {}s ({} replay); the stand-in above has its gaps' mean and cv, and its recorded headers' frequencies are below",
                replay.len(),
                times[times.len() - 1] - times[0],
                replay.mode().name()
            );
        }
        if let Some(size) = &source.size {
            let _ = writeln!(out, "  message size: mean {} bytes, cv {}", size.mean(), size.scv().sqrt());
        }
        if let Some(priorities) = &source.priorities {
            let levels: Vec<String> = priorities.weighted().map(|(p, w)| format!("{p} (p {w})")).collect();
            let _ = writeln!(out, "  priorities: {}", levels.join(", "));
        }
        if let Some(keys) = &source.keys {
            let keys: Vec<String> = keys
                .weighted()
                .map(|(key, p)| format!("'{}' (p {p})", network.keys()[key.index()]))
                .collect();
            let _ = writeln!(out, "  routing keys: {}", keys.join(", "));
        }
        if network.message_classes().len() > 1 {
            let classes: Vec<String> = source
                .message_classes
                .weighted()
                .map(|(class, p)| format!("'{}' (p {p})", network.message_classes()[class.index()]))
                .collect();
            let _ = writeln!(out, "  message classes: {}", classes.join(", "));
        }
    }
}

fn describe_nodes(out: &mut String, network: &Network, analysis: Option<&Analysis>) {
    for (index, node) in network.nodes().iter().enumerate() {
        let capacity = node
            .capacity
            .map_or_else(|| "unbounded".to_owned(), |k| format!("capacity {k} ({})", node.overflow.name()));
        let (model, load) = analysis.map_or_else(
            || (String::from("?"), String::new()),
            |a| {
                (
                    a.nodes[index].model.clone(),
                    format!(
                        ", offered λ {}/s, ρ {}",
                        fixed(a.nodes[index].arrival_rate, 6),
                        fixed(a.nodes[index].utilization, 4)
                    ),
                )
            },
        );
        let _ = writeln!(
            out,
            "node {} [{model}]: servers {}, service {}, {capacity}, {}{load}",
            node.name,
            node.servers,
            node.service,
            node.discipline.name()
        );
        if let Some(schedule) = &node.servers_schedule {
            let _ = writeln!(out, "  servers over time: {}", describe_schedule(schedule, ""));
        }
        if let Some(ttl) = node.ttl {
            let expired = node.dead_letter.map_or("dropped", |t| network.target_name(t));
            let _ = writeln!(
                out,
                "  ttl {ttl}s: expired messages are {}",
                if expired == "dropped" { expired.to_owned() } else { format!("dead-lettered to {expired}") }
            );
        }
        for (class, service) in network.message_classes().iter().zip(&node.class_service) {
            if let Some(service) = service {
                let _ = writeln!(out, "  class '{class}' service {service}");
            }
        }
        if node.per_byte > 0.0 {
            let _ = writeln!(out, "  service grows by {}s per byte of the message", node.per_byte);
        }
        if let Some(fork) = node.join {
            let _ = writeln!(out, "  joins the parts of fork '{}'", network.exchange(fork).name);
        }
        let routes: Vec<String> = node
            .routing
            .branches()
            .map(|route| {
                let delay = route.delay.as_ref().map_or_else(String::new, |d| format!(", delay {d}"));
                format!("{} (p {}{delay})", network.target_name(route.target), route.probability)
            })
            .collect();
        let _ = writeln!(out, "  routes: {}", routes.join(", "));
    }
}

fn describe_exchanges(out: &mut String, network: &Network) {
    for exchange in network.exchanges() {
        let unroutable = match exchange.unroutable {
            Unroutable::Drop => "dropped".to_owned(),
            Unroutable::To(target) => format!("sent to {}", network.target_name(target)),
        };
        let _ = writeln!(
            out,
            "exchange {} ({}): unroutable messages are {unroutable}",
            exchange.name,
            exchange.kind.name()
        );
        for binding in &exchange.bindings {
            let _ =
                writeln!(out, "  binding '{}' -> {}", binding.pattern, network.target_name(binding.target));
        }
        if exchange.kind == ExchangeKind::Fork {
            let _ = writeln!(out, "  splits each message into {} parts", exchange.total_parts());
            continue;
        }
        if exchange.kind.is_balancer() {
            let _ = writeln!(out, "  sends each message to one of its bindings ({})", exchange.kind.name());
            continue;
        }
        for (index, key) in network.keys().iter().enumerate() {
            let id = crate::model::KeyId(u32::try_from(index).unwrap_or(u32::MAX));
            let targets: Vec<&str> =
                exchange.targets(Some(id)).iter().map(|&t| network.target_name(t)).collect();
            let routed = if targets.is_empty() { "unroutable".to_owned() } else { targets.join(", ") };
            let _ = writeln!(out, "  key '{key}' -> {routed}");
        }
    }
}

/// Describes a scenario: its settings (and time series), sources (with their keys and rate
/// schedules), nodes (in Kendall notation, with their servers over time and their offered load
/// from `analysis` when there is one), routes, and how each exchange routes every key.
#[must_use]
pub fn describe(scenario: &Scenario, analysis: Option<&Analysis>) -> String {
    let mut out = String::new();
    let settings = &scenario.settings;
    let network = &scenario.network;
    let _ = writeln!(out, "scenario {} is valid", scenario.name);
    let warmup = if settings.auto_warmup {
        "an automatic warm-up (MSER-5)".to_owned()
    } else {
        format!("{}s warm-up", settings.warmup_s)
    };
    let _ = writeln!(
        out,
        "simulation: {} replications of {}s after {warmup}, seed {}, at most {} messages in the system",
        settings.replications, settings.duration_s, settings.seed, settings.max_in_system
    );
    if let Some(every) = settings.sample_every {
        let _ = writeln!(
            out,
            "time series: every {every}s ({} intervals per replication)",
            (settings.horizon_s() / every).ceil()
        );
    }
    describe_sources(&mut out, network);
    describe_nodes(&mut out, network, analysis);
    describe_exchanges(&mut out, network);
    out
}
