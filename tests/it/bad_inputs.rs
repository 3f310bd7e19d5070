//! The catalogue of bad inputs: every scenario file under tests/bad-inputs/ and every bad flag
//! in [`BAD_FLAGS`] must exit with status 2 and a message naming the file with a line and
//! column (or the flag), the field, and each fragment the entry expects; write nothing; and
//! finish within [`TIME_LIMIT`] without a panic.
//!
//! A catalogue file states what it expects in its first lines: `# expect: FRAGMENT`, one line
//! per fragment of the message. `# check: warns` marks a file that `kendall check` describes
//! with a warning (exit 0) and that every simulating command (run, sweep, compare, plan)
//! refuses before simulating: a run that would take too long.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::support::temp;

/// The longest any bad input may keep kendall busy.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// What a finished kendall process said.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs kendall with `args` in `dir`, killing it (and failing) after [`TIME_LIMIT`].
fn kendall_within_limit(args: &[&str], dir: &Path) -> Outcome {
    let (stdout_path, stderr_path) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("kendall"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("a file for stdout"))
        .stderr(File::create(&stderr_path).expect("a file for stderr"))
        .spawn()
        .expect("kendall starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("kendall can be waited for") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kendall {args:?} ran longer than {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read =
        |path: &Path| String::from_utf8_lossy(&fs::read(path).expect("the output is read")).into_owned();
    Outcome { code: status.code(), stdout: read(&stdout_path), stderr: read(&stderr_path) }
}

/// The catalogue's files, sorted.
fn catalogue() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/bad-inputs is there")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

/// A catalogue file's expected fragments, and whether `check` only warns.
fn expectations(path: &Path) -> (Vec<String>, bool) {
    let bytes = fs::read(path).expect("a catalogue file is read");
    let text = String::from_utf8_lossy(&bytes);
    let header = text.lines().take_while(|line| line.starts_with("# "));
    let (mut fragments, mut warns) = (Vec::new(), false);
    for line in header {
        if let Some(fragment) = line.strip_prefix("# expect: ") {
            fragments.push(fragment.to_owned());
        }
        warns |= line.starts_with("# check: warns");
    }
    assert!(!fragments.is_empty(), "{} states no '# expect:' fragment", path.display());
    (fragments, warns)
}

/// Whether `stderr` names `file` with a line and column: `file:LINE:COLUMN:`.
fn located(stderr: &str, file: &str) -> bool {
    stderr.match_indices(&format!("{file}:")).any(|(at, found)| {
        let mut parts = stderr[at + found.len()..].splitn(3, ':');
        let mut number =
            || parts.next().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        number() && number()
    })
}

/// Asserts a refusal: status 2, every fragment on stderr, nothing on stdout, no panic.
fn assert_refused(what: &str, outcome: &Outcome, fragments: &[String]) {
    let stderr = &outcome.stderr;
    assert_eq!(outcome.code, Some(2), "{what}: exit status; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment.as_str()), "{what}: stderr lacks {fragment:?}: {stderr}");
    }
    assert!(outcome.stdout.is_empty(), "{what}: stdout: {}", outcome.stdout);
}

/// Asserts that `out` (given as --out) was not created, and that `dir` holds only the copy of
/// the input and the captured output.
fn assert_nothing_written(what: &str, dir: &Path, out: &Path) {
    assert!(!out.exists(), "{what}: an output directory was created for a bad input");
    for entry in fs::read_dir(dir).expect("the work directory is read") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        assert!(name.ends_with(".toml") || name.ends_with(".txt"), "{what}: wrote {name} for a bad input");
    }
}

/// One catalogue file: refused by `run` (and, when `check` only warns, by sweep, compare and
/// plan), with its location and fragments, writing nothing; refused or warned about by
/// `check`.
fn assert_catalogued(path: &Path) {
    let (fragments, warns) = expectations(path);
    let dir = temp();
    let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
    fs::copy(path, dir.path().join(&name)).expect("the file is copied");
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let mut commands: Vec<Vec<&str>> = vec![vec!["run", &name, "--out", &out_arg, "--quiet", "--no-charts"]];
    if warns {
        commands.push(vec!["sweep", &name, "--vary", "load=1,2", "--out", &out_arg, "--quiet"]);
        commands.push(vec!["compare", &name, "--set", "load=2", "--out", &out_arg, "--quiet"]);
        commands.push(vec!["plan", &name, "--slo", "latency_p99 < 1s", "--out", &out_arg, "--quiet"]);
    }
    for args in &commands {
        let what = format!("kendall {} {name}", args[0]);
        let outcome = kendall_within_limit(args, dir.path());
        assert_refused(&what, &outcome, &fragments);
        assert!(located(&outcome.stderr, &name), "{what}: no {name}:LINE:COLUMN: in {}", outcome.stderr);
        assert_nothing_written(&what, dir.path(), &out);
    }
    let outcome = kendall_within_limit(&["check", &name], dir.path());
    if warns {
        assert_eq!(outcome.code, Some(0), "kendall check {name} describes it: {}", outcome.stderr);
        for fragment in &fragments {
            assert!(
                outcome.stderr.contains(&format!("warning: {name}:")),
                "check {name}: {}",
                outcome.stderr
            );
            assert!(
                outcome.stderr.contains(fragment.as_str()),
                "check {name} lacks {fragment:?}: {}",
                outcome.stderr
            );
        }
    } else {
        assert_refused(&format!("kendall check {name}"), &outcome, &fragments);
    }
}

#[test]
fn every_catalogued_bad_file_is_refused_with_where_and_what() {
    let files = catalogue();
    assert!(files.len() >= 80, "the catalogue holds {} files, fewer than 80", files.len());
    std::thread::scope(|scope| {
        for chunk in files.chunks(files.len().div_ceil(4)) {
            scope.spawn(move || chunk.iter().for_each(|path| assert_catalogued(path)));
        }
    });
}

/// Bad flags, each with a valid scenario (`SCENARIO`, scenarios/mm1.toml) and an output
/// directory (`OUT`) substituted, and the fragments its message must hold, the flag among them.
const BAD_FLAGS: &[(&[&str], &[&str])] = &[
    (
        &["run", "SCENARIO", "--duration", "-5"],
        &["invalid value '-5' for '--duration", "invalid duration '-5'"],
    ),
    (&["run", "SCENARIO", "--duration", "0"], &["'--duration", "duration '0' must be positive"]),
    (&["run", "SCENARIO", "--duration", "fast"], &["'--duration", "invalid duration 'fast'"]),
    (&["run", "SCENARIO", "--duration", "1e300"], &["'--duration", "longer than kendall's limit of 1e12s"]),
    (&["run", "SCENARIO", "--duration", "inf"], &["'--duration", "invalid duration 'inf'"]),
    (&["run", "SCENARIO", "--warmup", "soon"], &["'--warmup", "invalid duration 'soon'", "or \"auto\""]),
    (&["run", "SCENARIO", "--warmup", "1e300"], &["'--warmup", "longer than kendall's limit"]),
    (&["run", "SCENARIO", "--replications", "0"], &["'--replications", "not in 1..=100000"]),
    (&["run", "SCENARIO", "--replications", "1000000000"], &["'--replications", "not in 1..=100000"]),
    (&["run", "SCENARIO", "--replications", "ten"], &["'--replications"]),
    (&["run", "SCENARIO", "--threads", "0"], &["'--threads"]),
    (&["run", "SCENARIO", "--seed", "-1"], &["invalid value '-1' for '--seed"]),
    (&["run", "SCENARIO", "--replications", "-3"], &["invalid value '-3' for '--replications"]),
    (&["run", "SCENARIO", "--threads", "-2"], &["invalid value '-2' for '--threads"]),
    (&["run", "SCENARIO", "--precision", "-5%"], &["invalid precision '-5%'"]),
    (
        &["run", "SCENARIO", "--duration", "-5s"],
        &["invalid value '-5s' for '--duration", "invalid duration '-5s'"],
    ),
    (&["run", "SCENARIO", "--warmup", "-1m"], &["invalid value '-1m' for '--warmup"]),
    (
        &["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--max-utilization", "-80%"],
        &["invalid utilisation '-80%'"],
    ),
    (&["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--load", "-1.5"], &["invalid load factor '-1.5'"]),
    (&["run", "SCENARIO", "--precision", "2"], &["'--precision", "invalid precision '2'"]),
    (&["run", "SCENARIO", "--max-replications", "50"], &["--precision"]),
    (&["run", "SCENARIO", "--format", "xml"], &["'--format", "xml"]),
    (&["run", "SCENARIO", "--bogus"], &["unexpected argument '--bogus'"]),
    (&["run", "no-such-file.toml"], &["cannot read scenario file no-such-file.toml"]),
    (
        &["run", "SCENARIO", "--duration", "1e9"],
        &["mm1.toml:", "--duration, with source 'clients'", "limit of 1e10"],
    ),
    // A sweep's points and a plan's configurations are checked, not only the file's scenario.
    (
        &["sweep", "SCENARIO", "--vary", "load=1..1e9:3"],
        &["mm1.toml:", "sweep point 2 (load=1000000000)", "--vary", "limit of 1e10 for a whole sweep"],
    ),
    (
        &["sweep", "SCENARIO", "--vary", "source.clients.interarrival.rate=0.9,1e9"],
        &["mm1.toml:", "sweep point 1 (source.clients.interarrival.rate=1e9)", "limit of 1e10"],
    ),
    (
        &["sweep", "SCENARIO", "--vary", "simulation.duration=1h,1e9"],
        &["field 'duration'", "sweep point 1 (simulation.duration=1e9)", "limit of 1e10"],
    ),
    (
        // 1 to 1000 replications of 0.9/s × 1 001 000 s: each point within the limit, not all.
        &["sweep", "SCENARIO", "--vary", "simulation.replications=1..1000", "--duration", "1e6"],
        &["about 4.51e11 messages over its 1000 points", "all its points together", "point 999"],
    ),
    (
        // 20 replications would be 2.7e8 messages; a precision target's most, 1000, are 1.35e10.
        &["sweep", "SCENARIO", "--vary", "load=0.5,1", "--duration", "1e7", "--precision", "5%"],
        &["--duration, with source 'clients'", "over its 2 points", "1000 replications"],
    ),
    (
        &["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--load", "1e9"],
        &["mm1.toml:", "at --load 1.000e9", "limit of 1e10 per configuration"],
    ),
    (
        // 0.9/s × 520 001 000 s × 20 is 9.4e9 messages at today's load, 1.04e10 at the top of
        // the search, theory's headroom 1/ρ = 1.111.
        &["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--max-load", "--duration", "5.2e8"],
        &["--max-load may simulate up to 1.111 times today's load", "about 1.04e10 messages"],
    ),
    (&["check"], &["<SCENARIO>"]),
    (&["sweep", "SCENARIO"], &["--vary"]),
    (&["sweep", "SCENARIO", "--vary", "nonsense"], &["'--vary", "nonsense"]),
    (&["sweep", "SCENARIO", "--vary", "node.nope.servers=1..3"], &["node.nope.servers"]),
    (&["sweep", "SCENARIO", "--vary", "node.server.servers=3..1"], &["node.server.servers"]),
    (&["sweep", "SCENARIO", "--vary", "load=1", "--slo", "latency_p99 <"], &["'--slo"]),
    (&["compare", "SCENARIO", "--set", "node.server.servers=0"], &["node.server.servers=0", "'servers'"]),
    (&["compare", "SCENARIO", "--set", "node.server.colour=3"], &["node.server.colour"]),
    (&["compare", "SCENARIO", "--variant", " "], &["--variant", "holds no PATH=VALUE"]),
    (&["plan", "SCENARIO"], &["--slo"]),
    (
        &["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--load", "0"],
        &["'--load", "invalid load factor '0'"],
    ),
    (
        &["plan", "SCENARIO", "--slo", "latency_p99 < 1s", "--max-utilization", "2"],
        &["'--max-utilization", "invalid utilisation '2'"],
    ),
    (&["plan", "SCENARIO", "--slo", "node.nope.utilization < 0.5"], &["nope"]),
    (&["analyze", "SCENARIO", "--fill", "-1"], &["'--fill", "invalid message count '-1'"]),
    (&["fit", "no-such-trace.csv"], &["no-such-trace.csv"]),
    (&["report", "no-such-directory"], &["no-such-directory"]),
];

#[test]
fn every_bad_flag_is_refused_naming_the_flag() {
    let dir = temp();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
    fs::copy(&scenario, dir.path().join("mm1.toml")).expect("the scenario is copied");
    for (args, fragments) in BAD_FLAGS {
        let out = dir.path().join("out");
        let args: Vec<&str> =
            args.iter().map(|arg| if *arg == "SCENARIO" { "mm1.toml" } else { arg }).collect();
        let with_out = args.len() > 1 && !matches!(args[0], "check" | "fit" | "report");
        let out_arg = out.to_string_lossy().into_owned();
        let mut full = args.clone();
        if with_out {
            full.extend(["--out", &out_arg]);
        }
        let what = format!("kendall {}", args.join(" "));
        let fragments: Vec<String> = fragments.iter().map(|f| (*f).to_owned()).collect();
        let outcome = kendall_within_limit(&full, dir.path());
        assert_refused(&what, &outcome, &fragments);
        assert_nothing_written(&what, dir.path(), &out);
    }
}

/// A sweep or plan whose work is past the message limit only at some point or load is refused
/// at once (the check costs no simulation), naming the point or load, and writing nothing.
#[test]
fn sweeps_comparisons_and_plans_past_the_message_limit_are_refused_at_once() {
    let dir = temp();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
    fs::copy(&scenario, dir.path().join("mm1.toml")).expect("the scenario is copied");
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    // The comparison: 0.9/s × (1.5e9 s + 1000 s) × 4 replications = 5.4e9 messages per
    // configuration, within the limit; the two together, 1.08e10, are not.
    let refused: [(&[&str], &str); 4] = [
        (&["sweep", "mm1.toml", "--vary", "load=1..1e9:3"], "sweep point 2 (load=1000000000)"),
        (
            &[
                "compare",
                "mm1.toml",
                "--set",
                "node.server.servers=2",
                "--duration",
                "1.5e9",
                "--replications",
                "4",
            ],
            "about 1.08e10 messages over its 2 configurations",
        ),
        (&["plan", "mm1.toml", "--slo", "latency_p99 < 1s", "--load", "1e9"], "at --load 1.000e9"),
        (
            &["plan", "mm1.toml", "--slo", "latency_p99 < 1s", "--max-load", "--duration", "5.2e8"],
            "--max-load",
        ),
    ];
    for (args, fragment) in refused {
        let what = format!("kendall {}", args.join(" "));
        let mut full = args.to_vec();
        full.extend(["--out", &out_arg]);
        let started = Instant::now();
        let outcome = kendall_within_limit(&full, dir.path());
        assert!(started.elapsed() < Duration::from_secs(5), "{what} took {:?}", started.elapsed());
        assert_refused(
            &what,
            &outcome,
            &[fragment.to_owned(), "more than kendall's limit of 1e10".to_owned()],
        );
        assert!(located(&outcome.stderr, "mm1.toml"), "{what}: {}", outcome.stderr);
        assert_nothing_written(&what, dir.path(), &out);
    }
}

/// The limit applies to what a sweep or plan simulates, not to the file: 2 replications of
/// 0.9/s × 10¹⁰ s (1.8e10 messages) are refused as a run, but the same file swept or planned at
/// a millionth of its load (9 000 messages a replication) runs.
#[test]
fn a_sweep_or_plan_within_the_limit_runs_whatever_the_file_alone_would_ask() {
    let dir = temp();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
    fs::copy(&scenario, dir.path().join("mm1.toml")).expect("the scenario is copied");
    let long = ["--duration", "1e10", "--replications", "2", "--quiet", "--no-charts"];
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter().chain(&long).chain(&["--out", out_arg.as_str()]).map(|arg| (*arg).to_owned()).collect()
    };
    let run = with(&["run", "mm1.toml"]);
    let outcome = kendall_within_limit(&run.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
    assert_refused("kendall run", &outcome, &["about 1.80e10 messages".to_owned()]);
    let accepted: [(&[&str], &str); 2] = [
        (&["sweep", "mm1.toml", "--vary", "load=1e-6,2e-6"], "sweep.json"),
        (&["plan", "mm1.toml", "--slo", "latency_p99 < 1h", "--load", "1e-6"], "plan.json"),
    ];
    for (args, file) in accepted {
        let args = with(args);
        let outcome = kendall_within_limit(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        assert_eq!(outcome.code, Some(0), "kendall {}: {}", args.join(" "), outcome.stderr);
        assert!(out.join(file).exists(), "kendall {} wrote no {file}", args.join(" "));
    }
}
