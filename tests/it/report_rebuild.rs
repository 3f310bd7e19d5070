//! `kendall report DIR`: an output directory's charts, report.html and derived files rebuilt from
//! what it holds, without simulating, byte for byte; a directory that cannot be rebuilt is
//! refused with exit status 2, naming the file, and nothing is written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{kendall, run, temp};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");

/// Short runs: the rebuild does not depend on the length.
const SHORT: [&str; 6] = ["--duration", "200s", "--warmup", "20s", "--replications", "3"];

/// Every file under `dir`, by path relative to it, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = fs::read(&path).expect("a readable file");
                files.insert(path.strip_prefix(dir).expect("under dir").to_owned(), bytes);
            }
        }
    }
    files
}

/// Deletes the charts, report.html and each of `derived` in `dir`.
fn delete_outputs(dir: &Path, derived: &[&str]) {
    fs::remove_dir_all(dir.join("charts")).expect("charts/ was written");
    for name in derived.iter().chain(&["report.html"]) {
        fs::remove_file(dir.join(name)).unwrap_or_else(|_| panic!("{name} was written"));
    }
}

/// `kendall report DIR` with the extra arguments, run from `cwd`.
fn report(dir: &Path, cwd: &Path, extra: &[&str]) -> Output {
    kendall().arg("report").arg(dir).args(extra).current_dir(cwd).output().expect("kendall runs")
}

/// Asserts that `kendall report` rebuilt `dir` into exactly `before`, and listed what it wrote.
fn assert_rebuilt(dir: &Path, before: &BTreeMap<PathBuf, Vec<u8>>, output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("rewrote ") && stdout.contains("report.html"), "{what}: {stdout}");
    let after = snapshot(dir);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "{what}: the files");
    for (name, bytes) in before {
        assert!(after[name] == *bytes, "{what}: {} differs when rebuilt", name.display());
    }
}

#[test]
fn a_run_is_rebuilt_byte_for_byte_from_its_records() {
    // iot-pipeline: priority classes and an exchange; mm1 under a precision target, so that the
    // precision report is judged again on the records; black-friday: a trace (read from the
    // original file's directory, whatever the working directory) and a time series.
    let traces = temp();
    let copy = traces.path().join("black-friday.toml");
    fs::copy(Path::new(SCENARIOS).join("black-friday.toml"), &copy).expect("scenario copied");
    fs::create_dir(traces.path().join("traces")).expect("a traces directory");
    fs::copy(Path::new(SCENARIOS).join("traces/orders.csv"), traces.path().join("traces/orders.csv"))
        .expect("trace copied");
    let cases: [(PathBuf, &[&str], &[&str]); 3] = [
        (Path::new(SCENARIOS).join("iot-pipeline.toml"), &SHORT, &[]),
        (
            Path::new(SCENARIOS).join("mm1.toml"),
            &["--duration", "300s", "--replications", "2", "--precision", "30%", "--max-replications", "6"],
            &[],
        ),
        (copy, &["--duration", "20m", "--replications", "2"], &["timeseries.csv"]),
    ];
    for (scenario, args, extra) in cases {
        let out = temp();
        let ran = run(&scenario, out.path(), args);
        assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
        let before = snapshot(out.path());
        for kept in ["scenario.toml", "run.json", "command.json", "replications.jsonl"] {
            assert!(before.contains_key(Path::new(kept)), "the run keeps {kept}");
        }
        assert_eq!(before[Path::new("scenario.toml")], fs::read(&scenario).expect("the scenario"));
        let mut derived = vec!["summary.json", "summary.csv", "replications.csv"];
        derived.extend(extra);
        delete_outputs(out.path(), &derived);
        let elsewhere = temp();
        let output = report(out.path(), elsewhere.path(), &[]);
        assert_rebuilt(out.path(), &before, &output, &scenario.display().to_string());
    }
}

#[test]
fn a_sweep_a_comparison_and_a_plan_are_rebuilt_from_their_json() {
    // mm1: 0.9/s into one server of mean 1 s; at 1.5 × today one server is overloaded, so the
    // plan searches the servers and draws its chart. plan.toml is kept as it is.
    let mm1 = Path::new(SCENARIOS).join("mm1.toml");
    let cases: [(&str, &[&str], &[&str]); 3] = [
        ("sweep", &["--vary", "load=0.5,0.9"], &["sweep.csv"]),
        ("compare", &["--set", "load=1.2"], &["compare.csv"]),
        ("plan", &["--slo", "latency_mean < 3s", "--load", "1.5"], &[]),
    ];
    for (command, args, derived) in cases {
        let out = temp();
        let ran = kendall()
            .arg(command)
            .arg(&mm1)
            .args(args)
            .args(["--duration", "300s", "--replications", "3", "--quiet", "--out"])
            .arg(out.path())
            .output()
            .expect("kendall runs");
        assert!(ran.status.success(), "{command}: {}", String::from_utf8_lossy(&ran.stderr));
        let before = snapshot(out.path());
        assert!(before.keys().any(|name| name.starts_with("charts")), "{command}: a chart");
        delete_outputs(out.path(), derived);
        let output = report(out.path(), out.path(), &[]);
        assert_rebuilt(out.path(), &before, &output, command);
    }
}

#[test]
fn no_charts_rebuilds_the_page_without_them_and_quiet_lists_nothing() {
    let out = temp();
    let ran = run(&Path::new(SCENARIOS).join("mm1.toml"), out.path(), &SHORT);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let summary = fs::read(out.path().join("summary.json")).expect("summary.json");
    delete_outputs(out.path(), &["summary.json"]);
    let output = report(out.path(), out.path(), &["--no-charts", "--quiet"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "--quiet lists nothing");
    assert!(!out.path().join("charts").exists(), "no chart drawn");
    let page = fs::read_to_string(out.path().join("report.html")).expect("report.html rebuilt");
    assert!(!page.contains("<h2>Charts</h2>") && page.contains("kendall run"), "a page without charts");
    assert!(fs::read(out.path().join("summary.json")).expect("summary.json rebuilt") == summary);
}

#[test]
fn a_page_redrawn_by_another_version_names_the_one_that_ran() {
    let out = temp();
    let ran = run(&Path::new(SCENARIOS).join("mm1.toml"), out.path(), &SHORT);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let path = out.path().join("command.json");
    let text = fs::read_to_string(&path).expect("command.json");
    let current = format!("\"kendall_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&current), "{text}");
    fs::write(&path, text.replace(&current, "\"kendall_version\": \"0.0.9\"")).expect("command.json");
    let output = report(out.path(), out.path(), &["--quiet"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let warning = format!("was written by kendall 0.0.9; rebuilt by kendall {}", env!("CARGO_PKG_VERSION"));
    assert!(String::from_utf8_lossy(&output.stderr).contains(&warning));
    let page = fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(page.contains("<dt>kendall version</dt><dd>0.0.9</dd>"), "the version that ran");
}

/// Asserts that `kendall report DIR` exits 2 with every fragment on stderr, prints nothing on
/// stdout and leaves the directory exactly as it was (no file written, changed or left partial).
fn assert_refused(dir: &Path, fragments: &[&str], what: &str) {
    let before = dir.is_dir().then(|| snapshot(dir));
    let output = report(dir, Path::new(SCENARIOS), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: stdout {}", String::from_utf8_lossy(&output.stdout));
    for fragment in fragments {
        assert!(stderr.contains(fragment), "{what}: stderr lacks '{fragment}': {stderr}");
    }
    if let Some(before) = before {
        assert!(snapshot(dir) == before, "{what}: the directory changed");
    }
}

/// A short run of iot-pipeline into a new directory, without its report.html.
fn run_without_page() -> tempfile::TempDir {
    let out = temp();
    let ran = run(&Path::new(SCENARIOS).join("iot-pipeline.toml"), out.path(), &SHORT);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    fs::remove_file(out.path().join("report.html")).expect("report.html was written");
    out
}

#[test]
fn directories_that_cannot_be_rebuilt_exit_2_naming_the_file() {
    let empty = temp();
    assert_refused(&empty.path().join("absent"), &["absent does not exist or is not a directory"], "absent");
    assert_refused(
        empty.path(),
        &["is not the output of kendall run, sweep, compare, plan or analyze", "command.json"],
        "empty",
    );

    let out = run_without_page();
    let records = out.path().join("replications.jsonl");
    let text = fs::read_to_string(&records).expect("records");
    let second = text.lines().nth(1).expect("a second record").to_owned();
    fs::write(&records, format!("{}\n{{\"index\": 1\n", text.lines().next().expect("a first record")))
        .expect("records rewritten");
    assert_refused(
        out.path(),
        &["replications.jsonl is corrupt", "line 2 is not a replication record"],
        "jsonl",
    );
    fs::write(&records, format!("{second}\n")).expect("records rewritten");
    assert_refused(
        out.path(),
        &["replications.jsonl does not fit", "line 1 holds replication 1, not 0"],
        "order",
    );

    let out = run_without_page();
    fs::write(out.path().join("scenario.toml"), fs::read(format!("{SCENARIOS}/mm1.toml")).expect("mm1"))
        .expect("scenario replaced");
    assert_refused(out.path(), &["does not fit", "scenario.toml", "nodes where the scenario has"], "foreign");
    fs::write(out.path().join("scenario.toml"), "[[node]]\nname = 3\n").expect("scenario broken");
    assert_refused(out.path(), &["scenario.toml:2:"], "invalid scenario");
    fs::remove_file(out.path().join("scenario.toml")).expect("scenario removed");
    assert_refused(out.path(), &["scenario.toml is missing"], "no scenario");
    fs::write(out.path().join("run.json"), "{\"scenario\": 1}").expect("run.json broken");
    assert_refused(out.path(), &["run.json is corrupt"], "run.json");
    fs::write(
        out.path().join("command.json"),
        "{\"kendall_version\": \"0.1.0\", \"command\": \"fit\", \"line\": \"\"}",
    )
    .expect("command.json broken");
    assert_refused(out.path(), &["command.json is corrupt", "unknown variant `fit`"], "command.json");

    // The trace is read where the run read it: gone from there, the rebuild says which file.
    let traces = temp();
    let copy = traces.path().join("black-friday.toml");
    fs::copy(Path::new(SCENARIOS).join("black-friday.toml"), &copy).expect("scenario copied");
    fs::create_dir(traces.path().join("traces")).expect("a traces directory");
    let trace = traces.path().join("traces/orders.csv");
    fs::copy(Path::new(SCENARIOS).join("traces/orders.csv"), &trace).expect("trace copied");
    let out = temp();
    let ran = run(&copy, out.path(), &["--duration", "10m", "--replications", "1", "--no-charts"]);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    fs::remove_file(out.path().join("report.html")).expect("report.html was written");
    fs::remove_file(&trace).expect("trace removed");
    assert_refused(out.path(), &["orders.csv"], "trace");
}
