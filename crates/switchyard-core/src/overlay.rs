//! Break-glass overrides laid over a compiled environment: a flag forced on or off, to one
//! variant, or to a boolean rollout, for a while, without a commit.
//!
//! [`overlay`] returns a new [`Environment`] whose overridden namespaces get a new digest (so
//! every cache keyed by digest moves) and whose other namespaces are shared. [`git_matches`]
//! tells when the environment read from Git already answers as an override forces (the
//! override is no longer needed), and [`patch`] writes the change to the flag file that would
//! make Git match, as a unified diff.

use std::sync::Arc;

use sha1::{Digest, Sha1};

use crate::compile::environment_digest;
use crate::limits::Limits;
use crate::snapshot::{Environment, Flag, FlagType, Rollout, RolloutKind};
use crate::source::SourceFile;
use crate::tree::{TreeNode, TreeValue, parse_tree};

/// What an override forces on one flag.
#[derive(Debug, Clone, PartialEq)]
pub enum Forced {
    /// A variant flag on or off; a boolean flag answers this value to everyone.
    Enabled(bool),
    /// A variant flag answers this variant to everyone (enabled, no rules, this default).
    Variant(String),
    /// A boolean flag answers `true` to this percentage of entities, `false` to the rest.
    Rollout(f32),
}

impl Forced {
    /// The override in plain words, e.g. `enabled: false` or `variant "blue"`.
    pub fn describe(&self) -> String {
        match self {
            Forced::Enabled(b) => format!("enabled: {b}"),
            Forced::Variant(v) => format!("variant {v:?} for everyone"),
            Forced::Rollout(p) => format!("true for {p}% of entities"),
        }
    }
}

/// One flag's override.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagOverride {
    /// The flag's namespace.
    pub namespace: String,
    /// The flag's key.
    pub flag: String,
    /// What it forces.
    pub forced: Forced,
}

/// Why an override cannot be laid over an environment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverlayError {
    /// The namespace does not exist.
    #[error("namespace {namespace:?} does not exist in this environment")]
    NoNamespace {
        /// The namespace asked for.
        namespace: String,
    },
    /// The flag does not exist in the namespace.
    #[error("flag {flag:?} does not exist in namespace {namespace:?}{}", hint(.suggestion))]
    NoFlag {
        /// The namespace.
        namespace: String,
        /// The flag asked for.
        flag: String,
        /// A flag key close to it.
        suggestion: Option<String>,
    },
    /// The variant is not one of the flag's.
    #[error("flag {flag:?} has no variant {variant:?} (its variants: {})", .variants.join(", "))]
    NoVariant {
        /// The flag.
        flag: String,
        /// The variant asked for.
        variant: String,
        /// The flag's variants.
        variants: Vec<String>,
    },
    /// A variant was forced on a boolean flag, or a rollout on a variant flag.
    #[error("flag {flag:?} is a {kind} flag: {what}")]
    WrongType {
        /// The flag.
        flag: String,
        /// `boolean` or `variant`.
        kind: &'static str,
        /// What to do instead.
        what: &'static str,
    },
    /// A rollout percentage outside 0 to 100.
    #[error("rollout percentage {0} is not within 0 and 100")]
    Percentage(f32),
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

/// Checks that `o` can be laid over `env`.
pub fn check(env: &Environment, o: &FlagOverride) -> Result<(), OverlayError> {
    forced_flag(find(env, o)?, &o.forced).map(|_| ())
}

/// `env` with every override laid over it; the overridden namespaces get a new digest.
pub fn overlay(env: &Environment, overrides: &[FlagOverride]) -> Result<Environment, OverlayError> {
    let mut out = env.clone();
    for o in overrides {
        let forced = forced_flag(find(&out, o)?, &o.forced)?;
        let Some(ns) = out.namespaces.get_mut(&o.namespace) else {
            return Err(OverlayError::NoNamespace {
                namespace: o.namespace.clone(),
            });
        };
        let ns = Arc::make_mut(ns);
        if let Some(i) = ns.flag_position(&o.flag) {
            ns.flags[i] = Arc::new(forced);
        }
        let mut h = Sha1::new();
        h.update(ns.digest.as_bytes());
        h.update(format!("\0override\0{}\0{:?}", o.flag, o.forced).as_bytes());
        ns.digest = hex::encode(h.finalize());
    }
    out.digest = environment_digest(&out.namespaces);
    Ok(out)
}

/// Whether `env` (read from Git) already answers the flag as `o` forces it: laying `o` over
/// it changes nothing. False when the flag is gone or the override no longer fits it.
pub fn git_matches(env: &Environment, o: &FlagOverride) -> bool {
    let Ok(flag) = find(env, o) else {
        return false;
    };
    let Ok(forced) = forced_flag(flag, &o.forced) else {
        return false;
    };
    crate::diff::flag_details(flag, &forced).is_empty()
}

fn find<'e>(env: &'e Environment, o: &FlagOverride) -> Result<&'e Flag, OverlayError> {
    let ns = env
        .namespace(&o.namespace)
        .ok_or_else(|| OverlayError::NoNamespace {
            namespace: o.namespace.clone(),
        })?;
    ns.flag(&o.flag).map(Arc::as_ref).ok_or_else(|| {
        let keys: Vec<&str> = ns.flags.iter().map(|f| f.key.as_str()).collect();
        OverlayError::NoFlag {
            namespace: o.namespace.clone(),
            flag: o.flag.clone(),
            suggestion: crate::suggest::closest(&o.flag, &keys).map(str::to_string),
        }
    })
}

/// The flag as the override makes it.
fn forced_flag(flag: &Flag, forced: &Forced) -> Result<Flag, OverlayError> {
    let mut f = flag.clone();
    match (forced, flag.flag_type) {
        (Forced::Enabled(b), FlagType::Variant) => f.enabled = *b,
        (Forced::Enabled(b), FlagType::Boolean) => {
            f.enabled = *b;
            f.rollouts.clear();
        }
        (Forced::Variant(v), FlagType::Variant) => {
            let i = f.variants.iter().position(|x| &x.key == v).ok_or_else(|| {
                OverlayError::NoVariant {
                    flag: flag.key.clone(),
                    variant: v.clone(),
                    variants: flag.variants.iter().map(|x| x.key.clone()).collect(),
                }
            })?;
            f.enabled = true;
            f.rules.clear();
            f.default_variant = Some(i);
            for (j, x) in f.variants.iter_mut().enumerate() {
                x.is_default = j == i;
            }
        }
        (Forced::Rollout(p), FlagType::Boolean) => {
            if !(0.0..=100.0).contains(p) {
                return Err(OverlayError::Percentage(*p));
            }
            f.enabled = false;
            f.rollouts = vec![Rollout {
                rank: 1,
                description: None,
                kind: RolloutKind::Threshold {
                    percentage: *p,
                    value: true,
                },
            }];
        }
        (Forced::Variant(_), FlagType::Boolean) => {
            return Err(OverlayError::WrongType {
                flag: flag.key.clone(),
                kind: "boolean",
                what: "force enabled true or false, or a rollout percentage",
            });
        }
        (Forced::Rollout(_), FlagType::Variant) => {
            return Err(OverlayError::WrongType {
                flag: flag.key.clone(),
                kind: "variant",
                what: "force enabled true or false, or a variant",
            });
        }
    }
    Ok(f)
}

/// The change to the flag's file that makes Git answer as `o` forces, as a unified diff of
/// that file (`--- a/<path>`, `+++ b/<path>`), for a file in block-style YAML. `None` when
/// the flag or its file is not found in `files`, or the file is not block-style YAML.
pub fn patch(env: &Environment, files: &[SourceFile], o: &FlagOverride) -> Option<String> {
    let flag = find(env, o).ok()?;
    forced_flag(flag, &o.forced).ok()?;
    let file = files.iter().find(|f| f.path == flag.location.file)?;
    let text = std::str::from_utf8(&file.contents).ok()?;
    // Lines are counted as `str::lines` counts them; a lone CR would count differently.
    if text.contains('\r') {
        return None;
    }
    let docs = parse_tree(text, &Limits::default()).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let (entries, end) = flag_entries(&docs, flag, lines.len())?;
    if !one_per_line(entries) {
        return None;
    }
    let indent = (entries.first()?.1.column as usize).checked_sub(1)?;
    let pad = " ".repeat(indent);
    // Edits as (first line, lines removed, lines inserted), 0-based, applied bottom-up.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let key_line = (entries.iter().find(|e| e.0 == "key")?.1.line as usize).checked_sub(1)?;
    let block = |name: &str| -> Option<(usize, usize)> {
        let i = entries.iter().position(|e| e.0 == name)?;
        let start = (entries[i].1.line as usize).checked_sub(1)?;
        let next = entries
            .get(i + 1)
            .map_or(Some(end), |e| (e.1.line as usize).checked_sub(1))?;
        let mut stop = next;
        while stop > start + 1 && lines.get(stop - 1).is_some_and(|l| l.trim().is_empty()) {
            stop -= 1;
        }
        Some((start, stop.checked_sub(start)?))
    };
    let set_enabled = |edits: &mut Vec<(usize, usize, Vec<String>)>, b: bool| {
        match entries.iter().find(|e| e.0 == "enabled") {
            Some(e) => {
                let (l, prefix) = line_prefix(&lines, e.1)?;
                edits.push((l, 1, vec![format!("{prefix}enabled: {b}")]));
            }
            None => edits.push((key_line + 1, 0, vec![format!("{pad}enabled: {b}")])),
        }
        Some(())
    };
    match &o.forced {
        Forced::Enabled(b) => {
            set_enabled(&mut edits, *b)?;
            if flag.flag_type == FlagType::Boolean
                && let Some((start, n)) = block("rollouts")
            {
                edits.push((start, n, Vec::new()));
            }
        }
        Forced::Rollout(p) => {
            set_enabled(&mut edits, false)?;
            let new = vec![
                format!("{pad}rollouts:"),
                format!("{pad}  - threshold:"),
                format!("{pad}      percentage: {p}"),
                format!("{pad}      value: true"),
            ];
            match block("rollouts") {
                Some((start, n)) => edits.push((start, n, new)),
                None => edits.push((end_of(entries, &lines, end), 0, new)),
            }
        }
        Forced::Variant(v) => {
            set_enabled(&mut edits, true)?;
            if let Some((start, n)) = block("rules") {
                edits.push((start, n, Vec::new()));
            }
            variant_default_edits(entries, &lines, v, &mut edits)?;
        }
    }
    let mut new: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    for (at, remove, insert) in edits {
        if at > new.len() {
            return None;
        }
        new.splice(at..(at + remove).min(new.len()), insert);
    }
    Some(unified(&file.path, &lines, &new))
}

/// A mapping's entries: key, key position, value.
type Entries<'t> = &'t [(String, crate::diagnostic::Pos, TreeNode)];

/// The flag's mapping entries and the 0-based line where its item ends (the next item or the
/// next top-level key, else the document's last line).
fn flag_entries<'t>(
    docs: &'t [TreeNode],
    flag: &Flag,
    total: usize,
) -> Option<(Entries<'t>, usize)> {
    for (d, doc) in docs.iter().enumerate() {
        let TreeValue::Map(top) = &doc.value else {
            continue;
        };
        for (t, (name, _, value)) in top.iter().enumerate() {
            let (true, TreeValue::Seq(items)) = (name == "flags", &value.value) else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let TreeValue::Map(entries) = &item.value else {
                    continue;
                };
                let at = &flag.location;
                let is_it = entries.iter().any(|(k, _, v)| {
                    k == "key"
                        && matches!(&v.value, TreeValue::Str(s) if *s == flag.key)
                        && (v.pos.line, v.pos.column) == (at.line, at.column)
                });
                if !is_it {
                    continue;
                }
                let end = items
                    .get(i + 1)
                    .map(|n| (n.pos.line as usize).saturating_sub(1))
                    .or_else(|| {
                        top.get(t + 1)
                            .map(|e| (e.1.line as usize).saturating_sub(1))
                    })
                    .or_else(|| {
                        docs.get(d + 1)
                            .map(|n| (n.pos.line as usize).saturating_sub(2))
                    })
                    .unwrap_or(total);
                return Some((entries.as_slice(), end));
            }
        }
    }
    None
}

/// Where to append a new entry to the flag's mapping: after its last non-blank line.
fn end_of(entries: Entries<'_>, lines: &[&str], end: usize) -> usize {
    let first = entries.first().map_or(0, |e| e.1.line as usize);
    let mut stop = end.min(lines.len());
    while stop > first && lines.get(stop - 1).is_some_and(|l| l.trim().is_empty()) {
        stop -= 1;
    }
    stop
}

/// Edits that mark variant `v` `default: true` and remove `default:` from the others.
fn variant_default_edits(
    entries: Entries<'_>,
    lines: &[&str],
    v: &str,
    edits: &mut Vec<(usize, usize, Vec<String>)>,
) -> Option<()> {
    let (_, _, variants) = entries.iter().find(|e| e.0 == "variants")?;
    let TreeValue::Seq(items) = &variants.value else {
        return None;
    };
    for item in items {
        let TreeValue::Map(ve) = &item.value else {
            return None;
        };
        if !one_per_line(ve) {
            return None;
        }
        let is_v = ve
            .iter()
            .any(|(k, _, x)| k == "key" && matches!(&x.value, TreeValue::Str(s) if s == v));
        let default = ve.iter().find(|e| e.0 == "default");
        match (is_v, default) {
            (true, Some(d)) => {
                let (l, prefix) = line_prefix(lines, d.1)?;
                edits.push((l, 1, vec![format!("{prefix}default: true")]));
            }
            (true, None) => {
                let key = ve.iter().find(|e| e.0 == "key")?;
                let col = (ve.first()?.1.column as usize).checked_sub(1)?;
                edits.push((
                    key.1.line as usize,
                    0,
                    vec![format!("{}default: true", " ".repeat(col))],
                ));
            }
            (false, Some(d)) if d.2.value == TreeValue::Bool(true) => {
                let (l, prefix) = line_prefix(lines, d.1)?;
                if prefix.trim_start().starts_with('-') {
                    edits.push((l, 1, vec![format!("{prefix}default: false")]));
                } else {
                    edits.push((l, 1, Vec::new()));
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// Whether every entry of a mapping starts a line of its own (block style: a line can be
/// replaced without touching another entry).
fn one_per_line(entries: Entries<'_>) -> bool {
    entries.windows(2).all(|w| w[0].1.line < w[1].1.line)
}

/// The 0-based line of `pos` and the text before its column; none when it is not in `lines`.
fn line_prefix(lines: &[&str], pos: crate::diagnostic::Pos) -> Option<(usize, String)> {
    let l = (pos.line as usize).checked_sub(1)?;
    let column = (pos.column as usize).checked_sub(1)?;
    Some((l, lines.get(l)?.chars().take(column).collect()))
}

/// A one-hunk unified diff of `old` and `new` with three lines of context.
fn unified(path: &str, old: &[&str], new: &[String]) -> String {
    let prefix = old
        .iter()
        .zip(new)
        .take_while(|(a, b)| **a == b.as_str())
        .count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| **a == b.as_str())
        .count();
    let start = prefix.saturating_sub(3);
    let old_end = (old.len() - suffix + 3).min(old.len());
    let new_end = (new.len() - suffix + 3).min(new.len());
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    out.push_str(&format!(
        "@@ -{},{} +{},{} @@\n",
        start + 1,
        old_end - start,
        start + 1,
        new_end - start
    ));
    for l in &old[start..prefix] {
        out.push_str(&format!(" {l}\n"));
    }
    for l in &old[prefix..old.len() - suffix] {
        out.push_str(&format!("-{l}\n"));
    }
    for l in &new[prefix..new.len() - suffix] {
        out.push_str(&format!("+{l}\n"));
    }
    for l in &old[old.len() - suffix..old_end] {
        out.push_str(&format!(" {l}\n"));
    }
    out
}

#[cfg(test)]
mod tests;
