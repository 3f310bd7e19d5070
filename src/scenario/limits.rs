//! What a run may ask of the machine: replications, simulated time, messages to simulate and
//! memory for the messages in flight. The settings' bounds are checked with the file; the work
//! and the memory, which depend on the command (its replications, its threads), before any
//! simulation.

use crate::model::{Arrivals, Scenario};

/// Most replications one run may have: the experiment keeps every replication's record in
/// memory (a few kilobytes each for a small network, more with many nodes or a time series).
pub const MAX_REPLICATIONS: u32 = 100_000;

/// Longest simulated time of one replication (warm-up plus duration), seconds: about 31 700
/// years, where the clock (a 64-bit float) still resolves a tenth of a millisecond.
pub const MAX_HORIZON_S: f64 = 1e12;

/// Most messages one run (all its replications) may be expected to generate: at a few million
/// events per second and core, hours of computing.
pub const MAX_MESSAGES: f64 = 1e10;

/// Memory one message in flight takes in a replication, bytes: its record, its place in a
/// queue and in the event calendar, and the growth of the arrays that hold them (about 100
/// bytes measured, rounded up).
pub const BYTES_PER_MESSAGE: u64 = 128;

/// The messages one replication of `scenario` is expected to generate: every open source's mean
/// rate over the replication's simulated time, and for a closed population at most one request
/// per client and mean think time.
#[must_use]
pub fn expected_messages(scenario: &Scenario) -> f64 {
    let settings = scenario.settings();
    let horizon_s = if settings.auto_warmup() { 2.5 * settings.duration_s() } else { settings.horizon_s() };
    scenario
        .network()
        .sources()
        .iter()
        .map(|source| match source.arrivals() {
            Arrivals::Open { .. } => {
                let rate = source.schedule().map_or_else(
                    || source.open_rate().unwrap_or(0.0),
                    |schedule| schedule.mean_over(0.0, horizon_s),
                );
                rate * horizon_s
            }
            Arrivals::Closed { population, think } if think.mean() > 0.0 => {
                f64::from(*population) * horizon_s / think.mean()
            }
            Arrivals::Closed { .. } => 0.0,
        })
        .sum()
}

/// The messages a command would simulate with one scenario: what [`MAX_MESSAGES`] bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Messages one replication is expected to generate ([`expected_messages`]).
    pub per_replication: f64,
    /// The replications it may run (a precision target's most).
    pub replications: u64,
    /// Simulated time of one replication (warm-up plus duration), seconds.
    pub horizon_s: f64,
}

impl Workload {
    /// The work of `replications` replications of `scenario`.
    #[must_use]
    pub fn new(scenario: &Scenario, replications: u64) -> Self {
        let horizon_s = scenario.settings().horizon_s();
        Self { per_replication: expected_messages(scenario), replications, horizon_s }
    }

    /// Messages over all its replications.
    #[must_use]
    pub fn messages(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // a count of replications, far below 2^53
        let replications = self.replications as f64;
        self.per_replication * replications
    }
}

/// "about 1.10e11 messages (about 1.10e9 per replication of 1.100e9s, 100 replications)".
impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages ({} per replication of {}, {} replication{})",
            show_messages(self.messages()),
            show_messages(self.per_replication),
            show_horizon(self.horizon_s),
            self.replications,
            if self.replications == 1 { "" } else { "s" }
        )
    }
}

/// A count of messages for a message: "about 1.10e11", or past f64's range (a rate of 1e308
/// for hours) "more than 1e308".
#[must_use]
pub fn show_messages(count: f64) -> String {
    if count.is_finite() { format!("about {count:.2e}") } else { "more than 1e308".to_owned() }
}

/// The environment variable that sets the memory kendall may plan for, bytes: on a machine
/// shared with other work, less than what it has available.
pub const MEMORY_VARIABLE: &str = "KENDALL_MEMORY";

/// The memory kendall may use for new work, bytes: `KENDALL_MEMORY` when set (see
/// [`memory_override`]), else the least of this machine's `MemAvailable` (/proc/meminfo) and
/// what the process's cgroup (v2) limit leaves (a container's or a batch job's); `None` where
/// none of them can be read.
#[must_use]
pub fn available_memory() -> Option<u64> {
    if let Some(Ok(bytes)) = memory_override() {
        return Some(bytes);
    }
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find_map(|line| line.strip_prefix("MemAvailable:"))?;
    let kilobytes: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    let available = kilobytes.saturating_mul(1024);
    Some(cgroup_headroom().map_or(available, |headroom| headroom.min(available)))
}

/// `KENDALL_MEMORY` read: `None` when unset; an error naming the variable when it is not a
/// number of bytes, plain ("2000000000") or with a decimal unit ("2GB", "512 MB", "1.5TB").
///
/// # Errors
/// When the variable is set to something else.
pub fn memory_override() -> Option<Result<u64, String>> {
    let text = std::env::var(MEMORY_VARIABLE).ok()?;
    Some(parse_bytes(&text).ok_or_else(|| {
        format!("{MEMORY_VARIABLE}={text:?} is not a size: give bytes, such as 2000000000 or \"2GB\" (kB, MB, GB, TB)")
    }))
}

/// A size: a number with an optional decimal unit.
fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let units = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("B", 1.0)];
    let (number, scale) = units
        .iter()
        .find_map(|(unit, scale)| text.strip_suffix(unit).map(|n| (n, *scale)))
        .unwrap_or((text, 1.0));
    let bytes = number.trim().parse::<f64>().ok()? * scale;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked to fit first
    (1.0..1.8e19).contains(&bytes).then_some(bytes as u64)
}

/// What the process's cgroup v2 memory limit leaves, bytes (`memory.max` − `memory.current`);
/// `None` without a limit or a cgroup v2 hierarchy.
fn cgroup_headroom() -> Option<u64> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = membership.lines().find_map(|line| line.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok()?.trim().parse::<u64>().ok();
    Some(read("memory.max")?.saturating_sub(read("memory.current").unwrap_or(0)))
}

/// The most messages in flight each of `parallel` replications running at once may hold
/// within half the `available` bytes (the rest is left for the results and other programs),
/// at [`BYTES_PER_MESSAGE`] each (at least 1).
#[must_use]
pub fn memory_ceiling(available: u64, parallel: usize) -> u32 {
    let parallel = u64::try_from(parallel.max(1)).unwrap_or(u64::MAX);
    let messages = available / 2 / BYTES_PER_MESSAGE / parallel;
    u32::try_from(messages).unwrap_or(u32::MAX).max(1)
}

/// A replication's simulated time for a message: as a file writes it, or in scientific
/// notation when that would take more than a few digits.
fn show_horizon(seconds: f64) -> String {
    if seconds < 1e6 { super::units::show_duration(seconds) } else { format!("{seconds:.3e}s") }
}

/// A number of bytes for a message: "1.5 GB", "512 MB".
#[must_use]
pub fn show_bytes(bytes: f64) -> String {
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    units
        .iter()
        .find(|(scale, _)| bytes >= *scale)
        .map_or_else(|| format!("{bytes} bytes"), |(scale, unit)| format!("{:.1} {unit}", bytes / scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_ceiling_shares_what_is_available_among_parallel_replications() {
        assert_eq!(memory_ceiling(2 * 128 * 1000, 1), 1000);
        assert_eq!(memory_ceiling(2 * 128 * 1000, 4), 250);
        assert_eq!(memory_ceiling(0, 2), 1);
        assert_eq!(memory_ceiling(u64::MAX, 1), u32::MAX);
    }

    #[test]
    fn expected_messages_count_every_source_over_warm_up_and_duration() {
        let text = r#"
            [simulation]
            duration = 1000
            warmup = 100
            [[source]]
            name = "open"
            to = "n"
            interarrival = { dist = "exponential", rate = 2.0 }
            [[source]]
            name = "clients"
            to = "n"
            population = 5
            think = { dist = "exponential", mean = 10.0 }
            [[node]]
            name = "n"
            service = { dist = "exponential", mean = 0.01 }
        "#;
        let scenario = crate::scenario::parse(text, "t", std::path::Path::new("t.toml")).expect("valid");
        // 2/s over 1100 s, and at most one request per client and 10 s of thinking: 5 × 1100 / 10.
        assert!((expected_messages(&scenario) - (2200.0 + 550.0)).abs() < 1e-9);
    }

    #[test]
    fn memory_sizes_read_plain_or_with_a_decimal_unit() {
        assert_eq!(parse_bytes("2000000000"), Some(2_000_000_000));
        assert_eq!(parse_bytes("2GB"), Some(2_000_000_000));
        assert_eq!(parse_bytes(" 512 MB "), Some(512_000_000));
        assert_eq!(parse_bytes("1.5TB"), Some(1_500_000_000_000));
        assert_eq!(parse_bytes("64kB"), Some(64_000));
        for bad in ["", "lots", "-1GB", "0", "2 GiB", "1e30"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn bytes_read_in_decimal_units() {
        assert_eq!(show_bytes(549_755_813_760.0), "549.8 GB");
        assert_eq!(show_bytes(2_000_000.0), "2.0 MB");
        assert_eq!(show_bytes(12.0), "12 bytes");
    }
}
