//! Engine throughput: events per second on one core for an M/M/1, an M/M/8 and a 10-node
//! network, with all statistics on. Run with `cargo bench --bench engine`.

use std::path::Path;
use std::time::Instant;

use kendall::experiment::run_replication;
use kendall::model::Scenario;

const MM1: &str = r#"
    [simulation]
    duration = "10000000s"
    warmup = "1000s"
    [[source]]
    name = "clients"
    to = "server"
    interarrival = { dist = "exponential", rate = 0.9 }
    [[node]]
    name = "server"
    service = { dist = "exponential", mean = "1s" }
"#;

const MM8: &str = r#"
    [simulation]
    duration = "1500000s"
    warmup = "1000s"
    [[source]]
    name = "clients"
    to = "pool"
    interarrival = { dist = "exponential", rate = 7.2 }
    [[node]]
    name = "pool"
    servers = 8
    service = { dist = "exponential", mean = "1s" }
"#;

/// Ten nodes: a gateway fanning out by probability to eight workers, which feed a sink that
/// sends a tenth of the messages back to the gateway.
fn ten_nodes() -> String {
    let mut text = String::from(
        r#"
        [simulation]
        duration = "1000000s"
        warmup = "1000s"
        [[source]]
        name = "clients"
        to = "gateway"
        interarrival = { dist = "exponential", rate = 4.0 }
        [[node]]
        name = "gateway"
        servers = 2
        service = { dist = "exponential", mean = "0.2s" }
        routes = [
    "#,
    );
    for worker in 0..8 {
        text.push_str(&format!("{{ to = \"w{worker}\", p = 0.125 }},"));
    }
    text.push_str("]\n");
    for worker in 0..8 {
        text.push_str(&format!(
            "[[node]]\nname = \"w{worker}\"\nservice = {{ dist = \"lognormal\", mean = \"1.5s\", cv = 0.8 }}\nroutes = [{{ to = \"sink\" }}]\n"
        ));
    }
    text.push_str(
        r#"
        [[node]]
        name = "sink"
        servers = 4
        service = { dist = "exponential", mean = "0.5s" }
        routes = [{ to = "gateway", p = 0.1 }, { to = "exit", p = 0.9 }]
    "#,
    );
    text
}

fn measure(name: &str, text: &str) {
    let scenario: Scenario =
        kendall::scenario::parse(text, name, Path::new(name)).expect("benchmark scenario is valid");
    let started = Instant::now();
    let result = run_replication(scenario.network(), scenario.settings(), 0);
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = result.events as f64 / seconds;
    println!("{name:<10} {:>12} events in {seconds:>6.3}s = {:>6.2} M events/s", result.events, rate / 1e6);
}

/// The yardstick: a bare binary-heap event loop of an M/M/1 (exponential draws, a FIFO of
/// arrival times, no statistics, no messages), to compare the engine's rate with on this machine.
fn bare_heap_loop() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    let (arrivals, service) = (Exp::new(0.9).expect("rate"), Exp::new(1.0).expect("rate"));
    let mut heap: BinaryHeap<Reverse<(u64, u64, bool)>> = BinaryHeap::new();
    let mut waiting: VecDeque<f64> = VecDeque::new();
    let (mut sequence, mut busy, mut events, mut checksum) = (0u64, false, 0u64, 0.0);
    let mut push = |heap: &mut BinaryHeap<_>, time: f64, arrival: bool| {
        sequence += 1;
        heap.push(Reverse((time.to_bits(), sequence, arrival)));
    };
    push(&mut heap, arrivals.sample(&mut rng), true);
    let started = Instant::now();
    while let Some(Reverse((bits, _, arrival))) = heap.pop() {
        let now = f64::from_bits(bits);
        if now > 1e7 {
            break;
        }
        events += 1;
        if arrival {
            push(&mut heap, now + arrivals.sample(&mut rng), true);
            if busy {
                waiting.push_back(now);
            } else {
                busy = true;
                push(&mut heap, now + service.sample(&mut rng), false);
            }
        } else if let Some(arrived) = waiting.pop_front() {
            checksum += now - arrived;
            push(&mut heap, now + service.sample(&mut rng), false);
        } else {
            busy = false;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = events as f64 / seconds / 1e6;
    println!(
        "{:<10} {events:>12} events in {seconds:>6.3}s = {rate:>6.2} M events/s (checksum {checksum:.0})",
        "bare heap"
    );
}

/// Runs every benchmark, or those whose name contains the first argument
/// (`cargo bench --bench engine -- M/M/1`).
fn main() {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-')).unwrap_or_default();
    let wanted = |name: &str| name.contains(filter.as_str());
    if wanted("bare heap") {
        bare_heap_loop();
    }
    for (name, text) in [("M/M/1", MM1.to_owned()), ("M/M/8", MM8.to_owned()), ("10-node", ten_nodes())] {
        if wanted(name) {
            measure(name, &text);
        }
    }
}
