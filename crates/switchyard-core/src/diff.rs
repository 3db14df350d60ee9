//! The semantic diff between two compiled environments, in plain words.
//!
//! A pure function of two [`Environment`]s: flags and segments added, removed or changed, and
//! for a change what moved (enabled toggled, rollout percentages, variants, rules, constraints),
//! e.g. `flag darkMode enabled: false -> true` or
//! `flag newPaymentFlow rule 1 (premium-users): variant on rollout 25% -> 50%`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::constraint::Constraint;
use crate::snapshot::{Environment, Flag, RolloutKind, Rule, Segment};

/// What happened to one flag or segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It is new.
    Added,
    /// It is gone.
    Removed,
    /// It is still there with different content.
    Changed,
}

/// A flag or a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A flag.
    Flag,
    /// A segment.
    Segment,
}

/// One flag or segment that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Namespace key.
    pub namespace: String,
    /// Flag or segment.
    pub object: ObjectKind,
    /// Its key.
    pub key: String,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// For a change, what moved, one plain sentence each.
    pub details: Vec<String>,
}

/// Every difference between two environments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Changes by namespace, then flags before segments, then key.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The diff as plain lines, e.g. `flag darkMode enabled: false -> true`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.changes {
            let object = match c.object {
                ObjectKind::Flag => "flag",
                ObjectKind::Segment => "segment",
            };
            let name = if c.namespace == "default" {
                c.key.clone()
            } else {
                format!("{}/{}", c.namespace, c.key)
            };
            match c.kind {
                ChangeKind::Added => out.push(format!("{object} {name} added")),
                ChangeKind::Removed => out.push(format!("{object} {name} removed")),
                ChangeKind::Changed => {
                    out.extend(c.details.iter().map(|d| format!("{object} {name} {d}")))
                }
            }
        }
        out
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines().iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

/// Computes what changed from `old` to `new`.
pub fn diff(old: &Environment, new: &Environment) -> Diff {
    let mut changes = Vec::new();
    let mut keys: Vec<&String> = old.namespaces.keys().chain(new.namespaces.keys()).collect();
    keys.sort();
    keys.dedup();
    for ns in keys {
        let o = old.namespaces.get(ns);
        let n = new.namespaces.get(ns);
        let of = index(o.map(|x| x.flags.as_slice()).unwrap_or(&[]), |f| &f.key);
        let nf = index(n.map(|x| x.flags.as_slice()).unwrap_or(&[]), |f| &f.key);
        compare(ns, ObjectKind::Flag, &of, &nf, flag_details, &mut changes);
        let os = index(o.map(|x| x.segments.as_slice()).unwrap_or(&[]), |s| &s.key);
        let nsg = index(n.map(|x| x.segments.as_slice()).unwrap_or(&[]), |s| &s.key);
        compare(
            ns,
            ObjectKind::Segment,
            &os,
            &nsg,
            segment_details,
            &mut changes,
        );
    }
    Diff { changes }
}

fn index<T>(items: &[Arc<T>], key: impl Fn(&T) -> &String) -> BTreeMap<&str, &T> {
    items
        .iter()
        .map(|i| (key(i).as_str(), i.as_ref()))
        .collect()
}

fn compare<T>(
    ns: &str,
    object: ObjectKind,
    old: &BTreeMap<&str, &T>,
    new: &BTreeMap<&str, &T>,
    details: fn(&T, &T) -> Vec<String>,
    out: &mut Vec<Change>,
) {
    let mut keys: Vec<&str> = old.keys().chain(new.keys()).copied().collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let change = |kind, details| Change {
            namespace: ns.to_string(),
            object,
            key: key.to_string(),
            kind,
            details,
        };
        match (old.get(key), new.get(key)) {
            (None, Some(_)) => out.push(change(ChangeKind::Added, Vec::new())),
            (Some(_), None) => out.push(change(ChangeKind::Removed, Vec::new())),
            (Some(a), Some(b)) => {
                let d = details(a, b);
                if !d.is_empty() {
                    out.push(change(ChangeKind::Changed, d));
                }
            }
            (None, None) => {}
        }
    }
}

fn pct(p: f32) -> String {
    if p.fract() == 0.0 {
        format!("{}%", p as i64)
    } else {
        format!("{p}%")
    }
}

fn quoted(s: Option<&str>) -> String {
    s.map(|s| format!("{s:?}"))
        .unwrap_or_else(|| "none".to_string())
}

/// What differs between two versions of a flag, one plain sentence each.
pub(crate) fn flag_details(a: &Flag, b: &Flag) -> Vec<String> {
    let mut d = Vec::new();
    if a.enabled != b.enabled {
        d.push(format!("enabled: {} -> {}", a.enabled, b.enabled));
    }
    if a.flag_type != b.flag_type {
        d.push(format!(
            "type: {} -> {}",
            a.flag_type.as_str(),
            b.flag_type.as_str()
        ));
    }
    names_and_descriptions(
        &mut d,
        (&a.name, &b.name),
        (a.description.as_deref(), b.description.as_deref()),
    );
    if a.metadata != b.metadata {
        d.push("metadata changed".to_string());
    }
    // variants
    for v in &b.variants {
        match a.variants.iter().find(|x| x.key == v.key) {
            None => d.push(format!("variant {} added", v.key)),
            Some(old) => {
                if old.attachment_json != v.attachment_json {
                    d.push(format!(
                        "variant {} attachment: {} -> {}",
                        v.key, old.attachment_json, v.attachment_json
                    ));
                }
                if old.name != v.name || old.description != v.description {
                    d.push(format!("variant {} name or description changed", v.key));
                }
            }
        }
    }
    for v in &a.variants {
        if !b.variants.iter().any(|x| x.key == v.key) {
            d.push(format!("variant {} removed", v.key));
        }
    }
    let dv = |f: &Flag| f.default_variant().map(|v| v.key.clone());
    if dv(a) != dv(b) {
        d.push(format!(
            "default variant: {} -> {}",
            dv(a).unwrap_or_else(|| "none".into()),
            dv(b).unwrap_or_else(|| "none".into())
        ));
    }
    // rules, compared by rank
    for i in 0..a.rules.len().max(b.rules.len()) {
        match (a.rules.get(i), b.rules.get(i)) {
            (None, Some(r)) => d.push(format!("rule {} added ({})", i + 1, rule_summary(b, r))),
            (Some(r), None) => d.push(format!("rule {} removed ({})", i + 1, rule_summary(a, r))),
            (Some(x), Some(y)) => rule_details(i + 1, a, x, b, y, &mut d),
            (None, None) => {}
        }
    }
    // rollouts, compared by rank
    for i in 0..a.rollouts.len().max(b.rollouts.len()) {
        match (
            a.rollouts.get(i).map(|r| &r.kind),
            b.rollouts.get(i).map(|r| &r.kind),
        ) {
            (None, Some(k)) => d.push(format!("rollout {} added ({})", i + 1, rollout_summary(k))),
            (Some(k), None) => d.push(format!(
                "rollout {} removed ({})",
                i + 1,
                rollout_summary(k)
            )),
            (Some(x), Some(y)) => rollout_details(i + 1, x, y, &mut d),
            (None, None) => {}
        }
    }
    d
}

fn segment_keys(segments: &[Arc<Segment>]) -> String {
    segments
        .iter()
        .map(|s| s.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn rule_summary(f: &Flag, r: &Rule) -> String {
    let dist: Vec<String> = r
        .distributions
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                f.variants
                    .get(d.variant)
                    .map(|v| v.key.as_str())
                    .unwrap_or("?"),
                pct(d.rollout)
            )
        })
        .collect();
    if dist.is_empty() {
        format!("segments {}", segment_keys(&r.segments))
    } else {
        format!(
            "segments {}: {}",
            segment_keys(&r.segments),
            dist.join(", ")
        )
    }
}

fn rule_details(rank: usize, fa: &Flag, a: &Rule, fb: &Flag, b: &Rule, d: &mut Vec<String>) {
    let (sa, sb) = (segment_keys(&a.segments), segment_keys(&b.segments));
    if sa != sb {
        d.push(format!("rule {rank} segments: {sa} -> {sb}"));
    }
    if a.segment_operator != b.segment_operator {
        d.push(format!(
            "rule {rank} segment operator: {} -> {}",
            a.segment_operator.as_str(),
            b.segment_operator.as_str()
        ));
    }
    let dist = |f: &Flag, r: &Rule| -> BTreeMap<String, f32> {
        r.distributions
            .iter()
            .map(|x| {
                (
                    f.variants
                        .get(x.variant)
                        .map(|v| v.key.clone())
                        .unwrap_or_default(),
                    x.rollout,
                )
            })
            .collect()
    };
    let (da, db) = (dist(fa, a), dist(fb, b));
    let mut keys: Vec<&String> = da.keys().chain(db.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (
            da.get(k).copied().unwrap_or(0.0),
            db.get(k).copied().unwrap_or(0.0),
        );
        if x != y || da.contains_key(k) != db.contains_key(k) {
            d.push(format!(
                "rule {rank} ({sb}): variant {k} rollout {} -> {}",
                pct(x),
                pct(y)
            ));
        }
    }
}

fn rollout_summary(k: &RolloutKind) -> String {
    match k {
        RolloutKind::Threshold { percentage, value } => {
            format!("threshold {} -> {value}", pct(*percentage))
        }
        RolloutKind::Segment {
            segments, value, ..
        } => format!("segments {} -> {value}", segment_keys(segments)),
        RolloutKind::Empty => "empty".to_string(),
    }
}

fn rollout_details(rank: usize, a: &RolloutKind, b: &RolloutKind, d: &mut Vec<String>) {
    match (a, b) {
        (
            RolloutKind::Threshold {
                percentage: p,
                value: v,
            },
            RolloutKind::Threshold {
                percentage: q,
                value: w,
            },
        ) => {
            if p != q {
                d.push(format!(
                    "rollout {rank} threshold {} -> {}",
                    pct(*p),
                    pct(*q)
                ));
            }
            if v != w {
                d.push(format!("rollout {rank} value: {v} -> {w}"));
            }
        }
        (
            RolloutKind::Segment {
                segments: s,
                operator: o,
                value: v,
            },
            RolloutKind::Segment {
                segments: t,
                operator: p,
                value: w,
            },
        ) => {
            let (x, y) = (segment_keys(s), segment_keys(t));
            if x != y {
                d.push(format!("rollout {rank} segments: {x} -> {y}"));
            }
            if o != p {
                d.push(format!(
                    "rollout {rank} segment operator: {} -> {}",
                    o.as_str(),
                    p.as_str()
                ));
            }
            if v != w {
                d.push(format!("rollout {rank} ({y}) value: {v} -> {w}"));
            }
        }
        (RolloutKind::Empty, RolloutKind::Empty) => {}
        _ => d.push(format!(
            "rollout {rank}: {} -> {}",
            rollout_summary(a),
            rollout_summary(b)
        )),
    }
}

fn constraint_text(c: &Constraint) -> String {
    format!("{} {} {}", c.property, c.operator.as_str(), c.value)
        .trim_end()
        .to_string()
}

fn segment_details(a: &Segment, b: &Segment) -> Vec<String> {
    let mut d = Vec::new();
    if a.match_type != b.match_type {
        d.push(format!(
            "match type: {} -> {}",
            a.match_type.as_str(),
            b.match_type.as_str()
        ));
    }
    names_and_descriptions(
        &mut d,
        (&a.name, &b.name),
        (a.description.as_deref(), b.description.as_deref()),
    );
    let key = |c: &Constraint| format!("{}|{}", c.comparison.as_str(), constraint_text(c));
    let ka: Vec<String> = a.constraints.iter().map(key).collect();
    let kb: Vec<String> = b.constraints.iter().map(key).collect();
    for (c, k) in b.constraints.iter().zip(&kb) {
        if !ka.contains(k) {
            d.push(format!("constraint added: {}", constraint_text(c)));
        }
    }
    for (c, k) in a.constraints.iter().zip(&ka) {
        if !kb.contains(k) {
            d.push(format!("constraint removed: {}", constraint_text(c)));
        }
    }
    d
}

/// The `name` and `description` lines flags and segments share.
fn names_and_descriptions(
    d: &mut Vec<String>,
    (old_name, new_name): (&String, &String),
    (old_description, new_description): (Option<&str>, Option<&str>),
) {
    if old_name != new_name {
        d.push(format!("name: {old_name:?} -> {new_name:?}"));
    }
    if old_description != new_description {
        d.push(format!(
            "description: {} -> {}",
            quoted(old_description),
            quoted(new_description)
        ));
    }
}

#[cfg(test)]
mod tests;
