//! Each kind of path changes exactly the field it names in the validated model; bad paths,
//! values and units are refused naming the token; invalid values fail the file's own checks.

use std::path::Path;

use super::*;
use crate::model::{Node, Pattern, Scenario, Servers, Settings, Source};
use crate::scenario::{LoadedScenario, Overrides, ScenarioError};

/// Two open sources (one given by rate, one by a deterministic gap), one closed, two nodes.
const SHOP: &str = r#"
name = "shop"

[simulation]
duration = "1h"
replications = 4

[[source]]
name = "web"
to = "front"
interarrival = { dist = "exponential", rate = 2.0 }

[[source]]
name = "batch"
to = "front"
interarrival = { dist = "deterministic", value = "250ms" }

[[source]]
name = "users"
to = "front"
population = 5
think = { dist = "exponential", mean = "2s" }

[[node]]
name = "front"
servers = 2
service = { dist = "gamma", mean = "100ms", cv = 0.5 }
routes = [{ to = "storage" }]

[[node]]
name = "storage"
service = { dist = "exponential", mean = "50ms" }
capacity = 10
"#;

fn shop() -> LoadedScenario {
    LoadedScenario::parse(SHOP, "shop", Path::new("shop.toml"), &Overrides::default())
        .expect("valid scenario")
}

fn varied(variations: &[&str]) -> Result<LoadedScenario, VariationError> {
    let variations: Vec<Variation> =
        variations.iter().map(|text| text.parse().expect("PATH=VALUE")).collect();
    vary(&shop(), &variations)
}

/// The nodes, sources and settings of a scenario, for comparison.
struct Parts {
    nodes: Vec<Node>,
    sources: Vec<Source>,
    settings: Settings,
}

impl Parts {
    fn of(scenario: &Scenario) -> Self {
        let network = scenario.network();
        Self {
            nodes: network.nodes().to_vec(),
            sources: network.sources().to_vec(),
            settings: scenario.settings().clone(),
        }
    }
}

/// Asserts that applying `variation` gives the file's model changed by `expect` and nothing else.
fn assert_changes(variation: &str, expect: impl FnOnce(&mut Parts)) {
    let base = shop();
    let mut expected = Parts::of(base.scenario());
    expect(&mut expected);
    let varied = varied(&[variation]).unwrap_or_else(|error| panic!("{variation}: {error}"));
    let got = Parts::of(varied.scenario());
    assert_eq!(format!("{:?}", got.nodes), format!("{:?}", expected.nodes), "{variation}: nodes");
    assert_eq!(format!("{:?}", got.sources), format!("{:?}", expected.sources), "{variation}: sources");
    assert_eq!(got.settings, expected.settings, "{variation}: settings");
    assert_eq!(varied.scenario().name(), "shop");
}

fn distribution(text: &str) -> crate::model::Distribution {
    use crate::model::Distribution;
    match text {
        "exp 4/s" => Distribution::exponential_rate(4.0),
        "exp 10/s" => Distribution::exponential_rate(10.0),
        "exp 20ms" => Distribution::exponential(0.02),
        "exp 2s" => Distribution::exponential(2.0),
        "exp 3s" => Distribution::exponential(3.0),
        "gamma 200ms 0.5" => Distribution::gamma(0.2, 0.5),
        "gamma 100ms 2" => Distribution::gamma(0.1, 2.0),
        "det 1s" => Distribution::deterministic(1.0),
        _ => panic!("no distribution {text}"),
    }
    .expect("valid distribution")
}

#[test]
fn node_paths_change_exactly_their_field() {
    assert_changes("node.storage.servers=4", |p| p.nodes[1].servers = Servers::Finite(4));
    assert_changes("node.front.servers=infinite", |p| p.nodes[0].servers = Servers::Infinite);
    assert_changes("node.storage.capacity=25", |p| p.nodes[1].capacity = Some(25));
    assert_changes("node.storage.ttl=50ms", |p| p.nodes[1].ttl = Some(0.05));
    assert_changes("node.storage.per_byte=2us", |p| p.nodes[1].per_byte = 2e-6);
    assert_changes("node.storage.service.mean=20ms", |p| p.nodes[1].service = distribution("exp 20ms"));
    // A mean given for a distribution given by rate replaces the rate, and the other way round.
    assert_changes("node.storage.service.rate=4", |p| p.nodes[1].service = distribution("exp 4/s"));
    assert_changes("node.front.service.mean=200ms", |p| p.nodes[0].service = distribution("gamma 200ms 0.5"));
    assert_changes("node.front.service.cv=2", |p| p.nodes[0].service = distribution("gamma 100ms 2"));
}

#[test]
fn source_and_simulation_paths_change_exactly_their_field() {
    use crate::model::Arrivals;
    let open = |interarrival| Arrivals::Open { interarrival, pattern: Pattern::Renewal };
    assert_changes("source.web.interarrival.rate=4", |p| {
        p.sources[0].arrivals = open(distribution("exp 4/s"));
    });
    assert_changes("source.web.interarrival.mean=100ms", |p| {
        p.sources[0].arrivals = open(distribution("exp 10/s"));
    });
    assert_changes("source.batch.interarrival.value=1s", |p| {
        p.sources[1].arrivals = open(distribution("det 1s"));
    });
    let closed = |population, think| Arrivals::Closed { population, think };
    assert_changes("source.users.population=9", |p| {
        p.sources[2].arrivals = closed(9, distribution("exp 2s"));
    });
    assert_changes("source.users.think.mean=3s", |p| {
        p.sources[2].arrivals = closed(5, distribution("exp 3s"));
    });
    assert_changes("simulation.replications=7", |p| p.settings.replications = 7);
    assert_changes("simulation.seed=99", |p| p.settings.seed = 99);
    // Without a warm-up in the file, the warm-up is a tenth of the duration, as for a file.
    assert_changes("simulation.duration=2h", |p| {
        (p.settings.duration_s, p.settings.warmup_s) = (7200.0, 720.0);
    });
    assert_changes("simulation.warmup=5m", |p| p.settings.warmup_s = 300.0);
}

#[test]
fn load_scales_every_open_source_whether_given_by_rate_or_by_gap() {
    let base = shop();
    let doubled = varied(&["load=2"]).expect("valid");
    let rates = |scenario: &Scenario| -> Vec<Option<f64>> {
        scenario.network().sources().iter().map(Source::open_rate).collect()
    };
    // web: rate 2/s -> 4/s; batch: 250 ms gaps (4/s) -> 125 ms (8/s); users: closed, unchanged.
    assert_eq!(rates(base.scenario()), [Some(2.0), Some(4.0), None]);
    assert_eq!(rates(doubled.scenario()), [Some(4.0), Some(8.0), None]);
    assert_eq!(
        format!("{:?}", doubled.scenario().network().sources()[2]),
        format!("{:?}", base.scenario().network().sources()[2]),
        "a closed source is not scaled"
    );
    assert_eq!(
        format!("{:?}", doubled.scenario().network().nodes()),
        format!("{:?}", base.scenario().network().nodes())
    );
    // Factors compound in order; 1 is the file as it is.
    let same = varied(&["load=2", "load=0.5"]).expect("valid");
    assert_eq!(rates(same.scenario()), rates(base.scenario()));
}

#[test]
fn a_bad_path_is_refused_listing_what_is_valid_there() {
    let reason = |variation: &str| match varied(&[variation]) {
        Err(VariationError::Path { path, reason }) => {
            assert_eq!(format!("{path}={}", variation.split_once('=').unwrap().1), variation);
            reason
        }
        other => panic!("{variation}: expected a path error, got {other:?}"),
    };
    assert!(reason("node.x.servers=2").contains("unknown node: the nodes are front, storage"));
    let servrs = reason("node.storage.servrs=2");
    assert!(servrs.contains("unknown field 'servrs' of node 'storage'"), "{servrs}");
    assert!(servrs.contains("servers, capacity, ttl, per_byte, service.rate, service.mean"), "{servrs}");
    assert!(reason("source.nobody.population=2").contains("the sources are web, batch, users"));
    assert!(reason("source.web.population.x=2").contains("unknown field 'population.x' of source 'web'"));
    assert!(
        reason("source.web.think.mean=2s").contains("valid fields are interarrival.rate, interarrival.mean")
    );
    assert!(reason("source.web.interarrival.meen=2s").contains("unknown parameter 'meen'"));
    assert!(reason("simulation.durration=2").contains("unknown field 'durration' of simulation"));
    assert!(reason("nodes.storage.servers=2").contains("a path is load, simulation.FIELD"));
    assert!(reason("node.storage=2").contains("node 'storage' needs a field"));
    assert!(reason("load.x=2").contains("a path is load"));
}

#[test]
fn malformed_variations_and_values_are_refused_naming_the_token() {
    for text in ["node.storage.servers", "=4", "load="] {
        let error = text.parse::<Variation>().unwrap_err();
        assert!(matches!(error, VariationError::Form { .. }), "{text}: {error}");
        assert!(error.to_string().contains(&format!("'{text}'")), "{error}");
    }
    assert!(matches!("node..servers=1".parse::<Variation>(), Err(VariationError::Path { .. })));
    for (text, token, expected) in [
        ("node.storage.ttl=50 parsecs", "50 parsecs", "ns, us, ms, s, m or h"),
        ("node.storage.servers=many", "many", "invalid servers 'many'"),
        ("node.storage.capacity=2.5", "2.5", "i64"),
        ("source.web.interarrival.rate=fast", "fast", "f64"),
        ("load=0", "0", "a load factor must be a positive number"),
        ("load=-1", "-1", "a load factor must be a positive number"),
    ] {
        match varied(&[text]) {
            Err(error @ VariationError::Value { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&format!("'{token}'")), "{text}: {message}");
                assert!(message.contains(expected), "{text}: {message}");
            }
            other => panic!("{text}: expected a value error, got {other:?}"),
        }
    }
}

/// The problems a file with `from` replaced by `to` in [`SHOP`] has.
fn file_problems(from: &str, to: &str) -> Vec<String> {
    let text = SHOP.replacen(from, to, 1);
    match LoadedScenario::parse(&text, "shop", Path::new("shop.toml"), &Overrides::default()) {
        Err(ScenarioError::Invalid { problems, .. }) => problems.into_iter().map(|p| p.message).collect(),
        other => panic!("expected an invalid file, got {other:?}"),
    }
}

fn problems(variations: &[&str]) -> Vec<VariationProblem> {
    match varied(variations) {
        Err(VariationError::Invalid { problems }) => problems,
        other => panic!("{variations:?}: expected invalid, got {other:?}"),
    }
}

#[test]
fn an_invalid_value_fails_the_files_own_checks_naming_the_variation() {
    let servers = problems(&["load=1.5", "node.front.servers=0"]);
    let messages: Vec<&String> = servers.iter().map(|p| &p.message).collect();
    assert_eq!(messages, file_problems("servers = 2", "servers = 0").iter().collect::<Vec<_>>());
    assert_eq!(servers[0].variations, ["node.front.servers=0".parse::<Variation>().unwrap()]);
    let rendered = VariationError::Invalid { problems: servers }.to_string();
    assert_eq!(
        rendered,
        "variation 'node.front.servers=0': node 'front' field 'servers' must be between 1 and 1000000, got 0"
    );
    // A service mean the distribution refuses, in the words of the file.
    let mean = problems(&["node.storage.service.mean=0"]);
    assert_eq!(
        mean.iter().map(|p| &p.message).collect::<Vec<_>>(),
        file_problems("mean = \"50ms\"", "mean = 0").iter().collect::<Vec<_>>()
    );
    // A capacity below the servers: the problem is at the file's capacity, so it comes from the
    // combination; raising both together is valid whatever the order.
    let below = problems(&["node.storage.servers=20"]);
    assert!(below[0].message.contains("must be at least servers (20)"), "{}", below[0].message);
    let both = varied(&["node.storage.servers=20", "node.storage.capacity=20"]).expect("valid");
    assert_eq!(both.scenario().network().nodes()[1].capacity(), Some(20));
}

#[test]
fn a_varied_scenario_names_itself_and_varies_again() {
    let base = shop();
    assert_eq!(base.label(), "as-is");
    let once = varied(&["load=1.5"]).expect("valid");
    let twice = vary(&once, &["node.storage.servers=3".parse().unwrap()]).expect("valid");
    assert_eq!(twice.label(), "load=1.5 node.storage.servers=3");
    assert_eq!(twice.variations().len(), 2);
    assert_eq!(twice.scenario().network().nodes()[1].servers(), Servers::Finite(3));
    assert_eq!(twice.scenario().network().sources()[0].open_rate(), Some(3.0));
    // A problem at the earlier variation's edit still names it.
    let error = vary(&once, &["node.storage.servers=0".parse().unwrap()]).unwrap_err();
    assert!(error.to_string().starts_with("variation 'node.storage.servers=0': "), "{error}");
}

#[test]
fn overridden_settings_give_way_to_a_variation_of_them() {
    let overrides = Overrides { duration_s: Some(60.0), replications: Some(2), ..Overrides::default() };
    let base = LoadedScenario::parse(SHOP, "shop", Path::new("shop.toml"), &overrides).expect("valid");
    assert_eq!(base.scenario().settings().duration_s(), 60.0);
    let varied = vary(&base, &["simulation.duration=2m".parse().unwrap()]).expect("valid");
    assert_eq!(varied.scenario().settings().duration_s(), 120.0);
    assert_eq!(varied.scenario().settings().replications(), 2, "other overrides stay");
}

#[test]
fn numeric_paths_list_every_field_a_variation_can_name() {
    let paths = shop().numeric_paths();
    for path in [
        "load",
        "simulation.duration",
        "node.front.servers",
        "node.front.service.mean",
        "node.front.service.cv",
        "node.storage.service.rate",
        "node.storage.ttl",
        "source.web.interarrival.rate",
        "source.batch.interarrival.value",
        "source.users.population",
        "source.users.think.mean",
    ] {
        assert!(paths.iter().any(|p| p == path), "{path} missing from {paths:?}");
    }
    assert!(!paths.iter().any(|p| p == "source.web.population"), "an open source has no population");
}

/// A source whose rate follows a schedule (gamma gaps of cv 2) and a node whose servers do.
const SCHEDULED: &str = r#"
[simulation]
duration = "3h"
warmup = "0s"

[[source]]
name = "orders"
to = "worker"
interarrival = { dist = "gamma", cv = 2.0 }
schedule = [{ at = "0s", rate = 400 }, { at = "2h", rate = 1200 }, { at = "2h30m", rate = 400 }]

[[node]]
name = "worker"
servers_schedule = [{ at = "0s", servers = 10 }, { at = "1h", servers = 14 }]
service = { dist = "exponential", mean = "10ms" }
"#;

fn scheduled() -> LoadedScenario {
    LoadedScenario::parse(SCHEDULED, "scheduled", Path::new("scheduled.toml"), &Overrides::default())
        .expect("valid scenario")
}

fn vary_scheduled(variation: &str) -> Result<LoadedScenario, VariationError> {
    vary(&scheduled(), &[variation.parse().expect("PATH=VALUE")])
}

#[test]
fn load_scales_every_rate_of_a_schedule() {
    let doubled = vary_scheduled("load=2").expect("valid");
    let source = &doubled.scenario().network().sources()[0];
    let rates: Vec<(f64, f64)> = source.schedule().expect("a schedule").points().collect();
    assert_eq!(rates, [(0.0, 800.0), (7200.0, 2400.0), (9000.0, 800.0)]);
    // Mean over [0, 3h]: (2h × 800 + 30m × 2400 + 30m × 800) / 3h = 3200/3 per second, the gaps
    // keep their cv.
    let gap = source.gap();
    assert!((gap.mean() - 3.0 / 3200.0).abs() < 1e-15, "{gap}");
    assert!((gap.scv() - 4.0).abs() < 1e-12, "{gap}");
}

#[test]
fn a_schedule_takes_the_place_of_the_fields_it_sets() {
    let paths = scheduled().numeric_paths();
    for path in
        ["load", "simulation.sample_every", "node.worker.service.mean", "source.orders.interarrival.cv"]
    {
        assert!(paths.iter().any(|p| p == path), "{path} missing from {paths:?}");
    }
    for path in ["node.worker.servers", "source.orders.interarrival.mean", "source.orders.interarrival.rate"]
    {
        assert!(!paths.iter().any(|p| p == path), "{path} in {paths:?}");
    }
    let reason = |variation: &str| match vary_scheduled(variation) {
        Err(VariationError::Path { reason, .. }) => reason,
        other => panic!("{variation}: expected a path error, got {other:?}"),
    };
    assert!(reason("node.worker.servers=4").contains("node 'worker' follows a servers_schedule"));
    assert!(reason("source.orders.interarrival.mean=2ms").contains("vary load=FACTOR"));
    let cv = vary_scheduled("source.orders.interarrival.cv=0.5").expect("valid");
    assert!((cv.scenario().network().sources()[0].gap().scv() - 0.25).abs() < 1e-12);
    let sampled = vary_scheduled("simulation.sample_every=1m").expect("valid");
    assert_eq!(sampled.scenario().settings().sample_every(), Some(60.0));
}
