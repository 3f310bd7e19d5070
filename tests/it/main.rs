//! Integration tests: one binary, a module per behaviour.

mod analyze_command;
mod backpressure;
mod balancing;
mod classes;
mod cli;
mod closed_networks;
mod deadlock;
mod erlang;
mod exact_figures;
mod fork_join;
mod headroom;
mod message_size;
mod messaging;
mod precision;
mod priorities;
mod records;
mod route_delays;
mod scenarios;
mod streams;
mod subscriber_latency;
mod support;
mod theory;
mod traffic_equations;
mod ttl;
mod warmup;
