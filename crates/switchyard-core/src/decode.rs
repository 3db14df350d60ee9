//! Node tree to `Document`: Flipt's CUE schema checks, with every error located and collected.
//!
//! Mirrors `core/validation/flipt.cue` of Flipt v2: closed structures (unknown fields are
//! errors), required fields, key patterns, enums, operators per comparison type, rollout
//! bounds, attachment shapes and the version gates of formats 1.0 to 1.6. Where Flipt lets
//! a mistake through silently and it would change who matches, this module refuses it too
//! (unparsable constraint values, thresholds outside 0..100, missing values, the `le` operator
//! Flipt never evaluates, empty `keys` lists): those are extra checks ([`Sink::extra`]), which
//! under `ExtraChecks::Warn` warn and let through what Flipt lets through.

use crate::constraint::{ComparisonType, Operator, parse_datetime, parse_go_float};
use crate::diagnostic::{Pos, Sink, clip};
use crate::document::*;
use crate::path::Path;
use crate::snapshot::{FlagType, MatchType, SegmentOperator};
use crate::suggest::{self, closest, closest_operator, did_you_mean};
use crate::yaml::{Key, Node, Value};

/// The newest format version, assumed when a document has no `version` (as Flipt v2 does).
pub(crate) const LATEST_MINOR: u8 = 6;

/// Path of the `namespace` field.
const NAMESPACE: Path<'static> = Path::Field(&Path::Root, "namespace");

const TOP_FIELDS: &[&str] = &["version", "namespace", "flags", "segments"];
const NAMESPACE_FIELDS: &[&str] = &["key", "name", "description"];
const FLAG_FIELDS: &[&str] = &[
    "key",
    "name",
    "description",
    "enabled",
    "variants",
    "rules",
    "type",
    "metadata",
    "rollouts",
];
const VARIANT_FIELDS: &[&str] = &["key", "name", "description", "attachment", "default"];
const RULE_FIELDS: &[&str] = &["segment", "rank", "distributions"];
const RULE_SEGMENT_FIELDS: &[&str] = &["keys", "operator"];
const DISTRIBUTION_FIELDS: &[&str] = &["variant", "rollout"];
const ROLLOUT_FIELDS: &[&str] = &["description", "segment", "threshold"];
const ROLLOUT_SEGMENT_FIELDS: &[&str] = &["key", "keys", "operator", "value"];
const THRESHOLD_FIELDS: &[&str] = &["percentage", "value"];
const SEGMENT_FIELDS: &[&str] = &["key", "name", "description", "match_type", "constraints"];
const CONSTRAINT_FIELDS: &[&str] = &["type", "property", "operator", "value", "description"];

struct Ctx<'s> {
    file_name: &'s str,
    minor: u8,
    sink: &'s mut Sink,
}

/// The entries of a mapping node, after unknown fields were reported.
struct Fields<'n, 'p> {
    entries: Vec<(&'n Key<'n>, &'n Node<'n>)>,
    pos: Pos,
    path: &'p Path<'p>,
    /// Unknown fields that look like a misspelling of a known one: (known name, where).
    misspelt: Vec<(&'static str, Pos)>,
}

impl<'n, 'p> Fields<'n, 'p> {
    fn get(&self, name: &str) -> Option<&'n Node<'n>> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, n)| *n)
    }

    fn child<'c>(&'c self, name: &'c str) -> Path<'c> {
        self.path.field(name)
    }
}

/// Checks the key pattern `^[-_,A-Za-z0-9]+$` Flipt uses for namespaces, flags and segments.
pub(crate) fn is_valid_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b','))
}

/// `^.+$` in RE2: at least one character and no line break.
fn is_single_line(s: &str) -> bool {
    !s.is_empty() && !s.contains('\n')
}

fn version_name(minor: u8) -> String {
    format!("1.{minor}")
}

impl Ctx<'_> {
    /// A finding of a check Switchyard adds beyond Flipt's ([`Sink::extra`]); `true` when the
    /// input is accepted as Flipt accepts it.
    fn extra(&mut self, pos: Pos, path: &Path<'_>, message: impl Into<String>) -> bool {
        self.sink
            .extra(self.file_name, pos, &path.to_string(), message)
    }

    /// Whether the file is read as JSON (Flipt decodes it with encoding/json, not yaml.v3).
    fn is_json(&self) -> bool {
        !(self.file_name.ends_with(".yaml") || self.file_name.ends_with(".yml"))
    }

    fn err(&mut self, pos: Pos, path: &Path<'_>, message: impl Into<String>) {
        if self.sink.is_full() {
            // Only counted: skip rendering the path.
            self.sink.push(self.file_name, pos, "", String::new());
            return;
        }
        self.sink
            .push(self.file_name, pos, &path.to_string(), message);
    }

    fn fields<'n, 'p>(
        &mut self,
        node: &'n Node,
        path: &'p Path<'p>,
        known: &[&'static str],
        what: &str,
    ) -> Option<Fields<'n, 'p>> {
        let Value::Map(entries) = &node.value else {
            self.err(
                node.pos,
                path,
                format!("{what} must be a mapping, found {}", node.value.kind()),
            );
            return None;
        };
        let mut kept = Vec::with_capacity(entries.len().min(known.len()));
        let mut misspelt = Vec::new();
        for (k, v) in entries {
            if known.contains(&k.name.as_ref()) {
                kept.push((k, v));
                continue;
            }
            let name = clip(&k.name);
            let msg = match closest(&k.name, known) {
                Some(guess) => {
                    misspelt.push((guess, k.pos));
                    format!("unknown field `{name}` in {what}{}", suggest::hint(guess))
                }
                None => {
                    let allowed = known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("unknown field `{name}` in {what} (allowed: {allowed})")
                }
            };
            self.err(k.pos, &path.field(&k.name), msg);
        }
        Some(Fields {
            entries: kept,
            pos: node.pos,
            path,
            misspelt,
        })
    }

    /// Reports a field that exists only from version `1.<min>` on.
    fn gate(&mut self, f: &Fields<'_, '_>, name: &str, min: u8) -> bool {
        let Some((k, _)) = f.entries.iter().find(|(k, _)| k.name == name) else {
            return true;
        };
        if self.minor < min {
            let (pos, path) = (k.pos, f.child(name));
            self.err(
                pos,
                &path,
                format!(
                    "field `{name}` needs format version {} or later; this document is version {} (set `version: \"{}\"`)",
                    version_name(min),
                    version_name(self.minor),
                    version_name(LATEST_MINOR)
                ),
            );
            return false;
        }
        true
    }

    /// The field `name`, reporting it missing. When an unknown field of the mapping looks like
    /// a misspelling of it, the report points at that field (the fix is there) and sorts after
    /// its "did you mean".
    fn required<'n>(&mut self, f: &Fields<'n, '_>, name: &str, what: &str) -> Option<&'n Node<'n>> {
        let n = f.get(name);
        if n.is_none() {
            let pos = f
                .misspelt
                .iter()
                .find(|(known, _)| *known == name)
                .map_or(f.pos, |(_, at)| *at);
            self.err(
                pos,
                f.path,
                format!("{what} is missing required field `{name}`"),
            );
        }
        n
    }

    fn string(&mut self, node: &Node, path: &Path<'_>, name: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.to_string()),
            other => {
                let hint = match other {
                    Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                        "; quote it to make it a string"
                    }
                    _ => "",
                };
                self.err(
                    node.pos,
                    path,
                    format!("`{name}` must be a string, found {}{hint}", other.kind()),
                );
                None
            }
        }
    }

    /// A string that may also be null (v2 allows `description: null`).
    fn opt_text(&mut self, f: &Fields<'_, '_>, name: &str) -> Option<String> {
        let node = f.get(name)?;
        if node.value == Value::Null {
            return None;
        }
        self.string(node, &f.child(name), name)
    }

    fn key(&mut self, f: &Fields<'_, '_>, name: &str, what: &str) -> Option<At<String>> {
        let node = self.required(f, name, what)?;
        let path = f.child(name);
        let s = self.string(node, &path, name)?;
        if !is_valid_key(&s) {
            self.err(
                node.pos,
                &path,
                format!(
                    "invalid key {s:?}: keys may only contain letters, digits, `-`, `_` and `,`"
                ),
            );
            return None;
        }
        Some(At {
            value: s,
            pos: node.pos,
        })
    }

    fn name(
        &mut self,
        f: &Fields<'_, '_>,
        name: &str,
        what: &str,
        required: bool,
    ) -> Option<String> {
        let node = if required {
            self.required(f, name, what)?
        } else {
            f.get(name)?
        };
        let path = f.child(name);
        let s = self.string(node, &path, name)?;
        if !is_single_line(&s) {
            self.err(
                node.pos,
                &path,
                format!("`{name}` must be a non-empty single line"),
            );
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, f: &Fields<'_, '_>, name: &str) -> Option<bool> {
        let node = f.get(name)?;
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s)
                if matches!(
                    s.as_ref(),
                    "yes" | "no" | "on" | "off" | "y" | "n" | "Yes" | "No" | "On" | "Off"
                ) =>
            {
                self.err(
                    node.pos,
                    &f.child(name),
                    format!("`{name}` must be true or false; `{s}` is a string in YAML 1.2"),
                );
                None
            }
            other => {
                self.err(
                    node.pos,
                    &f.child(name),
                    format!("`{name}` must be true or false, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn number(&mut self, node: &Node, path: &Path<'_>, name: &str) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            ref other => {
                let hint = if matches!(other, Value::Str(_)) {
                    "; remove the quotes"
                } else {
                    ""
                };
                self.err(
                    node.pos,
                    path,
                    format!("`{name}` must be a number, found {}{hint}", other.kind()),
                );
                None
            }
        }
    }

    fn list<'n>(&mut self, f: &Fields<'n, '_>, name: &str) -> &'n [Node<'n>] {
        match f.get(name) {
            None => &[],
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => items,
            Some(
                n @ Node {
                    value: Value::Null, ..
                },
            ) => {
                // Flipt's CUE schema: `[...]` and null conflict.
                self.err(
                    n.pos,
                    &f.child(name),
                    format!(
                        "`{name}` must be a list, found null; write `{name}: []` or remove the key"
                    ),
                );
                &[]
            }
            Some(n) => {
                self.err(
                    n.pos,
                    &f.child(name),
                    format!("`{name}` must be a list, found {}", n.value.kind()),
                );
                &[]
            }
        }
    }

    fn json(&mut self, node: &Node, path: &Path<'_>) -> Option<serde_json::Value> {
        Some(match &node.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => serde_json::Value::Number(n),
                None => {
                    self.err(
                        node.pos,
                        path,
                        "infinite and NaN numbers cannot be represented in JSON",
                    );
                    return None;
                }
            },
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.json(item, &path.index(i))?);
                }
                serde_json::Value::Array(out)
            }
            Value::Map(entries) => {
                let mut out = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    out.insert(k.name.to_string(), self.json(v, &path.field(&k.name))?);
                }
                serde_json::Value::Object(out)
            }
        })
    }

    fn enum_value<T: Copy>(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        name: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let Value::Str(s) = &node.value else {
            self.err(
                node.pos,
                path,
                format!(
                    "`{name}` must be one of {}, found {}",
                    names.join(", "),
                    node.value.kind()
                ),
            );
            return None;
        };
        if let Some((_, v)) = options.iter().find(|(n, _)| n == s) {
            return Some(*v);
        }
        let hint = did_you_mean(s, &names);
        self.err(
            node.pos,
            path,
            format!(
                "invalid {name} {:?}: must be one of {}{hint}",
                clip(s),
                names.join(", ")
            ),
        );
        None
    }
}

/// Decodes one document node. Problems go to `sink`; `None` means the document was unusable.
pub(crate) fn decode_document(
    node: &Node,
    file: usize,
    file_name: &str,
    sink: &mut Sink,
) -> Option<Document> {
    let mut cx = Ctx {
        file_name,
        minor: LATEST_MINOR,
        sink,
    };
    let root = Path::Root;
    let version_path = root.field("version");
    let f = cx.fields(node, &root, TOP_FIELDS, "a document")?;
    if let Some(v) = f.get("version") {
        match &v.value {
            Value::Str(s) => match s.strip_prefix("1.").and_then(|m| m.parse::<u8>().ok()) {
                Some(m) if m <= LATEST_MINOR && s.len() == 3 => cx.minor = m,
                _ => {
                    cx.err(v.pos, &version_path, format!("unsupported version {s:?}: must be one of \"1.0\" to \"1.{LATEST_MINOR}\""));
                    return None;
                }
            },
            other => {
                let hint = if matches!(other, Value::Float(_) | Value::Int(_)) {
                    "; quote it, e.g. version: \"1.4\""
                } else {
                    ""
                };
                cx.err(
                    v.pos,
                    &version_path,
                    format!("`version` must be a string, found {}{hint}", other.kind()),
                );
                return None;
            }
        }
    }
    let namespace = match f.get("namespace") {
        None => NamespaceDoc {
            key: "default".into(),
            name: None,
            description: None,
        },
        Some(n) => decode_namespace(&mut cx, n)?,
    };
    let (flags_path, segments_path) = (f.child("flags"), f.child("segments"));
    let flags = cx
        .list(&f, "flags")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_flag(&mut cx, n, &flags_path.index(i)))
        .collect();
    let segments = cx
        .list(&f, "segments")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_segment(&mut cx, n, &segments_path.index(i)))
        .collect();
    Some(Document {
        file,
        namespace,
        flags,
        segments,
        warnings: Vec::new(),
    })
}

fn decode_namespace(cx: &mut Ctx<'_>, node: &Node) -> Option<NamespaceDoc> {
    match &node.value {
        Value::Str(s) => {
            if !is_valid_key(s) {
                cx.err(node.pos, &NAMESPACE, format!("invalid namespace key {s:?}: keys may only contain letters, digits, `-`, `_` and `,`"));
                return None;
            }
            Some(NamespaceDoc {
                key: s.to_string(),
                name: None,
                description: None,
            })
        }
        Value::Map(_) => {
            let f = cx.fields(node, &NAMESPACE, NAMESPACE_FIELDS, "the namespace")?;
            if cx.minor < 4 {
                cx.err(node.pos, &NAMESPACE, format!(
                    "the object form of `namespace` needs format version 1.4 or later; this document is version {}",
                    version_name(cx.minor)
                ));
                return None;
            }
            let key = match f.get("key") {
                None => "default".to_string(),
                Some(_) => cx.key(&f, "key", "the namespace")?.value,
            };
            let name = cx.name(&f, "name", "the namespace", false);
            let description = cx.opt_text(&f, "description");
            Some(NamespaceDoc {
                key,
                name,
                description,
            })
        }
        other => {
            cx.err(
                node.pos,
                &NAMESPACE,
                format!(
                    "`namespace` must be a key or a mapping with `key`, found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

fn decode_flag(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<FlagDoc> {
    let f = cx.fields(node, path, FLAG_FIELDS, "a flag")?;
    let key = cx.key(&f, "key", "the flag");
    let name = cx.name(&f, "name", "the flag", true);
    let description = cx.opt_text(&f, "description");
    let enabled = cx.boolean(&f, "enabled").unwrap_or(false);
    let mut flag_type = FlagType::Variant;
    if cx.gate(&f, "type", 1)
        && let Some(t) = f.get("type")
    {
        flag_type = cx.enum_value(
            t,
            &f.child("type"),
            "flag type",
            &[
                ("VARIANT_FLAG_TYPE", FlagType::Variant),
                ("BOOLEAN_FLAG_TYPE", FlagType::Boolean),
            ],
        )?;
    }
    let mut metadata = serde_json::Map::new();
    if cx.gate(&f, "metadata", 3)
        && let Some(m) = f.get("metadata")
    {
        if let Value::Map(entries) = &m.value {
            metadata = serde_json::Map::with_capacity(entries.len());
        }
        let mpath = f.child("metadata");
        match &m.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    let p = mpath.field(&k.name);
                    if v.value == Value::Null {
                        cx.err(v.pos, &p, "metadata values must not be null");
                    } else if let Some(j) = cx.json(v, &p) {
                        metadata.insert(k.name.to_string(), j);
                    }
                }
            }
            // Flipt's CUE schema: null is not a mapping.
            other => cx.err(
                m.pos,
                &mpath,
                format!("`metadata` must be a mapping, found {}", other.kind()),
            ),
        }
    }
    let (variants_path, rules_path, rollouts_path) =
        (f.child("variants"), f.child("rules"), f.child("rollouts"));
    let variants: Vec<VariantDoc> = cx
        .list(&f, "variants")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_variant(cx, n, &variants_path.index(i)))
        .collect();
    let rules: Vec<RuleDoc> = cx
        .list(&f, "rules")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_rule(cx, n, &rules_path.index(i)))
        .collect();
    let mut rollouts = Vec::new();
    if let Some((k, _)) = f.entries.iter().find(|(k, _)| k.name == "rollouts") {
        if flag_type != FlagType::Boolean && cx.gate(&f, "rollouts", 1) {
            cx.err(k.pos, &f.child("rollouts"), "`rollouts` are only allowed on flags with `type: BOOLEAN_FLAG_TYPE`; variant flags use `rules`");
        } else if cx.gate(&f, "rollouts", 1) {
            rollouts = cx
                .list(&f, "rollouts")
                .iter()
                .enumerate()
                .filter_map(|(i, n)| decode_rollout(cx, n, &rollouts_path.index(i)))
                .collect();
        }
    }
    // A missing name is already reported; keep the flag so its references are still checked.
    Some(FlagDoc {
        index: path.last_index().unwrap_or(0),
        key: key?,
        name: name.unwrap_or_default(),
        description,
        flag_type,
        enabled,
        metadata,
        variants,
        rules,
        rollouts,
    })
}

fn decode_variant(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<VariantDoc> {
    let f = cx.fields(node, path, VARIANT_FIELDS, "a variant")?;
    let key = cx.required(&f, "key", "the variant").and_then(|n| {
        let p = f.child("key");
        let s = cx.string(n, &p, "key")?;
        if !is_single_line(&s) {
            cx.err(n.pos, &p, "variant `key` must be a non-empty single line");
            return None;
        }
        Some(At {
            value: s,
            pos: n.pos,
        })
    });
    let name = cx.name(&f, "name", "the variant", false);
    let description = cx.opt_text(&f, "description");
    let mut attachment = None;
    if let Some(a) = f.get("attachment") {
        let p = f.child("attachment");
        match &a.value {
            Value::Null => {}
            Value::Map(_) | Value::Seq(_) => attachment = Some(cx.json(a, &p)?),
            other => {
                cx.err(
                    a.pos,
                    &p,
                    format!(
                        "`attachment` must be an object or a list, found {}",
                        other.kind()
                    ),
                );
                return None;
            }
        }
    }
    let mut default = None;
    if cx.gate(&f, "default", 3)
        && let Some(n) = f.get("default")
        && let Some(b) = cx.boolean(&f, "default")
    {
        default = Some(At {
            value: b,
            pos: n.pos,
        });
    }
    Some(VariantDoc {
        index: path.last_index().unwrap_or(0),
        key: key?,
        name,
        description,
        attachment,
        default,
    })
}

const SEGMENT_OPERATORS: &[(&str, SegmentOperator)] = &[
    ("OR_SEGMENT_OPERATOR", SegmentOperator::Or),
    ("AND_SEGMENT_OPERATOR", SegmentOperator::And),
];

/// The `operator` of a rule or rollout segment; absent or null means OR.
fn segment_operator(cx: &mut Ctx<'_>, sf: &Fields<'_, '_>) -> Option<SegmentOperator> {
    match sf.get("operator") {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => Some(SegmentOperator::Or),
        Some(o) => cx.enum_value(
            o,
            &sf.child("operator"),
            "segment operator",
            SEGMENT_OPERATORS,
        ),
    }
}

fn segment_keys(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<Vec<At<String>>> {
    let Value::Seq(items) = &node.value else {
        cx.err(
            node.pos,
            path,
            format!(
                "`keys` must be a list of segment keys, found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    if items.is_empty()
        && !cx.extra(
            node.pos,
            path,
            "`keys` must name at least one segment (Flipt accepts an empty list: the rule or rollout then matches nobody with OR_SEGMENT_OPERATOR and everybody with AND_SEGMENT_OPERATOR)",
        )
    {
        return None;
    }
    let mut keys = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let s = cx.string(item, &path.index(i), "segment key")?;
        keys.push(At {
            value: s,
            pos: item.pos,
        });
    }
    Some(keys)
}

fn decode_rule(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<RuleDoc> {
    let f = cx.fields(node, path, RULE_FIELDS, "a rule")?;
    if let Some(r) = f.get("rank")
        && !matches!(r.value, Value::Int(_))
    {
        cx.err(
            r.pos,
            &f.child("rank"),
            format!("`rank` must be an integer, found {}", r.value.kind()),
        );
    }
    let segment = cx.required(&f, "segment", "the rule").and_then(|s| {
        let p = f.child("segment");
        match &s.value {
            Value::Str(k) => {
                if !is_valid_key(k) {
                    cx.err(s.pos, &p, format!("invalid segment key {k:?}"));
                    return None;
                }
                if cx.is_json() {
                    // Flipt's `SegmentRule.UnmarshalJSON` reads only an object: the file fails.
                    cx.err(s.pos, &p, format!(
                        "in a JSON file `segment` must be an object: Flipt v2 cannot read the string form there; write \"segment\": {{\"keys\": [{}]}}",
                        serde_json::Value::String(k.to_string())
                    ));
                    return None;
                }
                Some(SegmentRef {
                    keys: vec![At {
                        value: k.to_string(),
                        pos: s.pos,
                    }],
                    operator: SegmentOperator::Or,
                    form: RefForm::RuleKey,
                })
            }
            Value::Map(_) => {
                let sf = cx.fields(s, &p, RULE_SEGMENT_FIELDS, "a rule segment")?;
                let keys = match cx.required(&sf, "keys", "the rule segment") {
                    Some(k) => segment_keys(cx, k, &sf.child("keys"))?,
                    None => return None,
                };
                let operator = segment_operator(cx, &sf)?;
                Some(SegmentRef {
                    keys,
                    operator,
                    form: RefForm::RuleKeys,
                })
            }
            other => {
                cx.err(
                    s.pos,
                    &p,
                    format!(
                        "`segment` must be a segment key or a mapping with `keys`, found {}",
                        other.kind()
                    ),
                );
                None
            }
        }
    });
    let distributions_path = f.child("distributions");
    let distributions: Vec<DistributionDoc> = cx
        .list(&f, "distributions")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_distribution(cx, n, &distributions_path.index(i)))
        .collect();
    Some(RuleDoc {
        index: path.last_index().unwrap_or(0),
        pos: f.pos,
        segment: segment?,
        distributions,
    })
}

/// A percentage from 0 to 100. Flipt's schema bounds a distribution's `rollout`; a threshold's
/// `percentage` is unbounded there (`extra`: the bound is an extra check, and under
/// `ExtraChecks::Warn` the value is kept: Flipt matches everyone above 100 and nobody below 0).
fn percentage(
    cx: &mut Ctx<'_>,
    node: &Node,
    path: &Path<'_>,
    name: &str,
    extra: bool,
) -> Option<f32> {
    let v = cx.number(node, path, name)?;
    let bound = if v > 100.0 {
        "<=100"
    } else if v < 0.0 {
        ">=0"
    } else {
        return Some(v as f32);
    };
    let message = format!("invalid value {} (out of bound {bound})", fmt_number(v));
    if extra {
        return cx.extra(node.pos, path, message).then_some(v as f32);
    }
    cx.err(node.pos, path, message);
    None
}

fn decode_distribution(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<DistributionDoc> {
    let f = cx.fields(node, path, DISTRIBUTION_FIELDS, "a distribution")?;
    let variant = cx
        .required(&f, "variant", "the distribution")
        .and_then(|n| {
            let p = f.child("variant");
            let s = cx.string(n, &p, "variant")?;
            if !is_single_line(&s) {
                cx.err(n.pos, &p, "`variant` must be a non-empty single line");
                return None;
            }
            Some(At {
                value: s,
                pos: n.pos,
            })
        });
    let rollout = cx
        .required(&f, "rollout", "the distribution")
        .and_then(|n| {
            let p = f.child("rollout");
            let v = percentage(cx, n, &p, "rollout", false)?;
            Some(At {
                value: v,
                pos: n.pos,
            })
        });
    Some(DistributionDoc {
        index: path.last_index().unwrap_or(0),
        variant: variant?,
        rollout: rollout?,
    })
}

fn decode_rollout(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<RolloutDoc> {
    let f = cx.fields(node, path, ROLLOUT_FIELDS, "a rollout")?;
    let description = cx.opt_text(&f, "description");
    let kind = match (f.get("segment"), f.get("threshold")) {
        (Some(_), Some(t)) => {
            cx.err(
                t.pos,
                &f.child("threshold"),
                "a rollout has either `segment` or `threshold`, not both",
            );
            return None;
        }
        (Some(s), None) => {
            let p = f.child("segment");
            let sf = cx.fields(s, &p, ROLLOUT_SEGMENT_FIELDS, "a rollout segment")?;
            let (keys, form) = match (sf.get("key"), sf.get("keys")) {
                (Some(_), Some(k)) => {
                    cx.err(
                        k.pos,
                        &sf.child("keys"),
                        "use either `key` or `keys`, not both",
                    );
                    return None;
                }
                (Some(k), None) => {
                    let kp = sf.child("key");
                    let s = cx.string(k, &kp, "key")?;
                    if !is_valid_key(&s) {
                        cx.err(k.pos, &kp, format!("invalid segment key {s:?}"));
                        return None;
                    }
                    (
                        vec![At {
                            value: s,
                            pos: k.pos,
                        }],
                        RefForm::RolloutKey,
                    )
                }
                (None, Some(k)) => {
                    if !cx.gate(&sf, "keys", 2) {
                        return None;
                    }
                    (
                        segment_keys(cx, k, &sf.child("keys"))?,
                        RefForm::RolloutKeys,
                    )
                }
                (None, None) => {
                    cx.err(s.pos, &p, "a rollout segment needs `key` or `keys`");
                    return None;
                }
            };
            let operator = segment_operator(cx, &sf)?;
            let value = cx.boolean(&sf, "value").unwrap_or(false);
            RolloutDocKind::Segment {
                segment: SegmentRef {
                    keys,
                    operator,
                    form,
                },
                value,
            }
        }
        (None, Some(t)) => {
            let p = f.child("threshold");
            let tf = cx.fields(t, &p, THRESHOLD_FIELDS, "a threshold")?;
            let pct = cx.required(&tf, "percentage", "the threshold")?;
            let pp = tf.child("percentage");
            let v = percentage(cx, pct, &pp, "percentage", true)?;
            let value = cx.boolean(&tf, "value").unwrap_or(false);
            RolloutDocKind::Threshold {
                percentage: At {
                    value: v,
                    pos: pct.pos,
                },
                value,
            }
        }
        (None, None) => RolloutDocKind::Empty,
    };
    Some(RolloutDoc {
        index: path.last_index().unwrap_or(0),
        description,
        kind,
    })
}

fn decode_segment(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<SegmentDoc> {
    let f = cx.fields(node, path, SEGMENT_FIELDS, "a segment")?;
    let key = cx.key(&f, "key", "the segment");
    let name = cx.name(&f, "name", "the segment", true);
    let description = cx.opt_text(&f, "description");
    let match_type = cx.required(&f, "match_type", "the segment").and_then(|m| {
        cx.enum_value(
            m,
            &f.child("match_type"),
            "match_type",
            &[
                ("ALL_MATCH_TYPE", MatchType::All),
                ("ANY_MATCH_TYPE", MatchType::Any),
            ],
        )
    });
    let constraints_path = f.child("constraints");
    let constraints: Vec<ConstraintDoc> = cx
        .list(&f, "constraints")
        .iter()
        .enumerate()
        .filter_map(|(i, n)| decode_constraint(cx, n, &constraints_path.index(i)))
        .collect();
    // Keep the segment (its problems are reported) so flags that use it do not get spurious errors.
    Some(SegmentDoc {
        index: path.last_index().unwrap_or(0),
        key: key?,
        name: name.unwrap_or_default(),
        description,
        match_type: match_type.unwrap_or(MatchType::All),
        constraints,
    })
}

fn fmt_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{}", v as i128)
    } else {
        format!("{v}")
    }
}

fn decode_constraint(cx: &mut Ctx<'_>, node: &Node, path: &Path<'_>) -> Option<ConstraintDoc> {
    let f = cx.fields(node, path, CONSTRAINT_FIELDS, "a constraint")?;
    let comparison = cx.required(&f, "type", "the constraint").and_then(|t| {
        let opts: Vec<(&str, ComparisonType)> = ComparisonType::ALL
            .iter()
            .map(|c| (c.as_str(), *c))
            .collect();
        cx.enum_value(t, &f.child("type"), "constraint type", &opts)
    });
    let property = cx.name(&f, "property", "the constraint", true);
    let description = cx.opt_text(&f, "description");
    let comparison = comparison?;
    let operator = cx
        .required(&f, "operator", "the constraint")
        .and_then(|o| {
            let allowed = comparison.operators();
            let opts: Vec<(&str, Operator)> = allowed.iter().map(|o| (o.as_str(), *o)).collect();
            let p = f.child("operator");
            let Value::Str(s) = &o.value else {
                cx.err(
                    o.pos,
                    &p,
                    format!("`operator` must be a string, found {}", o.value.kind()),
                );
                return None;
            };
            if let Some((_, op)) = opts.iter().find(|(n, _)| n == s) {
                return Some(*op);
            }
            if s == "le" && matches!(comparison, ComparisonType::Number | ComparisonType::DateTime) {
                // In Flipt v2.11's schema (fixed after it by flipt-io/flipt#6304), never evaluated.
                let message = format!(
                    "operator \"le\" never matches: Flipt v2.11's schema accepts it for {} but its evaluator knows only `lt` and `lte`{}",
                    comparison.as_str(),
                    suggest::hint_either("lt", "lte")
                );
                return cx.extra(o.pos, &p, message).then_some(Operator::Le);
            }
            let names: Vec<&str> = opts.iter().map(|(n, _)| *n).collect();
            let hint = if s == "le" {
                suggest::hint_either("lt", "lte")
            } else {
                closest_operator(s, &names).map_or_else(String::new, suggest::hint)
            };
            cx.err(
                o.pos,
                &p,
                format!(
                    "operator {:?} is not allowed for {}: use one of {}{hint}",
                    clip(s),
                    comparison.as_str(),
                    names.join(", ")
                ),
            );
            None
        })?;
    let vpath = f.child("value");
    let value_node = f.get("value");
    let value = match value_node {
        // Flipt stores `le`'s value without reading it (`value?: string`).
        _ if operator == Operator::Le => match value_node {
            Some(v) if !matches!(v.value, Value::Null) => At {
                value: cx.string(v, &vpath, "value")?,
                pos: v.pos,
            },
            _ => At {
                value: String::new(),
                pos: f.pos,
            },
        },
        _ if operator.takes_no_value() => {
            if let Some(v) = value_node
                && !matches!(v.value, Value::Str(_) | Value::Null)
            {
                cx.err(
                    v.pos,
                    &vpath,
                    format!("`value` must be a string, found {}", v.value.kind()),
                );
                return None;
            }
            At {
                value: match value_node.map(|v| &v.value) {
                    Some(Value::Str(s)) => s.to_string(),
                    _ => String::new(),
                },
                pos: f.pos,
            }
        }
        None
        | Some(Node {
            value: Value::Null, ..
        }) => {
            let message = format!("operator `{}` needs a `value`", operator.as_str());
            // Flipt's schema makes a scalar operator's value optional (`value?: string`); the
            // constraint then compares with "" (and numbers and datetimes never match).
            if operator.takes_list() {
                cx.err(f.pos, &vpath, message);
                return None;
            }
            if !cx.extra(f.pos, &vpath, message) {
                return None;
            }
            At {
                value: String::new(),
                pos: f.pos,
            }
        }
        Some(v) if operator.takes_list() => At {
            value: list_value(cx, v, &vpath, comparison, operator)?,
            pos: v.pos,
        },
        Some(v) => {
            let s = cx.string(v, &vpath, "value")?;
            let unparsable = match comparison {
                ComparisonType::Number if parse_go_float(&s).is_none() => Some(format!(
                    "{s:?} is not a number (Flipt would drop this segment)"
                )),
                ComparisonType::DateTime if parse_datetime(&s).is_none() => Some(format!(
                    "{s:?} is not a datetime; use RFC 3339 such as 2026-01-02T15:04:05Z or a date such as 2026-01-02 (Flipt would drop this segment)"
                )),
                _ => None,
            };
            if let Some(message) = unparsable
                && !cx.extra(v.pos, &vpath, message)
            {
                return None;
            }
            At {
                value: s,
                pos: v.pos,
            }
        }
    };
    Some(ConstraintDoc {
        index: path.last_index().unwrap_or(0),
        comparison,
        property: property?,
        operator,
        value,
        description,
    })
}

/// The value of `isoneof`/`isnotoneof`: a list from version 1.6, a JSON-array string before.
fn list_value(
    cx: &mut Ctx<'_>,
    v: &Node,
    path: &Path<'_>,
    comparison: ComparisonType,
    operator: Operator,
) -> Option<String> {
    let numeric = comparison == ComparisonType::Number;
    let elem = if numeric { "numbers" } else { "strings" };
    let op = operator.as_str();
    match &v.value {
        Value::Seq(items) => {
            if cx.minor < 6 {
                cx.err(v.pos, path, format!(
                    "a list value for `{op}` needs format version 1.6 or later; this document is version {}: set `version: \"1.6\"` or write the list as a JSON string",
                    version_name(cx.minor)
                ));
                return None;
            }
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = path.index(i);
                match (&item.value, numeric) {
                    (Value::Str(s), false) => {
                        parts.push(serde_json::Value::String(s.to_string()).to_string())
                    }
                    (Value::Int(n), true) => parts.push(n.to_string()),
                    (Value::Float(n), true) if n.is_finite() => parts.push(fmt_number(*n)),
                    (other, _) => {
                        let hint = if !numeric
                            && matches!(other, Value::Int(_) | Value::Float(_) | Value::Bool(_))
                        {
                            "; quote it"
                        } else {
                            ""
                        };
                        cx.err(
                            item.pos,
                            &p,
                            format!(
                                "`{op}` on {} takes a list of {elem}, found {}{hint}",
                                comparison.as_str(),
                                other.kind()
                            ),
                        );
                        return None;
                    }
                }
            }
            Some(format!("[{}]", parts.join(",")))
        }
        Value::Str(s) => {
            if cx.minor >= 6 {
                cx.err(v.pos, path, format!(
                    "in format version 1.6 `{op}` takes a YAML list such as [a, b], not a string; write the list, or set `version: \"1.5\"` to keep the JSON-string form"
                ));
                return None;
            }
            let ok = if numeric {
                serde_json::from_str::<Vec<f64>>(s).is_ok()
            } else {
                serde_json::from_str::<Vec<String>>(s).is_ok()
            };
            if !ok && !cx.extra(v.pos, path, format!("`{op}` needs a JSON array of {elem} such as {}, got {s:?} (Flipt would drop this segment)",
                    if numeric { "'[18, 21]'" } else { "'[\"a\", \"b\"]'" })) {
                return None;
            }
            Some(s.to_string())
        }
        other => {
            cx.err(
                v.pos,
                path,
                format!("`{op}` takes a list of {elem}, found {}", other.kind()),
            );
            None
        }
    }
}
