//! Integration tests: one binary, a module per behaviour.

mod analysis;
mod classes;
mod cli;
mod features;
mod messaging;
mod scenarios;
mod streams;
mod support;
mod theory;
