//! Impact preview: which entities get a different answer from one environment to the next.
//!
//! A pure function of two [`Environment`]s (and optional sample contexts). Flipt's bucketing is
//! deterministic (`crc32(flagKey + entityId) % 1000` for variants, `crc32(entityId + flagKey) %
//! 100` for boolean thresholds, see [`crate::eval::bucket`]), so every entity of a flag falls
//! in one bucket whatever the commit, and enumerating the buckets with the evaluator itself
//! gives the exact share of entities whose answer changes.
//!
//! Segments depend on contexts, which the files do not describe. So the bucket space is
//! enumerated per *population*: when neither version uses a segment with constraints, one
//! population, [`Population::Everyone`], and the share is exact for every entity. Otherwise one
//! population per distinct set of constrained segments a rule or rollout tests ("entities in
//! exactly these segments", assumed to stay in them in both versions) and one for entities in
//! none of them. A change of a segment's constraints moves entities between populations; only
//! sample contexts ([`SampleContext`]) can count that, and they are evaluated with the real
//! evaluator in both versions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::diff::{ChangeKind, Diff, ObjectKind};
use crate::eval::bucket::TOTAL_BUCKETS;
use crate::eval::{boolean_by, evaluate, variant_by};
use crate::snapshot::{Environment, Flag, FlagType, RolloutKind, Segment};
use crate::{Evaluation, Namespace};

/// Threshold buckets of a boolean flag.
pub const THRESHOLD_BUCKETS: u32 = 100;
/// Populations analysed per flag (besides the entities in no segment); more are counted.
pub const MAX_POPULATIONS: usize = 20;
/// Changed sample entities listed per flag.
pub const MAX_EXAMPLES: usize = 5;

/// One entity to evaluate in both versions, as read from a sample-contexts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleContext {
    /// The entity id.
    pub entity_id: String,
    /// The evaluation context.
    pub context: BTreeMap<String, String>,
    /// Only flags of this namespace (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Only this flag (every flag when `None`).
    pub flag_key: Option<String>,
}

impl SampleContext {
    fn applies_to(&self, namespace: &str, flag: &str) -> bool {
        self.namespace.as_deref().is_none_or(|n| n == namespace)
            && self.flag_key.as_deref().is_none_or(|f| f == flag)
    }
}

/// What a flag answers an entity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Answer {
    /// The flag does not exist (a not-found error).
    Absent,
    /// A variant flag's variant key (`None`: no variant).
    Variant(Option<String>),
    /// A boolean flag's value.
    Boolean(bool),
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Absent => f.write_str("not found"),
            Answer::Variant(None) => f.write_str("no variant"),
            Answer::Variant(Some(k)) => f.write_str(k),
            Answer::Boolean(true) => f.write_str("on"),
            Answer::Boolean(false) => f.write_str("off"),
        }
    }
}

/// Which entities a share is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Population {
    /// Every entity: no version of the flag tests a segment with constraints, so the share is
    /// exact.
    Everyone,
    /// Entities in exactly these constrained segments (and in them in both versions).
    InSegments(Vec<String>),
    /// Entities in none of the constrained segments the flag tests.
    InNoSegment,
}

impl fmt::Display for Population {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Population::Everyone => f.write_str("all entities"),
            Population::InSegments(keys) => {
                write!(
                    f,
                    "entities in segment{} {}",
                    plural(keys.len()),
                    keys.join(" and ")
                )
            }
            Population::InNoSegment => f.write_str("entities in none of its segments"),
        }
    }
}

/// Entities moved from one answer to another, by buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The answer before.
    pub from: Answer,
    /// The answer after.
    pub to: Answer,
    /// How many buckets of the population's space moved.
    pub buckets: u32,
}

/// The share of one population whose answer changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Which entities.
    pub population: Population,
    /// Buckets whose answer changes.
    pub changed: u32,
    /// Buckets in the space.
    pub total: u32,
    /// What the changed buckets move between, largest first.
    pub moves: Vec<Move>,
}

impl Share {
    /// The changed share as a percentage text, exact (e.g. `25%`, `0.1%`).
    pub fn percent(&self) -> String {
        percent(self.changed, self.total)
    }
}

/// A sample entity whose answer changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleChange {
    /// The entity id.
    pub entity_id: String,
    /// The answer before.
    pub from: Answer,
    /// The answer after.
    pub to: Answer,
}

/// What the sample contexts say about one flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleImpact {
    /// Sample entities evaluated for this flag.
    pub evaluated: usize,
    /// Of those, how many get a different answer.
    pub changed: usize,
    /// The first [`MAX_EXAMPLES`] of them.
    pub examples: Vec<SampleChange>,
}

/// The impact of the change on one flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagImpact {
    /// Namespace key.
    pub namespace: String,
    /// Flag key.
    pub key: String,
    /// Added, removed or changed (changed also when only a segment it uses changed).
    pub kind: ChangeKind,
    /// The shares per population, exact within each.
    pub shares: Vec<Share>,
    /// Populations not analysed beyond [`MAX_POPULATIONS`].
    pub populations_omitted: usize,
    /// Constrained segments it tests whose constraints or match type changed: entities may move
    /// between populations, which only sample contexts count.
    pub changed_segments: Vec<String>,
    /// What the sample contexts say, when any apply to the flag.
    pub sample: Option<SampleImpact>,
}

impl FlagImpact {
    /// Whether some entity (of the bucket space or of the samples) gets a different answer.
    pub fn changes_entities(&self) -> bool {
        self.shares.iter().any(|s| s.changed > 0)
            || self.sample.as_ref().is_some_and(|s| s.changed > 0)
    }

    /// The exact share of all entities, when the flag tests no constrained segment.
    pub fn exact(&self) -> Option<&Share> {
        match self.shares.as_slice() {
            [s] if s.population == Population::Everyone => Some(s),
            _ => None,
        }
    }
}

/// The impact of a change on every flag it touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// Flags whose definition, or a segment they test, changed, or whose answers change; by
    /// namespace, then key.
    pub flags: Vec<FlagImpact>,
    /// Sample contexts given.
    pub samples: usize,
}

impl Impact {
    /// Whether any entity gets a different answer (the CLI's exit code 1).
    pub fn changes_entities(&self) -> bool {
        self.flags.iter().any(FlagImpact::changes_entities)
    }

    /// The impact in plain words, one line per population and per flag's samples, e.g.
    /// `flag newPaymentFlow: 25% of all entities change (off -> on 25%)`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.flags {
            let name = qualified(&f.namespace, &f.key);
            for s in &f.shares {
                out.push(format!("flag {name}: {}", share_words(s)));
            }
            if f.populations_omitted > 0 {
                out.push(format!(
                    "flag {name}: {} more populations not analysed",
                    f.populations_omitted
                ));
            }
            if !f.changed_segments.is_empty() {
                out.push(format!(
                    "flag {name}: segment{} {} changed: entities may move between populations (count them with sample contexts)",
                    plural(f.changed_segments.len()),
                    f.changed_segments.join(", ")
                ));
            }
            if let Some(s) = &f.sample {
                out.push(format!("flag {name}: {}", sample_words(s)));
            }
        }
        out
    }
}

/// `key` in the default namespace, else `namespace/key` (as the diff names flags).
pub fn qualified(namespace: &str, key: &str) -> String {
    if namespace == "default" {
        key.to_string()
    } else {
        format!("{namespace}/{key}")
    }
}

/// One population's share in words, e.g. `25% of all entities change (off -> on 25%)`.
pub fn share_words(s: &Share) -> String {
    if s.changed == 0 {
        return format!("no change for {}", s.population);
    }
    let moves: Vec<String> = s
        .moves
        .iter()
        .map(|m| format!("{} -> {} {}", m.from, m.to, percent(m.buckets, s.total)))
        .collect();
    format!(
        "{} of {} change ({})",
        s.percent(),
        s.population,
        moves.join(", ")
    )
}

/// The sample figures in words, e.g. `2 of 10 sample entities change (u1: off -> on, …)`.
pub fn sample_words(s: &SampleImpact) -> String {
    if s.changed == 0 {
        return format!("none of {} sample entities change", s.evaluated);
    }
    let examples: Vec<String> = s
        .examples
        .iter()
        .map(|e| format!("{}: {} -> {}", e.entity_id, e.from, e.to))
        .collect();
    let more = if s.changed > s.examples.len() {
        ", …"
    } else {
        ""
    };
    format!(
        "{} of {} sample entities change ({}{more})",
        s.changed,
        s.evaluated,
        examples.join(", ")
    )
}

/// `changed / total` as an exact percentage text (`25%`, `0.1%`, `33.333%`, at most three
/// decimals: every bucket space divides 100,000).
pub fn percent(changed: u32, total: u32) -> String {
    if total == 0 {
        return "0%".to_string();
    }
    let thousandths = u64::from(changed) * 100_000 / u64::from(total);
    let (whole, frac) = (thousandths / 1000, thousandths % 1000);
    if frac == 0 {
        format!("{whole}%")
    } else {
        let f = format!("{frac:03}");
        format!("{whole}.{}%", f.trim_end_matches('0'))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Computes the impact of going from `old` to `new`: every flag that `diff` (the two
/// environments' [`crate::diff()`]) lists, that tests a changed segment, or whose answers change,
/// with its shares per population and, when `samples` apply, the sample entities that change.
pub fn impact(
    old: &Environment,
    new: &Environment,
    diff: &Diff,
    samples: &[SampleContext],
) -> Impact {
    let listed: BTreeSet<(&str, &str)> = diff
        .changes
        .iter()
        .filter(|c| c.object == ObjectKind::Flag)
        .map(|c| (c.namespace.as_str(), c.key.as_str()))
        .collect();
    let mut namespaces: Vec<&String> = old.namespaces.keys().chain(new.namespaces.keys()).collect();
    namespaces.sort();
    namespaces.dedup();
    let mut flags = Vec::new();
    for ns in namespaces {
        let (o, n) = (old.namespace(ns), new.namespace(ns));
        let mut keys: Vec<&str> = o
            .iter()
            .chain(n.iter())
            .flat_map(|x| x.flags.iter().map(|f| f.key.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let a = o.and_then(|x| x.flag(key)).map(|f| &**f);
            let b = n.and_then(|x| x.flag(key)).map(|f| &**f);
            let fi = flag_impact(ns, key, (o, a), (n, b), samples);
            if fi.kind != ChangeKind::Changed
                || listed.contains(&(ns.as_str(), key))
                || !fi.changed_segments.is_empty()
                || fi.changes_entities()
            {
                flags.push(fi);
            }
        }
    }
    Impact {
        flags,
        samples: samples.len(),
    }
}

type Side<'a> = (Option<&'a std::sync::Arc<Namespace>>, Option<&'a Flag>);

fn flag_impact(
    ns: &str,
    key: &str,
    (old_ns, a): Side<'_>,
    (new_ns, b): Side<'_>,
    samples: &[SampleContext],
) -> FlagImpact {
    let kind = match (a, b) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    };
    let mut sets: Vec<Vec<String>> = Vec::new();
    for f in [a, b].into_iter().flatten() {
        for group in segment_groups(f) {
            let set: Vec<String> = group
                .iter()
                .filter(|s| !s.constraints.is_empty())
                .map(|s| s.key.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !set.is_empty() && !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    let omitted = sets.len().saturating_sub(MAX_POPULATIONS);
    sets.truncate(MAX_POPULATIONS);
    let mut populations: Vec<Population> = Vec::new();
    if sets.is_empty() {
        populations.push(Population::Everyone);
    } else {
        populations.extend(sets.into_iter().map(Population::InSegments));
        populations.push(Population::InNoSegment);
    }
    let shares = populations.into_iter().map(|p| share(a, b, p)).collect();
    FlagImpact {
        namespace: ns.to_string(),
        key: key.to_string(),
        kind,
        shares,
        populations_omitted: omitted,
        changed_segments: changed_segments(a, b, old_ns, new_ns),
        sample: sample_impact(ns, key, a, b, samples),
    }
}

/// The segment lists of a flag's rules or segment rollouts.
fn segment_groups(f: &Flag) -> Vec<&[std::sync::Arc<Segment>]> {
    let rules = f.rules.iter().map(|r| r.segments.as_slice());
    let rollouts = f.rollouts.iter().filter_map(|r| match &r.kind {
        RolloutKind::Segment { segments, .. } => Some(segments.as_slice()),
        _ => None,
    });
    rules.chain(rollouts).collect()
}

/// Constrained segments either version tests whose match type or constraints differ between
/// the two namespaces.
fn changed_segments(
    a: Option<&Flag>,
    b: Option<&Flag>,
    old_ns: Option<&std::sync::Arc<Namespace>>,
    new_ns: Option<&std::sync::Arc<Namespace>>,
) -> Vec<String> {
    let (Some(a), Some(b), Some(o), Some(n)) = (a, b, old_ns, new_ns) else {
        return Vec::new();
    };
    let used: BTreeSet<&str> = segment_groups(a)
        .into_iter()
        .chain(segment_groups(b))
        .flatten()
        .map(|s| s.key.as_str())
        .collect();
    used.into_iter()
        .filter(|k| match (o.segment(k), n.segment(k)) {
            (Some(x), Some(y)) => !same_test(x, y),
            _ => true,
        })
        .map(str::to_string)
        .collect()
}

/// Whether two versions of a segment test the same thing (match type and constraints).
fn same_test(x: &Segment, y: &Segment) -> bool {
    let key = |c: &crate::Constraint| {
        (
            c.comparison,
            c.property.clone(),
            c.operator,
            c.value.clone(),
        )
    };
    x.match_type == y.match_type
        && x.constraints.len() == y.constraints.len()
        && x.constraints
            .iter()
            .map(key)
            .eq(y.constraints.iter().map(key))
}

/// The bucket space a pair of versions spans: variant buckets, threshold buckets, or both
/// (a flag whose type changed), and an index's buckets in it.
#[derive(Clone, Copy)]
enum Space {
    Variant,
    Threshold,
    Both,
}

impl Space {
    fn of(a: Option<&Flag>, b: Option<&Flag>) -> Space {
        let types: BTreeSet<bool> = [a, b]
            .into_iter()
            .flatten()
            .map(|f| f.flag_type == FlagType::Variant)
            .collect();
        match (types.contains(&true), types.contains(&false)) {
            (true, true) => Space::Both,
            (true, false) => Space::Variant,
            _ => Space::Threshold,
        }
    }

    fn size(self) -> u32 {
        match self {
            Space::Variant => TOTAL_BUCKETS,
            Space::Threshold => THRESHOLD_BUCKETS,
            Space::Both => TOTAL_BUCKETS * THRESHOLD_BUCKETS,
        }
    }

    /// `(variant bucket, threshold bucket)` of index `i`.
    fn buckets(self, i: u32) -> (u32, u32) {
        match self {
            Space::Variant => (i, 0),
            Space::Threshold => (0, i),
            Space::Both => (i / THRESHOLD_BUCKETS, i % THRESHOLD_BUCKETS),
        }
    }
}

fn share(a: Option<&Flag>, b: Option<&Flag>, population: Population) -> Share {
    let space = Space::of(a, b);
    let is_in = |s: &Segment| match &population {
        Population::InSegments(keys) => s.constraints.is_empty() || keys.contains(&s.key),
        _ => s.constraints.is_empty(),
    };
    let mut moves: BTreeMap<(AnswerRef<'_>, AnswerRef<'_>), u32> = BTreeMap::new();
    let mut changed = 0;
    for i in 0..space.size() {
        let (vb, tb) = space.buckets(i);
        let x = answer_by(a, &is_in, vb, tb);
        let y = answer_by(b, &is_in, vb, tb);
        if x != y {
            changed += 1;
            *moves.entry((x, y)).or_default() += 1;
        }
    }
    let mut moves: Vec<Move> = moves
        .into_iter()
        .map(|((from, to), buckets)| Move {
            from: from.owned(),
            to: to.owned(),
            buckets,
        })
        .collect();
    moves.sort_by_key(|m| std::cmp::Reverse(m.buckets));
    Share {
        population,
        changed,
        total: space.size(),
        moves,
    }
}

/// An [`Answer`] borrowing the variant key, for enumerating without allocating.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AnswerRef<'f> {
    Absent,
    Variant(Option<&'f str>),
    Boolean(bool),
}

impl AnswerRef<'_> {
    fn owned(self) -> Answer {
        match self {
            AnswerRef::Absent => Answer::Absent,
            AnswerRef::Variant(v) => Answer::Variant(v.map(str::to_string)),
            AnswerRef::Boolean(b) => Answer::Boolean(b),
        }
    }
}

fn answer_by<'f>(
    flag: Option<&'f Flag>,
    is_in: &impl Fn(&Segment) -> bool,
    vb: u32,
    tb: u32,
) -> AnswerRef<'f> {
    match flag {
        None => AnswerRef::Absent,
        Some(f) if f.flag_type == FlagType::Variant => {
            AnswerRef::Variant(variant_by(f, is_in, || vb).variant.map(|v| v.key.as_str()))
        }
        Some(f) => AnswerRef::Boolean(boolean_by(f, is_in, || tb).enabled),
    }
}

fn answer_of(flag: Option<&Flag>, s: &SampleContext) -> Answer {
    match flag.map(|f| evaluate(f, &s.entity_id, &s.context)) {
        None => Answer::Absent,
        Some(Evaluation::Variant(v)) => Answer::Variant(v.variant.map(|v| v.key.clone())),
        Some(Evaluation::Boolean(b)) => Answer::Boolean(b.enabled),
    }
}

fn sample_impact(
    ns: &str,
    key: &str,
    a: Option<&Flag>,
    b: Option<&Flag>,
    samples: &[SampleContext],
) -> Option<SampleImpact> {
    let mut out = SampleImpact {
        evaluated: 0,
        changed: 0,
        examples: Vec::new(),
    };
    for s in samples.iter().filter(|s| s.applies_to(ns, key)) {
        out.evaluated += 1;
        let (from, to) = (answer_of(a, s), answer_of(b, s));
        if from != to {
            out.changed += 1;
            if out.examples.len() < MAX_EXAMPLES {
                out.examples.push(SampleChange {
                    entity_id: s.entity_id.clone(),
                    from,
                    to,
                });
            }
        }
    }
    (out.evaluated > 0).then_some(out)
}

#[cfg(test)]
mod tests;
