//! Integration tests: one binary, a module per behaviour.

mod analysis;
mod classes;
mod cli;
mod features;
mod messaging;
mod records;
mod scenarios;
mod support;
mod theory;
