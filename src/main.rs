//! The `kendall` command line: a thin layer over the library.
//!
//! Exit status: 0 on success, 2 on bad input (an invalid scenario file or flag, or a run past
//! kendall's limits), 1 when output cannot be written (checked before simulating; a failure at
//! the end still prints the results), 130 when interrupted by SIGINT or SIGTERM (no `*.partial`
//! file is left, and the previous outputs stay as they were).

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use kendall::experiment::shard::{MAX_SHARDS, run_shard, units};
use kendall::experiment::{
    self, Axis, Configuration, Experiment, PlanError, PlanMode, PlanOptions, Precision, PrecisionReport,
    RunLength, RunOutcome, Shard, Slo, Streams, Sweep, Warning,
};
use kendall::model::Scenario;
use kendall::report::{
    CommandFile, CommandKind, CompareReport, Exporter, Html, Json, PlanReport, RebuildError, ReportError,
    RunFile, RunReport, ScenarioText, ShardFile, ShardSet, StudyReport, SweepReport, Table, check_writable,
    scenario_sha256, shell_command, write_files,
};
use kendall::scenario::{
    self, LoadedScenario, MAX_HORIZON_S, MAX_MESSAGES, MAX_REPLICATIONS, Overrides, ScenarioError, Variation,
    Workload, parse_duration, show_messages,
};
use kendall::trace;

/// Queueing-theory simulator and capacity planner for message-passing systems.
#[derive(Debug, Parser)]
#[command(name = "kendall", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario: independent replications in parallel, every metric with a 95% CI.
    Run(RunArgs),
    /// Validate a scenario file without simulating, and print what was understood.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Solve what theory can, in milliseconds: traffic equations, utilisation, stability, the
    /// bottleneck, the headroom and closed-form waits (exact or approximate, labelled).
    Analyze(AnalyzeArgs),
    /// Run a scenario at every point of a grid of variations: a load sweep, a servers-by-service map.
    ///
    /// Every point runs the scenario's replications with the same random streams (common random
    /// numbers), all points in one parallel pool. Prints one line per point (the varied values,
    /// the bottleneck's rho, the verdict, each source's latency mean and p99 with CI, drops,
    /// growth, the SLOs) and writes sweep.json and sweep.csv.
    Sweep(SweepArgs),
    /// Compare configurations on common random numbers: each metric's difference to the first,
    /// with a paired 95% CI.
    ///
    /// Every configuration (each file, or the first file with --set / --variant edits) runs the
    /// baseline's seed and replications, so replication i of each sees the same arrivals,
    /// headers and service times. For every metric present in all of them: each mean with its
    /// CI, and the difference to the first (the baseline) with a paired t 95% CI, marked
    /// significant (*) when the CI excludes 0. Writes compare.json and compare.csv.
    Compare(CompareArgs),
    /// Capacity planning under SLOs: the fewest servers per node that meet every SLO at a load
    /// (theory bounds and prunes, simulation confirms on the worst side of each 95% CI), or with
    /// --max-load the highest load today's servers carry within them.
    Plan(PlanArgs),
    /// Fit recorded traffic: a trace's rate overall and per window (with a test of a constant
    /// rate), the mean, cv and lag-1 autocorrelation of its gaps, and exponential, gamma,
    /// lognormal, Weibull and hyperexponential fits by maximum likelihood with AIC and a
    /// Kolmogorov-Smirnov statistic; then the `interarrival` line to paste into a scenario, and a
    /// `schedule` when the rate varies. With --column, the same for service times.
    Fit(FitArgs),
    /// Rebuild an output directory's charts and report.html, and the files derived from its
    /// results, from what it holds, without simulating: after a long run, to redraw or restyle.
    ///
    /// A run's directory is rebuilt from scenario.toml, run.json and replications.jsonl (traces
    /// are read where the run read them), a sweep's from sweep.json, a comparison's from
    /// compare.json, a plan's from plan.json, an analysis's from analysis.json; command.json says
    /// which of them made report.html. Lists what it rewrote.
    Report(ReportArgs),
    /// Merge the shard files of a run, sweep or comparison split with --shard into the outputs
    /// one machine would have written: the same files, byte for byte, but the wall-clock times
    /// and the command line.
    ///
    /// Checks first that the shards belong together (same kendall version, scenario files,
    /// flags and seed), that every shard is there once and holds exactly its replications, and
    /// that the scenario files, read again where the shards read them, have not changed; else
    /// writes nothing and exits 2 naming what is missing, duplicated or mismatched.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// Shard files, or directories holding them (their shard-*-of-*.json files are read).
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    inputs: Vec<PathBuf>,
    /// Directory for the merged output files.
    #[arg(long, required = true)]
    out: PathBuf,
    /// No list of the files written: only the results (and any warnings).
    #[arg(long)]
    quiet: bool,
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Splitting a command's work across processes (the tasks of a batch job).
#[derive(Debug, clap::Args)]
struct ShardArgs {
    /// Run only shard K of N (K from 0): the replications numbered K, K+N, K+2N... of the
    /// work (every point's or configuration's replications, one after the other), and write
    /// shard-KKKK-of-NNNN.json into --out for `kendall merge`. "auto" reads K and N from
    /// SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job array), or K from
    /// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) and N from --shards.
    #[arg(long, value_name = "K/N|auto", value_parser = shard_flag)]
    shard: Option<ShardFlag>,
    /// The number of shards N, for --shard auto where the environment does not give it.
    #[arg(long, value_name = "N", requires = "shard", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SHARDS)))]
    shards: Option<u32>,
    /// Set by `kendall merge`: the shards whose records stand in for simulating (taken when
    /// used, so that the records are not held twice).
    #[arg(skip)]
    merged: RefCell<Option<ShardSet>>,
}

/// The `--shard` flag: a shard, or "auto" (from the batch system's environment).
#[derive(Debug, Clone, Copy, PartialEq)]
enum ShardFlag {
    Given(Shard),
    Auto,
}

fn shard_flag(text: &str) -> Result<ShardFlag, String> {
    if text.trim() == "auto" {
        return Ok(ShardFlag::Auto);
    }
    text.parse().map(ShardFlag::Given).map_err(|error| format!("{error}, or \"auto\""))
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The output directory, as written by kendall run, sweep or compare.
    dir: PathBuf,
    /// Write no charts (report.html then has none either).
    #[arg(long)]
    no_charts: bool,
    /// Do not list the files rewritten.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct FitArgs {
    /// The trace: CSV with a header row and a `time` column (seconds, or RFC 3339 timestamps) or
    /// a `gap` column (seconds).
    trace: PathBuf,
    /// Fit this numeric column (service times in seconds, say) instead of the gaps between
    /// arrivals, and print a `service` line.
    #[arg(long, value_name = "NAME", conflicts_with = "window")]
    column: Option<String>,
    /// The window of the rate table and the schedule, e.g. "10m" [default: a round tenth of the span].
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    window: Option<f64>,
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// A service-level objective, `[source.NAME.|node.NAME.]METRIC OP VALUE`, such as
    /// "latency_p99 < 50ms" or "node.storage.utilization <= 80%" (OP: < <= > >=). Without a
    /// scope it applies to every source (for source metrics) or every node. Repeat for several:
    /// all must hold. Met only when the worst side of the 95% CI meets it.
    #[arg(long = "slo", value_name = "EXPR", required = true, value_parser = clap::value_parser!(Slo))]
    slos: Vec<Slo>,
    /// Factor on every open source's arrival rate to plan for (1 = today's rates, 1.3 = 30% more).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = positive_factor, conflicts_with = "max_load", allow_hyphen_values = true)]
    load: f64,
    /// Highest utilisation any node may have in the plan, in (0, 1]; 1 asks only for stability.
    #[arg(long, value_name = "U", default_value_t = 1.0, value_parser = utilization_cap, allow_hyphen_values = true)]
    max_utilization: f64,
    /// Keep today's servers and find the highest load factor at which every SLO still holds
    /// (bisection to 1%, from theory's headroom): the real headroom under the SLOs.
    #[arg(long)]
    max_load: bool,
    /// Refused: a plan's search is adaptive (see `kendall run --shard`).
    #[arg(long, hide = true, value_name = "K/N|auto")]
    shard: Option<String>,
    #[command(flatten)]
    simulation: SimulationArgs,
    #[command(flatten)]
    output: OutputArgs,
}

fn positive_factor(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("invalid load factor '{text}', which should be a positive number such as 1.3")),
    }
}

fn utilization_cap(text: &str) -> Result<f64, String> {
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    match value {
        Ok(value) if value > 0.0 && value <= 1.0 => Ok(value),
        _ => Err(format!("invalid utilisation '{text}', which should be in (0, 1] such as 0.8 or 80%")),
    }
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The scenario files (TOML); the first is the baseline. One file is enough with --set or
    /// --variant. Every configuration runs the baseline's seed and replications.
    #[arg(required = true, value_name = "SCENARIO")]
    scenarios: Vec<PathBuf>,
    /// Edit the first file by path, e.g. node.storage.servers=8, load=1.5,
    /// source.NAME.interarrival.rate=900, node.NAME.service.mean=4ms; repeated, the edits
    /// together make ONE more configuration, named by them (a bad path lists the valid ones).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<Variation>,
    /// One more configuration: the first file with every space-separated PATH=VALUE of the list
    /// applied, e.g. --variant "node.storage.servers=8 load=1.2"; repeat for several.
    #[arg(long, value_name = "'PATH=VALUE ...'")]
    variant: Vec<String>,
    /// Run configuration k on the master seed plus k instead of common random numbers, with
    /// Welch's intervals: shows what common random numbers buy (intervals several times wider).
    #[arg(long)]
    independent: bool,
    #[command(flatten)]
    simulation: SimulationArgs,
    #[command(flatten)]
    shard: ShardArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl CompareArgs {
    /// The variants of the first file: the --set edits together, then each --variant.
    fn variants(&self) -> anyhow::Result<Vec<Vec<Variation>>> {
        let mut variants: Vec<Vec<Variation>> = Vec::new();
        if !self.set.is_empty() {
            variants.push(self.set.clone());
        }
        for list in &self.variant {
            let set = list.split_whitespace().map(str::parse).collect::<Result<Vec<Variation>, _>>();
            let set = set.with_context(|| format!("invalid --variant '{list}'"))?;
            anyhow::ensure!(!set.is_empty(), "invalid --variant '{list}': it holds no PATH=VALUE");
            variants.push(set);
        }
        Ok(variants)
    }
}

#[derive(Debug, clap::Args)]
struct SweepArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// A path and its values: PATH=FROM..TO:STEPS (evenly spaced, both ends included),
    /// PATH=FROM..TO (every integer) or PATH=a,b,c; values take units as in scenario files
    /// ("10ms..50ms:5"). PATH is `load` (a factor on every open source's rate), or a numeric field
    /// by entity name: node.NAME.servers, node.NAME.service.mean, source.NAME.interarrival.rate,
    /// node.NAME.capacity, simulation.duration... Repeat for a grid (the last varies fastest).
    #[arg(long = "vary", value_name = "PATH=VALUES", required = true, value_parser = clap::value_parser!(Axis))]
    vary: Vec<Axis>,
    /// A service-level objective judged at every point: [source.NAME.|node.NAME.]METRIC OP VALUE,
    /// e.g. "latency_p99 < 50ms" or "node.storage.utilization <= 0.8"; met when the worst side of
    /// its 95% CI meets it, never past saturation. Repeatable; the table names the last point
    /// meeting them all.
    #[arg(long, value_name = "EXPR", value_parser = clap::value_parser!(Slo))]
    slo: Vec<Slo>,
    #[command(flatten)]
    simulation: SimulationArgs,
    #[command(flatten)]
    shard: ShardArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// For an overloaded unbounded queue, report the time until it holds this many messages
    /// (a bounded queue uses its capacity) [default: 1000000].
    #[arg(long, value_parser = positive_count, allow_negative_numbers = true)]
    fill: Option<f64>,
    #[command(flatten)]
    output: OutputArgs,
}

fn positive_count(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("invalid message count '{text}', which should be a positive number such as 1e6")),
    }
}

/// How results are printed on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A readable table.
    Table,
    /// JSON: the document this command writes (run: summary.json, analyze: analysis.json, sweep:
    /// sweep.json, compare: compare.json, plan: plan.json; fit writes none and prints its fits).
    Json,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    simulation: SimulationArgs,
    #[command(flatten)]
    shard: ShardArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// How to simulate: the flags every simulating command shares.
#[derive(Debug, clap::Args)]
struct SimulationArgs {
    /// Number of independent replications, at most 100000 [default: the file's, else 10].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICATIONS)), allow_negative_numbers = true)]
    replications: Option<u32>,
    /// Master seed of the random streams [default: the file's, else 1].
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Observed simulated time per replication, e.g. "10000s", "2h" [default: the file's, else 10000s].
    #[arg(long, value_parser = positive_duration, allow_hyphen_values = true)]
    duration: Option<f64>,
    /// Simulated time discarded at the start of each replication, or "auto" for a warm-up each
    /// replication chooses by MSER-5 [default: the file's, else duration/10].
    #[arg(long, value_parser = warmup_flag, allow_hyphen_values = true)]
    warmup: Option<WarmupFlag>,
    /// Worker threads for the replications [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..1024), allow_negative_numbers = true)]
    threads: Option<u32>,
    /// Add replications in batches (of --replications each) until the 95% CI half-width of every
    /// non-zero mean and percentile of every node and source is within this fraction of its value,
    /// probabilities and fractions within it absolutely: "2%" or "0.02".
    #[arg(long, value_parser = precision_target, allow_hyphen_values = true)]
    precision: Option<f64>,
    /// With --precision: stop at this many replications even if some figure is still too wide.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICATIONS)), default_value_t = Precision::DEFAULT_MAX_REPLICATIONS, requires = "precision", allow_negative_numbers = true)]
    max_replications: u32,
}

impl SimulationArgs {
    /// The settings these flags override in the scenario file.
    fn overrides(&self) -> Overrides {
        Overrides {
            duration_s: self.duration,
            warmup_s: match self.warmup {
                Some(WarmupFlag::Seconds(seconds)) => Some(seconds),
                _ => None,
            },
            auto_warmup: self.warmup == Some(WarmupFlag::Auto),
            replications: self.replications,
            seed: self.seed,
            memory_max_in_system: self.memory_ceiling(),
        }
    }

    fn threads(&self) -> Option<usize> {
        self.threads.map(|t| t as usize)
    }

    /// How many replications run at once: one per thread.
    fn parallel(&self) -> usize {
        self.threads().unwrap_or_else(default_parallelism)
    }

    /// The most messages in flight each replication running at once may hold in the memory
    /// available, when it is known.
    fn memory_ceiling(&self) -> Option<u32> {
        available_memory().map(|available| scenario::memory_ceiling(available, self.parallel()))
    }

    /// Refuses a run of `replications` replications of `loaded` that would simulate too many
    /// messages (bad input), and warns when its `max_in_system` was lowered to fit in memory.
    fn check_budget(&self, loaded: &LoadedScenario, replications: u64) -> anyhow::Result<()> {
        loaded.check_workload(replications).map_err(|error| BadInput(error.into()))?;
        self.note_memory(loaded);
        Ok(())
    }

    /// Warns when the `max_in_system` of `loaded` was lowered to fit in memory.
    fn note_memory(&self, loaded: &LoadedScenario) {
        if let Some(note) = self.memory_ceiling().and_then(|c| loaded.memory_note(c, self.parallel())) {
            eprintln!("warning: {note}");
        }
    }

    /// The precision target, when one was asked for.
    fn precision(&self) -> Option<Precision> {
        self.precision
            .map(|target| Precision { max_replications: self.max_replications, ..Precision::new(target) })
    }

    /// How many replications each scenario runs: its own count, or until precise.
    fn run_length(&self) -> RunLength {
        self.precision().map_or(RunLength::Fixed, RunLength::Precise)
    }

    /// The most replications one scenario of `replications` may run, for progress bars.
    fn most_replications(&self, replications: u32) -> u64 {
        u64::from(self.precision().map_or(replications, |precision| precision.max_replications))
    }
}

fn precision_target(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = trimmed.strip_suffix('%').map_or((trimmed, 1.0), |number| (number, 100.0));
    match number.trim().parse::<f64>() {
        Ok(value) if value > 0.0 && value / scale < 1.0 => Ok(value / scale),
        _ => Err(format!(
            "invalid precision '{text}', which should be a percentage or fraction between 0 and 1, such as \"2%\" or 0.02"
        )),
    }
}

/// Where and how results go: the flags every command that writes results shares.
#[derive(Debug, clap::Args)]
struct OutputArgs {
    /// Directory for the output files [default: output/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar and no list of the files written: only the results (and any warnings).
    #[arg(long)]
    quiet: bool,
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write no charts (charts/*.svg and charts/*.png beside the data).
    #[arg(long)]
    no_charts: bool,
    /// Set by `kendall merge`: the command line report.html and command.json name, in place of
    /// this process's.
    #[arg(skip)]
    line: Option<String>,
}

impl OutputArgs {
    /// The output directory for `scenario`.
    fn dir(&self, scenario: &Scenario) -> PathBuf {
        self.out.clone().unwrap_or_else(|| Path::new("output").join(scenario.name()))
    }

    /// The files to write: the data files, then the charts unless --no-charts.
    fn files<'a, R: ?Sized>(
        &self,
        data: &[(&'a str, &'a dyn Exporter<R>)],
        charts: &[(&'a str, &'a dyn Exporter<R>)],
    ) -> Vec<(&'a str, &'a dyn Exporter<R>)> {
        let charts = if self.no_charts { &[] } else { charts };
        data.iter().chain(charts).copied().collect()
    }
}

/// The `--warmup` flag: a duration, or "auto".
#[derive(Debug, Clone, Copy, PartialEq)]
enum WarmupFlag {
    Auto,
    Seconds(f64),
}

fn warmup_flag(text: &str) -> Result<WarmupFlag, String> {
    if text.trim() == "auto" {
        return Ok(WarmupFlag::Auto);
    }
    match parse_duration(text) {
        Ok(seconds) if seconds > MAX_HORIZON_S => Err(format!(
            "warm-up '{text}' is longer than kendall's limit of {MAX_HORIZON_S:e}s (about 31 700 years) per replication"
        )),
        Ok(seconds) => Ok(WarmupFlag::Seconds(seconds)),
        Err(error) => Err(format!("{error}, or \"auto\"")),
    }
}

fn positive_duration(text: &str) -> Result<f64, String> {
    match parse_duration(text)? {
        seconds if seconds > MAX_HORIZON_S => Err(format!(
            "duration '{text}' is longer than kendall's limit of {MAX_HORIZON_S:e}s (about 31 700 years) per replication"
        )),
        seconds if seconds > 0.0 => Ok(seconds),
        _ => Err(format!("duration '{text}' must be positive")),
    }
}

/// The memory available when the command started, bytes (read once, so that every check and
/// message of a command uses the same figure).
fn available_memory() -> Option<u64> {
    static AVAILABLE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(scenario::available_memory)
}

/// The threads a parallel pool has by default: one per core.
fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// An error that means the user's input was bad (exit status 2).
#[derive(Debug)]
struct BadInput(anyhow::Error);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An interrupted command leaves no half-written file and the previous outputs as they were.
    let _ = ctrlc::set_handler(|| {
        kendall::report::abandon_partial_files();
        std::process::exit(130);
    });
    if let Some(Err(message)) = scenario::memory_override() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Analyze(args) => analyze(&args),
        Command::Compare(args) => compare(&args),
        Command::Sweep(args) => sweep(&args),
        Command::Plan(args) => plan(&args),
        Command::Fit(args) => fit(&args),
        Command::Report(args) => report(&args),
        Command::Merge(args) => merge(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report_error(&error),
    }
}

fn report_error(error: &anyhow::Error) -> ExitCode {
    if let Some(BadInput(inner)) = error.downcast_ref::<BadInput>() {
        for line in chain_text(inner).lines() {
            eprintln!("error: {line}");
        }
        return ExitCode::from(2);
    }
    let too_many_records = |cause: &(dyn std::error::Error + 'static)| {
        matches!(cause.downcast_ref(), Some(experiment::ExperimentError::RecordsTooLarge { .. }))
    };
    if error.chain().any(too_many_records) {
        eprintln!("error: {error:#}");
        return ExitCode::from(2);
    }
    if error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {error:#}");
    ExitCode::from(1)
}

/// An error and its causes joined by ": ", leaving out a cause whose words the text before it
/// already holds (an error that quotes its source), so that nothing is said twice.
fn chain_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&chain_text(&self.0))
    }
}

impl std::error::Error for BadInput {}

fn load(path: &Path) -> anyhow::Result<Scenario> {
    load_with(path, &Overrides::default())
}

fn load_with(path: &Path, overrides: &Overrides) -> anyhow::Result<Scenario> {
    scenario::load_with(path, overrides).map_err(|error: ScenarioError| BadInput(error.into()).into())
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    let loaded = LoadedScenario::load(&args.scenario, &args.simulation.overrides())
        .map_err(|error| BadInput(error.into()))?;
    let scenario = loaded.scenario();
    let text = std::fs::read_to_string(&args.scenario)
        .map(ScenarioText)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let precision = args.simulation.precision();
    let total = precision.map_or(scenario.settings().replications(), |p| p.max_replications);
    args.simulation.check_budget(&loaded, u64::from(total))?;
    let work = Work {
        files: std::slice::from_ref(&args.scenario),
        scenarios: std::slice::from_ref(scenario),
        paired: false,
    };
    let dir = args.output.dir(scenario);
    let Some(Executed { mut experiments, mut precision, .. }) =
        execute(&work, &args.simulation, &args.shard, &args.output, &dir)?
    else {
        return Ok(());
    };
    let outcome = RunOutcome::new(scenario, experiments.remove(0), precision.pop());
    let report = RunReport::new(scenario, &outcome);
    let mut files = args.output.files(&RunReport::files(), &RunReport::charts());
    let (page, command) = report_page(&args.output, CommandKind::Run);
    files.push(("report.html", &page));
    files.push(("command.json", &command));
    files.extend(report.series_files());
    files.extend(args.output.files(&[], &report.series_charts()));
    let run_file = RunFile::new(&args.scenario, scenario, &outcome)?;
    files.extend([("scenario.toml", &text as &dyn Exporter<_>), ("run.json", &run_file)]);
    let written = write_files(&dir, &report, &files);
    print_warnings(&outcome.warnings);
    deliver(&report, &args.output, written)
}

fn sweep(args: &SweepArgs) -> anyhow::Result<()> {
    let base = LoadedScenario::load(&args.scenario, &args.simulation.overrides())
        .map_err(|error| BadInput(error.into()))?;
    let plan =
        Sweep::new(&base, args.vary.clone(), args.slo.clone()).map_err(|error| BadInput(error.into()))?;
    plan.check_workload(&base, &args.simulation.run_length()).map_err(|error| BadInput(error.into()))?;
    args.simulation.note_memory(&base);
    let dir = args.output.dir(base.scenario());
    let work =
        Work { files: std::slice::from_ref(&args.scenario), scenarios: plan.scenarios(), paired: false };
    let Some(executed) = execute(&work, &args.simulation, &args.shard, &args.output, &dir)? else {
        return Ok(());
    };
    let outcome = plan.finish(executed.experiments, &executed.precision, executed.wall_seconds);
    let report = SweepReport::new(base.scenario(), &outcome);
    let mut files = args.output.files(&SweepReport::files(), &report.charts());
    let (page, command) = report_page(&args.output, CommandKind::Sweep);
    files.extend([("report.html", &page as &dyn Exporter<_>), ("command.json", &command)]);
    let written = write_files(&dir, &report, &files);
    print_warnings(&outcome.warnings);
    deliver(&report, &args.output, written)
}

/// report.html, with this process's command line and the charts unless --no-charts, and
/// command.json, which says that `kind` made it.
fn report_page(output: &OutputArgs, kind: CommandKind) -> (Html, CommandFile) {
    let line = output.line.clone().unwrap_or_else(|| {
        shell_command(std::iter::once("kendall".to_owned()).chain(std::env::args().skip(1)))
    });
    (Html::new(line.clone(), !output.no_charts), CommandFile::new(kind, line))
}

fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let rebuilt = kendall::report::rebuild(&args.dir, !args.no_charts).map_err(|error| match error {
        RebuildError::Write(_) => anyhow::Error::from(error),
        bad => BadInput(bad.into()).into(),
    })?;
    if let Some(version) = &rebuilt.other_version {
        eprintln!(
            "warning: {} was written by kendall {version}; rebuilt by kendall {}",
            args.dir.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    if !args.quiet {
        let names: Vec<String> = rebuilt.written.iter().map(|p| p.display().to_string()).collect();
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "rewrote {}", names.join(", "))?;
        stdout.flush()?;
    }
    Ok(())
}

fn print_warnings(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// Prints `report` on standard output, then the files written, or the error that kept them
/// from being written (after the results, which are then not lost).
fn deliver<R>(
    report: &R,
    output: &OutputArgs,
    written: Result<Vec<PathBuf>, ReportError>,
) -> anyhow::Result<()>
where
    Table: Exporter<R>,
    Json: Exporter<R>,
{
    match written {
        Ok(written) => print_result(report, output, &written),
        Err(error) => {
            print_result(report, output, &[])?;
            Err(anyhow::Error::from(error).context("the results above were not saved"))
        }
    }
}

/// Prints `report` on standard output in `format`, then (unless quiet) the files written.
fn print_result<R>(report: &R, output: &OutputArgs, written: &[PathBuf]) -> anyhow::Result<()>
where
    Table: Exporter<R>,
    Json: Exporter<R>,
{
    let mut stdout = std::io::stdout().lock();
    match output.format {
        Format::Table => {
            stdout.write_all(&Table.render(report)?)?;
            if !output.quiet && !written.is_empty() {
                let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
                writeln!(stdout, "\nwrote {}", names.join(", "))?;
            }
        }
        Format::Json => stdout.write_all(&Json.render(report)?)?,
    }
    stdout.flush()?;
    Ok(())
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} replications {pos}/{len} [{elapsed_precise}] {wide_bar} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

fn analyze(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let scenario = load(&args.scenario)?;
    let outcome = experiment::study(&scenario, args.fill).map_err(|error| BadInput(error.into()))?;
    print_warnings(&outcome.warnings);
    let report = StudyReport::new(&scenario, &outcome);
    let mut files = args.output.files(&StudyReport::files(), &StudyReport::charts());
    let (page, command) = report_page(&args.output, CommandKind::Analyze);
    files.extend([("report.html", &page as &dyn Exporter<_>), ("command.json", &command)]);
    let written = write_files(&args.output.dir(&scenario), &report, &files);
    deliver(&report, &args.output, written)
}

fn check(path: &Path) -> anyhow::Result<()> {
    let loaded = LoadedScenario::load(path, &Overrides::default()).map_err(|error| BadInput(error.into()))?;
    if let Err(error) = loaded.check_workload(u64::from(loaded.scenario().settings().replications())) {
        eprintln!("warning: {error} (a run would refuse it)");
    }
    let parallel = default_parallelism();
    let ceiling = available_memory().map(|available| scenario::memory_ceiling(available, parallel));
    if let Some(note) = ceiling.and_then(|ceiling| loaded.memory_note(ceiling, parallel)) {
        eprintln!("warning: {note}");
    }
    let scenario = loaded.into_scenario();
    let analysis = experiment::study(&scenario, None).ok().map(|outcome| outcome.analysis);
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", kendall::report::describe(&scenario, analysis.as_ref()))
        .context("cannot write to standard output")?;
    Ok(())
}

/// Refuses a comparison whose configurations would simulate more than [`MAX_MESSAGES`] messages,
/// each on its own or all together (at the configuration that asks the most), and warns where a
/// `max_in_system` was lowered to fit in memory.
fn check_comparison_budget(
    configurations: &[Configuration],
    simulation: &SimulationArgs,
) -> anyhow::Result<()> {
    let mut total = 0.0;
    let mut most: Option<(LoadedScenario, Workload, &str)> = None;
    for configuration in configurations {
        let loaded = LoadedScenario::load(&configuration.file, &simulation.overrides())
            .map_err(|error| BadInput(error.into()))?;
        let loaded = scenario::vary(&loaded, &configuration.set).map_err(|error| BadInput(error.into()))?;
        let replications = simulation.most_replications(configuration.scenario.settings().replications());
        let messages = loaded.check_workload(replications).map_err(|error| BadInput(error.into()))?;
        simulation.note_memory(&loaded);
        total += messages;
        if most.as_ref().is_none_or(|(_, largest, _)| messages > largest.messages()) {
            let workload = Workload::new(loaded.scenario(), replications);
            most = Some((loaded, workload, &configuration.name));
        }
    }
    match most {
        Some((loaded, workload, name)) if total > MAX_MESSAGES => Err(BadInput(
            loaded
                .workload_error(&format!(
                    "this comparison would simulate {} messages over its {} configurations, more than kendall's limit of {MAX_MESSAGES:e} for a whole comparison, all its configurations together (hours of computing); configuration '{name}' asks the most, {workload}: compare fewer configurations, shorten the duration, lower the rates or run fewer replications",
                    show_messages(total),
                    configurations.len()
                ))
                .into(),
        )
        .into()),
        _ => Ok(()),
    }
}

fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    let variants = args.variants().map_err(BadInput)?;
    let configurations = experiment::configurations(&args.scenarios, &variants, &args.simulation.overrides())
        .map_err(|error| BadInput(error.into()))?;
    check_comparison_budget(&configurations, &args.simulation)?;
    let streams = if args.independent { Streams::Independent } else { Streams::Common };
    let scenarios = experiment::compared_scenarios(&configurations, streams);
    let dir = args.output.dir(&configurations[0].scenario);
    let work = Work { files: &args.scenarios, scenarios: &scenarios, paired: true };
    let Some(executed) = execute(&work, &args.simulation, &args.shard, &args.output, &dir)? else {
        return Ok(());
    };
    let outcome = experiment::compare_experiments(
        &configurations,
        streams,
        &scenarios,
        executed.experiments,
        &executed.precision,
    );
    let report = CompareReport::new(&configurations, &outcome);
    let mut files = args.output.files(&CompareReport::files(), &CompareReport::charts());
    let (page, command) = report_page(&args.output, CommandKind::Compare);
    files.extend([("report.html", &page as &dyn Exporter<_>), ("command.json", &command)]);
    let written = write_files(&dir, &report, &files);
    for (name, warning) in &outcome.warnings {
        eprintln!("warning: {name}: {warning}");
    }
    deliver(&report, &args.output, written)
}

fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    if args.shard.is_some() {
        return Err(BadInput(anyhow::anyhow!(
            "kendall plan cannot be sharded: its search is adaptive (each round of simulations depends on \
             the last), so run it on one machine; run and sweep and compare take --shard"
        ))
        .into());
    }
    let loaded = LoadedScenario::load(&args.scenario, &args.simulation.overrides())
        .map_err(|error| BadInput(error.into()))?;
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let options = PlanOptions {
        mode: if args.max_load { PlanMode::MaxLoad } else { PlanMode::FewestServers },
        load: args.load,
        max_utilization: args.max_utilization,
        run_length: args.simulation.run_length(),
        threads: args.simulation.threads(),
    };
    experiment::plan::check_workload(&loaded, &options).map_err(|error| BadInput(error.into()))?;
    args.simulation.note_memory(&loaded);
    let dir = args.output.dir(loaded.scenario());
    check_writable(&dir)?;
    let progress = spinner(args.output.quiet);
    let outcome =
        experiment::plan(&loaded, &args.slos, &options, &|| progress.inc(1)).map_err(
            |error| match error {
                PlanError::Experiment(_) => anyhow::Error::from(error),
                bad => BadInput(bad.into()).into(),
            },
        )?;
    progress.finish_and_clear();
    let report = PlanReport::new(loaded.scenario(), &outcome, &args.slos, &text, &args.scenario)?;
    let mut files = args.output.files(&PlanReport::files(), &report.charts());
    let (page, command) = report_page(&args.output, CommandKind::Plan);
    files.extend([("report.html", &page as &dyn Exporter<_>), ("command.json", &command)]);
    let written = write_files(&dir, &report, &files);
    print_warnings(&outcome.warnings);
    deliver(&report, &args.output, written)
}

/// A progress spinner counting replications, for searches whose total is not known ahead.
fn spinner(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} replications {pos} [{elapsed_precise}]") {
        bar.set_style(style);
    }
    bar
}

fn fit(args: &FitArgs) -> anyhow::Result<()> {
    let report = match &args.column {
        Some(column) => trace::fit_column(&args.trace, column),
        None => trace::fit_arrivals(&args.trace, args.window),
    }
    .map_err(|error| BadInput(error.into()))?;
    let bytes = match args.format {
        Format::Table => Table.render(&report)?,
        Format::Json => Json.render(&report)?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&bytes)?;
    stdout.flush()?;
    Ok(())
}

/// The work of a simulating command: its scenarios (the run's, a sweep's points, the compared
/// configurations), made from `files`.
struct Work<'a> {
    /// The scenario files, whose contents a shard's hash covers.
    files: &'a [PathBuf],
    /// The scenarios to run, in order.
    scenarios: &'a [Scenario],
    /// Whether the scenarios run under a precision target together (a comparison).
    paired: bool,
}

/// The experiments of a work, run here or gathered from shards.
struct Executed {
    /// One per scenario, in order.
    experiments: Vec<Experiment>,
    /// How runs under a precision target ended.
    precision: Vec<PrecisionReport>,
    /// Wall-clock time of the simulation, seconds (the shards' sum for a merge).
    wall_seconds: f64,
}

/// Runs `work` as the flags ask: all of it; only a shard, whose file it writes into `dir`
/// (then `None`); or none, taking the records of the shards `kendall merge` read.
fn execute(
    work: &Work<'_>,
    simulation: &SimulationArgs,
    shard: &ShardArgs,
    output: &OutputArgs,
    dir: &Path,
) -> anyhow::Result<Option<Executed>> {
    check_writable(dir)?;
    if let Some(set) = shard.merged.take() {
        set.check_scenario_files(work.files).map_err(|error| BadInput(error.into()))?;
        let wall_seconds = set.wall_seconds();
        let experiments = set.experiments(work.scenarios).map_err(|error| BadInput(error.into()))?;
        return Ok(Some(Executed { experiments, precision: Vec::new(), wall_seconds }));
    }
    if let Some(flag) = shard.shard {
        run_one_shard(work, simulation, resolve_shard(flag, shard.shards, simulation)?, output, dir)?;
        return Ok(None);
    }
    let total =
        work.scenarios.iter().map(|s| simulation.most_replications(s.settings().replications())).sum();
    let progress = progress_bar(total, output.quiet);
    let started = Instant::now();
    let (experiments, precision) = experiment::run_for(
        work.scenarios,
        &simulation.run_length(),
        work.paired,
        simulation.threads(),
        &|| progress.inc(1),
    )?;
    progress.finish_and_clear();
    Ok(Some(Executed { experiments, precision, wall_seconds: started.elapsed().as_secs_f64() }))
}

/// The shard `flag` names (with `--shards`), refused under a precision target.
fn resolve_shard(flag: ShardFlag, count: Option<u32>, simulation: &SimulationArgs) -> anyhow::Result<Shard> {
    if simulation.precision.is_some() {
        return Err(BadInput(anyhow::anyhow!(
            "--shard cannot be used with --precision: a run under a precision target decides after each \
             batch whether to go on, which shards cannot; give --replications instead"
        ))
        .into());
    }
    let shard = match flag {
        ShardFlag::Given(shard) => shard,
        ShardFlag::Auto => {
            Shard::from_env(|name| std::env::var(name).ok(), count).map_err(|error| BadInput(error.into()))?
        }
    };
    if let Some(count) = count.filter(|&count| count != shard.count()) {
        return Err(BadInput(anyhow::anyhow!("--shards {count} disagrees with --shard {shard}")).into());
    }
    Ok(shard)
}

/// Runs `shard` of `work` and writes its file into `dir`.
fn run_one_shard(
    work: &Work<'_>,
    simulation: &SimulationArgs,
    shard: Shard,
    output: &OutputArgs,
    dir: &Path,
) -> anyhow::Result<()> {
    let all = units(work.scenarios).len();
    let mine = (0..all).filter(|&unit| shard.owns(unit)).count();
    let progress = progress_bar(mine as u64, output.quiet);
    let started = Instant::now();
    let results = run_shard(work.scenarios, shard, simulation.threads(), &|| progress.inc(1))?;
    progress.finish_and_clear();
    let file = ShardFile {
        kendall_version: env!("CARGO_PKG_VERSION").to_owned(),
        shard,
        scenario_sha256: scenario_sha256(work.files).context("cannot read the scenario files again")?,
        flags: shard_flags(std::env::args().skip(1)),
        seed: work.scenarios.first().map_or(0, |scenario| scenario.settings().seed()),
        directory: std::env::current_dir().context("cannot read the current directory")?,
        units: all,
        wall_seconds: started.elapsed().as_secs_f64(),
        results,
    };
    let name = shard.file_name();
    let written = write_files(dir, &(), &[(name.as_str(), &file as &dyn Exporter<()>)])?;
    if !output.quiet {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "wrote {} ({mine} of {all} replications)", written[0].display())?;
        stdout.flush()?;
    }
    Ok(())
}

/// The command and flags of `args` that decide the output files: without --shard, --shards,
/// --out, --threads, --format and --quiet.
fn shard_flags(args: impl Iterator<Item = String>) -> Vec<String> {
    const DROPPED: [&str; 5] = ["--shard", "--shards", "--out", "--threads", "--format"];
    let mut flags = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if DROPPED.contains(&arg.as_str()) {
            skip_value = true;
        } else if arg != "--quiet" && !DROPPED.iter().any(|flag| arg.starts_with(&format!("{flag}="))) {
            flags.push(arg);
        }
    }
    flags
}

fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    let set = ShardSet::read(&args.inputs).map_err(|error| BadInput(error.into()))?;
    let header = set.header();
    let out = std::path::absolute(&args.out).context("cannot read the current directory")?;
    let line = shell_command(
        std::iter::once("kendall".to_owned())
            .chain(header.flags.iter().cloned())
            .chain(["--out".to_owned(), args.out.display().to_string()]),
    );
    let mut argv: Vec<std::ffi::OsString> = vec!["kendall".into()];
    argv.extend(header.flags.iter().map(Into::into));
    argv.extend(["--out".into(), out.into_os_string()]);
    if args.quiet {
        argv.push("--quiet".into());
    }
    if args.format == Format::Json {
        argv.extend(["--format".into(), "json".into()]);
    }
    std::env::set_current_dir(&header.directory).map_err(|error| {
        BadInput(anyhow::Error::from(error).context(format!(
            "the shards ran in {}, where merge reads their scenario files again, and it cannot be entered",
            header.directory.display()
        )))
    })?;
    let cli = Cli::try_parse_from(argv).map_err(|error| {
        BadInput(anyhow::anyhow!("the shards' flags ({}) do not parse: {error}", header.flags.join(" ")))
    })?;
    match cli.command {
        Command::Run(mut run_args) => {
            (run_args.shard.merged, run_args.output.line) = (RefCell::new(Some(set)), Some(line));
            run(&run_args)
        }
        Command::Sweep(mut sweep_args) => {
            (sweep_args.shard.merged, sweep_args.output.line) = (RefCell::new(Some(set)), Some(line));
            sweep(&sweep_args)
        }
        Command::Compare(mut compare_args) => {
            (compare_args.shard.merged, compare_args.output.line) = (RefCell::new(Some(set)), Some(line));
            compare(&compare_args)
        }
        _ => Err(BadInput(anyhow::anyhow!("the shards hold no run, sweep or comparison")).into()),
    }
}
