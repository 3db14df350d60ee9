//! Prebuilt pieces of OFREP bulk answers: everything in a bulk body that does not depend on the
//! evaluation context (escaped keys, each variant's `variant`/`value` members and attachment
//! metadata, the event-stream tail), built once per (environment, namespace, digest) and shared.
//! A bulk request evaluates each flag and concatenates pieces into one buffer. As in Flipt's
//! `OFREPFlagEvaluationBulk`, a bulk answer without a `flags` selection lists the flags sorted by
//! key, and the ETag is `W/"%08x"` of an XXH64. Since the pieces are a function of the namespace's
//! digest, the ETag is hashed over what the body is made of rather than over its bytes: the
//! environment, namespace, digest, commit and origin, then per flag its position, the reason,
//! the variant's position (or on/off) and the matched segments. Two answers have the same ETag
//! exactly when they have the same body (up to a hash collision).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::xxh64::Xxh64;

use switchyard_core::{
    Context, Environment, Evaluation, Flag, FlagType, Namespace, Reason, evaluate,
};

/// Namespaces whose pieces are kept at most (all are dropped past it and rebuilt on demand).
const MAX_ENTRIES: usize = 256;

/// The `variant`/`value`/`metadata` opening of a variant flag without a variant.
const NO_VARIANT: &str = r#"","variant":"","value":"","metadata":{"#;

/// One variant's pieces.
struct VariantPieces {
    /// `","variant":"<key>","value":"<key>","metadata":{`.
    value: String,
    /// `"attachment":"<attachment JSON, escaped>"`; a variant without an attachment has
    /// `"null"`, as Flipt's snapshot stores it (`structpb.NewValue(nil).MarshalJSON()`).
    attachment: String,
}

/// One flag's pieces.
struct FlagPieces {
    /// `{"key":"<key>","reason":"`.
    head: String,
    /// Per variant of the flag, in the flag's order.
    variants: Vec<VariantPieces>,
}

/// The context-free pieces of one namespace's bulk answers.
pub(crate) struct BulkPieces {
    /// Per flag of the namespace, in its order.
    flags: Vec<FlagPieces>,
    /// What a bulk request without a selection lists: the indexes of the boolean flags and the
    /// enabled variant flags, sorted by key (Flipt's `ListFlags` order).
    listed: Vec<usize>,
    /// `],"eventStreams":[…]}`.
    tail: String,
    /// Bytes of a body with every flag, as a buffer capacity.
    capacity: usize,
}

/// A bulk answer written from pieces.
pub(crate) struct BulkBody {
    /// The weak ETag.
    pub(crate) etag: String,
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    /// How many flags it holds.
    pub(crate) flags: usize,
}

/// `s` as a JSON string literal, with serde_json's escaping.
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Appends `s` JSON-escaped, without quotes (serde_json's escaping when anything needs it).
fn push_escaped(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.extend_from_slice(s.as_bytes());
    } else {
        let q = quoted(s);
        buf.extend_from_slice(&q.as_bytes()[1..q.len() - 1]);
    }
}

/// The body's closing: the event stream of `ns` in `env`, with `origin` when configured.
pub(crate) fn tail(env_key: &str, ns_key: &str, origin: Option<&str>) -> String {
    let uri = quoted(&stream_uri(env_key, ns_key));
    let origin = origin.map_or(String::new(), |o| format!(r#","origin":{}"#, quoted(o)));
    format!(r#"],"eventStreams":[{{"type":"sse","endpoint":{{"requestUri":{uri}{origin}}}}}]}}"#)
}

/// The SSE stream's path for `ns` in `env` (a bulk answer's event stream `requestUri`).
pub(crate) fn stream_uri(env_key: &str, ns_key: &str) -> String {
    format!("/ofrep/v1/_stream/{env_key}/{ns_key}/events")
}

/// Writes the body's closing `tail`, with the flag set's `metadata` naming the serving commit
/// (`switchyardCommit`) between the flags and the event streams when there is one.
fn push_tail(buf: &mut Vec<u8>, tail: &str, commit: Option<&str>) {
    match commit {
        Some(sha) => {
            buf.extend_from_slice(br#"],"metadata":{"switchyardCommit":""#);
            push_escaped(buf, sha);
            buf.extend_from_slice(br#""}"#);
            // the tail opens with `]`, written above
            buf.extend_from_slice(&tail.as_bytes()[1..]);
        }
        None => buf.extend_from_slice(tail.as_bytes()),
    }
}

/// The ETag hasher: XXH64, as Flipt's, written as Flipt writes it (`W/"%08x"`).
pub(crate) struct EtagHasher(Xxh64);

impl EtagHasher {
    /// A hasher over the environment and namespace keys.
    pub(crate) fn new(env_key: &str, ns_key: &str) -> Self {
        let mut h = Xxh64::new();
        h.update(env_key.as_bytes());
        h.update(&[0]);
        h.update(ns_key.as_bytes());
        EtagHasher(h)
    }

    /// Adds bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The weak ETag, after the environment's digest.
    pub(crate) fn finish(mut self, env_digest: &str) -> String {
        self.0.update(env_digest.as_bytes());
        format!("W/\"{:08x}\"", self.0.finish())
    }
}

/// The bulk answer of the absent `default` namespace: no flags.
pub(crate) fn empty(
    env_key: &str,
    ns_key: &str,
    env_digest: &str,
    commit: Option<&str>,
    origin: Option<&str>,
) -> BulkBody {
    let mut body = br#"{"flags":["#.to_vec();
    push_tail(&mut body, &tail(env_key, ns_key, origin), commit);
    BulkBody {
        etag: EtagHasher::new(env_key, ns_key).finish(env_digest),
        body,
        flags: 0,
    }
}

/// A reason as one byte of an ETag's input.
fn reason_code(r: Reason) -> u8 {
    match r {
        Reason::FlagDisabled => 1,
        Reason::Match => 2,
        Reason::Default => 3,
        Reason::Unknown => 4,
    }
}

/// OFREP's name of an evaluation reason.
pub(crate) fn reason(r: Reason) -> &'static str {
    match r {
        Reason::FlagDisabled => "DISABLED",
        Reason::Match => "TARGETING_MATCH",
        Reason::Default => "DEFAULT",
        Reason::Unknown => "UNKNOWN",
    }
}

impl BulkPieces {
    /// The pieces of `ns` served as environment `env_key` and namespace `ns_key`.
    pub(crate) fn build(ns: &Namespace, env_key: &str, ns_key: &str, origin: Option<&str>) -> Self {
        let flags: Vec<FlagPieces> = ns.flags.iter().map(|f| flag_pieces(f)).collect();
        let mut listed: Vec<usize> = (0..ns.flags.len())
            .filter(|&i| ns.flags[i].flag_type == FlagType::Boolean || ns.flags[i].enabled)
            .collect();
        listed.sort_by(|&a, &b| ns.flags[a].key.cmp(&ns.flags[b].key));
        let tail = tail(env_key, ns_key, origin);
        // 16 for the opening, 64 for the commit's metadata
        let capacity = 80
            + tail.len()
            + flags
                .iter()
                .map(|f| {
                    let v = f
                        .variants
                        .iter()
                        .map(|v| v.value.len() + v.attachment.len())
                        .max()
                        .unwrap_or(64);
                    f.head.len() + v + 24
                })
                .sum::<usize>();
        BulkPieces {
            flags,
            listed,
            tail,
            capacity,
        }
    }

    /// What a bulk request without a selection lists: indexes of the boolean flags and the
    /// enabled variant flags, sorted by key.
    pub(crate) fn listed(&self) -> &[usize] {
        &self.listed
    }

    /// The bulk answer of `ns` (the namespace these pieces were built from) for one context:
    /// the flags at the indexes `selected` (in that order), else every boolean flag and every
    /// enabled variant flag, sorted by key.
    pub(crate) fn write<C: Context + ?Sized>(
        &self,
        ns: &Namespace,
        env_key: &str,
        env: &Environment,
        selected: Option<&[usize]>,
        entity: &str,
        ctx: &C,
    ) -> BulkBody {
        let mut h = EtagHasher::new(env_key, &ns.key);
        // what each flag's answer is made of, hashed in one pass at the end
        let mut made_of: Vec<u8> = Vec::with_capacity(8 * self.listed.len().max(8));
        let mut buf = Vec::with_capacity(self.capacity);
        buf.extend_from_slice(br#"{"flags":["#);
        let mut count = 0;
        for &i in selected.unwrap_or(&self.listed) {
            let (Some(flag), Some(pieces)) = (ns.flags.get(i), self.flags.get(i)) else {
                continue;
            };
            if count > 0 {
                buf.push(b',');
            }
            count += 1;
            buf.extend_from_slice(pieces.head.as_bytes());
            let eval = evaluate(flag, entity, ctx);
            made_of.extend_from_slice(&(i as u32).to_le_bytes());
            match &eval {
                Evaluation::Boolean(b) => {
                    let r = reason(b.reason);
                    buf.extend_from_slice(r.as_bytes());
                    // no `metadata`: Flipt sets none on a boolean result
                    let rest: &[u8] = if b.enabled {
                        br#"","variant":"true","value":true}"#
                    } else {
                        br#"","variant":"false","value":false}"#
                    };
                    buf.extend_from_slice(rest);
                    made_of.push(reason_code(b.reason));
                    made_of.push(u8::from(b.enabled));
                }
                Evaluation::Variant(v) => {
                    let r = reason(v.reason);
                    buf.extend_from_slice(r.as_bytes());
                    let index = v.variant.and_then(|chosen| {
                        flag.variants.iter().position(|x| std::ptr::eq(x, chosen))
                    });
                    made_of.push(reason_code(v.reason));
                    let own;
                    let prebuilt = index.and_then(|at| pieces.variants.get(at).map(|p| (at, p)));
                    let variant = match (prebuilt, v.variant) {
                        (Some((at, p)), _) => {
                            made_of.push(1);
                            made_of.extend_from_slice(&(at as u32).to_le_bytes());
                            Some(p)
                        }
                        (None, Some(chosen)) => {
                            own = variant_pieces(&chosen.key, &chosen.attachment_json);
                            made_of.push(2);
                            made_of.extend_from_slice(own.value.as_bytes());
                            made_of.extend_from_slice(own.attachment.as_bytes());
                            made_of.push(0);
                            Some(&own)
                        }
                        (None, None) => {
                            made_of.push(0);
                            None
                        }
                    };
                    buf.extend_from_slice(variant.map_or(NO_VARIANT, |p| &p.value).as_bytes());
                    for k in v.segment_keys.iter() {
                        made_of.extend_from_slice(k.as_bytes());
                        made_of.push(0);
                    }
                    made_of.push(0xff);
                    if !v.segment_keys.is_empty() {
                        buf.extend_from_slice(br#""segments":""#);
                        for (i, k) in v.segment_keys.iter().enumerate() {
                            if i > 0 {
                                buf.push(b',');
                            }
                            push_escaped(&mut buf, k);
                        }
                        buf.push(b'"');
                    }
                    if let Some(p) = variant.filter(|p| !p.attachment.is_empty()) {
                        if !v.segment_keys.is_empty() {
                            buf.push(b',');
                        }
                        buf.extend_from_slice(p.attachment.as_bytes());
                    }
                    buf.push(b'}');
                    buf.push(b'}');
                }
            }
        }
        push_tail(&mut buf, &self.tail, env.revision.as_deref());
        // not the commit: a 304 after a commit that changed nothing (docs/api.md)
        h.update(self.tail.as_bytes());
        h.update(&made_of);
        BulkBody {
            etag: h.finish(&env.digest),
            body: buf,
            flags: count,
        }
    }

    /// Whether these pieces line up with `ns`'s flags.
    fn fits(&self, ns: &Namespace) -> bool {
        self.flags.len() == ns.flags.len()
    }
}

fn variant_pieces(key: &str, attachment_json: &str) -> VariantPieces {
    let k = quoted(key);
    VariantPieces {
        value: format!(r#"","variant":{k},"value":{k},"metadata":{{"#),
        attachment: if attachment_json.is_empty() {
            String::new()
        } else {
            format!(r#""attachment":{}"#, quoted(attachment_json))
        },
    }
}

fn flag_pieces(flag: &Flag) -> FlagPieces {
    FlagPieces {
        head: format!(r#"{{"key":{},"reason":""#, quoted(&flag.key)),
        variants: flag
            .variants
            .iter()
            .map(|v| variant_pieces(&v.key, &v.attachment_json))
            .collect(),
    }
}

/// One namespace's pieces at one digest; concurrent requests wait for the same build.
struct Entry {
    digest: String,
    pieces: Arc<OnceLock<Arc<BulkPieces>>>,
}

/// The cache of bulk pieces, by (environment, namespace).
#[derive(Default)]
pub(crate) struct BulkPiecesCache {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl BulkPiecesCache {
    /// The pieces of `ns` served as environment `env_key`, built on first use of its digest.
    pub(crate) fn get(
        &self,
        env_key: &str,
        ns: &Namespace,
        origin: Option<&str>,
    ) -> Arc<BulkPieces> {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let key = (env_key.to_string(), ns.key.clone());
            match entries.get(&key) {
                Some(e) if e.digest == ns.digest => e.pieces.clone(),
                _ => {
                    if entries.len() >= MAX_ENTRIES {
                        entries.clear();
                    }
                    let pieces = Arc::new(OnceLock::new());
                    entries.insert(
                        key,
                        Entry {
                            digest: ns.digest.clone(),
                            pieces: pieces.clone(),
                        },
                    );
                    pieces
                }
            }
        };
        let pieces = cell
            .get_or_init(|| Arc::new(BulkPieces::build(ns, env_key, &ns.key, origin)))
            .clone();
        if pieces.fits(ns) {
            pieces
        } else {
            Arc::new(BulkPieces::build(ns, env_key, &ns.key, origin))
        }
    }
}
