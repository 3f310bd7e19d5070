//! Sharded runs: `kendall run|sweep|compare --shard K/N` split the replications, and `kendall
//! merge` writes from the shard files exactly the files one machine writes (wall-clock times and
//! the command line aside), whatever N and the threads of each shard; shards that do not belong
//! together are refused with exit status 2, naming what is wrong, and nothing is written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{kendall, temp, write_scenario};

/// An M/M/1 at ρ = 0.8 with a time series: short, but with the records (histograms, series)
/// that a merge must carry.
const SCENARIO: &str = r#"
[simulation]
duration = "300s"
warmup = "30s"
replications = 10
seed = 7
sample_every = "30s"

[[source]]
name = "clients"
to = "server"
interarrival = { dist = "exponential", rate = 0.8 }

[[node]]
name = "server"
service = { dist = "exponential", mean = "1s" }
"#;

/// Every file under `dir`, by path relative to it, with its bytes, timing fields masked: the
/// `wall_seconds` of every JSON document, command.json's command line, and in report.html the
/// command line, the wall-clock time and the table's time ("events in ...s", "intervals; ...s").
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = fs::read(&path).expect("a readable file");
            let name = path.strip_prefix(dir).expect("under dir").to_owned();
            let masked = match path.extension().and_then(|e| e.to_str()) {
                Some("json") => mask_json(&bytes),
                Some("html") => mask_html(&String::from_utf8(bytes).expect("UTF-8")).into_bytes(),
                _ => bytes,
            };
            files.insert(name, masked);
        }
    }
    files
}

fn mask_json(bytes: &[u8]) -> Vec<u8> {
    fn mask(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in ["wall_seconds", "line"] {
                    if map.contains_key(key) {
                        map.insert(key.to_owned(), Value::Null);
                    }
                }
                map.values_mut().for_each(mask);
            }
            Value::Array(items) => items.iter_mut().for_each(mask),
            _ => {}
        }
    }
    let mut value: Value = serde_json::from_slice(bytes).expect("JSON");
    mask(&mut value);
    serde_json::to_vec(&value).expect("JSON")
}

/// `text` with what follows each of the markers up to its terminator replaced by `#`.
fn mask_html(text: &str) -> String {
    let mut text = text.to_owned();
    for (marker, end) in [
        ("<pre>kendall ", "</pre>"),
        ("wall-clock time</dt><dd>", "</dd>"),
        (" events in ", "s"),
        (" intervals; ", "s"),
    ] {
        let mut from = 0;
        while let Some(start) = text[from..].find(marker).map(|i| from + i + marker.len()) {
            let stop = text[start..].find(end).map_or(text.len(), |i| start + i);
            text.replace_range(start..stop, "#");
            from = start + 1;
        }
    }
    text
}

/// `kendall ARGS` from `cwd`.
fn kendall_in(cwd: &Path, args: &[&str]) -> Output {
    kendall().args(args).current_dir(cwd).output().expect("kendall runs")
}

fn assert_ok(output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Runs `args` (a command and its flags, without --out) whole into `whole`, then for each N
/// runs every shard into `shards-N` (shard K on K % 2 + 1 threads, to show that the threads do
/// not matter) and merges them into `merged-N`; asserts each merge equals the whole run.
fn assert_merges_exactly(cwd: &Path, args: &[&str], counts: &[u32]) {
    let whole = kendall_in(cwd, &[args, &["--out", "whole", "--quiet"]].concat());
    assert_ok(&whole, "the whole run");
    let expected = snapshot(&cwd.join("whole"));
    assert!(expected.contains_key(Path::new("report.html")));
    for &count in counts {
        let shards = format!("shards-{count}");
        for k in 0..count {
            let (shard, threads) = (format!("{k}/{count}"), (k % 2 + 1).to_string());
            let flags = ["--out", &shards, "--shard", &shard, "--threads", &threads, "--quiet"];
            assert_ok(&kendall_in(cwd, &[args, &flags].concat()), &shard);
        }
        assert_eq!(fs::read_dir(cwd.join(&shards)).unwrap().count(), count as usize, "one file per shard");
        let merged = format!("merged-{count}");
        assert_ok(&kendall_in(cwd, &["merge", &shards, "--out", &merged, "--quiet"]), "the merge");
        let found = snapshot(&cwd.join(&merged));
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{args:?} N={count}"
        );
        for (name, bytes) in &expected {
            assert!(found[name] == *bytes, "{args:?} in {count} shards: {} differs", name.display());
        }
    }
}

#[test]
fn shards_of_a_run_merge_into_what_one_machine_writes() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    assert_merges_exactly(dir.path(), &["run", "mm1.toml"], &[1, 3, 7]);
}

#[test]
fn shards_of_a_sweep_merge_into_what_one_machine_writes() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    let args =
        ["sweep", "mm1.toml", "--vary", "load=0.5,1", "--replications", "4", "--slo", "latency_p99 < 30s"];
    assert_merges_exactly(dir.path(), &args, &[1, 3, 7]);
}

#[test]
fn shards_of_a_comparison_merge_into_what_one_machine_writes() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    let args =
        ["compare", "mm1.toml", "--set", "node.server.servers=2", "--replications", "5", "--no-charts"];
    assert_merges_exactly(dir.path(), &args, &[3]);
}

#[test]
fn the_batch_systems_environment_names_the_shard() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    let cwd = dir.path();
    let given = kendall_in(cwd, &["run", "mm1.toml", "--out", "given", "--shard", "2/3"]);
    assert_ok(&given, "2/3");
    assert!(
        String::from_utf8_lossy(&given.stdout).contains("shard-0002-of-0003.json (3 of 10 replications)")
    );
    let slurm = kendall()
        .args(["run", "mm1.toml", "--out", "slurm", "--shard", "auto", "--quiet"])
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .current_dir(cwd)
        .output()
        .unwrap();
    assert_ok(&slurm, "slurm");
    let k8s = kendall()
        .args(["run", "mm1.toml", "--out", "k8s", "--shard", "auto", "--shards", "3", "--quiet"])
        .env("JOB_COMPLETION_INDEX", "2")
        .current_dir(cwd)
        .output()
        .unwrap();
    assert_ok(&k8s, "k8s");
    let records = |out: &str| {
        let file: Value =
            serde_json::from_slice(&fs::read(cwd.join(out).join("shard-0002-of-0003.json")).unwrap())
                .expect("a shard file");
        file["results"].clone()
    };
    assert_eq!(records("slurm"), records("given"));
    assert_eq!(records("k8s"), records("given"));
    let indices: Vec<u64> =
        records("given").as_array().unwrap().iter().map(|r| r["record"]["index"].as_u64().unwrap()).collect();
    assert_eq!(indices, [2, 5, 8], "round robin over the replications");
}

/// Asserts that `kendall ARGS` from `cwd` exits 2 with each fragment on stderr, writing nothing
/// into `out`.
fn assert_refused(cwd: &Path, args: &[&str], out: &str, fragments: &[&str]) {
    let output = kendall_in(cwd, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "{args:?}: {fragment:?} not in {stderr}");
    }
    assert!(!cwd.join(out).exists(), "{args:?} wrote {out}");
}

#[test]
fn shards_that_do_not_belong_together_are_refused_and_nothing_is_written() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    write_scenario(&dir, "other.toml", &SCENARIO.replace("rate = 0.8", "rate = 0.7"));
    let cwd = dir.path();
    let shard = |file: &str, out: &str, k: u32, extra: &[&str]| {
        let flags = ["run", file, "--out", out, "--shard", &format!("{k}/3"), "--quiet"];
        assert_ok(&kendall_in(cwd, &[&flags[..], extra].concat()), out);
        format!("{out}/shard-{k:04}-of-0003.json")
    };
    let [s0, s1, s2] = [0, 1, 2].map(|k| shard("mm1.toml", "shards", k, &[]));
    assert_refused(
        cwd,
        &["merge", &s0, &s2, "--out", "m"],
        "m",
        &["1 of 3 shards missing: 1/3", "shard-0001-of-0003.json"],
    );
    fs::copy(cwd.join(&s1), cwd.join("copy.json")).unwrap();
    assert_refused(
        cwd,
        &["merge", "shards", "copy.json", "--out", "m"],
        "m",
        &["shard 1/3 is given twice", "copy.json"],
    );
    let seed = shard("mm1.toml", "seed", 1, &["--seed", "8"]);
    assert_refused(
        cwd,
        &["merge", &s0, &seed, &s2, "--out", "m"],
        "m",
        &["not shards of the same work", "seed (8 against 7)"],
    );
    let scenario = shard("other.toml", "other", 1, &[]);
    assert_refused(
        cwd,
        &["merge", &s0, &scenario, &s2, "--out", "m"],
        "m",
        &["not shards of the same work", "scenario SHA-256"],
    );
    let bytes = fs::read(cwd.join(&s1)).unwrap();
    fs::write(cwd.join("cut.json"), &bytes[..bytes.len() / 2]).unwrap();
    assert_refused(
        cwd,
        &["merge", &s0, "cut.json", &s2, "--out", "m"],
        "m",
        &["cut.json is not a kendall shard file, or is corrupt"],
    );
    let text = String::from_utf8(bytes).unwrap();
    let results = text.find("\"results\"").expect("the records");
    let moved =
        format!("{}{}", &text[..results], text[results..].replacen("\"index\":1,", "\"index\":2,", 1));
    fs::write(cwd.join("moved.json"), moved).unwrap();
    let misplaced = "moved.json: replication 2 of scenario 0 belongs to shard 2/3, not 1/3";
    assert_refused(cwd, &["merge", &s0, "moved.json", &s2, "--out", "m"], "m", &[misplaced]);
    fs::write(cwd.join("mm1.toml"), SCENARIO.replace("rate = 0.8", "rate = 0.75")).unwrap();
    assert_refused(cwd, &["merge", "shards", "--out", "m"], "m", &["mm1.toml changed since the shards ran"]);
    assert_refused(cwd, &["merge", "nothing-here", "--out", "m"], "m", &["nothing-here"]);
}

#[test]
fn adaptive_commands_are_not_sharded() {
    let dir = temp();
    write_scenario(&dir, "mm1.toml", SCENARIO);
    let cwd = dir.path();
    assert_refused(
        cwd,
        &["run", "mm1.toml", "--shard", "0/2", "--precision", "5%", "--out", "p"],
        "p",
        &["--shard cannot be used with --precision"],
    );
    assert_refused(
        cwd,
        &["plan", "mm1.toml", "--slo", "latency_p99 < 30s", "--shard", "0/2", "--out", "p"],
        "p",
        &["kendall plan cannot be sharded"],
    );
    assert_refused(cwd, &["run", "mm1.toml", "--shard", "2/2", "--out", "p"], "p", &["invalid shard 2/2"]);
    assert_refused(cwd, &["run", "mm1.toml", "--shard", "auto", "--out", "p"], "p", &["SLURM_ARRAY_TASK_ID"]);
}
