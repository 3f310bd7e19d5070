//! From what the file says to the validated model, collecting every problem (not only the first),
//! each with the line and column it refers to.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::Overrides;
use super::classes::{class_service, intern_classes, source_classes};
use super::error::Problem;
use super::exchanges::{convert_exchange, intern_keys, source_keys, source_priorities};
use super::raw::{RawDistribution, RawNode, RawRoute, RawScenario, RawServers, RawSimulation, RawSource};
use crate::model::{
    Arrivals, Discipline, Distribution, Exchange, ExchangeId, Network, NetworkError, Node, NodeId, Overflow,
    Route, Routing, Scenario, Servers, Settings, Source, Target,
};

/// Tolerance on the sum of a node's route probabilities.
const PROBABILITY_TOLERANCE: f64 = 1e-9;

/// Defaults of the `[simulation]` table.
const DEFAULT_DURATION_S: f64 = 10_000.0;
const DEFAULT_REPLICATIONS: u32 = 10;
const DEFAULT_SEED: u64 = 1;

/// Collects problems with positions in the file's text.
pub(super) struct Problems<'a> {
    text: &'a str,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self { text, list: Vec::new() }
    }

    /// Records a problem located at byte range `span`.
    pub(super) fn at(&mut self, span: Range<usize>, message: String) {
        let (line, column) = line_column(self.text, span.start);
        self.list.push(Problem { line, column, message });
    }

    /// Problems recorded so far.
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn into_list(self) -> Vec<Problem> {
        self.list
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, column)
}

/// Converts a parsed file into a scenario, or returns every problem found.
pub(super) fn convert(
    raw: RawScenario,
    default_name: &str,
    overrides: &Overrides,
    problems: &mut Problems,
) -> Option<Scenario> {
    let name = scenario_name(raw.name.as_ref(), default_name, problems);
    let settings = settings(raw.simulation.as_ref(), overrides, problems);
    let names = target_names(&raw, problems);
    let keys = intern_keys(&raw.source);
    let classes = intern_classes(&raw.source);
    let nodes: Vec<Option<Node>> =
        raw.node.iter().map(|node| convert_node(node, &names, &classes, problems)).collect();
    let sources: Vec<Option<Source>> =
        raw.source.iter().map(|source| convert_source(source, &names, &keys, &classes, problems)).collect();
    let exchanges: Vec<Option<Exchange>> =
        raw.exchange.iter().map(|exchange| convert_exchange(exchange, &names, &keys, problems)).collect();
    if raw.source.is_empty() {
        problems.at(0..0, "the scenario has no [[source]]: add at least one producer".to_owned());
    }
    if raw.node.is_empty() {
        problems.at(0..0, "the scenario has no [[node]]: add at least one process".to_owned());
    }
    let (Some(settings), Some(nodes), Some(sources), Some(exchanges)) = (
        settings,
        nodes.into_iter().collect::<Option<Vec<_>>>(),
        sources.into_iter().collect::<Option<Vec<_>>>(),
        exchanges.into_iter().collect::<Option<Vec<_>>>(),
    ) else {
        return None;
    };
    if !problems.list.is_empty() {
        return None;
    }
    match Network::new(sources, nodes, exchanges, keys, classes) {
        Ok(network) => Some(Scenario { name, settings, network }),
        Err(error) => {
            let span = match &error {
                NetworkError::NoExit(node)
                | NetworkError::IndirectBlocking { node, .. }
                | NetworkError::JoinWithoutFork { node, .. } => raw
                    .node
                    .iter()
                    .find(|raw_node| raw_node.get_ref().name.get_ref() == node)
                    .map_or(0..0, Spanned::span),
                NetworkError::ExchangeLoop(exchange) => raw
                    .exchange
                    .iter()
                    .find(|raw_exchange| raw_exchange.get_ref().name.get_ref() == exchange)
                    .map_or(0..0, Spanned::span),
                _ => 0..0,
            };
            problems.at(span, error.to_string());
            None
        }
    }
}

/// Whether a name is safe as a directory name: letters, digits, '.', '_' and '-', not starting
/// with '.'.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The scenario's name, which names its output directory: the file's `name`, else the file stem
/// with unsafe characters replaced by '-'.
fn scenario_name(name: Option<&Spanned<String>>, default_name: &str, problems: &mut Problems) -> String {
    match name {
        Some(name) if is_safe_name(name.get_ref()) => name.get_ref().clone(),
        Some(name) => {
            let message = format!(
                "field 'name': '{}' cannot name an output directory; use letters, digits, '.', '_' and '-', not starting with '.'",
                name.get_ref()
            );
            problems.at(name.span(), message);
            String::new()
        }
        None => {
            let cleaned: String = default_name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
                .collect();
            if is_safe_name(&cleaned) { cleaned } else { format!("scenario{cleaned}") }
        }
    }
}

fn settings(
    raw: Option<&Spanned<RawSimulation>>,
    overrides: &Overrides,
    problems: &mut Problems,
) -> Option<Settings> {
    let default = RawSimulation::default();
    let sim = raw.map_or(&default, Spanned::get_ref);
    let before = problems.list.len();
    let file_duration = sim.duration.as_ref().map_or(DEFAULT_DURATION_S, |d| d.get_ref().0);
    if let Some(duration) = &sim.duration
        && file_duration <= 0.0
        && overrides.duration_s.is_none()
    {
        problems.at(
            duration.span(),
            format!("[simulation] field 'duration' must be positive, got {file_duration}s"),
        );
    }
    let duration_s = overrides.duration_s.unwrap_or(file_duration);
    let file_warmup = sim.warmup.as_ref().map(|w| w.get_ref().0);
    let warmup_s = overrides.warmup_s.or(file_warmup).unwrap_or(duration_s / 10.0);
    let replications = bounded_integer(
        sim.replications.as_ref(),
        "[simulation] field 'replications'",
        1,
        u32::MAX.into(),
        problems,
    )
    .map_or(DEFAULT_REPLICATIONS, |r| u32::try_from(r).unwrap_or(u32::MAX));
    let seed = bounded_integer(sim.seed.as_ref(), "[simulation] field 'seed'", 0, i64::MAX, problems)
        .map_or(DEFAULT_SEED, |s| u64::try_from(s).unwrap_or_default());
    let max_in_system = bounded_integer(
        sim.max_in_system.as_ref(),
        "[simulation] field 'max_in_system'",
        1,
        u32::MAX.into(),
        problems,
    )
    .map_or(Settings::DEFAULT_MAX_IN_SYSTEM, |m| u32::try_from(m).unwrap_or(u32::MAX));
    (problems.list.len() == before).then_some(Settings {
        duration_s,
        warmup_s,
        replications: overrides.replications.unwrap_or(replications),
        seed: overrides.seed.unwrap_or(seed),
        max_in_system,
    })
}

/// An optional integer field that must lie in `[low, high]`; records a problem otherwise.
fn bounded_integer(
    field: Option<&Spanned<i64>>,
    what: &str,
    low: i64,
    high: i64,
    problems: &mut Problems,
) -> Option<i64> {
    let field = field?;
    let value = *field.get_ref();
    if (low..=high).contains(&value) {
        Some(value)
    } else {
        problems.at(field.span(), format!("{what} must be between {low} and {high}, got {value}"));
        None
    }
}

/// Route targets (nodes and exchanges) by name; records duplicate and reserved names.
fn target_names(raw: &RawScenario, problems: &mut Problems) -> HashMap<String, Target> {
    let mut names = HashMap::new();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let id = |index: usize| u32::try_from(index).unwrap_or(u32::MAX);
    let all = raw
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| (&n.get_ref().name, "node", Some(Target::Node(NodeId(id(i))))))
        .chain(
            raw.exchange
                .iter()
                .enumerate()
                .map(|(i, e)| (&e.get_ref().name, "exchange", Some(Target::Exchange(ExchangeId(id(i)))))),
        )
        .chain(raw.source.iter().map(|s| (&s.get_ref().name, "source", None)));
    for (name, kind, target) in all {
        let text = name.get_ref().as_str();
        if text.is_empty() || text == "exit" {
            problems
                .at(name.span(), format!("{kind} name '{text}' is reserved or empty: choose another name"));
        } else if let Some(first) = seen.insert(text, kind) {
            problems.at(
                name.span(),
                format!("{kind} name '{text}' is already used by a {first}: names must be unique"),
            );
        } else if let Some(target) = target {
            names.insert(text.to_owned(), target);
        }
    }
    names
}

fn convert_source(
    raw: &Spanned<RawSource>,
    names: &HashMap<String, Target>,
    keys: &[String],
    classes: &[String],
    problems: &mut Problems,
) -> Option<Source> {
    let source = raw.get_ref();
    let context = format!("source '{}'", source.name.get_ref());
    let target = match names.get(source.to.get_ref()) {
        Some(&target) => Some(target),
        None => {
            problems.at(source.to.span(), unknown_node(&context, "to", source.to.get_ref(), names));
            None
        }
    };
    let arrivals = arrivals(raw, &context, problems);
    let key_choice = source_keys(source.keys.as_ref(), keys, &context, problems);
    let priorities = source_priorities(source.priority.as_ref(), &context, problems);
    let message_classes = source_classes(source.class.as_ref(), classes, &context, problems);
    let size = match &source.size {
        None => Some(None),
        Some(raw) => distribution(raw, &format!("{context} field 'size' (bytes)"), problems).map(Some),
    };
    Some(Source {
        name: source.name.get_ref().clone(),
        target: target?,
        arrivals: arrivals?,
        keys: key_choice?,
        priorities: priorities?,
        size: size?,
        classes: message_classes?,
    })
}

/// Open (`interarrival`) or closed (`population` and `think`) arrivals, exactly one of them.
fn arrivals(raw: &Spanned<RawSource>, context: &str, problems: &mut Problems) -> Option<Arrivals> {
    let source = raw.get_ref();
    match (&source.interarrival, &source.population, &source.think) {
        (Some(interarrival), None, None) => {
            let interarrival =
                distribution(interarrival, &format!("{context} field 'interarrival'"), problems)?;
            Some(Arrivals::Open { interarrival })
        }
        (None, Some(population), Some(think)) => {
            let what = format!("{context} field 'population'");
            let population = bounded_integer(Some(population), &what, 1, 10_000_000, problems);
            let think = distribution(think, &format!("{context} field 'think'"), problems)?;
            Some(Arrivals::Closed { population: u32::try_from(population?).ok()?, think })
        }
        _ => {
            let message = format!(
                "{context}: give either 'interarrival' (an open source) or both 'population' and 'think' (request-reply clients)"
            );
            problems.at(raw.span(), message);
            None
        }
    }
}

pub(super) fn unknown_node(
    context: &str,
    field: &str,
    name: &str,
    names: &HashMap<String, Target>,
) -> String {
    let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
    known.sort_unstable();
    format!(
        "{context} field '{field}': unknown node or exchange '{name}' (known: {}; or \"exit\" in routes)",
        known.join(", ")
    )
}

fn convert_node(
    raw: &Spanned<RawNode>,
    names: &HashMap<String, Target>,
    classes: &[String],
    problems: &mut Problems,
) -> Option<Node> {
    let node = raw.get_ref();
    let context = format!("node '{}'", node.name.get_ref());
    let servers = servers(node, &context, problems);
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

/// Most workers a node may have; more is better written `servers = "infinite"`.
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
            format!("{what} ({capacity}) counts waiting and in-service messages, so it must be at least servers ({servers})"),
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
    let before = problems.list.len();
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
    if problems.list.len() == before && !routes.is_empty() && (total - 1.0).abs() > PROBABILITY_TOLERANCE {
        let span = routes.first().map_or(node_span, Spanned::span);
        problems.at(span, format!("{context} field 'routes': probabilities must sum to 1, got {total}"));
    }
    (problems.list.len() == before).then(|| Routing::from_routes(converted))
}

/// The fields each family accepts, for error messages.
fn accepted_fields(family: &str) -> Option<&'static [&'static str]> {
    Some(match family {
        "exponential" => &["rate", "mean"],
        "deterministic" => &["value", "mean"],
        "uniform" => &["min", "max"],
        "erlang" => &["k", "mean"],
        "gamma" | "lognormal" | "hyperexponential" | "weibull" => &["mean", "cv"],
        _ => return None,
    })
}

pub(super) fn distribution(
    raw: &Spanned<RawDistribution>,
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

fn build_distribution(family: &str, dist: &RawDistribution) -> Result<Distribution, String> {
    let mean = dist.mean.map(|m| m.0);
    let needs = |what: &str| format!("{family} needs {what}");
    let built = match family {
        "exponential" => match (dist.rate, mean) {
            (Some(rate), None) => Distribution::exponential_rate(rate),
            (None, Some(mean)) => Distribution::exponential(mean),
            _ => return Err(needs("exactly one of rate (per second) or mean")),
        },
        "deterministic" => match (dist.value.map(|v| v.0), mean) {
            (Some(value), None) | (None, Some(value)) => Distribution::deterministic(value),
            _ => return Err(needs("exactly one of value or mean")),
        },
        "uniform" => match (dist.min, dist.max) {
            (Some(min), Some(max)) => Distribution::uniform(min.0, max.0),
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
