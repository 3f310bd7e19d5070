//! Integration tests: one binary, a module per behaviour.

mod analyze_command;
mod backpressure;
mod balancing;
mod charts;
mod classes;
mod cli;
mod closed_networks;
mod compare;
mod deadlock;
mod erlang;
mod exact_figures;
mod fork_join;
mod headroom;
mod message_size;
mod messaging;
mod priorities;
mod records;
mod route_delays;
mod scenarios;
mod streams;
mod subscriber_latency;
mod support;
mod sweep;
mod theory;
mod traffic_equations;
mod ttl;
