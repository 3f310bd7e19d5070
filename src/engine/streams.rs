//! Independent random sub-streams, one per (seed, replication, purpose, entity name).
//!
//! # What is guaranteed
//! A stream's key is made of the seed, the replication index, the [`Purpose`] and a 64-bit hash
//! of the entity's name (FNV-1a over its UTF-8 bytes), mixed by SplitMix64; the key seeds a
//! xoshiro256++ generator. Nothing else enters it: not the entity's index, not how many
//! entities there are, not the thread count. The hash and the mixing are written out here, so
//! a key is the same on every platform and with every Rust version. Hence:
//! - the same seed gives bit-identical results whatever the thread count;
//! - a variant of a scenario (a node added, removed, renamed elsewhere, reordered, or with other
//!   parameters) hands every source, node and exchange whose name is unchanged exactly the same
//!   sequence of random numbers for each purpose (common random numbers).
//!
//! # What is not
//! The same numbers do not always mean the same figures. Each entity consumes its draws in the
//! order of its own events: a source draws an inter-arrival (or think) time per message, and
//! its headers and class when it creates the message; a node draws a service time each time
//! one of its servers starts a service, a route each time one finishes, and a delay per delayed
//! route; a work-distributing exchange draws per message it places. So:
//! - a message's headers and class depend only on its place in its source's sequence;
//! - its service time at a node is the node's next draw when a server starts it. Which server
//!   serves it does not matter (servers are identical and none is drawn), but the order in
//!   which the node starts services does. A FIFO node starts services in the order it admitted
//!   the messages, whatever its number of servers, so a variant that leaves a FIFO node's
//!   admitted arrivals unchanged (more or fewer servers there, for example) hands every message
//!   the same service time. A message dropped at a full queue, or expired before service,
//!   draws nothing, so a variant that drops or expires other messages (another capacity or TTL)
//!   shifts the draws of every later message; so does one that starts services in another
//!   order (priorities, preemption) or changes the traffic upstream. Drawing on arrival instead
//!   would keep those pairs, but would lose another: a drop-head queue and its drop-tail twin
//!   start services at the same instants, so in start order they draw the same service times
//!   and their counts are identical on every sample path;
//! - an entity whose whole sequence of events is unchanged by a variant (for example one in a
//!   part of the network that the change neither feeds nor is fed by) keeps its figures
//!   bit-identical, as long as no two events of the two parts fall at exactly the same time
//!   (equal times pop in insertion order, which the other part can shift; with continuous
//!   distributions this has probability zero).
//!
//! Two names whose hashes collide would share their streams; among n names that has
//! probability about n²/2⁶⁵.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator behind every random draw of the engine.
pub type SimRng = Xoshiro256PlusPlus;

/// What a stream is used for; each purpose of each entity has its own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// A source's inter-arrival times.
    Arrivals = 1,
    /// A node's service times.
    Service = 2,
    /// A node's routing choices.
    Routing = 3,
    /// A source's message headers (routing keys, priorities, sizes).
    Headers = 4,
    /// The network delays on a node's routes.
    Delay = 5,
    /// An exchange's work-distribution choices.
    Balancing = 6,
    /// A source's message classes.
    Classes = 7,
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 64-bit FNV-1a hash of `bytes` (offset basis and prime from the FNV specification).
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

/// The stream for one purpose of the entity (source, node or exchange) called `name`, in one
/// replication. Each mixing step is a bijection, so for a given seed, replication and purpose,
/// distinct name hashes give distinct keys.
#[must_use]
pub fn stream(seed: u64, replication: u32, purpose: Purpose, name: &str) -> SimRng {
    let key = splitmix64(splitmix64(seed) ^ u64::from(replication));
    let key = splitmix64(key ^ purpose as u64);
    let key = splitmix64(key ^ fnv1a64(name.as_bytes()));
    SimRng::seed_from_u64(key)
}

/// The streams for one purpose of each of the entities called `names`, in their order.
pub(crate) fn streams<'n>(
    seed: u64,
    replication: u32,
    purpose: Purpose,
    names: impl IntoIterator<Item = &'n str>,
) -> Vec<SimRng> {
    names.into_iter().map(|name| stream(seed, replication, purpose, name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_every_coordinate_and_repeat_exactly() {
        let first = |mut rng: SimRng| rng.next_u64();
        let base = first(stream(1, 0, Purpose::Service, "db"));
        assert_eq!(base, first(stream(1, 0, Purpose::Service, "db")));
        assert_ne!(base, first(stream(2, 0, Purpose::Service, "db")));
        assert_ne!(base, first(stream(1, 1, Purpose::Service, "db")));
        assert_ne!(base, first(stream(1, 0, Purpose::Routing, "db")));
        assert_ne!(base, first(stream(1, 0, Purpose::Service, "cache")));
    }

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference test suite (Fowler, Noll, Vo): "", "a", "foobar".
        assert_eq!(fnv1a64(b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xAF63_DC4C_8601_EC8C);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_F739_67E8);
    }

    /// The first draw of seed 1, replication 0, arrivals of "clients", computed independently
    /// of this module by a transcription in Python of the published algorithms (M = 2⁶⁴ − 1):
    /// ```text
    /// def sm(z):  # SplitMix64, one step from state z
    ///     z = (z + 0x9E3779B97F4A7C15) & M
    ///     z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///     z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///     return z ^ (z >> 31)
    /// fnv = 0xCBF29CE484222325
    /// for c in b"clients": fnv = ((fnv ^ c) * 0x100000001B3) & M
    /// key = sm(sm(sm(sm(1) ^ 0) ^ 1) ^ fnv)
    /// # rand_xoshiro seeds xoshiro256++ with four SplitMix64 outputs from `key`
    /// s = [sm((key + i * 0x9E3779B97F4A7C15) & M) for i in range(4)]
    /// rotl = lambda v, n: ((v << n) | (v >> (64 - n))) & M
    /// first = (rotl((s[0] + s[3]) & M, 23) + s[0]) & M   # = 0xA816E60B0F799B6F
    /// ```
    const PINNED_FIRST_DRAW: u64 = 0xA816_E60B_0F79_9B6F;

    #[test]
    fn a_key_is_fixed_across_platforms_and_versions() {
        // A change here changes every simulated figure of every scenario.
        let mut rng = stream(1, 0, Purpose::Arrivals, "clients");
        assert_eq!(rng.next_u64(), PINNED_FIRST_DRAW);
    }
}
