//! kendall: a queueing-theory simulator and capacity planner for message-passing systems.
//!
//! A scenario describes *sources* (producers) and *nodes* (processes). Each node owns a queue
//! (its inbound channel) served by c servers (its workers); routes, exchanges (RabbitMQ-style
//! direct, topic and fanout, Kafka-style key partitioning, fork/join) connect them. kendall
//! solves what theory can, simulates the rest with a discrete-event engine over independent
//! replications, and reports every simulated figure as a mean with a 95% confidence interval.
//! Times are in seconds and rates per second throughout.
//!
//! # A tour: from a scenario to the figures
//!
//! ## 1. A scenario
//! Scenarios are TOML, usually read from a file with [`scenario::LoadedScenario::load`]; here one
//! is parsed from text. Validation collects every problem with its line and column; an invalid
//! [`model::Scenario`] cannot be built.
//!
//! ```
//! use std::path::Path;
//! use kendall::scenario::{LoadedScenario, Overrides};
//!
//! let text = r#"
//!     [simulation]
//!     duration = "4000s"
//!     warmup = "400s"
//!     replications = 8
//!
//!     [[source]]
//!     name = "clients"
//!     to = "server"
//!     interarrival = { dist = "exponential", rate = 0.5 }
//!
//!     [[node]]
//!     name = "server"
//!     service = { dist = "exponential", mean = "1s" }
//! "#;
//! let loaded = LoadedScenario::parse(text, "tour", Path::new("tour.toml"), &Overrides::default())?;
//! assert_eq!(loaded.scenario().network().nodes().len(), 1);
//!
//! // A mistake is reported with its place and the field, before anything runs.
//! let bad = text.replace("rate = 0.5", "rate = -1");
//! let error = LoadedScenario::parse(&bad, "tour", Path::new("tour.toml"), &Overrides::default());
//! assert!(error.unwrap_err().to_string().contains("tour.toml:"));
//! # Ok::<(), kendall::scenario::ScenarioError>(())
//! ```
//!
//! ## 2. Theory, in milliseconds
//! [`experiment::study`] solves the traffic equations and every closed form that applies, and
//! says which figures are exact. This M/M/1 at ρ = 0.5 has mean sojourn 1/(μ − λ) = 2 s.
//!
//! ```
//! # use std::path::Path;
//! # use kendall::scenario::{LoadedScenario, Overrides};
//! # let text = "[[source]]\nname = \"clients\"\nto = \"server\"\ninterarrival = { dist = \"exponential\", rate = 0.5 }\n[[node]]\nname = \"server\"\nservice = { dist = \"exponential\", mean = \"1s\" }\n";
//! # let loaded = LoadedScenario::parse(text, "tour", Path::new("tour.toml"), &Overrides::default()).unwrap();
//! use kendall::analytic::Verdict;
//! use kendall::stats::NodeMetric;
//!
//! let study = kendall::experiment::study(loaded.scenario(), None)?;
//! let server = &study.analysis.nodes[0];
//! assert_eq!((server.model.as_str(), server.verdict), ("M/M/1", Verdict::Stable));
//! let sojourn = server.metrics.iter().find(|(metric, _)| *metric == NodeMetric::MeanSojourn).unwrap();
//! assert!(sojourn.1.exact && (sojourn.1.value.unwrap() - 2.0).abs() < 1e-12);
//! assert_eq!(study.analysis.system.headroom, Some(2.0)); // λ can double before ρ reaches 1
//! # Ok::<(), kendall::analytic::AnalysisError>(())
//! ```
//!
//! ## 3. A simulation
//! [`experiment::simulate`] analyses, runs every replication in parallel (the results do not
//! depend on the thread count) and collects typed [`experiment::Warning`]s. Each replication's
//! record ([`stats::ReplicationResult`]) is kept; [`stats::Summary::new`] reduces any set of them
//! into estimates with confidence intervals.
//!
//! ```
//! # use std::path::Path;
//! # use kendall::scenario::{LoadedScenario, Overrides};
//! # let text = "[simulation]\nduration = \"4000s\"\nwarmup = \"400s\"\nreplications = 8\n[[source]]\nname = \"clients\"\nto = \"server\"\ninterarrival = { dist = \"exponential\", rate = 0.5 }\n[[node]]\nname = \"server\"\nservice = { dist = \"exponential\", mean = \"1s\" }\n";
//! # let loaded = LoadedScenario::parse(text, "tour", Path::new("tour.toml"), &Overrides::default()).unwrap();
//! use kendall::stats::{NodeMetric, Summary};
//!
//! let outcome = kendall::experiment::simulate(loaded.scenario(), Some(2), &|| {})?;
//! assert!(outcome.warnings.is_empty());
//! let utilization = outcome.experiment.summary.nodes[0].get(NodeMetric::Utilization).unwrap();
//! let [low, high] = utilization.ci95.unwrap();
//! assert!(low < utilization.mean && utilization.mean < high && utilization.samples == 8);
//! assert!((utilization.mean - 0.5).abs() < 0.05);
//!
//! // The records are the contract: reducing them again gives the same summary.
//! let again = Summary::new(loaded.scenario().network(), &outcome.experiment.replications);
//! assert_eq!(again.nodes[0].get(NodeMetric::Utilization), Some(utilization));
//! # Ok::<(), kendall::experiment::ExperimentError>(())
//! ```
//!
//! ## 4. Variations and reports
//! A [`scenario::Variation`] edits a scenario by path (`load=1.5`, `node.server.servers=2`) and
//! re-validates it through the file's own checks; sweeps, comparisons and the planner are built
//! on it. Every output format is a [`report::Exporter`] of a report document.
//!
//! ```
//! # use std::path::Path;
//! # use kendall::scenario::{LoadedScenario, Overrides};
//! # let text = "[simulation]\nduration = \"400s\"\nreplications = 2\n[[source]]\nname = \"clients\"\nto = \"server\"\ninterarrival = { dist = \"exponential\", rate = 0.5 }\n[[node]]\nname = \"server\"\nservice = { dist = \"exponential\", mean = \"1s\" }\n";
//! # let loaded = LoadedScenario::parse(text, "tour", Path::new("tour.toml"), &Overrides::default()).unwrap();
//! use kendall::report::{Exporter, RunReport, Table};
//! use kendall::scenario::{Variation, vary};
//!
//! let busier: Variation = "load=1.8".parse()?;
//! let busier = vary(&loaded, &[busier])?;
//! let study = kendall::experiment::study(busier.scenario(), None).unwrap();
//! assert!((study.analysis.nodes[0].utilization - 0.9).abs() < 1e-12);
//!
//! let bad: Variation = "node.server.servrs=2".parse()?;
//! assert!(vary(&loaded, &[bad]).unwrap_err().to_string().contains("servers"));
//!
//! let outcome = kendall::experiment::simulate(busier.scenario(), Some(1), &|| {}).unwrap();
//! let table = Table.render(&RunReport::new(busier.scenario(), &outcome)).unwrap();
//! assert!(String::from_utf8(table).unwrap().contains("node server (1 server)"));
//! # Ok::<(), kendall::scenario::VariationError>(())
//! ```
//!
//! # Modules
//! In dependency order: [`model`] (the validated network: ids, sources, nodes, routes,
//! distributions with their moments), [`scenario`] (TOML files and variations to model),
//! [`engine`] (the event loop; never prints, never writes files), [`stats`] (streaming
//! accumulators, histograms, per-replication records, estimates), [`analytic`] (closed forms and
//! network solvers), [`experiment`] (replications in parallel, and the experiments over them),
//! [`report`] (every output format, deciding nothing). [`trace`] reads recorded traffic (a CSV
//! of arrival times or gaps) and fits distributions to it for `kendall fit`.

pub mod analytic;
pub mod engine;
pub mod experiment;
pub mod format;
pub mod model;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod trace;
