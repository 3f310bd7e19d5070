//! The fuzzer's corpus (fuzz/corpus/scenario: the shipped scenarios it started from and the
//! inputs it kept for new coverage) replayed as an ordinary test: every file either loads,
//! analyses and is described without a panic, or is refused with a message naming the file.
//! `cargo +nightly fuzz run scenario` explores further (see fuzz/README.md).

use std::fs;
use std::path::Path;

#[path = "../../fuzz/check.rs"]
mod check;

#[test]
fn the_fuzz_corpus_loads_or_is_refused_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/scenario");
    let mut replayed = 0;
    for entry in fs::read_dir(&dir).expect("the corpus is committed") {
        let path = entry.expect("a corpus entry").path();
        let data = fs::read(&path).expect("a readable corpus file");
        let outcome = std::panic::catch_unwind(|| check::check_scenario_bytes(&data));
        assert!(outcome.is_ok(), "{} fails the fuzz check", path.display());
        replayed += 1;
    }
    assert!(replayed >= 15, "the corpus holds at least the shipped scenarios: {replayed}");
}
