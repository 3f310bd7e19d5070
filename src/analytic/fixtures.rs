//! A scenario shared by the unit tests of the analysis of open networks.

use std::path::Path;

use super::{Analysis, analyze};
use crate::scenario::parse;

/// The analysis of the scenario `text`.
pub(super) fn analysis(text: &str) -> Analysis {
    analyze(&parse(text, "t", Path::new("t.toml")).unwrap().network, None).unwrap()
}

/// A Poisson source into an M/M/1 node `a` then an M/M/2 node `b`: ρa = 0.5, ρb = 0.8.
pub(super) const TANDEM: &str = r#"
    [[source]]
    name = "s"
    to = "a"
    interarrival = { dist = "exponential", rate = 2.0 }
    [[node]]
    name = "a"
    service = { dist = "exponential", mean = "0.25s" }
    routes = [{ to = "b" }]
    [[node]]
    name = "b"
    servers = 2
    service = { dist = "exponential", mean = "0.8s" }
"#;
