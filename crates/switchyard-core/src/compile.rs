//! Files to `Environment`: parse, decode, check references across documents, and build indexes.
//!
//! Beyond Flipt's own checks (§2.8 of the reference) this stage refuses what Flipt silently
//! accepts: duplicate flag, segment and variant keys in a namespace, distributions summing over
//! 100, several default variants, a segment listed twice, a variant in two distributions of a
//! rule. These are extra checks: under `ExtraChecks::Warn` each is a warning and the namespace is
//! built as Flipt's `addDoc` builds it (the last flag or segment of a key wins, the last default
//! variant wins, a segment whose constraint value does not parse is left out of its rules).
//!
//! Documents are taken as Flipt takes them: files in path order, the documents of a file in
//! order, and each document's segments before its flags; a rule or rollout may refer only to
//! segments of its own or an earlier document (Flipt fails on a later one, and so does this).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use sha1::{Digest, Sha1};

use crate::constraint::Constraint;
use crate::diagnostic::{Diagnostics, Location, Pos, Sink};
use crate::document::paths;
use crate::document::*;
use crate::extra::ExtraChecks;
use crate::gojson::{self, GoEncoder};
use crate::limits::Limits;
use crate::snapshot::*;
use crate::source::SourceFile;
use crate::yaml;

/// Compiles the flag files of one environment. Files are taken in path order.
///
/// Every problem in every file is reported; the result is either a fully valid environment or
/// the complete list of diagnostics.
pub fn compile_environment(
    key: &str,
    files: &[SourceFile],
    limits: &Limits,
) -> Result<Environment, Diagnostics> {
    compile_environment_with(key, files, limits, ExtraChecks::Error)
}

/// [`compile_environment`] with the checks Switchyard adds beyond Flipt's reporting as
/// `extra_checks` says: under [`ExtraChecks::Warn`] what Flipt v2.11 serves compiles, as Flipt
/// builds it, and every such finding is one of the environment's warnings.
pub fn compile_environment_with(
    key: &str,
    files: &[SourceFile],
    limits: &Limits,
    extra_checks: ExtraChecks,
) -> Result<Environment, Diagnostics> {
    let mut sink = Sink::with_extra_checks(limits.max_diagnostics, extra_checks);
    let mut order: Vec<&SourceFile> = files.iter().collect();
    order.sort_by(|a, b| a.path.cmp(&b.path));
    if order.len() > limits.max_files {
        sink.push(
            &order[limits.max_files].path,
            Pos::new(1, 1),
            "",
            format!("more than {} flag files (limit)", limits.max_files),
        );
        return Err(sink.finish());
    }
    let total: usize = order.iter().map(|f| f.contents.len()).sum();
    if total > limits.max_total_bytes {
        sink.push(
            &order[0].path,
            Pos::new(1, 1),
            "",
            format!(
                "flag files exceed {} bytes in total (limit)",
                limits.max_total_bytes
            ),
        );
        return Err(sink.finish());
    }
    let file_digests: Vec<String> = order
        .iter()
        .map(|f| hex::encode(Sha1::digest(&f.contents)))
        .collect();
    let mut docs: Vec<Document> = Vec::new();
    for (chunk_docs, chunk_sink) in read_documents(&order, limits, extra_checks) {
        docs.extend(chunk_docs);
        sink.absorb(chunk_sink);
    }
    if sink.is_full() {
        // Nothing more would be listed: skip the cross-document checks (the summary says
        // "at least").
        return Err(sink.finish());
    }
    let mut by_ns: BTreeMap<String, Vec<Document>> = BTreeMap::new();
    for d in docs {
        by_ns.entry(d.namespace.key.clone()).or_default().push(d);
    }
    let mut namespaces = BTreeMap::new();
    for (ns_key, mut ns_docs) in by_ns {
        let input = NamespaceInput {
            key: &ns_key,
            files: &order,
            file_digests: &file_digests,
            max_warnings: limits.max_diagnostics,
        };
        if let Some(ns) = compile_namespace(&input, &mut ns_docs, &mut sink) {
            namespaces.insert(ns_key, Arc::new(ns));
        }
    }
    if !sink.is_empty() {
        return Err(sink.finish());
    }
    Ok(Environment {
        key: key.to_string(),
        digest: environment_digest(&namespaces),
        namespaces,
        revision: None,
    })
}

/// The environment's digest: SHA-1 hex over every namespace key and digest.
pub(crate) fn environment_digest(namespaces: &BTreeMap<String, Arc<Namespace>>) -> String {
    let mut h = Sha1::new();
    for (k, ns) in namespaces {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(ns.digest.as_bytes());
        h.update([b'\n']);
    }
    hex::encode(h.finalize())
}

/// Parses and decodes every file, in parallel chunks when there are many (the result does not
/// depend on the number of threads: chunks are merged in file order).
fn read_documents(
    order: &[&SourceFile],
    limits: &Limits,
    extra_checks: ExtraChecks,
) -> Vec<(Vec<Document>, Sink)> {
    let read_chunk = |start: usize, chunk: &[&SourceFile]| {
        let mut sink = Sink::with_extra_checks(limits.max_diagnostics, extra_checks);
        let mut docs = Vec::new();
        for (offset, file) in chunk.iter().enumerate() {
            for node in parse_file(file, limits, &mut sink) {
                let doc =
                    crate::decode::decode_document(&node, start + offset, &file.path, &mut sink);
                // The warnings of an unusable document go with it (its errors refuse the files).
                let warnings = sink.take_extra_warnings();
                if let Some(mut doc) = doc {
                    doc.warnings = warnings;
                    docs.push(doc);
                }
            }
        }
        (docs, sink)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(order.len() / 8)
        .max(1);
    if threads == 1 {
        return vec![read_chunk(0, order)];
    }
    let size = order.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = order
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || read_chunk(i * size, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Parses one file into document nodes, by extension as Flipt does.
fn parse_file<'f>(file: &'f SourceFile, limits: &Limits, sink: &mut Sink) -> Vec<yaml::Node<'f>> {
    let path = file.path.as_str();
    if let Some(message) = limits.file_size_error(file.contents.len() as u64) {
        sink.push(path, Pos::new(1, 1), "", message);
        return Vec::new();
    }
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e);
    let bytes = file
        .contents
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&file.contents);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let prefix = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, col) = yaml::line_col(prefix, prefix.len());
            sink.push(path, Pos::new(line, col), "", "file is not valid UTF-8");
            return Vec::new();
        }
    };
    let parsed = match ext {
        Some("yaml" | "yml") => yaml::parse_yaml(text, limits),
        Some("json") | None => yaml::parse_json(text, limits),
        Some(other) => {
            sink.push(
                path,
                Pos::new(1, 1),
                "",
                format!("unexpected extension: \".{other}\" (use .yaml, .yml or .json)"),
            );
            return Vec::new();
        }
    };
    match parsed {
        Ok(nodes) => nodes,
        Err(e) => {
            sink.push(path, e.pos, "", e.message);
            Vec::new()
        }
    }
}

fn loc(files: &[&SourceFile], file: usize, pos: Pos) -> Location {
    Location {
        file: files[file].path.clone(),
        line: pos.line,
        column: pos.column,
    }
}

/// What the documents of one namespace are compiled with.
struct NamespaceInput<'a> {
    key: &'a str,
    files: &'a [&'a SourceFile],
    file_digests: &'a [String],
    max_warnings: usize,
}

/// Compiles the documents of one namespace; values that move into the namespace (metadata)
/// are taken out of `docs`.
fn compile_namespace(
    input: &NamespaceInput<'_>,
    docs: &mut [Document],
    sink: &mut Sink,
) -> Option<Namespace> {
    let NamespaceInput {
        key: ns_key,
        files,
        file_digests,
        max_warnings,
    } = *input;
    let mut warnings = Sink::warnings(max_warnings);
    // Flipt's digest: the first document's file hash, then sha1(prev + file hash) per document.
    let mut digest = String::new();
    let (mut name, mut description) = (None, None);
    for d in docs.iter() {
        let fd = &file_digests[d.file];
        digest = if digest.is_empty() {
            fd.clone()
        } else {
            hex::encode(Sha1::digest(format!("{digest}{fd}").as_bytes()))
        };
        if d.namespace.name.is_some() {
            name.clone_from(&d.namespace.name);
        }
        if d.namespace.description.is_some() {
            description.clone_from(&d.namespace.description);
        }
    }

    // Where each segment key is first defined, to say so when a rule refers to it too early.
    let mut defined_at: HashMap<String, Location> = HashMap::new();
    for d in docs.iter() {
        for s in &d.segments {
            defined_at
                .entry(s.key.value.clone())
                .or_insert_with(|| loc(files, d.file, s.key.pos));
        }
    }
    let mut segments: Vec<Arc<Segment>> = Vec::new();
    let mut segment_index: HashMap<String, usize> = HashMap::new();
    let mut segment_at: HashMap<String, Location> = HashMap::new();
    let mut flags: Vec<Arc<Flag>> = Vec::new();
    let mut flag_index: HashMap<String, usize> = HashMap::new();
    // Flipt's `addDoc`: a document's segments, then its flags against the segments so far.
    for d in docs.iter_mut() {
        for w in std::mem::take(&mut d.warnings) {
            warnings.list.push(w);
        }
        let file = files[d.file].path.as_str();
        for s in &d.segments {
            let existing = segment_index.get(&s.key.value).copied();
            if let Some(i) = existing {
                let first = &segment_at[&s.key.value];
                let message = format!(
                    "duplicate segment key \"{}\" in namespace \"{ns_key}\" (first defined at {}:{}:{})",
                    s.key.value, first.file, first.line, first.column
                );
                if !sink.extra(
                    file,
                    s.key.pos,
                    &format!("segments[{}].key", s.index),
                    message,
                ) {
                    continue;
                }
                // Flipt keeps the last: later documents' rules use it, earlier ones keep theirs.
                segments[i] = Arc::new(compile_segment(file, s, sink));
                continue;
            }
            segment_at.insert(s.key.value.clone(), loc(files, d.file, s.key.pos));
            segment_index.insert(s.key.value.clone(), segments.len());
            segments.push(Arc::new(compile_segment(file, s, sink)));
        }
        for f in &mut d.flags {
            let existing = flag_index.get(&f.key.value).copied();
            if let Some(i) = existing {
                let first = &flags[i].location;
                let message = format!(
                    "duplicate flag key \"{}\" in namespace \"{ns_key}\" (first defined at {}:{}:{})",
                    f.key.value, first.file, first.line, first.column
                );
                if !sink.extra(file, f.key.pos, &format!("{}.key", paths::flag(f)), message) {
                    continue;
                }
            }
            let scope = Scope {
                ns_key,
                file,
                segments: &segments,
                segment_index: &segment_index,
                defined_at: &defined_at,
            };
            let flag = compile_flag(&scope, f, loc(files, d.file, f.key.pos), sink);
            crate::warnings::flag_warnings(ns_key, file, f, &flag, &mut warnings);
            match existing {
                // Flipt keeps the last flag of a key (its position stays the first one's).
                Some(i) => flags[i] = Arc::new(flag),
                None => {
                    flag_index.insert(f.key.value.clone(), flags.len());
                    flags.push(Arc::new(flag));
                }
            }
        }
    }
    // What the extra checks found in this namespace's cross-document checks.
    warnings.list.extend(sink.take_extra_warnings());
    Some(Namespace {
        key: ns_key.to_string(),
        name,
        description,
        digest,
        flags,
        segments,
        flag_index,
        segment_index,
        warnings: warnings.into_list(),
    })
}

/// What a flag is compiled against: its namespace's segments so far and the file it is written in.
struct Scope<'a> {
    ns_key: &'a str,
    file: &'a str,
    segments: &'a [Arc<Segment>],
    segment_index: &'a HashMap<String, usize>,
    /// Where every segment of the namespace is first defined, later documents included.
    defined_at: &'a HashMap<String, Location>,
}

/// Compiles one segment's constraints. Under `ExtraChecks::Warn` a value that does not parse
/// (decode has warned) is kept as written and never matches; when Flipt's
/// `PrepareForEvaluation` fails on it, the segment is left out of the rules that use it.
fn compile_segment(file: &str, s: &SegmentDoc, sink: &mut Sink) -> Segment {
    let mut constraints = Vec::with_capacity(s.constraints.len());
    let mut dropped = false;
    for c in &s.constraints {
        match Constraint::compile(
            c.comparison,
            c.property.clone(),
            c.operator,
            c.value.value.clone(),
            c.description.clone(),
        ) {
            Ok(c) => constraints.push(c),
            Err(_) if sink.extra_checks == ExtraChecks::Warn => {
                // Flipt skips an empty value and fails on any other that does not parse.
                dropped |= c.operator.takes_list() || !c.value.value.is_empty();
                constraints.push(Constraint::unparsed(
                    c.comparison,
                    c.property.clone(),
                    c.operator,
                    c.value.value.clone(),
                    c.description.clone(),
                ));
            }
            Err(msg) => sink.push(
                file,
                c.value.pos,
                &format!("segments[{}].constraints[{}].value", s.index, c.index),
                msg,
            ),
        }
    }
    Segment {
        key: s.key.value.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        match_type: s.match_type,
        constraints,
        dropped,
    }
}

/// Resolves the segment keys of a rule (`what` = "rule") or rollout of flag `flag_key`.
fn resolve_segments(
    scope: &Scope<'_>,
    flag_key: &str,
    what: &str,
    rank: usize,
    owner: &str,
    refs: &SegmentRef,
    sink: &mut Sink,
) -> Vec<Arc<Segment>> {
    let Scope {
        ns_key,
        file,
        segments,
        segment_index: index,
        defined_at,
    } = *scope;
    let mut out = Vec::with_capacity(refs.keys.len());
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, k) in refs.keys.iter().enumerate() {
        if refs.keys.len() > 1 && !seen.insert(&k.value) {
            // Flipt keeps the rule's segments in a map: the second mention changes nothing.
            sink.extra(
                file,
                k.pos,
                &paths::segment_key(owner, refs, i),
                format!("segment \"{}\" is listed twice", k.value),
            );
            continue;
        }
        let unknown = format!(
            "flag {ns_key}/{flag_key} {what} {rank} references unknown segment \"{}\"",
            k.value
        );
        match (index.get(&k.value), defined_at.get(&k.value)) {
            (Some(&s), _) if segments[s].dropped => {}
            (Some(&s), _) => out.push(segments[s].clone()),
            (None, Some(later)) => sink.push(
                file,
                k.pos,
                &paths::segment_key(owner, refs, i),
                format!(
                    "{unknown}: it is defined later, at {}:{}:{}, and Flipt resolves a reference only against the segments of its own and earlier documents (files in path order, documents in file order); move the segment up",
                    later.file, later.line, later.column
                ),
            ),
            (None, None) => sink.push(file, k.pos, &paths::segment_key(owner, refs, i), unknown),
        }
    }
    out
}

/// The attachment as Flipt writes it for evaluation (`structpb`) and for the client snapshot's
/// default variant (`json.Marshal`); `"null"` for none. `from_json`: the file is JSON, which
/// Flipt decodes with encoding/json (every number a float64) instead of yaml.v3.
fn attachment_json(a: &Option<serde_json::Value>, from_json: bool) -> (String, String) {
    match a {
        Some(v) => (
            gojson::marshal(v, GoEncoder::Structpb),
            gojson::marshal(
                v,
                GoEncoder::EncodingJson {
                    ints_as_floats: from_json,
                },
            ),
        ),
        None => ("null".to_string(), "null".to_string()),
    }
}

fn compile_flag(scope: &Scope<'_>, f: &mut FlagDoc, location: Location, sink: &mut Sink) -> Flag {
    let key = f.key.value.clone();
    let CompiledVariants {
        variants,
        index,
        default_variant,
    } = compile_variants(scope, f, sink);
    let rules = compile_rules(scope, f, &variants, &index, sink);
    let rollouts = compile_rollouts(scope, f, sink);
    Flag {
        key,
        name: f.name.clone(),
        description: f.description.clone(),
        flag_type: f.flag_type,
        enabled: f.enabled,
        metadata: std::mem::take(&mut f.metadata),
        variants,
        default_variant,
        rules,
        rollouts,
        location,
    }
}

/// A flag's variants, the index of each key's first variant, and the default.
struct CompiledVariants<'f> {
    variants: Vec<Variant>,
    index: HashMap<&'f str, usize>,
    default_variant: Option<usize>,
}

/// The variants of `f`, with Flipt's rules for repeated keys and several defaults.
fn compile_variants<'f>(
    scope: &Scope<'_>,
    f: &'f FlagDoc,
    sink: &mut Sink,
) -> CompiledVariants<'f> {
    let (ns_key, file) = (scope.ns_key, scope.file);
    let key = f.key.value.as_str();
    let mut variants: Vec<Variant> = Vec::with_capacity(f.variants.len());
    let mut variant_index: HashMap<&str, usize> = HashMap::with_capacity(f.variants.len());
    let mut default_variant: Option<usize> = None;
    let mut default_at: Option<&At<bool>> = None;
    for v in &f.variants {
        // Flipt keeps both; distributions and the default resolve a key to the first.
        let first_of_key = variant_index.get(v.key.value.as_str()).copied();
        if first_of_key.is_some()
            && !sink.extra(
                file,
                v.key.pos,
                &format!("{}.variants[{}].key", paths::flag(f), v.index),
                format!(
                    "duplicate variant key \"{}\" in flag {ns_key}/{key}",
                    v.key.value
                ),
            )
        {
            continue;
        }
        let is_default = v.default.as_ref().is_some_and(|d| d.value);
        if is_default {
            let accepted = match default_at {
                Some(first) => {
                    let d = v.default.as_ref().map_or(v.key.pos, |d| d.pos);
                    let p = format!("{}.variants[{}].default", paths::flag(f), v.index);
                    sink.extra(file, d, &p, format!(
                        "flag {ns_key}/{key} has more than one default variant (first at line {} column {})",
                        first.pos.line, first.pos.column))
                }
                None => true,
            };
            if accepted {
                // Flipt's last `default: true` wins.
                default_at = default_at.or(v.default.as_ref());
                if let Some(prev) = default_variant {
                    variants[prev].is_default = false;
                }
                default_variant = Some(first_of_key.unwrap_or(variants.len()));
            }
        }
        let from_json = !(file.ends_with(".yaml") || file.ends_with(".yml"));
        let (attachment_json, snapshot_attachment_json) = attachment_json(&v.attachment, from_json);
        variant_index.entry(&v.key.value).or_insert(variants.len());
        variants.push(Variant {
            key: v.key.value.clone(),
            name: v.name.clone(),
            description: v.description.clone(),
            attachment_json,
            snapshot_attachment_json,
            attachment: v.attachment.clone(),
            is_default: is_default && default_variant == Some(variants.len()),
        });
        if let Some(d) = default_variant {
            variants[d].is_default = true;
        }
    }
    CompiledVariants {
        variants,
        index: variant_index,
        default_variant,
    }
}

/// The rules of `f`: segments resolved, distributions against `variants` (by `index`), bucket
/// boundaries computed.
fn compile_rules(
    scope: &Scope<'_>,
    f: &FlagDoc,
    variants: &[Variant],
    variant_index: &HashMap<&str, usize>,
    sink: &mut Sink,
) -> Vec<Rule> {
    let (ns_key, file) = (scope.ns_key, scope.file);
    let key = f.key.value.as_str();
    let mut rules = Vec::with_capacity(f.rules.len());
    // The rank of the last rule that used each variant (duplicate distributions in O(1)).
    let mut used_in_rule = vec![0usize; variants.len()];
    for r in &f.rules {
        let rank = r.index + 1;
        let rule_path = paths::rule(f, r);
        let segs = resolve_segments(scope, key, "rule", rank, &rule_path, &r.segment, sink);
        let mut distributions = Vec::with_capacity(r.distributions.len());
        let mut sum = 0f64;
        for dist in &r.distributions {
            sum += f64::from(dist.rollout.value);
            match variant_index.get(dist.variant.value.as_str()).copied() {
                Some(vi) => {
                    if std::mem::replace(&mut used_in_rule[vi], rank) == rank {
                        let p = format!("{rule_path}.distributions[{}].variant", dist.index);
                        // Flipt buckets both distributions.
                        sink.extra(file, dist.variant.pos, &p, format!(
                            "variant \"{}\" appears twice in rule {rank} of flag {ns_key}/{key}", dist.variant.value));
                    }
                    distributions.push(Distribution {
                        variant: vi,
                        rollout: dist.rollout.value,
                    });
                }
                None => sink.push(
                    file,
                    dist.variant.pos,
                    &format!("{rule_path}.distributions[{}].variant", dist.index),
                    format!(
                        "flag {ns_key}/{key} rule {rank} references unknown variant \"{}\"",
                        dist.variant.value
                    ),
                ),
            }
        }
        if sum > 100.0 + 1e-3 {
            let p = format!("{rule_path}.distributions");
            // Flipt normalises the rollouts by their sum.
            sink.extra(
                file,
                r.pos,
                &p,
                format!(
                    "distributions of rule {rank} of flag {ns_key}/{key} sum to {}, more than 100",
                    trim_float(sum)
                ),
            );
        }
        let buckets = crate::eval::bucket::boundaries(&distributions);
        rules.push(Rule {
            rank: rank as u32,
            segments: segs,
            segment_operator: r.segment.operator,
            distributions,
            buckets,
        });
    }
    rules
}

/// The rollouts of `f`, segments resolved.
fn compile_rollouts(scope: &Scope<'_>, f: &FlagDoc, sink: &mut Sink) -> Vec<Rollout> {
    let key = f.key.value.as_str();
    let mut rollouts = Vec::with_capacity(f.rollouts.len());
    for r in &f.rollouts {
        let rank = r.index + 1;
        let kind = match &r.kind {
            RolloutDocKind::Threshold { percentage, value } => RolloutKind::Threshold {
                percentage: percentage.value,
                value: *value,
            },
            RolloutDocKind::Segment { segment, value } => RolloutKind::Segment {
                segments: resolve_segments(
                    scope,
                    key,
                    "rollout",
                    rank,
                    &paths::rollout(f, r),
                    segment,
                    sink,
                ),
                operator: segment.operator,
                value: *value,
            },
            RolloutDocKind::Empty => RolloutKind::Empty,
        };
        rollouts.push(Rollout {
            rank: rank as u32,
            description: r.description.clone(),
            kind,
        });
    }
    rollouts
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
