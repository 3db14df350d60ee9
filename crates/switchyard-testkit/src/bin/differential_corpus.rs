//! Generates the corpus for the differential test in `tests/differential/`.
//!
//! Usage: `cargo run --release -p switchyard-testkit --bin differential_corpus -- [SEED] [N] [OUT]`
//! (defaults: seed 1, 2000 flag sets, stdout).
//!
//! Each flag set is a random Flipt declarative document (format 1.6, namespace `default`). It is
//! compiled with `compile_environment` (every generated set must compile), exported as Flipt's
//! client snapshot, and every flag is evaluated for ~10 entities with switchyard-core. The output
//! is one JSON array: `[{"index", "yaml", "snapshot", "cases": [{"flagKey", "type", "entityId",
//! "context", "expected": {...}}]}]`, which `compare.mjs` / `compare.py` replay against Flipt's own
//! Rust evaluation engine (WASM build in `@flipt-io/flipt-client-js`, FFI build in `flipt-client`).
//!
//! Only inputs on which Flipt's Go server and Flipt's Rust engine agree are generated (reference
//! `flipt.md` §3.7): integer rollouts (summing to 100, or less for one rule in ten, or all 0)
//! whose truncated and rounded float32 bucket boundaries coincide, i32 integers (and context
//! spellings both refuse, like `1__8`), second-precision RFC 3339 datetimes in `Z` or at a UTC
//! offset, context booleans spelled `true`/`false`, no whitespace anywhere in values, no
//! unparsable constraint values, no `"` or `\` inside `isoneof`/`isnotoneof` list elements (the
//! Rust engine cannot parse those lists; see tests/differential/README.md).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value, json};
use switchyard_core::{
    ComparisonType, Limits, SourceFile, compile_environment, evaluate_boolean, evaluate_variant,
    export,
};

// ---------------------------------------------------------------------------------------------
// Deterministic RNG (splitmix64): no dependency, stable across platforms and crate versions.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// True with probability `pct`%.
    fn chance(&mut self, pct: u32) -> bool {
        (self.next_u64() % 100) < pct as u64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Value pools. No whitespace anywhere (Go trims for some operators, the Rust engine never does).

const STRING_PROPS: &[(&str, &[&str])] = &[
    (
        "plan",
        &[
            "free",
            "pro",
            "pro-plus",
            "enterprise",
            "Pro",
            "team",
            "pro2",
        ],
    ),
    (
        "email",
        &[
            "alice@acme.io",
            "bob@example.com",
            "carol@acme.io.evil",
            "dave@ACME.io",
            "acme.io",
        ],
    ),
    (
        "region",
        &["eu-west-1", "eu-central-1", "us-east-1", "ap-south-1", "eu"],
    ),
    (
        "tier",
        &[
            "gold",
            "silver",
            "bronze",
            "gold-legacy",
            "ünïcode-☃",
            "GOLD",
        ],
    ),
    (
        "label",
        &[
            "quote\"d",
            "back\\slash",
            "a,b",
            "[x]",
            "{}",
            "null",
            "true",
            "0",
        ],
    ),
];
const NUMBER_PROPS: &[&str] = &["age", "seats"];
const BOOLEAN_PROPS: &[&str] = &["beta", "staff"];
const DATETIME_PROPS: &[&str] = &["signup", "renewal"];
const ENTITY_POOL: &[&str] = &[
    "user-1",
    "user-2",
    "user-12",
    "user-123",
    "acct-7",
    "acct-77",
    "org-3-user",
    "svc.build",
    "ünï-9",
    "1",
    "2",
];
const VARIANT_KEYS: &[&str] = &[
    "control",
    "treatment",
    "a",
    "b",
    "blue",
    "green",
    "variant_x",
];
const FLAG_WORDS: &[&str] = &[
    "checkout",
    "dark-mode",
    "search_v2",
    "beta",
    "pricing",
    "onboarding",
    "foo",
    "flag1",
];
const SEGMENT_WORDS: &[&str] = &[
    "internal",
    "beta-users",
    "eu",
    "power_users",
    "new",
    "staff",
    "all",
];

const STRING_OPS: &[&str] = &[
    "eq",
    "neq",
    "empty",
    "notempty",
    "prefix",
    "suffix",
    "contains",
    "notcontains",
    "isoneof",
    "isnotoneof",
];
const NUMBER_OPS: &[&str] = &[
    "eq",
    "neq",
    "present",
    "notpresent",
    "lt",
    "lte",
    "gt",
    "gte",
    "isoneof",
    "isnotoneof",
];
const BOOLEAN_OPS: &[&str] = &["true", "false", "present", "notpresent"];
const DATETIME_OPS: &[&str] = &[
    "eq",
    "neq",
    "present",
    "notpresent",
    "lt",
    "lte",
    "gt",
    "gte",
];
const ENTITY_OPS: &[&str] = &[
    "eq",
    "neq",
    "empty",
    "notempty",
    "prefix",
    "suffix",
    "contains",
    "notcontains",
    "isoneof",
    "isnotoneof",
];

// ---------------------------------------------------------------------------------------------
// Datetimes: epoch seconds <-> `YYYY-MM-DDTHH:MM:SSZ`.

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn fmt_datetime(secs: i64) -> String {
    fmt_datetime_at(secs, None)
}

/// The instant `secs` as local time at UTC offset `offset_min` (`+HH:MM`/`-HH:MM`), or `Z`.
fn fmt_datetime_at(secs: i64, offset_min: Option<i64>) -> String {
    let local = secs + offset_min.unwrap_or(0) * 60;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let zone = match offset_min {
        None => "Z".to_string(),
        Some(o) => format!(
            "{}{:02}:{:02}",
            if o < 0 { '-' } else { '+' },
            o.abs() / 60,
            o.abs() % 60
        ),
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// UTC offsets in minutes, as real zones use them (both engines convert to the instant).
const OFFSETS: &[i64] = &[
    0, 60, 120, 330, 345, 540, 600, 840, -60, -210, -300, -480, -600, -720,
];

// ---------------------------------------------------------------------------------------------
// YAML emitter. Block style for the document structure, with some variety so the YAML reader is
// exercised too: strings come out double-quoted (JSON escaping is valid YAML), single-quoted, or
// plain when that is unambiguous; lists of scalars and some scalar-only maps use flow style.

/// A string that reads back as the same string when written plain, in block and flow context.
fn plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '/'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

struct Emitter<'a> {
    rng: &'a mut Rng,
    out: String,
}

impl Emitter<'_> {
    fn scalar(&mut self, v: &Value) -> String {
        match v {
            Value::String(s) => match self.rng.below(3) {
                0 if plain_safe(s) => s.clone(),
                1 if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "''")),
                _ => serde_json::to_string(s).unwrap(),
            },
            other => other.to_string(),
        }
    }

    fn key(&self, k: &str) -> String {
        if plain_safe(k) {
            k.to_string()
        } else {
            serde_json::to_string(k).unwrap()
        }
    }

    fn inline(&mut self, v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k), self.inline(v)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            Value::Array(a) => {
                let parts: Vec<String> = a.iter().map(|x| self.inline(x)).collect();
                format!("[{}]", parts.join(", "))
            }
            s => self.scalar(s),
        }
    }

    /// Whether `v` is written on the line of its key or dash.
    fn is_inline(&mut self, v: &Value) -> bool {
        match v {
            Value::Object(m) if m.is_empty() => true,
            // A map of scalars / scalar lists (a constraint, a distribution): sometimes flow style.
            Value::Object(m) => {
                m.values().all(|x| {
                    !x.is_object()
                        && x.as_array()
                            .is_none_or(|a| a.iter().all(|y| !y.is_object()))
                }) && self.rng.chance(30)
            }
            Value::Array(a) => a.iter().all(|x| !x.is_object() && !x.is_array()),
            _ => true,
        }
    }

    fn emit(&mut self, v: &Value, indent: usize) {
        let pad = " ".repeat(indent);
        match v {
            Value::Object(m) => {
                for (k, val) in m {
                    let key = self.key(k);
                    if self.is_inline(val) {
                        let text = self.inline(val);
                        let _ = writeln!(self.out, "{pad}{key}: {text}");
                    } else {
                        let _ = writeln!(self.out, "{pad}{key}:");
                        self.emit(val, indent + 2);
                    }
                }
            }
            Value::Array(a) => {
                for item in a {
                    if self.is_inline(item) {
                        let text = self.inline(item);
                        let _ = writeln!(self.out, "{pad}- {text}");
                    } else {
                        // Emit the item one level deeper, then put the dash over its first indent.
                        let mark = self.out.len();
                        self.emit(item, indent + 2);
                        self.out
                            .replace_range(mark..mark + indent + 2, &format!("{pad}- "));
                    }
                }
            }
            s => {
                let text = self.scalar(s);
                let _ = writeln!(self.out, "{pad}{text}");
            }
        }
    }
}

fn to_yaml(doc: &Value, rng: &mut Rng) -> String {
    let mut e = Emitter {
        rng,
        out: String::new(),
    };
    e.emit(doc, 0);
    e.out
}

// ---------------------------------------------------------------------------------------------
// Fidelity: the compiled namespace, exported back as a declarative document, must say what the
// generator meant. The engines only see the exported snapshot, so a value misread from the YAML
// would otherwise be evaluated consistently by both sides and go unnoticed.

fn num(v: Option<&Value>) -> Value {
    json!(v.and_then(Value::as_f64))
}

fn seg_ref(v: Option<&Value>) -> (Value, Value) {
    match v {
        Some(Value::String(k)) => (json!([k]), json!("OR_SEGMENT_OPERATOR")),
        Some(Value::Object(o)) => {
            let keys = o
                .get("keys")
                .cloned()
                .unwrap_or_else(|| json!([o.get("key").cloned().unwrap_or(Value::Null)]));
            (
                keys,
                o.get("operator")
                    .cloned()
                    .unwrap_or(json!("OR_SEGMENT_OPERATOR")),
            )
        }
        other => (json!(other), Value::Null),
    }
}

fn canonical(doc: &Value) -> Value {
    let flags: Vec<Value> = doc["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let variants: Vec<Value> = f["variants"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|v| {
                    json!([
                        v["key"],
                        v["attachment"],
                        v["default"].as_bool().unwrap_or(false)
                    ])
                })
                .collect();
            let rules: Vec<Value> = f["rules"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|r| {
                    let (keys, op) = seg_ref(r.get("segment"));
                    let dists: Vec<Value> = r["distributions"]
                        .as_array()
                        .map_or(&[][..], Vec::as_slice)
                        .iter()
                        .map(|d| json!([d["variant"], num(d.get("rollout"))]))
                        .collect();
                    json!([keys, op, dists])
                })
                .collect();
            let rollouts: Vec<Value> = f["rollouts"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|r| {
                    if let Some(t) = r.get("threshold") {
                        json!([
                            "threshold",
                            num(t.get("percentage")),
                            t["value"].as_bool().unwrap_or(false)
                        ])
                    } else if let Some(sg) = r.get("segment") {
                        let (keys, op) = seg_ref(Some(sg));
                        json!(["segment", keys, op, sg["value"].as_bool().unwrap_or(false)])
                    } else {
                        json!(["empty"])
                    }
                })
                .collect();
            json!({
                "key": f["key"], "name": f["name"],
                "type": f.get("type").cloned().unwrap_or(json!("VARIANT_FLAG_TYPE")),
                "enabled": f["enabled"].as_bool().unwrap_or(false),
                "variants": variants, "rules": rules, "rollouts": rollouts,
            })
        })
        .collect();
    let segments: Vec<Value> = doc["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let constraints: Vec<Value> = s["constraints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let value = match c.get("value") {
                        None | Some(Value::Null) => json!(""),
                        Some(Value::Array(a)) => {
                            json!(
                                a.iter()
                                    .map(|x| x.as_f64().map_or(x.clone(), |n| json!(n)))
                                    .collect::<Vec<_>>()
                            )
                        }
                        Some(v) => v.clone(),
                    };
                    json!([c["type"], c["property"], c["operator"], value])
                })
                .collect();
            json!([s["key"], s["name"], s["match_type"], constraints])
        })
        .collect();
    json!({ "flags": flags, "segments": segments })
}

// ---------------------------------------------------------------------------------------------
// Generation.

/// Context values worth trying, per property, collected while generating constraints.
#[derive(Default)]
struct Hints {
    /// property -> candidate context values (hits and near misses).
    by_prop: BTreeMap<String, Vec<String>>,
    /// candidate entity ids.
    entities: Vec<String>,
}

impl Hints {
    fn add(&mut self, prop: &str, v: impl Into<String>) {
        self.by_prop
            .entry(prop.to_string())
            .or_default()
            .push(v.into());
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    hints: Hints,
    numbers: Vec<i64>,
    datetimes: Vec<i64>,
    stats: &'a mut BTreeMap<String, u64>,
}

fn chars_slice(s: &str, from: usize, to: usize) -> String {
    s.chars().skip(from).take(to - from).collect()
}

impl Gen<'_> {
    fn stat(&mut self, k: String) {
        *self.stats.entry(k).or_default() += 1;
    }

    /// A non-empty substring of `s` of the given kind.
    fn piece(&mut self, s: &str, kind: &str) -> String {
        let n = s.chars().count();
        let len = self.rng.range(1, n as i64) as usize;
        match kind {
            "prefix" => chars_slice(s, 0, len),
            "suffix" => chars_slice(s, n - len, n),
            _ => {
                let start = self.rng.below(n - len + 1);
                chars_slice(s, start, start + len)
            }
        }
    }

    fn string_near_misses(&mut self, prop: &str, v: &str) {
        self.hints.add(prop, v);
        self.hints.add(prop, format!("{v}x"));
        self.hints.add(prop, format!("x{v}"));
        self.hints.add(prop, v.to_uppercase());
        let n = v.chars().count();
        if n > 1 {
            self.hints.add(prop, chars_slice(v, 0, n - 1));
            self.hints.add(prop, chars_slice(v, 1, n));
        }
    }

    fn number(&mut self) -> i64 {
        if !self.numbers.is_empty() && self.rng.chance(50) {
            return *self.rng.pick(&self.numbers);
        }
        let n = match self.rng.below(10) {
            0 => i32::MAX as i64,
            1 => i32::MIN as i64,
            2 => 0,
            3 => self.rng.range(-100_000, 100_000),
            _ => self.rng.range(-20, 120),
        };
        self.numbers.push(n);
        n
    }

    fn datetime(&mut self) -> i64 {
        if !self.datetimes.is_empty() && self.rng.chance(50) {
            return *self.rng.pick(&self.datetimes);
        }
        // 2001-09-09 .. 2033-05-18, second precision.
        let t = self.rng.range(1_000_000_000, 2_000_000_000);
        self.datetimes.push(t);
        t
    }

    fn constraint(&mut self) -> Value {
        let ty = self.rng.below(5);
        let mut c = Map::new();
        match ty {
            0 => {
                let (prop, pool) = *self.rng.pick(STRING_PROPS);
                let op = *self.rng.pick(STRING_OPS);
                c.insert("type".into(), json!("STRING_COMPARISON_TYPE"));
                c.insert("property".into(), json!(prop));
                c.insert("operator".into(), json!(op));
                let base = *self.rng.pick(pool);
                match op {
                    "empty" | "notempty" => {
                        self.hints.add(prop, base);
                    }
                    "eq" | "neq" => {
                        c.insert("value".into(), json!(base));
                        self.string_near_misses(prop, base);
                    }
                    "prefix" | "suffix" | "contains" | "notcontains" => {
                        let p = self.piece(base, op);
                        self.hints.add(prop, base);
                        self.string_near_misses(prop, &p);
                        self.hints.add(prop, format!("{p}{p}"));
                        c.insert("value".into(), json!(p));
                    }
                    _ => {
                        let k = self.rng.range(1, 3) as usize;
                        // The Rust engine parses the list as JSON `Vec<&str>`, which cannot borrow
                        // a string holding an escape: any `"` or `\` makes the parse fail, so
                        // `isoneof` is always false and `isnotoneof` always true there, while Go
                        // parses `[]string` properly. Keep such values out of lists.
                        let mut list: Vec<&str> = pool
                            .iter()
                            .copied()
                            .filter(|v| !v.contains(['"', '\\']))
                            .collect();
                        self.rng.shuffle(&mut list);
                        list.truncate(k);
                        for v in &list {
                            self.string_near_misses(prop, v);
                        }
                        c.insert("value".into(), json!(list));
                    }
                }
                self.stat(format!("constraint STRING {op}"));
            }
            1 => {
                let prop = *self.rng.pick(NUMBER_PROPS);
                let op = *self.rng.pick(NUMBER_OPS);
                c.insert("type".into(), json!("NUMBER_COMPARISON_TYPE"));
                c.insert("property".into(), json!(prop));
                c.insert("operator".into(), json!(op));
                match op {
                    "present" | "notpresent" => {
                        let n = self.number();
                        self.hints.add(prop, n.to_string());
                    }
                    "isoneof" | "isnotoneof" => {
                        let k = self.rng.range(1, 3) as usize;
                        let list: Vec<i64> = (0..k)
                            .map(|_| self.number())
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        for n in &list {
                            self.number_hints(prop, *n);
                        }
                        c.insert("value".into(), json!(list));
                    }
                    _ => {
                        let n = self.number();
                        self.number_hints(prop, n);
                        let spelled = self.number_spelling(n);
                        c.insert("value".into(), json!(spelled));
                    }
                }
                self.stat(format!("constraint NUMBER {op}"));
            }
            2 => {
                let prop = *self.rng.pick(BOOLEAN_PROPS);
                let op = *self.rng.pick(BOOLEAN_OPS);
                c.insert("type".into(), json!("BOOLEAN_COMPARISON_TYPE"));
                c.insert("property".into(), json!(prop));
                c.insert("operator".into(), json!(op));
                self.hints.add(prop, "true");
                self.hints.add(prop, "false");
                self.stat(format!("constraint BOOLEAN {op}"));
            }
            3 => {
                let prop = *self.rng.pick(DATETIME_PROPS);
                let op = *self.rng.pick(DATETIME_OPS);
                c.insert("type".into(), json!("DATETIME_COMPARISON_TYPE"));
                c.insert("property".into(), json!(prop));
                c.insert("operator".into(), json!(op));
                let t = self.datetime();
                for d in [0, -1, 1, -86_400, 86_400, -3600] {
                    self.hints.add(prop, fmt_datetime(t + d));
                }
                // The same instants (and their neighbours) written at other UTC offsets.
                for d in [0, -1, 1] {
                    let off = *self.rng.pick(OFFSETS);
                    self.hints.add(prop, fmt_datetime_at(t + d, Some(off)));
                }
                if !matches!(op, "present" | "notpresent") {
                    let value = if self.rng.chance(30) {
                        self.stat("datetime constraint value with an offset".into());
                        fmt_datetime_at(t, Some(*self.rng.pick(OFFSETS)))
                    } else {
                        fmt_datetime(t)
                    };
                    c.insert("value".into(), json!(value));
                }
                self.stat(format!("constraint DATETIME {op}"));
            }
            _ => {
                let op = *self.rng.pick(ENTITY_OPS);
                c.insert("type".into(), json!("ENTITY_ID_COMPARISON_TYPE"));
                c.insert(
                    "property".into(),
                    json!(*self.rng.pick(&["entityId", "id", "plan"])),
                );
                c.insert("operator".into(), json!(op));
                let base = *self.rng.pick(ENTITY_POOL);
                match op {
                    "empty" | "notempty" => {}
                    "eq" | "neq" => {
                        c.insert("value".into(), json!(base));
                        self.entity_near_misses(base);
                    }
                    "prefix" | "suffix" | "contains" | "notcontains" => {
                        let p = self.piece(base, op);
                        self.hints.entities.push(base.to_string());
                        self.entity_near_misses(&p);
                        c.insert("value".into(), json!(p));
                    }
                    _ => {
                        let k = self.rng.range(1, 3) as usize;
                        let mut list: Vec<&str> = ENTITY_POOL.to_vec();
                        self.rng.shuffle(&mut list);
                        list.truncate(k);
                        for v in &list {
                            self.entity_near_misses(v);
                        }
                        c.insert("value".into(), json!(list));
                    }
                }
                self.stat(format!("constraint ENTITY_ID {op}"));
            }
        }
        Value::Object(c)
    }

    fn number_hints(&mut self, prop: &str, n: i64) {
        for d in [0, -1, 1] {
            let m = n + d;
            if (i32::MIN as i64..=i32::MAX as i64).contains(&m) {
                self.hints.add(prop, m.to_string());
            }
        }
        // Other spellings of the same integer that Go's ParseFloat and Rust's i32 parser both read.
        if n >= 0 {
            self.hints.add(prop, format!("+{n}"));
            self.hints.add(prop, format!("00{n}"));
        }
        if n == 0 {
            self.hints.add(prop, "-0");
        }
        // Spellings that Go's ParseFloat refuses (misplaced underscores, a hex mantissa without
        // a `p` exponent) and the engine's i32 parser refuses too: no match on both sides. The
        // underscore spellings Go accepts (`1_8`) are pinned by tests/vectors/go_parse_float.jsonl
        // instead: the engine reads no underscores at all.
        if self.rng.chance(30) {
            let digits = n.unsigned_abs().to_string();
            let sign = if n < 0 { "-" } else { "" };
            let spelled = match self.rng.below(5) {
                0 => format!("{sign}_{digits}"),
                1 => format!("{sign}{digits}_"),
                2 if digits.len() > 1 => format!("{sign}{}__{}", &digits[..1], &digits[1..]),
                3 => format!("{sign}0x{:x}", n.unsigned_abs()),
                _ => format!("{sign}{digits}_e1"),
            };
            self.hints.add(prop, spelled);
        }
    }

    /// A constraint value spelling of `n`, usually canonical.
    fn number_spelling(&mut self, n: i64) -> String {
        match self.rng.below(10) {
            0 if n >= 0 => format!("+{n}"),
            1 if n >= 0 => format!("0{n}"),
            _ => n.to_string(),
        }
    }

    fn entity_near_misses(&mut self, v: &str) {
        self.hints.entities.push(v.to_string());
        self.hints.entities.push(format!("{v}x"));
        self.hints.entities.push(format!("x{v}"));
    }

    fn segment(&mut self, key: &str) -> Value {
        // Zero to many constraints: mostly 0..=3, sometimes 4 or 5.
        let n = if self.rng.chance(15) {
            self.rng.range(4, 5) as usize
        } else {
            self.rng.below(4)
        };
        let constraints: Vec<Value> = (0..n).map(|_| self.constraint()).collect();
        let mt = if self.rng.chance(50) {
            "ALL_MATCH_TYPE"
        } else {
            "ANY_MATCH_TYPE"
        };
        self.stat(format!("segment {mt} with {n} constraints"));
        json!({ "key": key, "name": format!("Segment {key}"), "match_type": mt, "constraints": constraints })
    }

    /// Pick 1..=3 distinct segment keys.
    fn segment_refs(&mut self, segs: &[String]) -> Vec<String> {
        let k = self.rng.range(1, segs.len().min(3) as i64) as usize;
        let mut s = segs.to_vec();
        self.rng.shuffle(&mut s);
        s.truncate(k);
        s
    }

    fn operator(&mut self) -> Option<&'static str> {
        match self.rng.below(5) {
            0 => None,
            1 | 2 => Some("OR_SEGMENT_OPERATOR"),
            _ => Some("AND_SEGMENT_OPERATOR"),
        }
    }

    /// Integer rollouts over `k` distributions, some possibly 0, whose truncated (Go) and rounded
    /// (Rust engine) normalised boundaries coincide. They sum to exactly 100, except for about
    /// one rule in ten that sums to less (both normalise those to 100; still boundary-checked).
    fn rollouts(&mut self, k: usize) -> Vec<u32> {
        let total: u32 = if self.rng.chance(10) {
            self.rng.range(1, 99) as u32
        } else {
            100
        };
        loop {
            let mut cuts: Vec<u32> = (0..k - 1)
                .map(|_| self.rng.range(0, total as i64) as u32)
                .collect();
            if self.rng.chance(30) {
                // Prefer "round" splits sometimes, like people write.
                cuts = cuts.iter().map(|c| c / 10 * 10).collect();
            }
            cuts.sort();
            let mut prev = 0;
            let mut out = Vec::with_capacity(k);
            for c in cuts {
                out.push(c - prev);
                prev = c;
            }
            out.push(total - prev);
            if boundaries_agree(&out) {
                return out;
            }
            self.stat("rollout split rejected (truncation != rounding)".into());
        }
    }
}

/// Whether `int(cum*10)` (Go v2 ≥ 2.9, Switchyard) and `(cum*10).round()` (Rust engine) give the
/// same boundaries, computed in float32 exactly as both implementations do.
fn boundaries_agree(rollouts: &[u32]) -> bool {
    let valid: Vec<f32> = rollouts
        .iter()
        .filter(|&&r| r > 0)
        .map(|&r| r as f32)
        .collect();
    let total: f32 = valid.iter().sum();
    let mut cum: f32 = 0.0;
    let mul: f32 = 1000.0 / 100.0;
    for (i, r) in valid.iter().enumerate() {
        cum += (r / total) * 100.0;
        if i + 1 == valid.len() {
            break;
        }
        if (cum * mul) as u32 != (cum * mul).round() as u32 {
            return false;
        }
    }
    true
}

struct FlagSet {
    yaml: String,
    /// The document the YAML spells, for the fidelity check.
    doc: Value,
    flags: Vec<(String, &'static str)>,
    hints: Hints,
    props: Vec<String>,
}

fn gen_flag_set(rng: &mut Rng, index: usize, stats: &mut BTreeMap<String, u64>) -> FlagSet {
    let mut g = Gen {
        rng,
        hints: Hints::default(),
        numbers: Vec::new(),
        datetimes: Vec::new(),
        stats,
    };

    let nseg = g.rng.range(1, 4) as usize;
    let mut seg_keys: Vec<String> = Vec::new();
    let mut segments = Vec::new();
    for i in 0..nseg {
        let key = format!("{}-{i}", g.rng.pick(SEGMENT_WORDS));
        segments.push(g.segment(&key));
        seg_keys.push(key);
    }

    let nflags = g.rng.range(1, 5) as usize;
    let mut flags = Vec::new();
    let mut flag_list = Vec::new();
    for i in 0..nflags {
        let key = format!("{}-{index}-{i}", g.rng.pick(FLAG_WORDS));
        let boolean = g.rng.chance(40);
        let mut f = Map::new();
        f.insert("key".into(), json!(key));
        f.insert("name".into(), json!(format!("Flag {key}")));
        if boolean {
            f.insert("type".into(), json!("BOOLEAN_FLAG_TYPE"));
            let enabled = g.rng.chance(50);
            f.insert("enabled".into(), json!(enabled));
            let n = g.rng.below(4);
            let mut rollouts = Vec::new();
            for _ in 0..n {
                let value = g.rng.chance(50);
                match g.rng.below(10) {
                    0..=3 => {
                        let pct = match g.rng.below(8) {
                            0 => json!(0),
                            1 => json!(100),
                            2 => json!(g.rng.range(1, 99) as f64 + 0.5),
                            _ => json!(g.rng.range(1, 99)),
                        };
                        let mut t = Map::new();
                        t.insert("percentage".into(), json!(pct));
                        if value || g.rng.chance(50) {
                            t.insert("value".into(), json!(value));
                        }
                        rollouts.push(json!({ "threshold": Value::Object(t) }));
                        g.stat("rollout threshold".into());
                    }
                    4..=8 => {
                        let refs = g.segment_refs(&seg_keys);
                        let mut s = Map::new();
                        if refs.len() == 1 && g.rng.chance(50) {
                            s.insert("key".into(), json!(refs[0]));
                        } else {
                            s.insert("keys".into(), json!(refs));
                            if let Some(op) = g.operator() {
                                s.insert("operator".into(), json!(op));
                            }
                        }
                        if value || g.rng.chance(50) {
                            s.insert("value".into(), json!(value));
                        }
                        rollouts.push(json!({ "segment": Value::Object(s) }));
                        g.stat(format!("rollout segment x{}", refs.len()));
                    }
                    _ => {
                        rollouts.push(json!({}));
                        g.stat("rollout empty".into());
                    }
                }
            }
            f.insert("rollouts".into(), json!(rollouts));
            g.stat(format!("boolean flag enabled={enabled} rollouts={n}"));
            flag_list.push((key, "BOOLEAN_FLAG_TYPE"));
        } else {
            if g.rng.chance(70) {
                f.insert("type".into(), json!("VARIANT_FLAG_TYPE"));
            }
            let enabled = g.rng.chance(80);
            f.insert("enabled".into(), json!(enabled));
            let nvar = g.rng.below(5);
            let mut vkeys: Vec<&str> = VARIANT_KEYS.to_vec();
            g.rng.shuffle(&mut vkeys);
            vkeys.truncate(nvar);
            let default = if nvar > 0 && g.rng.chance(40) {
                Some(g.rng.below(nvar))
            } else {
                None
            };
            let mut variants = Vec::new();
            for (vi, vk) in vkeys.iter().enumerate() {
                let mut v = Map::new();
                v.insert("key".into(), json!(vk));
                match g.rng.below(5) {
                    0 => {
                        let n = g.rng.range(-5, 500);
                        v.insert(
                            "attachment".into(),
                            json!({ "color": vk, "n": n, "nested": { "ok": true } }),
                        );
                    }
                    1 => {
                        v.insert("attachment".into(), json!([1, "two", { "three": 3 }]));
                    }
                    2 if g.rng.chance(50) => {
                        // Keys out of order, floats Go prints differently from Rust (1.0 -> 1,
                        // 1e21 -> 1e+21, 1.5e-7), escapes and non-ASCII text.
                        v.insert(
                            "attachment".into(),
                            json!({ "z": 1.0, "b": [0.5, 1e21, 1.5e-7, 100.0], "a": { "y": "é \"q\"\n", "x": null } }),
                        );
                        g.stat("attachment re-serialised by Go".into());
                    }
                    _ => {}
                }
                if default == Some(vi) {
                    v.insert("default".into(), json!(true));
                }
                variants.push(Value::Object(v));
            }
            f.insert("variants".into(), json!(variants));
            let nrules = g.rng.below(4);
            let mut rules = Vec::new();
            for _ in 0..nrules {
                let refs = g.segment_refs(&seg_keys);
                let mut r = Map::new();
                if refs.len() == 1 && g.rng.chance(50) {
                    r.insert("segment".into(), json!(refs[0]));
                } else {
                    let mut s = Map::new();
                    s.insert("keys".into(), json!(refs));
                    let op = g.operator();
                    if let Some(op) = op {
                        s.insert("operator".into(), json!(op));
                    }
                    if refs.len() > 1 {
                        g.stat(format!(
                            "rule with {} segments {}",
                            refs.len(),
                            op.unwrap_or("(operator omitted)")
                        ));
                    }
                    r.insert("segment".into(), Value::Object(s));
                }
                if nvar > 0 && g.rng.chance(75) {
                    let k = g.rng.range(1, nvar.min(4) as i64) as usize;
                    let mut dv = vkeys.clone();
                    g.rng.shuffle(&mut dv);
                    dv.truncate(k);
                    let rs = if g.rng.chance(5) {
                        vec![0; k]
                    } else {
                        g.rollouts(k)
                    };
                    let dists: Vec<Value> = dv
                        .iter()
                        .zip(&rs)
                        .map(|(v, r)| json!({ "variant": v, "rollout": r }))
                        .collect();
                    r.insert("distributions".into(), json!(dists));
                    let sum: u32 = rs.iter().sum();
                    g.stat(format!(
                        "rule with {k} distributions summing to {}",
                        if sum == 100 {
                            "100"
                        } else if sum == 0 {
                            "0"
                        } else {
                            "1..99"
                        }
                    ));
                } else {
                    g.stat("rule without distributions".into());
                }
                rules.push(Value::Object(r));
            }
            f.insert("rules".into(), json!(rules));
            g.stat(format!(
                "variant flag enabled={enabled} rules={nrules} default={}",
                default.is_some()
            ));
            flag_list.push((key, "VARIANT_FLAG_TYPE"));
        }
        flags.push(Value::Object(f));
    }

    let doc = json!({
        "version": "1.6",
        "namespace": "default",
        "flags": flags,
        "segments": segments,
    });
    let yaml = to_yaml(&doc, g.rng);

    let props: Vec<String> = g.hints.by_prop.keys().cloned().collect();
    FlagSet {
        yaml,
        doc,
        flags: flag_list,
        hints: g.hints,
        props,
    }
}

/// ~10 entities with contexts built to hit the set's constraints both ways.
fn gen_entities(rng: &mut Rng, set: &FlagSet) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for _ in 0..10 {
        let id = match rng.below(4) {
            0 if !set.hints.entities.is_empty() => rng.pick(&set.hints.entities).clone(),
            1 => rng.pick(ENTITY_POOL).to_string(),
            2 => format!("user-{}", rng.range(0, 100_000)),
            _ => format!("e-{:08x}", rng.next_u64() as u32),
        };
        let mut ctx = BTreeMap::new();
        for p in &set.props {
            match rng.below(100) {
                0..=14 => {}
                15..=21 => {
                    ctx.insert(p.clone(), String::new());
                }
                _ => {
                    let v = rng.pick(&set.hints.by_prop[p]).clone();
                    ctx.insert(p.clone(), v);
                }
            }
        }
        if rng.chance(20) {
            ctx.insert("unrelated".into(), "x".into());
        }
        out.push((id, ctx));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args
        .first()
        .map(|s| s.parse().expect("SEED must be an integer"))
        .unwrap_or(1);
    let n: usize = args
        .get(1)
        .map(|s| s.parse().expect("N must be an integer"))
        .unwrap_or(2000);
    let out_path = args.get(2).cloned();

    let mut rng = Rng::new(seed);
    let mut stats: BTreeMap<String, u64> = BTreeMap::new();
    let mut sets = Vec::with_capacity(n);
    let mut total_cases = 0usize;
    for index in 0..n {
        let set = gen_flag_set(&mut rng, index, &mut stats);
        let env = match compile_environment(
            "default",
            &[SourceFile::new("features.yaml", set.yaml.clone())],
            &Limits::default(),
        ) {
            Ok(env) => env,
            Err(diags) => {
                eprintln!(
                    "generated flag set {index} (seed {seed}) does not compile:\n{}\n--- diagnostics:",
                    set.yaml
                );
                for d in diags.iter() {
                    eprintln!("{d:?}");
                }
                std::process::exit(2);
            }
        };
        let ns = env.namespace("default").expect("namespace default");
        let (meant, got) = (canonical(&set.doc), canonical(&export::document(ns)));
        if meant != got {
            eprintln!(
                "flag set {index} (seed {seed}) compiled to something else than generated:\n{}",
                set.yaml
            );
            eprintln!(
                "--- generated (canonical):\n{meant:#}\n--- compiled and exported (canonical):\n{got:#}"
            );
            std::process::exit(3);
        }
        let snapshot = export::client_snapshot(ns, "2026-01-01T00:00:00Z");
        let entities = gen_entities(&mut rng, &set);
        // Coverage: how often each constraint kind comes out true and false on these entities.
        for seg in &ns.segments {
            for c in &seg.constraints {
                for (entity, ctx) in &entities {
                    let v = if c.comparison == ComparisonType::EntityId {
                        entity.as_str()
                    } else {
                        ctx.get(&c.property).map_or("", String::as_str)
                    };
                    let k = format!(
                        "outcome {} {} -> {}",
                        c.comparison.as_str(),
                        c.operator.as_str(),
                        c.matches(v)
                    );
                    *stats.entry(k).or_default() += 1;
                }
            }
        }
        for (_, ctx) in &entities {
            for p in &set.props {
                if !ctx.contains_key(p) {
                    *stats.entry("context key absent".into()).or_default() += 1;
                }
            }
            for p in NUMBER_PROPS {
                if ctx.get(*p).is_some_and(|v| {
                    !v.is_empty() && switchyard_core::constraint::parse_go_float(v).is_none()
                }) {
                    *stats
                        .entry("context number spelling Go refuses".into())
                        .or_default() += 1;
                }
            }
        }
        let mut cases = Vec::new();
        for (flag_key, ty) in &set.flags {
            let flag = ns.flag(flag_key).expect("flag compiled");
            for (entity, ctx) in &entities {
                let hctx: HashMap<String, String> =
                    ctx.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let expected = if *ty == "BOOLEAN_FLAG_TYPE" {
                    let b = evaluate_boolean(flag, entity, &hctx).expect("boolean evaluation");
                    let mut keys: Vec<&str> = b.segment_keys.to_vec();
                    keys.sort();
                    *stats
                        .entry(format!(
                            "expected boolean {} enabled={}",
                            b.reason.as_str(),
                            b.enabled
                        ))
                        .or_default() += 1;
                    json!({ "match": null, "reason": b.reason.as_str(), "variantKey": null, "variantAttachment": null,
                            "enabled": b.enabled, "segmentKeys": keys })
                } else {
                    let v = evaluate_variant(flag, entity, &hctx).expect("variant evaluation");
                    let mut keys: Vec<&str> = v.segment_keys.to_vec();
                    keys.sort();
                    *stats
                        .entry(format!(
                            "expected variant {} match={} variant={}",
                            v.reason.as_str(),
                            v.matched,
                            !v.variant_key().is_empty()
                        ))
                        .or_default() += 1;
                    json!({ "match": v.matched, "reason": v.reason.as_str(), "variantKey": v.variant_key(),
                            "variantAttachment": v.variant_attachment(), "enabled": null, "segmentKeys": keys })
                };
                cases.push(json!({
                    "flagKey": flag_key,
                    "type": ty,
                    "entityId": entity,
                    "context": ctx,
                    "expected": expected,
                }));
            }
        }
        total_cases += cases.len();
        sets.push(
            json!({ "index": index, "yaml": set.yaml, "snapshot": snapshot, "cases": cases }),
        );
    }

    let body = serde_json::to_vec(&Value::Array(sets)).expect("serialise corpus");
    match out_path {
        Some(p) => std::fs::write(&p, body).unwrap_or_else(|e| panic!("write {p}: {e}")),
        None => std::io::stdout().write_all(&body).expect("write stdout"),
    }
    eprintln!("differential_corpus: seed {seed}, {n} flag sets, {total_cases} cases");
    for (k, v) in &stats {
        eprintln!("  {v:>8}  {k}");
    }
    // The constructs the oracle must keep seeing (issue 11, item 2): a run large enough to
    // contain each of them fails if the generator stopped producing one.
    if n >= 1000 {
        let missing: Vec<&str> = REQUIRED_CONSTRUCTS
            .iter()
            .copied()
            .filter(|c| !stats.keys().any(|k| k.starts_with(c)))
            .collect();
        if !missing.is_empty() {
            eprintln!("the corpus lacks required constructs: {missing:?}");
            std::process::exit(4);
        }
    }
}

/// Prefixes of coverage statistics that every corpus of 1000 sets or more must contain.
const REQUIRED_CONSTRUCTS: &[&str] = &[
    "rule with 2 segments AND_SEGMENT_OPERATOR",
    "rule with 3 segments OR_SEGMENT_OPERATOR",
    "rule with 2 segments (operator omitted)",
    "rollout segment x2",
    "rollout segment x3",
    "rollout threshold",
    "rollout empty",
    "segment ALL_MATCH_TYPE with 0 constraints",
    "segment ANY_MATCH_TYPE with 0 constraints",
    "segment ALL_MATCH_TYPE with 5 constraints",
    "segment ANY_MATCH_TYPE with 5 constraints",
    "constraint ENTITY_ID ",
    "outcome ENTITY_ID_COMPARISON_TYPE eq -> true",
    "boolean flag enabled=false",
    "variant flag enabled=false",
    "rule without distributions",
    "rule with 2 distributions summing to 1..99",
    "rule with 1 distributions summing to 0",
    "datetime constraint value with an offset",
    "outcome DATETIME_COMPARISON_TYPE eq -> true",
    "attachment re-serialised by Go",
    "context key absent",
    "context number spelling Go refuses",
];
