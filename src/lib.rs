//! kendall: a queueing-theory simulator and capacity planner for message-passing systems.
//!
//! A scenario file describes sources (producers) and nodes (processes, each owning an inbound
//! channel served by c workers) and the routes between them. kendall simulates it with a
//! discrete-event engine over independent replications and reports every metric with a 95%
//! confidence interval.
//!
//! ```
//! use std::path::Path;
//!
//! let text = r#"
//!     [simulation]
//!     duration = "2000s"
//!     warmup = "200s"
//!     replications = 4
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
//! let scenario = kendall::scenario::parse(text, "doc", Path::new("doc.toml")).unwrap();
//! let experiment = kendall::experiment::run(&scenario, Some(1), &|| {}).unwrap();
//! let server = &experiment.summary.nodes[0];
//! let utilization = server.get(kendall::stats::NodeMetric::Utilization).unwrap();
//! assert!((utilization.mean - 0.5).abs() < 0.05);
//! ```
//!
//! Modules, in dependency order: [`model`] (the validated network), [`scenario`] (files to
//! model), [`engine`] (the event loop), [`stats`] (accumulators and estimates), [`analytic`]
//! (closed forms), [`experiment`] (parallel replications), [`report`] (output files and tables).

pub mod analytic;
pub mod engine;
pub mod experiment;
pub mod model;
pub mod report;
pub mod scenario;
pub mod stats;
