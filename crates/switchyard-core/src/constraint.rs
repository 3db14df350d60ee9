//! Constraints: comparison types, operators, values parsed once, and Flipt v2's matching rules.
//!
//! The rules follow `matchesString`, `matchesNumber`, `matchesBool` and `matchesDateTime` in
//! Flipt v2's `internal/server/evaluation/evaluation.go` (reference §3.5), including the quirks:
//! an empty context value fails every operator but `empty`/`notempty`/`present`/`notpresent`
//! (even `neq`), `prefix`/`suffix` trim the context value while `eq` does not, numbers are Go
//! `ParseFloat` float64s, booleans accept Go `ParseBool`'s set, datetimes are RFC 3339 or
//! `YYYY-MM-DD` compared to the nanosecond.

use std::collections::HashSet;

mod go_float;

pub use go_float::parse_go_float;

/// What a constraint compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonType {
    /// `STRING_COMPARISON_TYPE`.
    String,
    /// `NUMBER_COMPARISON_TYPE`.
    Number,
    /// `BOOLEAN_COMPARISON_TYPE`.
    Boolean,
    /// `DATETIME_COMPARISON_TYPE`.
    DateTime,
    /// `ENTITY_ID_COMPARISON_TYPE`: compares the request's entity id; `property` is ignored.
    EntityId,
}

impl ComparisonType {
    /// All types, in Flipt's order.
    pub const ALL: [ComparisonType; 5] = [
        ComparisonType::String,
        ComparisonType::Number,
        ComparisonType::Boolean,
        ComparisonType::DateTime,
        ComparisonType::EntityId,
    ];

    /// The file-format spelling, e.g. `STRING_COMPARISON_TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonType::String => "STRING_COMPARISON_TYPE",
            ComparisonType::Number => "NUMBER_COMPARISON_TYPE",
            ComparisonType::Boolean => "BOOLEAN_COMPARISON_TYPE",
            ComparisonType::DateTime => "DATETIME_COMPARISON_TYPE",
            ComparisonType::EntityId => "ENTITY_ID_COMPARISON_TYPE",
        }
    }

    /// The client-snapshot spelling, e.g. `STRING_CONSTRAINT_COMPARISON_TYPE`.
    pub fn snapshot_str(self) -> &'static str {
        match self {
            ComparisonType::String => "STRING_CONSTRAINT_COMPARISON_TYPE",
            ComparisonType::Number => "NUMBER_CONSTRAINT_COMPARISON_TYPE",
            ComparisonType::Boolean => "BOOLEAN_CONSTRAINT_COMPARISON_TYPE",
            ComparisonType::DateTime => "DATETIME_CONSTRAINT_COMPARISON_TYPE",
            ComparisonType::EntityId => "ENTITY_ID_CONSTRAINT_COMPARISON_TYPE",
        }
    }

    /// Parses the file-format spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The operators the schema allows for this type.
    pub fn operators(self) -> &'static [Operator] {
        use Operator::*;
        match self {
            ComparisonType::String | ComparisonType::EntityId => &[
                Eq,
                Neq,
                Empty,
                NotEmpty,
                Prefix,
                Suffix,
                Contains,
                NotContains,
                IsOneOf,
                IsNotOneOf,
            ],
            ComparisonType::Number => &[
                Eq, Neq, Present, NotPresent, Lt, Lte, Gt, Gte, IsOneOf, IsNotOneOf,
            ],
            ComparisonType::Boolean => &[True, False, Present, NotPresent],
            ComparisonType::DateTime => &[Eq, Neq, Present, NotPresent, Lt, Lte, Gt, Gte],
        }
    }
}

/// A constraint operator, spelled as in Flipt (`eq`, `isoneof`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Operator {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Empty,
    NotEmpty,
    True,
    False,
    Present,
    NotPresent,
    Prefix,
    Suffix,
    Contains,
    NotContains,
    IsOneOf,
    IsNotOneOf,
    /// `le`: in Flipt v2.11's schema for numbers and datetimes (a typo for `lt`, fixed after
    /// v2.11 by flipt-io/flipt#6304) and unknown to its evaluator: it never matches. Accepted
    /// only under `ExtraChecks::Warn`.
    Le,
}

impl Operator {
    /// Every operator.
    pub const ALL: [Operator; 19] = [
        Operator::Eq,
        Operator::Neq,
        Operator::Lt,
        Operator::Lte,
        Operator::Gt,
        Operator::Gte,
        Operator::Empty,
        Operator::NotEmpty,
        Operator::True,
        Operator::False,
        Operator::Present,
        Operator::NotPresent,
        Operator::Prefix,
        Operator::Suffix,
        Operator::Contains,
        Operator::NotContains,
        Operator::IsOneOf,
        Operator::IsNotOneOf,
        Operator::Le,
    ];

    /// Flipt's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Empty => "empty",
            Operator::NotEmpty => "notempty",
            Operator::True => "true",
            Operator::False => "false",
            Operator::Present => "present",
            Operator::NotPresent => "notpresent",
            Operator::Prefix => "prefix",
            Operator::Suffix => "suffix",
            Operator::Contains => "contains",
            Operator::NotContains => "notcontains",
            Operator::IsOneOf => "isoneof",
            Operator::IsNotOneOf => "isnotoneof",
            Operator::Le => "le",
        }
    }

    /// Parses Flipt's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the operator ignores the constraint's value.
    pub fn takes_no_value(self) -> bool {
        matches!(
            self,
            Operator::Empty
                | Operator::NotEmpty
                | Operator::True
                | Operator::False
                | Operator::Present
                | Operator::NotPresent
        )
    }

    /// Whether the value is a list (`isoneof`, `isnotoneof`).
    pub fn takes_list(self) -> bool {
        matches!(self, Operator::IsOneOf | Operator::IsNotOneOf)
    }
}

/// A compiled constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// What is compared.
    pub comparison: ComparisonType,
    /// The context key read (ignored for entity-id constraints).
    pub property: String,
    /// The operator.
    pub operator: Operator,
    /// The value as Flipt stores it: a plain string, or a JSON array string for list operators.
    pub value: String,
    /// Description.
    pub description: Option<String>,
    pub(crate) compiled: Compiled,
}

/// A constraint value parsed once at compile time.
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    /// Nothing to parse (string operators and value-less operators).
    Raw,
    Number(f64),
    /// Nanoseconds since the Unix epoch.
    DateTime(i128),
    StringSet(HashSet<String>),
    NumberSet(Vec<f64>),
    /// A value that does not parse (served only under `ExtraChecks::Warn`): never matches.
    Unparsed,
}

impl Constraint {
    /// Builds a constraint, parsing its value; the error says why the value is unusable.
    pub(crate) fn compile(
        comparison: ComparisonType,
        property: String,
        operator: Operator,
        value: String,
        description: Option<String>,
    ) -> Result<Constraint, String> {
        let compiled = if operator.takes_no_value() || operator == Operator::Le {
            Compiled::Raw
        } else {
            match (comparison, operator.takes_list()) {
                (ComparisonType::String | ComparisonType::EntityId, true) => {
                    let list: Vec<String> = serde_json::from_str(&value)
                        .map_err(|_| format!("`{}` needs a JSON array of strings, got {value:?}", operator.as_str()))?;
                    Compiled::StringSet(list.into_iter().collect())
                }
                (ComparisonType::Number, true) => {
                    let list: Vec<f64> = serde_json::from_str(&value)
                        .map_err(|_| format!("`{}` needs a JSON array of numbers, got {value:?}", operator.as_str()))?;
                    Compiled::NumberSet(list)
                }
                (ComparisonType::Number, false) => Compiled::Number(
                    parse_go_float(&value).ok_or_else(|| format!("{value:?} is not a number"))?,
                ),
                (ComparisonType::DateTime, false) => Compiled::DateTime(parse_datetime(&value).ok_or_else(|| {
                    format!("{value:?} is not a datetime; use RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)")
                })?),
                _ => Compiled::Raw,
            }
        };
        Ok(Constraint {
            comparison,
            property,
            operator,
            value,
            description,
            compiled,
        })
    }

    /// A constraint whose value does not parse, kept as written: it never matches.
    pub(crate) fn unparsed(
        comparison: ComparisonType,
        property: String,
        operator: Operator,
        value: String,
        description: Option<String>,
    ) -> Constraint {
        Constraint {
            comparison,
            property,
            operator,
            value,
            description,
            compiled: Compiled::Unparsed,
        }
    }

    /// Whether the constraint matches, given the context value `v` (entity id for entity-id type).
    pub fn matches(&self, v: &str) -> bool {
        match self.comparison {
            ComparisonType::String | ComparisonType::EntityId => self.matches_string(v),
            ComparisonType::Number => self.matches_number(v),
            ComparisonType::Boolean => self.matches_bool(v),
            ComparisonType::DateTime => self.matches_datetime(v),
        }
    }

    fn matches_string(&self, v: &str) -> bool {
        match self.operator {
            Operator::Empty => return v.trim().is_empty(),
            Operator::NotEmpty => return !v.trim().is_empty(),
            _ => {}
        }
        if v.is_empty() {
            return false;
        }
        let value = self.value.as_str();
        match self.operator {
            Operator::Eq => v == value,
            Operator::Neq => v != value,
            Operator::Prefix => v.trim().starts_with(value),
            Operator::Suffix => v.trim().ends_with(value),
            Operator::Contains => v.contains(value),
            Operator::NotContains => !v.contains(value),
            Operator::IsOneOf => matches!(&self.compiled, Compiled::StringSet(s) if s.contains(v)),
            Operator::IsNotOneOf => {
                matches!(&self.compiled, Compiled::StringSet(s) if !s.contains(v))
            }
            _ => false,
        }
    }

    fn matches_number(&self, v: &str) -> bool {
        match self.operator {
            Operator::Present => return !v.trim().is_empty(),
            Operator::NotPresent => return v.trim().is_empty(),
            _ => {}
        }
        if v.is_empty() {
            return false;
        }
        let Some(n) = parse_go_float(v) else {
            return false;
        };
        match (&self.compiled, self.operator) {
            (Compiled::NumberSet(set), Operator::IsOneOf) => set.contains(&n),
            (Compiled::NumberSet(set), Operator::IsNotOneOf) => !set.contains(&n),
            (Compiled::Number(value), op) => match op {
                Operator::Eq => n == *value,
                Operator::Neq => n != *value,
                Operator::Lt => n < *value,
                Operator::Lte => n <= *value,
                Operator::Gt => n > *value,
                Operator::Gte => n >= *value,
                _ => false,
            },
            _ => false,
        }
    }

    fn matches_bool(&self, v: &str) -> bool {
        match self.operator {
            Operator::Present => return !v.trim().is_empty(),
            Operator::NotPresent => return v.trim().is_empty(),
            _ => {}
        }
        if v.is_empty() {
            return false;
        }
        match (parse_go_bool(v), self.operator) {
            (Some(b), Operator::True) => b,
            (Some(b), Operator::False) => !b,
            _ => false,
        }
    }

    fn matches_datetime(&self, v: &str) -> bool {
        match self.operator {
            Operator::Present => return !v.trim().is_empty(),
            Operator::NotPresent => return v.trim().is_empty(),
            _ => {}
        }
        if v.is_empty() {
            return false;
        }
        let (Some(d), Compiled::DateTime(value)) = (parse_datetime(v), &self.compiled) else {
            return false;
        };
        match self.operator {
            Operator::Eq => d == *value,
            Operator::Neq => d != *value,
            Operator::Lt => d < *value,
            Operator::Lte => d <= *value,
            Operator::Gt => d > *value,
            Operator::Gte => d >= *value,
            _ => false,
        }
    }
}

/// Go's `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// RFC 3339 (as Go's `time.Parse(time.RFC3339, …)` accepts it) or `YYYY-MM-DD`, in UTC,
/// as nanoseconds since the Unix epoch.
pub fn parse_datetime(s: &str) -> Option<i128> {
    parse_rfc3339(s).or_else(|| parse_date_only(s))
}

fn digits(s: &[u8], n: usize) -> Option<i64> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s[..n]
            .iter()
            .fold(0i64, |a, d| a * 10 + i64::from(d - b'0')),
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day.
type CivilDate = (i64, i64, i64);

/// `YYYY-MM-DD` at the start of a line; returns the date and the rest.
fn parse_date(b: &[u8]) -> Option<(CivilDate, &[u8])> {
    let year = digits(b, 4)?;
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let month = digits(&b[5..], 2)?;
    if b.get(7) != Some(&b'-') {
        return None;
    }
    let day = digits(&b[8..], 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(((year, month, day), &b[10..]))
}

fn parse_date_only(s: &str) -> Option<i128> {
    let ((y, m, d), rest) = parse_date(s.as_bytes())?;
    if !rest.is_empty() {
        return None;
    }
    Some(i128::from(days_from_civil(y, m, d)) * 86_400 * 1_000_000_000)
}

fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let ((y, mo, d), rest) = parse_date(b)?;
    let rest = rest.strip_prefix(b"T")?;
    // Go's layout "15" accepts one or two hour digits when parsing.
    let (hour, rest) = match digits(rest, 2) {
        Some(h) => (h, &rest[2..]),
        None => (digits(rest, 1)?, &rest[1..]),
    };
    let rest = rest.strip_prefix(b":")?;
    let min = digits(rest, 2)?;
    let rest = rest[2..].strip_prefix(b":")?;
    let sec = digits(rest, 2)?;
    let mut rest = &rest[2..];
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut nanos: i64 = 0;
    if rest.len() >= 2 && (rest[0] == b'.' || rest[0] == b',') && rest[1].is_ascii_digit() {
        let mut i = 1;
        while i < rest.len() && rest[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &rest[1..i];
        for k in 0..9 {
            nanos = nanos * 10 + frac.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
        rest = &rest[i..];
    }
    let offset_secs: i64 = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = digits(&[*h1, *h2], 2)?;
            let mm = digits(&[*m1, *m2], 2)?;
            if hh > 24 || mm > 60 {
                return None;
            }
            let off = hh * 3600 + mm * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

#[cfg(test)]
mod tests;
