//! The property the fuzzer checks, shared by the fuzz target and the corpus replay test
//! (tests/it/fuzz_corpus.rs): any bytes either load as a scenario, which then analyses and is
//! described without a panic and with finite figures, or are refused with a message that
//! names the file.

use std::path::Path;

/// Loads `data` as the scenario file `fuzz.toml` and checks what comes out; panics on a
/// violation.
pub fn check_scenario_bytes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.toml");
    match kendall::scenario::parse(text, "fuzz", path) {
        Err(error) => {
            let message = format!("{error}");
            assert!(message.contains("fuzz.toml"), "the message names the file: {message}");
        }
        Ok(scenario) => {
            let analysis = kendall::analytic::analyze(&scenario, None).ok();
            if let Some(analysis) = &analysis {
                for node in &analysis.nodes {
                    assert!(!node.utilization.is_nan(), "{}: utilisation is NaN", node.name);
                }
            }
            let text = kendall::report::describe(&scenario, analysis.as_ref());
            assert!(!text.is_empty(), "the scenario is described");
        }
    }
}
