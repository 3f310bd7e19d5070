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

use kendall::analytic::{self, Analysis};
use kendall::model::Scenario;
use kendall::report::{
    AnalysisFile, SummaryFile, pretty_json, render_analysis, render_table, write_analysis, write_outputs,
};
use kendall::scenario::{Overrides, ScenarioError, parse_duration};
use kendall::{experiment, scenario};

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
    /// Directory for analysis.json [default: output/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// No list of the files written: only the results (and any warnings).
    #[arg(long)]
    quiet: bool,
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
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
    /// The summary.json document.
    Json,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Number of independent replications [default: the file's, else 10].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    replications: Option<u32>,
    /// Master seed of the random streams [default: the file's, else 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Observed simulated time per replication, e.g. "10000s", "2h" [default: the file's, else 10000s].
    #[arg(long, value_parser = positive_duration)]
    duration: Option<f64>,
    /// Simulated time discarded at the start of each replication [default: the file's, else duration/10].
    #[arg(long, value_parser = duration_flag)]
    warmup: Option<f64>,
    /// Worker threads for the replications [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..1024))]
    threads: Option<u32>,
    /// Directory for summary.json, summary.csv and replications.csv [default: output/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar and no list of the files written: only the results (and any warnings).
    #[arg(long)]
    quiet: bool,
    /// How to print the results on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn duration_flag(text: &str) -> Result<f64, String> {
    parse_duration(text)
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
    let overrides = Overrides {
        duration_s: args.duration,
        warmup_s: args.warmup,
        replications: args.replications,
        seed: args.seed,
    };
    let scenario = load_with(&args.scenario, &overrides)?;
    let analysis = analytic::analyze(&scenario.network, None).ok();
    if let Some(analysis) = &analysis {
        warn_unstable(analysis);
    }
    let total = u64::from(scenario.settings.replications);
    let progress = progress_bar(total, args.quiet);
    let tick = || progress.inc(1);
    let threads = args.threads.map(|t| t as usize);
    let experiment = experiment::run(&scenario, threads, &tick)?;
    progress.finish_and_clear();
    let summary =
        SummaryFile::new(&scenario, &experiment.summary, analysis.as_ref(), experiment.wall_seconds);
    let dir = args.out.clone().unwrap_or_else(|| Path::new("output").join(&scenario.name));
    let written = write_outputs(&dir, &summary, &scenario, &experiment)?;
    warn_stopped_early(&scenario, &experiment);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            write!(stdout, "{}", render_table(&summary))?;
            if !args.quiet {
                let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
                writeln!(stdout, "\nwrote {}", names.join(", "))?;
            }
        }
        Format::Json => stdout.write_all(&pretty_json(&summary))?,
    }
    stdout.flush()?;
    Ok(())
}

/// Warns about every unbounded queue whose offered load is at or above its capacity.
fn warn_unstable(analysis: &Analysis) {
    for node in analysis.nodes.iter().filter(|node| node.verdict == "unstable") {
        let growth = if node.growth_rate > 0.0 {
            format!("its queue grows by about {:.6} messages/s", node.growth_rate)
        } else {
            "it is critically loaded: its queue grows like the square root of time".to_owned()
        };
        eprintln!(
            "warning: node '{}' is unstable: rho = {:.4} >= 1 (λ = {:.6}/s, cμ = {:.6}/s); {growth}",
            node.name,
            node.utilization,
            node.arrival_rate,
            node.arrival_rate - node.growth_rate,
        );
    }
}

fn warn_stopped_early(scenario: &Scenario, experiment: &experiment::Experiment) {
    let deadlocked = experiment.deadlocked();
    if deadlocked > 0 {
        eprintln!(
            "warning: {deadlocked} of {} replications deadlocked: full channels with overflow = \"block\" waited on each other, so part of the network could never move again; their figures cover the time until then",
            scenario.settings.replications
        );
    }
    let stopped = experiment.stopped_early();
    if stopped > 0 {
        eprintln!(
            "warning: {stopped} of {} replications stopped early with {} messages in the system: the network is overloaded (see queue_growth_rate)",
            scenario.settings.replications, scenario.settings.max_in_system
        );
    }
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
    let analysis = analytic::analyze(&scenario.network, args.fill).map_err(|error| BadInput(error.into()))?;
    warn_unstable(&analysis);
    let file = AnalysisFile::new(&scenario.name, &analysis, &scenario.network);
    let dir = args.out.clone().unwrap_or_else(|| Path::new("output").join(&scenario.name));
    let written = write_analysis(&dir, &file)?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            write!(stdout, "{}", render_analysis(&file))?;
            if !args.quiet {
                writeln!(stdout, "\nwrote {}", written[0].display())?;
            }
        }
        Format::Json => stdout.write_all(&pretty_json(&file))?,
    }
    stdout.flush()?;
    Ok(())
}

fn check(path: &Path) -> anyhow::Result<()> {
    let scenario = load(path)?;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", kendall::report::describe(&scenario)).context("cannot write to standard output")?;
    Ok(())
}
