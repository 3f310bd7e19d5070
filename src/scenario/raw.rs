//! What the scenario file says, mirrored by serde. Unknown fields are rejected; positions are kept
//! (as spans) wherever a later check needs to point at a line.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::units::{Bytes, Seconds, Warmup};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub simulation: Option<Spanned<RawSimulation>>,
    #[serde(default)]
    pub source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    pub node: Vec<Spanned<RawNode>>,
    #[serde(default)]
    pub exchange: Vec<Spanned<RawExchange>>,
}

/// One `[[exchange]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExchange {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub bindings: Vec<Spanned<RawBinding>>,
    pub unroutable: Option<Spanned<String>>,
    pub parts: Option<Spanned<i64>>,
}

/// One binding of an exchange: `{ key = "sensor.#", to = "storage" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBinding {
    pub key: Option<Spanned<String>>,
    pub to: Spanned<String>,
}

/// The `[simulation]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSimulation {
    pub duration: Option<Spanned<Seconds>>,
    pub warmup: Option<Spanned<Warmup>>,
    pub replications: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub max_in_system: Option<Spanned<i64>>,
    pub sample_every: Option<Spanned<Seconds>>,
}

/// One `[[source]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub name: Spanned<String>,
    pub to: Spanned<String>,
    pub interarrival: Option<Spanned<RawDistribution>>,
    pub population: Option<Spanned<i64>>,
    pub think: Option<Spanned<RawDistribution>>,
    pub keys: Option<Spanned<BTreeMap<String, f64>>>,
    pub priority: Option<Spanned<toml::Value>>,
    pub size: Option<Spanned<RawDistribution<Bytes>>>,
    pub class: Option<Spanned<toml::Value>>,
    pub schedule: Option<Spanned<Vec<Spanned<RawRatePoint>>>>,
    pub shape: Option<Spanned<String>>,
    pub repeat: Option<Spanned<Seconds>>,
    pub arrivals: Option<Spanned<RawTraceArrivals>>,
}

/// A source's replayed traffic: `arrivals = { trace = "traces/orders.csv", replay = "offset" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTraceArrivals {
    /// The trace file, relative to the scenario file.
    pub trace: Spanned<String>,
    /// How replications replay it: "exact" (default), "offset" or "bootstrap".
    pub replay: Option<Spanned<String>>,
}

/// One point of a source's rate schedule: `{ at = "2h", rate = 1200 }` (messages per second).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRatePoint {
    pub at: Spanned<Seconds>,
    pub rate: Spanned<f64>,
}

/// One point of a node's servers schedule: `{ at = "1000s", servers = 0 }`. The count is read
/// as a number so that a fraction gets a message of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStaffPoint {
    pub at: Spanned<Seconds>,
    pub servers: Spanned<f64>,
}

/// One `[[node]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    pub name: Spanned<String>,
    pub servers: Option<Spanned<RawServers>>,
    pub servers_schedule: Option<Spanned<Vec<Spanned<RawStaffPoint>>>>,
    pub repeat: Option<Spanned<Seconds>>,
    pub service: Spanned<RawDistribution>,
    pub capacity: Option<Spanned<i64>>,
    pub overflow: Option<Spanned<String>>,
    pub discipline: Option<Spanned<String>>,
    pub routes: Option<Vec<Spanned<RawRoute>>>,
    pub ttl: Option<Spanned<Seconds>>,
    pub dead_letter: Option<Spanned<String>>,
    pub join: Option<Spanned<String>>,
    pub per_byte: Option<Spanned<Seconds>>,
    pub service_by_class: Option<Spanned<BTreeMap<String, Spanned<RawDistribution>>>>,
}

/// One entry of a node's `routes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub to: Spanned<String>,
    pub p: Option<Spanned<f64>>,
    pub delay: Option<Spanned<RawDistribution>>,
}

/// A distribution table such as `{ dist = "gamma", mean = "2ms", cv = 0.5 }`, of durations
/// (`V` = [`Seconds`]) or of sizes in bytes ([`Bytes`]). Which fields each family takes is
/// checked after parsing, so that the error can name the field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDistribution<V = Seconds> {
    pub dist: Spanned<String>,
    pub rate: Option<f64>,
    pub mean: Option<V>,
    pub value: Option<V>,
    pub cv: Option<f64>,
    pub k: Option<i64>,
    pub min: Option<V>,
    pub max: Option<V>,
}

/// `servers = 4` or `servers = "infinite"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawServers {
    Count(i64),
    Infinite,
}

impl<'de> Deserialize<'de> for RawServers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ServersVisitor)
    }
}

struct ServersVisitor;

impl Visitor<'_> for ServersVisitor {
    type Value = RawServers;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of servers, or \"infinite\"")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawServers, E> {
        Ok(RawServers::Count(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawServers, E> {
        Ok(RawServers::Count(i64::try_from(value).unwrap_or(i64::MAX)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<RawServers, E> {
        if text == "infinite" {
            Ok(RawServers::Infinite)
        } else {
            Err(E::custom(format!(
                "invalid servers '{text}', which should be a count such as 4, or \"infinite\""
            )))
        }
    }
}
