//! Unit tests for constraint matching: Flipt v2's rules of reference §3.5.

use super::*;

fn c(t: ComparisonType, op: Operator, value: &str) -> Constraint {
    Constraint::compile(t, "p".into(), op, value.into(), None).expect("compiles")
}

use ComparisonType as T;
use Operator as O;

#[test]
fn string_operators_and_the_empty_value_rule() {
    assert!(c(T::String, O::Eq, "a").matches("a"));
    assert!(!c(T::String, O::Eq, "a").matches(" a"), "eq does not trim");
    assert!(c(T::String, O::Neq, "a").matches("b"));
    assert!(
        !c(T::String, O::Neq, "a").matches(""),
        "an empty value fails even neq"
    );
    assert!(!c(T::String, O::NotContains, "a").matches(""));
    assert!(!c(T::String, O::IsNotOneOf, "[\"a\"]").matches(""));
    assert!(c(T::String, O::Empty, "").matches("  \t"));
    assert!(!c(T::String, O::NotEmpty, "").matches(" "));
    assert!(
        c(T::String, O::Prefix, "ab").matches("  abc"),
        "prefix trims"
    );
    assert!(
        c(T::String, O::Suffix, "bc").matches("abc \n"),
        "suffix trims"
    );
    assert!(!c(T::String, O::Contains, "b ").matches("ab"));
    assert!(c(T::String, O::Contains, "b").matches("abc"));
    assert!(c(T::String, O::NotContains, "z").matches("abc"));
    assert!(c(T::String, O::IsOneOf, "[\"a\",\"b\"]").matches("b"));
    assert!(!c(T::String, O::IsOneOf, "[\"a\",\"b\"]").matches("c"));
    assert!(c(T::String, O::IsNotOneOf, "[\"a\",\"b\"]").matches("c"));
}

#[test]
fn entity_id_uses_the_same_rules() {
    assert!(c(T::EntityId, O::Eq, "user-1").matches("user-1"));
    assert!(c(T::EntityId, O::IsOneOf, "[\"u1\",\"u2\"]").matches("u2"));
    assert!(!c(T::EntityId, O::Neq, "x").matches(""));
}

#[test]
fn numbers_are_go_float64() {
    assert!(c(T::Number, O::Eq, "30").matches("30.0"));
    assert!(c(T::Number, O::Lt, "30").matches("29.5"));
    assert!(!c(T::Number, O::Lt, "30").matches("30"));
    assert!(c(T::Number, O::Lte, "30").matches("30"));
    assert!(c(T::Number, O::Gt, "1.5").matches("1e1"));
    assert!(c(T::Number, O::Gte, "-2").matches("-2"));
    assert!(c(T::Number, O::Neq, "1").matches("2"));
    assert!(
        !c(T::Number, O::Eq, "30").matches("thirty"),
        "parse failure is no match"
    );
    assert!(
        !c(T::Number, O::Eq, "30").matches(" 30"),
        "ParseFloat does not trim"
    );
    assert!(!c(T::Number, O::Neq, "30").matches(""));
    assert!(c(T::Number, O::Present, "").matches(" 1 "));
    assert!(c(T::Number, O::NotPresent, "").matches("  "));
    assert!(c(T::Number, O::IsOneOf, "[18, 21.5]").matches("21.5"));
    assert!(c(T::Number, O::IsNotOneOf, "[18, 21]").matches("19"));
    assert!(!c(T::Number, O::IsNotOneOf, "[18, 21]").matches("x"));
}

#[test]
fn go_parse_float_accepts_what_go_accepts() {
    assert_eq!(parse_go_float("1.5"), Some(1.5));
    assert_eq!(parse_go_float("+3"), Some(3.0));
    assert_eq!(parse_go_float(".5"), Some(0.5));
    assert_eq!(parse_go_float("5."), Some(5.0));
    assert_eq!(parse_go_float("1E3"), Some(1000.0));
    assert_eq!(parse_go_float("Inf"), Some(f64::INFINITY));
    assert_eq!(parse_go_float("-infinity"), Some(f64::NEG_INFINITY));
    assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
    assert_eq!(parse_go_float("0x1p-2"), Some(0.25));
    assert_eq!(parse_go_float("0x1.8p1"), Some(3.0));
    assert_eq!(
        parse_go_float("0x1"),
        None,
        "hex mantissa needs a p exponent"
    );
    assert_eq!(
        parse_go_float("1_000"),
        Some(1000.0),
        "Go allows _ between digits"
    );
    assert_eq!(parse_go_float("1__0"), None);
    assert_eq!(parse_go_float("0x_1p0"), Some(1.0), "_ after a base prefix");
    assert_eq!(parse_go_float("1e400"), None, "out of range is an error");
    assert_eq!(parse_go_float("+-1"), None);
    assert_eq!(parse_go_float(""), None);
    assert_eq!(parse_go_float(" 1"), None);
}

/// Every vector of `tests/vectors/go_parse_float.jsonl`, decided by Go's `strconv.ParseFloat(s, 64)`.
#[test]
fn go_parse_float_matches_go_on_every_vector() {
    let vectors = include_str!("../../tests/vectors/go_parse_float.jsonl");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in vectors.lines().filter(|l| !l.starts_with('#')) {
        let row: std::collections::HashMap<String, String> =
            serde_json::from_str(line).expect("vector line is JSON");
        let (s, want) = (&row["s"], row["r"].as_str());
        let got = parse_go_float(s);
        let ok = match (want, got) {
            ("syntax" | "range", None) => true,
            ("nan", Some(v)) => v.is_nan(),
            (bits, Some(v)) => u64::from_str_radix(bits, 16).ok() == Some(v.to_bits()),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{s:?}: Go {want}, got {:?}",
                got.map(|v| format!("{:016x}", v.to_bits()))
            ));
        }
        checked += 1;
    }
    assert!(checked > 3000, "only {checked} vectors");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every vector of `tests/vectors/go_parse_datetime.jsonl`, decided by Flipt v2's `tryParseDateTime`
/// (Go's `time.Parse(time.RFC3339, s)`, else `time.Parse(time.DateOnly, s)`).
#[test]
fn parse_datetime_matches_go_on_every_vector() {
    let vectors = include_str!("../../tests/vectors/go_parse_datetime.jsonl");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in vectors.lines().filter(|l| !l.starts_with('#')) {
        let row: std::collections::HashMap<String, String> =
            serde_json::from_str(line).expect("vector line is JSON");
        let (s, want) = (&row["s"], row["r"].as_str());
        let want = want.split_once('.').map(|(secs, nanos)| {
            let secs: i128 = secs.parse().expect("seconds");
            let nanos: i128 = nanos.parse().expect("nanoseconds");
            secs * 1_000_000_000 + nanos
        });
        let got = parse_datetime(s);
        if got != want {
            failures.push(format!("{s:?}: Go {want:?}, got {got:?}"));
        }
        checked += 1;
    }
    assert!(checked > 2000, "only {checked} vectors");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn number_constraints_read_underscored_context_values_like_go() {
    assert!(c(T::Number, O::Eq, "18").matches("1_8"));
    assert!(c(T::Number, O::Gte, "1_000").matches("1_000.5"));
    assert!(
        !c(T::Number, O::Eq, "18").matches("1__8"),
        "Go rejects a double underscore"
    );
    assert!(
        !c(T::Number, O::Neq, "18").matches("_18"),
        "a parse error is no match, even for neq"
    );
    assert!(c(T::Number, O::Lt, "25").matches("0x1_8p0"));
    assert!(c(T::Number, O::Gt, "1e9").matches("iNfInItY"));
    assert!(
        c(T::Number, O::Neq, "1").matches("nan"),
        "NaN equals nothing"
    );
    assert!(!c(T::Number, O::Eq, "1").matches("+nan"));
    // Constraint values are read the same way (Flipt parses them with ParseFloat too).
    assert!(c(T::Number, O::Eq, "1_0").matches("10"));
    assert!(c(T::Number, O::Lt, "0x1p4").matches("15.5"));
    assert!(Constraint::compile(T::Number, "p".into(), O::Eq, "1__0".into(), None).is_err());
}

#[test]
fn booleans_use_go_parse_bool() {
    for t in ["1", "t", "T", "TRUE", "true", "True"] {
        assert!(c(T::Boolean, O::True, "").matches(t), "{t}");
        assert!(!c(T::Boolean, O::False, "").matches(t), "{t}");
    }
    for f in ["0", "f", "F", "FALSE", "false", "False"] {
        assert!(c(T::Boolean, O::False, "").matches(f), "{f}");
    }
    assert!(!c(T::Boolean, O::True, "").matches("yes"));
    assert!(!c(T::Boolean, O::False, "").matches("tRuE"));
    assert!(c(T::Boolean, O::Present, "").matches("x"));
    assert!(c(T::Boolean, O::NotPresent, "").matches(""));
}

#[test]
fn datetimes_rfc3339_or_date_only() {
    let gt = c(T::DateTime, O::Gt, "2026-01-01T00:00:00Z");
    assert!(
        gt.matches("2026-01-01T00:00:00.000000001Z"),
        "nanosecond precision"
    );
    assert!(!gt.matches("2026-01-01T00:00:00Z"));
    assert!(gt.matches("2026-01-01T01:00:00+00:30"));
    assert!(!gt.matches("2026-01-01T01:00:00+01:00"));
    assert!(gt.matches("2026-01-02"), "date-only is midnight UTC");
    assert!(c(T::DateTime, O::Eq, "2026-01-01").matches("2026-01-01T00:00:00Z"));
    assert!(c(T::DateTime, O::Eq, "2026-01-01T00:00:00Z").matches("2025-12-31T19:00:00-05:00"));
    assert!(c(T::DateTime, O::Lte, "2026-01-01").matches("2026-01-01"));
    assert!(c(T::DateTime, O::Lt, "2026-01-01").matches("2025-12-31T23:59:59.999Z"));
    assert!(c(T::DateTime, O::Gte, "2026-01-01").matches("2026-01-01"));
    assert!(c(T::DateTime, O::Neq, "2026-01-01").matches("2026-01-02"));
    assert!(!c(T::DateTime, O::Neq, "2026-01-01").matches("garbage"));
    assert!(!c(T::DateTime, O::Neq, "2026-01-01").matches(""));
    assert!(c(T::DateTime, O::Present, "").matches("x"));
    assert_eq!(parse_datetime("2026-02-30"), None, "day out of range");
    assert_eq!(parse_datetime("2026-01-01T24:00:00Z"), None);
    assert_eq!(parse_datetime("2026-01-01 00:00:00Z"), None);
    assert_eq!(
        parse_datetime("2026-01-01T00:00:00"),
        None,
        "RFC 3339 needs an offset"
    );
    assert_eq!(
        parse_datetime("2026-01-01T1:02:03Z"),
        parse_datetime("2026-01-01T01:02:03Z"),
        "Go accepts a one-digit hour"
    );
    assert_eq!(parse_datetime("1970-01-01T00:00:01Z"), Some(1_000_000_000));
    assert_eq!(
        parse_datetime("2024-02-29"),
        Some(1_709_164_800 * 1_000_000_000)
    );
}

#[test]
fn compile_rejects_unusable_values() {
    assert!(Constraint::compile(T::Number, "p".into(), O::Eq, "x".into(), None).is_err());
    assert!(Constraint::compile(T::DateTime, "p".into(), O::Eq, "x".into(), None).is_err());
    assert!(Constraint::compile(T::String, "p".into(), O::IsOneOf, "a,b".into(), None).is_err());
    assert!(
        Constraint::compile(T::Number, "p".into(), O::IsOneOf, "[\"a\"]".into(), None).is_err()
    );
}

#[test]
fn operators_per_type_follow_the_schema() {
    assert!(T::Boolean.operators().contains(&O::True));
    assert!(!T::Boolean.operators().contains(&O::Eq));
    assert!(T::DateTime.operators().contains(&O::Lt));
    assert!(!T::DateTime.operators().contains(&O::IsOneOf));
    assert!(T::EntityId.operators().contains(&O::Prefix));
    // `le` is read (Flipt v2.11's schema has it) but no type allows it by default.
    assert_eq!(Operator::parse("le"), Some(O::Le));
    assert!(T::ALL.iter().all(|t| !t.operators().contains(&O::Le)));
    for op in Operator::ALL {
        assert_eq!(Operator::parse(op.as_str()), Some(op));
    }
}

proptest::proptest! {
    /// Any text, and especially text made of the characters ParseFloat treats specially, is
    /// answered without a panic.
    #[test]
    fn parse_go_float_never_panics(s in "[0-9_.eEpPxXoObB+inINfFaAtTyY -]{0,40}", t in proptest::prelude::any::<String>()) {
        let _ = parse_go_float(&s);
        let _ = parse_go_float(&t);
    }

    /// Plain decimals (no underscores, no hex) are the correctly rounded float64, as in Go.
    #[test]
    fn plain_decimals_are_correctly_rounded(s in "[+-]?[0-9]{1,25}(\\.[0-9]{0,25})?([eE][+-]?[0-9]{1,3})?") {
        let rust: f64 = s.parse().expect("a plain decimal");
        proptest::prop_assert_eq!(parse_go_float(&s), rust.is_finite().then_some(rust));
    }
}
