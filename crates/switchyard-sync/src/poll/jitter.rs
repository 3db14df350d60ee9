//! Poll jitter: each wait between polls is moved by up to ±[`JITTER_FRACTION`] of itself, by a
//! per-replica seed, so a fleet of replicas following one Git host does not poll it at the same
//! instant. Deterministic for a given seed and cycle number (tests give the seed).

use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Duration;

use crate::config::MIN_POLL_INTERVAL;

/// The largest share of a wait that jitter adds or removes: 10 %.
pub(crate) const JITTER_FRACTION: f64 = 0.10;

/// The jitter of one storage's poll loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Jitter {
    seed: u64,
}

impl Jitter {
    /// The jitter of storage `storage` for a replica seeded with `seed`.
    pub(crate) fn new(seed: u64, storage: &str) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325 ^ seed);
        storage.hash(&mut h);
        Jitter { seed: h.finish() }
    }

    /// `delay` moved by at most ±10 % for cycle `n`, never below [`MIN_POLL_INTERVAL`] (nor
    /// below `delay` when that is already shorter). A zero delay stays zero.
    pub(crate) fn apply(&self, delay: Duration, n: u64) -> Duration {
        if delay.is_zero() {
            return delay;
        }
        // a uniform value in [-1, 1) from the seed and the cycle
        let r = splitmix64(self.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let unit = (r >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        let moved = delay.as_secs_f64() * (1.0 + JITTER_FRACTION * unit);
        let floor = MIN_POLL_INTERVAL.min(delay);
        Duration::from_secs_f64(moved).max(floor)
    }
}

/// A seed that differs between processes (std's per-process random hasher keys, the process id
/// and the host name): the default when the configuration names none.
pub(crate) fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    std::process::id().hash(&mut h);
    std::env::var("HOSTNAME").unwrap_or_default().hash(&mut h);
    h.finish()
}

/// SplitMix64's finaliser: consecutive inputs give unrelated outputs.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, a hasher with no random keys (the storage id's part of the seed is stable).
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_seed_gives_the_same_waits_every_time() {
        let a = Jitter::new(42, "default");
        let b = Jitter::new(42, "default");
        let waits: Vec<Duration> = (0..20).map(|n| a.apply(MINUTE, n)).collect();
        assert_eq!(
            waits,
            (0..20).map(|n| b.apply(MINUTE, n)).collect::<Vec<_>>()
        );
        // pinned: a change of the function is a change of every replica's schedule
        let pinned: Vec<u128> = (0..3).map(|n| a.apply(MINUTE, n).as_millis()).collect();
        assert_eq!(pinned, vec![58326, 61034, 60756]);
    }

    #[test]
    fn waits_stay_within_ten_percent_and_spread_over_it() {
        let j = Jitter::new(7, "default");
        let waits: Vec<f64> = (0..1000)
            .map(|n| j.apply(MINUTE, n).as_secs_f64())
            .collect();
        assert!(waits.iter().all(|w| (54.0..=66.0).contains(w)), "{waits:?}");
        let (lo, hi) = waits
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), w| (l.min(*w), h.max(*w)));
        assert!(lo < 55.0 && hi > 65.0, "spread {lo}..{hi}");
        let mean = waits.iter().sum::<f64>() / waits.len() as f64;
        assert!((mean - 60.0).abs() < 1.0, "mean {mean}");
    }

    #[test]
    fn replicas_with_other_seeds_poll_at_other_times() {
        let firsts: Vec<Duration> = (0..10)
            .map(|seed| Jitter::new(seed, "default").apply(MINUTE, 0))
            .collect();
        let mut distinct = firsts.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), firsts.len(), "{firsts:?}");
        // and two storages of one replica differ too
        assert_ne!(
            Jitter::new(1, "a").apply(MINUTE, 0),
            Jitter::new(1, "b").apply(MINUTE, 0)
        );
    }

    #[test]
    fn never_below_the_floor() {
        let j = Jitter::new(3, "default");
        for n in 0..200 {
            assert!(j.apply(Duration::from_secs(1), n) >= Duration::from_secs(1));
            assert!(j.apply(Duration::from_millis(1050), n) >= Duration::from_secs(1));
            // a backoff shorter than the floor is never made shorter
            assert!(j.apply(Duration::from_millis(500), n) >= Duration::from_millis(500));
        }
        assert_eq!(j.apply(Duration::ZERO, 0), Duration::ZERO);
    }
}
