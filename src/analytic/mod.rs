//! Closed-form queueing results, the small numerical solvers behind them, and [`analyze`], which
//! puts them together for a whole network (traffic equations, stability, bottleneck, headroom).
//! This module depends on the model only, never on the engine.
//!
//! Units throughout: times in seconds, rates per second, lengths in messages, and squared
//! coefficients of variation (SCV) dimensionless. Arrival rate is `lambda`, service rate `mu`
//! (mean service time 1/`mu`), servers `c`, offered load a = `lambda`/`mu` and per-server
//! utilisation rho = a/c.
//!
//! # Exact and approximate results
//!
//! Exact under their model's assumptions (Poisson arrivals, FCFS, steady state):
//! - [`station::erlang_b`], [`station::erlang_c`], [`station::erlang_loss`] (M/M/c/c);
//! - [`station::mmc`] (M/M/c, with M/M/1 as c = 1) and its FCFS wait and sojourn quantiles
//!   [`station::mmc_wait_quantile`] and [`station::mmc_sojourn_quantile`];
//! - [`station::mmck`] (M/M/c/K, solved as a birth-death chain);
//! - [`station::mg1`] (Pollaczek-Khinchine) and [`station::mg_inf`] (M/G/∞);
//! - [`mva::mva`], exact Mean Value Analysis of a single-class product-form closed network;
//! - [`sparse::solve_sparse`], which solves the open-network traffic equations to rounding error
//!   (or, around a loop of more than 200 vertices, to a residual of 1e-10 at worst) one strongly
//!   connected component at a time, with [`linear::solve`] for small loops.
//!
//! Approximate:
//! - [`station::kingman`] (G/G/1) and [`station::allen_cunneen`] (G/G/c), both exact when arrivals
//!   and service are exponential;
//! - [`station::time_to_reach`], the fluid limit of an overloaded queue;
//! - [`fluid::Fluid`], the fluid prediction of every node's load over time when the load
//!   follows the clock (exact as a fluid, optimistic about queues: see its module).
//!
//! # Failure
//!
//! Nothing here panics. Functions that return `Option` give `None` for an unstable queue
//! (rho ≥ 1) or for invalid input (non-finite or negative values, zero servers); the others
//! document what they require. Results are never NaN for valid input.
//!
//! # Layout
//!
//! [`analyze`] (in `network.rs`) puts together, for an open network: the shape of each node's
//! arrivals (`shape.rs`), the closed form and figures of each node (`node.rs`), per priority
//! and per message class (`priority.rs`, `classes.rs`), each source's end-to-end figures
//! (`latency.rs`) and the system's stability and headroom (`system.rs`), over the traffic
//! equations (`traffic.rs`) and what blocking queues let through (`blocking.rs`); closed populations
//! go to `closed.rs`. A network whose load follows the clock is analysed over the averages of
//! its observed window, its figures withheld (`varying.rs`), with the fluid prediction of its
//! load over time (`fluid.rs`). The result types they all fill in are in `results.rs`, which depends on
//! none of them.

mod balancer;
pub mod blocking;
mod classes;
mod closed;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod fluid;
mod gmres;
mod latency;
pub mod linear;
pub mod mva;
mod network;
mod node;
mod priority;
mod reach;
mod results;
mod scc;
mod service;
mod shape;
pub mod sparse;
pub mod station;
mod system;
pub mod traffic;
pub mod varying;

pub use network::analyze;
pub use node::DEFAULT_FILL_TARGET;
pub use results::{
    Analysis, AnalysisError, Figure, NodeAnalysis, RateBounds, SourceAnalysis, SystemAnalysis, Verdict,
};
