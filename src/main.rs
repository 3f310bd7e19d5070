//! The `kendall` command line: a thin layer over the library.
//!
//! Exit status: 0 on success, 2 on bad input (an invalid scenario file or flag), 1 when output
//! cannot be written.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use kendall::experiment::{self, Precision, Warning};
use kendall::model::Scenario;
use kendall::report::{Exporter, Json, RunReport, StudyReport, Table, write_files};
use kendall::scenario::{self, Overrides, ScenarioError, parse_duration};

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
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// For an overloaded unbounded queue, report the time until it holds this many messages
    /// (a bounded queue uses its capacity) [default: 1000000].
    #[arg(long, value_parser = positive_count)]
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
    /// The JSON document the command writes (summary.json for run, analysis.json for analyze).
    Json,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    simulation: SimulationArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// How to simulate: the flags every simulating command shares.
#[derive(Debug, clap::Args)]
struct SimulationArgs {
    /// Number of independent replications [default: the file's, else 10].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    replications: Option<u32>,
    /// Master seed of the random streams [default: the file's, else 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Observed simulated time per replication, e.g. "10000s", "2h" [default: the file's, else 10000s].
    #[arg(long, value_parser = positive_duration)]
    duration: Option<f64>,
    /// Simulated time discarded at the start of each replication, or "auto" for a warm-up each
    /// replication chooses by MSER-5 [default: the file's, else duration/10].
    #[arg(long, value_parser = warmup_flag)]
    warmup: Option<WarmupFlag>,
    /// Worker threads for the replications [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..1024))]
    threads: Option<u32>,
    /// Add replications in batches (of --replications each) until the 95% CI half-width of every
    /// non-zero mean and percentile of every node and source is within this fraction of its value,
    /// probabilities and fractions within it absolutely: "2%" or "0.02".
    #[arg(long, value_parser = precision_target)]
    precision: Option<f64>,
    /// With --precision: stop at this many replications even if some figure is still too wide.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), default_value_t = Precision::DEFAULT_MAX_REPLICATIONS, requires = "precision")]
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
        }
    }

    fn threads(&self) -> Option<usize> {
        self.threads.map(|t| t as usize)
    }

    /// The precision target, when one was asked for.
    fn precision(&self) -> Option<Precision> {
        self.precision
            .map(|target| Precision { max_replications: self.max_replications, ..Precision::new(target) })
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
}

impl OutputArgs {
    /// The output directory for `scenario`.
    fn dir(&self, scenario: &Scenario) -> PathBuf {
        self.out.clone().unwrap_or_else(|| Path::new("output").join(scenario.name()))
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
    parse_duration(text).map(WarmupFlag::Seconds).map_err(|error| format!("{error}, or \"auto\""))
}

fn positive_duration(text: &str) -> Result<f64, String> {
    match parse_duration(text)? {
        seconds if seconds > 0.0 => Ok(seconds),
        _ => Err(format!("duration '{text}' must be positive")),
    }
}

/// An error that means the user's input was bad (exit status 2).
#[derive(Debug)]
struct BadInput(anyhow::Error);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Analyze(args) => analyze(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report_error(&error),
    }
}

fn report_error(error: &anyhow::Error) -> ExitCode {
    if let Some(BadInput(inner)) = error.downcast_ref::<BadInput>() {
        for line in format!("{inner:#}").lines() {
            eprintln!("error: {line}");
        }
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

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
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
    let scenario = load_with(&args.scenario, &args.simulation.overrides())?;
    let precision = args.simulation.precision();
    let total = precision.map_or(scenario.settings().replications(), |p| p.max_replications);
    let progress = progress_bar(u64::from(total), args.output.quiet);
    let threads = args.simulation.threads();
    let outcome = match &precision {
        Some(precision) => {
            experiment::simulate_until_precise(&scenario, precision, threads, &|| progress.inc(1))?
        }
        None => experiment::simulate(&scenario, threads, &|| progress.inc(1))?,
    };
    progress.finish_and_clear();
    let report = RunReport::new(&scenario, &outcome);
    let written = write_files(&args.output.dir(&scenario), &report, &RunReport::files())?;
    print_warnings(&outcome.warnings);
    print_result(&report, &args.output, &written)
}

fn print_warnings(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
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
            if !output.quiet {
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
    let written = write_files(&args.output.dir(&scenario), &report, &StudyReport::files())?;
    print_result(&report, &args.output, &written)
}

fn check(path: &Path) -> anyhow::Result<()> {
    let scenario = load(path)?;
    let analysis = experiment::study(&scenario, None).ok().map(|outcome| outcome.analysis);
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", kendall::report::describe(&scenario, analysis.as_ref()))
        .context("cannot write to standard output")?;
    Ok(())
}
