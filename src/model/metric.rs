//! The names of every reported metric, shared by simulation and theory: the keys of
//! summary.json, analysis.json and the CSV files.

/// A family of metrics with stable keys, stored as one value per metric in `ALL` order.
pub trait Metric: Copy + 'static {
    /// Every metric of the family, in report order.
    const ALL: &'static [Self];

    /// The stable key used in output files.
    fn key(self) -> &'static str;

    /// The unit of its values in files and tables: "s", "/s", or "" for counts and fractions.
    fn unit(self) -> &'static str;

    /// Position in `ALL`.
    fn index(self) -> usize;

    /// The metric with this key, if any.
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|metric| metric.key() == key)
    }
}

macro_rules! metric_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident => $key:literal in $unit:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$doc])* $variant,)+
        }

        impl Metric for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];

            fn key(self) -> &'static str {
                match self {
                    $(Self::$variant => $key,)+
                }
            }

            fn unit(self) -> &'static str {
                match self {
                    $(Self::$variant => $unit,)+
                }
            }

            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

metric_enum! {
    /// Per-node metrics. Times in seconds, rates per second, counts of messages.
    NodeMetric {
        /// Messages offered to the node per second (admitted or dropped).
        ArrivalRate => "arrival_rate" in "/s",
        /// Messages completing service per second.
        Throughput => "throughput" in "/s",
        /// Time-averaged fraction of the c servers busy.
        Utilization => "utilization" in "",
        /// Time-averaged messages in the node (waiting plus in service), L.
        MeanInSystem => "mean_in_system" in "",
        /// Time-averaged messages waiting, Lq.
        MeanInQueue => "mean_in_queue" in "",
        /// Mean wait in queue before service, Wq, of messages completing in the window.
        MeanWait => "mean_wait" in "s",
        /// Mean time in the node (wait plus service), W.
        MeanSojourn => "mean_sojourn" in "s",
        /// Fraction of the messages completing service that had to wait for a server, P(wait).
        WaitProbability => "wait_probability" in "",
        /// Median wait.
        WaitP50 => "wait_p50" in "s",
        /// 95th percentile of the wait.
        WaitP95 => "wait_p95" in "s",
        /// 99th percentile of the wait.
        WaitP99 => "wait_p99" in "s",
        /// Median sojourn.
        SojournP50 => "sojourn_p50" in "s",
        /// 95th percentile of the sojourn.
        SojournP95 => "sojourn_p95" in "s",
        /// 99th percentile of the sojourn.
        SojournP99 => "sojourn_p99" in "s",
        /// Fraction of offered messages dropped at a full queue.
        DropProbability => "drop_probability" in "",
        /// Net growth of messages in the node per second over the window (0 when stable).
        QueueGrowthRate => "queue_growth_rate" in "/s",
        /// Fraction of offered messages that expired (TTL) at the head of the queue.
        ExpiredFraction => "expired_fraction" in "",
        /// Time-averaged fraction of the servers holding a finished message that a full
        /// blocking queue downstream cannot take yet.
        BlockedFraction => "blocked_fraction" in "",
        /// Mean end-to-end latency (creation to exit) of the messages and copies that leave the
        /// system after this node: the latency seen by this subscriber.
        SubscriberLatencyMean => "subscriber_latency_mean" in "s",
        /// 99th percentile of the subscriber latency.
        SubscriberLatencyP99 => "subscriber_latency_p99" in "s",
    }
}

metric_enum! {
    /// Per-source metrics, over the messages the source created. Times in seconds.
    SourceMetric {
        /// Mean end-to-end latency (creation to exit) of delivered messages and copies.
        LatencyMean => "latency_mean" in "s",
        /// Median end-to-end latency.
        LatencyP50 => "latency_p50" in "s",
        /// 95th percentile of the end-to-end latency.
        LatencyP95 => "latency_p95" in "s",
        /// 99th percentile of the end-to-end latency.
        LatencyP99 => "latency_p99" in "s",
        /// Messages delivered (leaving the system) per second.
        Throughput => "throughput" in "/s",
        /// Delivered / (delivered + dropped), over messages (and copies) ending in the window.
        DeliveredFraction => "delivered_fraction" in "",
        /// Fraction of messages whose every copy was delivered (equal to delivered_fraction
        /// without multicast).
        AllDeliveredFraction => "all_delivered_fraction" in "",
        /// Mean time from creation until the last copy is delivered ("delivered to all"), over
        /// messages whose every copy was delivered.
        AllLatencyMean => "all_latency_mean" in "s",
        /// 99th percentile of the delivered-to-all latency.
        AllLatencyP99 => "all_latency_p99" in "s",
        /// Time-averaged number of its messages waiting to enter a full blocking queue: for an
        /// open source, the fraction of time it is blocked.
        BlockedFraction => "blocked_fraction" in "",
    }
}

metric_enum! {
    /// Per-priority-class metrics of a node with a priority discipline. Times in seconds.
    NodeClassMetric {
        /// Messages of the class completing service per second.
        Throughput => "throughput" in "/s",
        /// Mean wait in queue (for preempted messages: sojourn minus service).
        MeanWait => "mean_wait" in "s",
        /// Mean time in the node.
        MeanSojourn => "mean_sojourn" in "s",
        /// 99th percentile of the wait.
        WaitP99 => "wait_p99" in "s",
        /// 99th percentile of the sojourn.
        SojournP99 => "sojourn_p99" in "s",
    }
}

metric_enum! {
    /// Per message class, over the whole network: the end-to-end figures of its messages.
    MessageClassMetric {
        /// Messages and copies of the class leaving the system delivered, per second.
        Throughput => "throughput" in "/s",
        /// Mean end-to-end latency, creation to exit, over delivered messages and copies.
        LatencyMean => "latency_mean" in "s",
        /// Median end-to-end latency.
        LatencyP50 => "latency_p50" in "s",
        /// 95th percentile of the end-to-end latency.
        LatencyP95 => "latency_p95" in "s",
        /// 99th percentile of the end-to-end latency.
        LatencyP99 => "latency_p99" in "s",
    }
}

metric_enum! {
    /// Per-exchange metrics.
    ExchangeMetric {
        /// Messages routed per second.
        ArrivalRate => "arrival_rate" in "/s",
        /// Fraction of messages that matched no binding.
        UnroutableFraction => "unroutable_fraction" in "",
        /// Mean number of targets a message is sent to (copies per message).
        CopiesPerMessage => "copies_per_message" in "",
    }
}

/// One value per metric of a family, `None` where undefined (a wait percentile with no
/// completions, a drop probability with no arrivals).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValues<M: Metric> {
    values: Vec<Option<f64>>,
    family: std::marker::PhantomData<M>,
}

impl<M: Metric> Default for MetricValues<M> {
    fn default() -> Self {
        Self { values: vec![None; M::ALL.len()], family: std::marker::PhantomData }
    }
}

impl<M: Metric> MetricValues<M> {
    /// Sets one metric.
    pub fn set(&mut self, metric: M, value: Option<f64>) {
        self.values[metric.index()] = value.filter(|v| v.is_finite());
    }

    /// One metric's value.
    #[must_use]
    pub fn get(&self, metric: M) -> Option<f64> {
        self.values[metric.index()]
    }

    /// Every metric with its value, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (M, Option<f64>)> + '_ {
        M::ALL.iter().map(|&metric| (metric, self.get(metric)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_indices_follow_the_list() {
        for (position, &metric) in NodeMetric::ALL.iter().enumerate() {
            assert_eq!(metric.index(), position);
            assert_eq!(NodeMetric::from_key(metric.key()), Some(metric));
        }
        assert_eq!(SourceMetric::from_key("latency_p99"), Some(SourceMetric::LatencyP99));
    }
}
