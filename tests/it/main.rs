//! Integration tests: one binary, a module per behaviour.

mod analysis;
mod cli;
mod messaging;
mod support;
mod theory;
