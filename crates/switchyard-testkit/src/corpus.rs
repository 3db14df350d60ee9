//! A deterministic corpus of Flipt flag files, for benchmarks (`switchyard-core`'s
//! `build_snapshot_10k_flags`, the `gen_corpus` binary): `flags` flags and `segments`
//! segments spread over `files` files of one namespace each, every flag referencing segments.

use std::fmt::Write as _;

/// One generated file: path and YAML text.
pub struct File {
    /// Path below the environment's directory, `nsNNN/features.yaml`.
    pub path: String,
    /// The file's YAML text.
    pub text: String,
}

/// Generates the corpus. Every file is its own namespace so segment references stay local.
pub fn generate(flags: usize, segments: usize, files: usize) -> Vec<File> {
    let files = files.max(1);
    let mut out = Vec::with_capacity(files);
    for f in 0..files {
        let mut t = String::new();
        let _ = writeln!(t, "version: \"1.4\"\nnamespace: ns{f:03}\nsegments:");
        let segs: Vec<usize> = (0..segments).filter(|s| s % files == f).collect();
        for s in &segs {
            let _ = writeln!(
                t,
                "  - key: seg-{s}\n    name: Segment {s}\n    match_type: ALL_MATCH_TYPE\n    constraints:\n      - {{type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: plan-{}}}\n      - {{type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: \"{}\"}}",
                s % 7,
                s % 50
            );
        }
        let _ = writeln!(t, "flags:");
        for i in (0..flags).filter(|i| i % files == f) {
            let seg = |k: usize| {
                segs.get((i / files + k) % segs.len().max(1))
                    .map_or(0, |s| *s)
            };
            if i % 4 == 3 {
                let _ = writeln!(
                    t,
                    "  - key: flag-{i}\n    name: Flag {i}\n    type: BOOLEAN_FLAG_TYPE\n    enabled: {}\n    rollouts:\n      - segment: {{key: seg-{}, value: true}}\n      - threshold: {{percentage: {}, value: true}}",
                    i % 2 == 0,
                    seg(0),
                    i % 100
                );
            } else {
                let _ = writeln!(
                    t,
                    "  - key: flag-{i}\n    name: Flag {i}\n    type: VARIANT_FLAG_TYPE\n    enabled: true\n    metadata: {{owner: team-{}}}\n    variants:\n      - {{key: control, default: true}}\n      - {{key: treatment-a, attachment: {{color: blue, size: {i}}}}}\n      - {{key: treatment-b}}\n    rules:\n      - segment: seg-{}\n        distributions:\n          - {{variant: control, rollout: 34}}\n          - {{variant: treatment-a, rollout: 33}}\n          - {{variant: treatment-b, rollout: 33}}\n      - segment: {{keys: [seg-{}, seg-{}], operator: AND_SEGMENT_OPERATOR}}\n        distributions:\n          - {{variant: treatment-a, rollout: 100}}",
                    i % 13,
                    seg(0),
                    seg(1),
                    seg(2)
                );
            }
        }
        out.push(File {
            path: format!("ns{f:03}/features.yaml"),
            text: t,
        });
    }
    out
}
