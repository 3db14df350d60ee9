//! The impact preview's JSON (`GET /api/v1/environments/{env}/diff`, `switchyard diff --format
//! json`): serialisable views borrowing from core's `Diff` and `Impact`, so the core knows no
//! wire format and the CLI writes the same shape as the API.
//!
//! An answer is `{"variant": "key"}` (`null` key: no variant), `{"enabled": true}`, or `null`
//! for a flag that does not exist on that side.

use serde::Serialize;
use switchyard_core::impact::{Answer, FlagImpact, Impact, Population, SampleImpact, Share};
use switchyard_core::{ChangeKind, Diff};

/// The whole preview: what changed in words, and who it moves.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpactJson<'a> {
    environment: &'a str,
    from: &'a str,
    to: &'a str,
    /// Whether any entity (of the bucket space or of the samples) gets a different answer.
    changes_entities: bool,
    /// The plain-words diff, as the history shows it.
    diff: Vec<String>,
    /// The impact in plain words.
    impact: Vec<String>,
    /// Sample contexts evaluated.
    samples: usize,
    flags: Vec<FlagJson<'a>>,
}

impl<'a> ImpactJson<'a> {
    /// The view of `diff` and `impact` between `from` and `to` of `environment`.
    pub fn new(
        environment: &'a str,
        (from, to): (&'a str, &'a str),
        diff: &'a Diff,
        impact: &'a Impact,
    ) -> Self {
        ImpactJson {
            environment,
            from,
            to,
            changes_entities: impact.changes_entities(),
            diff: diff.lines(),
            impact: impact.lines(),
            samples: impact.samples,
            flags: impact.flags.iter().map(FlagJson::new).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagJson<'a> {
    namespace: &'a str,
    key: &'a str,
    change: &'static str,
    changes_entities: bool,
    /// The share of all entities when it is exact (no constrained segment), else `null`.
    exact: Option<ShareJson<'a>>,
    shares: Vec<ShareJson<'a>>,
    populations_omitted: usize,
    changed_segments: &'a [String],
    sample: Option<SampleJson<'a>>,
}

impl<'a> FlagJson<'a> {
    fn new(f: &'a FlagImpact) -> Self {
        FlagJson {
            namespace: &f.namespace,
            key: &f.key,
            change: match f.kind {
                ChangeKind::Added => "added",
                ChangeKind::Removed => "removed",
                ChangeKind::Changed => "changed",
            },
            changes_entities: f.changes_entities(),
            exact: f.exact().map(ShareJson::new),
            shares: f.shares.iter().map(ShareJson::new).collect(),
            populations_omitted: f.populations_omitted,
            changed_segments: &f.changed_segments,
            sample: f.sample.as_ref().map(SampleJson::new),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShareJson<'a> {
    /// `everyone`, `segments` or `noSegment`.
    population: &'static str,
    segments: &'a [String],
    changed_buckets: u32,
    total_buckets: u32,
    percent: String,
    summary: String,
    moves: Vec<MoveJson<'a>>,
}

impl<'a> ShareJson<'a> {
    fn new(s: &'a Share) -> Self {
        let (population, segments): (&'static str, &'a [String]) = match &s.population {
            Population::Everyone => ("everyone", &[]),
            Population::InSegments(keys) => ("segments", keys),
            Population::InNoSegment => ("noSegment", &[]),
        };
        ShareJson {
            population,
            segments,
            changed_buckets: s.changed,
            total_buckets: s.total,
            percent: s.percent(),
            summary: switchyard_core::impact::share_words(s),
            moves: s
                .moves
                .iter()
                .map(|m| MoveJson {
                    from: AnswerJson(&m.from),
                    to: AnswerJson(&m.to),
                    buckets: m.buckets,
                    percent: switchyard_core::impact::percent(m.buckets, s.total),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct MoveJson<'a> {
    from: AnswerJson<'a>,
    to: AnswerJson<'a>,
    buckets: u32,
    percent: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SampleJson<'a> {
    evaluated: usize,
    changed: usize,
    examples: Vec<ExampleJson<'a>>,
}

impl<'a> SampleJson<'a> {
    fn new(s: &'a SampleImpact) -> Self {
        SampleJson {
            evaluated: s.evaluated,
            changed: s.changed,
            examples: s
                .examples
                .iter()
                .map(|e| ExampleJson {
                    entity_id: &e.entity_id,
                    from: AnswerJson(&e.from),
                    to: AnswerJson(&e.to),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExampleJson<'a> {
    entity_id: &'a str,
    from: AnswerJson<'a>,
    to: AnswerJson<'a>,
}

/// An answer: `{"variant": …}`, `{"enabled": …}` or `null`.
struct AnswerJson<'a>(&'a Answer);

impl Serialize for AnswerJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.0 {
            Answer::Absent => s.serialize_none(),
            Answer::Variant(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("variant", v)?;
                m.end()
            }
            Answer::Boolean(b) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("enabled", b)?;
                m.end()
            }
        }
    }
}
