//! CRC-32 bucketing: which variant an entity falls in, and whether it is inside a threshold.
//!
//! Flipt v2 (2.9 and later, `evaluation.go`): variant buckets are
//! `crc32(flagKey + entityId) % 1000` looked up in normalised cumulative boundaries computed in
//! float32 and truncated, the last one forced to 1000; boolean thresholds compare
//! `crc32(entityId + flagKey) % 100` (note the reversed order) with the percentage.

use crate::snapshot::Distribution;

/// Number of variant buckets.
pub const TOTAL_BUCKETS: u32 = 1000;

fn crc32_of(a: &str, b: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(a.as_bytes());
    h.update(b.as_bytes());
    h.finalize()
}

/// The variant bucket of an entity: `crc32(flag_key + entity_id) % 1000`.
pub fn variant_bucket(flag_key: &str, entity_id: &str) -> u32 {
    crc32_of(flag_key, entity_id) % TOTAL_BUCKETS
}

/// The threshold bucket of an entity: `crc32(entity_id + flag_key) % 100`.
pub fn threshold_bucket(entity_id: &str, flag_key: &str) -> u32 {
    crc32_of(entity_id, flag_key) % 100
}

/// Upper boundaries over the distributions with rollout > 0, as `(boundary, index)`.
pub(crate) fn boundaries(distributions: &[Distribution]) -> Vec<(u32, usize)> {
    let valid: Vec<(usize, f32)> = distributions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.rollout > 0.0)
        .map(|(i, d)| (i, d.rollout))
        .collect();
    let mut total: f32 = 0.0;
    for (_, r) in &valid {
        total += r;
    }
    let percent_multiplier: f32 = TOTAL_BUCKETS as f32 / 100.0;
    let mut cumulative: f32 = 0.0;
    let mut out = Vec::with_capacity(valid.len());
    for (n, (i, r)) in valid.iter().enumerate() {
        cumulative += (r / total) * 100.0;
        let bound = if n + 1 == valid.len() {
            TOTAL_BUCKETS
        } else {
            (cumulative * percent_multiplier) as u32
        };
        out.push((bound, *i));
    }
    out
}

/// The distribution an entity in `bucket` gets: the first boundary `>= bucket + 1`.
pub(crate) fn pick(boundaries: &[(u32, usize)], bucket: u32) -> Option<usize> {
    let target = bucket + 1;
    let i = boundaries.partition_point(|(b, _)| *b < target);
    boundaries.get(i).map(|(_, d)| *d)
}
