//! Warnings in words, for the terminal.

use std::fmt;

use super::table::{count, number};
use crate::experiment::Warning;

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unstable { node, utilization, arrival_rate, capacity_rate, growth_rate } => {
                let growth = if *growth_rate > 0.0 {
                    format!("its queue grows by about {} messages/s", number(*growth_rate))
                } else {
                    "it is critically loaded: its queue grows like the square root of time".to_owned()
                };
                write!(
                    f,
                    "node '{node}' is unstable: rho = {} >= 1 (λ = {}/s, cμ = {}/s); {growth}",
                    number(*utilization),
                    number(*arrival_rate),
                    number(*capacity_rate)
                )
            }
            Self::Deadlocked { replications, of } => write!(
                f,
                "{replications} of {} deadlocked: full queues with overflow = \"block\" waited on each other, so part of the network could never move again; their figures cover the time until then",
                count(*of as u64, "replication")
            ),
            Self::StoppedEarly { replications, of, max_in_system, in_warmup } => {
                write!(
                    f,
                    "{replications} of {} stopped early with {max_in_system} messages in the system: the network is overloaded (see queue_growth_rate)",
                    count(*of as u64, "replication")
                )?;
                if *in_warmup > 0 {
                    write!(
                        f,
                        "; {in_warmup} of them during the warm-up, so their figures cover the time from 0 to the stop"
                    )?;
                }
                Ok(())
            }
            Self::Imprecise { runs, of, max_replications } => write!(
                f,
                "{runs} of {of} runs stopped at the maximum of {} with some figure still wider than the precision target (see the n of each estimate); raise --max-replications or loosen --precision",
                count(u64::from(*max_replications), "replication")
            ),
            Self::WarmupUnresolved { replications, of } => write!(
                f,
                "{replications} of {} too short for MSER-5 to find the end of the initial transient (the best truncation lay in the second half of the run): their warm-up is a guess; run longer (--duration)",
                count(*of as u64, "replication")
            ),
            Self::StoppedEarlyAtPoints { replications, of, points, of_points, past_saturation } => write!(
                f,
                "{replications} of {} stopped early at the cap on messages in the system (max_in_system), at {points} of {of_points} sweep points, {past_saturation} of them past saturation where theory expects it: their figures cover the time until the cap (see queue_growth_rate)",
                count(*of as u64, "replication")
            ),
            Self::DeadlockedAtPoints { replications, of, points, of_points } => write!(
                f,
                "{replications} of {} deadlocked, at {points} of {of_points} sweep points: full queues with overflow = \"block\" waited on each other; their figures cover the time until then",
                count(*of as u64, "replication")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_read_well_at_any_magnitude() {
        let unstable = Warning::Unstable {
            node: "parser".into(),
            utilization: 5e307,
            arrival_rate: 1e308,
            capacity_rate: 2.0,
            growth_rate: 1e308,
        };
        assert_eq!(
            unstable.to_string(),
            "node 'parser' is unstable: rho = 50.00e306 >= 1 (λ = 100.0e306/s, cμ = 2.000/s); its queue grows by about 100.0e306 messages/s"
        );
        let stopped = Warning::StoppedEarly { replications: 1, of: 1, max_in_system: 1000, in_warmup: 0 };
        assert!(stopped.to_string().starts_with("1 of 1 replication stopped early"));
        let early = Warning::StoppedEarly { replications: 2, of: 4, max_in_system: 1000, in_warmup: 2 };
        assert!(
            early.to_string().ends_with(
                "; 2 of them during the warm-up, so their figures cover the time from 0 to the stop"
            )
        );
    }
}
