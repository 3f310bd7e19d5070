//! Integration tests: one binary, a module per behaviour.

mod cli;
mod theory;
