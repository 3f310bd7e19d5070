//! Fuzzes the scenario parser and validator: any bytes either load as a scenario, which then
//! analyses and describes without a panic, or give an error whose message names the file.

#![no_main]

#[path = "../check.rs"]
mod check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check::check_scenario_bytes(data));
